import Testing
@testable import MailAgents
import MailCore
import MailSim

/// Lines of the plaintext transcript of connection `id`, without the header line.
func transcriptLines(_ mail: MailWorld, connection id: Int) -> [String] {
    guard let connection = mail.world.tap.connections.first(where: { $0.id == id }) else { return [] }
    return WireTap.transcript(of: connection, view: .inside).split(separator: "\n").dropFirst().map(String.init)
}

func inbox(_ mail: MailWorld, _ domain: String, _ user: String) throws -> [StoredMessage] {
    try mail.store(for: domain).messages(user: user)
}

func text(_ message: StoredMessage) -> String { String(decoding: message.raw, as: UTF8.self) }

@Suite struct SubmissionTests {
    @Test func courseSubmissionSessionEndToEnd() throws {
        let mail = try MailWorld.course(seed: 7)
        let alice = try #require(mail.muas["alice"])
        alice.account.smtpMechanism = .login
        var outcome: SubmissionResult?
        try alice.send(Composition(to: ["Bob <bob@company.org>"], subject: "Réunion demain",
                                   text: "Bonjour Bob,\n\nN'oublie pas la réunion demain à 14h.\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(5))
        let result = try #require(outcome)
        #expect(result.succeeded, "\(result.summary)")

        let lines = transcriptLines(mail, connection: 1)
        let expectedPrefix = [
            "S: 220 mail.example.com ESMTP Postfix",
            "C: EHLO client.example.com",
            "S: 250-mail.example.com",
            "S: 250-PIPELINING",
            "S: 250-SIZE 10240000",
            "S: 250-VRFY",
            "S: 250-ETRN",
            "S: 250-STARTTLS",
            "S: 250-ENHANCEDSTATUSCODES",
            "S: 250-8BITMIME",
            "S: 250 DSN",
            "C: STARTTLS",
            "S: 220 2.0.0 Ready to start TLS",
            "-- TLS started --",
            "C: EHLO client.example.com",
            "S: 250-mail.example.com",
            "S: 250-PIPELINING",
            "S: 250-SIZE 10240000",
            "S: 250-VRFY",
            "S: 250-ETRN",
            "S: 250-AUTH PLAIN LOGIN CRAM-MD5",
            "S: 250-ENHANCEDSTATUSCODES",
            "S: 250-8BITMIME",
            "S: 250 DSN",
            "C: AUTH LOGIN",
            "S: 334 VXNlcm5hbWU6",
            "C: YWxpY2U=",
            "S: 334 UGFzc3dvcmQ6",
            "C: bXlwYXNzd29yZA==",
            "S: 235 2.7.0 Authentication successful",
        ]
        #expect(Array(lines.prefix(expectedPrefix.count)) == expectedPrefix)
        #expect(lines.contains("C: MAIL FROM:<alice@example.com> SIZE=\(result.result.map { _ in "" } ?? "")") || lines.contains { $0.hasPrefix("C: MAIL FROM:<alice@example.com>") })
        #expect(lines.contains("C: RCPT TO:<bob@company.org>"))
        #expect(lines.contains("S: 354 End data with <CR><LF>.<CR><LF>"))
        #expect(lines.contains { $0.hasPrefix("S: 250 2.0.0 Ok: queued as ") })
        #expect(lines.contains("S: 221 2.0.0 Bye"))

        // Relayed through MX 10 and delivered into Bob's INBOX with the trace headers.
        let messages = try inbox(mail, "company.org", "bob")
        #expect(messages.count == 1)
        let delivered = text(try #require(messages.first))
        #expect(delivered.hasPrefix("Return-Path: <alice@example.com>\r\n"))
        #expect(delivered.contains("by mail1.company.org (Postfix) with ESMTPS id "))
        #expect(delivered.contains("by mail.example.com (Postfix) with ESMTPSA id "))
        #expect(delivered.contains("Subject: =?UTF-8?"))
    }

    @Test func sameSeedSameTranscriptOtherSeedOtherIds() throws {
        func run(_ seed: UInt64) throws -> String {
            let mail = try MailWorld.course(seed: seed)
            try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: "Hi", text: "Hello\n"))
            try mail.settle(limit: .minutes(5))
            return mail.world.transcript()
        }
        let first = try run(11)
        #expect(first == (try run(11)))
        #expect(first != (try run(12)))
    }

    @Test func submissionRefusesAuthBeforeTLSAndWrongPassword() throws {
        let mail = try MailWorld.course(seed: 3)
        let alice = try #require(mail.muas["alice"])
        alice.account.password = "wrong"
        var outcome: SubmissionResult?
        try alice.send(Composition(to: ["bob@company.org"], subject: "x", text: "y\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(5))
        #expect(outcome?.succeeded == false)
        #expect(mail.world.transcript().contains("S: 535 5.7.8 Error: authentication failed"))
        #expect(try inbox(mail, "company.org", "bob").isEmpty)

        // Without STARTTLS the server does not even offer AUTH (`smtpd_tls_auth_only = yes`;
        // this used to pin AUTH offered in clear and then refused with 530).
        alice.account.password = "mypassword"
        alice.account.smtpSecurity = .none
        try alice.send(Composition(to: ["bob@company.org"], subject: "x", text: "y\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(5))
        #expect(outcome?.succeeded == false)
        let last = try #require(mail.world.tap.connections.last)
        let clear = WireTap.transcript(of: last, view: .inside)
        #expect(clear.contains("S: 250-STARTTLS"))
        #expect(!clear.contains("250-AUTH"))
        #expect(!clear.contains("C: AUTH"))
        #expect(!clear.contains("C: MAIL FROM"))
    }

    @Test func implicitTLSOn465() throws {
        let mail = try MailWorld.course(seed: 5)
        let alice = try #require(mail.muas["alice"])
        alice.account.smtpPort = 465
        alice.account.smtpSecurity = .tls
        var outcome: SubmissionResult?
        try alice.send(Composition(to: ["bob@company.org"], subject: "TLS", text: "from the first byte\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(5))
        #expect(outcome?.succeeded == true, "\(outcome?.summary ?? "none")")
        let lines = transcriptLines(mail, connection: 1)
        #expect(lines.first == "-- TLS started --")
        #expect(try inbox(mail, "company.org", "bob").count == 1)
    }
}

@Suite struct MXFailoverTests {
    /// The backup MX has no mailbox: it keeps the message until mail1 answers again (issue 13;
    /// this test used to pin mail2 delivering into Bob's mailbox).
    @Test func primaryDownTheBackupQueuesAfterTheConnectTimeoutThenForwards() throws {
        let mail = try MailWorld.course(seed: 1)
        try mail.world.takeDown("mail1.company.org")
        try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: "Failover", text: "via mail2\n"))
        try mail.settle(limit: .minutes(10))
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        #expect(mail.mtas["mail2.company.org"]!.queue.entries.count == 1)
        let log = mail.mtas["mail.example.com"]!.log.joined(separator: "\n")
        #expect(log.contains("relay=mail2.company.org[203.0.113.11]:25, status=sent"))
        // The attempt on mail1 waited for the 30 s connect timeout first.
        let sentLine = try #require(mail.mtas["mail.example.com"]!.log.first { $0.contains("status=sent") })
        #expect(sentLine.hasPrefix("+30."))

        try mail.world.bringUp("mail1.company.org")
        try mail.settle(limit: .hours(2))
        let messages = try inbox(mail, "company.org", "bob")
        try #require(messages.count == 1)
        #expect(text(messages[0]).contains("by mail2.company.org (Postfix)"))
        #expect(text(messages[0]).contains("from mail2.company.org"))
        #expect(mail.mtas["mail2.company.org"]!.queue.entries.isEmpty)
    }

    @Test func allDownRetriesOnScheduleAndDeliversWhenOneReturns() throws {
        let mail = try MailWorld.course(seed: 2)
        for host in ["mail1.company.org", "mail2.company.org", "mail-backup.example.net"] {
            try mail.world.takeDown(host)
        }
        try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: "Queued", text: "patience\n"))
        try mail.world.run(until: .at(.minutes(30)))
        let mta = mail.mtas["mail.example.com"]!
        let entry = try #require(mta.queue.entries.first)
        #expect(entry.pendingRecipients == ["bob@company.org"])
        #expect(entry.attempts == 3)  // at about 0 s, 5 min and 15 min
        #expect(entry.lastError?.contains("Connection timed out") == true)
        #expect(try inbox(mail, "company.org", "bob").isEmpty)

        try mail.world.bringUp("mail1.company.org")
        try mail.settle(limit: .hours(2))
        #expect(mta.queue.entries.isEmpty)
        let messages = try inbox(mail, "company.org", "bob")
        #expect(messages.count == 1)
        // Delivered at the retry after 35 minutes (5 + 10 + 20 min of backoff, plus timeouts).
        let sentLine = try #require(mta.log.first { $0.contains("status=sent") })
        #expect(sentLine.hasPrefix("+3"))
    }

    @Test func permanentFailureBouncesToSender() throws {
        let mail = try MailWorld.course(seed: 4)
        try mail.muas["alice"]!.send(Composition(to: ["nobody@company.org"], subject: "Lost", text: "?\n"))
        try mail.settle(limit: .minutes(10))
        let bounces = try inbox(mail, "example.com", "alice")
        #expect(bounces.count == 1)
        let report = text(try #require(bounces.first))
        #expect(report.contains("Return-Path: <>"))
        #expect(report.contains("Content-Type: multipart/report; report-type=delivery-status;"))
        #expect(report.contains("Final-Recipient: rfc822; nobody@company.org"))
        #expect(report.contains("Status: 5.1.1"))
        #expect(report.contains("Diagnostic-Code: smtp; 550 5.1.1 <nobody@company.org>: Recipient address rejected"))
        #expect(mail.mtas["mail.example.com"]!.queue.entries.isEmpty)
    }

    @Test func retryScheduleFollowsPostfixDefaults() {
        let schedule = RetrySchedule.postfix
        #expect((1...7).map { schedule.backoff(afterFailedAttempts: $0) } == [300, 600, 1200, 2400, 4000, 4000, 4000])
    }
}

@Suite struct RelayPolicyTests {
    /// A spammer's host sending straight to port 25 of mail.example.com, for a foreign domain.
    func spam(_ mail: MailWorld, to recipient: String = "victim@company.org") throws -> SMTPAttempt? {
        let spammer = try mail.world.addHost("spam.example", address: "192.0.2.66")
        let mta = try #require(mail.mtas["mail.example.com"])
        var outcome: SMTPAttempt?
        let job = try #require(SMTPClientJob(from: "promo@spam.example", to: [recipient],
                                             data: Array("Subject: Buy now\r\n\r\nCheap!\r\n".utf8), ehloName: "spam.example"))
        let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
            engine: SMTPClient(job: job), world: mail.world, serverName: "mail.example.com",
            hooks: SMTPClient.sessionHooks) { outcome = $0 }
        session.connect(from: spammer, to: "mail.example.com", port: 25, implicitTLS: false)
        _ = mta
        try mail.settle(limit: .minutes(5))
        return outcome
    }

    @Test func openRelayForwardsForAnyone() throws {
        let mail = try MailWorld.course(seed: 9)
        try mail.addUser(address: "victim@company.org", login: "victim", password: "v")
        mail.mtas["mail.example.com"]!.setRelayPolicy(.open)
        let outcome = try #require(try spam(mail))
        #expect(outcome.result.allAccepted)
        #expect(try inbox(mail, "company.org", "victim").count == 1)
    }

    @Test func closedRelayDeniesStrangersButNotUsers() throws {
        let mail = try MailWorld.course(seed: 9)
        try mail.addUser(address: "victim@company.org", login: "victim", password: "v")
        let outcome = try #require(try spam(mail))
        #expect(!outcome.result.allAccepted)
        #expect(mail.world.transcript().contains("S: 554 5.7.1 <victim@company.org>: Relay access denied"))
        #expect(try inbox(mail, "company.org", "victim").isEmpty)

        var sent: SubmissionResult?
        try mail.muas["alice"]!.send(Composition(to: ["victim@company.org"], subject: "hi", text: "legit\n")) { sent = $0 }
        try mail.settle(limit: .minutes(5))
        #expect(sent?.succeeded == true)
        #expect(try inbox(mail, "company.org", "victim").count == 1)
    }

    @Test(arguments: ["<\"x@company.org\"@example.com>", "<x%company.org@example.com>", "<@example.com:x@company.org>"])
    func routingTricksAreRelayAttempts(_ path: String) throws {
        let mail = try MailWorld.course(seed: 10)
        let spammer = try mail.world.addHost("spam.example", address: "192.0.2.66")
        var replies = ""
        let connection = mail.world.connect(from: spammer, to: "mail.example.com", port: 25) { event in
            if case .data(let bytes) = event { replies += String(decoding: bytes, as: UTF8.self) }
        }
        connection.write("EHLO spam.example\r\nMAIL FROM:<a@spam.example>\r\nRCPT TO:\(path)\r\nQUIT\r\n")
        try mail.settle(limit: .minutes(1))
        #expect(replies.contains("554 5.7.1"), "\(replies)")
    }
}

@Suite struct CrashTests {
    @Test func aCrashedMXComesBackWithItsServicesAndTheQueueDelivers() throws {
        let mail = try MailWorld.course(seed: 41)
        for host in ["mail2.company.org", "mail-backup.example.net"] { try mail.world.takeDown(host) }
        try mail.world.crash("mail1.company.org")
        try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: "After the crash", text: "x\n"))
        try mail.world.run(until: .at(.minutes(3)))
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        try mail.world.bringUp("mail1.company.org")
        try mail.settle(limit: .hours(1))
        #expect(try inbox(mail, "company.org", "bob").count == 1)
        #expect(mail.world.host("mail1.company.org")!.listeningPorts == [25, 110, 143, 465, 587, 993, 995])
    }
}

