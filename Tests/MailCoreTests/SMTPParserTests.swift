import Testing
@testable import MailCore

@Suite struct SMTPParserTests {
    static let mailbox = SMTPMailbox(localPart: "alice", domain: "example.com")

    @Test(arguments: [
        ("EHLO client.example.com", SMTPCommand.ehlo("client.example.com")),
        ("helo [192.0.2.1]", .helo("[192.0.2.1]")),
        ("MAIL FROM:<alice@example.com>", .mail(SMTPPath(mailbox: mailbox), SMTPMailParameters())),
        ("mail from:<> SIZE=100 BODY=8bitmime", .mail(.null, SMTPMailParameters(size: 100, body: .eightBitMIME))),
        ("MAIL FROM: <alice@example.com> BODY=7BIT RET=HDRS ENVID=QQ314159 AUTH=<>",
         .mail(SMTPPath(mailbox: mailbox), SMTPMailParameters(body: .sevenBit, auth: "<>", ret: "HDRS", envelopeID: "QQ314159"))),
        ("RCPT TO:<alice@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;alice@example.com",
         .rcpt(SMTPPath(mailbox: mailbox), SMTPRecipientParameters(notify: [.success, .delay], originalRecipient: "rfc822;alice@example.com"))),
        ("RCPT TO:<postmaster>", .rcpt(SMTPPath(mailbox: SMTPMailbox(localPart: "postmaster", domain: "")), SMTPRecipientParameters())),
        ("RCPT TO:<\"john doe\"@example.com>", .rcpt(SMTPPath(mailbox: SMTPMailbox(localPart: "john doe", domain: "example.com", localPartWasQuoted: true)), SMTPRecipientParameters())),
        ("RCPT TO:<@a.test,@b.test:u@c.test>", .rcpt(SMTPPath(mailbox: SMTPMailbox(localPart: "u", domain: "c.test"), sourceRoute: ["a.test", "b.test"]), SMTPRecipientParameters())),
        ("DATA", .data), ("rset", .rset), ("NOOP hello", .noop), ("QUIT", .quit), ("VRFY bob", .vrfy("bob")),
        ("ETRN @example.com", .etrn("@example.com")), ("StartTLS", .starttls),
        ("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=", .auth(mechanism: "PLAIN", initialResponse: bytes("AGFsaWNlAG15cGFzc3dvcmQ="))),
        ("auth login", .auth(mechanism: "LOGIN", initialResponse: nil)),
    ])
    func parses(line: String, command: SMTPCommand) {
        #expect(SMTPCommandParser.parse(bytes(line)[...]) == .success(command))
    }

    @Test(arguments: [
        ("", SMTPCommandError.badSyntax),
        ("FOO bar", .unknownCommand),
        ("STARTTLSX", .unknownCommand),
        ("EHLO", .syntax("EHLO")),
        ("HELO   ", .syntax("HELO")),
        ("MAIL TO:<a@b.c>", .syntax("MAIL")),
        ("MAIL FROM:<a@b.c> SIZE=", .syntax("MAIL")),
        ("MAIL FROM:<a@b.c> BODY=9BIT", .badParameter("BODY")),
        ("MAIL FROM:<a@@b.c>", .badSenderAddress),
        ("MAIL FROM:<a@-b.c>", .badSenderAddress),
        ("MAIL FROM:<\(String(repeating: "l", count: 65))@b.c>", .senderPathTooLong),
        ("RCPT TO:<>", .badRecipientAddress),
        ("RCPT TO:<a@b.c> ORCPT=rfc822", .badParameter("ORCPT")),
        ("DATA now", .syntax("DATA")),
        ("VRFY", .syntax("VRFY")),
        ("TURN", .notImplemented),
    ])
    func refuses(line: String, error: SMTPCommandError) {
        #expect(SMTPCommandParser.parse(bytes(line)[...]) == .failure(error))
    }

    @Test(arguments: [
        SMTPCommand.ehlo("c.test"), .helo("c.test"), .data, .rset, .noop, .quit, .starttls, .vrfy("bob"), .etrn("example.com"),
        .mail(.null, SMTPMailParameters(size: 12, body: .eightBitMIME)),
        .mail(SMTPPath(mailbox: mailbox), SMTPMailParameters(ret: "FULL", envelopeID: "X1")),
        .rcpt(SMTPPath(mailbox: SMTPMailbox(localPart: "a b", domain: "x.test", localPartWasQuoted: true)), SMTPRecipientParameters(notify: [.never])),
        .rcpt(SMTPPath(mailbox: mailbox, sourceRoute: ["r.test"]), SMTPRecipientParameters()),
        .auth(mechanism: "PLAIN", initialResponse: bytes("=")),
    ])
    func encodeThenParseRoundTrips(command: SMTPCommand) {
        let encoded = command.encoded
        #expect(encoded.suffix(2) == [13, 10])
        #expect(SMTPCommandParser.parse(encoded.dropLast(2)) == .success(command))
    }

