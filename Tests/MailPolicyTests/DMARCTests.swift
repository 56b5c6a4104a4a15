import Testing
import MailMessage
@testable import MailPolicy

@Suite struct DMARCTests {
    @Test func recordParsing() {
        let record = DMARCRecord("v=DMARC1; p=quarantine; sp=reject; pct=25; rua=mailto:agg@example.com, mailto:b@x.org; ruf=mailto:f@example.com; adkim=s; aspf=r; fo=1")
        #expect(record?.policy == .quarantine)
        #expect(record?.subdomainPolicy == .reject)
        #expect(record?.percentage == 25)
        #expect(record?.aggregateReportURIs == ["mailto:agg@example.com", "mailto:b@x.org"])
        #expect(record?.failureReportURIs == ["mailto:f@example.com"])
        #expect(record?.dkimAlignment == .strict)
        #expect(record?.spfAlignment == .relaxed)
        #expect(record?.failureOptions == "1")
        let defaults = DMARCRecord("v=DMARC1; p=none")
        #expect(defaults?.percentage == 100)
        #expect(defaults?.dkimAlignment == .relaxed)
        #expect(defaults?.subdomainPolicy == nil)
    }

    @Test(arguments: ["p=reject; v=DMARC1", "v=DMARC1", "v=DMARC1; p=block", "v=DMARC1; p=none; pct=150", "v=spf1 -all", ""])
    func invalidRecords(text: String) { #expect(DMARCRecord(text) == nil) }

    @Test(arguments: [
        ("example.com", "example.com"), ("mail.example.com", "example.com"), ("a.b.c.example.org", "example.org"),
        ("www.example.co.uk", "example.co.uk"), ("example.co.uk", "example.co.uk"), ("MAIL.Example.COM.", "example.com"),
        ("com", "com"),
    ])
    func organizationalDomain(domain: String, org: String) { #expect(OrganizationalDomain.of(domain) == org) }

    @Test(arguments: [
        ("example.com", "example.com", DMARCAlignment.strict, true),
        ("mail.example.com", "example.com", .strict, false),
        ("mail.example.com", "example.com", .relaxed, true),
        ("bounces.example.com", "news.example.com", .relaxed, true),
        ("example.net", "example.com", .relaxed, false),
        ("a.example.co.uk", "b.example.co.uk", .relaxed, true),
        ("example.co.uk", "other.co.uk", .relaxed, false),
    ])
    func alignment(a: String, b: String, mode: DMARCAlignment, aligned: Bool) {
        #expect(OrganizationalDomain.aligned(a, b, mode: mode) == aligned)
    }

    static func zone() -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; pct=50; rua=mailto:dmarc@example.com")
        dns.addTXT("_dmarc.strict.org", "v=DMARC1; p=reject; adkim=s; aspf=s")
        dns.addTXT("_dmarc.relaxed.org", "v=DMARC1; p=quarantine")
        dns.addTXT("_dmarc.monitor.net", "v=DMARC1; p=none")
        dns.failing.insert("_dmarc.flaky.org")
        return dns
    }

    func evaluate(_ from: String, spf: SPFResult = .fail, spfDomain: String = "other.net",
                  dkim: [(DKIMResult, String)] = [], draw: Double = 0.1) -> DMARCOutcome {
        DMARCEvaluator(dns: Self.zone()).evaluate(fromDomain: from, spf: (spf, spfDomain),
                                                  dkim: dkim.map { (result: $0.0, domain: $0.1) }, draw: draw)
    }

    @Test func passThroughAlignedSPFOrDKIM() {
        let spf = evaluate("example.com", spf: .pass, spfDomain: "bounce.example.com")
        #expect(spf.result == .pass && spf.spfAligned && !spf.dkimAligned && spf.disposition == .none)
        let dkim = evaluate("example.com", dkim: [(.fail(reason: "x"), "example.com"), (.pass, "mail.example.com")])
        #expect(dkim.result == .pass && dkim.dkimAligned)
    }

    @Test func unalignedPassesDoNotCount() {
        let outcome = evaluate("relaxed.org", spf: .pass, spfDomain: "relaxed.net", dkim: [(.pass, "esp.example")])
        #expect(outcome.result == .fail)
        #expect(outcome.disposition == .quarantine)
        let strict = evaluate("strict.org", spf: .pass, spfDomain: "mail.strict.org", dkim: [(.pass, "mail.strict.org")])
        #expect(strict.result == .fail)
        #expect(strict.disposition == .reject)
        let strictOK = evaluate("strict.org", dkim: [(.pass, "strict.org")])
        #expect(strictOK.result == .pass)
    }

    @Test(arguments: [
        (0.1, DMARCPolicy.reject, false),   // inside pct=50: the policy applies
        (0.49, .reject, false),
        (0.5, .quarantine, true),           // outside: one step weaker
        (0.99, .quarantine, true),
    ])
    func percentageSampling(draw: Double, disposition: DMARCPolicy, sampledOut: Bool) {
        let outcome = evaluate("example.com", draw: draw)
        #expect(outcome.result == .fail)
        #expect(outcome.requestedPolicy == .reject)
        #expect(outcome.disposition == disposition)
        #expect(outcome.sampledOut == sampledOut)
    }

    @Test func subdomainUsesOrganizationalRecordAndSp() {
        let outcome = evaluate("news.example.com", draw: 0.2)
        #expect(outcome.policyDomain == "example.com")
        #expect(outcome.requestedPolicy == .quarantine)
        #expect(outcome.disposition == .quarantine)
    }

    @Test func noRecordMonitorAndTemperror() {
        #expect(evaluate("nowhere.org").result == .none)
        #expect(evaluate("nowhere.org").disposition == .none)
        let monitor = evaluate("monitor.net")
        #expect(monitor.result == .fail && monitor.disposition == .none)
        #expect(evaluate("flaky.org").result == .temperror)
    }

    @Test func authenticationResultsFormatting() {
        var results = AuthenticationResults(authservID: "mx.company.org")
        results.addSPF(SPFEvaluation(result: .pass, domain: "example.com", matchedMechanism: "ip4:198.51.100.25", explanation: nil,
                                     problem: nil, dnsLookups: 0, voidLookups: 0), mailFrom: "alice@example.com")
        results.addDKIM(DKIMVerification(result: .pass, domain: "example.com", selector: "sel1", algorithm: .rsaSHA256, signedHeaders: ["from"]))
        results.addDMARC(evaluate("example.com", spf: .pass, spfDomain: "example.com"))
        #expect(results.value == "mx.company.org; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com header.s=sel1; dmarc=pass header.from=example.com")
        #expect(results.field.wireFormat.hasPrefix("Authentication-Results: mx.company.org; spf=pass"))
        #expect(results.field.wireFormat.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
        #expect(results.field.value == results.value)
        #expect(AuthenticationResults(authservID: "mx.company.org").value == "mx.company.org; none")
        var failed = AuthenticationResults(authservID: "mx")
        failed.addDKIM(DKIMVerification(result: .fail(reason: "body hash did not verify"), domain: "example.com", selector: "s", algorithm: nil, signedHeaders: []))
        #expect(failed.value == "mx; dkim=fail reason=\"body hash did not verify\" header.d=example.com header.s=s")
    }
}

@Suite struct DNSBLTests {
    static func zone() -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addA("99.2.0.192.zen.example.net", "127.0.0.2")
        dns.addTXT("99.2.0.192.zen.example.net", "Listed for spam, see http://zen.example.net/q?192.0.2.99")
        dns.addA("98.2.0.192.zen.example.net", "10.0.0.1")   // not a 127/8 answer: not a listing
        dns.addA("7.2.0.192.bl.other.org", "127.0.0.4")
        dns.failing.insert("5.2.0.192.zen.example.net")
        return dns
    }

