import Testing
@testable import MailCore

/// Client engine against server engine, bytes piped between them.
struct Pipe {
    var client: SMTPClient
    var server: TestServer
    var result: SMTPDeliveryResult?
    /// Results of the transactions that ended before the last one (``SMTPClient/enqueue(_:)``).
    var transactionResults: [SMTPDeliveryResult] = []
    var clientToServer: [String] = []
    var serverToClient: [String] = []

    /// Runs the session; `byteByByte` delivers every byte separately to both sides.
    mutating func run(byteByByte: Bool = false) {
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var clientWantsTLS = false
        var serverWantsTLS = false
        var serverClosed = false
        var time = Duration.zero
        func handleServer(_ actions: [SMTPServerAction]) {
            for action in actions {
                switch action {
                case .send(let bytes): toClient += bytes; serverToClient.append(String(decoding: bytes, as: UTF8.self))
                case .startTLS: serverWantsTLS = true
                case .close: serverClosed = true
                }
            }
        }
        func handleClient(_ actions: [SMTPClientAction]) {
            for action in actions {
                switch action {
                case .send(let bytes): toServer += bytes; clientToServer.append(String(decoding: bytes, as: UTF8.self))
                case .startTLS: clientWantsTLS = true
                case .close: break
                case .event(.transactionFinished(let outcome)): transactionResults.append(outcome)
                case .event(.finished(let outcome)): result = outcome
                }
            }
        }
        handleServer(server.start(now: time))
        handleClient(client.start(now: time))
        for _ in 0..<100_000 {
            time += .milliseconds(10)
            if !toClient.isEmpty {
                let chunk = byteByByte ? [toClient.removeFirst()] : toClient
                if !byteByByte { toClient = [] }
                handleClient(client.receive(chunk, now: time))
            } else if !toServer.isEmpty && !serverClosed {
                let chunk = byteByByte ? [toServer.removeFirst()] : toServer
                if !byteByByte { toServer = [] }
                handleServer(server.receive(chunk, now: time))
            } else if clientWantsTLS && serverWantsTLS {
                clientWantsTLS = false
                serverWantsTLS = false
                handleServer(server.tlsEstablished(now: time))
                handleClient(client.tlsEstablished(now: time))
            } else if let hold = server.holdUntil, !serverClosed {
                // A failed AUTH answers after its delay: time passes until then.
                time = max(time, hold)
                handleServer(server.timerFired(now: time))
            } else if serverClosed && result == nil {
                handleClient(client.connectionClosed(now: time))
            } else {
                break
            }
        }
    }
}

let sampleMessage = Array("From: Alice <alice@example.com>\r\nTo: Bob <bob@company.org>\r\nSubject: Test\r\n\r\nHello\r\n.hidden dot line\r\n.\r\nBye\r\n".utf8)

func job(to recipients: [String] = ["bob@company.org"], tls: SMTPClientTLSMode = .startTLSRequired,
         auth: SMTPClientAuthentication? = SMTPClientAuthentication(user: "alice", secret: "mypassword")) -> SMTPClientJob {
    SMTPClientJob(from: "alice@example.com", to: recipients, data: sampleMessage, ehloName: "laptop.example.com",
                  tls: tls, authentication: auth)!
}

func submissionServer(mechanisms: [SASLMechanism] = [.plain, .login, .cramMD5, .xoauth2], extensions: SMTPExtensions = .all) -> TestServer {
    var configuration = SMTPServerConfiguration.submission(hostname: "mail.example.com", mechanisms: mechanisms)
    configuration.extensions = extensions
    return makeServer(configuration)
}

@Suite struct SMTPClientServerTests {
    @Test(arguments: [true, false])
    func successWithAndWithoutPipelining(pipelining: Bool) {
        let extensions: SMTPExtensions = pipelining ? .all : SMTPExtensions.all.subtracting(.pipelining)
        var pipe = Pipe(client: SMTPClient(job: job(to: ["bob@company.org", "carol@example.com"])),
                        server: submissionServer(extensions: extensions))
        pipe.server.policy.localMailboxes.insert("carol")
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        #expect(result.sessionFailure == nil)
        #expect(result.allAccepted)
        #expect(result.queueID == "3F4A51234")
        #expect(result.usedTLS)
        #expect(result.authenticatedWith == .plain)
        #expect(pipe.server.policy.queued.first?.data == sampleMessage)
        #expect(pipe.server.policy.queued.first?.envelope.mailParameters.size == sampleMessage.count)
        // With PIPELINING, MAIL, both RCPTs and DATA leave in one write.
        let batched = pipe.clientToServer.contains { $0.hasPrefix("MAIL FROM:<alice@example.com> SIZE=") && $0.hasSuffix("DATA\r\n") }
        #expect(batched == pipelining)
        #expect(pipe.clientToServer.last == "QUIT\r\n")
    }

