import MailCore
import MailSim

/// A simulated Internet with its mail agents: the MTAs on their hosts, the mail stores of the
/// domains, and the users' mail clients on their devices.
public final class MailWorld {
    public let world: World
    public private(set) var mtas: [String: MTA] = [:]
    /// Mail stores by the domain they hold.
    public private(set) var stores: [String: MailStore] = [:]
    public private(set) var muas: [String: MUA] = [:]
    public private(set) var mdas: [String: MDA] = [:]

    public init(world: World) { self.world = world }

    public var seed: UInt64 { world.seed }

    /// The store of `domain`, made on first use.
    public func store(for domain: String) -> MailStore {
        let key = domain.lowercased()
        if let store = stores[key] { return store }
        let store = MailStore(now: world.imapDate())
        stores[key] = store
        return store
    }

    /// Adds a user with a mailbox in their domain's store.
    public func addUser(address: String, login: String, password: String, quotaBytes: Int? = nil) throws {
        guard let mailbox = SMTPMailbox(address) else { throw MUAError.badAddress(address) }
        try store(for: mailbox.normalizedDomain).addUser(login, password: password, addresses: [address.lowercased()],
                                                         quotaBytes: quotaBytes)
        for mta in mtas.values where mta.configuration.localDomains.contains(mailbox.normalizedDomain) {
            mta.addCredentials(user: login, password: password)
        }
    }

    /// Starts an MTA on `hostName`. Its local domains share the domain stores, and the users
    /// already added to those stores may authenticate on it.
    @discardableResult
    public func addMTA(on hostName: String, configuration: MTAConfiguration) throws -> MTA {
        let host = try requireHost(hostName)
        let store = configuration.localDomains.sorted().first.map { self.store(for: $0) }
        var credentials: [String: String] = [:]
        for domain in configuration.localDomains.sorted() {
            for (login, password) in self.store(for: domain).credentialsForSubmission() { credentials[login] = password }
        }
        let mta = MTA(world: world, host: host, configuration: configuration, store: store, credentials: credentials)
        mtas[hostName] = mta
        mta.start()
        return mta
    }

    /// Starts a delivery agent (POP3 and IMAP) on `hostName`, serving the store of `domain`.
    @discardableResult
    public func addMDA(on hostName: String, domain: String, configuration: MDAConfiguration? = nil) throws -> MDA {
        let host = try requireHost(hostName)
        let mda = MDA(world: world, host: host, store: store(for: domain),
                      configuration: configuration ?? MDAConfiguration(hostname: hostName))
        mdas[hostName] = mda
        mda.start()
        return mda
    }

    /// Puts a mail client for `account` on the device `hostName`.
    @discardableResult
    public func addMUA(named name: String, on hostName: String, account: MailAccountSettings) throws -> MUA {
        let mua = MUA(world: world, host: try requireHost(hostName), account: account)
        muas[name] = mua
        return mua
    }

    func requireHost(_ name: String) throws -> Host {
        guard let host = world.host(name) else { throw WorldError.unknownHost(name) }
        return host
    }

    /// Runs the world until nothing is left to do, or until `limit` of virtual time has passed.
    public func settle(limit: VirtualDuration = .days(6)) throws {
        try world.run(until: world.now + limit)
    }

    // MARK: the course's world

    /// The world of DESIGN.md: `mail.example.com` (MTA and store of example.com, Alice),
    /// `mail1.company.org` and `mail2.company.org` (MX 10 and 20 of company.org, sharing its store,
    /// Bob), `mail-backup.example.net` (MX 30, a backup relay that forwards to the better MX), and
    /// the clients `alice-laptop` and `bob-pc`. `mail.example.com` and `mail1.company.org` also
    /// serve their stores over POP3 (110, 995) and IMAP (143, 993).
    public static func course(seed: UInt64) throws -> MailWorld {
        let mail = MailWorld(world: try World.defaultWorld(seed: seed))
        try mail.addUser(address: "alice@example.com", login: "alice", password: "mypassword")
        try mail.addUser(address: "bob@company.org", login: "bob", password: "secret123")
        try mail.addMTA(on: "mail.example.com", configuration: MTAConfiguration(
            hostname: "mail.example.com", localDomains: ["example.com"], relayPolicy: .authenticated))
        try mail.addMTA(on: "mail1.company.org", configuration: MTAConfiguration(
            hostname: "mail1.company.org", localDomains: ["company.org"], relayPolicy: .authenticated))
        try mail.addMTA(on: "mail2.company.org", configuration: MTAConfiguration(
            hostname: "mail2.company.org", localDomains: ["company.org"], relayPolicy: .authenticated))
        try mail.addMTA(on: "mail-backup.example.net", configuration: MTAConfiguration(
            hostname: "mail-backup.example.net", localDomains: ["example.net"], relayDomains: ["company.org"],
            relayPolicy: .authenticated))
        try mail.addMDA(on: "mail.example.com", domain: "example.com")
        try mail.addMDA(on: "mail1.company.org", domain: "company.org")
        try mail.addMUA(named: "alice", on: "alice-laptop", account: MailAccountSettings(
            address: "alice@example.com", displayName: "Alice", login: "alice", password: "mypassword",
            smtpHost: "mail.example.com"))
        try mail.addMUA(named: "bob", on: "bob-pc", account: MailAccountSettings(
            address: "bob@company.org", displayName: "Bob", login: "bob", password: "secret123",
            smtpHost: "mail1.company.org"))
        return mail
    }
}