@Suite struct BenchmarkWorkloadTests {
    @Test func everyBenchmarkMessageIsDelivered() throws {
        let result = try SMTPBenchmark(messages: 300, concurrency: 8).run(seed: 3)
        #expect(result.delivered == 300)
        #expect(result.schedulerSteps > 300 * 10)
    }

    /// Outboxes of several messages per submission session, with or without the MTA's
    /// connection cache, deliver everything too, with fewer sessions and so fewer scheduler events.
    /// (Eight clients never need more than the cache's 20 sessions to the MX, so with outboxes of
    /// one message the cache changes nothing.)
    @Test(arguments: [false, true])
    func sessionsCarryingSeveralMessagesDeliverEverything(reuse: Bool) throws {
        let single = try SMTPBenchmark(messages: 300, concurrency: 8).run(seed: 3)
        let batched = try SMTPBenchmark(messages: 300, concurrency: 8, outbox: 5, reusesConnections: reuse).run(seed: 3)
        #expect(batched.delivered == 300)
        #expect(batched.schedulerSteps < single.schedulerSteps)
    }
}

@Suite struct UnauthenticatedClientTests {
    @Test func aClientWithoutAuthIsDeniedRelayButMayDeliverLocally() throws {
        let mail = try MailWorld.course(seed: 44)
        _ = try mail.world.addHost("robot", address: "192.0.2.66", addDNS: false)
        let robot = try mail.addMUA(named: "robot", on: "robot", account: MailAccountSettings(
            address: "promo@spam.example", login: "", password: "", smtpHost: "mail.example.com", smtpPort: 25,
            smtpSecurity: .none, smtpAuthentication: false))
        var relayed: SubmissionResult?
        try robot.send(Composition(to: ["bob@company.org"], subject: "Win", text: "!\n")) { relayed = $0 }
        try mail.settle(limit: .minutes(2))
        #expect(relayed?.succeeded == false)
        #expect(mail.world.transcript().contains("S: 554 5.7.1 <bob@company.org>: Relay access denied"))
        var local: SubmissionResult?
        try robot.send(Composition(to: ["alice@example.com"], subject: "Hi", text: "!\n")) { local = $0 }
        try mail.settle(limit: .minutes(2))
        #expect(local?.succeeded == true, "\(local?.summary ?? "")")
        #expect(try inbox(mail, "example.com", "alice").count == 1)
    }
}

