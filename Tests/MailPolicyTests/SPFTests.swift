import Testing
import MailMessage
@testable import MailPolicy

@Suite struct SPFTests {
    /// A small world: example.com's policy lists its MTA, includes and redirects exercise recursion.
    static func zone() -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addTXT("example.com", "v=spf1 ip4:198.51.100.25 mx include:_spf.partner.net -all")
        dns.addA("mail.example.com", "198.51.100.25")
        dns.addMX("example.com", preference: 10, host: "mail.example.com")
        dns.addTXT("_spf.partner.net", "v=spf1 ip4:192.0.2.0/24 ~all")
        dns.addTXT("soft.org", "v=spf1 ~all")
        dns.addTXT("neutral.org", "v=spf1 ?all")
        dns.addTXT("nothing.org", "v=spf1")
        dns.addTXT("a.org", "v=spf1 a a:other.a.org/24 -all")
        dns.addA("a.org", "203.0.113.5")
        dns.addA("other.a.org", "10.1.2.3")
        dns.addTXT("mx.org", "v=spf1 mx/30 -all")
        dns.addMX("mx.org", preference: 10, host: "mx1.mx.org")
        dns.addA("mx1.mx.org", "203.0.113.8")
        dns.addTXT("v6.org", "v=spf1 ip6:2001:db8::/32 -all")
        dns.addTXT("redirect.org", "v=spf1 redirect=example.com")
        dns.addTXT("redirect-none.org", "v=spf1 redirect=nowhere.invalid")
        dns.addTXT("exists.org", "v=spf1 exists:%{i}._spf.%{d} -all")
        dns.addA("203.0.113.77._spf.exists.org", "127.0.0.2")
        dns.addTXT("ptr.org", "v=spf1 ptr -all")
        dns.addTXT("bad.org", "v=spf1 ip4:1.2.3.4 foo:bar -all")
        dns.addTXT("two.org", "v=spf1 -all")
        dns.addTXT("two.org", "v=spf1 +all")
        dns.addTXT("tempinc.org", "v=spf1 include:broken.net -all")
        dns.failing.insert("broken.net")
        dns.addTXT("noneinc.org", "v=spf1 include:nospf.net -all")
        dns.addA("nospf.net", "1.1.1.1")
        dns.addTXT("void.org", "v=spf1 a:v1.void.org a:v2.void.org a:v3.void.org -all")
        dns.addTXT("loop.org", "v=spf1 include:loop.org -all")
        dns.addTXT("exp.org", "v=spf1 -all exp=explain.exp.org")
        dns.addTXT("explain.exp.org", "%{i} is not one of %{d}'s servers (sender %{s}, helo %{h})")
        // Eleven includes in a chain: the 11th DNS term is over the limit.
        for n in 0..<11 { dns.addTXT("c\(n).chain.org", "v=spf1 include:c\(n + 1).chain.org -all") }
        dns.addTXT("c11.chain.org", "v=spf1 +all")
        return dns
    }

    func check(_ domain: String, ip: String) -> SPFEvaluation {
        SPFEvaluator(dns: Self.zone()).check(SPFRequest(clientIP: IPAddress(ip)!, mailFrom: "alice@\(domain)", helo: "client.test"))
    }

    @Test(arguments: [
        ("example.com", "198.51.100.25", SPFResult.pass),      // ip4
        ("example.com", "192.0.2.44", .pass),                  // include: partner's /24
        ("example.com", "203.0.113.9", .fail),                 // -all
        ("soft.org", "1.2.3.4", .softfail),
        ("neutral.org", "1.2.3.4", .neutral),
        ("nothing.org", "1.2.3.4", .neutral),                  // no match, no redirect
        ("unknown.org", "1.2.3.4", .none),                     // NXDOMAIN
        ("a.org", "203.0.113.5", .pass),                       // a
        ("a.org", "10.1.2.200", .pass),                        // a:other/24
        ("a.org", "10.1.3.1", .fail),
        ("mx.org", "203.0.113.11", .pass),                     // mx/30
        ("mx.org", "203.0.113.12", .fail),
        ("v6.org", "2001:db8::25", .pass),                     // ip6 CIDR
        ("v6.org", "2001:db9::1", .fail),
        ("v6.org", "198.51.100.25", .fail),
        ("redirect.org", "198.51.100.25", .pass),              // redirect=
        ("redirect.org", "203.0.113.9", .fail),
        ("redirect-none.org", "1.2.3.4", .permerror),          // redirect to a domain without SPF
        ("exists.org", "203.0.113.77", .pass),                 // exists with %{i} and %{d}
        ("exists.org", "203.0.113.78", .fail),
        ("ptr.org", "1.2.3.4", .fail),                         // ptr never matches here
        ("bad.org", "1.2.3.4", .permerror),                    // unknown mechanism
        ("two.org", "1.2.3.4", .permerror),                    // two records
        ("tempinc.org", "1.2.3.4", .temperror),                // include of a failing name
        ("noneinc.org", "1.2.3.4", .permerror),                // include of a domain without SPF
        ("void.org", "1.2.3.4", .permerror),                   // three void lookups
        ("loop.org", "1.2.3.4", .permerror),                   // include loop hits the limit
        ("c0.chain.org", "1.2.3.4", .permerror),               // 11 DNS lookups
        ("c1.chain.org", "1.2.3.4", .pass),                    // exactly 10 lookups is allowed
    ])
    func evaluationTable(domain: String, ip: String, expected: SPFResult) {
        let outcome = check(domain, ip: ip)
        #expect(outcome.result == expected, "\(domain) \(ip): \(outcome)")
    }

    @Test func lookupLimitIsReported() {
        let outcome = check("c0.chain.org", ip: "1.2.3.4")
        #expect(outcome.problem == "more than 10 DNS lookups")
        #expect(outcome.dnsLookups == 11)
        let void = check("void.org", ip: "1.2.3.4")
        #expect(void.problem == "more than 2 void lookups")
        #expect(void.voidLookups == 3)
    }

    @Test func matchedMechanismAndQualifiers() {
        #expect(check("example.com", ip: "198.51.100.25").matchedMechanism == "ip4:198.51.100.25")
        #expect(check("example.com", ip: "203.0.113.9").matchedMechanism == "-all")
        for (qualifier, result) in [("+", SPFResult.pass), ("-", .fail), ("~", .softfail), ("?", .neutral)] {
            var dns = InMemoryDNS()
            dns.addTXT("q.org", "v=spf1 \(qualifier)ip4:10.0.0.0/8 -all")
            let outcome = SPFEvaluator(dns: dns).check(SPFRequest(clientIP: IPAddress("10.9.8.7")!, mailFrom: "x@q.org", helo: "h"))
            #expect(outcome.result == result, "qualifier \(qualifier)")
        }
    }

    @Test func explanationOnFail() {
        let outcome = check("exp.org", ip: "192.0.2.1")
        #expect(outcome.result == .fail)
        #expect(outcome.explanation == "192.0.2.1 is not one of exp.org's servers (sender alice@exp.org, helo client.test)")
    }

    @Test func temperrorOnTopLevelFailure() {
        var dns = InMemoryDNS()
        dns.failing.insert("down.org")
        let outcome = SPFEvaluator(dns: dns).check(SPFRequest(clientIP: IPAddress("1.2.3.4")!, mailFrom: "a@down.org", helo: "h"))
        #expect(outcome.result == .temperror)
    }

    @Test(arguments: [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{h}", "mx.example.org"),
        ("%%%_%-", "% %20"),
    ])
    func macroExpansionRFC7208Examples(macro: String, expected: String) throws {
        let evaluator = SPFEvaluator(dns: InMemoryDNS())
        let request = SPFRequest(clientIP: IPAddress("192.0.2.3")!, mailFrom: "strong-bad@email.example.com", helo: "mx.example.org")
        #expect(try evaluator.expand(macro, request: request, domain: "email.example.com") == expected)
    }

    @Test func macroForIPv6UsesNibbles() throws {
        let evaluator = SPFEvaluator(dns: InMemoryDNS())
        let request = SPFRequest(clientIP: IPAddress("2001:db8::cb01")!, mailFrom: "a@b.c", helo: "h")
        #expect(try evaluator.expand("%{ir}.%{v}._spf.%{d2}", request: request, domain: "email.example.com")
            == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
    }

    @Test func receivedSPFHeader() {
        let request = SPFRequest(clientIP: IPAddress("198.51.100.25")!, mailFrom: "alice@example.com", helo: "mail.example.com")
        let outcome = SPFEvaluator(dns: Self.zone()).check(request)
        let field = SPFEvaluator.receivedSPF(outcome, request: request, receiver: "mail1.company.org")
        #expect(field.name == "Received-SPF")
        #expect(field.value == "pass (mail1.company.org: domain of alice@example.com designates 198.51.100.25 as permitted sender) client-ip=198.51.100.25; envelope-from=\"alice@example.com\"; helo=mail.example.com;")
        #expect(field.wireFormat.split(separator: "\r\n").allSatisfy { $0.count <= 78 })
    }

    @Test func nullReversePathUsesHelo() {
        let request = SPFRequest(clientIP: IPAddress("198.51.100.25")!, mailFrom: "", helo: "example.com")
        #expect(request.mailFrom == "postmaster@example.com")
        #expect(SPFEvaluator(dns: Self.zone()).check(request).result == .pass)
    }

    @Test(arguments: [("::1", "0:0:0:0:0:0:0:1"), ("2001:db8::ff00:42:8329", "2001:db8:0:0:0:ff00:42:8329"), ("::ffff:192.0.2.1", "0:0:0:0:0:ffff:c000:201")])
    func ipv6Parsing(text: String, expanded: String) {
        #expect(IPv6Address(text)?.description == expanded)
    }

    @Test(arguments: ["1.2.3", "256.1.1.1", "1.2.3.4.5", "a.b.c.d", ""])
    func badIPv4(text: String) { #expect(IPv4Address(text) == nil) }
}
