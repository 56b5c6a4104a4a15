// The MIME tree of a parsed message (RFC 2045, RFC 2046), with the byte ranges IMAP needs
// (RFC 3501 §6.4.5 section numbers and §7.4.2 BODYSTRUCTURE).

/// One MIME entity. The root entity is the message itself; a message/rfc822 part holds the
/// encapsulated message's root entity.
public struct MIMEPart: Sendable, Equatable {
    /// What the entity contains.
    public indirect enum Body: Sendable, Equatable {
        /// A leaf: text, image, application, …
        case single
        /// multipart/*: the parts between the boundaries, in order.
        case multipart([MIMEPart])
        /// message/rfc822 (or message/global): the encapsulated message's root entity.
        case message(MIMEPart)
    }

    /// IMAP section number: "" for the root, "1", "1.2", … (RFC 3501 §6.4.5).
    public var partNumber: String
    /// The header fields of this entity (for the root: the message's header).
    public var headers: HeaderBlock
    /// Byte range of the header block, including the empty line that ends it (IMAP `BODY[n.MIME]`,
    /// or `BODY[HEADER]` for a message-level entity).
    public var headerRange: Range<Int>
    /// Byte range of the body (IMAP `BODY[n]`, or `BODY[TEXT]` for a message-level entity).
    public var bodyRange: Range<Int>
    /// Content-Type with defaults applied (text/plain; charset=us-ascii, RFC 2045 §5.2; or
    /// message/rfc822 inside multipart/digest, RFC 2046 §5.1.5).
    public var contentType: MIMEHeaderValue
    public var body: Body
    /// Number of lines of the body (counted for every part; IMAP reports it for text/* and message/rfc822).
    public var bodyLineCount: Int

    // MARK: IMAP BODYSTRUCTURE fields (RFC 3501 §7.4.2)

    public var type: String { contentType.type }
    public var subtype: String { contentType.subtype }
    /// Parameters exactly as written, for `body-fld-param`.
    public var parameters: [RawParameter] { contentType.rawParameters }
    public var contentID: String? { headers["Content-ID"] }
    public var contentDescription: String? { headers["Content-Description"] }
    public var contentTransferEncodingValue: String { headers["Content-Transfer-Encoding"].map { Bytes.trimWSP($0) } ?? "7bit" }
    public var transferEncoding: TransferEncoding { TransferEncoding(headerValue: headers["Content-Transfer-Encoding"]) }
    /// Size of the body in octets, as transferred.
    public var size: Int { bodyRange.count }
    /// Lines of the body for text/* and message/rfc822, nil for other types.
    public var lines: Int? { (type == "text" || isMessage) ? bodyLineCount : nil }
    public var md5: String? { headers["Content-MD5"] }
    public var disposition: MIMEHeaderValue? { headers["Content-Disposition"].flatMap { MIMEHeaderValue.parse($0, hasSubtype: false) } }
    /// Content-Language tags.
    public var language: [String] {
        guard let value = headers["Content-Language"] else { return [] }
        return value.split(separator: ",").map { Bytes.trimWSP(String($0)) }.filter { !$0.isEmpty }
    }
    public var location: String? { headers["Content-Location"] }

    public var isMultipart: Bool { if case .multipart = body { return true } else { return false } }
    public var isMessage: Bool { if case .message = body { return true } else { return false } }
    public var children: [MIMEPart] {
        switch body {
        case .single: return []
        case .multipart(let parts): return parts
        case .message(let inner): return [inner]
        }
    }

    /// The file name of an attachment: Content-Disposition `filename`, else Content-Type `name`.
    public var filename: String? { disposition?.parameter("filename") ?? contentType.parameter("name") }

    /// Every entity of the tree, depth first, this one included.
    public var allParts: [MIMEPart] { [self] + children.flatMap(\.allParts) }

    /// Leaves only (text, attachments), depth first.
    public var leaves: [MIMEPart] {
        switch body {
        case .single: return [self]
        case .multipart(let parts): return parts.flatMap(\.leaves)
        case .message(let inner): return inner.leaves
        }
    }
}