@Suite struct FinishedEntriesTests {
    @Test func theQueueKeepsOnlyTheMostRecentFinishedEntries() throws {
        let mail = try MailWorld.course(seed: 45)
        let mta = try #require(mail.mtas["mail.example.com"])
        mta.queue.finishedLimit = 3
        for index in 0..<10 {
            try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: "n\(index)", text: "x\n"))
            try mail.settle(limit: .minutes(1))
        }
        #expect(try inbox(mail, "company.org", "bob").count == 10)
        #expect(mta.queue.finished.count <= 6)
        #expect(mta.queue.finished.count >= 3)
    }
}

/// The sending MTA's on-demand connection cache (``MTAConfiguration/reusesConnections``): below
/// ``MTAConfiguration/destinationConcurrencyLimit`` every message has its relay session; at the
/// limit, further messages wait for an open session and go over it, one transaction after another.
@Suite struct ConnectionCacheTests {
    /// Six clients submit at the same instant through an MTA allowed `limit` sessions to the MX.
    func run(limit: Int, cache: Bool) throws -> (relaySessions: [TapConnection], delivered: Int, mail: MailWorld) {
        let world = try World.defaultWorld(seed: 11)
        let mail = MailWorld(world: world)
        try mail.addUser(address: "alice@example.com", login: "alice", password: "mypassword")
        try mail.addUser(address: "bob@company.org", login: "bob", password: "secret123")
        var configuration = MTAConfiguration(hostname: "mail.example.com", localDomains: ["example.com"],
                                             requireTLSForAuth: false, offerTLSOnRelayPort: false)
        configuration.reusesConnections = cache
        configuration.destinationConcurrencyLimit = limit
        _ = try mail.addMTA(on: "mail.example.com", configuration: configuration)
        _ = try mail.addMTA(on: "mail1.company.org", configuration: MTAConfiguration(
            hostname: "mail1.company.org", localDomains: ["company.org"], offerTLSOnRelayPort: false))
        for index in 0..<6 {
            let host = try world.addHost("client-\(index)", address: "10.0.\(index + 1).1", addDNS: false)
            let client = MUA(world: world, host: host, account: MailAccountSettings(
                address: "alice@example.com", login: "alice", password: "mypassword",
                smtpHost: "mail.example.com", smtpPort: 587, smtpSecurity: .none, smtpMechanism: .plain))
            try client.send(Composition(to: ["bob@company.org"], subject: "n° \(index)", text: "message \(index)\n"))
        }
        try mail.settle(limit: .minutes(5))
        let relays = world.tap.connections.filter { $0.clientHostName == "mail.example.com" && $0.server.port == 25 }
        return (relays, try inbox(mail, "company.org", "bob").count, mail)
    }

