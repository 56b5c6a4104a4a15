/// One message as the client sees it after STAT, UIDL and LIST.
public struct POP3ListingEntry: Equatable, Sendable {
    /// The message number in this session (RFC 1939 §5), from 1.
    public var message: Int
    /// The size in octets the server gave in LIST.
    public var size: Int
    /// The unique id from UIDL, nil when the server does not support UIDL.
    public var uniqueID: String?

    public init(message: Int, size: Int, uniqueID: String?) {
        self.message = message
        self.size = size
        self.uniqueID = uniqueID
    }
}

/// The maildrop as listed in one session, handed to the job's planner.
public struct POP3MaildropListing: Equatable, Sendable {
    /// From STAT.
    public var messageCount: Int
    /// From STAT, in octets.
    public var totalSize: Int
    /// One entry per message, in message-number order.
    public var entries: [POP3ListingEntry]
    /// Whether UIDL answered `+OK`.
    public var uniqueIDsAvailable: Bool

    public init(messageCount: Int, totalSize: Int, entries: [POP3ListingEntry], uniqueIDsAvailable: Bool) {
        self.messageCount = messageCount
        self.totalSize = totalSize
        self.entries = entries
        self.uniqueIDsAvailable = uniqueIDsAvailable
    }
}

/// Which messages to download (RETR) and which to mark for deletion (DELE), by message number.
/// Retrievals are done first, in the order given, then deletions.
public struct POP3RetrievalPlan: Equatable, Sendable {
    public var retrieve: [Int]
    public var delete: [Int]

    public init(retrieve: [Int] = [], delete: [Int] = []) {
        self.retrieve = retrieve
        self.delete = delete
    }

    /// Download everything and delete nothing.
    public static func retrieveAll(_ listing: POP3MaildropListing) -> POP3RetrievalPlan {
        POP3RetrievalPlan(retrieve: listing.entries.map(\.message))
    }
}

/// What a client session is asked to do.
public struct POP3ClientJob: Sendable {
    public enum TLSMode: Equatable, Sendable {
        /// Stay in plaintext.
        case none
        /// Use STLS (RFC 2595). When `required`, give up (with QUIT) if the server does not offer
        /// it or refuses it; otherwise go on in plaintext.
        case starttls(required: Bool)
        /// TLS from the first octet (port 995).
        case implicit
    }

    public enum Authentication: Equatable, Sendable {
        /// USER then PASS (RFC 1939 §7).
        case userPass
        /// APOP with the greeting's timestamp (RFC 1939 §7); fails if the greeting has none.
        case apop
        /// AUTH PLAIN with an initial response (RFC 5034, RFC 4616).
        case saslPlain
    }

    public var user: String
    public var password: String
    public var tls: TLSMode
    public var authentication: Authentication
    /// Send CAPA after the greeting (and again after TLS, RFC 2595 §4).
    public var requestCapabilities: Bool
    /// How long to wait for each reply.
    public var responseTimeout: Duration
    /// The most octets one downloaded message may hold; a bigger one ends the session.
    public var maximumMessageSize: Int
    /// Chooses what to download and delete once the maildrop is listed.
    public var planner: @Sendable (POP3MaildropListing) -> POP3RetrievalPlan

    public init(
        user: String,
        password: String,
        tls: TLSMode = .none,
        authentication: Authentication = .userPass,
        requestCapabilities: Bool = true,
        responseTimeout: Duration = .seconds(300),
        maximumMessageSize: Int = 32 << 20,
        planner: @escaping @Sendable (POP3MaildropListing) -> POP3RetrievalPlan = { POP3RetrievalPlan.retrieveAll($0) }
    ) {
        self.user = user
        self.password = password
        self.tls = tls
        self.authentication = authentication
        self.requestCapabilities = requestCapabilities
        self.responseTimeout = responseTimeout
        self.maximumMessageSize = maximumMessageSize
        self.planner = planner
    }
}

/// A message the client downloaded, dot-unstuffed, with CRLF line ends.
public struct POP3DownloadedMessage: Equatable, Sendable {
    public var message: Int
    public var uniqueID: String?
    public var content: [UInt8]

    public init(message: Int, uniqueID: String?, content: [UInt8]) {
        self.message = message
        self.uniqueID = uniqueID
        self.content = content
    }
}

/// Something that went wrong in a client session, with the command and the server's reply.
public struct POP3ClientError: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The greeting was `-ERR`.
        case greetingRefused
        /// TLS was required but the server does not offer STLS.
        case tlsUnavailable
        /// The server answered `-ERR` to STLS.
        case tlsRefused
        /// USER, PASS, APOP or AUTH was refused (look at the reply's code: `[AUTH]`, `[IN-USE]`…).
        case authenticationFailed
        /// APOP was asked for but the greeting carries no timestamp.
        case apopUnavailable
        /// Another command got `-ERR`.
        case commandFailed
        /// The server sent something that is not POP3.
        case protocolViolation
        /// A message was larger than the job allows.
        case messageTooLarge
        /// No reply within the job's timeout.
        case timeout
        /// The connection ended before QUIT was answered.
        case connectionClosed
    }

    public var kind: Kind
    /// The command line, secrets redacted; nil for the greeting or the connection.
    public var command: String?
    /// The server's status line, when there was one.
    public var reply: POP3Response?

    public init(kind: Kind, command: String?, reply: POP3Response?) {
        self.kind = kind
        self.command = command
        self.reply = reply
    }
}

/// What a client session achieved.
public struct POP3ClientResult: Equatable, Sendable {
    /// The CAPA lines, from the last CAPA answered (empty if none).
    public var capabilities: [String] = []
    public var tlsActive = false
    /// Whether the login succeeded.
    public var authenticated = false
    /// The listing given to the planner.
    public var listing: POP3MaildropListing?
    public var plan: POP3RetrievalPlan?
    public var downloaded: [POP3DownloadedMessage] = []
    /// Message numbers the server accepted in DELE.
    public var markedForDeletion: [Int] = []
    /// Unique ids of the messages removed: set only once QUIT got `+OK` (RFC 1939 §6). Messages
    /// without a unique id are counted in `deletedCount` only.
    public var deletedUniqueIDs: [String] = []
    public var deletedCount = 0
    /// QUIT was answered with `+OK`.
    public var completed = false
    public var errors: [POP3ClientError] = []

    public init() {}
}

/// What the client engine asks its driver to do: the engines' shared ``EngineAction``. The one
/// event, `.finished(result)`, comes once, after `.close` or when the connection was closed.
public typealias POP3ClientAction = EngineAction<ClientEvent<POP3ClientResult>>
