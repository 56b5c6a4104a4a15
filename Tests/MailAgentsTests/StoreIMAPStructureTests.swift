import Testing
import MailCore
import MailMessage
@testable import MailAgents

/// ENVELOPE, BODYSTRUCTURE and BODY[section] computed from MailMessage's model of the message
/// (RFC 3501 §7.4.2, §6.4.5), on messages MailMessage's own builder wrote.
@Suite struct StoreIMAPStructureTests {
    static let date = MailDate(secondsSinceEpoch: 1_795_707_022, zoneOffsetMinutes: 60)
    static let pdf = SamplePDF.make(text: "Facture 42")

    func session(with raw: [UInt8]) throws -> IMAPTestSession {
        let store = try imapCourseStore()
        try store.deliver(to: "bob", bytes: raw, internalDate: imapCourseNow)
        let s = IMAPTestSession(store)
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        return s
    }

    /// The value of every `boundary="…"` parameter, in the order written.
    func boundaries(_ raw: [UInt8]) -> [String] {
        let text = String(decoding: raw, as: UTF8.self)
        return text.components(separatedBy: "boundary=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    /// `* 4 FETCH (BODY[x] {n}\r\n<bytes>)`: the literal's bytes.
    func literal(_ response: String) -> String? {
        guard let open = response.firstIndex(of: "{"), let close = response[open...].firstIndex(of: "}"),
              let count = Int(response[response.index(after: open)..<close]) else { return nil }
        let start = response.utf8.index(close, offsetBy: 3)
        let bytes = Array(response.utf8[start...].prefix(count))
        return bytes.count == count ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// The unfolded value of the first header field `name` of a message text.
    func headerValue(_ name: String, in text: String) -> String? {
        let header = text.components(separatedBy: "\r\n\r\n").first ?? ""
        let unfolded = header.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: "\t")
        return unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    func textHTMLAndPDF() -> BuiltMessage {
        var builder = MessageBuilder(from: MailAddress(displayName: "Zoé Martin", localPart: "zoe", domain: "example.com"),
                                     date: Self.date, seed: "structure", counter: 1)
        builder.to = [MailAddress(displayName: "Bob", localPart: "bob", domain: "company.org")]
        builder.subject = "Facture de décembre"
        builder.textBody = "Bonjour Bob,\nLa facture est jointe.\n"
        builder.htmlBody = "<p>Bonjour Bob,</p>\n<p>La facture est jointe.</p>\n"
        builder.attachments = [Attachment(filename: "Facture café.pdf", mimeType: "application/pdf", data: Self.pdf)]
        return builder.build()
    }

    @Test func textHTMLAndPDFHasTheBodyStructureOfMixedAlternative() throws {
        let built = textHTMLAndPDF()
        let structure = IMAPStructure.analyze(rawMessage: built.bytes)
        let b = boundaries(built.bytes)
        try #require(b.count == 2)
        let section2 = try #require(IMAPMessageText.section(IMAPSection(part: [2]), raw: built.bytes, layout: structure.layout))
        // RFC 2231 parameters stay as written: the client decodes `utf-8''…` itself.
        let filename = "utf-8''Facture%20caf%C3%A9.pdf"
        let expected = "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 38 2 NIL NIL NIL NIL)"
            + "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 52 2 NIL NIL NIL NIL) "
            + "\"ALTERNATIVE\" (\"BOUNDARY\" \"\(b[1])\") NIL NIL NIL)"
            + "(\"APPLICATION\" \"PDF\" (\"NAME*\" \"\(filename)\") NIL NIL \"BASE64\" \(section2.count) NIL "
            + "(\"ATTACHMENT\" (\"FILENAME*\" \"\(filename)\")) NIL NIL) "
            + "\"MIXED\" (\"BOUNDARY\" \"\(b[0])\") NIL NIL NIL)"
        #expect(String(decoding: structure.body.encoded(extensible: true), as: UTF8.self) == expected)
        // BODY (non-extensible) leaves out parameters of multiparts, MD5, disposition, language, location.
        #expect(String(decoding: structure.body.encoded(extensible: false), as: UTF8.self)
            == "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 38 2)(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 52 2) \"ALTERNATIVE\")"
            + "(\"APPLICATION\" \"PDF\" (\"NAME*\" \"\(filename)\") NIL NIL \"BASE64\" \(section2.count)) \"MIXED\")")
    }

    @Test func bodySectionsOfTheBuiltMessageAreExact() throws {
        let built = textHTMLAndPDF()
        let raw = built.bytes
        let layout = IMAPStructure.analyze(rawMessage: raw).layout
        func section(_ part: [Int], _ text: IMAPSection.Text? = nil) -> String? {
            IMAPMessageText.section(IMAPSection(part: part, text: text), raw: raw, layout: layout).map { String(decoding: $0, as: UTF8.self) }
        }
        let b = boundaries(raw)
        // BODY[2]: the base64 lines of the PDF, from after its header to the CRLF that belongs to the closing delimiter.
        let pdfPart = try #require(section([2]))
        #expect(built.text.contains("base64\r\n\r\n" + pdfPart + "\r\n--\(b[0])--\r\n"))
        #expect(MailCore.Base64.decode(Array(pdfPart.replacingOccurrences(of: "\r\n", with: "").utf8)) == Self.pdf)
        #expect(section([2], .mime)?.hasPrefix("Content-Type: application/pdf; name*=utf-8''Facture%20caf%C3%A9.pdf\r\n") == true)
        #expect(section([2], .mime)?.hasSuffix("Content-Transfer-Encoding: base64\r\n\r\n") == true)
        #expect(section([1, 1]) == "Bonjour Bob,\r\nLa facture est jointe.\r\n")
        #expect(section([1, 2]) == "<p>Bonjour Bob,</p>\r\n<p>La facture est jointe.</p>\r\n")
        #expect(section([1, 2], .mime) == "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
        #expect(section([1])?.hasPrefix("This is a multi-part message in MIME format.\r\n\r\n--\(b[1])\r\n") == true)
        #expect(section([1])?.hasSuffix("--\(b[1])--\r\n") == true)
        #expect(section([], .text).map { built.text.hasSuffix($0) } == true)
        #expect(section([], .header).map { built.text.hasPrefix($0) && $0.contains("\r\nMIME-Version: 1.0\r\n") && $0.hasSuffix("\r\n\r\n") } == true)
        #expect(section([3]) == nil)
        #expect(section([1, 3]) == nil)
        #expect(section([2, 1]) == nil)
    }

    @Test func fetchOverTheWireServesBody2AndTheRawEnvelope() throws {
        let built = textHTMLAndPDF()
        let s = try session(with: built.bytes)
        let pdfPart = try #require(IMAPMessageText.section(IMAPSection(part: [2]), raw: built.bytes,
                                                           layout: IMAPStructure.analyze(rawMessage: built.bytes).layout))
        let reply = s.send("c FETCH 4 (BODY.PEEK[2])")
        #expect(reply == "* 4 FETCH (BODY[2] {\(pdfPart.count)}\r\n\(String(decoding: pdfPart, as: UTF8.self)))\r\nc OK FETCH completed\r\n")
        // Encoded words stay encoded in ENVELOPE (RFC 3501 §7.4.2); the display name is parsed out.
        let envelope = s.send("d FETCH 4 ENVELOPE")
        let subject = try #require(headerValue("Subject", in: built.text))
        let fromName = try #require(headerValue("From", in: built.text)?.components(separatedBy: " <").first)
        #expect(subject.lowercased().hasPrefix("=?utf-8?") && fromName.lowercased().hasPrefix("=?utf-8?"))
        #expect(envelope.contains("\"\(subject)\""))
        #expect(envelope.contains("((\"\(fromName)\" NIL \"zoe\" \"example.com\"))"))
        #expect(envelope.contains("((\"Bob\" NIL \"bob\" \"company.org\"))"))
        #expect(envelope.contains(" \"\(built.messageID)\")"))
    }