    @Test func atTheLimitMessagesShareTheOpenSessions() throws {
        let (relays, delivered, _) = try run(limit: 2, cache: true)
        #expect(delivered == 6)
        #expect(relays.count == 2)
        let transactions = relays.map { connection in
            WireTap.transcript(of: connection, view: .inside).split(separator: "\n").filter { $0.hasPrefix("C: MAIL FROM:") }.count
        }
        #expect(transactions.reduce(0, +) == 6)
        #expect(transactions.allSatisfy { $0 >= 2 })
    }

    @Test func belowTheLimitOrWithoutCacheEveryMessageHasItsSession() throws {
        for (limit, cache) in [(20, true), (2, false)] {
            let (relays, delivered, _) = try run(limit: limit, cache: cache)
            #expect(delivered == 6)
            #expect(relays.count == 6, "limit \(limit), cache \(cache)")
        }
    }
}

@Suite struct MailQueueTests {
    func id(_ text: String) -> QueueID { QueueID(text: text) }

    @Test func theQueueManagerSeesOnlyIdleEntriesOldestFirst() {
        var queue = MailQueue()
        for name in ["C1", "A2", "B3"] {
            queue.add(id: id(name), sender: "a@example.com", recipients: ["b@company.org"], data: [], now: .zero)
        }
        #expect(queue.due(at: .zero) == [id("C1"), id("A2"), id("B3")])
        queue.startAttempt(id("A2"))
        #expect(queue.due(at: .zero) == [id("C1"), id("B3")])
        #expect(queue.entries.map(\.id) == [id("C1"), id("A2"), id("B3")])

        // A deferred attempt makes the entry idle again, due at its retry time.
        _ = queue.record([("b@company.org", .temporaryFailure("451 4.3.0 try later"))], for: id("A2"), now: .zero)
        queue.startAttempt(id("C1"))
        queue.startAttempt(id("B3"))
        #expect(queue.due(at: .zero).isEmpty)
        #expect(queue.nextWakeUp == .zero + .seconds(300))
        #expect(queue.due(at: .zero + .seconds(300)) == [id("A2")])

        // Busy entries never wake the queue manager; finished ones leave the queue.
        let followup = queue.record([("b@company.org", .delivered(via: "local", reply: "ok"))], for: id("C1"), now: .zero)
        #expect(followup.completed)
        #expect(!queue.contains(id("C1")))
        #expect(queue.entries.map(\.id) == [id("A2"), id("B3")])
        let flush = VirtualTime.zero + .seconds(10)
        queue.makeAllDue(at: flush)
        #expect(queue.due(at: flush) == [id("A2")])
        #expect(queue.nextWakeUp == flush)
    }
}

@Suite struct HeaderScanTests {
    @Test(arguments: [
        ("DATE: x\r\nSubject: y\r\n\r\nbody", ["date"]),
        ("Subject: y\r\n Message-ID: folded, not a field\r\nmessage-id: <a@b>\r\n\r\n", ["message-id"]),
        ("Subject: y\r\n\r\nDate: in the body\r\n", []),
        ("Dates: no\nMessage-Id: <a@b>\n\nbody", ["message-id"]),
        ("", []),
    ] as [(String, [String])])
    func findsFieldsInTheHeaderOnly(message: String, expected: [String]) {
        #expect(HeaderScan.presentFields(Array(message.utf8), among: ["date", "message-id"]) == Set(expected))
    }
}
