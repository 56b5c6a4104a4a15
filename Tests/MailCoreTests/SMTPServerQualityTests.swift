import Testing
@testable import MailCore

/// QUALITY.md, SMTP items 1 to 8: bad input the server engine must survive.
@Suite struct SMTPServerQualityTests {
    static let ehloReply = """
    S: 250-mail.example.com
    S: 250-PIPELINING
    S: 250-SIZE 10240000
    S: 250-VRFY
    S: 250-ETRN
    S: 250-STARTTLS
    S: 250-AUTH PLAIN LOGIN
    S: 250-ENHANCEDSTATUSCODES
    S: 250-8BITMIME
    S: 250 DSN
    """

    /// Submission before STARTTLS: no AUTH line (Postfix `smtpd_tls_auth_only = yes`).
    static let ehloReplyBeforeTLS = ehloReply.replacingOccurrences(of: "S: 250-AUTH PLAIN LOGIN\n", with: "")

    // 1. Sequence errors.
    @Test func item1SequenceErrors() {
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: MAIL FROM:<alice@example.com>
        S: 503 5.5.1 Error: send HELO/EHLO first
        C: HELO client.test
        S: 250 mail.example.com
        C: RCPT TO:<bob@example.com>
        S: 503 5.5.1 Error: need MAIL command
        C: DATA
        S: 503 5.5.1 Error: need MAIL command
        C: MAIL FROM:<alice@example.com>
        S: 250 2.1.0 Ok
        C: MAIL FROM:<alice@example.com>
        S: 503 5.5.1 Error: nested MAIL command
        C: DATA
        S: 503 5.5.1 Error: need RCPT command
        C: RCPT TO:<bob@elsewhere.test>
        S: 554 5.7.1 <bob@elsewhere.test>: Relay access denied
        C: DATA
        S: 554 5.5.1 Error: no valid recipients
        C: QUIT
        S: 221 2.0.0 Bye
        """)
    }

    // 2. Over-long command lines, and 20 KB without CRLF.
    @Test func item2CommandLineTooLong() {
        let long = "NOOP " + String(repeating: "x", count: 1100)
        let (collected, _) = exchange("EHLO c.test\r\n" + long + "\r\nNOOP\r\n")
        #expect(collected.lines.suffix(2) == ["500 5.5.2 Error: line too long", "250 2.0.0 Ok"])
    }

    @Test func item2TwentyKilobytesWithoutCRLFAnsweredOnce() {
        var server = makeServer()
        _ = server.start(now: .zero)
        var collected = Collected()
        let chunk = [UInt8](repeating: UInt8(ascii: "A"), count: 1000)
        for index in 0..<20 {
            collected.add(server.receive(chunk, now: .seconds(Int64(index))))
        }
        #expect(collected.text.isEmpty)
        #expect(server.framer.bufferedCount <= 12_290)  // never buffered without a limit
        collected.add(server.receive(bytes("\r\nEHLO c.test\r\nNOOP\r\n"), now: .seconds(30)))
        #expect(collected.lines.first == "500 5.5.2 Error: line too long")
        #expect(collected.lines.filter { $0.hasPrefix("500") }.count == 1)
        #expect(collected.lines.last == "250 2.0.0 Ok")
        #expect(!server.isClosed)
    }

    @Test func item2DataLineOver1000RefusedAfterTheEnd() {
        let longLine = String(repeating: "y", count: 1200)
        let (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
                                           + "Subject: x\r\n\r\n" + longLine + "\r\nmore\r\n.\r\nNOOP\r\n")
        #expect(collected.lines.suffix(3) == ["354 End data with <CR><LF>.<CR><LF>", "500 5.5.2 Error: message line too long", "250 2.0.0 Ok"])
        #expect(server.policy.queued.isEmpty)
    }

    @Test func dataLineOf998IsAccepted() {
        let line = String(repeating: "y", count: 998)
        let (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + line + "\r\n.\r\n")
        #expect(collected.lines.last == "250 2.0.0 Ok: queued as 3F4A51234")
        #expect(server.policy.queued.first?.data.count == 1000)
    }

    // 3. Empty line, NUL, 8-bit; unknown commands; too many RCPT; SIZE.
    @Test(arguments: ["", "NO\u{0}OP", "NOOP \u{e9}t\u{e9}", "HELO a\rb", "\u{1}"])
    func item3BadBytesIn500(line: String) {
        let (collected, server) = exchange(line + "\r\nNOOP\r\n")
        #expect(collected.lines == ["500 5.5.2 Error: bad syntax", "250 2.0.0 Ok"])
        #expect(server.session.heloName == nil)
    }

    @Test func item3FiveUnknownCommandsThenClose() {
        let (collected, server) = exchange("FOO\r\nBAR\r\nBAZ\r\nQUUX\r\nXYZZY\r\nNOOP\r\n")
        #expect(collected.lines == Array(repeating: "502 5.5.2 Error: command not recognized", count: 5)
                + ["421 4.7.0 mail.example.com Error: too many errors"])
        #expect(collected.closed)
        #expect(server.isClosed)
    }

    @Test func item3TooManyRecipients() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.maxRecipients = 100
        var input = "EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n"
        // Distinct recipients: a repeated one is accepted but not counted again (one copy each).
        for index in 0..<101 { input += "RCPT TO:<user\(index)@example.com>\r\n" }
        var policy = SMTPTestPolicy()
        policy.localMailboxes = Set((0..<101).map { "user\($0)" })
        let (collected, server) = exchange(input, server: makeServer(configuration, policy: policy))
        #expect(collected.lines.filter { $0 == "250 2.1.5 Ok" }.count == 100)
        #expect(collected.lines.last == "452 4.5.3 Error: too many recipients")
        #expect(server.currentEnvelope?.recipients.count == 100)
    }

    @Test func item3SizeAtMail() {
        let (collected, _) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test> SIZE=20000000\r\nMAIL FROM:<a@b.test> SIZE=abc\r\n")
        #expect(collected.lines.suffix(2) == ["552 5.3.4 Message size exceeds fixed limit", "501 5.5.4 Bad SIZE parameter syntax"])
    }

    @Test func item3SizeAtEndOfData() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.maxMessageSize = 100
        let body = String(repeating: "0123456789\r\n", count: 20)
        let (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + body + ".\r\nNOOP\r\n",
                                           server: makeServer(configuration))
        #expect(collected.lines.suffix(2) == ["552 5.3.4 Error: message file too big", "250 2.0.0 Ok"])
        #expect(server.policy.queued.isEmpty)
        // The message and its transaction are gone with the DATA state (they live only inside it).
        #expect(server.transaction == nil)
    }

    // 4. SMTP smuggling.
    @Test(arguments: ["\n.\r\n", "\n.\n", "\r.\r", "\r\n\u{0}.\r\n"])
    func item4SmugglingNeverEndsData(separator: String) {
        let smuggled = "Subject: one\r\n\r\nfirst" + separator + "MAIL FROM:<evil@spoof.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nSubject: two\r\n"
        for handling in [SMTPBareLineEndingHandling.normalize, .reject] {
            var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
            configuration.bareLineEndings = handling
            let (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + smuggled + "\r\n.\r\n",
                                               server: makeServer(configuration))
            // One reply for the whole message: nothing was taken as commands.
            let afterData = collected.lines.drop(while: { !$0.hasPrefix("354") }).dropFirst()
            #expect(afterData.count == 1, "\(handling): \(afterData)")
            if separator.contains("\u{0}") || handling == .normalize {
                #expect(afterData.first == "250 2.0.0 Ok: queued as 3F4A51234")
                #expect(server.policy.queued.count == 1)
                let data = server.policy.queued.first?.data ?? []
                #expect(String(decoding: data, as: UTF8.self).contains("MAIL FROM:<evil@spoof.test>"))
            } else {
                #expect(afterData.first == "554 5.6.0 Error: bare <CR> or <LF> received in message data")
                #expect(server.policy.queued.isEmpty)
            }
        }
    }

    // 5. STARTTLS buffer injection.
    @Test func item5StartTLSInjectionDiscarded() {
        var server = makeServer()
        _ = server.start(now: .zero)
        var collected = Collected()
        collected.add(server.receive(bytes("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n"), now: .seconds(1)))
        collected = Collected()
        collected.add(server.receive(bytes("RSET\r\nSTARTTLS\r\nNOOP\r\n"), now: .seconds(2)))
        #expect(collected.lines == ["250 2.0.0 Ok", "220 2.0.0 Ready to start TLS"])
        #expect(collected.startTLS)
        // Bytes arriving before the handshake completes are dropped too.
        collected = Collected()
        collected.add(server.receive(bytes("NOOP\r\n"), now: .seconds(3)))
        #expect(collected.text.isEmpty)
        collected.add(server.tlsEstablished(now: .seconds(4)))
        #expect(collected.text.isEmpty)
        collected.add(server.receive(bytes("MAIL FROM:<a@b.test>\r\nEHLO c.test\r\nSTARTTLS\r\n"), now: .seconds(5)))
        let lines = collected.lines
        #expect(lines.first == "503 5.5.1 Error: send HELO/EHLO first")
        #expect(!lines.contains("250-STARTTLS"))
        #expect(lines.last == "554 5.5.1 Error: TLS already active")
        #expect(server.session.tlsActive)
        #expect(server.currentEnvelope == nil)
    }

    // 6. AUTH errors.
    @Test func item6AuthBeforeTLSWhenRequired() {
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: EHLO c.test
        \(Self.ehloReplyBeforeTLS)
        C: AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=
        S: 530 5.7.0 Must issue a STARTTLS command first
        C: MAIL FROM:<alice@example.com>
        S: 530 5.7.0 Must issue a STARTTLS command first
        """, server: makeServer(.submission(hostname: "mail.example.com")))
    }

    @Test func item6AuthErrors() {
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: EHLO c.test
        \(Self.ehloReply)
        C: AUTH PLAIN not_base64!
        S: 501 5.5.2 Invalid base64 data in initial response
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxp@2U=
        S: 501 5.5.2 Invalid base64 data in continued response
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: *
        S: 501 5.7.0 Authentication aborted
        C: AUTH GSSAPI
        S: 504 5.5.4 Unrecognized authentication type
        C: AUTH PLAIN AGFsaWNlAHdyb25n
        S: 535 5.7.8 Error: authentication failed
        C: AUTH PLAIN
        S: 334 
        C: AGFsaWNlAG15cGFzc3dvcmQ=
        S: 235 2.7.0 Authentication successful
        C: AUTH LOGIN
        S: 503 5.5.1 Error: already authenticated
        C: MAIL FROM:<alice@example.com>
        S: 250 2.1.0 Ok
        C: RCPT TO:<x@elsewhere.test>
        S: 250 2.1.5 Ok
        """)
    }

    @Test func authDuringTransactionAndCramMD5() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.mechanisms = [.cramMD5, .plain, .login, .xoauth2]
        var server = makeServer(configuration)
        _ = server.start(now: .zero)
        var collected = Collected()
        collected.add(server.receive(bytes("EHLO c\r\nMAIL FROM:<>\r\nAUTH PLAIN\r\nRSET\r\nAUTH CRAM-MD5\r\n"), now: .seconds(1_700_000_000)))
        let lines = collected.lines
        #expect(lines.contains("250-AUTH CRAM-MD5 PLAIN LOGIN XOAUTH2"))
        #expect(lines.contains("503 5.5.1 Error: MAIL transaction in progress"))
        guard let last = lines.last, last.hasPrefix("334 ") else { Issue.record("no challenge: \(lines)"); return }
        let challenge = Base64.decode(Array(last.utf8.dropFirst(4))) ?? []
        #expect(String(decoding: challenge, as: UTF8.self) == "<1.1700000000@mail.example.com>")
        // Wrong password first.
        var attempt = server
        collected = Collected()
        let wrong = Base64.encode(SASLCRAMMD5.response(user: "alice", password: "nope", challenge: challenge))
        collected.add(attempt.receive(wrong + bytes("\r\n"), now: .seconds(1_700_000_001)))
        #expect(collected.lines.isEmpty)  // a failed AUTH answers after its delay
        collected.add(attempt.timerFired(now: .seconds(1_700_000_003)))
        #expect(collected.lines == ["535 5.7.8 Error: authentication failed"])
        collected = Collected()
        let right = Base64.encode(SASLCRAMMD5.response(user: "alice", password: "mypassword", challenge: challenge))
        collected.add(server.receive(right + bytes("\r\n"), now: .seconds(1_700_000_001)))
        #expect(collected.lines == ["235 2.7.0 Authentication successful"])
        #expect(server.session.authenticationMechanism == .cramMD5)
    }

    @Test func xoauth2SuccessAndFailure() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.mechanisms = [.xoauth2]
        let good = String(decoding: Base64.encode(SASLXOAuth2.message(user: "alice@example.com", token: "ya29.token")), as: UTF8.self)
        let bad = String(decoding: Base64.encode(SASLXOAuth2.message(user: "alice@example.com", token: "expired")), as: UTF8.self)
        let errorChallenge = String(decoding: Base64.encode(SASLXOAuth2.errorChallenge), as: UTF8.self)
        let (collected, server) = exchange("EHLO c\r\nAUTH XOAUTH2 \(bad)\r\n\r\nAUTH XOAUTH2\r\n\(good)\r\n", server: makeServer(configuration))
        #expect(collected.lines.suffix(4) == ["334 \(errorChallenge)", "535 5.7.8 Error: authentication failed", "334 ", "235 2.7.0 Authentication successful"])
        #expect(server.session.authenticatedUser == "alice@example.com")
    }

    // 7. Relay attempts hidden in the path.
    @Test(arguments: ["<\"x@ext.test\"@example.com>", "<x%ext.test@example.com>", "<@example.com:x@ext.test>", "<x@ext.test>"])
    func item7RelayAttemptsDenied(path: String) {
        let (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:\(path)\r\n")
        #expect(collected.lines.last?.hasPrefix("554 5.7.1 <") == true)
        #expect(collected.lines.last?.hasSuffix(">: Relay access denied") == true)
        #expect(server.currentEnvelope?.recipients.isEmpty == true)
    }

    @Test func item7PathsExposeTheirRouting() throws {
        let quoted = try SMTPPathParser.parse(bytes("<\"x@ext\"@local>")[...], allowNull: false, allowPostmaster: false).get()
        #expect(quoted.mailbox?.localPart == "x@ext")
        #expect(quoted.mailbox?.domain == "local")
        #expect(quoted.hasRoutingSyntax)
        let percent = try SMTPPathParser.parse(bytes("<x%ext@local>")[...], allowNull: false, allowPostmaster: false).get()
        #expect(percent.hasRoutingSyntax)
        let routed = try SMTPPathParser.parse(bytes("<@local:x@ext>")[...], allowNull: false, allowPostmaster: false).get()
        #expect(routed.sourceRoute == ["local"])
        #expect(routed.mailbox?.domain == "ext")
        #expect(routed.hasRoutingSyntax)
    }

    // 8. CR/LF never reaches session info; idle timeout.
    @Test func item8NoCRLFInSessionInfo() {
        let (collected, server) = exchange("EHLO evil.test\rReceived: forged\r\nHELO good.test\r\nMAIL FROM:<a\r@b.test>\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nx\r\n.\r\n")
        #expect(collected.lines.prefix(3) == ["500 5.5.2 Error: bad syntax", "250 mail.example.com", "500 5.5.2 Error: bad syntax"])
        #expect(server.policy.queued.count == 1)
        let session = server.policy.queued.first?.session
        #expect(session?.heloName == "good.test")
        for text in [session?.heloName ?? "", server.policy.queued.first?.envelope.reversePath.address ?? ""] {
            #expect(!text.utf8.contains { $0 < 0x20 || $0 == 0x7F })
        }
    }

    @Test func item8IdleTimeout() {
        var server = makeServer()
        var collected = Collected()
        collected.add(server.start(now: .zero))
        collected.add(server.receive(bytes("EHLO c.test\r\n"), now: .seconds(10)))
        #expect(server.nextDeadline == .seconds(310))
        collected = Collected()
        collected.add(server.timerFired(now: .seconds(309)))
        #expect(collected == Collected())
        collected.add(server.timerFired(now: .seconds(310)))
        #expect(collected.lines == ["421 4.4.2 mail.example.com Error: timeout exceeded"])
        #expect(collected.closed)
        #expect(server.nextDeadline == nil)
    }
}

@Suite struct SMTPServerDisconnectTests {
    /// A client that vanishes in the middle of DATA loses its message; nothing half-received is queued.
    @Test func disconnectDuringDataQueuesNothing() {
        var (collected, server) = exchange("EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nSubject: half\r\n")
        #expect(collected.lines.last == "354 End data with <CR><LF>.<CR><LF>")
        server.connectionClosed(now: .seconds(2))
        #expect(server.isClosed)
        #expect(server.nextDeadline == nil)
        collected = Collected()
        collected.add(server.receive(bytes(".\r\n"), now: .seconds(3)))
        #expect(collected == Collected())
        #expect(server.policy.queued.isEmpty)
    }
}