/// The parser: turns bytes into a ``MIMEPart`` tree, recording defects.
struct MIMEParser {
    let bytes: [UInt8]
    var defects: [MessageDefect] = []
    static let maximumDepth = 32

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses an entity starting at `start` (its header) and ending at `end`.
    mutating func parseEntity(from start: Int, to end: Int, number: String, depth: Int, digestDefault: Bool) -> MIMEPart {
        let header = HeaderParser.parse(bytes, from: start, to: end)
        // Defects of the top-level header already carry the information; only keep bare-LF once.
        for defect in header.defects where !(defect == .bareLineFeed && defects.contains(.bareLineFeed)) {
            defects.append(defect)
        }
        let headers = HeaderBlock(header.fields)
        let label = number.isEmpty ? "root" : number
        let defaultType = digestDefault ? MIMEHeaderValue(type: "message", subtype: "rfc822")
            : MIMEHeaderValue(type: "text", subtype: "plain", parameters: [("charset", "us-ascii")])
        var contentType = headers["Content-Type"].flatMap { MIMEHeaderValue.parse($0) } ?? defaultType
        let bodyRange = header.bodyStart..<max(header.bodyStart, end)
        var part = MIMEPart(partNumber: number, headers: headers, headerRange: start..<header.bodyStart,
                            bodyRange: bodyRange, contentType: contentType, body: .single,
                            bodyLineCount: MIMEParser.countLines(bytes, bodyRange))
        if depth >= MIMEParser.maximumDepth && (contentType.type == "multipart" || contentType.type == "message") {
            defects.append(.nestingTooDeep(part: label))
            return part
        }
        if contentType.type == "multipart" {
            guard let boundary = contentType.parameter("boundary"), !boundary.isEmpty else {
                defects.append(.missingBoundaryParameter(part: label))
                contentType = MIMEHeaderValue(type: "text", subtype: "plain", parameters: [("charset", "us-ascii")])
                part.contentType = contentType
                checkLeaf(part, label: label)
                return part
            }
            let ranges = splitMultipart(bodyRange, boundary: boundary, label: label)
            guard !ranges.isEmpty else {
                defects.append(.boundaryNotFound(part: label))
                return part
            }
            var children: [MIMEPart] = []
            for (index, range) in ranges.enumerated() {
                let childNumber = number.isEmpty ? "\(index + 1)" : "\(number).\(index + 1)"
                children.append(parseEntity(from: range.lowerBound, to: range.upperBound, number: childNumber,
                                            depth: depth + 1, digestDefault: contentType.subtype == "digest"))
            }
            part.body = .multipart(children)
            return part
        }
        if contentType.type == "message" && (contentType.subtype == "rfc822" || contentType.subtype == "global") {
            // The encapsulated message's parts are numbered under this part's number.
            var inner = parseEntity(from: bodyRange.lowerBound, to: bodyRange.upperBound, number: number,
                                    depth: depth + 1, digestDefault: false)
            if !inner.isMultipart { inner.partNumber = number.isEmpty ? "1" : number + ".1" }
            part.body = .message(inner)
            return part
        }
        checkLeaf(part, label: label)
        return part
    }

    /// Records broken encodings and charsets of a leaf without keeping the decoded data.
    mutating func checkLeaf(_ part: MIMEPart, label: String) {
        let content = bytes[part.bodyRange]
        var decoded = Array(content)
        switch part.transferEncoding {
        case .base64:
            let result = Base64.decode(content)
            if !result.valid { defects.append(.invalidBase64(part: label)) }
            decoded = result.bytes
        case .quotedPrintable:
            let result = QuotedPrintable.decode(content)
            if !result.valid { defects.append(.invalidQuotedPrintable(part: label)) }
            decoded = result.bytes
        case .other(let name):
            defects.append(.unknownTransferEncoding(part: label, name))
        case .sevenBit, .eightBit, .binary:
            break
        }
        if part.type == "text" {
            let name = part.contentType.parameter("charset") ?? "us-ascii"
            if let charset = Charset(name: name) {
                if !charset.decode(decoded).valid { defects.append(.invalidCharsetData(part: label)) }
            } else {
                defects.append(.unknownCharset(part: label, name))
            }
        }
    }

    /// Finds the body parts between `--boundary` lines (RFC 2046 §5.1.1). The line break before a
    /// delimiter belongs to the delimiter. Without a closing delimiter the last part runs to the end.
    mutating func splitMultipart(_ range: Range<Int>, boundary: String, label: String) -> [Range<Int>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [Range<Int>] = []
        var partStart: Int?
        var closed = false
        for line in Bytes.lines(bytes, in: range) {
            let length = line.contentEnd - line.start
            guard length >= delimiter.count, bytes[line.start..<(line.start + delimiter.count)].elementsEqual(delimiter) else { continue }
            var tail = line.start + delimiter.count
            var closing = false
            if tail + 1 < line.contentEnd + 1, tail + 2 <= line.contentEnd,
               bytes[tail] == UInt8(ascii: "-"), bytes[tail + 1] == UInt8(ascii: "-") {
                closing = true
                tail += 2
            }
            // Only transport padding (white space) may follow the delimiter.
            guard bytes[tail..<line.contentEnd].allSatisfy(Bytes.isWSP) else { continue }
            if let begin = partStart {
                // The CR LF (or LF) before this delimiter line is not part of the body.
                var stop = line.start
                if stop > begin && bytes[stop - 1] == Bytes.lf { stop -= 1 }
                if stop > begin && bytes[stop - 1] == Bytes.cr { stop -= 1 }
                parts.append(begin..<max(begin, stop))
            }
            if closing { closed = true; partStart = nil; break }
            partStart = line.next
        }
        if let begin = partStart, !closed {
            defects.append(.missingClosingBoundary(part: label))
            parts.append(begin..<max(begin, range.upperBound))
        }
        return parts
    }

    static func countLines(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        guard !range.isEmpty else { return 0 }
        var count = 0
        for i in range where bytes[i] == Bytes.lf { count += 1 }
        if bytes[range.upperBound - 1] != Bytes.lf { count += 1 }
        return count
    }
}
