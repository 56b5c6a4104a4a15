/// Facts: what a protocol engine reports about what happened in its session, as it happens.
///
/// Every engine (SMTP, POP3 and IMAP; server and client) appends facts to its `facts` array while
/// it handles input; the glue that runs the engine on a connection drains them after every call
/// (`takeFacts()`), adds where and when they happened (`FactContext`) and appends them to the
/// world's bounded journal (`FactJournal`). The tutor's goals, `why`, replay and the bridge's log
/// read that journal: nothing above the engines re-parses protocol text to learn what a session did.
///
/// Conventions: addresses are as the client wrote them between `<` and `>` (empty for `<>`);
/// mailbox names are the decoded names (UTF-8, `INBOX` upper-cased); UIDs are the message UIDs in
/// the mailbox named by the fact; `code` is the reply's basic code and `enhanced` its enhanced code
/// (`5.7.1`) when it has one.
public enum ProtocolFact: Hashable, Sendable {
    case session(SessionFact)
    case smtp(SMTPFact)
    case pop3(POP3Fact)
    case imap(IMAPFact)
    case mta(MTAFact)
}

/// Facts every protocol shares.
public enum SessionFact: Hashable, Sendable {
    /// The server sent its greeting (`220`, `+OK`, `* OK`/`* PREAUTH`).
    case greeting
    /// The TLS handshake finished: after STARTTLS/STLS, or at once on an implicit-TLS port.
    case tlsEstablished
    /// The client authenticated: SMTP AUTH, POP3 USER/PASS (`mechanism` "USER") or APOP or AUTH,
    /// IMAP LOGIN (`mechanism` "LOGIN-COMMAND") or AUTHENTICATE. `user` is the login.
    case authSucceeded(mechanism: String, user: String)
    /// An authentication attempt failed; `user` when the engine learnt it.
    case authFailed(mechanism: String, user: String?)
    /// A command was answered with an error: SMTP 4xx/5xx, POP3 `-ERR`, IMAP `NO`/`BAD`.
    /// `command` is the verb as the engine understood it (upper-cased; empty when unparsable),
    /// `status` the reply's status (`530`, `-ERR`, `NO`, `BAD`), `code` a response code when there is
    /// one (`5.7.0`, `AUTH`, `PRIVACYREQUIRED`, `NONEXISTENT`).
    case refused(command: String, status: String, code: String?)
    /// The session ended (QUIT/LOGOUT, timeout, error, or the peer closed).
    case closed
    /// The server listed its capabilities (POP3 CAPA, IMAP CAPABILITY; SMTP's EHLO is `hello`).
    case capabilities
}

public enum SMTPFact: Hashable, Sendable {
    case hello(name: String, extended: Bool)
    case mailAccepted(from: String)
    case mailRefused(from: String, code: Int, enhanced: String?)
    case rcptAccepted(to: String)
    case rcptRefused(to: String, code: Int, enhanced: String?)
    /// The message was accepted (`250 … queued as ID`): its envelope, its size in octets, and how
    /// many of its lines start with a dot once unstuffed (the client doubled that dot, RFC 5321 §4.5.2).
    case messageAccepted(queueID: String, from: String, to: [String], size: Int, dotLines: Int = 0)
    case messageRefused(code: Int, enhanced: String?)
    /// RSET: `hadTransaction` says whether a MAIL FROM was pending.
    case reset(hadTransaction: Bool)
    case verify(argument: String, code: Int)
}

public enum POP3Fact: Hashable, Sendable {
    case stat(messages: Int, octets: Int)
    /// LIST (`uidl: false`) or UIDL (`uidl: true`), of one message or of all (`message` nil).
    case listed(message: Int?, uidl: Bool)
    case retrieved(message: Int, uidl: String, size: Int)
    case top(message: Int, lines: Int, uidl: String)
    case markedDeleted(message: Int, uidl: String)
    /// RSET: the messages unmarked.
    case reset(restored: [String])
    /// QUIT in the TRANSACTION state: the UPDATE state removed these messages (UIDLs).
    case committed(deleted: [String])
}

/// The IMAP connection states (RFC 3501 §3).
public enum IMAPStateName: String, Hashable, Sendable {
    case notAuthenticated = "not-authenticated"
    case authenticated
    case selected
    case logout
}

