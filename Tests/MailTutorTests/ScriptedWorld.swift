import Foundation
import MailCore
@testable import MailTutor

/// A scripted test double of the world protocol: a submission server that follows a fixed script
/// of replies (enough to drive the tutor), a mailbox, a queue and a wire log. It exists only in the
/// test target; the real world is MailSim + MailAgents.
final class ScriptedWorld: TutorWorld {
    var now = 0
    var down: Set<String> = []
    var mailboxes: [String: [MailboxEntry]] = [:]
    var queued: [QueueEntry] = []
    var log: [WireRecord] = []
    var performed: [WorldAction] = []
    /// Facts the scripted sessions report, as the real engines would.
    var journal = FactJournal()
    var sessionsOpened = 0
    func facts(since sequence: Int) -> [FactRecord] { Array(journal.records(since: sequence)) }
    var nextFactSequence: Int { journal.nextSequence }
    let learnerHosts: Set<String> = ["learner-pc"]
    func report(_ fact: ProtocolFact, host: String, port: Int, session: Int, tls: Bool) {
        journal.append(fact, context: FactContext(time: .seconds(now), host: host, port: UInt16(port), session: session,
                                                  peer: "learner-pc", role: .server, tls: tls))
    }
    let hostList: [HostInfo]

    init() {
        hostList = [
            HostInfo(name: "mail.example.com", address: "198.51.100.25", up: true, services: [
                ServiceSpec(kind: .submission, port: 587, tls: .starttls), ServiceSpec(kind: .smtps, port: 465, tls: .implicit)]),
            HostInfo(name: "mail1.company.org", address: "203.0.113.10", up: true, services: [
                ServiceSpec(kind: .smtp, port: 25, tls: .starttls)]),
        ]
    }

    func hosts() -> [HostInfo] {
        hostList.map { var host = $0; host.up = !down.contains($0.name); return host }
    }

    func dig(name: String, type: DNSType) -> DigResult {
        switch (name, type) {
        case ("company.org", .MX):
            return DigResult(status: .noError, answers: [DNSAnswer(name: name, type: .MX, value: "mail1.company.org", preference: 10)])
        case ("mail.example.com", .A):
            return DigResult(status: .noError, answers: [DNSAnswer(name: name, type: .A, value: "198.51.100.25")])
        default:
            return DigResult(status: .nxDomain, answers: [])
        }
    }

    func openSession(host: String, port: Int, tls: Bool) throws -> TutorSession {
        guard hostList.contains(where: { $0.name == host }) else {
            throw TutorError(fr: "hôte inconnu \(host)", en: "unknown host \(host)")
        }
        guard !down.contains(host) else { throw TutorError(fr: "délai dépassé", en: "connection timed out") }
        guard host == "mail.example.com", port == 587 || port == 465 else {
            throw TutorError(fr: "connexion refusée", en: "connection refused")
        }
        return ScriptedSubmissionSession(world: self, host: host, port: port, tls: tls)
    }

    func perform(_ action: WorldAction) throws -> [LocalizedText] {
        performed.append(action)
        switch action {
        case let .fault(.down(host)): down.insert(host)
        case let .fault(.up(host)): down.remove(host)
        case let .advance(seconds): now += seconds
        case let .send(send):
            guard send.from.hasSuffix("@example.com") else {
                throw TutorError(fr: "relais refusé", en: "relay access denied")
            }
            for to in send.to { deliver(to: to, from: send.from, subject: send.subject) }
        case .fault, .fetch, .sync, .configure: break
        }
        return [LocalizedText(fr: "fait : \(performed.count)", en: "done: \(performed.count)")]
    }

    func deliver(to: String, from: String, subject: String) {
        let user = String(to.split(separator: "@").first ?? "")
        var box = mailboxes[user] ?? []
        box.append(MailboxEntry(sequence: box.count + 1, uid: box.count + 1, from: from, subject: subject, flags: [], size: 100))
        mailboxes[user] = box
    }

    func mailbox(user: String, folder: String?) throws -> [MailboxEntry] {
        let login = String(user.split(separator: "@").first ?? "")
        guard ["alice", "bob"].contains(login) else { throw TutorError(fr: "utilisateur inconnu", en: "unknown user") }
        return mailboxes[login] ?? []
    }

    func folders(user: String) throws -> [String] { ["INBOX"] }
    func queue(host: String?) throws -> [QueueEntry] { queued.filter { host == nil || $0.host == host } }
    func wireLog() -> [WireRecord] { log }

