import MailTutor
import MailCore
import MailAgents
import MailSim

/// The course's world as a `WorldSpec`, derived from the one definition the simulation runs
/// (`CourseWorld` and `World.defaultWorld` in the lower modules): what the tutor's `DefaultWorld`
/// names is always what `MailWorld.course(seed:)` builds.
public enum CourseWorldSpec {
    /// The whole course world: hosts with their services, MTA and mail store, the DNS zone, users.
    public static let spec: WorldSpec = make()

    static func make() -> WorldSpec {
        func services(_ kinds: [ServiceKind]) -> [ServiceSpec] {
            kinds.map { ServiceSpec(kind: $0, port: $0.standardPort, tls: $0.defaultTLS) }
        }
        let addresses = Dictionary(World.defaultHosts.map { ($0.name, $0.address) }, uniquingKeysWith: { first, _ in first })
        var world = WorldSpec()
        world.hosts = CourseWorld.servers.map { server in
            var mta = MTASpec()
            mta.domains = server.localDomains
            mta.backupFor = server.relayDomains
            mta.requireTLSForAuth = true
            mta.authMechanisms = CourseWorld.mechanisms.compactMap { AuthMechanism(rawValue: $0.rawValue) }
            let smtp: [ServiceKind] = [.smtp, .submission, .smtps]
            let mda = server.mailboxDomain.map { MDASpec(domains: [$0], quotaMessages: nil, requireTLSForAuth: true) }
            return HostSpec(name: server.name, address: addresses[server.name] ?? "", 
                            services: services(mda == nil ? smtp : smtp + [.pop3, .pop3s, .imap, .imaps]),
                            mta: mta, mda: mda, up: true, line: 0)
        }
        // The zone as the simulation fills it: A, MX, SPF, DKIM and DMARC records.
        let zone = (try? MailWorld.course(seed: 0).world.dns.records) ?? []
        world.dns = zone.compactMap { record in
            switch record.data {
            case .a(let address): return DNSRecordSpec(name: record.name, type: .A, value: address.description, preference: nil, line: 0)
            case let .mx(preference, exchange):
                return DNSRecordSpec(name: record.name, type: .MX, value: exchange, preference: Int(preference), line: 0)
            case .txt(let strings): return DNSRecordSpec(name: record.name, type: .TXT, value: strings.joined(), preference: nil, line: 0)
            }
        }
        world.users = CourseWorld.users.map {
            UserSpec(address: $0.address, login: $0.login, password: $0.password, host: $0.server, folders: [], messages: [], line: 0)
        }
        return world
    }
}
