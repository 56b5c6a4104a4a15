import Testing
@testable import MailMessage

/// Messages written with readable line breaks; `crlf` turns "\n" into CR LF.
func crlf(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

func slice(_ message: Message, _ range: Range<Int>) -> String {
    String(decoding: message.bytes(range), as: UTF8.self)
}

@Suite struct MessageParseTests {
    static let nested = """
    From: Alice <alice@example.com>
    To: Bob <bob@company.org>
    Subject: =?UTF-8?Q?R=C3=A9union?= de
     lundi
    Date: Mon, 2 Nov 2026 09:00:00 +0100
    Message-ID: <m1@example.com>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    preamble
    --outer
    Content-Type: multipart/alternative; boundary=inner

    --inner
    Content-Type: text/plain; charset=iso-8859-1
    Content-Transfer-Encoding: quoted-printable

    Caf=E9 =E0 10h
    --inner
    Content-Type: text/html; charset=utf-8

    <p>Café</p>
    --inner--
    --outer
    Content-Type: application/pdf; name="ordre.pdf"
    Content-Disposition: attachment; filename*=utf-8''ordre%20du%20jour%20%C3%A9t%C3%A9.pdf
    Content-Transfer-Encoding: base64
    Content-Description: Agenda
    Content-Language: fr

    JVBERi0xLjQK
    --outer
    Content-Type: message/rfc822

    From: carol@x.org
    Subject: inner

    Inner body
    --outer--
    epilogue
    """

    @Test func nestedMultipartStructureAndNumbers() {
        let message = Message(parsing: crlf(Self.nested))
        #expect(message.defects.isEmpty)
        #expect(message.subject == "Réunion de lundi")
        #expect(message.root.allParts.map(\.partNumber) == ["", "1", "1.1", "1.2", "2", "3", "3.1"])
        #expect(message.part(number: "1")?.subtype == "alternative")
        #expect(message.part(number: "1.1")?.contentType.parameter("charset") == "iso-8859-1")
        #expect(message.part(number: "1.1").map { message.text(of: $0) } == "Café à 10h")
        #expect(message.plainText == "Café à 10h")
        #expect(message.htmlText == "<p>Café</p>")
        let pdf = message.part(number: "2")
        #expect(pdf?.filename == "ordre du jour été.pdf")
        #expect(pdf?.contentDescription == "Agenda")
        #expect(pdf?.language == ["fr"])
        #expect(pdf?.transferEncoding == .base64)
        #expect(pdf.map { message.decodedBody(of: $0) } == Array("%PDF-1.4\n".utf8))
        #expect(message.attachments.count == 1)
        // message/rfc822: BODY[3] is the whole encapsulated message, 3.1 its body.
        let rfc822 = message.part(number: "3")
        #expect(rfc822.map { slice(message, $0.bodyRange) } == "From: carol@x.org\r\nSubject: inner\r\n\r\nInner body")
        #expect(rfc822?.lines == 4)
        if case .message(let inner)? = rfc822?.body {
            #expect(slice(message, inner.headerRange) == "From: carol@x.org\r\nSubject: inner\r\n\r\n")
        } else {
            Issue.record("part 3 is not message/rfc822")
        }
        #expect(message.part(number: "3.1").map { slice(message, $0.bodyRange) } == "Inner body")
        #expect(message.part(number: "4") == nil)
        #expect(message.part(number: "2.1") == nil)
        #expect(message.part(number: "x") == nil)
    }

    @Test func byteRangesServeImapSections() {
        let message = Message(parsing: crlf(Self.nested))
        #expect(slice(message, message.root.headerRange).hasSuffix("boundary=\"outer\"\r\n\r\n"))
        #expect(slice(message, message.root.headerRange).hasPrefix("From: Alice"))
        let plain = message.part(number: "1.1")!
        #expect(slice(message, plain.headerRange) == "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
        #expect(slice(message, plain.bodyRange) == "Caf=E9 =E0 10h")
        #expect(plain.size == 14)
        #expect(plain.lines == 1)
        #expect(message.headerBytes.count + message.textBytes.count == message.raw.count)
    }

    @Test func envelopeFields() {
        let message = Message(parsing: crlf(Self.nested))
        let envelope = message.envelope
        #expect(envelope.subject == "=?UTF-8?Q?R=C3=A9union?= de lundi")
        #expect(envelope.from == "Alice <alice@example.com>")
        #expect(envelope.sender == nil)
        #expect(envelope.senderOrFrom == "Alice <alice@example.com>")
        #expect(envelope.messageID == "<m1@example.com>")
        #expect(envelope.date == "Mon, 2 Nov 2026 09:00:00 +0100")
        #expect(Envelope.addresses(envelope.to) == [.mailbox(MailAddress(displayName: "Bob", localPart: "bob", domain: "company.org"))])
    }

    @Test func singlePartMessageBodyIsSectionOne() {
        let message = Message(parsing: crlf("Subject: hi\n\nline one\nline two\n"))
        #expect(message.part(number: "1")?.bodyRange == message.root.bodyRange)
        #expect(message.root.lines == 2)
        #expect(message.root.contentType.mimeType == "text/plain")
        #expect(message.root.contentType.parameter("charset") == "us-ascii")
        #expect(message.part(number: "2") == nil)
    }

    /// Tricky inputs: the parse never fails, and the defect is recorded.
    @Test(arguments: [
        ("bare LF", "Subject: x\n\nbody\n", MessageDefect.bareLineFeed),
        ("no colon", "Subject: x\r\nthis line has none\r\n\r\nbody\r\n", .headerWithoutColon("this line has none")),
        ("missing closing boundary",
         "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n", .missingClosingBoundary(part: "root")),
        ("no boundary parameter", "Content-Type: multipart/mixed\r\n\r\nbody\r\n", .missingBoundaryParameter(part: "root")),
        ("boundary never used", "Content-Type: multipart/mixed; boundary=zz\r\n\r\nbody\r\n", .boundaryNotFound(part: "root")),
        ("broken base64", "Content-Transfer-Encoding: base64\r\n\r\nZm9v!!YmFy\r\n", .invalidBase64(part: "root")),
        ("broken quoted-printable", "Content-Transfer-Encoding: quoted-printable\r\n\r\n50=ZZ\r\n", .invalidQuotedPrintable(part: "root")),
        ("unknown charset", "Content-Type: text/plain; charset=x-martian\r\n\r\nbody\r\n", .unknownCharset(part: "root", "x-martian")),
        ("bad UTF-8", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\u{00E9}\r\n", .invalidCharsetData(part: "root")),
        ("unknown encoding", "Content-Transfer-Encoding: x-uuencode\r\n\r\nbody\r\n", .unknownTransferEncoding(part: "root", "x-uuencode")),
        ("header only", "Subject: no body", .missingHeaderBodySeparator),
        ("continuation first", " folded\r\nSubject: x\r\n\r\nb", .continuationWithoutField),
        ("bad encoded word", "Subject: =?UTF-8?B?###?=\r\n\r\nb", .invalidEncodedWord(header: "Subject")),
    ])
    func trickyInputRecordsDefect(name: String, input: String, defect: MessageDefect) {
        var bytes = Array(input.utf8)
        if name == "bad UTF-8" { bytes = bytes.map { $0 == 0xC3 ? 0xE9 : $0 }.filter { $0 != 0xA9 } }
        let message = Message(parsing: bytes)
        #expect(message.defects.contains(defect), "\(name): \(message.defects)")
    }

    @Test func missingClosingBoundaryKeepsEveryPart() {
        let message = Message(parsing: crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n"))
        #expect(message.root.children.count == 2)
        #expect(message.part(number: "2").map { slice(message, $0.bodyRange) } == "two\r\n")
    }

    @Test func bareLineFeedMessageStillParsesStructure() {
        let text = "Subject: lf\nContent-Type: multipart/alternative; boundary=q\n\n--q\nContent-Type: text/plain\n\nhello\n--q--\n"
        let message = Message(parsing: Array(text.utf8))
        #expect(message.subject == "lf")
        #expect(message.part(number: "1").map { slice(message, $0.bodyRange) } == "hello")
        #expect(message.defects == [.bareLineFeed])
    }

    @Test func deepNestingIsBounded() {
        var text = ""
        for depth in 0..<40 { text += "Content-Type: multipart/mixed; boundary=b\(depth)\r\n\r\n--b\(depth)\r\n" }
        text += "\r\nleaf\r\n"
        let message = Message(parsing: Array(text.utf8))
        #expect(message.defects.contains { if case .nestingTooDeep = $0 { return true } else { return false } })
    }

    @Test(arguments: 0..<64)
    func garbageNeverCrashes(seed: Int) {
        // A tiny seeded generator: the seed is the test argument, printed by Swift Testing on failure.
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var bytes: [UInt8] = []
        let alphabet = Array("ab:-=?\r\n \t\"<>@;B64Q=".utf8) + [0xFF, 0xC3, 0x00]
        for _ in 0..<400 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(alphabet[Int(state >> 33) % alphabet.count])
        }
        let prefix = Array("Content-Type: multipart/mixed; boundary=-\r\n\r\n".utf8)
        let message = Message(parsing: prefix + bytes)
        for part in message.root.allParts {
            #expect(part.bodyRange.upperBound <= message.raw.count)
            #expect(part.headerRange.lowerBound >= 0)
        }
    }

    @Test func rfc2231ContinuationsAndCharsets() {
        let value = "attachment; filename*0*=iso-8859-1'fr'r%E9sum; filename*1=\"e final\"; filename*2*=%2Epdf; size=12"
        let parsed = MIMEHeaderValue.parse(value, hasSubtype: false)
        #expect(parsed?.type == "attachment")
        #expect(parsed?.parameter("filename") == "résume final.pdf")
        #expect(parsed?.parameter("SIZE") == "12")
        #expect(parsed?.rawParameters.count == 4)
    }

    @Test func foldedHeadersUnfold() {
        let message = Message(parsing: crlf("To: a@b.c,\n\td@e.f\nX-Long: one\n  two\n\nb"))
        #expect(message.headers["to"] == "a@b.c,\td@e.f")
        #expect(message.to.map(\.address) == ["a@b.c", "d@e.f"])
        #expect(message.headers["X-LONG"] == "one  two")
    }
}
