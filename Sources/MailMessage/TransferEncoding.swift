// Content-Transfer-Encoding codecs (RFC 2045 §6): base64, quoted-printable, 7bit, 8bit, binary.

/// A Content-Transfer-Encoding value (RFC 2045 §6.1).
public enum TransferEncoding: Sendable, Equatable, Hashable {
    case sevenBit, eightBit, binary, base64, quotedPrintable
    /// A value this library does not know; the body is left as it is.
    case other(String)

    /// Parses a header value, case-insensitively; an absent header means 7bit.
    public init(headerValue: String?) {
        guard let value = headerValue else { self = .sevenBit; return }
        switch Bytes.lowercasedASCII(Bytes.trimWSP(value)) {
        case "7bit", "": self = .sevenBit
        case "8bit": self = .eightBit
        case "binary": self = .binary
        case "base64": self = .base64
        case "quoted-printable": self = .quotedPrintable
        case let other: self = .other(other)
        }
    }

    /// The header spelling, as IMAP BODYSTRUCTURE also reports it (upper case there is a server's choice).
    public var headerValue: String {
        switch self {
        case .sevenBit: return "7bit"
        case .eightBit: return "8bit"
        case .binary: return "binary"
        case .base64: return "base64"
        case .quotedPrintable: return "quoted-printable"
        case .other(let value): return value
        }
    }
}

/// Base64 (RFC 2045 §6.8) with the 76-column line limit and a tolerant decoder.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Encodes on one line (no line breaks).
    public static func encode(_ data: some Collection<UInt8>) -> String {
        let bytes = Array(data)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2: UInt8 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes in lines of at most `lineLength` (76) characters separated by CR LF, with a final CR LF.
    public static func encodeLines(_ data: some Collection<UInt8>, lineLength: Int = 76) -> String {
        let flat = Array(encode(data).utf8)
        var out = ""
        var i = 0
        while i < flat.count {
            let end = min(i + lineLength, flat.count)
            out += String(decoding: flat[i..<end], as: UTF8.self) + "\r\n"
            i = end
        }
        return out
    }

    /// Decodes, skipping white space and line breaks. Other foreign characters and a bad length are
    /// reported in `valid` (false), and everything decodable is still returned (best effort).
    public static func decode(_ text: some Collection<UInt8>) -> (bytes: [UInt8], valid: Bool) {
        var valid = true
        var out: [UInt8] = []
        var quad: [UInt8] = []
        var padding = 0
        for byte in text {
            if byte == Bytes.space || byte == Bytes.tab || byte == Bytes.cr || byte == Bytes.lf { continue }
            if byte == UInt8(ascii: "=") { padding += 1; continue }
            let value = reverse[Int(byte)]
            if value < 0 || padding > 0 { valid = false; continue }
            quad.append(UInt8(value))
            if quad.count == 4 {
                out.append(quad[0] << 2 | quad[1] >> 4)
                out.append(quad[1] << 4 | quad[2] >> 2)
                out.append(quad[2] << 6 | quad[3])
                quad.removeAll(keepingCapacity: true)
            }
        }
        switch quad.count {
        case 0: if padding != 0 { valid = false }
        case 2: out.append(quad[0] << 2 | quad[1] >> 4); if padding != 2 { valid = false }
        case 3:
            out.append(quad[0] << 2 | quad[1] >> 4)
            out.append(quad[1] << 4 | quad[2] >> 2)
            if padding != 1 { valid = false }
        default: valid = false
        }
        return (out, valid)
    }

    /// Strict convenience: nil when the text is not clean base64.
    public static func decodeStrict(_ text: String) -> [UInt8]? {
        let result = decode(Array(text.utf8))
        return result.valid ? result.bytes : nil
    }
}

/// Quoted-printable (RFC 2045 §6.7).
public enum QuotedPrintable {
    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    /// Decodes; soft line breaks (`=` at the end of a line) are removed, line breaks become CR LF.
    /// A malformed `=` sequence is kept literally and `valid` is false.
    public static func decode(_ input: some Collection<UInt8>) -> (bytes: [UInt8], valid: Bool) {
        let bytes = Array(input)
        var out: [UInt8] = []
        var valid = true
        let lines = Bytes.lines(bytes, in: 0..<bytes.count)
        for (index, line) in lines.enumerated() {
            var end = line.contentEnd
            // Trailing white space on a line is padding added in transport (RFC 2045 §6.7 rule 3).
            while end > line.start && Bytes.isWSP(bytes[end - 1]) { end -= 1 }
            var soft = false
            var i = line.start
            while i < end {
                let byte = bytes[i]
                if byte == UInt8(ascii: "=") {
                    if i + 1 == end { soft = true; i += 1; continue }
                    if i + 2 < end, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                        out.append(high << 4 | low)
                        i += 3
                        continue
                    }
                    valid = false
                    out.append(byte)
                    i += 1
                    continue
                }
                out.append(byte)
                i += 1
            }
            let last = index == lines.count - 1
            if !soft && !(last && line.unterminated) { out.append(contentsOf: Bytes.crlf) }
        }
        return (out, valid)
    }

    /// Encodes text or binary bytes; CR LF pairs stay line breaks (pass `binary: true` to encode them).
    /// Output lines are at most 76 characters, with soft breaks.
    public static func encode(_ input: some Collection<UInt8>, binary: Bool = false) -> String {
        let bytes = Array(input)
        var out: [UInt8] = []
        var lineLength = 0
        func emit(_ chunk: [UInt8]) {
            if lineLength + chunk.count > 75 {
                out.append(contentsOf: [UInt8(ascii: "=")] + Bytes.crlf)
                lineLength = 0
            }
            out.append(contentsOf: chunk)
            lineLength += chunk.count
        }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if !binary && byte == Bytes.cr && i + 1 < bytes.count && bytes[i + 1] == Bytes.lf {
                out.append(contentsOf: Bytes.crlf)
                lineLength = 0
                i += 2
                continue
            }
            if !binary && byte == Bytes.lf {
                out.append(contentsOf: Bytes.crlf)
                lineLength = 0
                i += 1
                continue
            }
            let nextIsBreak = i + 1 == bytes.count || bytes[i + 1] == Bytes.cr || bytes[i + 1] == Bytes.lf
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || (Bytes.isWSP(byte) && !nextIsBreak)
            // A line starting with "." or "From " survives naive transports better encoded; keep it simple:
            // encode a leading dot.
            if literal && !(lineLength == 0 && byte == UInt8(ascii: ".")) {
                emit([byte])
            } else {
                emit([UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0f)]])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
