import Testing
import MailMessage
@testable import MailPolicy

/// Seeded garbage for the policy parsers: they answer with an error result, never crash.
/// The seed is the test argument (Swift Testing prints it on failure).
struct Garbage {
    var state: UInt64
    init(seed: Int) { state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 7 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    mutating func text(from alphabet: [String], count: Int) -> String {
        (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }.joined()
    }
}

@Suite struct RobustnessTests {
    static let spfPieces = ["v=spf1", " ", "ip4:", "ip6:", "1.2.3.4", "/", "33", "::", "a", "mx", "include:", "exists:",
                            "%{", "i", "}", "%", "redirect=", "exp=", "x.org", "-", "~", "?", "+", "all", "ptr", ":", "=", "//"]

    @Test(arguments: 0..<100)
    func spfGarbageRecords(seed: Int) {
        var garbage = Garbage(seed: seed)
        var dns = InMemoryDNS()
        dns.addTXT("x.org", "v=spf1 " + garbage.text(from: Self.spfPieces, count: 30))
        dns.addTXT("y.org", "v=spf1 include:x.org " + garbage.text(from: Self.spfPieces, count: 20))
        for domain in ["x.org", "y.org"] {
            let outcome = SPFEvaluator(dns: dns).check(SPFRequest(clientIP: IPAddress("1.2.3.4")!, mailFrom: "a@\(domain)", helo: "h"))
            #expect(outcome.dnsLookups <= 11)
            #expect(SPFResult.allCases.contains(outcome.result))
        }
    }

    static let dkimPieces = ["v=1", "; ", "a=", "rsa-sha256", "ed25519-sha256", "d=", "example.com", "s=", "sel1", "h=", "from",
                             ":", "bh=", "b=", "AAAA", "==", "c=", "relaxed", "/", "simple", "l=", "9999", "x=", "t=", "\r\n ", "=", ";"]

    @Test(arguments: 0..<100)
    func dkimGarbageSignatures(seed: Int) {
        var garbage = Garbage(seed: seed)
        var dns = InMemoryDNS()
        dns.addTXT("sel1._domainkey.example.com", garbage.next() % 2 == 0
            ? DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey()).dnsRecord
            : "v=DKIM1; k=rsa; p=" + garbage.text(from: ["A", "B", "+", "/", "="], count: 40))
        let value = garbage.text(from: Self.dkimPieces, count: 40)
        let message = Array("DKIM-Signature: \(value)\r\nFrom: a@example.com\r\n\r\nbody\r\n".utf8)
        for verification in DKIMVerifier(dns: dns).verify(message, now: 0) {
            #expect(verification.result != .pass)
        }
    }

    @Test(arguments: 0..<50)
    func dmarcGarbageRecords(seed: Int) {
        var garbage = Garbage(seed: seed)
        let pieces = ["v=DMARC1", "; ", "p=", "reject", "none", "pct=", "101", "50", "sp=", "rua=", "mailto:x@y", ",", "=", "adkim=s"]
        var dns = InMemoryDNS()
        dns.addTXT("_dmarc.example.com", garbage.text(from: pieces, count: 12))
        let outcome = DMARCEvaluator(dns: dns).evaluate(fromDomain: "example.com", spf: (.fail, "x"), dkim: [], draw: 0.3)
        #expect([DMARCResult.fail, .none].contains(outcome.result))
    }
}
