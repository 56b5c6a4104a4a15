import MailTutor
import Foundation
import MailAgents
import MailCore
import MailMessage
import MailSim

/// The world driver of the executable: every world is a real simulation (MailSim hosts, DNS,
/// virtual TCP and TLS, MailAgents MTAs, stores and clients), seeded so that the same scenario
/// and seed always give the same transcript.
public struct SimulatedWorldDriver: WorldDriver {
    public init() {}

    public func makeWorld(scenario: Scenario?, seed: UInt64) throws -> TutorWorld {
        do {
            if let scenario { return try SimulatedWorld(spec: scenario.world, seed: seed) }
            return try SimulatedWorld.course(seed: seed)
        } catch let error as TutorError {
            throw error
        } catch {
            throw TutorError(fr: "Impossible de construire le monde simulé : \(error)",
                             en: "Cannot build the simulated world: \(error)")
        }
    }
}

/// A `TutorWorld` over a `MailWorld`.
///
/// Every call leaves the simulation quiescent at the current virtual instant: events due now
/// have run, later ones (queue retries, timers) wait for `advance`. A learner session steps the
/// world until the server's reply is complete.
public final class SimulatedWorld: TutorWorld {
    /// The mail agents and, through `mail.world`, the network, DNS, CA and wire tap.
    public let mail: MailWorld
    /// The host learner sessions start from (`learner-pc`, 192.0.2.99 when free).
    public let learnerHost: MailSim.Host
    /// The scenario's world, nil for the course's world.
    public let spec: WorldSpec?
    /// Device name → the mail client on it.
    public private(set) var devices: [String: MUA] = [:]
    /// Hosts that crashed: their services listen again when they come back up.
    private var crashed: Set<String> = []
    /// How far a learner command may run the world while waiting for a reply.
    static let replyPatience: VirtualDuration = .minutes(10)
    let wire = WireLog()

    public var world: World { mail.world }

    init(mail: MailWorld, spec: WorldSpec?) throws {
        self.mail = mail
        self.spec = spec
        learnerHost = try Self.addLearnerHost(to: mail.world)
        try settle()
    }

    /// The course's world (`MailWorld.course`) with the learner's machine added.
    public static func course(seed: UInt64) throws -> SimulatedWorld {
        let made = try SimulatedWorld(mail: MailWorld.course(seed: seed), spec: nil)
        for (name, mua) in made.mail.muas.sorted(by: { $0.key < $1.key }) {
            made.devices[name] = mua
            made.devices[mua.host.name] = mua
        }
        return made
    }

