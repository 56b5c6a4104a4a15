// Building messages for a MUA: text, text + HTML, attachments, replies and forwards (RFC 5322,
// RFC 2045–2047, RFC 2231). Everything is deterministic: the date is a parameter and boundaries and
// Message-IDs come from a caller-supplied seed and counter.

import Foundation

/// An attachment to add to a built message.
public struct Attachment: Sendable, Equatable {
    public var filename: String
    /// `type/subtype`, e.g. `application/pdf`.
    public var mimeType: String
    public var data: [UInt8]
    /// `attachment` or `inline`.
    public var disposition: String
    public var contentID: String?

    public init(filename: String, mimeType: String, data: [UInt8], disposition: String = "attachment", contentID: String? = nil) {
        self.filename = filename
        self.mimeType = mimeType
        self.data = data
        self.disposition = disposition
        self.contentID = contentID
    }
}

/// The result of ``MessageBuilder/build()``.
public struct BuiltMessage: Sendable, Equatable {
    /// The message bytes as submitted (CR LF line endings; no Bcc field).
    public var bytes: [UInt8]
    /// `<…@…>`
    public var messageID: String
    /// Every recipient address (To, Cc and Bcc) for the SMTP envelope (`RCPT TO`).
    public var envelopeRecipients: [String]
    /// The envelope sender (`MAIL FROM`).
    public var envelopeSender: String

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Builds a message, as a mail client would before submission.
///
/// ```swift
/// var builder = MessageBuilder(from: MailAddress("Alice <alice@example.com>")!,
///                              date: MailDate(secondsSinceEpoch: 1_700_000_000, zoneOffsetMinutes: 60),
///                              seed: "world-42", counter: 1)
/// builder.to = [MailAddress("bob@company.org")!]
/// builder.subject = "Café ?"
/// builder.textBody = "Bonjour Bob\n"
/// let built = builder.build()
/// ```
public struct MessageBuilder: Sendable {
    public var from: MailAddress
    public var sender: MailAddress?
    public var to: [MailAddress] = []
    public var cc: [MailAddress] = []
    /// Recipients that receive the message but are not written into the header (RFC 5322 §3.6.3).
    public var bcc: [MailAddress] = []
    public var replyTo: [MailAddress] = []
    public var subject: String = ""
    public var date: MailDate
    public var inReplyTo: [String] = []
    public var references: [String] = []
    public var textBody: String = ""
    public var htmlBody: String?
    public var attachments: [Attachment] = []
    /// An encapsulated message (forward as attachment), written as message/rfc822.
    public var attachedMessage: [UInt8]?
    /// Extra fields written after the standard ones, in order (e.g. `X-Mailer`).
    public var extraHeaders: [(name: String, value: String)] = []
    /// Source of determinism: boundaries and the Message-ID derive from `seed` and `counter`.
    public var seed: String
    public var counter: Int
    /// Use this Message-ID instead of deriving one.
    public var messageIDOverride: String?

    public init(from: MailAddress, date: MailDate, seed: String, counter: Int) {
        self.from = from
        self.date = date
        self.seed = seed
        self.counter = counter
    }

    /// The Message-ID this builder writes: `<YYYYMMDDhhmmss.counter.hash@from-domain>`.
    public var messageID: String {
        if let id = messageIDOverride { return id }
        let stamp = date.rfc5322
        let hash = Bytes.hex(Bytes.fnv1a("\(seed)|\(counter)|\(stamp)|\(from.address)"))
        let domain = from.domain.isEmpty ? "localhost" : from.domain
        return "<\(date.secondsSinceEpoch).\(counter).\(hash.prefix(12))@\(domain)>"
    }

    /// The n-th boundary of this message; `=_` never occurs in base64 or quoted-printable output.
    func boundary(_ index: Int) -> String {
        "=_MailLab_" + Bytes.hex(Bytes.fnv1a("\(seed)|\(counter)|boundary|\(index)")).prefix(16) + "_\(index)"
    }

    // MARK: Replies and forwards

