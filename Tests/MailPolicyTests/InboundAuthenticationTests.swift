import Testing
import MailMessage
@testable import MailPolicy

@Suite struct InboundAuthenticationTests {
    /// The course's world: alice@example.com sends through mail.example.com to bob@company.org.
    static func world(signingKey: DKIMSigningKey) -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addA("mail.example.com", "198.51.100.25")
        dns.addMX("example.com", preference: 10, host: "mail.example.com")
        dns.addTXT("example.com", "v=spf1 mx -all")
        dns.addTXT("sel1._domainkey.example.com", signingKey.dnsRecord)
        dns.addTXT("_dmarc.example.com", "v=DMARC1; p=reject; rua=mailto:dmarc@example.com")
        return dns
    }

    static func signedMessage(_ key: DKIMSigningKey) throws -> [UInt8] {
        var builder = MessageBuilder(from: MailAddress(displayName: "Alice", localPart: "alice", domain: "example.com"),
                                     date: MailDate(secondsSinceEpoch: 1_795_707_022, zoneOffsetMinutes: 60), seed: "w", counter: 1)
        builder.to = [MailAddress(localPart: "bob", domain: "company.org")]
        builder.subject = "Lunch"
        builder.textBody = "Noon?\n"
        let signer = DKIMSigner(domain: "example.com", selector: "sel1", key: key)
        return try signer.sign(message: builder.build().bytes, time: 1_795_707_022)
    }

    @Test func legitimateMessagePassesEverything() throws {
        let key = DKIMSigningKey.rsa(DKIMTestKeys.rsaPrivateKey())
        let message = try Self.signedMessage(key)
        let outcome = InboundAuthentication.evaluate(message: message, clientIP: IPAddress("198.51.100.25")!,
                                                     mailFrom: "alice@example.com", helo: "mail.example.com",
                                                     receiver: "mail1.company.org", dns: Self.world(signingKey: key),
                                                     now: 1_795_707_030, draw: 0.5)
        #expect(outcome.authenticationResults.value
            == "mail1.company.org; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com header.s=sel1; dmarc=pass header.from=example.com")
        let delivered = outcome.prepend(to: message)
        let parsed = Message(parsing: delivered)
        #expect(parsed.headers.fields.first?.name == "Authentication-Results")
        #expect(parsed.headers.fields[1].name == "Received-SPF")
        // The added fields do not break the signature.
        #expect(DKIMVerifier(dns: Self.world(signingKey: key)).verify(delivered).map(\.result) == [.pass])
    }

    @Test func forgedMessageFromAnotherHostIsRejected() throws {
        let key = DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey())
        let forged = Array("From: alice@example.com\r\nTo: bob@company.org\r\nSubject: Pay this invoice\r\n\r\nNow.\r\n".utf8)
        let outcome = InboundAuthentication.evaluate(message: forged, clientIP: IPAddress("203.0.113.66")!,
                                                     mailFrom: "alice@example.com", helo: "spammer.test",
                                                     receiver: "mail1.company.org", dns: Self.world(signingKey: key),
                                                     now: 0, draw: 0.5)
        #expect(outcome.spf.result == .fail)
        #expect(outcome.dkim.isEmpty)
        #expect(outcome.dmarc.result == .fail)
        #expect(outcome.dmarc.disposition == .reject)
        #expect(outcome.authenticationResults.value
            == "mail1.company.org; spf=fail smtp.mailfrom=example.com; dkim=none; dmarc=fail header.from=example.com")
    }
}