    /// Builds a scenario's world: hosts, DNS records, users with their folders and messages, MTAs
    /// with the scenario's settings, and a client host per device.
    public convenience init(spec: WorldSpec, seed: UInt64) throws {
        let world = World(seed: seed)
        let explicitA = Set(spec.dns.filter { $0.type == .A }.map { Self.dnsName($0.name) })
        for host in spec.hosts {
            try world.addHost(host.name, address: host.address, addDNS: !explicitA.contains(Self.dnsName(host.name)))
        }
        for record in spec.dns {
            switch record.type {
            case .A:
                guard let address = IPv4Address(record.value) else {
                    throw TutorError(fr: "ligne \(record.line) : \(record.value) n'est pas une adresse IPv4",
                                     en: "line \(record.line): \(record.value) is not an IPv4 address")
                }
                world.dns.addA(record.name, address)
            case .MX:
                world.dns.addMX(record.name, preference: UInt16(clamping: record.preference ?? 10), exchange: record.value)
            case .TXT:
                world.dns.addTXT(record.name, record.value)
            }
        }
        // Client machines for the devices, on 192.0.2.0/24 from .10 up.
        var nextClient: UInt8 = 10
        for device in spec.devices where world.host(device.name) == nil {
            while nextClient < 250, world.host("192.0.2.\(nextClient)") != nil || nextClient == 99 { nextClient += 1 }
            try world.addHost(device.name, address: "192.0.2.\(nextClient)", addDNS: false)
            nextClient += 1
        }
        let mail = MailWorld(world: world)
        // The local domains of one server share its mail store (as one Postfix + Dovecot does).
        for host in spec.hosts {
            let domains = Set(((host.mta?.domains ?? []) + (host.mda?.domains ?? [])).map { $0.lowercased() })
            do {
                try mail.shareStore(among: domains)
            } catch {
                throw TutorError(fr: "ligne \(host.line) : \(host.name) : ces domaines ont déjà des boîtes sur un autre serveur : \(domains.sorted().joined(separator: ", "))",
                                 en: "line \(host.line): \(host.name): these domains already have mailboxes on another server: \(domains.sorted().joined(separator: ", "))")
            }
        }
        for user in spec.users {
            try mail.addUser(address: user.address, login: user.login, password: user.password)
        }
        for host in spec.hosts {
            guard let mta = host.mta else { continue }
            var configuration = try Self.configuration(host: host, mta: mta)
            configuration.dkimSigning = Self.dkimSigning(for: configuration.localDomains, records: spec.dns, world: world)
            // Receivers check SPF, DKIM and DMARC on port 25 and apply a published DMARC policy;
            // a domain without a DMARC record is never refused for it.
            configuration.inboundChecks = true
            configuration.dmarcEnforcement = true
            try mail.addMTA(on: host.name, configuration: configuration)
        }
        for host in spec.hosts {
            guard let (domain, configuration) = Self.mdaConfiguration(host: host) else { continue }
            try mail.addMDA(on: host.name, domain: domain, configuration: configuration)
        }
        // Folders and messages already there when the world starts.
        var counter = 0
        for user in spec.users {
            guard let domain = SMTPMailbox(user.address)?.normalizedDomain else { continue }
            let store = mail.store(for: domain)
            for folder in user.folders where folder.uppercased() != "INBOX" {
                try store.createMailbox(user: user.login, name: folder)
            }
            for message in user.messages {
                counter += 1
                let bytes = try Self.seedMessage(message, to: user.address, world: world, counter: counter)
                if message.folder.uppercased() != "INBOX", !store.mailboxes(user: user.login).contains(where: { $0.name == message.folder }) {
                    try store.createMailbox(user: user.login, name: message.folder)
                }
                try store.append(user: user.login, mailbox: message.folder.uppercased() == "INBOX" ? "INBOX" : message.folder,
                                 bytes: bytes, flags: Set(message.flags.map(IMAPFlag.init)), internalDate: world.imapDate())
            }
        }
        // Message quotas apply from now on: the mail already there may fill a mailbox to the brim.
        for host in spec.hosts {
            guard let limit = host.mda?.quotaMessages else { continue }
            for user in spec.users where Self.dnsName(user.host) == Self.dnsName(host.name) {
                guard let domain = SMTPMailbox(user.address)?.normalizedDomain else { continue }
                try mail.store(for: domain).setQuota(user.login, messages: limit)
            }
        }
        for device in spec.devices {
            guard let user = spec.user(device.user) else {
                throw TutorError(fr: "ligne \(device.line) : l'appareil \(device.name) nomme un utilisateur inconnu (\(device.user))",
                                 en: "line \(device.line): device \(device.name) names an unknown user (\(device.user))")
            }
            let client = try mail.addMUA(named: device.name, on: device.name, account: Self.account(device: device, user: user, spec: spec))
            if let incoming = device.incoming, let mode = incoming.mode {
                client.pop3Mode = try Self.retention(mode, days: incoming.days, line: device.line)
            }
            client.usesIDLE = device.incoming?.idle ?? true
        }
        try self.init(mail: mail, spec: spec)
        for device in spec.devices { devices[device.name] = mail.muas[device.name] }
        for host in spec.hosts where !host.up { try world.takeDown(host.name) }
        try settle()
    }

    /// A DNS name as the zone keeps it: lower case, without the final dot.
    static func dnsName(_ name: String) -> String {
        var lower = name.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        return lower
    }

    static func addLearnerHost(to world: World) throws -> MailSim.Host {
        if let existing = world.host("learner-pc") { return existing }
        var last: UInt8 = 99
        while world.host("192.0.2.\(last)") != nil {
            guard last < 254 else { throw TutorError(fr: "plus d'adresse libre pour learner-pc", en: "no free address for learner-pc") }
            last += 1
        }
        return try world.addHost("learner-pc", address: "192.0.2.\(last)", addDNS: false)
    }

    /// The MTA settings of a scenario host.
    static func configuration(host: HostSpec, mta: MTASpec) throws -> MTAConfiguration {
        var listeners: [MTAListener] = []
        for service in host.services {
            switch service.kind {
            case .smtp: listeners.append(MTAListener(port: UInt16(clamping: service.port), kind: .relay))
            case .submission: listeners.append(MTAListener(port: UInt16(clamping: service.port), kind: .submission))
            case .smtps: listeners.append(MTAListener(port: UInt16(clamping: service.port), kind: .implicitTLS))
            default: break
            }
        }
        if listeners.isEmpty { listeners = [MTAListener(port: 25, kind: .relay)] }
        var local = Set(mta.domains.map { $0.lowercased() })
        for domain in host.mda?.domains ?? [] { local.insert(domain.lowercased()) }
        var configuration = MTAConfiguration(
            hostname: host.name, localDomains: local, relayDomains: Set(mta.backupFor.map { $0.lowercased() }),
            relayPolicy: try relayPolicy(mta.relay, networks: mta.mynetworks, line: host.line), listeners: listeners,
            requireTLSForAuth: mta.requireTLSForAuth)
        let smtp = host.services.first { $0.kind == .smtp }
        configuration.offerTLSOnRelayPort = smtp.map { $0.tls != .none } ?? true
        configuration.retry = retrySchedule(delays: mta.retry, warnAfter: mta.warnAfter, bounceAfter: mta.bounceAfter)
        if let limit = mta.destinationConcurrency { configuration.destinationConcurrencyLimit = limit }
        if let cache = mta.connectionCache { configuration.reusesConnections = cache }
        if let mechanisms = mta.authMechanisms {
            configuration.submissionMechanisms = mechanisms.compactMap { SASLMechanism(rawValue: $0.rawValue) }
        }
        configuration.blocklists = mta.blocklists.map { dnsName($0) }
        return configuration
    }

