import MailCore

extension World {
    /// Hosts of the course's world, in this order (MailTutor's `serve` numbers them so): the
    /// servers, then the users' devices, as MailCore's `CourseWorld` lists them.
    public static let defaultHosts: [(name: String, address: String)] =
        CourseWorld.servers.map { ($0.name, $0.address) } + CourseWorld.devices.map { ($0.name, $0.address) }

    /// The world of DESIGN.md, with hosts, DNS and CA only (services are attached by MailAgents),
    /// built from MailCore's `CourseWorld` table:
    ///
    /// | host | address | DNS |
    /// |---|---|---|
    /// | mail.example.com | 198.51.100.25 | A; MX 10 of example.com |
    /// | mail1.company.org | 203.0.113.10 | A; MX 10 of company.org |
    /// | mail2.company.org | 203.0.113.11 | A; MX 20 of company.org |
    /// | mail-backup.example.net | 198.51.100.50 | A; MX 30 of company.org, MX 10 of example.net |
    /// | alice-laptop | 192.0.2.10 | none (Alice's MUA) |
    /// | bob-pc | 192.0.2.20 | none (Bob's MUA) |
    ///
    /// SPF (TXT): `example.com` → `v=spf1 ip4:198.51.100.25 -all`,
    /// `company.org` → `v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 -all`,
    /// `example.net` → `v=spf1 ip4:198.51.100.50 -all`. The client hosts have no DNS
    /// records (like laptops on a home network); agents reach servers by name.
    public static func defaultWorld(seed: UInt64) throws -> World {
        let world = World(seed: seed)
        for (name, address) in defaultHosts {
            try world.addHost(name, address: address, addDNS: name.contains("."))
        }
        let dns = world.dns
        for server in CourseWorld.servers {
            for (domain, preference) in server.mx { dns.addMX(domain, preference: preference, exchange: server.name) }
        }
        for domain in CourseWorld.authenticatedDomains { dns.addTXT(domain, CourseWorld.spfRecord(domain)) }
        return world
    }
}