public enum IMAPFact: Hashable, Sendable {
    case state(IMAPStateName)
    case selected(mailbox: String, readOnly: Bool, exists: Int)
    /// FETCH / UID FETCH: the UIDs returned, the items asked (upper-cased, as `BODY[HEADER]`,
    /// `BODY.PEEK[]`, `FLAGS`, `UID`, `ENVELOPE`), whether every body item was a PEEK and the UIDs
    /// that gained `\Seen` because of it.
    case fetched(mailbox: String, uids: [UInt32], items: [String], peek: Bool, seenSet: [UInt32], byUID: Bool)
    /// STORE / UID STORE: the UIDs changed and how (`IMAPStoreOperation`: replace, add, remove).
    case stored(mailbox: String, uids: [UInt32], operation: IMAPStoreOperation, flags: [String], silent: Bool, byUID: Bool)
    /// COPY / MOVE (and their UID forms).
    case copied(source: String, destination: String, sourceUIDs: [UInt32], destinationUIDs: [UInt32], moved: Bool, byUID: Bool)
    case expunged(mailbox: String, uids: [UInt32])
    /// SEARCH / UID SEARCH: each search key as `KEY` or `KEY argument` (upper-cased key, argument
    /// as given, nested keys flattened in order, with `NOT`/`OR` as their own entries), and the
    /// UIDs found.
    case searched(mailbox: String, criteria: [String], resultUIDs: [UInt32], byUID: Bool)
    case listed(reference: String, pattern: String, subscribedOnly: Bool, result: [String])
    case status(mailbox: String, items: [String])
    case created(mailbox: String)
    case renamed(from: String, to: String)
    case deleted(mailbox: String)
    case subscribed(mailbox: String)
    case unsubscribed(mailbox: String)
    case appended(mailbox: String, uid: UInt32)
    case idleStarted
    case idleEnded
    /// An untagged update pushed to the client outside a command's own responses (during IDLE, or
    /// after a command): `EXISTS 3`, `RECENT 1`, `EXPUNGE 2`, `FETCH 1 (FLAGS (\Seen))`.
    case pushed(String, duringIdle: Bool)
    /// The selected mailbox was closed, by `command`: CLOSE (expunges), UNSELECT, a SELECT or
    /// EXAMINE of another one (RFC 3501 §6.3.1), or LOGOUT.
    case closedMailbox(mailbox: String, expunged: Bool, command: String)
}

/// What a transfer agent did with a message it holds.
public enum MTAFact: Hashable, Sendable {
    case relayed(queueID: String, nextHop: String, recipients: [String])
    case deferred(queueID: String, recipients: [String], reason: String)
    case bounced(queueID: String, recipients: [String], reason: String)
    case delivered(queueID: String, recipient: String, user: String, folder: String, uid: UInt32)
    /// A receiving MTA ran SPF, DKIM and DMARC on a message that arrived on its relay port
    /// (RFC 7208, RFC 6376 §6, RFC 7489 §6.6): the results as `Authentication-Results:` words
    /// (`pass`, `fail`, `softfail`, `neutral`, `none`, `permerror`, `temperror`; one DKIM result
    /// per signature), and what it did with the message (`delivered`, `quarantined`, `rejected`).
    case checked(queueID: String, from: String, fromDomain: String, spf: String, dkim: [String], dmarc: String, action: String)
}

/// Where and when a fact happened.
///
/// What is fixed for one end of a connection (its host, port, session, peer and role) lives in
/// an ``Origin`` that the facts of that end share: copying a context into the journal counts one
/// reference, not one per name.
public struct FactContext: Hashable, Sendable {
    public enum Role: String, Hashable, Sendable { case server, client, agent }

    /// The part of a context that does not change from one fact of a session to the next.
    public final class Origin: Sendable {
        public let host: String
        public let port: UInt16
        public let session: Int
        public let peer: String
        public let role: Role

        public init(host: String, port: UInt16, session: Int, peer: String, role: Role) {
            self.host = host
            self.port = port
            self.session = session
            self.peer = peer
            self.role = role
        }
    }

