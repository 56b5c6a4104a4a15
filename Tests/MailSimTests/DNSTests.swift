import Testing
@testable import MailSim

@Suite("DNS zone, resolver and dig")
struct DNSTests {
    @Test("MX answers are sorted by preference, then name")
    func mxSorted() throws {
        let world = try World.defaultWorld(seed: 1)
        world.dns.addMX("example.org", preference: 20, exchange: "b.example.org")
        world.dns.addMX("example.org", preference: 10, exchange: "z.example.org")
        world.dns.addMX("example.org", preference: 20, exchange: "a.example.org.")
        #expect(world.resolver.mx("Example.ORG.") == .answer([
            MXRecord(preference: 10, exchange: "z.example.org"),
            MXRecord(preference: 20, exchange: "a.example.org"),
            MXRecord(preference: 20, exchange: "b.example.org"),
        ]))
        #expect(world.resolver.mx("company.org").values.map(\.exchange)
            == ["mail1.company.org", "mail2.company.org", "mail-backup.example.net"])
    }

    @Test("dig prints zone-file lines")
    func digLines() throws {
        let world = try World.defaultWorld(seed: 1)
        #expect(world.resolver.dig("company.org", type: .mx) == """
        ;; status: NOERROR, answers: 3
        company.org.\t\t3600\tIN\tMX\t10 mail1.company.org.
        company.org.\t\t3600\tIN\tMX\t20 mail2.company.org.
        company.org.\t\t3600\tIN\tMX\t30 mail-backup.example.net.

        """)
        #expect(world.resolver.dig("mail.example.com") == """
        ;; status: NOERROR, answers: 1
        mail.example.com.\t\t3600\tIN\tA\t198.51.100.25

        """)
        #expect(world.resolver.dig("example.com", type: .txt) == """
        ;; status: NOERROR, answers: 1
        example.com.\t\t3600\tIN\tTXT\t"v=spf1 ip4:198.51.100.25 -all"

        """)
    }

    @Test("TXT with several strings, quotes and backslashes")
    func txtStrings() {
        let zone = DNSZone()
        zone.addTXT("sel._domainkey.example.com", ["v=DKIM1; k=ed25519; ", "p=abc\"d\\e"], ttl: 300)
        #expect(Resolver(zone: zone).txt("sel._domainkey.example.com") == .answer([["v=DKIM1; k=ed25519; ", "p=abc\"d\\e"]]))
        #expect(Resolver(zone: zone).dig("sel._domainkey.example.com", type: .txt)
            == ";; status: NOERROR, answers: 1\nsel._domainkey.example.com.\t\t300\tIN\tTXT\t\"v=DKIM1; k=ed25519; \" \"p=abc\\\"d\\\\e\"\n")
    }

    @Test("NXDOMAIN and NODATA are told apart")
    func negativeAnswers() throws {
        let world = try World.defaultWorld(seed: 1)
        let resolver = world.resolver
        #expect(resolver.mx("nowhere.test") == .nxdomain)
        #expect(resolver.a("company.org") == .noData)  // has MX and TXT, no A
        #expect(resolver.txt("mail.example.com") == .noData)
        #expect(resolver.a("_domainkey.company.org") == .nxdomain)
        #expect(resolver.dig("nowhere.test", type: .mx) == ";; status: NXDOMAIN, answers: 0\n")
        #expect(resolver.dig("company.org", type: .a) == ";; status: NOERROR, answers: 0\n")
        // An empty non-terminal exists (RFC 8020).
        world.dns.addTXT("sel._domainkey.company.org", "v=DKIM1; p=")
        #expect(resolver.txt("_domainkey.company.org") == .noData)
        // Names above a removed record stop existing with it (the zone's name cache follows).
        world.dns.remove("sel._domainkey.company.org")
        #expect(resolver.txt("_domainkey.company.org") == .nxdomain)
        #expect(resolver.txt("sel._domainkey.company.org") == .nxdomain)
        #expect(resolver.mx("company.org") != .nxdomain)
    }

    @Test("a DNS blocklist is A records under the reversed address")
    func blocklist() throws {
        let zone = DNSZone()
        let listed = try #require(IPv4Address("192.0.2.99"))
        zone.addBlocklistEntry(listed, zone: "zen.blocklist.test", reason: "listed for tests")
        let resolver = Resolver(zone: zone)
        #expect(listed.reversedName(in: "zen.blocklist.test") == "99.2.0.192.zen.blocklist.test")
        #expect(resolver.a("99.2.0.192.zen.blocklist.test") == .answer([IPv4Address(127, 0, 0, 2)]))
        #expect(resolver.txt("99.2.0.192.zen.blocklist.test").values == [["listed for tests"]])
        #expect(resolver.a("10.2.0.192.zen.blocklist.test") == .nxdomain)
    }

    @Test("IPv4 parsing", arguments: [
        ("192.0.2.10", "192.0.2.10"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("256.1.1.1", nil), ("1.2.3", nil), ("1.2.3.4.5", nil), ("a.b.c.d", nil), ("1..2.3", nil), ("", nil), ("+1.2.3.4", nil),
        ("1.2.3.", nil), (".1.2.3", nil), ("1234.1.1.1", nil), ("999.1.1.1", nil), ("01.002.3.4", "1.2.3.4"),
        ("1.2.3.4 ", nil), ("\u{0661}.2.3.4", nil), ("1.2.3.4.", nil),
    ] as [(String, String?)])
    func ipv4(text: String, expected: String?) {
        #expect(IPv4Address(text)?.description == expected)
    }
}
