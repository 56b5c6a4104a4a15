// A parsed RFC 5322 message: the exact bytes, the MIME tree with byte offsets, and the defects met.

/// A message as received: the parse never fails; problems are listed in ``defects``.
///
/// ```swift
/// let message = Message(parsing: Array("From: a@example.com\r\nSubject: Hi\r\n\r\nHello\r\n".utf8))
/// message.subject          // "Hi"
/// message.part(number: "1")?.bodyRange   // the bytes IMAP returns for BODY[1]
/// ```
public struct Message: Sendable, Equatable {
    /// The message exactly as it was given; every range in the tree points into it.
    public let raw: [UInt8]
    /// The root entity (the message header and its body).
    public let root: MIMEPart
    /// What a strict parser would have refused, in the order met.
    public let defects: [MessageDefect]

    public init(parsing raw: [UInt8]) {
        self.raw = raw
        var parser = MIMEParser(bytes: raw)
        self.root = parser.parseEntity(from: 0, to: raw.count, number: "", depth: 0, digestDefault: false)
        var defects = parser.defects
        for name in ["Subject", "From", "To", "Cc"] {
            for field in root.headers.all(name) where !EncodedWord.decode(field.value).valid {
                defects.append(.invalidEncodedWord(header: name))
            }
        }
        self.defects = defects
    }

    public init(parsing text: String) { self.init(parsing: Array(text.utf8)) }

    /// The top-level header block alone, and the offset where the body starts, without walking
    /// the body's MIME structure: what a receiver's SPF/DKIM/DMARC checks read. The fields are
    /// those of ``headers`` for the same bytes.
    public static func headerBlock(of raw: [UInt8]) -> (headers: HeaderBlock, bodyStart: Int) {
        let parsed = HeaderParser.parse(raw, from: 0, to: raw.count)
        return (HeaderBlock(parsed.fields), parsed.bodyStart)
    }

    public var headers: HeaderBlock { root.headers }

    // MARK: Common fields, decoded

    /// Subject with RFC 2047 words decoded.
    public var subject: String? { headers["Subject"].map { EncodedWord.decode($0).text } }
    public var from: [MailAddress] { headers["From"].map(AddressParser.mailboxes) ?? [] }
    public var to: [MailAddress] { headers["To"].map(AddressParser.mailboxes) ?? [] }
    public var cc: [MailAddress] { headers["Cc"].map(AddressParser.mailboxes) ?? [] }
    public var replyTo: [MailAddress] { headers["Reply-To"].map(AddressParser.mailboxes) ?? [] }
    public var date: MailDate? { headers["Date"].flatMap { MailDate(rfc5322: $0) } }
    /// `<id@host>` of Message-ID.
    public var messageID: String? { headers["Message-ID"].flatMap { AddressParser.messageIDs($0).first } }
    public var inReplyTo: [String] { headers["In-Reply-To"].map(AddressParser.messageIDs) ?? [] }
    public var references: [String] { headers["References"].map(AddressParser.messageIDs) ?? [] }

    // MARK: IMAP

    /// The ENVELOPE fields (RFC 3501 §7.4.2) as raw, unfolded header values (encoded words left as
    /// they are). By the RFC, a server uses From for an absent Sender or Reply-To: see ``Envelope``.
    public var envelope: Envelope { root.envelope }

    /// The entity with an IMAP section number ("1", "1.2", "3.1"); "" is the root. For a message that
    /// is not multipart, "1" is its body (RFC 3501 §6.4.5).
    public func part(number: String) -> MIMEPart? {
        if number.isEmpty { return root }
        var path: [Int] = []
        for piece in number.split(separator: ".", omittingEmptySubsequences: false) {
            guard let n = Int(piece), n > 0 else { return nil }
            path.append(n)
        }
        var node = root
        var messageLevel = true
        for n in path {
            switch node.body {
            case .multipart(let parts):
                guard n <= parts.count else { return nil }
                node = parts[n - 1]
                messageLevel = false
            case .message(let inner):
                switch inner.body {
                case .multipart(let parts):
                    guard n <= parts.count else { return nil }
                    node = parts[n - 1]
                    messageLevel = false
                case .single, .message:
                    guard n == 1 else { return nil }
                    node = inner
                    messageLevel = true
                }
            case .single:
                guard n == 1, messageLevel else { return nil }
                messageLevel = false
            }
        }
        return node
    }