    /// RFC 5321 §3.3: after the reply to the first message, the queued job's MAIL goes out on the
    /// same session instead of QUIT; each transaction has its own result.
    @Test(arguments: [true, false])
    func severalTransactionsOnOneSession(pipelining: Bool) {
        let extensions: SMTPExtensions = pipelining ? .all : SMTPExtensions.all.subtracting(.pipelining)
        var client = SMTPClient(job: job(to: ["bob@company.org"]))
        let queued = [client.enqueue(job(to: ["carol@example.com"])),
                      client.enqueue(job(to: ["bob@company.org", "carol@example.com"]))]
        #expect(queued == [true, true])
        var pipe = Pipe(client: client, server: submissionServer(extensions: extensions))
        pipe.server.policy.localMailboxes.insert("carol")
        pipe.run()
        guard let last = pipe.result else { Issue.record("no result"); return }
        #expect(pipe.transactionResults.count == 2)
        #expect(pipe.transactionResults.map { $0.recipients.map(\.path.address) } == [["bob@company.org"], ["carol@example.com"]])
        #expect(pipe.transactionResults.allSatisfy { $0.allAccepted && $0.sessionFailure == nil })
        #expect(last.recipients.map(\.path.address) == ["bob@company.org", "carol@example.com"])
        #expect(last.allAccepted)
        #expect(pipe.server.policy.queued.count == 3)
        #expect(pipe.server.policy.queued.map { $0.envelope.recipients.count } == [1, 1, 2])
        // One greeting, one EHLO, one AUTH, three MAIL commands, one QUIT at the very end.
        #expect(pipe.clientToServer.filter { $0.hasPrefix("EHLO ") }.count == 2)  // again after STARTTLS
        #expect(pipe.clientToServer.filter { $0.hasPrefix("AUTH ") }.count == 1)
        #expect(pipe.clientToServer.filter { $0.hasPrefix("MAIL FROM:") }.count == 3)
        #expect(pipe.clientToServer.filter { $0 == "QUIT\r\n" }.count == 1)
        #expect(pipe.clientToServer.last == "QUIT\r\n")
        #expect(pipe.client.queuedJobs.isEmpty)
    }

