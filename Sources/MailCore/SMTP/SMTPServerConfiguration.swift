/// Which kind of listener a server engine serves (RFC 5321 relay, RFC 6409 submission, RFC 8314 implicit TLS).
public enum SMTPListenerKind: String, Hashable, Sendable {
    /// Port 25: server-to-server relay.
    case relay
    /// Port 587: message submission by mail clients, normally with STARTTLS and AUTH.
    case submission
    /// Port 465: submission over TLS from the first byte.
    case implicitTLS
}

/// ESMTP extensions a listener may advertise in its EHLO reply (RFC 5321 §4.1.1.1).
public struct SMTPExtensions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// RFC 2920.
    public static let pipelining = SMTPExtensions(rawValue: 1 << 0)
    /// RFC 1870.
    public static let size = SMTPExtensions(rawValue: 1 << 1)
    /// RFC 5321 §3.5.
    public static let vrfy = SMTPExtensions(rawValue: 1 << 2)
    /// RFC 1985.
    public static let etrn = SMTPExtensions(rawValue: 1 << 3)
    /// RFC 3207.
    public static let starttls = SMTPExtensions(rawValue: 1 << 4)
    /// RFC 4954.
    public static let auth = SMTPExtensions(rawValue: 1 << 5)
    /// RFC 2034.
    public static let enhancedStatusCodes = SMTPExtensions(rawValue: 1 << 6)
    /// RFC 6152.
    public static let eightBitMIME = SMTPExtensions(rawValue: 1 << 7)
    /// RFC 3461.
    public static let dsn = SMTPExtensions(rawValue: 1 << 8)

    /// Everything, as the course's Postfix advertises.
    public static let all: SMTPExtensions = [.pipelining, .size, .vrfy, .etrn, .starttls, .auth, .enhancedStatusCodes, .eightBitMIME, .dsn]
}

/// What a server engine does with a bare CR or bare LF inside a DATA body (never an end of data).
public enum SMTPBareLineEndingHandling: Hashable, Sendable {
    /// Store it as CRLF and accept the message.
    case normalize
    /// Refuse the message at its end with `554 5.6.0`.
    case reject
}

/// The settings of one listener.
public struct SMTPServerConfiguration: Sendable {
    /// The server's name in the greeting, EHLO reply and 421 replies.
    public var hostname: String
    public var kind: SMTPListenerKind
    /// Text after the hostname in the 220 greeting.
    public var greetingText: String
    /// Extensions to advertise (STARTTLS and AUTH only when they apply, see below).
    public var extensions: SMTPExtensions
    /// Largest message accepted, in octets (advertised as `SIZE n`).
    public var maxMessageSize: Int
    /// Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100).
    public var maxRecipients: Int
    /// A TLS certificate is available, so STARTTLS can be offered.
    public var tlsAvailable: Bool
    /// AUTH only inside TLS (Postfix `smtpd_tls_auth_only`): `530 5.7.0` before.
    public var requireTLSForAuth: Bool
    /// Advertise AUTH in the EHLO reply before TLS even when `requireTLSForAuth` holds. Off by
    /// default: Postfix with `smtpd_tls_auth_only = yes` lists AUTH only once TLS is up.
    public var advertiseAuthBeforeTLS: Bool
    /// Also advertise the obsolete `AUTH=` line for old clients (Postfix `broken_sasl_auth_clients`).
    public var advertiseAuthEqualsForm: Bool
    /// MAIL only after AUTH (submission): `530 5.7.0 Authentication required`.
    public var requireAuthForMail: Bool
    /// SASL mechanisms offered, in this order.
    public var mechanisms: [SASLMechanism]
    /// Close an idle session after this long with `421 4.4.2`.
    public var idleTimeout: Duration
    /// After this many unrecognized commands, `421` and close.
    public var maxUnknownCommands: Int
    /// Longest command line, CRLF included: 512 (RFC 5321 §4.5.3.1.4) plus room for ESMTP parameters.
    public var maxCommandLineLength: Int
    /// Longest AUTH command or SASL response line (RFC 4954 §4: 12288 octets).
    public var maxAuthLineLength: Int
    /// What to do with a bare CR or LF in a DATA body.
    public var bareLineEndings: SMTPBareLineEndingHandling
    /// Mixed into CRAM-MD5 challenges (with a per-session counter and the time) so they differ per session.
    public var challengeSeed: UInt64
    /// Octets one transaction may make the server store: the message size times its distinct
    /// recipients (each local recipient gets a copy). A RCPT whose announced `SIZE` would pass it
    /// gets `452 4.5.3`, a message that passes it at the end of DATA `552 5.3.4`. Postfix bounds
    /// the two factors (`message_size_limit`, `smtpd_recipient_limit`); this bounds the product.
    public var maxTransactionOctets: Int
    /// Failed AUTH attempts before `421 4.7.0 … Error: too many errors` and the close (Postfix
    /// counts them among `smtpd_hard_error_limit` errors).
    public var maxAuthFailures: Int
    /// How long each failed AUTH waits before its `535` reply (Postfix `smtpd_error_sleep_time`,
    /// Dovecot `auth_failure_delay`); input that comes meanwhile waits too. Zero answers at once.
    public var authFailureDelay: Duration

