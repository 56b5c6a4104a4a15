import Testing
@testable import MailMessage

@Suite struct BuilderTests {
    static let alice = MailAddress(displayName: "Alice Martin", localPart: "alice", domain: "example.com")
    static let bob = MailAddress(displayName: "Bob", localPart: "bob", domain: "company.org")
    static let date = MailDate(secondsSinceEpoch: 1_795_707_022, zoneOffsetMinutes: 60)

    func builder(counter: Int = 1) -> MessageBuilder {
        var builder = MessageBuilder(from: Self.alice, date: Self.date, seed: "seed-7", counter: counter)
        builder.to = [Self.bob]
        builder.subject = "Hello"
        builder.textBody = "Hi Bob,\nsee you.\n"
        return builder
    }

    func lineLengthsOK(_ bytes: [UInt8]) -> Bool {
        Bytes.lines(bytes, in: 0..<bytes.count).allSatisfy { $0.contentEnd - $0.start <= 78 && !$0.bareLineFeed }
    }

    @Test func plainTextMessage() {
        let built = builder().build()
        #expect(built.text == """
        Date: Thu, 26 Nov 2026 16:30:22 +0100\r
        From: Alice Martin <alice@example.com>\r
        To: Bob <bob@company.org>\r
        Subject: Hello\r
        Message-ID: \(built.messageID)\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=us-ascii\r
        Content-Transfer-Encoding: 7bit\r
        \r
        Hi Bob,\r
        see you.\r

        """)
        let parsed = Message(parsing: built.bytes)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.from == [Self.alice])
        #expect(parsed.to == [Self.bob])
        #expect(parsed.date == Self.date)
        #expect(parsed.messageID == built.messageID)
        #expect(parsed.plainText == "Hi Bob,\r\nsee you.\r\n")
    }

    @Test func deterministicIdentifiers() {
        #expect(builder().build() == builder().build())
        #expect(builder(counter: 1).build().messageID != builder(counter: 2).build().messageID)
        #expect(builder().build().messageID.hasSuffix("@example.com>"))
    }

    @Test func bccIsNotWrittenButIsAnEnvelopeRecipient() {
        var b = builder()
        b.cc = [MailAddress(localPart: "carol", domain: "x.org")]
        b.bcc = [MailAddress(localPart: "secret", domain: "y.org")]
        let built = b.build()
        #expect(!built.text.contains("secret"))
        #expect(!built.text.lowercased().contains("bcc:"))
        #expect(built.envelopeRecipients == ["bob@company.org", "carol@x.org", "secret@y.org"])
        #expect(built.envelopeSender == "alice@example.com")
    }

    @Test func alternativeWithAttachmentsRoundTrip() {
        var b = builder()
        b.subject = "Réunion : ordre du jour très détaillé pour la réunion de la semaine prochaine à Liège"
        b.textBody = "Voici l'ordre du jour, à lire avant lundi.\n" + String(repeating: "long ", count: 30) + "\n"
        b.htmlBody = "<p>Voici l'ordre du jour</p>\n"
        let pdf = SamplePDF.make(text: "Ordre du jour")
        b.attachments = [Attachment(filename: "ordre du jour été 2026 - version définitive.pdf", mimeType: "application/pdf", data: pdf)]
        let built = b.build()
        #expect(lineLengthsOK(built.bytes))
        let parsed = Message(parsing: built.bytes)
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        #expect(parsed.subject == b.subject)
        #expect(parsed.root.contentType.mimeType == "multipart/mixed")
        #expect(parsed.root.allParts.map(\.contentType.mimeType)
            == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"])
        #expect(parsed.root.allParts.map(\.partNumber) == ["", "1", "1.1", "1.2", "2"])
        #expect(parsed.plainText == "Voici l'ordre du jour, à lire avant lundi.\r\n" + String(repeating: "long ", count: 30) + "\r\n")
        #expect(parsed.htmlText == "<p>Voici l'ordre du jour</p>\r\n")
        let attachment = parsed.attachments.first
        #expect(attachment?.filename == "ordre du jour été 2026 - version définitive.pdf")
        #expect(attachment.map { parsed.decodedBody(of: $0) } == pdf)
        #expect(attachment?.disposition?.type == "attachment")
    }

    @Test func samplePDFHasACorrectXref() {
        let pdf = SamplePDF.make(text: "Hello")
        let text = String(decoding: pdf, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1.4\n"))
        #expect(text.hasSuffix("%%EOF\n"))
        let startxref = text.components(separatedBy: "startxref\n")[1].split(separator: "\n")[0]
        let offset = Int(startxref)!
        #expect(String(decoding: pdf[offset..<(offset + 4)], as: UTF8.self) == "xref")
        let entry = text.components(separatedBy: "0000000000 65535 f \n")[1].prefix(10)
        let first = Int(entry)!
        #expect(String(decoding: pdf[first..<(first + 7)], as: UTF8.self) == "1 0 obj")
    }

    @Test func replyThreading() {
        var original = builder()
        original.references = ["<root@x.org>"]
        original.inReplyTo = ["<root@x.org>"]
        original.cc = [MailAddress(localPart: "carol", domain: "x.org")]
        let first = Message(parsing: original.build().bytes)
        let reply = MessageBuilder.reply(to: first, from: Self.bob, date: Self.date, seed: "bob", counter: 1,
                                         text: "Sure.", replyAll: true)
        let built = Message(parsing: reply.build().bytes)
        #expect(built.subject == "Re: Hello")
        #expect(built.inReplyTo == [first.messageID!])
        #expect(built.references == ["<root@x.org>", first.messageID!])
        #expect(built.to == [Self.alice])
        #expect(built.cc.map(\.address) == ["carol@x.org"])
        #expect(built.plainText?.contains("> Hi Bob,") == true)
        // Replying to a reply does not stack prefixes.
        let again = MessageBuilder.reply(to: built, from: Self.alice, date: Self.date, seed: "a", counter: 2, text: "ok")
        #expect(again.subject == "Re: Hello")
        #expect(again.references == ["<root@x.org>", first.messageID!, built.messageID!])
    }

    @Test func forwardAsAttachment() {
        let first = Message(parsing: builder().build().bytes)
        let forward = MessageBuilder.forward(first, from: Self.bob, to: [MailAddress(localPart: "dan", domain: "d.org")],
                                             date: Self.date, seed: "bob", counter: 3, text: "FYI")
        let built = Message(parsing: forward.build().bytes)
        #expect(built.subject == "Fwd: Hello")
        #expect(built.references == [first.messageID!])
        #expect(built.part(number: "2")?.contentType.mimeType == "message/rfc822")
        #expect(built.part(number: "2.1").map { built.text(of: $0) } == "Hi Bob,\r\nsee you.\r\n")
        #expect(built.defects.isEmpty)
    }

    @Test func foldingKeepsLinesShort() {
        var b = builder()
        b.to = (1...12).map { MailAddress(displayName: "Person \($0)", localPart: "p\($0)", domain: "example.org") }
        let built = b.build()
        #expect(lineLengthsOK(built.bytes))
        #expect(Message(parsing: built.bytes).to.count == 12)
    }
}

@Suite struct RelatedBuilderTests {
    @Test func inlineImageGoesIntoMultipartRelated() {
        var b = MessageBuilder(from: MailAddress(localPart: "alice", domain: "example.com"),
                               date: MailDate(secondsSinceEpoch: 0), seed: "s", counter: 9)
        b.to = [MailAddress(localPart: "bob", domain: "company.org")]
        b.subject = "Logo"
        b.textBody = "See the logo.\n"
        b.htmlBody = "<img src=\"cid:logo@example.com\">\n"
        b.attachments = [
            Attachment(filename: "logo.png", mimeType: "image/png", data: [0x89, 0x50, 0x4E, 0x47], disposition: "inline",
                       contentID: "<logo@example.com>"),
            Attachment(filename: "notes.txt", mimeType: "text/plain", data: Array("notes\r\n".utf8)),
        ]
        let message = Message(parsing: b.build().bytes)
        #expect(message.defects.isEmpty)
        #expect(message.root.allParts.map(\.contentType.mimeType) == [
            "multipart/mixed", "multipart/related", "multipart/alternative", "text/plain", "text/html", "image/png", "text/plain",
        ])
        #expect(message.root.allParts.map(\.partNumber) == ["", "1", "1.1", "1.1.1", "1.1.2", "1.2", "2"])
        #expect(message.part(number: "1.2")?.contentID == "<logo@example.com>")
        #expect(message.part(number: "1.2").map { message.decodedBody(of: $0) } == [0x89, 0x50, 0x4E, 0x47])
        #expect(message.part(number: "2")?.filename == "notes.txt")
    }
}

@Suite struct HeaderFoldTests {
    /// The rule of ``HeaderField/fold(name:value:limit:)`` written plainly: words between single
    /// spaces (empty ones kept), each after a space; a break before a word that would pass the
    /// limit, unless the line is still empty.
    static func reference(name: String, value: String, limit: Int) -> String {
        var result = ""
        var lineLength = name.count + 1
        for (index, word) in value.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index > 0 && lineLength + word.count + 1 > limit && lineLength > 1 {
                result += "\r\n"
                lineLength = 0
            }
            result += " " + word
            lineLength += word.count + 1
        }
        return result
    }

    /// ASCII fields take the byte path: it must fold exactly as the rule says, for empty values,
    /// runs of spaces, words longer than the limit and small limits. Every value of up to four
    /// words from the list, under three names and four limits.
    @Test func asciiFoldingFollowsTheRule() {
        let words = ["", "a", "spf=pass", "smtp.mailfrom=alice@example.com", String(repeating: "x", count: 90), "(comment)", ";"]
        var values = [""]
        var previous = [[String]()]
        for _ in 1...4 {
            previous = previous.flatMap { prefix in words.map { prefix + [$0] } }
            values += previous.map { $0.joined(separator: " ") }
        }
        for name in ["Received-SPF", "Authentication-Results", "X"] {
            for limit in [78, 40, 10, 1] {
                for value in values {
                    #expect(HeaderField.fold(name: name, value: value, limit: limit) == Self.reference(name: name, value: value, limit: limit),
                            "\(name): \(value.debugDescription) limit \(limit)")
                }
            }
        }
        // Outside ASCII the same rule counts characters.
        #expect(HeaderField.fold(name: "Subject", value: "héllo wörld", limit: 12) == " héllo\r\n wörld")
    }
}