    /// A refused transaction ends the session with QUIT; the jobs behind it were never tried and
    /// stay queued for the caller, and nothing more can be queued.
    @Test func queuedJobsStayWhenTheSessionEnds() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.company.org")
        configuration.extensions.remove(.pipelining)
        var client = SMTPClient(job: job(to: ["nobody@example.com"], tls: .none, auth: nil))
        let queued = client.enqueue(job(to: ["bob@example.com"], tls: .none, auth: nil))
        #expect(queued)
        var pipe = Pipe(client: client, server: makeServer(configuration))
        pipe.run()
        #expect(pipe.transactionResults.isEmpty)
        if case .permanentFailure? = pipe.result?.recipients.first?.outcome {} else {
            Issue.record("first job not refused: \(String(describing: pipe.result))")
        }
        #expect(pipe.client.queuedJobs.map { $0.recipients.map(\.path.address) } == [["bob@example.com"]])
        #expect(pipe.client.isFinished)
        let queuedAfterEnd = pipe.client.enqueue(job(tls: .none, auth: nil))
        #expect(!queuedAfterEnd)
        #expect(pipe.server.policy.queued.isEmpty)
    }

    @Test(arguments: [SASLMechanism.plain, .login, .cramMD5])
    func authenticationMechanisms(mechanism: SASLMechanism) {
        for (password, succeeds) in [("mypassword", true), ("wrong", false)] {
            let auth = SMTPClientAuthentication(user: "alice", secret: password, preferredMechanism: mechanism)
            var pipe = Pipe(client: SMTPClient(job: job(auth: auth)), server: submissionServer())
            pipe.run()
            guard let result = pipe.result else { Issue.record("no result"); continue }
            if succeeds {
                #expect(result.authenticatedWith == mechanism)
                #expect(result.allAccepted)
            } else {
                #expect(result.sessionFailure?.stage == .auth)
                #expect(result.sessionFailure?.reason == .reply(SMTPReply(code: 535, "5.7.8", "Error: authentication failed")))
                #expect(result.recipients.first?.outcome == .permanentFailure(SMTPReply(code: 535, "5.7.8", "Error: authentication failed")))
                #expect(pipe.server.policy.queued.isEmpty)
            }
        }
    }

    @Test func xoauth2() {
        let good = SMTPClientAuthentication(user: "alice@example.com", secret: "ya29.token", preferredMechanism: .xoauth2)
        var pipe = Pipe(client: SMTPClient(job: job(auth: good)), server: submissionServer())
        pipe.run()
        #expect(pipe.result?.authenticatedWith == .xoauth2)
        let bad = SMTPClientAuthentication(user: "alice@example.com", secret: "old", preferredMechanism: .xoauth2)
        pipe = Pipe(client: SMTPClient(job: job(auth: bad)), server: submissionServer())
        pipe.run()
        #expect(pipe.result?.sessionFailure?.stage == .auth)
    }

    @Test func rcptRefusedWith5xx() {
        // Relay port without AUTH: the local recipient is accepted, the remote one is relay-denied.
        var pipe = Pipe(client: SMTPClient(job: job(to: ["bob@example.com", "x@elsewhere.test"], tls: .startTLSOpportunistic, auth: nil)),
                        server: makeServer())
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        #expect(result.sessionFailure == nil)
        #expect(result.recipients[0].outcome == .accepted(SMTPReply(code: 250, "2.0.0", "Ok: queued as 3F4A51234")))
        #expect(result.recipients[1].outcome == .permanentFailure(SMTPReply(code: 554, "5.7.1", "<x@elsewhere.test>: Relay access denied")))
        #expect(pipe.server.policy.queued.first?.envelope.recipients.count == 1)
    }

    @Test(arguments: [true, false])
    func allRecipientsRefused(pipelining: Bool) {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.company.org")
        if !pipelining { configuration.extensions.remove(.pipelining) }
        var pipe = Pipe(client: SMTPClient(job: job(to: ["nobody@example.com"], tls: .none, auth: nil)), server: makeServer(configuration))
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        #expect(result.sessionFailure == nil)
        if case .permanentFailure(let reply) = result.recipients[0].outcome {
            #expect(reply?.code == 550)
            #expect(reply?.enhancedCode == EnhancedStatusCode(5, 1, 1))
        } else {
            Issue.record("\(result.recipients)")
        }
        #expect(pipe.server.policy.queued.isEmpty)
    }

    @Test func temporaryFailureAtConnect() {
        var policy = SMTPTestPolicy()
        policy.connectionDecision = .reject(SMTPReply(code: 421, "4.3.2", "mail.example.com Service not available, closing"))
        var pipe = Pipe(client: SMTPClient(job: job()), server: makeServer(policy: policy))
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        #expect(result.sessionFailure?.stage == .greeting)
        #expect(result.sessionFailure?.isPermanent == false)
        #expect(result.recipients.first?.outcome == .temporaryFailure(SMTPReply(code: 421, "4.3.2", "mail.example.com Service not available, closing")))
        #expect(pipe.clientToServer.isEmpty)
    }

    @Test func tlsRequiredButNotOffered() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.test")
        configuration.tlsAvailable = false
        var pipe = Pipe(client: SMTPClient(job: job()), server: makeServer(configuration))
        pipe.run()
        #expect(pipe.result?.sessionFailure == SMTPSessionFailure(stage: .ehlo, reason: .tlsNotOffered))
        #expect(pipe.clientToServer.last == "QUIT\r\n")
        #expect(!pipe.clientToServer.contains { $0.hasPrefix("AUTH") })
    }

    @Test func heloFallbackWhenEHLORefused() {
        // A server without ESMTP: the test feeds the client by hand.
        var client = SMTPClient(job: job(to: ["bob@example.com"], tls: .none, auth: nil))
        _ = client.start(now: .zero)
        var sent = ""
        func take(_ actions: [SMTPClientAction]) { for case .send(let b) in actions { sent += String(decoding: b, as: UTF8.self) } }
        take(client.receive(bytes("220 old.test SMTP\r\n"), now: .seconds(1)))
        #expect(sent == "EHLO laptop.example.com\r\n")
        sent = ""
        take(client.receive(bytes("502 Command not implemented\r\n"), now: .seconds(2)))
        #expect(sent == "HELO laptop.example.com\r\n")
        sent = ""
        take(client.receive(bytes("250 old.test\r\n"), now: .seconds(3)))
        #expect(sent == "MAIL FROM:<alice@example.com>\r\n")
        sent = ""
        take(client.receive(bytes("250 Ok\r\n"), now: .seconds(4)))
        #expect(sent == "RCPT TO:<bob@example.com>\r\n")
        sent = ""
        take(client.receive(bytes("250 Ok\r\n"), now: .seconds(5)))
        #expect(sent == "DATA\r\n")
        sent = ""
        take(client.receive(bytes("354 go\r\n"), now: .seconds(6)))
        #expect(sent.hasSuffix("\r\n..hidden dot line\r\n..\r\nBye\r\n.\r\n"))
        sent = ""
        var actions = client.receive(bytes("250 Ok: queued as ABC\r\n"), now: .seconds(7))
        take(actions)
        #expect(sent == "QUIT\r\n")
        actions = client.receive(bytes("221 Bye\r\n"), now: .seconds(8))
        guard case .event(.finished(let result))? = actions.last else { Issue.record("\(actions)"); return }
        #expect(result.queueID == "ABC")
        #expect(!result.capabilities.esmtp)
    }

    @Test func clientTimeout() {
        var client = SMTPClient(job: job())
        _ = client.start(now: .zero)
        #expect(client.nextDeadline == .seconds(300))
        let actions = client.timerFired(now: .seconds(300))
        guard case .event(.finished(let result))? = actions.last else { Issue.record("\(actions)"); return }
        #expect(result.sessionFailure == SMTPSessionFailure(stage: .greeting, reason: .timeout))
        #expect(actions.contains(.close))
    }

    @Test func byteByByteGivesTheSameConversation() {
        var whole = Pipe(client: SMTPClient(job: job(auth: SMTPClientAuthentication(user: "alice", secret: "mypassword", preferredMechanism: .login))),
                         server: submissionServer())
        whole.run()
        var single = Pipe(client: SMTPClient(job: job(auth: SMTPClientAuthentication(user: "alice", secret: "mypassword", preferredMechanism: .login))),
                          server: submissionServer())
        single.run(byteByByte: true)
        #expect(whole.result?.allAccepted == true)
        #expect(single.result?.recipients == whole.result?.recipients)
        #expect(single.serverToClient.joined() == whole.serverToClient.joined())
        #expect(single.clientToServer.joined() == whole.clientToServer.joined())
    }
}