    public init(hostname: String, kind: SMTPListenerKind = .relay, greetingText: String = "ESMTP Postfix",
                extensions: SMTPExtensions = .all, maxMessageSize: Int = 10_240_000, maxRecipients: Int = SMTPLimits.minimumRecipients,
                tlsAvailable: Bool = true, requireTLSForAuth: Bool = false, advertiseAuthBeforeTLS: Bool = false,
                advertiseAuthEqualsForm: Bool = false, requireAuthForMail: Bool = false,
                mechanisms: [SASLMechanism] = [.plain, .login], idleTimeout: Duration = .seconds(300),
                maxUnknownCommands: Int = 5, maxCommandLineLength: Int = 2 * SMTPLimits.commandLine, maxAuthLineLength: Int = SMTPLimits.authLine,
                bareLineEndings: SMTPBareLineEndingHandling = .normalize, challengeSeed: UInt64 = 0,
                maxTransactionOctets: Int = 5 * 10_240_000, maxAuthFailures: Int = 3, authFailureDelay: Duration = .seconds(2)) {
        self.hostname = hostname
        self.kind = kind
        self.greetingText = greetingText
        self.extensions = extensions
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.tlsAvailable = tlsAvailable
        self.requireTLSForAuth = requireTLSForAuth
        self.advertiseAuthBeforeTLS = advertiseAuthBeforeTLS
        self.advertiseAuthEqualsForm = advertiseAuthEqualsForm
        self.requireAuthForMail = requireAuthForMail
        self.mechanisms = mechanisms
        self.idleTimeout = idleTimeout
        self.maxUnknownCommands = maxUnknownCommands
        self.maxCommandLineLength = maxCommandLineLength
        self.maxAuthLineLength = maxAuthLineLength
        self.bareLineEndings = bareLineEndings
        self.challengeSeed = challengeSeed
        self.maxTransactionOctets = maxTransactionOctets
        self.maxAuthFailures = maxAuthFailures
        self.authFailureDelay = authFailureDelay
    }

    /// Port 25 as the course's Postfix: everything advertised, no AUTH required for MAIL.
    public static func relay(hostname: String) -> SMTPServerConfiguration {
        SMTPServerConfiguration(hostname: hostname, kind: .relay)
    }

    /// Port 587: STARTTLS, then AUTH (TLS required first), MAIL only once authenticated.
    public static func submission(hostname: String, mechanisms: [SASLMechanism] = [.plain, .login]) -> SMTPServerConfiguration {
        SMTPServerConfiguration(hostname: hostname, kind: .submission, requireTLSForAuth: true,
                                requireAuthForMail: true, mechanisms: mechanisms)
    }

    /// Port 465: TLS from the start, AUTH required for MAIL.
    public static func implicitTLS(hostname: String, mechanisms: [SASLMechanism] = [.plain, .login]) -> SMTPServerConfiguration {
        SMTPServerConfiguration(hostname: hostname, kind: .implicitTLS, extensions: SMTPExtensions.all.subtracting(.starttls),
                                requireTLSForAuth: true, requireAuthForMail: true, mechanisms: mechanisms)
    }
}

/// Facts about a session the MTA needs for its decisions and its `Received:` header (RFC 5321
/// §4.4). Every text in it is printable US-ASCII: the engine refuses command lines holding CR, LF,
/// NUL or other control bytes, so they can never reach a trace header.
public struct SMTPSessionInfo: Hashable, Sendable {
    /// The client's IP address, as the transport knows it.
    public var clientAddress: String
    /// The client's name from reverse DNS, if the caller looked it up.
    public var clientHostname: String?
    public var serverHostname: String
    public var listener: SMTPListenerKind
    /// The HELO/EHLO argument (first word, at most 255 octets).
    public internal(set) var heloName: String?
    /// The client said EHLO rather than HELO.
    public internal(set) var usedEHLO: Bool = false
    public internal(set) var tlsActive: Bool
    /// The identity proven by AUTH.
    public internal(set) var authenticatedUser: String?
    public internal(set) var authenticationMechanism: SASLMechanism?

