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

    /// Makes `domains` share one mail store, as the domains of one Postfix + Dovecot server do
    /// (virtual mailbox domains under one mail location): the store one of them already has,
    /// else a new one. Two domains that already hold accounts in different stores cannot be
    /// joined (their logins could clash): that is an error, not a silent choice.
    @discardableResult
    public func shareStore(among domains: Set<String>) throws -> MailStore? {
        let keys = domains.map { $0.lowercased() }.sorted()
        guard let first = keys.first else { return nil }
        var existing: [MailStore] = []
        for key in keys {
            if let store = stores[key], !existing.contains(where: { $0 === store }) { existing.append(store) }
        }
        let inUse = existing.filter { !$0.credentialsForSubmission().isEmpty }
        if inUse.count > 1 { throw MailWorldError.storesCannotBeShared(keys) }
        let shared = inUse.first ?? existing.first ?? store(for: first)
        for key in keys { stores[key] = shared }
        return shared
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
        // All the local domains of one MTA share one store: each domain's users are found there.
        let store = try shareStore(among: configuration.localDomains)
        var credentials: [String: String] = [:]
        for (login, password) in store?.credentialsForSubmission() ?? [] { credentials[login] = password }
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
}

/// A world that cannot be put together as asked.
public enum MailWorldError: Error, Equatable, CustomStringConvertible {
    /// These domains already have users in different stores, so one server cannot hold them all.
    case storesCannotBeShared([String])

    public var description: String {
        switch self {
        case let .storesCannotBeShared(domains):
            return "the domains \(domains.joined(separator: ", ")) already have users in separate mail stores: declare their server before adding users"
        }
    }
}
