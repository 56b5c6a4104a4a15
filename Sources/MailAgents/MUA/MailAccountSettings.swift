import MailCore

/// How a client secures a connection: the choices a mail client's account dialog offers.
public enum ConnectionSecurity: String, Hashable, Sendable, CaseIterable {
    /// Plaintext (ports 25, 110, 143 without STARTTLS): everything readable on the wire.
    case none
    /// Plaintext greeting, then STARTTLS/STLS before anything else (587, 110, 143).
    case startTLS = "starttls"
    /// TLS from the first byte (465, 995, 993).
    case tls
}

/// The incoming protocol of an account.
public enum IncomingProtocol: String, Hashable, Sendable { case pop3, imap }

/// An account in a mail client: who the user is and how to reach the servers — the settings a
/// learner fills in (syllabus `client.config`).
public struct MailAccountSettings: Hashable, Sendable {
    public var address: String
    public var displayName: String?
    public var login: String
    public var password: String
    /// Outgoing: `mail.example.com`, 587, STARTTLS, PLAIN.
    public var smtpHost: String
    public var smtpPort: UInt16
    public var smtpSecurity: ConnectionSecurity
    public var smtpMechanism: SASLMechanism?
    /// Whether the client authenticates when it sends (a spam robot on port 25 does not).
    public var smtpAuthentication: Bool
    /// Incoming: `mail.example.com`, 993, TLS, IMAP.
    public var incomingProtocol: IncomingProtocol
    public var incomingHost: String
    public var incomingPort: UInt16
    public var incomingSecurity: ConnectionSecurity
    /// The name the client gives in EHLO.
    public var ehloName: String

    public init(address: String, displayName: String? = nil, login: String, password: String,
                smtpHost: String, smtpPort: UInt16 = 587, smtpSecurity: ConnectionSecurity = .startTLS,
                smtpMechanism: SASLMechanism? = nil, smtpAuthentication: Bool = true,
                incomingProtocol: IncomingProtocol = .imap, incomingHost: String? = nil,
                incomingPort: UInt16? = nil, incomingSecurity: ConnectionSecurity = .tls,
                ehloName: String = "client.example.com") {
        self.address = address
        self.displayName = displayName
        self.login = login
        self.password = password
        self.smtpHost = smtpHost
        self.smtpPort = smtpPort
        self.smtpSecurity = smtpSecurity
        self.smtpMechanism = smtpMechanism
        self.smtpAuthentication = smtpAuthentication
        self.incomingProtocol = incomingProtocol
        self.incomingHost = incomingHost ?? smtpHost
        self.incomingSecurity = incomingSecurity
        self.incomingPort = incomingPort ?? Self.standardPort(incomingProtocol, incomingSecurity)
        self.ehloName = ehloName
    }

    /// 110/995 for POP3, 143/993 for IMAP.
    public static func standardPort(_ proto: IncomingProtocol, _ security: ConnectionSecurity) -> UInt16 {
        switch (proto, security) {
        case (.pop3, .tls): return 995
        case (.pop3, _): return 110
        case (.imap, .tls): return 993
        case (.imap, _): return 143
        }
    }
}