    public init(clientAddress: String, clientHostname: String? = nil, serverHostname: String, listener: SMTPListenerKind,
                tlsActive: Bool = false) {
        self.clientAddress = clientAddress
        self.clientHostname = clientHostname
        self.serverHostname = serverHostname
        self.listener = listener
        self.tlsActive = tlsActive
    }

    /// The `with` keyword of a `Received:` header (RFC 3848): SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA.
    public var receivedProtocol: String {
        guard usedEHLO else { return "SMTP" }
        switch (tlsActive, authenticatedUser != nil) {
        case (false, false): return "ESMTP"
        case (true, false): return "ESMTPS"
        case (false, true): return "ESMTPA"
        case (true, true): return "ESMTPSA"
        }
    }
}

/// One accepted recipient of a transaction.
public struct SMTPEnvelopeRecipient: Hashable, Sendable {
    public var path: SMTPPath
    public var parameters: SMTPRecipientParameters

    public init(path: SMTPPath, parameters: SMTPRecipientParameters = SMTPRecipientParameters()) {
        self.path = path
        self.parameters = parameters
    }
}

/// The envelope of a mail transaction (RFC 5321 §2.3.1).
public struct SMTPEnvelope: Hashable, Sendable {
    public var reversePath: SMTPPath
    public var mailParameters: SMTPMailParameters
    /// The recipients accepted so far, in order.
    public var recipients: [SMTPEnvelopeRecipient]

    public init(reversePath: SMTPPath, mailParameters: SMTPMailParameters = SMTPMailParameters(),
                recipients: [SMTPEnvelopeRecipient] = []) {
        self.reversePath = reversePath
        self.mailParameters = mailParameters
        self.recipients = recipients
    }
}

/// A policy's answer to a sender, a recipient or the connection.
public enum SMTPPolicyDecision: Hashable, Sendable {
    /// Accept with the usual reply (`250 2.1.0 Ok`, `250 2.1.5 Ok`, the greeting).
    case accept
    /// Accept with another positive reply (for example `251 2.1.5 User not local; will forward to …`).
    case acceptWith(SMTPReply)
    /// Refuse with this 4xx or 5xx reply.
    case reject(SMTPReply)
}

/// A policy's answer to a complete message.
public enum SMTPMessageDecision: Hashable, Sendable {
    /// Queued: `250 2.0.0 Ok: queued as ID`.
    case queued(id: String)
    /// Refused (4xx: try later; 5xx: bounce).
    case reject(SMTPReply)
}

/// The decisions a server engine cannot take alone, made by the MTA. Calls are synchronous and
/// happen inside the engine's input methods.
public protocol SMTPServerPolicy {
    /// A new connection; `.reject` with 554 keeps it open answering 503 until QUIT
    /// (RFC 5321 §3.1), with 421 closes it.
    mutating func connectionOpened(session: SMTPSessionInfo) -> SMTPPolicyDecision
    /// PLAIN, LOGIN and XOAUTH2: are these credentials right?
    mutating func authenticate(_ credentials: SASLCredentials, session: SMTPSessionInfo) -> Bool
    /// CRAM-MD5: the user's password, so the engine can compute the expected digest; `nil` if unknown.
    mutating func password(forUser user: String, session: SMTPSessionInfo) -> String?
    /// MAIL FROM. The engine has already checked sequence, syntax, SIZE and AUTH requirements.
    mutating func checkSender(_ path: SMTPPath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPPolicyDecision
    /// RCPT TO. `path.hasRoutingSyntax` flags `%`, quoted `@` and source routes: relay attempts.
    mutating func checkRecipient(_ path: SMTPPath, parameters: SMTPRecipientParameters, envelope: SMTPEnvelope,
                                 session: SMTPSessionInfo) -> SMTPPolicyDecision
    /// VRFY (only called when VRFY is advertised).
    mutating func verify(_ argument: String, session: SMTPSessionInfo) -> SMTPReply
    /// ETRN (only called when ETRN is advertised).
    mutating func etrn(_ argument: String, session: SMTPSessionInfo) -> SMTPReply
    /// The complete message (unstuffed, CRLF line endings) for the envelope.
    mutating func acceptMessage(_ envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> SMTPMessageDecision
}

extension SMTPServerPolicy {
    public mutating func connectionOpened(session: SMTPSessionInfo) -> SMTPPolicyDecision { .accept }
    public mutating func password(forUser user: String, session: SMTPSessionInfo) -> String? { nil }
    public mutating func verify(_ argument: String, session: SMTPSessionInfo) -> SMTPReply {
        SMTPReply(code: 252, "2.0.0", argument)
    }
    public mutating func etrn(_ argument: String, session: SMTPSessionInfo) -> SMTPReply {
        SMTPReply(code: 250, nil, "Queuing started")
    }
}
