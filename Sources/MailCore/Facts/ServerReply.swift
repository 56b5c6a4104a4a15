/// The end of a server's reply, as the server engine reports it: what kind of reply it was and
/// what the server waits for next.
///
/// A client (the tutor's learner session, the replay, the bridge's log) needs to know when a
/// server has finished answering and what it must send next: another command, message data after
/// `354`, a SASL response after `334`/`+`, the octets of an IMAP literal, IDLE's `DONE`, a TLS
/// handshake, or nothing because the server is closing. The server engine knows this from its own
/// state; it reports a `ServerReply` each time a reply is complete, so nobody above the engines
/// re-reads reply text to find out.
///
/// `end` ties the report to the bytes: it is the number of octets the server has written on the
/// connection (application data, plaintext, from the first byte of the greeting) up to and
/// including this reply. A reader that counts the server's octets it has seen knows that the
/// reply is all there once its count reaches `end`.
public struct ServerReply: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        /// SMTP 2xx, POP3 `+OK`, IMAP `OK`/`PREAUTH`.
        case positive
        /// SMTP 4xx/5xx, POP3 `-ERR`, IMAP `NO`/`BAD`/`BYE`.
        case negative
        /// SMTP 3xx (`334`, `354`), POP3 and IMAP `+`.
        case continuation
        /// No answer to anything: news the server sent on its own (IMAP's untagged `EXISTS`,
        /// `EXPUNGE`, `FETCH` pushed during IDLE). `code` is its first words (`* 5`).
        case update
    }

    public var status: Status
    /// The reply's status as the learner sees it on the wire: SMTP `250`, POP3 `+OK`/`-ERR`/`+`,
    /// IMAP tagged `OK`/`NO`/`BAD`, untagged `* OK`/`* PREAUTH`/`* BYE` (greeting, closing), `+`,
    /// and for an update the first two words of its first line (`* 5`).
    public var code: String
    /// What the server waits for now.
    public var awaiting: ServerAwaits
    /// Octets the server has written on the connection up to the end of this reply.
    public var end: Int

    public init(status: Status, code: String, awaiting: ServerAwaits, end: Int) {
        self.status = status
        self.code = code
        self.awaiting = awaiting
        self.end = end
    }

    /// An SMTP reply with basic code `code` (RFC 5321 §4.2.1: 2yz positive, 3yz intermediate).
    public static func smtp(_ code: Int, awaiting: ServerAwaits, end: Int) -> ServerReply {
        let status: Status = code >= 400 ? .negative : code >= 300 ? .continuation : .positive
        return ServerReply(status: status, code: String(code), awaiting: awaiting, end: end)
    }
}

/// What a server waits for once its reply is complete.
public enum ServerAwaits: Hashable, Sendable {
    /// The next command.
    case command
    /// A SASL response line (after SMTP `334`, POP3 `+`, IMAP `+` to AUTHENTICATE).
    case saslResponse
    /// SMTP: the message after `354`, up to a line holding only `.`.
    case messageData
    /// IMAP: the octets of the synchronising literal just accepted with `+`, then the rest of
    /// the command.
    case literal
    /// IMAP IDLE: `DONE`.
    case idleDone
    /// STARTTLS/STLS accepted: the client's TLS handshake.
    case tlsHandshake
    /// Nothing: the server is closing the connection (QUIT, LOGOUT, a timeout, too many errors).
    case nothing
}

/// An engine that reports the ends of its replies (the three server engines).
public protocol ReplyReporting {
    var replies: [ServerReply] { get set }
}

extension ReplyReporting {
    /// The replies completed since the last call, in order; leaves the engine's list empty.
    public mutating func takeReplies() -> [ServerReply] {
        guard !replies.isEmpty else { return [] }
        let taken = replies
        replies = []
        return taken
    }

    /// Hands each reply completed since the last call to `body`, in order, and empties the list
    /// while keeping its buffer.
    public mutating func drainReplies(_ body: (ServerReply) -> Void) {
        guard !replies.isEmpty else { return }
        for reply in replies { body(reply) }
        replies.removeAll(keepingCapacity: true)
    }
}

/// One `ServerReply` in the world's ``ReplyJournal``: which connection, and when.
public struct ReplyRecord: Hashable, Sendable {
    /// Position in the journal since the world started (never reused, survives trimming).
    public var sequence: Int
    /// The connection's id in the world (the `session` of its facts).
    public var session: Int
    /// Time since the world started.
    public var time: Duration
    public var reply: ServerReply

    public init(sequence: Int, session: Int, time: Duration, reply: ServerReply) {
        self.sequence = sequence
        self.session = session
        self.time = time
        self.reply = reply
    }
}

/// The world's journal of server replies (bounded like its facts).
public typealias ReplyJournal = BoundedJournal<ReplyRecord>

extension BoundedJournal where Record == ReplyRecord {
    public mutating func append(_ reply: ServerReply, session: Int, time: Duration) {
        append { ReplyRecord(sequence: $0, session: session, time: time, reply: reply) }
    }

    /// The replies of connection `session` still kept, in order.
    public func replies(of session: Int) -> [ServerReply] {
        records.lazy.filter { $0.session == session }.map(\.reply)
    }
}

/// Follows one connection's server replies against the server octets a reader has seen: feed it
/// the replies reported for the connection (``expect(_:)``) and the count of octets seen
/// (``advance(to:)``); it hands back the replies whose last octet has been seen.
public struct ReplyTracker: Sendable {
    private var pending: [ServerReply] = []
    private var head = 0
    /// Server octets seen so far.
    public private(set) var seen = 0
    /// The last reply whose octets have all been seen.
    public private(set) var last: ServerReply?

    public init() {}

    public mutating func expect(_ reply: ServerReply) {
        if head > 64 && head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        pending.append(reply)
    }

    /// Counts `octets` more server octets (``completed()`` then hands out the replies they end).
    public mutating func advance(by octets: Int) {
        seen += octets
    }

    /// The replies complete at the octets seen so far that were not handed out yet.
    public mutating func completed() -> [ServerReply] {
        var done: [ServerReply] = []
        while head < pending.count, pending[head].end <= seen {
            done.append(pending[head])
            head += 1
        }
        if let final = done.last { last = final }
        return done
    }

    /// The reply complete within the next `octets` octets, if one ends there, without counting
    /// them (a reader deciding how to show a chunk before it moves on).
    public func reply(endingWithin octets: Int) -> ServerReply? {
        var index = head
        var found: ServerReply?
        while index < pending.count, pending[index].end <= seen + octets {
            found = pending[index]
            index += 1
        }
        return found
    }
}
