import Foundation
import MailCore

import Testing
@testable import MailLabWorld
@testable import MailTutor

/// The tutor against the real simulation: MailSim's network, DNS and TLS, MailAgents' MTAs.
@Suite struct SimulatedWorldTests {
    static func core(language: Language = .en) -> ReplCore {
        let clock = StepClock()
        let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])
        return ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil,
                                                          learner: "ana", clock: clock.now), language: language)
    }

    static let message = ["Subject: Hello", "From: alice@example.com", "To: bob@company.org", "", "Hi Bob.", "."]

    /// Two different valid sessions: AUTH PLAIN with an initial response computed with `b64`, and
    /// AUTH LOGIN answering the 334 prompts, two recipients, RSET in between.
    static let sequences: [(String, [String])] = [
        ("plain", ["EHLO pc.example.com", "STARTTLS", "EHLO pc.example.com", "AUTH PLAIN {b64}",
                   "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@company.org>", "DATA"] + message + ["QUIT"]),
        ("login", ["EHLO pc.example.com", "NOOP", "STARTTLS", "EHLO pc.example.com", "AUTH LOGIN", "YWxpY2U=",
                   "bXlwYXNzd29yZA==", "MAIL FROM:<alice@example.com>", "RSET", "MAIL FROM:<alice@example.com>",
                   "RCPT TO:<bob@company.org>", "RCPT TO:<alice@example.com>", "DATA"] + message + ["QUIT"]),
    ]

    @Test(arguments: sequences)
    func scriptedSubmissionMeetsTheGoalsAndReachesBob(name: String, lines: [String]) {
        let core = Self.core()
        var out = core.evaluate("lesson submit-lesson").text
        #expect(out.contains("Connected to mail.example.com:587"), "\(out)")
        #expect(out.contains("S: 220 mail.example.com ESMTP Postfix"), "\(out)")
        let encoded = core.evaluate("!b64 \\0alice\\0mypassword").text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(encoded == "AGFsaWNlAG15cGFzc3dvcmQ=")
        for line in lines {
            out += core.evaluate(line.replacingOccurrences(of: "{b64}", with: encoded)).text
        }
        #expect(out.contains("S: 220 2.0.0 Ready to start TLS"), "\(name): \(out)")
        #expect(out.contains("(TLS established: mail.example.com"), "\(name): \(out)")
        #expect(out.contains("S: 235 2.7.0 Authentication successful"), "\(name): \(out)")
        #expect(out.contains("(authenticated: alice)"), "\(name): \(out)")
        #expect(out.contains("Ok: queued as "), "\(name): \(out)")
        #expect(out.contains("Goals 3/3"), "\(name): \(out)")
        #expect(out.contains("Exercise complete!"), "\(name): \(out)")
        #expect(out.contains("Connection closed by the server."), "\(name): \(out)")
        // The queue runs: relayed to mail1.company.org, into Bob's INBOX.
        _ = core.evaluate("advance 1m")
        let mailbox = core.evaluate("mailbox bob").text
        #expect(mailbox.contains("alice@example.com  Hello"), "\(name): \(mailbox)")
        #expect(core.evaluate("queue").text.contains("Queue empty."))
    }

    @Test func authBeforeStartTLSGets530WithTheCatalogueExplanation() throws {
        let core = Self.core()
        _ = core.evaluate("connect mail.example.com 587")
        _ = core.evaluate("EHLO pc.example.com")
        let out = core.evaluate("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").text
        #expect(out.contains("S: 530 5.7.0 Must issue a STARTTLS command first"), "\(out)")
        let entry = try #require(ReplyCatalogue.smtp(530))
        #expect(out.contains(entry.title.en), "\(out)")
        #expect(out.contains(entry.meaning.en), "\(out)")
        let french = Self.core(language: .fr)
        _ = french.evaluate("connect mail.example.com 587")
        _ = french.evaluate("EHLO pc.example.com")
        #expect(french.evaluate("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").text.contains(entry.title.fr))
        #expect(french.evaluate("!why").text.contains(entry.meaning.fr))
    }

    @Test func digPrintsTheThreeMXRecordsInZoneFileForm() {
        let out = Self.core().evaluate("dig company.org MX").text
        #expect(out == """
        ;; status: NOERROR
        company.org.\t3600\tIN\tMX\t10 mail1.company.org.
        company.org.\t3600\tIN\tMX\t20 mail2.company.org.
        company.org.\t3600\tIN\tMX\t30 mail-backup.example.net.

        """)
        #expect(Self.core().evaluate("dig nowhere.invalid A").text.contains("NXDOMAIN"))
    }

    @Test func startTLSReallyEncryptsTheRestOfTheSession() throws {
        let world = try #require(try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 3) as? SimulatedWorld)
        let session = try world.openSession(host: "mail.example.com", port: 587, tls: false)
        #expect(session.greeting == ["220 mail.example.com ESMTP Postfix"])
        _ = session.send(line: "EHLO pc.example.com")
        let upgrade = session.send(line: "STARTTLS")
        #expect(upgrade.lines == ["220 2.0.0 Ready to start TLS"])
        #expect(upgrade.events.contains { if case .tlsEstablished = $0 { return true } else { return false } })
        _ = session.send(line: "EHLO pc.example.com")
        let auth = session.send(line: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=")
        #expect(auth.events == [.authenticated(user: "alice")])
        let inside = world.world.transcript(view: .inside)
        let eavesdropper = world.world.transcript(view: .eavesdropper)
        #expect(inside.contains("C: AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="))
        #expect(eavesdropper.contains("C: STARTTLS"))
        #expect(!eavesdropper.contains("C: AUTH PLAIN"))
        #expect(eavesdropper.contains("[TLS ciphertext"))
        let records = world.wireLog()
        #expect(records.first { $0.text.hasPrefix("AUTH PLAIN") }?.encrypted == true)
        #expect(records.first { $0.text == "STARTTLS" }?.encrypted == false)
        #expect(records.first?.from == "mail.example.com:587" && records.first?.to == "learner-pc")
        session.close()
        #expect(session.isClosed)
    }

    @Test func implicitTLSAndPipelinedDataAreHandled() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 4)
        let session = try world.openSession(host: "mail.example.com", port: 465, tls: true)
        #expect(session.greeting == ["220 mail.example.com ESMTP Postfix"])
        #expect(session.send(line: "EHLO pc.example.com").lines.last == "250 DSN")
        #expect(session.send(line: "AUTH LOGIN").lines == ["334 VXNlcm5hbWU6"])
        #expect(session.send(line: "Ym9i").lines == ["334 UGFzc3dvcmQ6"])
        #expect(session.send(line: "c2VjcmV0MTIz").lines.first?.hasPrefix("535") == true)
        let quit = session.send(line: "QUIT")
        #expect(quit.lines == ["221 2.0.0 Bye"])
        #expect(quit.events.contains(.closed))
        #expect(session.isClosed)
        #expect(session.send(line: "NOOP").events == [.closed])
    }

    /// Implicit TLS to a port that speaks plain SMTP fails; the tutor's message gives the reason
    /// in the learner's language (the reason used to be English inside the French message).
    @Test func failedImplicitTLSExplainsWhyInBothLanguages() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 4)
        do {
            _ = try world.openSession(host: "mail.example.com", port: 25, tls: true)
            Issue.record("TLS to a plain SMTP port should fail")
        } catch let error as TutorError {
            #expect(error.message.fr.hasPrefix("Échec de la négociation TLS avec mail.example.com:25 ("), "\(error.message.fr)")
            #expect(error.message.en.hasPrefix("TLS negotiation with mail.example.com:25 failed ("), "\(error.message.en)")
            // A reason from the connection, not the fallback for no answer at all.
            #expect(["échec TLS", "réinitialisée", "fermée"].contains { error.message.fr.contains($0) }, "\(error.message.fr)")
            for english in ["closed by the server", "connection reset by peer", "TLS failure", "no answer"] {
                #expect(!error.message.fr.contains(english), "\(error.message.fr)")
            }
        }
    }

    @Test func acceptedFactCarriesTheEnvelopeAndQueueID() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 5)
        let session = try world.openSession(host: "mail1.company.org", port: 25, tls: false)
        _ = session.send(line: "EHLO mail.example.com")
        _ = session.send(line: "MAIL FROM:<alice@example.com>")
        #expect(session.send(line: "RCPT TO:<nobody@company.org>").lines.first?.hasPrefix("550 5.1.1") == true)
        _ = session.send(line: "RCPT TO:<bob@company.org>")
        #expect(session.send(line: "DATA").lines == ["354 End data with <CR><LF>.<CR><LF>"])
        #expect(session.send(line: "Subject: test").lines.isEmpty)
        #expect(session.send(line: "").lines.isEmpty)
        let end = session.send(line: ".")
        let reply = try #require(end.lines.last)
        // The accepted message comes from the server engine's fact, with the queue id it replied.
        guard case let .accepted(_, _, id?)? = end.events.first else { Issue.record("no accepted fact: \(end.events)"); return }
        #expect(reply.hasSuffix("queued as \(id)"))
        #expect(end.events == [.accepted(from: "alice@example.com", to: ["bob@company.org"], queueID: id)])
        #expect(try world.mailbox(user: "bob@company.org", folder: nil).map(\.subject) == ["test"])
    }

    @Test func unreachableTargetsGiveClearErrors() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 1)
        #expect(throws: TutorError.self) { try world.openSession(host: "nowhere.test", port: 25, tls: false) }
        do {
            _ = try world.openSession(host: "mail.example.com", port: 2525, tls: false)
            Issue.record("a closed port must refuse")
        } catch let error as TutorError {
            #expect(error.message.en.contains("Connection refused"))
        }
        _ = try world.perform(.fault(.down("mail2.company.org")))
        #expect(world.hosts().first { $0.name == "mail2.company.org" }?.up == false)
        let before = world.now
        do {
            _ = try world.openSession(host: "mail2.company.org", port: 25, tls: false)
            Issue.record("a host that is down must time out")
        } catch let error as TutorError {
            #expect(error.message.en.contains("Timed out"))
            #expect(error.message.fr.contains("Délai dépassé"))
        }
        #expect(world.now - before == 30)
    }

    @Test func refusedSubmissionThrows() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 2)
        let notes = try world.perform(.send(SendAction(device: "alice", from: "alice@example.com", to: ["bob@company.org"],
                                                       subject: "ok", body: "fine")))
        #expect(notes.first?.en.contains("accepted, queued as") == true)
        #expect(throws: TutorError.self) {
            try world.perform(.send(SendAction(device: "alice", from: "alice@example.com", to: ["nobody@example.com"],
                                               subject: "no", body: "refused")))
        }
        #expect(throws: TutorError.self) {
            try world.perform(.send(SendAction(device: nil, from: "mallory@elsewhere.test", to: ["bob@company.org"],
                                               subject: "no", body: "no account")))
        }
        let bare = try world.perform(.send(SendAction(device: nil, from: "bob@company.org", to: ["alice@example.com"],
                                                      subject: "bare", body: "from the learner's machine")))
        #expect(bare.first?.en.hasPrefix("learner-pc → mail1.company.org:587") == true)
        _ = try world.perform(.advance(seconds: 60))
        #expect(try world.mailbox(user: "alice", folder: "INBOX").map(\.subject) == ["bare"])
        #expect(try world.mailbox(user: "bob", folder: nil).map(\.subject) == ["ok"])
    }

    static let scenarioText = """
    id: failover-test
    title: {fr: Test, en: Test}
    seed: 11
    world:
      hosts:
        - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission], mta: {domains: [example.com], retry: [5m, 10m]}}
        - {name: mail1.company.org, address: 203.0.113.10, services: [smtp], mta: {domains: [company.org]}}
        - {name: mail2.company.org, address: 203.0.113.11, services: [smtp], mta: {backup-for: [company.org]}}
      dns:
        - {name: company.org, type: MX, preference: 10, value: mail1.company.org}
        - {name: company.org, type: MX, preference: 20, value: mail2.company.org}
      users:
        - {address: alice@example.com, login: alice, password: mypassword, host: mail.example.com}
        - address: bob@company.org
          login: bob
          password: secret123
          host: mail1.company.org
          folders: [Archive]
          messages:
            - {from: carol@example.net, subject: Old news, body: "Read.", folder: Archive, flags: ["\\\\Seen"]}
      devices:
        - {name: laptop, user: alice@example.com, outgoing: {host: mail.example.com, port: 587, tls: starttls, auth: true}}
    steps:
      - down: mail1.company.org
      - send: {device: laptop, to: bob@company.org, subject: Réunion, body: "15 h."}
      - advance: 1m
      - expect:
          - {queue-count: {host: mail2.company.org, count: 1}}
          - {mailbox-count: {user: bob, count: 0}}
          - {flag: {user: bob, folder: Archive, message: 1, flag: "\\\\Seen"}}
      - up: mail1.company.org
      - advance: 15m
      - expect:
          - {message: {user: bob, from: alice@example.com, subject: Réunion}}
          - {queue-empty: true}
    """

    static func scenario() throws -> Scenario {
        let library = Fixtures.library([("Scenarios/failover-test.yaml", scenarioText)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        return try #require(library.scenario("failover-test"))
    }

    @Test func scenarioRunsInTheSimulationAndIsDeterministic() throws {
        let scenario = try Self.scenario()
        func play(seed: UInt64?) throws -> (passed: Bool, transcript: String, queueIDs: [String]) {
            let runner = try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver(), seed: seed)
            let (outcomes, passed) = runner.runAuto()
            for outcome in outcomes where !outcome.passed {
                Issue.record("step \(outcome.index + 1): \(outcome.failures.map(\.id)) \(outcome.error?.description ?? "")")
            }
            let world = try #require(runner.world as? SimulatedWorld)
            let ids = world.facts(since: 0).compactMap { record -> String? in
                if case let .smtp(.messageAccepted(id, _, _, _, _)) = record.fact { return id }
                return nil
            }
            return (passed, world.transcript(), ids)
        }
        let first = try play(seed: nil)
        let second = try play(seed: nil)
        #expect(first.passed)
        #expect(first.transcript == second.transcript)
        #expect(first.transcript.contains("connection timed out"))
        #expect(!first.queueIDs.isEmpty)
        let other = try play(seed: 12)
        #expect(other.passed)
        #expect(other.queueIDs != first.queueIDs)
    }

    @Test func backRebuildsTheSameWorld() throws {
        let runner = try ScenarioRunner(scenario: try Self.scenario(), driver: SimulatedWorldDriver())
        _ = runner.next()
        _ = runner.next()
        _ = runner.next()
        let log = runner.world.wireLog()
        try runner.back()
        #expect(runner.position == 2)
        _ = runner.next()
        #expect(runner.world.wireLog() == log)
    }

    @Test func seededMessagesFoldersAndQueueListing() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: try Self.scenario(), seed: 11)
        #expect(try world.folders(user: "bob") == ["INBOX", "Archive"])
        let archive = try world.mailbox(user: "bob@company.org", folder: "Archive")
        #expect(archive.map(\.subject) == ["Old news"])
        #expect(archive.first?.flags == ["\\Seen"])
        #expect(archive.first?.from == "carol@example.net")
        #expect(throws: TutorError.self) { try world.mailbox(user: "nobody", folder: nil) }
        _ = try world.perform(.fault(.down("mail1.company.org")))
        _ = try world.perform(.fault(.down("mail2.company.org")))
        _ = try world.perform(.send(SendAction(device: "laptop", from: "alice@example.com", to: ["bob@company.org"],
                                               subject: "Wait", body: "…")))
        _ = try world.perform(.advance(seconds: 120))
        let queued = try world.queue(host: "mail.example.com")
        #expect(queued.count == 1)
        let entry = try #require(queued.first)
        #expect(entry.from == "alice@example.com" && entry.to == ["bob@company.org"] && entry.attempts == 1)
        #expect(entry.lastError?.contains("timed out") == true)
        // First retry 5 minutes after the failed attempt (which ended 30 s after the 0 s submission + 30 s).
        #expect(entry.nextAttemptIn.map { (100...300).contains($0) } == true, "\(entry)")
        #expect(throws: TutorError.self) { try world.queue(host: "nowhere") }
        let notes = try world.perform(.configure(ConfigureAction(target: .host("mail.example.com"),
                                                                  settings: [.init(key: "relay", value: "open")])))
        #expect(notes.first?.en == "mail.example.com: relay = open")
    }

    @Test(arguments: [
        ("530 5.7.0 Must issue a STARTTLS command first", MailTutor.MailProtocol.smtp, ["530", "5.7.0"]),
        ("550 5.1.1 <x@y>: User unknown", .smtp, ["550", "5.1.1"]),
        ("-ERR [IN-USE] mailbox locked", .pop3, ["-ERR", "IN-USE"]),
        ("a1 NO [TRYCREATE] no such mailbox", .imap, ["NO", "TRYCREATE"]),
    ])
    func repliesAreExplainedFromTheCatalogue(line: String, kind: MailTutor.MailProtocol, keys: [String]) throws {
        let text = try #require(ReplyExplainer.explain(line, protocolKind: kind))
        for key in keys {
            #expect(text.en.contains(key) && text.fr.contains(key), "\(text)")
        }
        #expect(text.fr != text.en)
        #expect(ReplyExplainer.explain("hello", protocolKind: .smtp) == nil)
    }
}

/// POP3 and IMAP at the learner's prompt, and devices fetching and syncing through the MDA.
@Suite struct SimulatedMailboxAccessTests {
    static func worldWithMailForBob() throws -> TutorWorld {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 9)
        _ = try world.perform(.send(SendAction(device: "alice", from: "alice@example.com", to: ["bob@company.org"],
                                               subject: "Agenda", body: "Monday 10:00.")))
        _ = try world.perform(.advance(seconds: 60))
        return world
    }

    @Test func pop3SessionWithSTLSListRetrAndQuit() throws {
        let world = try Self.worldWithMailForBob()
        let session = try world.openSession(host: "mail1.company.org", port: 110, tls: false)
        #expect(session.protocolKind == .pop3)
        #expect(session.greeting.first?.hasPrefix("+OK") == true)
        let capa = session.send(line: "CAPA")
        #expect(capa.lines.first?.hasPrefix("+OK") == true && capa.lines.last == "." && capa.lines.contains("STLS"))
        let stls = session.send(line: "STLS")
        #expect(stls.events.contains { if case .tlsEstablished = $0 { return true } else { return false } })
        #expect(session.send(line: "USER bob").lines.first?.hasPrefix("+OK") == true)
        #expect(session.send(line: "PASS secret123").events == [.authenticated(user: "bob")])
        let list = session.send(line: "LIST")
        #expect(list.lines.count == 3 && list.lines.last == ".", "\(list.lines)")
        #expect(session.send(line: "LIST 1").lines.count == 1)
        let retr = session.send(line: "RETR 1")
        #expect(retr.lines.contains("Subject: Agenda"))
        #expect(retr.lines.last == ".")
        let bad = session.send(line: "RETR 9")
        #expect(bad.lines.count == 1 && bad.lines[0].hasPrefix("-ERR"))
        #expect(world.explain(reply: bad.lines[0], protocolKind: .pop3) != nil)
        let quit = session.send(line: "QUIT")
        #expect(quit.events.contains(.closed))
        // Every AUTH line after STLS crossed the wire encrypted.
        #expect(world.wireLog().first { $0.text == "PASS secret123" }?.encrypted == true)
    }

    @Test func imapSessionWaitsForTheTaggedReplyAndContinuations() throws {
        let world = try Self.worldWithMailForBob()
        let session = try world.openSession(host: "mail1.company.org", port: 993, tls: true)
        #expect(session.protocolKind == .imap)
        #expect(session.greeting.first?.hasPrefix("* OK") == true)
        #expect(session.send(line: "a1 LOGIN bob secret123").events == [.authenticated(user: "bob")])
        let select = session.send(line: "a2 SELECT INBOX")
        #expect(select.lines.contains("* 1 EXISTS"))
        #expect(select.lines.last?.hasPrefix("a2 OK") == true)
        let fetch = session.send(line: "a3 FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])")
        #expect(fetch.lines.contains("Subject: Agenda"))
        #expect(fetch.lines.last?.hasPrefix("a3 OK") == true)
        #expect(session.send(line: "a4 IDLE").lines.last?.hasPrefix("+") == true)
        #expect(session.send(line: "DONE").lines.last?.hasPrefix("a4 OK") == true)
        #expect(session.send(line: "a5 STORE 1 +FLAGS (\\Flagged)").lines.last?.hasPrefix("a5 OK") == true)
        #expect(try world.mailbox(user: "bob", folder: nil).first?.flags.contains("\\Flagged") == true)
        let no = session.send(line: "a6 SELECT Nowhere")
        #expect(no.lines.last?.hasPrefix("a6 NO") == true)
        let authenticate = try world.openSession(host: "mail1.company.org", port: 993, tls: true)
        #expect(authenticate.send(line: "b1 AUTHENTICATE PLAIN").lines.last?.hasPrefix("+") == true)
        let done = authenticate.send(line: Data("\0bob\0secret123".utf8).base64EncodedString())
        #expect(done.events == [.authenticated(user: "bob")], "\(done.lines)")
    }

    @Test func devicesFetchWithPOP3ModesAndSyncWithIMAP() throws {
        let text = """
        id: devices
        title: {fr: Appareils, en: Devices}
        seed: 5
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission, pop3s, imaps], mta: {domains: [example.com]}, mda: {domains: [example.com]}}
          users:
            - {address: alice@example.com, login: alice, password: mypassword, host: mail.example.com}
          devices:
            - {name: laptop, user: alice@example.com, outgoing: {host: mail.example.com, port: 587, tls: starttls, auth: true}, incoming: {protocol: pop3, host: mail.example.com, port: 995, tls: implicit, mode: keep}}
            - {name: phone, user: alice@example.com, incoming: {protocol: imap, host: mail.example.com, port: 993, tls: implicit}}
        steps:
          - send: {device: laptop, to: alice@example.com, subject: Note, body: "to self"}
        """
        let library = Fixtures.library([("Scenarios/devices.yaml", text)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        let scenario = try #require(library.scenario("devices"))
        let world = try SimulatedWorldDriver().makeWorld(scenario: scenario, seed: 5)
        _ = try world.perform(.send(SendAction(device: "laptop", from: "alice@example.com", to: ["alice@example.com"],
                                               subject: "Note", body: "to self")))
        _ = try world.perform(.advance(seconds: 30))
        let kept = try world.perform(.fetch(device: "laptop"))
        #expect(kept.first?.en.contains("(POP3, mode leave): 1 new, 0 deleted on the server, 1 on the device") == true, "\(kept)")
        #expect(try world.mailbox(user: "alice", folder: nil).count == 1)
        _ = try world.perform(.configure(ConfigureAction(target: .device("laptop"), settings: [.init(key: "mode", value: "delete")])))
        let again = try world.perform(.fetch(device: "laptop"))
        #expect(again.first?.en.contains("0 new, 1 deleted on the server") == true, "\(again)")
        #expect(try world.mailbox(user: "alice", folder: nil).isEmpty)
        _ = try world.perform(.send(SendAction(device: "laptop", from: "alice@example.com", to: ["alice@example.com"],
                                               subject: "Second", body: "x")))
        _ = try world.perform(.advance(seconds: 30))
        let sync = try world.perform(.sync(device: "phone"))
        #expect(sync.first?.en.contains("(IMAP, IDLE): 1 message(s) in INBOX") == true, "\(sync.map(\.en))")
        #expect(throws: TutorError.self) { try world.perform(.fetch(device: "toaster")) }
    }

    @Test func deviceWithoutAuthenticationMeetsTheRelayPolicy() throws {
        let text = """
        id: relay
        title: {fr: Relais, en: Relay}
        seed: 6
        world:
          hosts:
            - {name: mail.oldshop.test, address: 198.51.100.80, services: [smtp], mta: {relay: open, domains: [oldshop.test]}}
            - {name: mail1.company.org, address: 203.0.113.10, services: [smtp], mta: {domains: [company.org]}}
          dns:
            - {name: company.org, type: MX, preference: 10, value: mail1.company.org}
          users:
            - {address: spammer@spam.test, login: spammer, password: x, host: mail.oldshop.test}
            - {address: bob@company.org, login: bob, password: secret123, host: mail1.company.org}
          devices:
            - {name: spambot, user: spammer@spam.test, outgoing: {host: mail.oldshop.test, port: 25, tls: none, auth: false}}
        steps:
          - advance: 1m
        """
        let library = Fixtures.library([("Scenarios/relay.yaml", text)])
        let scenario = try #require(library.scenario("relay"))
        let world = try SimulatedWorldDriver().makeWorld(scenario: scenario, seed: 6)
        let spam = SendAction(device: "spambot", from: "spammer@spam.test", to: ["bob@company.org"], subject: "Cheap", body: "!")
        _ = try world.perform(.send(spam))
        _ = try world.perform(.advance(seconds: 60))
        #expect(try world.mailbox(user: "bob", folder: nil).map(\.subject) == ["Cheap"])
        #expect(!world.wireLog().contains { $0.text.hasPrefix("AUTH") })
        _ = try world.perform(.configure(ConfigureAction(target: .host("mail.oldshop.test"),
                                                          settings: [.init(key: "relay", value: "authenticated")])))
        do {
            _ = try world.perform(.send(spam))
            Issue.record("relaying must now be refused")
        } catch let error as TutorError {
            #expect(error.message.en.contains("554 5.7.1 <bob@company.org>: Relay access denied"), "\(error)")
            #expect(error.message.fr.hasPrefix("Envoi refusé par mail.oldshop.test"))
        }
    }
}

@Suite struct SimulatedSessionTimingTests {
    /// Time advanced while a session is open: the server's idle timeout closes it, and the next
    /// line shows the 421 that arrived meanwhile.
    @Test func idleTimeoutReplyShowsUpAtTheNextLine() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 8)
        let session = try world.openSession(host: "mail.example.com", port: 25, tls: false)
        _ = session.send(line: "EHLO pc.example.com")
        _ = try world.perform(.advance(seconds: 3600))
        let late = session.send(line: "NOOP")
        #expect(late.lines.first?.hasPrefix("421") == true, "\(late.lines)")
        #expect(late.events.contains(.closed))
        #expect(session.isClosed)
    }
}

/// Scenario worlds sign with DKIM when the published key is one the simulation has, and their
/// receivers apply a published DMARC policy.
@Suite struct SimulatedPolicyTests {
    /// The public half of the RSA demonstration key (MailPolicy's `DKIMTestKeys`).
    static let demoKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy80AkgJ4U3i8YeJYiU+e3eRz6hRHntIWlbADBxFYRBXv6g/N/WhRvXaJ9F/SEeihb6KvWeFoJJQgikqlXeYFdD3KSFOlZwRcTW2duR9tCAdMFhydxkAx75fCG083YNS+RZtjtfNbyhCbo1kgP4QZXHjUGTaus7zQu2PhNXHwrHa0BNGYJuWqMazBKXK6zLJqFjgp3zA7Yeo2JeVZ5EwBhNuDMJ+STJU6bo1OYchee82Vdiis+dfuA60Hdur4WiQ6iP6fP/XHw0uWq3YYpG7H36GuNF5+odq+u3d6qD2w+c00HNYK2EdcxA7eyl8BBhHAk3Lx4+On4ia6rQ47t6LfmQIDAQAB"

    static func scenario(key: String) throws -> Scenario {
        let text = """
        id: forgery
        title: {fr: Usurpation, en: Forgery}
        seed: 4
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission], mta: {domains: [example.com]}}
            - {name: mail1.company.org, address: 203.0.113.10, services: [smtp], mta: {domains: [company.org]}}
            - {name: mail.attacker.test, address: 192.0.2.66, services: [smtp, submission], mta: {domains: [attacker.test]}}
          dns:
            - {name: company.org, type: MX, preference: 10, value: mail1.company.org}
            - {name: example.com, type: TXT, value: "v=spf1 ip4:198.51.100.25 -all"}
            - {name: 2024._domainkey.example.com, type: TXT, value: "v=DKIM1; k=rsa; p=\(key)"}
            - {name: _dmarc.example.com, type: TXT, value: "v=DMARC1; p=reject"}
          users:
            - {address: alice@example.com, login: alice, password: mypassword, host: mail.example.com}
            - {address: bob@company.org, login: bob, password: secret123, host: mail1.company.org}
            - {address: mallory@attacker.test, login: mallory, password: evil, host: mail.attacker.test}
          devices:
            - {name: laptop, user: alice@example.com, outgoing: {host: mail.example.com, port: 587, tls: starttls, auth: true}}
            - {name: mallory-pc, user: mallory@attacker.test, outgoing: {host: mail.attacker.test, port: 587, tls: starttls, auth: true}}
        steps:
          - advance: 1m
        """
        let library = Fixtures.library([("Scenarios/forgery.yaml", text)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        return try #require(library.scenario("forgery"))
    }

    @Test func realMessageIsSignedAndForgeryIsRefused() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: try Self.scenario(key: Self.demoKey), seed: 4)
        _ = try world.perform(.send(SendAction(device: "laptop", from: "alice@example.com", to: ["bob@company.org"],
                                               subject: "Planning", body: "Real.")))
        _ = try world.perform(.send(SendAction(device: "mallory-pc", from: "alice@example.com", to: ["bob@company.org"],
                                               subject: "Transfer", body: "Fake.")))
        _ = try world.perform(.advance(seconds: 120))
        #expect(try world.mailbox(user: "bob", folder: nil).map(\.subject) == ["Planning"])
        let log = world.wireLog()
        #expect(log.contains { $0.from == "mail.example.com" && $0.text.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; ") })
        #expect(log.contains { $0.from == "mail.attacker.test" && $0.text.hasPrefix("MAIL FROM:<alice@example.com>") })
        #expect(log.contains { $0.from == "mail1.company.org:25" && $0.text.hasPrefix("550 5.7.1") }, "\(log.map(\.text))")
    }

    @Test func aKeyTheSimulationDoesNotHoldSignsNothing() throws {
        let other = String(Self.demoKey.reversed())
        let world = try SimulatedWorldDriver().makeWorld(scenario: try Self.scenario(key: other), seed: 4)
        _ = try world.perform(.send(SendAction(device: "laptop", from: "alice@example.com", to: ["bob@company.org"],
                                               subject: "Planning", body: "Unsigned.")))
        _ = try world.perform(.advance(seconds: 120))
        #expect(!world.wireLog().contains { $0.text.hasPrefix("DKIM-Signature:") })
    }
}

@Suite struct ReplayRendererTests {
    static func event(_ connection: Int, _ ms: Int64, _ kind: WireEvent.Kind, port: Int = 587,
                      reply: (Int, ServerAwaits)? = nil) -> WireEvent {
        WireEvent(connection: connection, time: ms * 1000, client: "laptop", server: "mail.example.com", port: port, kind: kind,
                  reply: reply.map { .smtp($0.0, awaiting: $0.1, end: 0) })
    }

    @Test func diagramHasAColumnPerHostAndFoldsTheMessage() {
        let events = [
            Self.event(1, 0, .opened),
            // Server lines that end a reply carry it, as the server's engine reported it.
            Self.event(1, 5, .line("220 mail.example.com ESMTP Postfix", fromClient: false, encrypted: false), reply: (220, .command)),
            Self.event(1, 10, .line("EHLO laptop", fromClient: true, encrypted: false)),
            Self.event(1, 15, .line("250-mail.example.com", fromClient: false, encrypted: false)),
            Self.event(1, 15, .line("250 DSN", fromClient: false, encrypted: false), reply: (250, .command)),
            Self.event(1, 20, .line("DATA", fromClient: true, encrypted: true)),
            Self.event(1, 25, .line("354 End data", fromClient: false, encrypted: true), reply: (354, .messageData)),
            Self.event(1, 30, .line("Subject: x", fromClient: true, encrypted: true)),
            Self.event(1, 30, .line("", fromClient: true, encrypted: true)),
            Self.event(1, 30, .line(".", fromClient: true, encrypted: true)),
            Self.event(1, 35, .fin(fromClient: false)),
        ]
        let renderer = ReplayRenderer(color: false, hostOrder: ["laptop", "mail.example.com"])
        let expected = [
            "at +0.000s (each arrow's time is counted from there)",
            "                  laptop               mail.example.com",
            "+0.000s              │────────SYN :587────────▶│",
            "+0.005s              │◀──────────220───────────│",
            "+0.010s              │──────────EHLO──────────▶│",
            "+0.015s              │◀──────────250───────────│",
            "+0.020s              │──────────DATA*─────────▶│",
            "+0.025s              │◀─────────354*───────────│",
            "+0.030s              │──message 2 lines + .*──▶│",
            "+0.035s              │◀──────────FIN───────────│",
        ]
        #expect(renderer.diagram(events) == expected.joined(separator: "\n") + "\n")
        let dialogue = renderer.dialogue(Array(events.prefix(3)))
        #expect(dialogue == "#1 laptop → mail.example.com:587  +0.000s\n  S: 220 mail.example.com ESMTP Postfix\n  C: EHLO laptop\n")
        let colored = ReplayRenderer(color: true, hostOrder: []).dialogue(Array(events.prefix(2)))
        #expect(colored.hasPrefix("\u{1B}[36m#1 laptop"))
        #expect(ReplayRenderer(color: false, language: .fr, hostOrder: []).dialogue([Self.event(2, 0, .timedOut)])
            .contains("-- pas de réponse (délai dépassé) --"))
    }

    @Test(arguments: [
        ([300, 1800, 3600], 300, 3600),
        ([], 300, 4000),
        ([60], 60, 60),
    ])
    func retryListBecomesFirstAndMaximalBackoff(delays: [Int], first: Int64, maximum: Int64) {
        let schedule = SimulatedWorld.retrySchedule(delays: delays, warnAfter: 7200, bounceAfter: 86400)
        #expect(schedule.firstRetrySeconds == first && schedule.maximalBackoffSeconds == maximum)
        #expect(schedule.delayWarningSeconds == 7200 && schedule.maximalLifetimeSeconds == 86400)
    }
}

@Suite struct DefaultWorldAgreementTests {
    /// The spec that `check` validates against is the world the simulation really builds.
    @Test func theSpecDescribesTheWorldThatRuns() throws {
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 1)
        let running = world.hosts().filter { !$0.services.isEmpty }
        #expect(running.map(\.name) == DefaultWorld.hostNames)
        for host in CourseWorldSpec.spec.hosts {
            let live = try #require(running.first { $0.name == host.name })
            #expect(live.address == host.address)
            #expect(Set(live.services.map(\.port)) == Set(host.services.map(\.port)), "\(host.name)")
        }
    }
}

@Suite struct ConnectionCacheSettingTests {
    static func text(_ mta: String) -> String {
        """
        id: cache-test
        title: {fr: Test, en: Test}
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission], mta: \(mta)}
        steps:
          - advance: 1m
        """
    }

    @Test func theMTAKeysReachTheConfiguration() throws {
        let library = Fixtures.library([("Scenarios/cache-test.yaml",
                                         Self.text("{domains: [example.com], destination-concurrency: 1, connection-cache: false}"))])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        let host = try #require(library.scenario("cache-test")?.world.hosts.first)
        let configuration = try SimulatedWorld.configuration(host: host, mta: try #require(host.mta))
        #expect(configuration.destinationConcurrencyLimit == 1)
        #expect(configuration.reusesConnections == false)

        let defaults = Fixtures.library([("Scenarios/cache-test.yaml", Self.text("{domains: [example.com]}"))])
        let plain = try #require(defaults.scenario("cache-test")?.world.hosts.first)
        let standard = try SimulatedWorld.configuration(host: plain, mta: try #require(plain.mta))
        #expect(standard.destinationConcurrencyLimit == 20)
        #expect(standard.reusesConnections)
    }

    @Test func configureChangesTheCacheDuringAScenario() throws {
        let world = try #require(try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 2) as? SimulatedWorld)
        let notes = try world.perform(.configure(ConfigureAction(target: .host("mail.example.com"), settings: [
            .init(key: "destination-concurrency", value: "2"), .init(key: "connection-cache", value: "false"),
        ])))
        #expect(notes.map(\.en) == ["mail.example.com: destination-concurrency = 2", "mail.example.com: connection-cache = false"])
        let mta = try #require(world.mail.mtas["mail.example.com"])
        #expect(mta.configuration.destinationConcurrencyLimit == 2)
        #expect(!mta.configuration.reusesConnections)
        #expect(throws: TutorError.self) {
            try world.perform(.configure(ConfigureAction(target: .host("mail.example.com"),
                                                         settings: [.init(key: "destination-concurrency", value: "0")])))
        }
    }

    @Test func anOutOfRangeLimitIsAnErrorAtItsLine() {
        let library = Fixtures.library([("Scenarios/cache-test.yaml", Self.text("{destination-concurrency: 0}"))])
        let rendered = library.diagnostics.map { $0.render(.en) }
        #expect(rendered.contains { $0.hasPrefix("Scenarios/cache-test.yaml:5:") && $0.contains("destination-concurrency") },
                "\(rendered)")
    }
}

/// `mta: {auth-mechanisms: [...]}`: a scenario world chooses the SASL mechanisms of its
/// submission ports (CRAM-MD5 for lesson 2's exercise); mistakes are errors at their line.
@Suite struct AuthMechanismsSettingTests {
    static func mechanisms(_ mta: String) throws -> [SASLMechanism] {
        let library = Fixtures.library([("Scenarios/cache-test.yaml", ConnectionCacheSettingTests.text(mta))])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        let host = try #require(library.scenario("cache-test")?.world.hosts.first)
        return try SimulatedWorld.configuration(host: host, mta: try #require(host.mta)).submissionMechanisms
    }

    @Test func theMechanismsReachTheConfigurationInTheirOrder() throws {
        #expect(try Self.mechanisms("{domains: [example.com], auth-mechanisms: [CRAM-MD5, PLAIN]}") == [.cramMD5, .plain])
        #expect(try Self.mechanisms("{domains: [example.com]}") == [.plain, .login], "the default")
    }

    @Test(arguments: [
        ("{auth-mechanisms: [PLAIN, SCRAM-SHA-1]}", "unknown value 'SCRAM-SHA-1'"),
        ("{auth-mechanisms: [PLAIN, PLAIN]}", "PLAIN given twice"),
        ("{auth-mechanisms: []}", "at least one mechanism"),
        ("{auth-mechanisms: CRAM-MD5}", "expected a list"),
    ])
    func aWrongListIsAnErrorAtItsLine(mta: String, message: String) {
        let library = Fixtures.library([("Scenarios/cache-test.yaml", ConnectionCacheSettingTests.text(mta))])
        let rendered = library.diagnostics.map { $0.render(.en) }
        #expect(rendered.contains { $0.hasPrefix("Scenarios/cache-test.yaml:5:") && $0.contains(message) }, "\(rendered)")
    }
}

@Suite struct MessageQuotaScenarioTests {
    static let text = """
    id: quota-test
    title: {fr: Test, en: Test}
    seed: 5
    world:
      hosts:
        - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission], mta: {domains: [example.com]}}
        - {name: mail1.company.org, address: 203.0.113.10, services: [smtp, imap], mta: {domains: [company.org]}, mda: {domains: [company.org], quota-messages: 1}}
      dns:
        - {name: company.org, type: MX, preference: 10, value: mail1.company.org}
      users:
        - {address: alice@example.com, login: alice, password: mypassword, host: mail.example.com}
        - address: bob@company.org
          password: secret123
          host: mail1.company.org
          messages:
            - {from: carol@example.net, subject: Already there, body: "Hi."}
      devices:
        - {name: laptop, user: alice@example.com, outgoing: {host: mail.example.com, port: 587, tls: starttls, auth: true}}
    steps:
      - send: {device: laptop, to: bob@company.org, subject: One too many, body: "Full?"}
      - advance: 2m
      - expect:
          - {mailbox-count: {user: bob, count: 1}}
          - {queue-count: {host: mail1.company.org, count: 1}}
    """

    @Test func aFullMailboxDefersDelivery() throws {
        let library = Fixtures.library([("Scenarios/quota-test.yaml", Self.text)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
        let scenario = try #require(library.scenario("quota-test"))
        let runner = try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver())
        let (outcomes, passed) = runner.runAuto()
        for outcome in outcomes where !outcome.passed {
            Issue.record("step \(outcome.index + 1): \(outcome.failures.map(\.id)) \(outcome.error?.description ?? "")")
        }
        #expect(passed)
        let world = try #require(runner.world as? SimulatedWorld)
        let queued = try world.queue(host: "mail1.company.org")
        #expect(queued.first?.lastError?.contains("452 4.2.2") == true, "\(queued)")
    }
}
