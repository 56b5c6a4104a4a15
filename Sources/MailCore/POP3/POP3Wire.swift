import Crypto

/// POP3's view of the shared ``LineFramer``: every complete line of a chunk at once, with the
/// limit counting the line ending (RFC 2449 §4: a command line is at most 255 octets, CRLF
/// included). An over-long line is drained up to its LF and reported once as `.tooLong`, so the
/// session can answer and go on (QUALITY.md item 15).
struct POP3LineFramer: Sendable {
    enum Line: Equatable, Sendable {
        case line([UInt8])
        case tooLong
    }

    private var framer: LineFramer

    init(limit: Int) { framer = LineFramer(maxLineLength: limit) }

    /// The most octets a line may hold, its line ending included.
    var limit: Int {
        get { framer.maxLineLength }
        set { framer.maxLineLength = newValue }
    }

    /// Octets received but not yet part of a complete line.
    var bufferedCount: Int { framer.bufferedCount }

    mutating func append(_ octets: some Sequence<UInt8>) -> [Line] {
        framer.append(Array(octets))
        var lines: [Line] = []
        while let event = framer.nextLine() {
            switch event {
            case .line(let bytes, _): lines.append(.line(Array(bytes)))
            case .tooLong: lines.append(.tooLong)
            }
        }
        return lines
    }

    /// Forgets buffered octets (after STLS: RFC 2595 §4 says data sent before TLS is discarded).
    mutating func reset() { framer.discardBuffered() }
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
        String(decoding: Base16.lowercase(Insecure.MD5.hash(data: Array(text.utf8))), as: UTF8.self)
    }
}
