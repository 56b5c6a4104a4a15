import MailCore
import MailSim

/// Who may relay mail to foreign domains through an MTA.
public enum RelayPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Anyone: an open relay, the spammer's friend.
    case open
    /// Only clients that authenticated with AUTH (Postfix: `permit_sasl_authenticated`).
    case authenticated
    /// Clients whose address is in one of these networks, and authenticated clients
    /// (Postfix: `permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination`).
    case mynetworks([IPv4Network])

    public var description: String {
        switch self {
        case .open: return "open"
        case .authenticated: return "authenticated"
        case .mynetworks(let networks): return "mynetworks " + networks.map(\.description).joined(separator: " ")
        }
    }
}

/// An IPv4 network in CIDR form, `192.0.2.0/24`.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    public init(address: IPv4Address, prefixLength: Int) {
        self.address = address
        self.prefixLength = min(max(prefixLength, 0), 32)
    }

    /// Parses `a.b.c.d/n` or a single address (a /32).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4Address(String(parts[0])) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...32).contains(n) else { return nil }
            length = n
        }
        self.init(address: address, prefixLength: length)
    }

    public func contains(_ other: IPv4Address) -> Bool {
        guard prefixLength > 0 else { return true }
        let mask: UInt32 = prefixLength == 32 ? .max : ~(UInt32.max >> UInt32(prefixLength))
        return (address.value & mask) == (other.value & mask)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// The SMTP listeners of an MTA, by port.
public struct MTAListener: Hashable, Sendable {
    public var port: UInt16
    public var kind: SMTPListenerKind

    public init(port: UInt16, kind: SMTPListenerKind) {
        self.port = port
        self.kind = kind
    }

    /// 25 (relay and MX), 587 (submission), 465 (implicit TLS).
    public static let standard: [MTAListener] = [
        MTAListener(port: 25, kind: .relay),
        MTAListener(port: 587, kind: .submission),
        MTAListener(port: 465, kind: .implicitTLS),
    ]
}

/// Everything that makes one MTA behave the way a scenario wants.
public struct MTAConfiguration: Sendable {
    /// The name in the greeting, EHLO and `Received:` lines.
    public var hostname: String
    /// Domains this MTA is the final destination for: their mail goes into the local store.
    public var localDomains: Set<String>
    /// Domains this MTA accepts as a backup MX and forwards to a more preferred MX.
    public var relayDomains: Set<String>
    public var relayPolicy: RelayPolicy
    public var listeners: [MTAListener]
    public var retry: RetrySchedule
    public var maxMessageSize: Int
    public var maxRecipients: Int
    /// Submission: AUTH only after STARTTLS (the default, as in Postfix's `smtpd_tls_auth_only`).
    public var requireTLSForAuth: Bool
    public var submissionMechanisms: [SASLMechanism]
    /// Offer STARTTLS on port 25 too (opportunistic TLS between MTAs).
    public var offerTLSOnRelayPort: Bool
    /// DNS blocklist zones consulted for clients on port 25 (`zen.blocklist.test`).
    public var blocklists: [String]
    /// Offset of the zone this MTA writes dates in, in minutes (+60 for +0100).
    public var zoneOffsetMinutes: Int
    /// Outbound DKIM signing (RFC 6376): a message submitted by an authenticated client whose From
    /// domain one of these covers is signed when it is queued, so every copy carries the signature.
    public var dkimSigning: [DKIMSigningConfiguration]
    /// Check SPF, DKIM and DMARC on messages received on port 25 from unauthenticated clients and
    /// add `Authentication-Results:` and `Received-SPF:` (RFC 8601, RFC 7208 §9.1).
    public var inboundChecks: Bool
    /// Apply the DMARC disposition (RFC 7489 §6.6.4) after the inbound checks: `quarantine` files the
    /// message in the recipient's Junk folder, `reject` refuses it with 550 5.7.1 at the end of DATA.
    /// Without it, the results are only recorded (monitoring).
    public var dmarcEnforcement: Bool
    /// Once ``destinationConcurrencyLimit`` sessions are open to an MX, a message due for it joins
    /// one of them instead of opening another: one connection then carries several transactions,
    /// one after the other (RFC 5321 §3.3). This is Postfix's on-demand connection cache
    /// (`smtp_connection_cache_on_demand = yes`, its default), which comes into play only when mail
    /// for a destination piles up; below the limit every message has its own session, as the
    /// lessons' transcripts show. Off: no limit, a session per message whatever the load.
    public var reusesConnections = true
    /// With ``reusesConnections``: sessions open at once to one MX; further messages wait on the
    /// least busy of them (Postfix's `default_destination_concurrency_limit`).
    public var destinationConcurrencyLimit = 20

    public init(hostname: String, localDomains: Set<String> = [], relayDomains: Set<String> = [],
                relayPolicy: RelayPolicy = .authenticated, listeners: [MTAListener] = MTAListener.standard,
                retry: RetrySchedule = .postfix, maxMessageSize: Int = 10_240_000, maxRecipients: Int = 1000,
                requireTLSForAuth: Bool = true, submissionMechanisms: [SASLMechanism] = [.plain, .login],
                offerTLSOnRelayPort: Bool = true, blocklists: [String] = [], zoneOffsetMinutes: Int = 60,
                dkimSigning: [DKIMSigningConfiguration] = [], inboundChecks: Bool = false, dmarcEnforcement: Bool = false) {
        self.hostname = hostname
        self.localDomains = Set(localDomains.map { $0.lowercased() })
        self.relayDomains = Set(relayDomains.map { $0.lowercased() })
        self.relayPolicy = relayPolicy
        self.listeners = listeners
        self.retry = retry
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.requireTLSForAuth = requireTLSForAuth
        self.submissionMechanisms = submissionMechanisms
        self.offerTLSOnRelayPort = offerTLSOnRelayPort
        self.blocklists = blocklists
        self.zoneOffsetMinutes = zoneOffsetMinutes
        self.dkimSigning = dkimSigning
        self.inboundChecks = inboundChecks
        self.dmarcEnforcement = dmarcEnforcement
    }
}