    /// A reply (RFC 5322 §3.6.4): `Re: ` subject (not doubled), In-Reply-To the original's Message-ID,
    /// References its References (or In-Reply-To) plus its Message-ID, To the Reply-To (or From).
    /// `replyAll` adds the original To and Cc, without `from` itself.
    public static func reply(to original: Message, from: MailAddress, date: MailDate, seed: String, counter: Int,
                             text: String, replyAll: Bool = false, quote: Bool = true) -> MessageBuilder {
        var builder = MessageBuilder(from: from, date: date, seed: seed, counter: counter)
        let subject = original.subject ?? ""
        builder.subject = MessageBuilder.hasPrefix(subject, "re:") ? subject : "Re: " + subject
        builder.to = original.replyTo.isEmpty ? original.from : original.replyTo
        if replyAll {
            let me = Bytes.lowercasedASCII(from.address)
            var seen = Set(builder.to.map { Bytes.lowercasedASCII($0.address) })
            seen.insert(me)
            for address in original.to + original.cc where !seen.contains(Bytes.lowercasedASCII(address.address)) {
                seen.insert(Bytes.lowercasedASCII(address.address))
                builder.cc.append(address)
            }
        }
        if let id = original.messageID {
            builder.inReplyTo = [id]
            var refs = original.references
            if refs.isEmpty { refs = original.inReplyTo.count == 1 ? original.inReplyTo : [] }
            builder.references = refs + [id]
        }
        var body = text
        if quote, let quoted = original.plainText {
            let who = original.from.first?.headerFormat ?? "?"
            let when = original.headers["Date"] ?? ""
            let lines = quoted.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            let trimmed = lines.last == "" ? lines.dropLast() : lines[...]
            body += "\n\n" + (when.isEmpty ? "" : "On \(when), ") + "\(who) wrote:\n" + trimmed.map { "> " + $0 }.joined(separator: "\n") + "\n"
        }
        builder.textBody = body
        return builder
    }

    /// A forward: `Fwd: ` subject; the original attached as message/rfc822 (`inline: false`), or its
    /// text quoted in the body. References carry the original's thread.
    public static func forward(_ original: Message, from: MailAddress, to: [MailAddress], date: MailDate, seed: String,
                               counter: Int, text: String, inline: Bool = false) -> MessageBuilder {
        var builder = MessageBuilder(from: from, date: date, seed: seed, counter: counter)
        let subject = original.subject ?? ""
        builder.subject = MessageBuilder.hasPrefix(subject, "fwd:") ? subject : "Fwd: " + subject
        builder.to = to
        if let id = original.messageID { builder.references = original.references + [id] }
        if inline {
            var body = text + "\n\n---------- Forwarded message ----------\n"
            for name in ["From", "Date", "Subject", "To"] {
                if let value = original.headers[name] { body += "\(name): \(name == "Subject" ? (original.subject ?? value) : value)\n" }
            }
            body += "\n" + (original.plainText ?? "")
            builder.textBody = body
        } else {
            builder.textBody = text
            builder.attachedMessage = original.raw
        }
        return builder
    }

    static func hasPrefix(_ subject: String, _ prefix: String) -> Bool {
        Bytes.lowercasedASCII(Bytes.trimWSP(subject)).hasPrefix(prefix)
    }

    // MARK: Building

    /// Writes the message.
    public func build() -> BuiltMessage {
        var header = HeaderBlock()
        header.append("Date", date.rfc5322)
        header.append("From", from.headerFormat)
        if let sender { header.append("Sender", sender.headerFormat) }
        if !replyTo.isEmpty { header.append("Reply-To", replyTo.map(\.headerFormat).joined(separator: ", ")) }
        if !to.isEmpty { header.append("To", to.map(\.headerFormat).joined(separator: ", ")) }
        if !cc.isEmpty { header.append("Cc", cc.map(\.headerFormat).joined(separator: ", ")) }
        header.append("Subject", EncodedWord.needsEncoding(subject) ? EncodedWord.encode(subject) : subject)
        header.append("Message-ID", messageID)
        if !inReplyTo.isEmpty { header.append("In-Reply-To", inReplyTo.joined(separator: " ")) }
        if !references.isEmpty { header.append("References", references.joined(separator: " ")) }
        for extra in extraHeaders {
            header.append(extra.name, EncodedWord.needsEncoding(extra.value) ? EncodedWord.encode(extra.value) : extra.value)
        }
        header.append("MIME-Version", "1.0")

        var boundaryIndex = 0
        func nextBoundary() -> String { boundaryIndex += 1; return boundary(boundaryIndex) }

        // Innermost first: the text entity, then alternative, then related/mixed around it.
        var content = MessageBuilder.textEntity(textBody, subtype: "plain")
        if let html = htmlBody {
            let b = nextBoundary()
            content = MessageBuilder.multipart("alternative", boundary: b,
                                               parts: [content, MessageBuilder.textEntity(html, subtype: "html")])
        }
        var extras: [Entity] = attachments.map(MessageBuilder.attachmentEntity)
        if let attached = attachedMessage {
            var entity = Entity()
            entity.headers.append("Content-Type", "message/rfc822")
            entity.headers.append("Content-Disposition", "inline")
            let eightBit = attached.contains { $0 >= 0x80 }
            if eightBit { entity.headers.append("Content-Transfer-Encoding", "8bit") }
            var body = attached
            if !(body.suffix(2) == [13, 10]) { body += Bytes.crlf }
            entity.body = body
            extras.insert(entity, at: 0)
        }
        if !extras.isEmpty {
            let b = nextBoundary()
            content = MessageBuilder.multipart("mixed", boundary: b, parts: [content] + extras)
        }
        var bytes = Array(header.wireFormat.utf8)
        bytes += Array(content.headers.wireFormat.utf8)
        bytes += Bytes.crlf
        bytes += content.body
        let recipients = (to + cc + bcc).map(\.address)
        var unique: [String] = []
        for r in recipients where !unique.contains(r) { unique.append(r) }
        return BuiltMessage(bytes: bytes, messageID: messageID, envelopeRecipients: unique, envelopeSender: from.address)
    }

