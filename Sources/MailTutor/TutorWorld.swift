import Foundation
import MailCore

/// The simulated world as the tutor sees it.
///
/// MailTutor never simulates anything itself: the REPL, the scenario runner, goal checks and
/// "predict the reply" quiz questions all go through this protocol, which the lead implements on
/// top of MailSim and MailAgents. Every call runs the simulation to quiescence before it returns
/// (all events due at the current virtual time are processed), so answers are deterministic.
public protocol TutorWorld: AnyObject {
    /// Virtual seconds since the world started.
    var now: Int { get }

    /// Hosts in the order the scenario (or the default world) lists them.
    func hosts() -> [HostInfo]

    /// Resolves `name` with the world's DNS, as `dig NAME TYPE` would.
    func dig(name: String, type: DNSType) -> DigResult

    /// Opens a TCP connection to `host:port` as the learner's machine. With `tls` the session
    /// starts with an implicit TLS handshake (465, 995, 993). Throws when the host is unknown,
    /// down (timeout), or the port is closed (refused); the error text is for the learner.
    func openSession(host: String, port: Int, tls: Bool) throws -> TutorSession

    /// Runs a scenario action (send, fetch, sync, configure, fault, advance). Returns notes for
    /// the learner describing what happened (e.g. "queued as 4F2A1", "mail1 is down").
    func perform(_ action: WorldAction) throws -> [LocalizedText]

    /// Messages in `user`'s `folder` (INBOX when nil). `user` is an address or a login.
    func mailbox(user: String, folder: String?) throws -> [MailboxEntry]

    /// Folder names of a user's mailbox.
    func folders(user: String) throws -> [String]

    /// The text of message `number` (from 1, as `mailbox` numbers them) in `user`'s `folder`
    /// (INBOX when nil), headers and body as stored, for `show`.
    func message(user: String, folder: String?, number: Int) throws -> String

    /// Messages waiting in MTA queues; all hosts when `host` is nil.
    func queue(host: String?) throws -> [QueueEntry]

    /// Every record the wire tap has seen since the start, in order. The REPL shows the new ones
    /// when `sniff on`; `transcript:` goals search them.
    func wireLog() -> [WireRecord]

    /// Explains a server reply line (`554 5.7.1 …`, `-ERR …`, `a NO …`) from the reply catalogue.
    func explain(reply: String, protocolKind: MailProtocol) -> LocalizedText?

    /// The facts the engines reported (the world's journal), from sequence number `since` on.
    func facts(since sequence: Int) -> [FactRecord]
    /// The sequence number the next fact will get (where a new attempt starts reading).
    var nextFactSequence: Int { get }
    /// Host names (lower-case) of the learner's machine and devices: facts of their sessions are
    /// the learner's.
    var learnerHosts: Set<String> { get }

    /// What the learner administers (a scenario's `admin:`); defaults in the extension below.
    var administration: Administration { get }
    func records(zone: String) -> [DNSAnswer]
    func change(dns: DNSChange) throws -> LocalizedText
    func mtaSettings(host: String) throws -> [(key: String, value: String)]
}

/// One learner connection to a simulated server.
public protocol TutorSession: AnyObject {
    var protocolKind: MailProtocol { get }
    var host: String { get }
    var port: Int { get }
    /// Lines the server sent before the learner typed anything (greeting), already received.
    var greeting: [String] { get }
    var isClosed: Bool { get }
    /// Sends one line (the session adds CRLF), runs the world, and returns the reply lines that
    /// arrived and the facts the server's state machine reported (TLS up after STARTTLS,
    /// authentication succeeded, message accepted, connection closed). During DATA the line is
    /// message content and the session dot-stuffs nothing: the learner types what goes on the wire.
    func send(line: String) -> SessionExchange
    /// Closes the connection from the learner's side (Ctrl-D, `quit`).
    func close()
    /// The connection's id in the world (the `session` of its facts); 0 before it is open.
    var connectionID: Int { get }
    /// Lines the server sent on its own since the last command (an IDLE push, a timeout's 421),
    /// after letting the world run what is due now; they are not shown again.
    func takeUnsolicited() -> [String]
}

public struct SessionExchange: Equatable, Sendable {
    public var lines: [String]
    public var events: [SessionEvent]
    /// The end of the server's reply to the line, as its engine reported it (status, code, what
    /// it waits for next); nil when no reply came (a line of a message, a closed connection).
    public var reply: ServerReply?
    public init(lines: [String], events: [SessionEvent] = [], reply: ServerReply? = nil) {
        self.lines = lines
        self.events = events
        self.reply = reply
    }
}

