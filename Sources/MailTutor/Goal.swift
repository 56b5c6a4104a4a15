import Foundation

/// A goal: a predicate over the world and the learner's sessions, with its description.
public struct Goal: Equatable, Sendable {
    public var id: String
    public var description: LocalizedText?
    public var predicate: GoalPredicate
    public var line: Int
}

/// The goal vocabulary of lessons and scenarios (`expect:` and task `goals:`).
public enum GoalPredicate: Equatable, Sendable {
    /// A session to `host` (and `port`) authenticated, optionally as `user`.
    case authenticated(host: String?, port: Int?, user: String?)
    /// A server accepted a message from `from` to `to` (either may be nil for "any").
    case accepted(from: String?, to: String?)
    /// Message `message` (sequence number) in `user`'s `folder` has (or lacks) `flag`.
    case flag(user: String, folder: String, message: Int, flag: String, set: Bool)
    /// These command verbs were sent in this order within one session (`[STARTTLS, AUTH]`).
    case order([String])
    /// A reply starting with `code` was received (`250`, `5.7.1`, `+OK`, `NO`).
    case reply(code: String, host: String?, port: Int?)
    /// The learner sent a command with this verb (`EHLO`, `UIDL`, `IDLE`).
    case sent(command: String, host: String?, port: Int?)
    /// A session to `host` ran under TLS.
    case tls(host: String?, port: Int?)
    /// `user`'s `folder` holds exactly (or at least) `count` messages.
    case mailboxCount(user: String, folder: String, count: Int, atLeast: Bool)
    /// `user`'s `folder` holds a message from `from` whose subject contains `subject` (either may be nil).
    case message(user: String, folder: String, from: String?, subject: String?)
    /// No message waits in the queue of `host` (any host when nil).
    case queueEmpty(host: String?)
    /// The queue of `host` holds exactly `count` messages.
    case queueCount(host: String?, count: Int)
    /// The wire log contains this text.
    case transcript(contains: String)

    /// Names of the predicate keys in YAML, in this order.
    public static let keys = ["authenticated", "accepted", "flag", "order", "reply", "sent", "tls",
                              "mailbox-count", "message", "queue-empty", "queue-count", "transcript"]

    /// Hosts the predicate names, for cross-reference checks.
    public var hostsNamed: [String] {
        switch self {
        case let .authenticated(host, _, _), let .reply(_, host, _), let .sent(_, host, _), let .tls(host, _),
             let .queueEmpty(host), let .queueCount(host, _):
            return host.map { [$0] } ?? []
        case .accepted, .flag, .order, .mailboxCount, .message, .transcript:
            return []
        }
    }

    public var usersNamed: [String] {
        switch self {
        case let .flag(user, _, _, _, _), let .mailboxCount(user, _, _, _), let .message(user, _, _, _): return [user]
        case let .authenticated(_, _, user): return user.map { [$0] } ?? []
        case .accepted, .order, .reply, .sent, .tls, .queueEmpty, .queueCount, .transcript: return []
        }
    }
}

/// What the tutor saw of one learner session.
public struct SessionRecord: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var protocolKind: MailProtocol
    /// Command verbs (upper-cased; IMAP tags removed) in the order they were sent.
    public var verbs: [String] = []
    public var replies: [String] = []
    public var tls = false
    public var authenticatedUser: String?
    public var accepted: [(from: String, to: [String])] = []

    public init(host: String, port: Int, protocolKind: MailProtocol) {
        self.host = host
        self.port = port
        self.protocolKind = protocolKind
    }

    public static func == (lhs: SessionRecord, rhs: SessionRecord) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port && lhs.verbs == rhs.verbs && lhs.replies == rhs.replies
            && lhs.tls == rhs.tls && lhs.authenticatedUser == rhs.authenticatedUser
            && lhs.accepted.map(\.from) == rhs.accepted.map(\.from) && lhs.accepted.map(\.to) == rhs.accepted.map(\.to)
    }

    mutating func apply(_ event: SessionEvent) {
        switch event {
        case .tlsEstablished: tls = true
        case let .authenticated(user): authenticatedUser = user
        case let .accepted(from, to, _): accepted.append((from, to))
        case .closed: break
        }
    }

    /// The verb of a command line: first word, or second for IMAP (after the tag).
    public static func verb(of line: String, protocolKind: MailProtocol) -> String {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        let index = protocolKind == .imap ? 1 : 0
        guard words.count > index else { return "" }
        var verb = String(words[index]).uppercased()
        if let colon = verb.firstIndex(of: ":") { verb = String(verb[..<colon]) }
        if protocolKind == .imap, verb == "UID", words.count > 2 { verb = "UID " + words[2].uppercased() }
        return String(verb.prefix(32))
    }
}

/// Everything the learner did that goals look at: sessions (commands, replies, TLS, auth) and
/// messages sent with the `send` command.
public struct FactLog: Equatable, Sendable {
    public var sessions: [SessionRecord] = []
    public var submitted: [(from: String, to: [String])] = []
    public init() {}