    /// Time since the world started.
    public var time: Duration
    /// Host, port, session, peer and role.
    public let origin: Origin
    /// Whether TLS was up when the fact happened.
    public var tls: Bool

    /// The host whose engine reported the fact.
    public var host: String { origin.host }
    /// The server's port of the connection (the listening port), 0 for agent facts.
    public var port: UInt16 { origin.port }
    /// The connection's id in the world, 0 for agent facts.
    public var session: Int { origin.session }
    /// The host at the other end (the client for a server fact).
    public var peer: String { origin.peer }
    public var role: Role { origin.role }

    public init(time: Duration, host: String, port: UInt16, session: Int, peer: String, role: Role, tls: Bool) {
        self.init(time: time, origin: Origin(host: host, port: port, session: session, peer: peer, role: role), tls: tls)
    }

    public init(time: Duration, origin: Origin, tls: Bool) {
        self.time = time
        self.origin = origin
        self.tls = tls
    }

    public static func == (lhs: FactContext, rhs: FactContext) -> Bool {
        guard lhs.time == rhs.time, lhs.tls == rhs.tls else { return false }
        if lhs.origin === rhs.origin { return true }
        return lhs.host == rhs.host && lhs.port == rhs.port && lhs.session == rhs.session && lhs.peer == rhs.peer
            && lhs.role == rhs.role
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(time)
        hasher.combine(tls)
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(session)
        hasher.combine(peer)
        hasher.combine(role)
    }
}

public struct FactRecord: Hashable, Sendable {
    /// Position in the journal since the world started (never reused, survives trimming).
    public var sequence: Int
    public var context: FactContext
    public var fact: ProtocolFact

    public init(sequence: Int, context: FactContext, fact: ProtocolFact) {
        self.sequence = sequence
        self.context = context
        self.fact = fact
    }
}

/// A bounded journal: once `limit` records are kept, the oldest half is dropped. Every record
/// gets a sequence number (from 0, never reused); readers keep the number they read up to and
/// ask for what came after. The world keeps two: its facts (``FactJournal``) and the ends of its
/// servers' replies (``ReplyJournal``).
public struct BoundedJournal<Record: Sendable>: Sendable {
    public let limit: Int
    public private(set) var records: [Record] = []
    /// Records dropped to stay within the limit (the sequence number of the first one kept).
    public private(set) var dropped = 0
    /// Sequence number the next record gets.
    public var nextSequence: Int { dropped + records.count }

    public init(limit: Int = 20_000) {
        self.limit = max(limit, 2)
    }

    /// Appends the record `make` builds for the next sequence number.
    public mutating func append(_ make: (_ sequence: Int) -> Record) {
        if records.count >= limit {
            let cut = limit / 2
            records.removeFirst(cut)
            dropped += cut
        }
        records.append(make(nextSequence))
    }

    /// Records with a sequence number at or above `sequence` that are still kept.
    public func records(since sequence: Int) -> ArraySlice<Record> {
        let start = max(0, sequence - dropped)
        return start < records.count ? records[start...] : []
    }
}

/// The world's journal of facts.
public typealias FactJournal = BoundedJournal<FactRecord>

extension BoundedJournal where Record == FactRecord {
    public mutating func append(_ fact: ProtocolFact, context: FactContext) {
        append { FactRecord(sequence: $0, context: context, fact: fact) }
    }
}

/// An engine that reports facts: it appends to `facts`, its runner drains them.
public protocol FactReporting {
    var facts: [ProtocolFact] { get set }
}

extension FactReporting {
    /// The facts reported since the last call, in order; leaves the engine's list empty.
    public mutating func takeFacts() -> [ProtocolFact] {
        guard !facts.isEmpty else { return [] }
        // Handed over whole; a new buffer is made only if more facts come (keeping the capacity of
        // a buffer that is now shared would allocate one at once, for every call).
        let taken = facts
        facts = []
        return taken
    }

    /// Hands each fact reported since the last call to `body`, in order, and empties the list
    /// while keeping its buffer (the runner's path: no array is made or freed per turn).
    public mutating func drainFacts(_ body: (ProtocolFact) -> Void) {
        guard !facts.isEmpty else { return }
        for fact in facts { body(fact) }
        facts.removeAll(keepingCapacity: true)
    }
}
