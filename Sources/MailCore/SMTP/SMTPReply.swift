/// An enhanced mail system status code (RFC 3463): `class.subject.detail`, e.g. `5.1.1`.
public struct EnhancedStatusCode: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public var statusClass: UInt8
    public var subject: UInt16
    public var detail: UInt16

    public init(_ statusClass: UInt8, _ subject: UInt16, _ detail: UInt16) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `d.ddd.ddd` (RFC 3463 §2: class 2, 4 or 5; subject and detail up to three digits).
    public init?<C: Collection>(_ text: C) where C.Element == UInt8 {
        var parts: (UInt16, UInt16) = (0, 0)
        var partCount = 0
        var value: UInt16 = 0
        var digits = 0
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, partCount < 2 else { return nil }
                if partCount == 0 { parts.0 = value } else { parts.1 = value }
                partCount += 1
                value = 0; digits = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits += 1
                guard digits <= 3 else { return nil }
                value = value * 10 + UInt16(byte - UInt8(ascii: "0"))
            } else {
                return nil
            }
        }
        guard digits > 0, partCount == 2, parts.0 == 2 || parts.0 == 4 || parts.0 == 5, digits <= 3 else { return nil }
        self.init(UInt8(parts.0), parts.1, value)
    }

    public init?(_ string: String) { self.init(Array(string.utf8)) }

    public var description: String { "\(statusClass).\(subject).\(detail)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.statusClass, a.subject, a.detail) < (b.statusClass, b.subject, b.detail)
    }

    func append(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "0") + statusClass)
        bytes.append(UInt8(ascii: "."))
        SASLCRAMMD5.appendDecimal(UInt64(subject), to: &bytes)
        bytes.append(UInt8(ascii: "."))
        SASLCRAMMD5.appendDecimal(UInt64(detail), to: &bytes)
    }
}

