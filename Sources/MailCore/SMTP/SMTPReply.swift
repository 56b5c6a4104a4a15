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
    /// Text of each line, without code, enhanced code or CRLF. Never empty when encoded.
    public var lines: [String]

    public init(code: Int, enhancedCode: EnhancedStatusCode? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(code: Int, _ enhanced: String? = nil, _ text: String) {
        self.init(code: code, enhancedCode: enhanced.flatMap { EnhancedStatusCode($0) }, lines: [text])
    }

    /// 2yz: the command succeeded.
    public var isPositiveCompletion: Bool { code >= 200 && code < 300 }
    /// 3yz: the server waits for more (354, 334).
    public var isPositiveIntermediate: Bool { code >= 300 && code < 400 }
    /// 4yz: try again later.
    public var isTransientFailure: Bool { code >= 400 && code < 500 }
    /// 5yz: do not repeat as is.
    public var isPermanentFailure: Bool { code >= 500 && code < 600 }

    /// The text of all lines joined by a space.
    public var text: String { lines.joined(separator: " ") }

    /// Encodes the reply (RFC 5321 §4.2.1: `code-` on every line but the last, `code SP` on the last).
    /// CR and LF inside texts are replaced by spaces so a text can never break the framing.
    public func encode(into bytes: inout [UInt8]) {
        let clamped = max(0, min(999, code))
        for (index, line) in lines.enumerated() {
            bytes.append(UInt8(ascii: "0") + UInt8(clamped / 100))
            bytes.append(UInt8(ascii: "0") + UInt8(clamped / 10 % 10))
            bytes.append(UInt8(ascii: "0") + UInt8(clamped % 10))
            bytes.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhancedCode {
                enhancedCode.append(to: &bytes)
                if !line.isEmpty { bytes.append(UInt8(ascii: " ")) }
            }
            for byte in line.utf8 {
                bytes.append(byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") ? UInt8(ascii: " ") : byte)
            }
            bytes.append(UInt8(ascii: "\r"))
            bytes.append(UInt8(ascii: "\n"))
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
        while let event = framer.nextLine() {
            guard case .line(let line, _) = event else { throw .tooLong }
            guard line.count >= 3 else { throw .malformedLine }
            var lineCode = 0
            for byte in line.prefix(3) {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw .malformedLine }
                lineCode = lineCode * 10 + Int(byte - UInt8(ascii: "0"))
            }
            var last = true
            var text = line.dropFirst(3)
            if let separator = text.first {
                if separator == UInt8(ascii: "-") { last = false } else if separator != UInt8(ascii: " ") { throw .malformedLine }
                text = text.dropFirst()
            }
            if lineEnds.isEmpty { code = lineCode } else if code != lineCode { throw .inconsistentCode }
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
        var enhanced: EnhancedStatusCode?
        var texts: [String] = []
        texts.reserveCapacity(lineEnds.count)
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
        start = 0
        for end in lineEnds {
            let line = bytes[start..<end]
            start = end
            if enhanced != nil {
                let firstWordEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
                let rest = line[firstWordEnd...].drop(while: { $0 == UInt8(ascii: " ") })
                texts.append(String(decoding: rest, as: UTF8.self))
            } else {
                texts.append(String(decoding: line, as: UTF8.self))
            }
        }
        return SMTPReply(code: code, enhancedCode: enhanced, lines: texts)
    }
}