    /// The raw bytes of a range of ``raw``.
    public func bytes(_ range: Range<Int>) -> [UInt8] {
        let lower = max(0, min(range.lowerBound, raw.count))
        let upper = max(lower, min(range.upperBound, raw.count))
        return Array(raw[lower..<upper])
    }

    /// `BODY[HEADER]`: the top-level header block with its empty line.
    public var headerBytes: [UInt8] { bytes(root.headerRange) }
    /// `BODY[TEXT]`: everything after the header block.
    public var textBytes: [UInt8] { bytes(root.bodyRange) }

    // MARK: Content

    /// A leaf's body with its transfer encoding undone.
    public func decodedBody(of part: MIMEPart) -> [UInt8] {
        let content = raw[part.bodyRange]
        switch part.transferEncoding {
        case .base64: return Base64.decode(content).bytes
        case .quotedPrintable: return QuotedPrintable.decode(content).bytes
        case .sevenBit, .eightBit, .binary, .other: return Array(content)
        }
    }

    /// A text part decoded to a String in its charset (unknown charsets are read as UTF-8).
    public func text(of part: MIMEPart) -> String {
        let charset = Charset(name: part.contentType.parameter("charset") ?? "us-ascii") ?? .utf8
        return charset.decode(decodedBody(of: part)).text
    }

    /// The first text/plain leaf that is not an attachment, decoded.
    public var plainText: String? {
        root.leaves.first { $0.type == "text" && $0.subtype == "plain" && $0.disposition?.type != "attachment" }.map { text(of: $0) }
    }

    /// The first text/html leaf, decoded.
    public var htmlText: String? {
        root.leaves.first { $0.type == "text" && $0.subtype == "html" && $0.disposition?.type != "attachment" }.map { text(of: $0) }
    }

    /// Leaves with a file name or an attachment disposition.
    public var attachments: [MIMEPart] {
        root.leaves.filter { $0.disposition?.type == "attachment" || ($0.filename != nil && $0.type != "text") }
    }
}

/// IMAP ENVELOPE source values (RFC 3501 §7.4.2), raw and unfolded.
public struct Envelope: Sendable, Equatable {
    public var date, subject, from, sender, replyTo, to, cc, bcc, inReplyTo, messageID: String?

    /// Sender as IMAP reports it: the Sender field, else From.
    public var senderOrFrom: String? { sender ?? from }
    /// Reply-To as IMAP reports it: the Reply-To field, else From.
    public var replyToOrFrom: String? { replyTo ?? from }

    /// An address field parsed into entries (groups kept), display names decoded.
    public static func addresses(_ value: String?) -> [AddressListEntry] {
        value.map { AddressParser.parseList($0).entries } ?? []
    }

    /// An address field parsed into entries (groups kept) with display names as written, encoded
    /// words left encoded: what IMAP's address structures carry (RFC 3501 §7.4.2).
    public static func rawAddresses(_ value: String?) -> [RawAddressListEntry] {
        value.map(AddressParser.parseRawList) ?? []
    }
}

extension MIMEPart {
    /// The ENVELOPE source values of a message-level entity: the root, or the root entity of a
    /// message/rfc822 part (RFC 3501 §7.4.2, raw and unfolded).
    public var envelope: Envelope {
        Envelope(date: headers["Date"], subject: headers["Subject"], from: headers["From"], sender: headers["Sender"],
                 replyTo: headers["Reply-To"], to: headers["To"], cc: headers["Cc"], bcc: headers["Bcc"],
                 inReplyTo: headers["In-Reply-To"], messageID: headers["Message-ID"])
    }
}