/// An SMTP reply (RFC 5321 §4.2): a three-digit code, an optional enhanced status code
/// (RFC 2034, repeated on every line when encoded) and one or more lines of text.
///
///     S: 250-mail.example.com
///     S: 250-PIPELINING
///     S: 250 DSN
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var enhancedCode: EnhancedStatusCode?
    /// The texts of all lines end to end, in one string (one allocation at most, none for a short
    /// one-line reply); `ends` says where each line stops, and is empty for a one-line reply
    /// (the usual case), so that reading and comparing replies builds no array of strings.
    private(set) var storage: String
    /// UTF-8 offsets in `storage` where each line ends; empty for a single line.
    private(set) var ends: [Int]

    public init(code: Int, enhancedCode: EnhancedStatusCode? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        (storage, ends) = Self.pack(lines)
    }

    public init(code: Int, _ enhanced: String? = nil, _ text: String) {
        self.code = code
        self.enhancedCode = enhanced.flatMap { EnhancedStatusCode($0) }
        self.storage = text
        self.ends = []
    }

    /// A reply from texts already packed (see `storage` and `ends`).
    init(code: Int, enhancedCode: EnhancedStatusCode?, packed storage: String, ends: [Int]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.storage = storage
        self.ends = ends.count > 1 ? ends : []
    }

    private static func pack(_ lines: [String]) -> (String, [Int]) {
        if lines.count <= 1 { return (lines.first ?? "", []) }
        var storage = ""
        var ends: [Int] = []
        ends.reserveCapacity(lines.count)
        var offset = 0
        for line in lines {
            storage += line
            offset += line.utf8.count
            ends.append(offset)
        }
        return (storage, ends)
    }

    /// Text of each line, without code, enhanced code or CRLF. Never empty.
    public var lines: [String] {
        get {
            if ends.isEmpty { return [storage] }
            let utf8 = storage.utf8
            var result: [String] = []
            result.reserveCapacity(ends.count)
            var start = 0
            for end in ends {
                let from = utf8.index(utf8.startIndex, offsetBy: start), to = utf8.index(utf8.startIndex, offsetBy: end)
                result.append(String(decoding: utf8[from..<to], as: UTF8.self))
                start = end
            }
            return result
        }
        set { (storage, ends) = Self.pack(newValue) }
    }

    /// Number of lines (at least one).
    public var lineCount: Int { max(1, ends.count) }

    /// 2yz: the command succeeded.
    public var isPositiveCompletion: Bool { code >= 200 && code < 300 }
    /// 3yz: the server waits for more (354, 334).
    public var isPositiveIntermediate: Bool { code >= 300 && code < 400 }
    /// 4yz: try again later.
    public var isTransientFailure: Bool { code >= 400 && code < 500 }
    /// 5yz: do not repeat as is.
    public var isPermanentFailure: Bool { code >= 500 && code < 600 }

    /// The text of all lines joined by a space.
    public var text: String {
        if ends.isEmpty { return storage }
        return lines.joined(separator: " ")
    }

    /// Encodes the reply (RFC 5321 §4.2.1: `code-` on every line but the last, `code SP` on the last).
    /// CR and LF inside texts are replaced by spaces so a text can never break the framing.
    public func encode(into bytes: inout [UInt8]) {
        let clamped = max(0, min(999, code))
        var copy = storage
        copy.withUTF8 { utf8 in
            let count = ends.isEmpty ? 1 : ends.count
            var start = 0
            for index in 0..<count {
                let end = ends.isEmpty ? utf8.count : ends[index]
                bytes.append(UInt8(ascii: "0") + UInt8(clamped / 100))
                bytes.append(UInt8(ascii: "0") + UInt8(clamped / 10 % 10))
                bytes.append(UInt8(ascii: "0") + UInt8(clamped % 10))
                bytes.append(index == count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
                if let enhancedCode {
                    enhancedCode.append(to: &bytes)
                    if end > start { bytes.append(UInt8(ascii: " ")) }
                }
                for byte in UnsafeBufferPointer(rebasing: utf8[start..<end]) {
                    bytes.append(byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") ? UInt8(ascii: " ") : byte)
                }
                bytes.append(UInt8(ascii: "\r"))
                bytes.append(UInt8(ascii: "\n"))
                start = end
            }
        }
    }

    /// The encoded reply.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The reply as it appears on the wire, lines separated by CRLF (for transcripts and messages).
    public var description: String { String(decoding: encoded, as: UTF8.self) }
}

/// Reassembles replies from the bytes a server sends (RFC 5321 §4.2.1), incrementally.
/// Lines are limited to 512 octets by default (§4.5.3.1.5), replies to 200 lines.
public struct SMTPReplyParser: Sendable {
    public enum Error: Swift.Error, Equatable, Sendable {
        /// A line was not `ddd`, `ddd SP text` or `ddd-text`.
        case malformedLine
        /// A continuation line carried another code than the first line.
        case inconsistentCode
        /// A line or a reply went over the limits.
        case tooLong
    }

    var framer: LineFramer
    var code = 0
    /// Texts of the lines of the reply being read, one after the other, and where each one ends.
    var texts: [UInt8] = []
    var lineEnds: [Int] = []
    public var maxLines = 200

    public init(maxLineLength: Int = 2048) {
        framer = LineFramer(maxLineLength: maxLineLength)
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        framer.append(bytes)
    }

    /// The next complete reply, `nil` if more bytes are needed, or an error (the peer is broken;
    /// the caller should close).
    public mutating func next() throws(Error) -> SMTPReply? {
        while let bounds = framer.nextBounds() {
            guard case .line(let range, _) = bounds else { throw .tooLong }
            guard range.count >= 3 else { throw .malformedLine }
            // Read by index in the framer's buffer (one reference held), sliced once for the text.
            let buffer = framer.buffer
            var lineCode = 0
            for index in range.lowerBound..<(range.lowerBound + 3) {
                let byte = buffer[index]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .malformedLine }
                lineCode = lineCode * 10 + Int(byte - UInt8(ascii: "0"))
            }
            var last = true
            var textStart = range.lowerBound + 3
            if textStart < range.upperBound {
                let separator = buffer[textStart]
                if separator == UInt8(ascii: "-") { last = false } else if separator != UInt8(ascii: " ") { throw .malformedLine }
                textStart += 1
            }
            let text = buffer[textStart..<range.upperBound]
            if lineEnds.isEmpty {
                // A one-line reply (most of them) is built from the framer's line: no copy.
                if last { return SMTPReplyParser.makeReply(code: lineCode, line: text) }
                code = lineCode
                // Room for an EHLO reply at once, rather than growing step by step.
                if texts.capacity == 0 { texts.reserveCapacity(256) }
                if lineEnds.capacity == 0 { lineEnds.reserveCapacity(16) }
            } else if code != lineCode { throw .inconsistentCode }
            texts.append(contentsOf: text)
            lineEnds.append(texts.count)
            guard lineEnds.count <= maxLines else { throw .tooLong }
            if last {
                let reply = SMTPReplyParser.makeReply(code: code, texts: texts, lineEnds: lineEnds)
                texts.removeAll(keepingCapacity: true)
                lineEnds.removeAll(keepingCapacity: true)
                return reply
            }
        }
        return nil
    }

    /// Builds a reply, recognising an enhanced status code when every line starts with the same
    /// one and its class matches the reply's first digit (RFC 2034 §4).
    /// The lines' texts lie end to end in `bytes`; `lineEnds` says where each one stops.
    static func makeReply(code: Int, texts bytes: [UInt8], lineEnds: [Int]) -> SMTPReply {
        if lineEnds.count == 1 { return makeReply(code: code, line: bytes[0..<lineEnds[0]]) }
        var enhanced: EnhancedStatusCode?
        var start = 0
        for (index, end) in lineEnds.enumerated() {
            let line = bytes[start..<end]
            start = end
            let firstWordEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
            let candidate = EnhancedStatusCode(line[..<firstWordEnd])
            if index == 0, let candidate, Int(candidate.statusClass) == code / 100 {
                enhanced = candidate
            } else if index == 0 || candidate != enhanced {
                enhanced = nil
                break
            }
        }
        guard enhanced != nil else {
            return SMTPReply(code: code, enhancedCode: nil, packed: String(decoding: bytes, as: UTF8.self), ends: lineEnds)
        }
        // Every line loses its enhanced code and the spaces after it.
        var packed: [UInt8] = []
        packed.reserveCapacity(bytes.count)
        var ends: [Int] = []
        ends.reserveCapacity(lineEnds.count)
        start = 0
        for end in lineEnds {
            let line = bytes[start..<end]
            start = end
            let firstWordEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
            packed.append(contentsOf: line[firstWordEnd...].drop(while: { $0 == UInt8(ascii: " ") }))
            ends.append(packed.count)
        }
        return SMTPReply(code: code, enhancedCode: enhanced, packed: String(decoding: packed, as: UTF8.self), ends: ends)
    }

    /// A one-line reply straight from the line's text (after `ddd SP`).
    static func makeReply(code: Int, line: ArraySlice<UInt8>) -> SMTPReply {
        let firstWordEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        if let candidate = EnhancedStatusCode(line[..<firstWordEnd]), Int(candidate.statusClass) == code / 100 {
            let rest = line[firstWordEnd...].drop(while: { $0 == UInt8(ascii: " ") })
            return SMTPReply(code: code, enhancedCode: candidate, packed: String(decoding: rest, as: UTF8.self), ends: [])
        }
        return SMTPReply(code: code, enhancedCode: nil, packed: String(decoding: line, as: UTF8.self), ends: [])
    }
}