    @Test func pathLimits() {
        let domain = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "." + String(repeating: "d", count: 58)
        #expect(domain.utf8.count == 250)
        if case .failure = SMTPPathParser.parse(bytes("<x@\(domain)>")[...], allowNull: false, allowPostmaster: false) {
            Issue.record("250-octet domain refused")
        }
        let local64 = String(repeating: "l", count: 64)
        #expect(SMTPPathParser.parse(bytes("<\(local64)@b.test>")[...], allowNull: false, allowPostmaster: false).map(\.mailbox?.localPart) == .success(local64))
        let tooLong = "<" + String(repeating: "l", count: 60) + "@" + domain + ">"
        #expect(tooLong.utf8.count > 256)
        #expect(SMTPPathParser.parse(bytes(tooLong)[...], allowNull: false, allowPostmaster: false) == .failure(.tooLong))
    }

    @Test func mailboxDescriptionQuotesWhenNeeded() {
        #expect(SMTPMailbox(localPart: "x@ext", domain: "local", localPartWasQuoted: true).description == "\"x@ext\"@local")
        #expect(SMTPMailbox("bob@company.org")?.description == "bob@company.org")
        #expect(SMTPMailbox("not an address") == nil)
    }
}

@Suite struct SMTPReplyTests {
    @Test(arguments: [
        (SMTPReply(code: 250, "2.1.0", "Ok"), "250 2.1.0 Ok\r\n"),
        (SMTPReply(code: 354, nil, "End data with <CR><LF>.<CR><LF>"), "354 End data with <CR><LF>.<CR><LF>\r\n"),
        (SMTPReply(code: 250, lines: ["mail.example.com", "PIPELINING", "DSN"]), "250-mail.example.com\r\n250-PIPELINING\r\n250 DSN\r\n"),
        (SMTPReply(code: 550, enhancedCode: EnhancedStatusCode(5, 1, 1), lines: ["line one", "line two"]), "550-5.1.1 line one\r\n550 5.1.1 line two\r\n"),
        (SMTPReply(code: 334, nil, ""), "334 \r\n"),
    ])
    func encodesAndParses(reply: SMTPReply, wire: String) {
        #expect(String(decoding: reply.encoded, as: UTF8.self) == wire)
        var parser = SMTPReplyParser()
        parser.append(bytes(wire))
        #expect((try? parser.next()) == reply)
        // Byte by byte.
        var slow = SMTPReplyParser()
        var parsed: SMTPReply?
        for byte in bytes(wire) {
            slow.append([byte])
            if let reply = try? slow.next() { parsed = reply }
        }
        #expect(parsed == reply)
    }

    @Test func textCannotBreakFraming() {
        let reply = SMTPReply(code: 550, "5.1.1", "<a>: bad\r\n250 fake")
        #expect(String(decoding: reply.encoded, as: UTF8.self) == "550 5.1.1 <a>: bad  250 fake\r\n")
    }

    @Test(arguments: ["25 short\r\n", "abc x\r\n", "250-a\r\n251 b\r\n", "250x\r\n"])
    func parserRefusesMalformed(wire: String) {
        var parser = SMTPReplyParser()
        parser.append(bytes(wire))
        #expect(throws: SMTPReplyParser.Error.self) { _ = try parser.next() }
    }

    @Test(arguments: ["2.0.0", "5.1.1", "4.7.0", "5.5.2"])
    func enhancedCodes(text: String) {
        #expect(EnhancedStatusCode(text)?.description == text)
    }

    @Test(arguments: ["3.0.0", "5.1", "5.1.1.1", "5.1000.1", "a.b.c", "5..1"])
    func invalidEnhancedCodes(text: String) {
        #expect(EnhancedStatusCode(text) == nil)
    }
}

@Suite struct SMTPServerFeedingTests {
    /// The same session fed whole and one byte at a time gives the same replies.
    @Test func byteByByteSameAsWhole() {
        let session = "EHLO c.test\r\nMAIL FROM:<a@b.test> SIZE=40\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\n"
            + "Subject: hi\r\n\r\n..dot\r\nline\r\n.\r\nFOO\r\n" + String(repeating: "z", count: 2000) + "\r\nVRFY bob\r\nAUTH PLAIN\r\nAGJvYgBzZWNyZXQxMjM=\r\nQUIT\r\n"
        let (whole, wholeServer) = exchange(session)
        var server = makeServer()
        _ = server.start(now: .zero)
        var single = Collected()
        for byte in bytes(session) { single.add(server.receive([byte], now: .seconds(1))) }
        #expect(single == whole)
        #expect(whole.closed)
        #expect(whole.lines.contains("250 2.0.0 Ok: queued as 3F4A51234"))
        #expect(server.policy.queued.map(\.data) == wholeServer.policy.queued.map(\.data))
        #expect(server.policy.queued.first?.data == bytes("Subject: hi\r\n\r\n.dot\r\nline\r\n"))
    }
}

