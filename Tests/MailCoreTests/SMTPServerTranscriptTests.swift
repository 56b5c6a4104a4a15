import Testing
@testable import MailCore

@Suite struct SMTPServerTranscriptTests {
    /// The course's complete submission session (EHLO, STARTTLS, EHLO, AUTH LOGIN, MAIL, RCPT, DATA, QUIT).
    /// AUTH appears only after STARTTLS (`smtpd_tls_auth_only = yes`; this used to pin it before).
    @Test func courseSubmissionSession() {
        var configuration = SMTPServerConfiguration.submission(hostname: "mail.example.com")
        configuration.advertiseAuthEqualsForm = true
        let server = runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: EHLO client.example.com
        S: 250-mail.example.com
        S: 250-PIPELINING
        S: 250-SIZE 10240000
        S: 250-VRFY
        S: 250-ETRN
        S: 250-STARTTLS
        S: 250-ENHANCEDSTATUSCODES
        S: 250-8BITMIME
        S: 250 DSN
        C: STARTTLS
        S: 220 2.0.0 Ready to start TLS
        TLS
        C: EHLO client.example.com
        S: 250-mail.example.com
        S: 250-PIPELINING
        S: 250-SIZE 10240000
        S: 250-VRFY
        S: 250-ETRN
        S: 250-AUTH PLAIN LOGIN
        S: 250-AUTH=PLAIN LOGIN
        S: 250-ENHANCEDSTATUSCODES
        S: 250-8BITMIME
        S: 250 DSN
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: bXlwYXNzd29yZA==
        S: 235 2.7.0 Authentication successful
        C: MAIL FROM:<alice@example.com>
        S: 250 2.1.0 Ok
        C: RCPT TO:<bob@company.org>
        S: 250 2.1.5 Ok
        C: DATA
        S: 354 End data with <CR><LF>.<CR><LF>
        C: From: Alice <alice@example.com>
        C: To: Bob <bob@company.org>
        C: Subject: Reunion demain
        C: Date: Wed, 06 Dec 2024 10:30:00 +0100
        C: Message-ID: <abc123@example.com>
        C:
        C: Bonjour Bob,
        C:
        C: ..N'oublie pas la reunion demain a 14h.
        C:
        C: Cordialement,
        C: Alice
        C: .
        S: 250 2.0.0 Ok: queued as 3F4A51234
        C: QUIT
        S: 221 2.0.0 Bye
        """, server: makeServer(configuration))
        #expect(server.isClosed)
        let queued = server.policy.queued
        #expect(queued.count == 1)
        guard let message = queued.first else { return }
        #expect(message.envelope.reversePath.address == "alice@example.com")
        #expect(message.envelope.recipients.map(\.path.address) == ["bob@company.org"])
        let text = String(decoding: message.data, as: UTF8.self)
        #expect(text.hasPrefix("From: Alice <alice@example.com>\r\n"))
        #expect(text.contains("\r\n.N'oublie pas"))
        #expect(text.hasSuffix("Alice\r\n"))
        #expect(message.session.heloName == "client.example.com")
        #expect(message.session.tlsActive)
        #expect(message.session.authenticatedUser == "alice")
        #expect(message.session.receivedProtocol == "ESMTPSA")
    }

    @Test func heloVrfyEtrnRsetNoop() {
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: ETRN example.org
        S: 503 5.5.1 Error: send HELO/EHLO first
        C: HELO client.example.net
        S: 250 mail.example.com
        C: VRFY bob
        S: 252 2.0.0 bob
        C: ETRN example.org
        S: 250 Queuing started
        C: noop
        S: 250 2.0.0 Ok
        C: Mail From:<>
        S: 250 2.1.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        C: RCPT TO:<bob@example.com>
        S: 503 5.5.1 Error: need MAIL command
        C: EXPN staff
        S: 502 5.5.1 Error: command not implemented
        C: quit
        S: 221 2.0.0 Bye
        """)
    }

    @Test func vrfyDisabledAndNoEnhancedCodes() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.test")
        configuration.extensions = [.pipelining, .size]
        runTranscript("""
        S: 220 mx.test ESMTP Postfix
        C: EHLO a.test
        S: 250-mx.test
        S: 250-PIPELINING
        S: 250 SIZE 10240000
        C: VRFY bob
        S: 502 VRFY command is disabled
        C: STARTTLS
        S: 502 Error: command not implemented
        C: AUTH PLAIN
        S: 503 Error: authentication not enabled
        """, server: makeServer(configuration))
    }

    @Test func recipientRepliesFromPolicy() {
        var policy = SMTPTestPolicy()
        policy.temporaryRecipients = ["grey@example.com"]
        policy.forwardedRecipients = ["old@example.com": "new@example.org"]
        policy.movedRecipients = ["gone@example.com": "gone@example.org"]
        policy.localMailboxes.insert("grey")
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: EHLO c.test
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
        C: MAIL FROM:<x@elsewhere.test> SIZE=1000 BODY=8BITMIME
        S: 250 2.1.0 Ok
        C: RCPT TO:<grey@example.com>
        S: 450 4.2.0 <grey@example.com>: Recipient address rejected: Greylisted
        C: RCPT TO:<old@example.com>
        S: 251 2.1.5 User not local; will forward to <new@example.org>
        C: RCPT TO:<gone@example.com>
        S: 551 5.1.6 User not local; please try <gone@example.org>
        C: RCPT TO:<nobody@example.com>
        S: 550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table
        C: RCPT TO:<Postmaster>
        S: 250 2.1.5 Ok
        C: RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com
        S: 250 2.1.5 Ok
        C: RCPT TO:<bob@example.com> NOTIFY=NEVER,SUCCESS
        S: 501 5.5.4 Bad NOTIFY parameter syntax
        C: RCPT TO:<bob@example.com> FOO=1
        S: 555 5.5.4 Unsupported option: FOO
        C: RCPT TO:bob@example.com
        S: 501 5.5.4 Syntax: RCPT TO:<address>
        C: RCPT TO:<bob@@example.com>
        S: 501 5.1.3 Bad recipient address syntax
        """, server: makeServer(policy: policy))
    }

    @Test func rejectedConnectionAnswers503UntilQuit() {
        var policy = SMTPTestPolicy()
        policy.connectionDecision = .reject(SMTPReply(code: 554, "5.7.1", "mail.example.com Service unavailable; client blocked"))
        runTranscript("""
        S: 554 5.7.1 mail.example.com Service unavailable; client blocked
        C: EHLO spam.test
        S: 503 5.7.0 Error: access denied for 203.0.113.7
        C: QUIT
        S: 221 2.0.0 Bye
        """, server: makeServer(policy: policy))
    }

    @Test func connectionRefusedWith421Closes() {
        var policy = SMTPTestPolicy()
        policy.connectionDecision = .reject(SMTPReply(code: 421, "4.3.2", "mail.example.com Service shutting down"))
        var server = makeServer(policy: policy)
        var collected = Collected()
        collected.add(server.start(now: .zero))
        #expect(collected.lines == ["421 4.3.2 mail.example.com Service shutting down"])
        #expect(collected.closed)
    }

    @Test func senderNotOwnedAndMessageRefusals() {
        var policy = SMTPTestPolicy()
        policy.messageRefusal = SMTPReply(code: 451, "4.3.0", "Error: queue file write error")
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: EHLO c.test
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
        C: AUTH PLAIN AGJvYgBzZWNyZXQxMjM=
        S: 235 2.7.0 Authentication successful
        C: MAIL FROM:<alice@example.com>
        S: 553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user bob
        C: MAIL FROM:<bob@example.com>
        S: 250 2.1.0 Ok
        C: RCPT TO:<carol@company.org>
        S: 250 2.1.5 Ok
        C: DATA
        S: 354 End data with <CR><LF>.<CR><LF>
        C: Subject: x
        C: .
        S: 451 4.3.0 Error: queue file write error
        """, server: makeServer(policy: policy))
    }
}