    func explain(reply: String, protocolKind: MailTutor.MailProtocol) -> LocalizedText? {
        if reply.hasPrefix("530") {
            return LocalizedText(fr: "530 : il faut chiffrer la session (STARTTLS) avant de s'authentifier.",
                                 en: "530: the session must be encrypted (STARTTLS) before authenticating.")
        }
        if reply.hasPrefix("535") { return LocalizedText(fr: "535 : identifiants refusés.", en: "535: credentials refused.") }
        if reply.hasPrefix("502") { return LocalizedText(fr: "502 : commande inconnue.", en: "502: command not recognised.") }
        return nil
    }
}

/// Replies like a submission server for the handful of commands the tests type.
final class ScriptedSubmissionSession: TutorSession {
    let protocolKind = MailTutor.MailProtocol.smtp
    let host: String
    let port: Int
    let greeting: [String]
    private(set) var isClosed = false
    private unowned let world: ScriptedWorld
    private var tls: Bool
    private var authenticated = false
    private var loginStep = 0
    private var loginUser = ""
    private var from: String?
    private var recipients: [String] = []
    private var inData = false
    let connectionID: Int

    init(world: ScriptedWorld, host: String, port: Int, tls: Bool) {
        self.world = world
        self.host = host
        self.port = port
        self.tls = tls
        greeting = ["220 mail.example.com ESMTP"]
        world.sessionsOpened += 1
        connectionID = world.sessionsOpened
    }

    private func report(_ fact: ProtocolFact) {
        world.report(fact, host: host, port: port, session: connectionID, tls: tls)
    }

    func close() { isClosed = true }
    func takeUnsolicited() -> [String] { [] }

    func send(line: String) -> SessionExchange {
        world.log.append(WireRecord(time: world.now, from: "learner", to: host, text: line, encrypted: tls))
        var exchange = answer(line)
        // The scripted server says what it waits for, as the real engines report it.
        if let last = exchange.lines.last, let code = Int(last.prefix(3)) {
            let awaiting: ServerAwaits = inData ? .messageData : loginStep != 0 ? .saslResponse : isClosed ? .nothing : .command
            exchange.reply = .smtp(code, awaiting: awaiting, end: 0)
        }
        for reply in exchange.lines {
            world.log.append(WireRecord(time: world.now, from: host, to: "learner", text: reply, encrypted: tls))
        }
        return exchange
    }

    private func decode(_ text: String) -> String {
        Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private func answer(_ line: String) -> SessionExchange {
        if inData {
            guard line == "." else { return SessionExchange(lines: []) }
            inData = false
            let accepted = SessionEvent.accepted(from: from ?? "", to: recipients, queueID: "4F2A1")
            report(ProtocolFact.smtp(.messageAccepted(queueID: "4F2A1", from: from ?? "", to: recipients, size: 0)))
            from = nil
            recipients = []
            return SessionExchange(lines: ["250 2.0.0 Ok: queued as 4F2A1"], events: [accepted])
        }
        if loginStep == 1 {
            loginUser = decode(line)
            loginStep = 2
            return SessionExchange(lines: ["334 UGFzc3dvcmQ6"])
        }
        if loginStep == 2 {
            loginStep = 0
            return credentials(user: loginUser, password: decode(line))
        }
        let words = line.split(separator: " ").map(String.init)
        let verb = words.first?.uppercased() ?? ""
        switch verb {
        case "EHLO":
            return SessionExchange(lines: ["250-mail.example.com"] + (tls ? [] : ["250-STARTTLS"]) + ["250 AUTH PLAIN LOGIN"])
        case "STARTTLS":
            if tls { return SessionExchange(lines: ["503 5.5.1 Error: TLS already active"]) }
            tls = true
            report(ProtocolFact.session(.tlsEstablished))
            return SessionExchange(lines: ["220 2.0.0 Ready to start TLS"], events: [.tlsEstablished("TLSv1.3")])
        case "AUTH":
            guard tls else { return SessionExchange(lines: ["530 5.7.0 Must issue a STARTTLS command first"]) }
            let mechanism = words.count > 1 ? words[1].uppercased() : ""
            if mechanism == "PLAIN", words.count > 2 {
                let parts = decode(words[2]).split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
                return credentials(user: parts.count == 3 ? parts[1] : "", password: parts.count == 3 ? parts[2] : "")
            }
            if mechanism == "LOGIN" {
                loginStep = 1
                return SessionExchange(lines: ["334 VXNlcm5hbWU6"])
            }
            return SessionExchange(lines: ["504 5.5.4 Unrecognized authentication type"])
        case "MAIL":
            guard authenticated else { return SessionExchange(lines: ["530 5.7.0 Authentication required"]) }
            from = line.split(separator: "<").last.map { String($0.prefix { $0 != ">" }) }
            return SessionExchange(lines: ["250 2.1.0 Ok"])
        case "RCPT":
            guard from != nil else { return SessionExchange(lines: ["503 5.5.1 Error: need MAIL command"]) }
            recipients.append(line.split(separator: "<").last.map { String($0.prefix { $0 != ">" }) } ?? "")
            return SessionExchange(lines: ["250 2.1.5 Ok"])
        case "DATA":
            guard !recipients.isEmpty else { return SessionExchange(lines: ["503 5.5.1 Error: need RCPT command"]) }
            inData = true
            return SessionExchange(lines: ["354 End data with <CR><LF>.<CR><LF>"])
        case "QUIT":
            isClosed = true
            return SessionExchange(lines: ["221 2.0.0 Bye"], events: [.closed])
        default:
            return SessionExchange(lines: ["502 5.5.2 Error: command not recognized"])
        }
    }

    private func credentials(user: String, password: String) -> SessionExchange {
        if user == "alice", password == "mypassword" {
            authenticated = true
            report(ProtocolFact.session(.authSucceeded(mechanism: "PLAIN", user: "alice")))
            return SessionExchange(lines: ["235 2.7.0 Authentication successful"], events: [.authenticated(user: "alice")])
        }
        return SessionExchange(lines: ["535 5.7.8 Error: authentication failed"])
    }
}

final class ScriptedDriver: WorldDriver {
    private(set) var made: [ScriptedWorld] = []
    var failing = false