    public static func == (lhs: FactLog, rhs: FactLog) -> Bool {
        lhs.sessions == rhs.sessions && lhs.submitted.map(\.from) == rhs.submitted.map(\.from)
    }
}

/// Evaluates goal predicates against the facts and the world's state.
public enum GoalEvaluator {
    public static func isMet(_ predicate: GoalPredicate, facts: FactLog, world: TutorWorld) -> Bool {
        func matches(_ record: SessionRecord, _ host: String?, _ port: Int?) -> Bool {
            (host.map { sameHost($0, record.host) } ?? true) && (port.map { $0 == record.port } ?? true)
        }
        switch predicate {
        case let .authenticated(host, port, user):
            return facts.sessions.contains { record in
                guard matches(record, host, port), let who = record.authenticatedUser else { return false }
                return user.map { sameUser($0, who) } ?? true
            }
        case let .accepted(from, to):
            let sessionAccepts = facts.sessions.flatMap(\.accepted)
            return (sessionAccepts + facts.submitted).contains { entry in
                (from.map { sameAddress($0, entry.from) } ?? true)
                    && (to.map { wanted in entry.to.contains { sameAddress(wanted, $0) } } ?? true)
            }
        case let .flag(user, folder, message, flag, set):
            guard let entries = try? world.mailbox(user: user, folder: folder),
                  let entry = entries.first(where: { $0.sequence == message }) else { return false }
            let has = entry.flags.contains { $0.caseInsensitiveCompare(flag) == .orderedSame }
            return has == set
        case let .order(verbs):
            let wanted = verbs.map { $0.uppercased() }
            return facts.sessions.contains { record in
                var index = 0
                for verb in record.verbs where index < wanted.count && verb == wanted[index] { index += 1 }
                return index == wanted.count
            }
        case let .reply(code, host, port):
            return facts.sessions.contains { record in
                matches(record, host, port) && record.replies.contains { replyHasCode($0, code) }
            }
        case let .sent(command, host, port):
            return facts.sessions.contains { matches($0, host, port) && $0.verbs.contains(command.uppercased()) }
        case let .tls(host, port):
            return facts.sessions.contains { matches($0, host, port) && $0.tls }
        case let .mailboxCount(user, folder, count, atLeast):
            guard let entries = try? world.mailbox(user: user, folder: folder) else { return false }
            return atLeast ? entries.count >= count : entries.count == count
        case let .message(user, folder, from, subject):
            guard let entries = try? world.mailbox(user: user, folder: folder) else { return false }
            return entries.contains { entry in
                (from.map { sameAddress($0, entry.from) || entry.from.lowercased().contains($0.lowercased()) } ?? true)
                    && (subject.map { entry.subject.range(of: $0, options: [.caseInsensitive, .diacriticInsensitive]) != nil } ?? true)
            }
        case let .queueEmpty(host):
            guard let entries = try? world.queue(host: host) else { return false }
            return entries.isEmpty
        case let .queueCount(host, count):
            guard let entries = try? world.queue(host: host) else { return false }
            return entries.count == count
        case let .transcript(contains):
            return world.wireLog().contains { $0.text.contains(contains) }
        }
    }

    /// A reply line carries `code` when, after an optional IMAP tag, it starts with it
    /// (`250`, `250-`, `5.7.1` in `554 5.7.1 …`, `+OK`, `-ERR`, `NO`, `BAD`).
    public static func replyHasCode(_ line: String, _ code: String) -> Bool {
        let words = line.split(separator: " ").map(String.init)
        guard let first = words.first else { return false }
        if first.hasPrefix(code) { return true }
        if words.count > 1, words[1].hasPrefix(code) { return true }
        return false
    }

    static func sameHost(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }
    static func sameUser(_ a: String, _ b: String) -> Bool {
        let a = a.lowercased(), b = b.lowercased()
        return a == b || a.split(separator: "@").first == b.split(separator: "@").first
    }
    static func sameAddress(_ a: String, _ b: String) -> Bool {
        func bare(_ s: String) -> String { s.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) }
        return bare(a) == bare(b)
    }
}

/// Goals of a task: a goal once met stays met.
public struct GoalTracker: Sendable {
    public private(set) var goals: [Goal]
    public private(set) var met: Set<String> = []

    public init(goals: [Goal]) { self.goals = goals }

    /// Re-evaluates the goals not yet met; returns those newly met.
    public mutating func update(facts: FactLog, world: TutorWorld) -> [Goal] {
        var newly: [Goal] = []
        for goal in goals where !met.contains(goal.id) {
            if GoalEvaluator.isMet(goal.predicate, facts: facts, world: world) {
                met.insert(goal.id)
                newly.append(goal)
            }
        }
        return newly
    }

    public var isComplete: Bool { goals.allSatisfy { met.contains($0.id) } }
}