    struct Entity {
        var headers = HeaderBlock()
        var body: [UInt8] = []
        var bytes: [UInt8] { Array(headers.wireFormat.utf8) + Bytes.crlf + body }
    }

    /// A text entity: 7bit when it is ASCII with short lines, else quoted-printable UTF-8.
    static func textEntity(_ text: String, subtype: String) -> Entity {
        var entity = Entity()
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        var bytes = Array(normalised.utf8)
        if !bytes.isEmpty && bytes.suffix(2) != [13, 10] { bytes += Bytes.crlf }
        let ascii = bytes.allSatisfy { $0 < 0x80 }
        let shortLines = Bytes.lines(bytes, in: 0..<bytes.count).allSatisfy { $0.contentEnd - $0.start <= 78 }
        if ascii && shortLines {
            entity.headers.append("Content-Type", "text/\(subtype); charset=us-ascii")
            entity.headers.append("Content-Transfer-Encoding", "7bit")
            entity.body = bytes
        } else {
            entity.headers.append("Content-Type", "text/\(subtype); charset=utf-8")
            entity.headers.append("Content-Transfer-Encoding", "quoted-printable")
            var encoded = Array(QuotedPrintable.encode(bytes).utf8)
            if !encoded.isEmpty && encoded.suffix(2) != [13, 10] { encoded += Bytes.crlf }
            entity.body = encoded
        }
        return entity
    }

    static func attachmentEntity(_ attachment: Attachment) -> Entity {
        var entity = Entity()
        let type = MIMEHeaderValue(type: attachment.mimeType.split(separator: "/").first.map(String.init) ?? "application",
                                   subtype: attachment.mimeType.split(separator: "/").dropFirst().first.map(String.init) ?? "octet-stream",
                                   parameters: [("name", attachment.filename)])
        entity.headers.append("Content-Type", type.headerFormat)
        let disposition = MIMEHeaderValue(type: attachment.disposition, subtype: "", parameters: [("filename", attachment.filename)])
        entity.headers.append("Content-Disposition", disposition.headerFormat)
        if let id = attachment.contentID { entity.headers.append("Content-ID", id) }
        entity.headers.append("Content-Transfer-Encoding", "base64")
        entity.body = Array(Base64.encodeLines(attachment.data).utf8)
        return entity
    }

    static func multipart(_ subtype: String, boundary: String, parts: [Entity]) -> Entity {
        var entity = Entity()
        entity.headers.append("Content-Type", "multipart/\(subtype); boundary=\"\(boundary)\"")
        var body: [UInt8] = Array("This is a multi-part message in MIME format.\r\n".utf8)
        for part in parts {
            body += Array("\r\n--\(boundary)\r\n".utf8)
            // The CR LF before the next delimiter belongs to the delimiter (RFC 2046 §5.1.1), so a
            // part's own final line break is kept in front of it.
            body += part.bytes
        }
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        entity.body = body
        return entity
    }
}

/// A small, valid PDF document generated on the fly (for attachment examples; PDF 1.4, one page,
/// one line of Helvetica text, with a correct cross-reference table).
public enum SamplePDF {
    public static func make(text: String) -> [UInt8] {
        let safe = String(text.unicodeScalars.filter { $0.value >= 32 && $0.value < 127 && $0 != "(" && $0 != ")" && $0 != "\\" })
        let stream = "BT /F1 18 Tf 72 720 Td (\(safe)) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            out += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(out.utf8)
    }
}