    /// DKIM signing for the local domains whose `SELECTOR._domainkey.DOMAIN` TXT record holds the
    /// public half of a key the simulation has: the RSA demonstration key or the Ed25519 key
    /// derived from the world's seed. A record with another key gets no signer, so its
    /// signatures fail, as they would with a stale key.
    static func dkimSigning(for domains: Set<String>, records: [DNSRecordSpec], world: World) -> [DKIMSigningConfiguration] {
        func publicKey(_ text: String) -> String? {
            for tag in text.split(separator: ";") {
                let parts = tag.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0] == "p" { return parts[1].filter { !$0.isWhitespace } }
            }
            return nil
        }
        var signing: [DKIMSigningConfiguration] = []
        for record in records where record.type == .TXT {
            let name = dnsName(record.name)
            guard let range = name.range(of: "._domainkey.") else { continue }
            let selector = String(name[..<range.lowerBound])
            let domain = String(name[range.upperBound...])
            guard domains.contains(domain), let wanted = publicKey(record.value) else { continue }
            for key in [DKIMSigningConfiguration.Key.rsaDemo, .ed25519(world: world, domain: domain, selector: selector)] {
                let candidate = DKIMSigningConfiguration(domain: domain, selector: selector, key: key)
                if publicKey(candidate.dnsRecord) == wanted {
                    signing.append(candidate)
                    break
                }
            }
        }
        return signing
    }

    /// The delivery agent of a host: its POP3 and IMAP listeners on the declared service ports,
    /// serving the store of its first domain (`mda: {domains: …}`, else the MTA's domains).
    static func mdaConfiguration(host: HostSpec) -> (String, MDAConfiguration)? {
        let mailServices = host.services.filter { [.pop3, .pop3s, .imap, .imaps].contains($0.kind) }
        guard host.mda != nil || !mailServices.isEmpty else { return nil }
        let domains = (host.mda?.domains ?? []) + (host.mta?.domains ?? [])
        guard let domain = domains.first?.lowercased() else { return nil }
        func port(_ kind: ServiceKind) -> UInt16? {
            host.services.first { $0.kind == kind }.map { UInt16(clamping: $0.port) }
        }
        // Dovecot's `disable_plaintext_auth = yes` unless the host says otherwise.
        let plaintextRefused = host.mda?.requireTLSForAuth ?? host.mta?.requireTLSForAuth ?? true
        return (domain, MDAConfiguration(hostname: host.name, pop3Port: port(.pop3), pop3sPort: port(.pop3s),
                                         imapPort: port(.imap), imapsPort: port(.imaps),
                                         plaintextLoginRequiresTLS: plaintextRefused))
    }

    /// A scenario's POP3 mode as the client's retention mode.
    static func retention(_ mode: POP3Mode, days: Int?, line: Int) throws -> POP3RetentionMode {
        switch mode {
        case .delete: return .deleteAfterDownload
        case .keep: return .leaveOnServer
        case .keepDays:
            guard let days, days >= 0 else {
                throw TutorError(fr: "ligne \(line) : le mode keep-days demande days", en: "line \(line): mode keep-days needs days")
            }
            return .leaveOnServerThenDelete(after: .seconds(days * 86_400))
        }
    }

    static func relayPolicy(_ policy: MailTutor.RelayPolicy, networks: [String], line: Int) throws -> MailAgents.RelayPolicy {
        switch policy {
        case .open: return .open
        case .authenticated: return .authenticated
        case .mynetworks:
            return .mynetworks(try networks.map { text in
                guard let network = IPv4Network(text) else {
                    throw TutorError(fr: "ligne \(line) : réseau invalide « \(text) » (forme 192.0.2.0/24)",
                                     en: "line \(line): invalid network '\(text)' (form 192.0.2.0/24)")
                }
                return network
            })
        }
    }

    /// A scenario's retry list as the MTA's schedule: exactly those waits, the last one repeating;
    /// no list keeps Postfix's doubling back-off.
    static func retrySchedule(delays: [Int], warnAfter: Int?, bounceAfter: Int?) -> RetrySchedule {
        let base = RetrySchedule.postfix
        let warn = warnAfter.map(Int64.init) ?? base.delayWarningSeconds
        let lifetime = bounceAfter.map(Int64.init) ?? base.maximalLifetimeSeconds
        guard !delays.isEmpty else {
            return RetrySchedule(firstRetrySeconds: base.firstRetrySeconds, maximalBackoffSeconds: base.maximalBackoffSeconds,
                                 delayWarningSeconds: warn, maximalLifetimeSeconds: lifetime)
        }
        return .explicit(delays.map(Int64.init), delayWarningSeconds: warn, maximalLifetimeSeconds: lifetime)
    }

    static func security(_ mode: TLSMode) -> ConnectionSecurity {
        switch mode {
        case .none: return .none
        case .starttls: return .startTLS
        case .implicit: return .tls
        }
    }

    static func account(device: DeviceSpec, user: UserSpec, spec: WorldSpec) -> MailAccountSettings {
        let outgoing = device.outgoing
        let incoming = device.incoming
        let smtpHost = outgoing?.host ?? user.host
        var account = MailAccountSettings(
            address: user.address, login: user.login, password: user.password,
            smtpHost: smtpHost, smtpPort: UInt16(clamping: outgoing?.port ?? 587),
            smtpSecurity: security(outgoing?.tls ?? .starttls), smtpAuthentication: outgoing?.auth ?? true,
            incomingProtocol: incoming?.protocolKind == .pop3 ? .pop3 : .imap,
            incomingHost: incoming?.host ?? user.host,
            incomingPort: incoming.map { UInt16(clamping: $0.port) },
            incomingSecurity: security(incoming?.tls ?? .implicit),
            ehloName: device.name.contains(".") ? device.name : "\(device.name).local")
        account.displayName = nil
        return account
    }

    /// A message already in a mailbox at the start: RFC 5322 headers written by the tutor.
    static func seedMessage(_ message: SeedMessage, to address: String, world: World, counter: Int) throws -> [UInt8] {
        guard let from = MailAddress(message.from), let to = MailAddress(address) else {
            throw TutorError(fr: "adresse invalide dans un message initial (\(message.from))",
                             en: "invalid address in a seeded message (\(message.from))")
        }
        var builder = MessageBuilder(from: from, date: world.mailDate(), seed: "\(world.seed)/seed", counter: counter)
        builder.to = [to]
        builder.subject = message.subject
        builder.textBody = message.body
        return builder.build().bytes
    }

    // MARK: running

    /// Runs every event due at the current instant (and those they schedule at the same instant).
    func settle() throws {
        try world.run(until: world.now)
    }

    /// Steps the world until `done` holds, nothing is left, or `patience` has passed; then
    /// settles at the instant reached.
    func run(until done: () -> Bool, patience: VirtualDuration = SimulatedWorld.replyPatience) {
        let deadline = world.now + patience
        var steps = 0
        while !done(), let next = world.scheduler.nextEventTime, next <= deadline, steps < 1_000_000 {
            world.step()
            steps += 1
        }
        try? settle()
    }

    // MARK: TutorWorld

    public var now: Int { Int(world.now.microseconds / 1_000_000) }

    public func hosts() -> [HostInfo] {
        world.hosts.map { host in
            let declared = spec?.host(named: host.name)?.services ?? []
            let services = host.listeningPorts.map { port -> ServiceSpec in
                if let found = declared.first(where: { $0.port == Int(port) }) { return found }
                let kind = ServiceKind.allCases.first { $0.standardPort == Int(port) } ?? .smtp
                return ServiceSpec(kind: kind, port: Int(port), tls: kind.defaultTLS)
            }
            return HostInfo(name: host.name, address: host.address.description, up: host.isUp, services: services)
        }
    }

    public func dig(name: String, type: DNSType) -> DigResult {
        let owner = Self.dnsName(name)
        switch world.dns.lookup(name, type: Self.recordType(type)) {
        case .nxdomain: return DigResult(status: .nxDomain, answers: [])
        case .noData: return DigResult(status: .noError, answers: [])
        case let .answer(records):
            var answers = records.compactMap { Self.answer($0, owner: owner) }
            switch type {
            case .MX: answers.sort { ($0.preference ?? 0, $0.value) < ($1.preference ?? 0, $1.value) }
            case .A: answers.sort { (IPv4Address($0.value) ?? IPv4Address(0)) < (IPv4Address($1.value) ?? IPv4Address(0)) }
            case .TXT: break
            }
            return DigResult(status: .noError, answers: answers)
        }
    }

    static func recordType(_ type: DNSType) -> DNSRecordType {
        switch type {
        case .A: return .a
        case .MX: return .mx
        case .TXT: return .txt
        }
    }

    /// A zone record as `dig` and `dns list` show it (A, MX, TXT; nil for the other types).
    static func answer(_ record: DNSRecord, owner: String) -> DNSAnswer? {
        switch record.data {
        case let .a(address):
            return DNSAnswer(name: owner, type: .A, value: address.description, ttl: Int(record.ttl))
        case let .mx(preference, exchange):
            return DNSAnswer(name: owner, type: .MX, value: exchange.hasSuffix(".") ? exchange : exchange + ".",
                             preference: Int(preference), ttl: Int(record.ttl))
        case let .txt(strings):
            return DNSAnswer(name: owner, type: .TXT, value: strings.joined(), ttl: Int(record.ttl))
        default:
            return nil
        }
    }

    public func openSession(host: String, port: Int, tls: Bool) throws -> TutorSession {
        guard (1...65535).contains(port) else {
            throw TutorError(fr: "port invalide : \(port)", en: "invalid port: \(port)")
        }
        guard let target = world.host(host) ?? world.hosts.first(where: { $0.name == Self.dnsName(host) }) else {
            throw TutorError(fr: "Hôte inconnu « \(Printable.escape(host)) ». Tapez « hosts » pour la liste.",
                             en: "Unknown host '\(Printable.escape(host))'. Type 'hosts' for the list.")
        }
        let declared = spec?.host(named: target.name)?.service(port: port)?.kind.mailProtocol
        let kind = declared ?? ServiceKind.protocolForPort(port) ?? .smtp
        let session = LearnerSession(world: self, target: target, port: port, protocolKind: kind == .dns ? .smtp : kind)
        try session.open(implicitTLS: tls)
        return session
    }

    public func perform(_ action: WorldAction) throws -> [LocalizedText] {
        defer { try? settle() }
        switch action {
        case let .send(send): return try perform(send)
        case let .fetch(device):
            let client = try mua(device)
            return client.account.incomingProtocol == .pop3 ? try fetchPOP3(client, device: device) : try syncIMAP(client, device: device)
        case let .sync(device):
            return try syncIMAP(try mua(device), device: device)
        case let .configure(configure): return try perform(configure)
        case let .fault(fault): return try perform(fault)
        case let .advance(seconds):
            try world.run(until: world.now + .seconds(Int64(max(0, seconds))))
            return []
        }
    }

    public func mailbox(user: String, folder: String?) throws -> [MailboxEntry] {
        let (store, account) = try locate(user)
        let name = folder.map { $0.uppercased() == "INBOX" ? "INBOX" : $0 } ?? "INBOX"
        let messages: [StoredMessage]
        do {
            messages = try store.messages(user: account, mailbox: name)
        } catch {
            throw TutorError(fr: "\(Printable.escape(user)) n'a pas de dossier « \(Printable.escape(name)) ».",
                             en: "\(Printable.escape(user)) has no folder '\(Printable.escape(name))'.")
        }
        return messages.enumerated().map { index, stored in
            let message = Message(parsing: stored.raw)
            return MailboxEntry(sequence: index + 1, uid: Int(stored.uid),
                                from: message.from.first.map { "\($0.localPart)@\($0.domain)" } ?? "",
                                subject: message.subject ?? "", flags: stored.flags.map(\.rawValue).sorted(), size: stored.size)
        }
    }

    public func message(user: String, folder: String?, number: Int) throws -> String {
        let (store, account) = try locate(user)
        let name = folder.map { $0.uppercased() == "INBOX" ? "INBOX" : $0 } ?? "INBOX"
        let messages: [StoredMessage]
        do {
            messages = try store.messages(user: account, mailbox: name)
        } catch {
            throw TutorError(fr: "\(Printable.escape(user)) n'a pas de dossier « \(Printable.escape(name)) ».",
                             en: "\(Printable.escape(user)) has no folder '\(Printable.escape(name))'.")
        }
        guard number >= 1, number <= messages.count else {
            throw TutorError(fr: "Pas de message \(number) dans \(name) (\(messages.count) message(s)) : voyez « mailbox \(Printable.escape(user)) ».",
                             en: "No message \(number) in \(name) (\(messages.count) message(s)): see 'mailbox \(Printable.escape(user))'.")
        }
        return String(decoding: messages[number - 1].raw, as: UTF8.self)
    }

    public func folders(user: String) throws -> [String] {
        let (store, account) = try locate(user)
        return store.mailboxes(user: account).map(\.name)
    }

    public func queue(host: String?) throws -> [MailTutor.QueueEntry] {
        var hostsToShow = world.hosts.map(\.name).filter { mail.mtas[$0] != nil }
        if let host {
            guard let found = world.host(host) else {
                throw TutorError(fr: "Hôte inconnu « \(Printable.escape(host)) ».", en: "Unknown host '\(Printable.escape(host))'.")
            }
            hostsToShow = [found.name].filter { mail.mtas[$0] != nil }
        }
        return hostsToShow.flatMap { name -> [QueueEntry] in
            guard let mta = mail.mtas[name] else { return [] }
            return mta.queue.entries.filter { !$0.isFinished }.map { entry in
                let wait = (entry.nextAttempt - world.now).microseconds
                return QueueEntry(id: entry.id.text, host: name, from: entry.sender.isEmpty ? "<>" : entry.sender,
                                  to: entry.pendingRecipients, attempts: entry.attempts,
                                  nextAttemptIn: Int(max(0, (wait + 999_999) / 1_000_000)),
                                  lastError: entry.lastError)
            }
        }
    }

    public func wireLog() -> [WireRecord] { wire.records(of: world.tap) }

    public func explain(reply: String, protocolKind: MailTutor.MailProtocol) -> LocalizedText? {
        ReplyExplainer.explain(reply, protocolKind: protocolKind)
    }

    public func facts(since sequence: Int) -> [FactRecord] { Array(world.journal.records(since: sequence)) }

    public var nextFactSequence: Int { world.journal.nextSequence }

    public var learnerHosts: Set<String> {
        Set([learnerHost.name.lowercased()] + devices.values.map { $0.host.name.lowercased() })
    }

    // MARK: actions

    func mua(_ device: String) throws -> MUA {
        if let found = devices[device] ?? devices[device.lowercased()] { return found }
        let known = devices.keys.sorted().joined(separator: ", ")
        throw TutorError(fr: "Appareil inconnu « \(Printable.escape(device)) » (connus : \(known)).",
                         en: "Unknown device '\(Printable.escape(device))' (known: \(known)).")
    }

    /// One POP3 check following the device's mode; throws when it fails.
    private func fetchPOP3(_ client: MUA, device: String) throws -> [LocalizedText] {
        var outcome: FetchResult?
        client.fetchPOP3 { outcome = $0 }
        run(until: { outcome != nil })
        let server = "\(client.account.incomingHost):\(client.account.incomingPort)"
        guard let result = outcome else {
            throw TutorError(fr: "\(server) n'a pas terminé la session POP3.", en: "\(server) did not finish the POP3 session.")
        }
        guard result.succeeded else {
            throw TutorError(fr: "Relève POP3 de \(device) refusée par \(server) : \(result.summary)",
                             en: "POP3 fetch of \(device) refused by \(server): \(result.summary)")
        }
        let kept = client.downloaded.count
        return [LocalizedText(
            fr: "\(device) ← \(server) (POP3, mode \(client.pop3Mode.name)) : \(result.newMessages) nouveau(x), \(result.result.deletedCount) supprimé(s) sur le serveur, \(kept) sur l'appareil.",
            en: "\(device) ← \(server) (POP3, mode \(client.pop3Mode.name)): \(result.newMessages) new, \(result.result.deletedCount) deleted on the server, \(kept) on the device.")]
    }

    /// Starts (or restarts) the device's IMAP synchronisation and waits until its view is built.
    private func syncIMAP(_ client: MUA, device: String) throws -> [LocalizedText] {
        let session = client.startIMAPSync()
        // Logged in is not enough: wait for the first pass (LIST, SELECT, FETCH) to end in IDLE,
        // or, without IDLE, for the session to fall quiet until its next poll.
        run(until: {
            switch session.status {
            case .connecting: return false
            case .failed, .finished: return true
            case .running:
                if session.responses.contains(where: { if case .continuation = $0 { return true } else { return false } }) { return true }
                return world.scheduler.nextEventTime.map { $0 > world.now + .seconds(1) } ?? true
            }
        })
        let server = "\(client.account.incomingHost):\(client.account.incomingPort)"
        switch session.status {
        case let .failed(reason):
            throw TutorError(fr: "Synchronisation IMAP de \(device) avec \(server) en échec : \(reason)",
                             en: "IMAP sync of \(device) with \(server) failed: \(reason)")
        case .connecting, .finished:
            throw TutorError(fr: "\(server) n'a pas terminé la synchronisation IMAP.", en: "\(server) did not finish the IMAP sync.")
        case let .running(idle):
            let count = session.sync.view.uids.count
            return [LocalizedText(
                fr: "\(device) ⇄ \(server) (IMAP\(idle ? ", IDLE" : ", relève périodique")) : \(count) message(s) dans \(session.sync.watched), \(session.sync.folderNames.count) dossier(s).",
                en: "\(device) ⇄ \(server) (IMAP\(idle ? ", IDLE" : ", polling")): \(count) message(s) in \(session.sync.watched), \(session.sync.folderNames.count) folder(s).")]
        }
    }

    private func perform(_ send: SendAction) throws -> [LocalizedText] {
        let client: MUA
        if let device = send.device {
            client = try mua(device)
        } else {
            client = try bareClient(for: send.from)
        }
        var outcome: SubmissionResult?
        // A device may write in someone else's name (`from:` differs from its account): the
        // client then puts that address in From: and MAIL FROM, as a forger's client would.
        let saved = client.account
        defer { client.account = saved }
        if !send.from.isEmpty, send.from.lowercased() != saved.address.lowercased() {
            client.account.address = send.from
            client.account.displayName = nil
        }
        do {
            try client.send(Composition(to: send.to, subject: send.subject, text: send.body)) { outcome = $0 }
        } catch {
            throw TutorError(fr: "Message invalide : \(error)", en: "Invalid message: \(error)")
        }
        run(until: { outcome != nil })
        guard let result = outcome else {
            throw TutorError(fr: "Le serveur \(client.account.smtpHost) n'a pas terminé la soumission.",
                             en: "The server \(client.account.smtpHost) did not finish the submission.")
        }
        guard result.succeeded else {
            var reason = result.summary
            // A refused recipient says more than the session's summary.
            let sessionFailed = result.transportError != nil || result.result?.sessionFailure != nil
            for recipient in result.result?.recipients ?? [] where !sessionFailed {
                switch recipient.outcome {
                case let .temporaryFailure(reply?), let .permanentFailure(reply?):
                    reason = "\(reply.code) \(reply.enhancedCode.map { "\($0) " } ?? "")\(reply.lines.joined(separator: " ")) (RCPT TO:<\(recipient.path.address)>)"
                default:
                    continue
                }
                break
            }
            throw TutorError(fr: "Envoi refusé par \(client.account.smtpHost) : \(reason)",
                             en: "Submission refused by \(client.account.smtpHost): \(reason)")
        }
        let id = result.result?.queueID ?? "?"
        return [LocalizedText(fr: "\(client.host.name) → \(client.account.smtpHost):\(client.account.smtpPort) : accepté, file \(id).",
                              en: "\(client.host.name) → \(client.account.smtpHost):\(client.account.smtpPort): accepted, queued as \(id).")]
    }

    /// A client for a sender with no device: the learner's machine, with the sender's account on
    /// the submission port of their domain's MTA.
    private func bareClient(for sender: String) throws -> MUA {
        guard let mailbox = SMTPMailbox(sender) else {
            throw TutorError(fr: "Adresse d'expéditeur invalide : \(Printable.escape(sender))",
                             en: "Invalid sender address: \(Printable.escape(sender))")
        }
        let key = "learner:" + sender.lowercased()
        if let existing = mail.muas[key] { return existing }
        let domain = mailbox.normalizedDomain
        let store = mail.stores[domain]
        guard let store, let login = store.account(forAddress: sender.lowercased()), let password = store.password(user: login) else {
            throw TutorError(fr: "\(Printable.escape(sender)) n'a pas de compte dans ce monde : impossible de s'authentifier pour envoyer.",
                             en: "\(Printable.escape(sender)) has no account in this world: cannot authenticate to send.")
        }
        guard let server = world.hosts.map(\.name).first(where: { mail.mtas[$0]?.configuration.localDomains.contains(domain) == true }) else {
            throw TutorError(fr: "Aucun MTA ne sert le domaine \(domain).", en: "No MTA serves the domain \(domain).")
        }
        let account = MailAccountSettings(address: sender, login: login, password: password, smtpHost: server)
        return try mail.addMUA(named: key, on: learnerHost.name, account: account)
    }

    private func perform(_ configure: ConfigureAction) throws -> [LocalizedText] {
        switch configure.target {
        case let .host(name):
            guard let mta = mail.mtas[world.host(name)?.name ?? name] else {
                throw TutorError(fr: "Pas de MTA sur \(Printable.escape(name)).", en: "No MTA on \(Printable.escape(name)).")
            }
            var schedule = mta.configuration.retry
            var relay = mta.configuration.relayPolicy
            var notes: [LocalizedText] = []
            for setting in configure.settings {
                let value = setting.value.trimmingCharacters(in: .whitespaces)
                switch setting.key {
                case "relay":
                    guard let policy = MailTutor.RelayPolicy(rawValue: value.lowercased()) else { throw badValue(setting) }
                    let networks: [String]
                    if case let .mynetworks(current) = relay { networks = current.map(\.description) } else { networks = [] }
                    relay = try Self.relayPolicy(policy, networks: networks, line: 0)
                case "mynetworks":
                    let list = Self.list(value)
                    relay = try Self.relayPolicy(.mynetworks, networks: list, line: 0)
                case "retry":
                    let delays = try Self.list(value).map { text -> Int in
                        guard let seconds = DurationText.seconds(text) else { throw badValue(setting) }
                        return seconds
                    }
                    let updated = Self.retrySchedule(delays: delays, warnAfter: nil, bounceAfter: nil)
                    schedule.firstRetrySeconds = updated.firstRetrySeconds
                    schedule.maximalBackoffSeconds = updated.maximalBackoffSeconds
                    schedule.explicitDelays = updated.explicitDelays
                case "warn-after":
                    guard let seconds = DurationText.seconds(value) else { throw badValue(setting) }
                    schedule.delayWarningSeconds = Int64(seconds)
                case "bounce-after":
                    guard let seconds = DurationText.seconds(value) else { throw badValue(setting) }
                    schedule.maximalLifetimeSeconds = Int64(seconds)
                case "require-tls-auth":
                    guard let on = Bool(value) else { throw badValue(setting) }
                    mta.setRequireTLSForAuth(on)
                    mail.mdas[mta.host.name]?.setPlaintextLoginRequiresTLS(on)
                case "blocklists":
                    mta.setBlocklists(Self.list(value).map { Self.dnsName($0) })
                case "dkim":
                    notes += try configureDKIM(mta, value: value)
                    continue
                case "destination-concurrency":
                    guard let limit = Int(value), (1...1000).contains(limit) else { throw badValue(setting) }
                    mta.setConnectionCache(mta.configuration.reusesConnections, destinationConcurrencyLimit: limit)
                case "connection-cache":
                    guard let on = Bool(value) else { throw badValue(setting) }
                    mta.setConnectionCache(on)
                default:
                    throw badValue(setting)
                }
                notes.append(LocalizedText(fr: "\(mta.host.name) : \(setting.key) = \(value)", en: "\(mta.host.name): \(setting.key) = \(value)"))
            }
            mta.setRelayPolicy(relay)
            mta.setRetrySchedule(schedule)
            return notes
        case let .device(name):
            let client = try mua(name)
            var account = client.account
            var notes: [LocalizedText] = []
            for setting in configure.settings {
                let value = setting.value.trimmingCharacters(in: .whitespaces).lowercased()
                switch setting.key {
                case "protocol":
                    guard let proto = IncomingProtocol(rawValue: value) else { throw badValue(setting) }
                    account.incomingProtocol = proto
                    account.incomingPort = MailAccountSettings.standardPort(proto, account.incomingSecurity)
                case "port":
                    guard let port = UInt16(value) else { throw badValue(setting) }
                    account.incomingPort = port
                case "tls":
                    guard let mode = TLSMode(rawValue: value) else { throw badValue(setting) }
                    account.incomingSecurity = Self.security(mode)
                case "mode":
                    guard let mode = POP3Mode(rawValue: value) else { throw badValue(setting) }
                    let days: Int?
                    if case let .leaveOnServerThenDelete(after) = client.pop3Mode { days = Int(after.components.seconds / 86_400) } else { days = nil }
                    client.pop3Mode = try Self.retention(mode, days: days ?? 7, line: 0)
                case "days":
                    guard let days = Int(value), days >= 0 else { throw badValue(setting) }
                    client.pop3Mode = .leaveOnServerThenDelete(after: .seconds(days * 86_400))
                case "auth":
                    guard let on = Bool(value) else { throw badValue(setting) }
                    account.smtpAuthentication = on
                case "idle":
                    guard let on = Bool(value) else { throw badValue(setting) }
                    client.usesIDLE = on
                default:
                    throw TutorError(fr: "Le réglage \(setting.key) d'un appareil n'est pas encore pris en charge par le client simulé.",
                                     en: "The device setting \(setting.key) is not supported by the simulated client yet.")
                }
                notes.append(LocalizedText(fr: "\(name) : \(setting.key) = \(value)", en: "\(name): \(setting.key) = \(value)"))
            }
            client.account = account
            return notes
        }
    }

    private func badValue(_ setting: ConfigureAction.Setting) -> TutorError {
        TutorError(fr: "Valeur invalide pour \(setting.key) : « \(Printable.escape(setting.value)) »",
                   en: "Invalid value for \(setting.key): '\(Printable.escape(setting.value))'")
    }

    /// `[a, b]` or `a, b` or `a b` as items.
    static func list(_ text: String) -> [String] {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            .split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    private func perform(_ fault: Fault) throws -> [LocalizedText] {
        func host(_ name: String) throws -> MailSim.Host {
            guard let found = world.host(name) else {
                throw TutorError(fr: "Hôte inconnu « \(Printable.escape(name)) ».", en: "Unknown host '\(Printable.escape(name))'.")
            }
            return found
        }
        switch fault {
        case let .down(name):
            let target = try host(name)
            try world.apply(.down(target.name))
            return [LocalizedText(fr: "\(target.name) est arrêtée.", en: "\(target.name) is down.")]
        case let .up(name):
            let target = try host(name)
            try world.apply(.up(target.name))
            if crashed.remove(target.name) != nil {
                // A crash forgot the listeners; the services start again, with what they had saved.
                mail.mtas[target.name]?.start()
                mail.mdas[target.name]?.start()
            }
            return [LocalizedText(fr: "\(target.name) est en marche.", en: "\(target.name) is up.")]
        case let .crash(name):
            let target = try host(name)
            try world.apply(.crash(target.name))
            crashed.insert(target.name)
            return [LocalizedText(fr: "\(target.name) s'est arrêtée brutalement (connexions coupées).",
                                  en: "\(target.name) crashed (connections reset).")]
        case let .partition(a, b):
            let x = try host(a), y = try host(b)
            try world.apply(.partition(x.name, y.name))
            return [LocalizedText(fr: "\(x.name) et \(y.name) ne se joignent plus.", en: "\(x.name) and \(y.name) cannot reach each other.")]
        case let .heal(a, b):
            let x = try host(a), y = try host(b)
            try world.apply(.heal(x.name, y.name))
            return [LocalizedText(fr: "\(x.name) et \(y.name) se joignent à nouveau.", en: "\(x.name) and \(y.name) can reach each other again.")]
        }
    }

    /// The store and account name of a user given by address or login.
    private func locate(_ user: String) throws -> (MailStore, String) {
        let wanted = user.lowercased()
        if let mailbox = SMTPMailbox(wanted), let store = mail.stores[mailbox.normalizedDomain],
           let account = store.account(forAddress: wanted) {
            return (store, account)
        }
        for domain in mail.stores.keys.sorted() {
            guard let store = mail.stores[domain] else { continue }
            if store.hasAccount(wanted) { return (store, wanted) }
        }
        throw TutorError(fr: "Utilisateur inconnu « \(Printable.escape(user)) ».", en: "Unknown user '\(Printable.escape(user))'.")
    }
}
