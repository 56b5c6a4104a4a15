/// How a client uses TLS (RFC 3207 STARTTLS, RFC 8314 implicit TLS).
public enum SMTPClientTLSMode: Hashable, Sendable {
    /// Plaintext only.
    case none
    /// STARTTLS must be offered and succeed, or the session fails before any AUTH or MAIL.
    case startTLSRequired
    /// STARTTLS when offered; plaintext otherwise (what relaying MTAs do on port 25).
    case startTLSOpportunistic
    /// TLS from the first byte: the caller completes the handshake before `start(now:)`.
    case implicit
}

/// Credentials for AUTH.
public struct SMTPClientAuthentication: Hashable, Sendable {
    public var user: String
    /// The password (PLAIN, LOGIN, CRAM-MD5) or the OAuth bearer token (XOAUTH2).
    public var secret: String
    /// The mechanism to use if the server offers it; otherwise the first offered of PLAIN, LOGIN, CRAM-MD5.
    public var preferredMechanism: SASLMechanism?

    public init(user: String, secret: String, preferredMechanism: SASLMechanism? = nil) {
        self.user = user
        self.secret = secret
        self.preferredMechanism = preferredMechanism
    }
}

/// One message to deliver in one session.
public struct SMTPClientJob: Hashable, Sendable {
    public var reversePath: SMTPPath
    public var recipients: [SMTPEnvelopeRecipient]
    /// The message (RFC 5322), CRLF line endings preferred; the engine dot-stuffs it.
    public var data: [UInt8]
    /// The name to announce in EHLO/HELO.
    public var ehloName: String
    public var tls: SMTPClientTLSMode
    public var authentication: SMTPClientAuthentication?
    /// `RET=` and `ENVID=` for DSN (RFC 3461), sent when the server advertises DSN.
    public var ret: String?
    public var envelopeID: String?

    public init(reversePath: SMTPPath, recipients: [SMTPEnvelopeRecipient], data: [UInt8], ehloName: String,
                tls: SMTPClientTLSMode = .none, authentication: SMTPClientAuthentication? = nil,
                ret: String? = nil, envelopeID: String? = nil) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.data = data
        self.ehloName = ehloName
        self.tls = tls
        self.authentication = authentication
        self.ret = ret
        self.envelopeID = envelopeID
    }

    /// A job from plain addresses; `nil` if one of them is not a valid mailbox.
    public init?(from: String, to: [String], data: [UInt8], ehloName: String, tls: SMTPClientTLSMode = .none,
                 authentication: SMTPClientAuthentication? = nil) {
        let sender: SMTPPath
        if from.isEmpty {
            sender = .null
        } else {
            guard let mailbox = SMTPMailbox(from) else { return nil }
            sender = SMTPPath(mailbox: mailbox)
        }
        var recipients: [SMTPEnvelopeRecipient] = []
        for address in to {
            guard let mailbox = SMTPMailbox(address) else { return nil }
            recipients.append(SMTPEnvelopeRecipient(path: SMTPPath(mailbox: mailbox)))
        }
        self.init(reversePath: sender, recipients: recipients, data: data, ehloName: ehloName, tls: tls,
                  authentication: authentication)
    }
}

/// Time limits of a client session (RFC 5321 §4.5.3.2).
public struct SMTPClientTimeouts: Hashable, Sendable {
    /// Greeting, EHLO, MAIL, RCPT, AUTH and other commands (5 minutes).
    public var command: Duration
    /// Waiting for 354 after DATA (2 minutes).
    public var dataInitiation: Duration
    /// Waiting for the reply to the final dot (10 minutes).
    public var dataTermination: Duration

    public init(command: Duration = .seconds(300), dataInitiation: Duration = .seconds(120),
                dataTermination: Duration = .seconds(600)) {
        self.command = command
        self.dataInitiation = dataInitiation
        self.dataTermination = dataTermination
    }
}