    func makeWorld(scenario: Scenario?, seed: UInt64) throws -> TutorWorld {
        if failing { throw TutorError(fr: "monde indisponible", en: "world unavailable") }
        let world = ScriptedWorld()
        made.append(world)
        return world
    }
}

/// A fixed clock: one second per call, from a fixed origin (no wall time in tests).
final class StepClock {
    var seconds: TimeInterval = 0
    func now() -> Date {
        seconds += 1
        return Date(timeIntervalSince1970: 1_800_000_000 + seconds)
    }
}

enum Fixtures {
    static let lesson = """
    id: submit-lesson
    title: {fr: Soumission, en: Submission}
    covers: [smtp.session]
    exercises:
      - id: submit
        task:
          id: submit
          fr: Envoyez un message authentifié.
          en: Send an authenticated message.
          session: {host: mail.example.com, port: 587}
          goals:
            - {id: tls, fr: Session chiffrée, en: Session encrypted, tls: {host: mail.example.com}}
            - {id: auth, fr: Authentifié sous TLS, en: Authenticated under TLS, auth: {host: mail.example.com, port: 587, tls: true}}
            - {id: sent, fr: Message accepté, en: Message accepted, accepted: {from: alice@example.com, to: bob@company.org}}
          hints:
            - {fr: Commencez par EHLO., en: Start with EHLO.}
            - {fr: Puis STARTTLS., en: Then STARTTLS.}
          solution: ["EHLO me", "STARTTLS", "EHLO me", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=", "MAIL FROM:<alice@example.com>",
                     "RCPT TO:<bob@company.org>", "DATA", "Subject: hi", "", "hi", "."]
          advice:
            - {code: "530", fr: Tapez STARTTLS d'abord., en: Type STARTTLS first.}
    quiz:
      - id: port
        kind: numeric
        question: {fr: Port de soumission ?, en: Submission port?}
        answer: 587
        explanation: {fr: C'est 587., en: It is 587.}
      - id: reply
        kind: single
        question: {fr: Réponse à STARTTLS ?, en: Reply to STARTTLS?}
        choices: [{fr: "220", en: "220"}, {fr: "250", en: "250"}]
        answer: 1
        explanation: {fr: 220., en: 220.}
    """

    /// The repository's own Lessons/ and Scenarios/ (the shipped course).
    static var course: ContentLibrary {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return ContentLibrary.load(paths: [root.appendingPathComponent("Lessons").path, root.appendingPathComponent("Scenarios").path])
    }

    static func library(_ texts: [(String, String)]) -> ContentLibrary {
        var library = ContentLibrary()
        for (file, text) in texts { library.add(text: text, file: file) }
        library.diagnostics += library.crossReferenceDiagnostics()
        return library
    }

    static func core(library: ContentLibrary, driver: ScriptedDriver = ScriptedDriver(), store: ProgressStore? = nil,
                     language: Language = .en) -> ReplCore {
        let clock = StepClock()
        return ReplCore(environment: ReplCore.Environment(library: library, driver: driver, store: store, learner: "ana",
                                                          clock: clock.now), language: language)
    }

    /// Feeds lines and returns the whole output.
    static func run(_ core: ReplCore, _ lines: [String]) -> String {
        lines.map { core.evaluate($0).text }.joined()
    }
}