    @Test func queryName() {
        #expect(DNSBL.queryName(IPv4Address("192.0.2.99")!, zone: "zen.example.net") == "99.2.0.192.zen.example.net")
    }

    @Test(arguments: [
        ("192.0.2.99", DNSBLResult.listed(zone: "zen.example.net", codes: [IPv4Address(127, 0, 0, 2)],
                                          reason: "Listed for spam, see http://zen.example.net/q?192.0.2.99")),
        ("192.0.2.98", .notListed),
        ("192.0.2.1", .notListed),
        ("192.0.2.7", .listed(zone: "bl.other.org", codes: [IPv4Address(127, 0, 0, 4)], reason: nil)),
        ("192.0.2.5", .temporaryFailure(zone: "zen.example.net")),
    ])
    func lookups(ip: String, expected: DNSBLResult) {
        #expect(DNSBL.check(IPv4Address(ip)!, zones: ["zen.example.net", "bl.other.org"], dns: Self.zone()) == expected)
    }

    @Test func rejectionReply() {
        let ip = IPv4Address("192.0.2.7")!
        let result = DNSBL.check(ip, zones: ["zen.example.net", "bl.other.org"], dns: Self.zone())
        #expect(DNSBL.rejection(client: ip, result: result) == "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using bl.other.org")
        #expect(DNSBL.rejection(client: ip, result: .notListed) == nil)
        let listed = IPv4Address("192.0.2.99")!
        #expect(DNSBL.rejection(client: listed, result: DNSBL.check(listed, zones: ["zen.example.net"], dns: Self.zone()))
            == "554 5.7.1 Service unavailable; Client host [192.0.2.99] blocked using zen.example.net; Listed for spam, see http://zen.example.net/q?192.0.2.99")
    }
}

@Suite struct ExplanationTests {
    @Test func everyResultHasBothLanguages() {
        for result in SPFResult.allCases {
            let en = result.explanation(.en), fr = result.explanation(.fr)
            #expect(en.hasPrefix("SPF \(result.rawValue)") && fr.hasPrefix("SPF \(result.rawValue)") && en != fr)
        }
        for result in [DKIMResult.pass, .fail(reason: "x"), .permerror(reason: "x"), .temperror(reason: "x"), .none] {
            #expect(result.explanation(.en) != result.explanation(.fr))
        }
        var dns = InMemoryDNS()
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; pct=10")
        let outcome = DMARCEvaluator(dns: dns).evaluate(fromDomain: "example.com", spf: (.fail, "example.com"), dkim: [], draw: 0.5)
        #expect(outcome.explanation(.en).hasSuffix("deliver it to the spam folder (quarantine), because pct= left this message out of the policy."))
        #expect(outcome.explanation(.fr).contains("quarantaine"))
    }
}


@Suite struct PolicyAddressTextTests {
    @Test func dottedQuadsParseOnTheirBytesAndPrintBack() {
        var random = UInt64(0x9E37_79B9_7F4A_7C15)
        for _ in 0..<2_000 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = UInt32(truncatingIfNeeded: random >> 17)
            let address = IPv4Address(value: value)
            let expected = "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
            #expect(address.description == expected)
            #expect(IPv4Address(expected) == address)
            #expect(address.reversedDotted == "\(value & 0xFF).\((value >> 8) & 0xFF).\((value >> 16) & 0xFF).\(value >> 24)")
        }
        #expect(IPv4Address("192.0.2.007") == IPv4Address(192, 0, 2, 7))  // leading zeros, as before
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", ".1.2.3", "1.2.3.", "+1.2.3.4", "1.2.3.4 ", "1234.1.1.1", "a.b.c.d", "１.2.3.4"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }
}
