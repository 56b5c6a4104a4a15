import Crypto

/// Splits incoming octets into lines ending in LF (a CR before the LF is removed), with a limit on
/// the length of a line. An over-long line is drained up to its LF and reported once as
/// `.tooLong`, so the session can answer and go on (QUALITY.md item 15).
struct POP3LineFramer: Sendable {
    enum Line: Equatable, Sendable {
        case line([UInt8])
        case tooLong
    }

    /// The most octets a line may hold, its CRLF included.
    var limit: Int
    private var buffer: [UInt8] = []
    private var draining = false

    init(limit: Int) { self.limit = limit }

    /// Octets received but not yet part of a complete line.
    var bufferedCount: Int { buffer.count }

    mutating func append(_ octets: some Sequence<UInt8>) -> [Line] {
        var lines: [Line] = []
        for octet in octets {
            if draining {
                if octet == 0x0A {
                    draining = false
                    lines.append(.tooLong)
                }
                continue
            }
            if octet == 0x0A {
                if buffer.last == 0x0D { buffer.removeLast() }
                lines.append(.line(buffer))
                buffer.removeAll(keepingCapacity: true)
                continue
            }
            buffer.append(octet)
            // The limit counts CRLF: a line of `limit - 2` octets plus CRLF still fits.
            if buffer.count > limit - 1 || (buffer.count == limit - 1 && buffer.last != 0x0D) {
                buffer.removeAll(keepingCapacity: false)
                draining = true
            }
        }
        return lines
    }

    /// Forgets buffered octets (after STLS: RFC 2595 §4 says data sent before TLS is discarded).
    mutating func reset() {
        buffer.removeAll(keepingCapacity: false)
        draining = false
    }
}

enum POP3Text {
    /// Rewrites a message so that every line ends in CRLF (bare LF or CR become CRLF), and the
    /// message ends with CRLF. The size POP3 reports is the length of this form (RFC 1939 §5:
    /// sizes count CRLF as two octets).
    static func canonicalLines(_ message: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 32 + 2)
        var previousCR = false
        for octet in message {
            switch octet {
            case 0x0D:
                if previousCR { out.append(0x0A) }
                out.append(0x0D)
                previousCR = true
            case 0x0A:
                if !previousCR { out.append(0x0D) }
                out.append(0x0A)
                previousCR = false
            default:
                if previousCR { out.append(0x0A) }
                out.append(octet)
                previousCR = false
            }
        }
        if previousCR { out.append(0x0A) }
        if !out.isEmpty, out.last != 0x0A { out += [0x0D, 0x0A] }
        return out
    }

    /// Splits a canonical (CRLF) message into lines without their CRLF.
    static func lines(_ canonical: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = canonical.startIndex
        var index = canonical.startIndex
        while index < canonical.endIndex {
            if canonical[index] == 0x0A {
                var end = index
                if end > start, canonical[end - 1] == 0x0D { end -= 1 }
                result.append(canonical[start..<end])
                start = index + 1
            }
            index += 1
        }
        if start < canonical.endIndex { result.append(canonical[start...]) }
        return result
    }

    /// Builds the body of a multi-line response (RFC 1939 §3): each line that starts with `.`
    /// gets one more `.`, each line ends with CRLF, and `.CRLF` ends the response.
    static func multiLineBody(_ lines: some Sequence<some Collection<UInt8>>) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            if line.first == 0x2E { out.append(0x2E) }
            out += line
            out += [0x0D, 0x0A]
        }
        out += [0x2E, 0x0D, 0x0A]
        return out
    }

    static func multiLineBody(strings: [String]) -> [UInt8] {
        multiLineBody(strings.map { Array($0.utf8) })
    }

    /// The first `count` lines of the body after the header section, with the headers and the
    /// empty line that ends them (RFC 1939 §7, TOP).
    static func top(_ canonical: [UInt8], bodyLines count: Int) -> [ArraySlice<UInt8>] {
        let all = lines(canonical)
        guard let blank = all.firstIndex(where: { $0.isEmpty }) else { return all }
        let end = min(all.count, blank + 1 + count)
        return Array(all[..<end])
    }

    /// MD5 of the text, as 32 lowercase hex digits (APOP, RFC 1939 §7).
    static func md5Hex(_ text: String) -> String {
        let digest = Insecure.MD5.hash(data: Array(text.utf8))
        let hex: [Character] = Array("0123456789abcdef")
        var out = ""
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return out
    }
}

/// Base64 (RFC 4648 §4) for SASL exchanges.
enum POP3Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ data: some Collection<UInt8>) -> String {
        let bytes = Array(data)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : 0x3D)
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : 0x3D)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict decoding: returns nil on any character outside the alphabet or bad padding.
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x41...0x5A: return c - 0x41
            case 0x61...0x7A: return c - 0x61 + 26
            case 0x30...0x39: return c - 0x30 + 52
            case 0x2B: return 62
            case 0x2F: return 63
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let pad = last ? (chars[i + 3] == 0x3D ? (chars[i + 2] == 0x3D ? 2 : 1) : 0) : 0
            guard let v0 = value(chars[i]), let v1 = value(chars[i + 1]) else { return nil }
            out.append(v0 << 2 | v1 >> 4)
            if pad < 2 {
                guard let v2 = value(chars[i + 2]) else { return nil }
                out.append((v1 & 0x0F) << 4 | v2 >> 2)
                if pad < 1 {
                    guard let v3 = value(chars[i + 3]) else { return nil }
                    out.append((v2 & 0x03) << 6 | v3)
                }
            }
            i += 4
        }
        return out
    }
}