    @Test func forwardedMessageIsAMessageRFC822PartWithItsOwnEnvelopeAndSections() throws {
        var inner = MessageBuilder(from: MailAddress(displayName: "Alice", localPart: "alice", domain: "example.com"),
                                   date: Self.date, seed: "inner", counter: 7)
        inner.to = [MailAddress(localPart: "zoe", domain: "example.com")]
        inner.subject = "Réunion"
        inner.textBody = "Demain 10h.\n"
        let innerBytes = inner.build().bytes
        var outer = MessageBuilder(from: MailAddress(localPart: "zoe", domain: "example.com"), date: Self.date, seed: "outer", counter: 8)
        outer.to = [MailAddress(localPart: "bob", domain: "company.org")]
        outer.subject = "Fwd: Réunion"
        outer.textBody = "Pour info.\n"
        outer.attachedMessage = innerBytes
        let raw = outer.build().bytes
        let structure = IMAPStructure.analyze(rawMessage: raw)
        let innerText = String(decoding: innerBytes, as: UTF8.self)
        let innerHeaderEnd = try #require(innerText.range(of: "\r\n\r\n")).upperBound
        let innerHeader = String(innerText[..<innerHeaderEnd]), innerBody = String(innerText[innerHeaderEnd...])

        let s = try session(with: raw)
        func fetch(_ section: String) -> String? { literal(s.send("x FETCH 4 (BODY.PEEK[\(section)])")) }
        #expect(fetch("2") == innerText)
        #expect(fetch("2.MIME") == "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
        #expect(fetch("2.HEADER") == innerHeader)
        #expect(fetch("2.TEXT") == innerBody)
        #expect(fetch("2.1") == innerBody)
        #expect(fetch("1") == "Pour info.\r\n")

        guard case .multipart(let parts, let subtype, _, _, _, _) = structure.body, parts.count == 2,
              case .single(let forwarded) = parts[1], let message = forwarded.message else {
            Issue.record("unexpected structure \(structure.body)")
            return
        }
        #expect(subtype == "mixed")
        #expect(forwarded.type == "message" && forwarded.subtype == "rfc822")
        #expect(forwarded.size == innerBytes.count)
        #expect(forwarded.lines == innerText.components(separatedBy: "\r\n").count - 1)
        #expect(forwarded.disposition == IMAPDisposition(kind: "INLINE"))
        let innerSubject = try #require(headerValue("Subject", in: innerText))
        #expect(innerSubject.lowercased().hasPrefix("=?utf-8?"))
        #expect(message.envelope.subject == innerSubject)
        #expect(message.envelope.from == [IMAPAddress(name: "Alice", mailbox: "alice", host: "example.com")])
        #expect(message.envelope.to == [IMAPAddress(name: nil, mailbox: "zoe", host: "example.com")])
        #expect(message.body == .single(IMAPSinglePart(type: "text", subtype: "plain", parameters: [IMAPParameter("CHARSET", "us-ascii")],
                                                       encoding: "7BIT", size: 13, lines: 1)))
        let wire = String(decoding: structure.body.encoded(extensible: true), as: UTF8.self)
        #expect(wire.contains("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" \(innerBytes.count) (\"\(inner.date.rfc5322)\" \"\(innerSubject)\" "
            + "((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL \"alice\" \"example.com\")) "
            + "((NIL NIL \"zoe\" \"example.com\")) NIL NIL NIL \"\(inner.messageID)\") "
            + "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL) \(forwarded.lines ?? -1) NIL (\"INLINE\" NIL) NIL NIL)"))
    }

    @Test func languageLocationMD5AndDescriptionAreReported() {
        let raw = Array("""
        From: a@x.org\r
        Content-Type: multipart/related; boundary=R; type="text/html"\r
        Content-Language: fr\r
        \r
        --R\r
        Content-Type: text/html; charset=utf-8\r
        Content-ID: <page@x.org>\r
        Content-Description: la page\r
        Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r
        Content-Language: fr, en-GB\r
        Content-Location: http://x.org/page.html\r
        \r
        <p>Salut</p>\r
        --R--\r

        """.utf8)
        let body = IMAPStructure.analyze(rawMessage: raw).body
        #expect(String(decoding: body.encoded(extensible: true), as: UTF8.self)
            == "((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") \"<page@x.org>\" \"la page\" \"7BIT\" 12 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL "
            + "(\"fr\" \"en-GB\") \"http://x.org/page.html\") \"RELATED\" (\"BOUNDARY\" \"R\" \"TYPE\" \"text/html\") NIL \"fr\" NIL)")
    }

    @Test(arguments: [
        // Boundary parameter present but no delimiter line: plain text, as for a missing boundary (RFC 2046 §5.1.7).
        ("Content-Type: multipart/mixed; boundary=NOPE\r\n\r\nno parts here\r\n",
         "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 15 1 NIL NIL NIL NIL)"),
        ("Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
         "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)"),
        // A Content-Type without a subtype is invalid: the RFC 2045 §5.2 default applies.
        ("Content-Type: text\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nx=3D1\r\n",
         "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 7 1 NIL NIL NIL NIL)"),
        // No header at all, no final line break.
        ("\r\nbody", "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 4 1 NIL NIL NIL NIL)"),
        // Inside multipart/digest a part without Content-Type is message/rfc822 (RFC 2046 §5.1.5).
        ("Content-Type: multipart/digest; boundary=D\r\n\r\n--D\r\n\r\nSubject: s\r\n\r\nt\r\n--D--\r\n",
         "((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 15 (NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            + "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 1 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) \"DIGEST\" (\"BOUNDARY\" \"D\") NIL NIL NIL)"),
    ])
    func unusualStructures(message: String, expected: String) {
        let body = IMAPStructure.analyze(rawMessage: Array(message.utf8)).body
        #expect(String(decoding: body.encoded(extensible: true), as: UTF8.self) == expected)
    }

    /// Past MailMessage's nesting limit an encapsulated message is opaque: it is reported as
    /// application/octet-stream, never as a MESSAGE/RFC822 without its envelope.
    @Test func messagesNestedTooDeepEndAsOpaqueData() {
        var raw = Array("Subject: core\r\n\r\ncore\r\n".utf8)
        for level in 0..<40 {
            raw = Array("Subject: level \(level)\r\nContent-Type: message/rfc822\r\n\r\n".utf8) + raw
        }
        let structure = IMAPStructure.analyze(rawMessage: raw)
        var body = structure.body
        var depth = 0
        while case .single(let part) = body, let inner = part.message {
            #expect(part.type == "message" && part.subtype == "rfc822")
            body = inner.body
            depth += 1
        }
        #expect(depth > 20 && depth < 40)
        guard case .single(let last) = body else {
            Issue.record("expected a leaf")
            return
        }
        #expect(last.type == "application" && last.subtype == "octet-stream" && last.lines == nil)
        let wire = String(decoding: structure.body.encoded(extensible: true), as: UTF8.self)
        #expect(wire.contains("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" "))
        #expect(!wire.contains("\"Subject: core"))
    }

    @Test func envelopeAddressesKeepEncodedWordsCommentsRoutesAndGroups() {
        let raw = Array("""
        From: =?iso-8859-1?q?Ren=E9?= Dupont <rene@x.org>\r
        To: undisclosed-recipients:;\r
        Cc: "Doe, Jane" <jane@x.org>, bob@y.org (Bob B)\r
        Bcc: <@relay.net:c@w.org>\r
        Reply-To: team: a@z.org,\r
         b@z.org;\r
        Subject: =?utf-8?b?w6k=?=\r
        In-Reply-To: <p@x.org>\r
        \r
        x\r

        """.utf8)
        let e = IMAPStructure.analyze(rawMessage: raw).envelope
        #expect(e.from == [IMAPAddress(name: "=?iso-8859-1?q?Ren=E9?= Dupont", mailbox: "rene", host: "x.org")])
        #expect(e.to == [IMAPAddress(name: nil, mailbox: "undisclosed-recipients", host: nil), IMAPAddress(name: nil, mailbox: nil, host: nil)])
        #expect(e.cc == [IMAPAddress(name: "Doe, Jane", mailbox: "jane", host: "x.org"), IMAPAddress(name: "Bob B", mailbox: "bob", host: "y.org")])
        #expect(e.bcc == [IMAPAddress(name: nil, adl: "@relay.net", mailbox: "c", host: "w.org")])
        #expect(e.replyTo.map(\.mailbox) == ["team", "a", "b", nil])
        #expect(e.subject == "=?utf-8?b?w6k=?=")
        #expect(e.inReplyTo == "<p@x.org>")
        #expect(e.sender.isEmpty && e.date == nil && e.messageID == nil)
    }
}