@Suite struct SMTPClientServerMoreTests {
    @Test func implicitTLSSubmission() {
        var pipe = Pipe(client: SMTPClient(job: job(tls: .implicit)), server: makeServer(.implicitTLS(hostname: "mail.example.com")))
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        #expect(result.allAccepted)
        #expect(result.usedTLS)
        #expect(!result.capabilities.extensions.contains(.starttls))
        #expect(!pipe.clientToServer.contains("STARTTLS\r\n"))
        #expect(pipe.server.policy.queued.first?.session.receivedProtocol == "ESMTPSA")
    }

    @Test func opportunisticTLSFallsBackToPlaintext() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.example.com")
        configuration.tlsAvailable = false
        var pipe = Pipe(client: SMTPClient(job: job(to: ["bob@example.com"], tls: .startTLSOpportunistic, auth: nil)), server: makeServer(configuration))
        pipe.run()
        #expect(pipe.result?.allAccepted == true)
        #expect(pipe.result?.usedTLS == false)
        #expect(pipe.server.policy.queued.first?.session.receivedProtocol == "ESMTP")
    }

    @Test func messageTooBigRefusedAtMail() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mx.example.com")
        configuration.maxMessageSize = 50
        var pipe = Pipe(client: SMTPClient(job: job(to: ["bob@example.com"], tls: .none, auth: nil)), server: makeServer(configuration))
        pipe.run()
        guard let result = pipe.result else { Issue.record("no result"); return }
        let refusal = SMTPReply(code: 552, "5.3.4", "Message size exceeds fixed limit")
        #expect(result.sessionFailure == SMTPSessionFailure(stage: .mail, reason: .reply(refusal)))
        #expect(result.recipients.first?.outcome == .permanentFailure(refusal))
        #expect(result.capabilities.sizeLimit == 50)
    }

    @Test func temporaryRefusalOfTheMessage() {
        var policy = SMTPTestPolicy()
        policy.messageRefusal = SMTPReply(code: 451, "4.3.0", "Error: queue file write error")
        var pipe = Pipe(client: SMTPClient(job: job(to: ["bob@example.com"], tls: .none, auth: nil)), server: makeServer(policy: policy))
        pipe.run()
        #expect(pipe.result?.recipients.first?.outcome == .temporaryFailure(policy.messageRefusal))
        #expect(pipe.result?.queueID == nil)
    }

    @Test func serverAuthLoginWithInitialUser() {
        runTranscript("""
        S: 220 mail.example.com ESMTP Postfix
        C: HELO c.test
        S: 250 mail.example.com
        C: AUTH LOGIN YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: bXlwYXNzd29yZA==
        S: 235 2.7.0 Authentication successful
        """)
    }
}