@Suite struct EHLOCapabilityTests {
    /// The EHLO reply is read in place as bytes: keywords in any case, `AUTH=` of old clients,
    /// repeated and lower-case mechanisms, SIZE with and without a number, unknown extensions.
    @Test func readsEveryKnownExtension() {
        let reply = SMTPReply(code: 250, lines: [
            "mail.example.com", "pipelining", "SIZE 10240000", "Vrfy", "ETRN", "auth plain LOGIN  cram-md5",
            "AUTH=LOGIN PLAIN", "StartTLS", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN", "X-UNKNOWN 1 2", "CHUNKING",
        ])
        let capabilities = SMTPServerCapabilities(ehloReply: reply)
        #expect(capabilities.esmtp)
        #expect(capabilities.extensions == [.pipelining, .size, .vrfy, .etrn, .auth, .starttls, .eightBitMIME,
                                            .enhancedStatusCodes, .dsn])
        #expect(capabilities.sizeLimit == 10_240_000)
        #expect(capabilities.authMechanisms == ["PLAIN", "LOGIN", "CRAM-MD5"])
        #expect(capabilities.has("chunking") && capabilities.has("X-UNKNOWN") && !capabilities.has("SMTPUTF8"))
        #expect(capabilities.lines.first == "pipelining")
    }

    @Test func keywordsThatOnlyLookLikeKnownOnes() {
        let reply = SMTPReply(code: 250, lines: ["mx", "SIZE", "AUTHX PLAIN", "STARTTLSX", "PIPELININ", "DSNX", "8BITMIMEX"])
        let capabilities = SMTPServerCapabilities(ehloReply: reply)
        #expect(capabilities.extensions == [.size])
        #expect(capabilities.sizeLimit == nil)
        #expect(capabilities.authMechanisms.isEmpty)
        // Only the server's name: no extension at all.
        #expect(SMTPServerCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx.example.org"])).extensions.isEmpty)
    }
}

/// A mailbox's text is made once, when the mailbox is; an address parsed on its quick path
/// (`dot-string@domain`) is the same mailbox as the full path parser gives.
@Suite struct SMTPMailboxTextTests {
    static let addresses = [
        "alice@example.com", "Bob.Smith@Company.ORG", "a@b", "x+tag@sub.example.com", "user@[192.0.2.1]",
        "user@[IPv6:2001:db8::1]", "\"john doe\"@example.com", "\"a\\\"b\"@x.test", ".dot@x.test", "dot.@x.test",
        "a..b@x.test", "a@b@c.test", "@x.test", "user@", "user@-bad.test", "user@bad-.test", "user@x..test",
        "postmaster", "Postmaster", "no-at-sign", "", "ü@x.test", "a@ü.test", "a b@x.test",
        String(repeating: "l", count: 64) + "@x.test", String(repeating: "l", count: 65) + "@x.test",
        "a@" + String(repeating: "d", count: 60) + ".test", "a@" + [String](repeating: "label", count: 60).joined(separator: "."),
    ]

    @Test func quickPathAgreesWithTheParser() {
        for address in Self.addresses {
            let bytes = Array("<\(address)>".utf8)
            let parsed: SMTPMailbox?
            if case .success(let path) = SMTPPathParser.parse(bytes[...], allowNull: false, allowPostmaster: false) {
                parsed = path.mailbox
            } else {
                parsed = nil
            }
            let quick = SMTPMailbox(address)
            #expect(quick == parsed, "\(address)")
            #expect(quick?.description == parsed?.description, "\(address)")
            #expect(quick?.localPartWasQuoted == parsed?.localPartWasQuoted, "\(address)")
        }
    }

    @Test func textIsTheAddressQuotedWhereNeeded() {
        #expect(SMTPMailbox(localPart: "alice", domain: "example.com").description == "alice@example.com")
        #expect(SMTPMailbox(localPart: "john doe", domain: "x.test", localPartWasQuoted: true).description == "\"john doe\"@x.test")
        #expect(SMTPMailbox(localPart: "a\"b", domain: "x.test").description == "\"a\\\"b\"@x.test")
        #expect(SMTPMailbox(localPart: "postmaster", domain: "").description == "postmaster")
        // The parser keeps the text as it came for an unquoted local part.
        let path = SMTPPathParser.parse(Array("<Alice@Example.COM>".utf8)[...], allowNull: false, allowPostmaster: false)
        guard case .success(let parsed) = path else { Issue.record("not parsed"); return }
        #expect(parsed.mailbox?.description == "Alice@Example.COM")
        var bytes: [UInt8] = []
        parsed.encode(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "<Alice@Example.COM>")
        // Equal mailboxes hash alike whatever made them.
        let made = SMTPMailbox(localPart: "Alice", domain: "Example.COM")
        #expect(made == parsed.mailbox)
        #expect(Set([made, parsed.mailbox!]).count == 1)
    }
}
