/// The course's world (DESIGN.md, "The default world"), described once, at the bottom of the
/// module graph: MailAgents' `MailWorld.course(seed:)` builds it (with `CourseWorld`'s MTA settings
/// there), MailTutor checks lessons against its host names and users (`DefaultWorld`), and
/// MailLabWorld's `CourseWorldSpec` describes the running world as a `WorldSpec`; the three can
/// never disagree.
///
/// | host | MTA | mail store (POP3/IMAP) |
/// |---|---|---|
/// | mail.example.com | final for example.com, submission for Alice | example.com |
/// | mail1.company.org | final for company.org (MX 10), submission for Bob | company.org |
/// | mail2.company.org | backup MX 20 of company.org: queues, forwards to mail1 | none |
/// | mail-backup.example.net | MX of example.net, backup MX 30 of company.org | none |
///
/// A backup MX holds no mailboxes (Postfix `relay_domains`): while mail1 is down it keeps the
/// message in its queue and hands it over when mail1 answers again.
///
/// Every server behaves as the lessons' Postfix and Dovecot: AUTH only inside TLS
/// (`smtpd_tls_auth_only = yes`), no plaintext POP3/IMAP login before STLS/STARTTLS
/// (`disable_plaintext_auth = yes`), PLAIN, LOGIN and CRAM-MD5 offered on submission. The domains
/// publish SPF, a DKIM key under the selector `2024` and a DMARC record (`p=reject`); the MTAs sign
/// what their users submit and check what arrives on port 25.
public enum CourseWorld {
    /// One server host of the course's world: MailSim's `World.defaultWorld` gives it its address,
    /// its A record, the MX records it is named in and its domains' SPF (from `signs`).
    public struct Server: Sendable {
        public var name: String
        public var address: String
        /// The domains this host is an MX of, with the preference (lower is tried first).
        public var mx: [(domain: String, preference: UInt16)]
        /// Final destination: mail for these domains goes into the host's mail store.
        public var localDomains: [String]
        /// Backup MX for these domains: accepted, queued, forwarded to a better MX.
        public var relayDomains: [String]
        /// The store this host serves over POP3 (110, 995) and IMAP (143, 993), nil for none.
        public var mailboxDomain: String?
        /// The domains this MTA sends for: it signs their mail (DKIM) and their SPF record lists
        /// its address.
        public var signs: [String]
    }

    /// A client device of the course's world (no DNS records, like a laptop on a home network).
    public struct Device: Sendable {
        public var name: String
        public var address: String
    }

    public struct User: Sendable {
        public var address: String
        public var login: String
        public var password: String
        public var displayName: String
        /// The server holding the mailbox (and the user's submission server).
        public var server: String
        /// The client device (`alice-laptop`) and the name of its mail client (`alice`).
        public var device: String
        public var client: String
    }

    public static let servers: [Server] = [
        Server(name: "mail.example.com", address: "198.51.100.25", mx: [("example.com", 10)],
               localDomains: ["example.com"], relayDomains: [], mailboxDomain: "example.com", signs: ["example.com"]),
        Server(name: "mail1.company.org", address: "203.0.113.10", mx: [("company.org", 10)],
               localDomains: ["company.org"], relayDomains: [], mailboxDomain: "company.org", signs: ["company.org"]),
        Server(name: "mail2.company.org", address: "203.0.113.11", mx: [("company.org", 20)],
               localDomains: [], relayDomains: ["company.org"], mailboxDomain: nil, signs: ["company.org"]),
        Server(name: "mail-backup.example.net", address: "198.51.100.50", mx: [("company.org", 30), ("example.net", 10)],
               localDomains: ["example.net"], relayDomains: ["company.org"], mailboxDomain: nil, signs: ["example.net"]),
    ]

    /// The users' devices, in the order the world adds them (after the servers).
    public static let devices: [Device] = [
        Device(name: "alice-laptop", address: "192.0.2.10"),
        Device(name: "bob-pc", address: "192.0.2.20"),
    ]

    /// The SPF record of a domain: the addresses of the servers that send for it, then `-all`
    /// (`example.com` → `v=spf1 ip4:198.51.100.25 -all`).
    public static func spfRecord(_ domain: String) -> String {
        let senders = servers.filter { $0.signs.contains(domain) }.map { "ip4:\($0.address)" }
        return (["v=spf1"] + senders + ["-all"]).joined(separator: " ")
    }

    public static let users: [User] = [
        User(address: "alice@example.com", login: "alice", password: "mypassword", displayName: "Alice",
             server: "mail.example.com", device: "alice-laptop", client: "alice"),
        User(address: "bob@company.org", login: "bob", password: "secret123", displayName: "Bob",
             server: "mail1.company.org", device: "bob-pc", client: "bob"),
    ]

    /// The SASL mechanisms of the submission ports (587 after STARTTLS, 465).
    public static let mechanisms: [SASLMechanism] = [.plain, .login, .cramMD5]
    /// The DKIM selector of every domain (`2024._domainkey.example.com`), as lesson 6 shows.
    public static let dkimSelector = "2024"
    /// The domains publishing a DKIM key and a DMARC record.
    public static let authenticatedDomains = ["example.com", "company.org", "example.net"]
}