/// What the REPL tells the learner about their session ("authenticated: bob", "message accepted"):
/// derived from the facts the server's engine reported to the journal (TLS from the learner's own
/// client handshake). Goals do not read these; they read the journal (`Goal.swift`).
public enum SessionEvent: Equatable, Sendable {
    /// The TLS handshake finished (after STARTTLS/STLS or at once for implicit TLS).
    case tlsEstablished(String)
    /// The client authenticated as this user (SMTP AUTH, POP3 USER/PASS, IMAP LOGIN/AUTHENTICATE).
    case authenticated(user: String)
    /// An SMTP server accepted a message for these recipients (`250 … queued as ID`).
    case accepted(from: String, to: [String], queueID: String?)
    case closed
}

public struct HostInfo: Equatable, Sendable {
    public var name: String
    public var address: String
    public var up: Bool
    public var services: [ServiceSpec]
    public init(name: String, address: String, up: Bool, services: [ServiceSpec]) {
        self.name = name
        self.address = address
        self.up = up
        self.services = services
    }
}

public struct DNSAnswer: Equatable, Sendable {
    public var name: String
    public var type: DNSType
    public var value: String
    public var preference: Int?
    public var ttl: Int
    public init(name: String, type: DNSType, value: String, preference: Int? = nil, ttl: Int = 3600) {
        self.name = name
        self.type = type
        self.value = value
        self.preference = preference
        self.ttl = ttl
    }
}

public struct DigResult: Equatable, Sendable {
    public enum Status: String, Sendable { case noError = "NOERROR", nxDomain = "NXDOMAIN", servFail = "SERVFAIL" }
    public var status: Status
    public var answers: [DNSAnswer]
    public init(status: Status, answers: [DNSAnswer]) {
        self.status = status
        self.answers = answers
    }
}

public struct MailboxEntry: Equatable, Sendable {
    public var sequence: Int
    public var uid: Int
    public var from: String
    public var subject: String
    public var flags: [String]
    public var size: Int
    public init(sequence: Int, uid: Int, from: String, subject: String, flags: [String], size: Int) {
        self.sequence = sequence
        self.uid = uid
        self.from = from
        self.subject = subject
        self.flags = flags
        self.size = size
    }
}

public struct QueueEntry: Equatable, Sendable {
    public var id: String
    public var host: String
    public var from: String
    public var to: [String]
    public var attempts: Int
    /// Virtual seconds until the next attempt, nil when none is planned.
    public var nextAttemptIn: Int?
    public var lastError: String?
    public init(id: String, host: String, from: String, to: [String], attempts: Int, nextAttemptIn: Int?, lastError: String?) {
        self.id = id
        self.host = host
        self.from = from
        self.to = to
        self.attempts = attempts
        self.nextAttemptIn = nextAttemptIn
        self.lastError = lastError
    }
}

/// One line seen on the wire by the tap.
public struct WireRecord: Equatable, Sendable {
    public var time: Int
    public var from: String
    public var to: String
    /// Plaintext line, or a summary like `[TLS record, 517 bytes]` when the link is encrypted.
    public var text: String
    public var encrypted: Bool
    public init(time: Int, from: String, to: String, text: String, encrypted: Bool) {
        self.time = time
        self.from = from
        self.to = to
        self.text = text
        self.encrypted = encrypted
    }
}

/// Makes worlds: a fresh one per scenario run, per "back" re-run, and per predicted reply.
public protocol WorldDriver {
    /// Builds the world of `scenario` (its hosts, DNS, users, devices), or the default world of the
    /// course when nil, seeded with `seed`.
    func makeWorld(scenario: Scenario?, seed: UInt64) throws -> TutorWorld
}

/// A change to an administered DNS zone (`dns add`, `dns del` at the REPL).
public enum DNSChange: Equatable, Sendable {
    /// Adds a record; `preference` for MX only.
    case add(name: String, type: DNSType, value: String, preference: Int?)
    /// Removes the records of `name` and `type`, only the one with `value` when given.
    case remove(name: String, type: DNSType, value: String?)
}

extension TutorWorld {
    /// What the learner administers in this world (nothing by default).
    public var administration: Administration { Administration() }

    /// The A, MX and TXT records of a zone: its apex and every name under it.
    public func records(zone: String) -> [DNSAnswer] { [] }

    /// Applies a change to an administered zone; says what changed.
    public func change(dns: DNSChange) throws -> LocalizedText {
        throw TutorError(fr: "Ce monde ne permet pas de modifier le DNS.", en: "This world does not let you change the DNS.")
    }

    /// A host's MTA settings as `mta HOST` shows them (key, value), in a stable order.
    public func mtaSettings(host: String) throws -> [(key: String, value: String)] {
        throw TutorError(fr: "Ce monde ne montre pas les réglages des MTA.", en: "This world does not show MTA settings.")
    }

    /// Worlds that cannot show a stored message say so (a scripted test world).
    public func message(user: String, folder: String?, number: Int) throws -> String {
        throw TutorError(fr: "Ce monde ne sait pas afficher un message.", en: "This world cannot show a message.")
    }
}