/// What the server told us about itself in its EHLO reply.
public struct SMTPServerCapabilities: Hashable, Sendable {
    /// The known extensions the server advertised.
    public var extensions: SMTPExtensions = []
    /// Every extension line as sent (keyword and arguments), for display: made from the EHLO
    /// reply when asked, not for every session.
    public var lines: [String] {
        get { ehlo.map { Array($0.lines.dropFirst()) } ?? [] }
        set { ehlo = SMTPReply(code: 250, lines: [""] + newValue) }
    }
    /// The EHLO reply the extension lines come from (its first line is the server's name).
    private var ehlo: SMTPReply?
    /// Mechanisms from `AUTH` (and `AUTH=`) lines, upper case.
    public var authMechanisms: [String] = []
    /// The `SIZE n` limit, if announced (0 means none).
    public var sizeLimit: Int?
    /// The server accepted EHLO (false after a fall-back to HELO).
    public var esmtp = false

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.extensions == b.extensions && a.authMechanisms == b.authMechanisms && a.sizeLimit == b.sizeLimit
            && a.esmtp == b.esmtp && a.lines == b.lines
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(extensions)
        hasher.combine(authMechanisms)
        hasher.combine(sizeLimit)
        hasher.combine(esmtp)
        hasher.combine(lines)
    }

    /// True if the server advertised `keyword` (case-insensitive), known extension or not.
    public func has(_ keyword: String) -> Bool {
        let wanted = keyword.uppercased()
        return lines.contains { line in
            let first = line.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            return first == wanted || (wanted == "AUTH" && first.hasPrefix("AUTH="))
        }
    }

    /// Reads an EHLO reply (RFC 5321 §4.1.1.1: the first line is the server's name).
    public init(ehloReply reply: SMTPReply) {
        esmtp = true
        ehlo = reply
        var storage = reply.storage
        let ends = reply.ends
        var found: SMTPExtensions = []
        var size: Int?
        var mechanisms: [String] = []
        // The lines after the first, read in place in the reply's text, as bytes.
        storage.withUTF8 { utf8 in
            for lineIndex in ends.indices.dropFirst() {
                let line = UnsafeBufferPointer(rebasing: utf8[ends[lineIndex - 1]..<ends[lineIndex]])
                let keywordEnd = line.firstIndex(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "=") }) ?? line.endIndex
                let keyword = UnsafeBufferPointer(rebasing: line[..<keywordEnd])
                let arguments = UnsafeBufferPointer(rebasing: line[min(keywordEnd + 1, line.endIndex)...])
                switch keyword.count {
                case 3 where Self.matches(keyword, "DSN"): found.insert(.dsn)
                case 4 where Self.matches(keyword, "SIZE"):
                    found.insert(.size)
                    if keywordEnd < line.endIndex { size = SMTPCommandParser.decimal(ArraySlice(arguments)) }
                case 4 where Self.matches(keyword, "VRFY"): found.insert(.vrfy)
                case 4 where Self.matches(keyword, "ETRN"): found.insert(.etrn)
                case 4 where Self.matches(keyword, "AUTH"):
                    found.insert(.auth)
                    for word in arguments.split(separator: UInt8(ascii: " ")) {
                        let name = word.contains(where: { $0 >= 0x61 && $0 <= 0x7A })
                            ? String(decoding: word.map(SMTPCommandParser.upper), as: UTF8.self)
                            : String(decoding: word, as: UTF8.self)
                        if !mechanisms.contains(name) { mechanisms.append(name) }
                    }
                case 8 where Self.matches(keyword, "STARTTLS"): found.insert(.starttls)
                case 8 where Self.matches(keyword, "8BITMIME"): found.insert(.eightBitMIME)
                case 10 where Self.matches(keyword, "PIPELINING"): found.insert(.pipelining)
                case 19 where Self.matches(keyword, "ENHANCEDSTATUSCODES"): found.insert(.enhancedStatusCodes)
                default: break
                }
            }
        }
        extensions = found
        sizeLimit = size
        authMechanisms = mechanisms
    }

    /// Whether `keyword` is `upper` in any case (`upper` is ASCII upper case).
    private static func matches(_ keyword: UnsafeBufferPointer<UInt8>, _ upper: StaticString) -> Bool {
        guard keyword.count == upper.utf8CodeUnitCount else { return false }
        let expected = upper.utf8Start
        for index in 0..<keyword.count where SMTPCommandParser.upper(keyword[index]) != expected[index] { return false }
        return true
    }
}

/// Where a client session was when it failed.
public enum SMTPClientStage: String, Hashable, Sendable {
    case greeting, ehlo, helo, startTLS, auth, mail, rcpt, data, message, quit
}

/// Why a client session failed as a whole.
public struct SMTPSessionFailure: Hashable, Sendable {
    public enum Reason: Hashable, Sendable {
        /// The server answered this reply.
        case reply(SMTPReply)
        /// TLS was required but the server did not offer STARTTLS.
        case tlsNotOffered
        /// The TLS handshake failed.
        case tlsHandshakeFailed
        /// Credentials were given but the server offers no AUTH, or none of our mechanisms.
        case authNotOffered
        /// The server closed the connection.
        case connectionClosed
        /// No reply within the time limit.
        case timeout
        /// The server's bytes were not SMTP replies.
        case malformedReply
    }

    public var stage: SMTPClientStage
    public var reason: Reason

    public init(stage: SMTPClientStage, reason: Reason) {
        self.stage = stage
        self.reason = reason
    }

    /// A 5xx reply: retrying the same thing will fail again. Everything else is temporary.
    public var isPermanent: Bool {
        if case .reply(let reply) = reason { return reply.isPermanentFailure }
        return false
    }
}

/// What became of one recipient.
public enum SMTPRecipientOutcome: Hashable, Sendable {
    /// The server took responsibility for the message (the reply to the final dot).
    case accepted(SMTPReply)
    /// Try again later; the reply, if the server gave one.
    case temporaryFailure(SMTPReply?)
    /// Bounce; the reply, if the server gave one.
    case permanentFailure(SMTPReply?)
}

/// The result of a client session.
public struct SMTPDeliveryResult: Hashable, Sendable {
    public struct Recipient: Hashable, Sendable {
        public var path: SMTPPath
        public var outcome: SMTPRecipientOutcome
    }

    public var recipients: [Recipient]
    /// The reply to the final dot, if the message got that far.
    public var messageReply: SMTPReply?
    /// The text after `queued as` in a positive reply to the final dot.
    public var queueID: String?
    /// Set when the session failed as a whole.
    public var sessionFailure: SMTPSessionFailure?
    /// The server's EHLO capabilities (after STARTTLS if it happened).
    public var capabilities: SMTPServerCapabilities
    /// TLS was active when the message was sent.
    public var usedTLS: Bool
    /// The mechanism AUTH succeeded with.
    public var authenticatedWith: SASLMechanism?

    /// Every recipient was accepted.
    public var allAccepted: Bool {
        recipients.allSatisfy { if case .accepted = $0.outcome { return true } else { return false } }
    }
}

/// What the caller of an `SMTPClient` must do, in order: the engines' shared ``EngineAction``.
/// `.startTLS` is followed by `tlsEstablished(now:into:)` or `tlsFailed(now:into:)`; the events
/// are `.transactionFinished(result)` when a transaction ends and the session goes on with a
/// queued job (``SMTPClient/enqueue(_:)``), and `.finished(result)` once the session is over.
public typealias SMTPClientAction = EngineAction<ClientEvent<SMTPDeliveryResult>>
