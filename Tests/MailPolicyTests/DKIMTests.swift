import Crypto
import Testing
import MailMessage
@testable import MailPolicy

func wire(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

@Suite struct DKIMCanonicalizationTests {
    /// RFC 6376 §3.4.6 example.
    static let headerA = HeaderField(name: "A", rawValue: " X")
    static let headerB = HeaderField(name: "B ", rawValue: " Y \t\r\n\tZ  ")
    static let body: [UInt8] = Array(" C \r\nD \t E\r\n\r\n\r\n".utf8)

    @Test func relaxedExample() {
        #expect(DKIMCanonicalization.relaxed.canonicalize(header: Self.headerA) == Array("a:X\r\n".utf8))
        #expect(DKIMCanonicalization.relaxed.canonicalize(header: Self.headerB) == Array("b:Y Z\r\n".utf8))
        #expect(DKIMCanonicalization.relaxed.canonicalize(body: Self.body) == Array(" C\r\nD E\r\n".utf8))
    }

    @Test func simpleExample() {
        #expect(DKIMCanonicalization.simple.canonicalize(header: Self.headerA) == Array("A: X\r\n".utf8))
        #expect(DKIMCanonicalization.simple.canonicalize(header: Self.headerB) == Array("B : Y \t\r\n\tZ  \r\n".utf8))
        #expect(DKIMCanonicalization.simple.canonicalize(body: Self.body) == Array(" C \r\nD \t E\r\n".utf8))
    }

    @Test(arguments: [
        (DKIMCanonicalization.simple, "", "\r\n"),
        (.relaxed, "", ""),
        (.simple, "\r\n\r\n", "\r\n"),
        (.relaxed, "\r\n\r\n", ""),
        (.simple, "no newline", "no newline\r\n"),
        (.relaxed, "a  \t b   \r\n", "a b\r\n"),
        (.simple, "bare\nlf\n", "bare\r\nlf\r\n"),
    ])
    func bodyEdgeCases(canonicalization: DKIMCanonicalization, body: String, expected: String) {
        #expect(canonicalization.canonicalize(body: Array(body.utf8)) == Array(expected.utf8))
    }

    @Test func emptyBodyHashes() {
        // SHA-256 of CRLF and of the empty string.
        #expect(DKIMSigner.bodyHash([], canonicalization: .simple) == "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=")
        #expect(DKIMSigner.bodyHash([], canonicalization: .relaxed) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }
}

@Suite struct DKIMTests {
    /// RFC 8463 Appendix A: the message, the key and the signature.
    static let rfc8463Message = """
    DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
     d=football.example.com; i=@football.example.com;
     q=dns/txt; s=brisbane; t=1528637909; h=from : to :
     subject : date : message-id : from : subject : date;
     bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
     b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
     Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
    From: Joe SixPack <joe@football.example.com>
    To: Suzie Q <suzie@shopping.example.net>
    Subject: Is dinner ready?
    Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
    Message-ID: <20030712040037.46341.5F8J@football.example.com>

    Hi.

    We lost the game.  Are you hungry yet?

    Joe.

    """

    @Test func rfc8463BodyHashKeyAndSignature() throws {
        let message = Message(parsing: wire(Self.rfc8463Message))
        let body = message.raw[message.root.bodyRange]
        #expect(DKIMSigner.bodyHash(body, canonicalization: .relaxed) == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=")
        #expect(DKIMSigner.bodyHash(body, canonicalization: .simple) != "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=")
        let seed = try #require(Base64.decodeStrict("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="))
        let key = DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey(seed: seed))
        #expect(key.publicKeyBase64 == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        var dns = InMemoryDNS()
        dns.addTXT("brisbane._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        let results = DKIMVerifier(dns: dns).verify(wire(Self.rfc8463Message))
        #expect(results.count == 1)
        #expect(results.first?.result == .pass)
        #expect(results.first?.signedHeaders == ["from", "to", "subject", "date", "message-id", "from", "subject", "date"])
        // The same message with the subject changed no longer verifies.
        let tampered = wire(Self.rfc8463Message.replacingOccurrences(of: "Is dinner ready?", with: "Is dinner ready!"))
        #expect(DKIMVerifier(dns: dns).verify(tampered).first?.result == .fail(reason: "signature did not verify"))
    }

    static let message = """
    From: Alice <alice@example.com>
    To: Bob <bob@company.org>
    Subject: Lunch
    Date: Thu, 26 Nov 2026 16:30:22 +0100
    Message-ID: <1@example.com>

    See you at noon.
    Alice

    """

    static func key(_ algorithm: DKIMAlgorithm) -> DKIMSigningKey {
        algorithm == .rsaSHA256 ? .rsa(DKIMTestKeys.rsaPrivateKey()) : .ed25519(DKIMTestKeys.ed25519PrivateKey())
    }

    static func zone(_ key: DKIMSigningKey) -> InMemoryDNS {
        var dns = InMemoryDNS()
        dns.addTXT("sel1._domainkey.example.com", key.dnsRecord)
        return dns
    }

    static let combinations: [(DKIMAlgorithm, DKIMCanonicalization, DKIMCanonicalization)] = [
        (.rsaSHA256, .relaxed, .relaxed), (.rsaSHA256, .simple, .simple), (.rsaSHA256, .relaxed, .simple),
        (.ed25519SHA256, .relaxed, .relaxed), (.ed25519SHA256, .simple, .simple), (.ed25519SHA256, .simple, .relaxed),
    ]

    func signed(_ algorithm: DKIMAlgorithm, _ header: DKIMCanonicalization, _ body: DKIMCanonicalization,
                lengthTag: Bool = false) throws -> (bytes: [UInt8], dns: InMemoryDNS) {
        let key = Self.key(algorithm)
        var signer = DKIMSigner(domain: "example.com", selector: "sel1", key: key, headerCanonicalization: header, bodyCanonicalization: body)
        signer.includeBodyLength = lengthTag
        return (try signer.sign(message: wire(Self.message), time: 1_795_707_022), Self.zone(key))
    }

    @Test(arguments: combinations)
    func signThenVerify(algorithm: DKIMAlgorithm, header: DKIMCanonicalization, body: DKIMCanonicalization) throws {
        let (bytes, dns) = try signed(algorithm, header, body)
        let text = String(decoding: bytes, as: UTF8.self)
        let field = try #require(Message(parsing: bytes).headers.fields.first)
        #expect(field.name == "DKIM-Signature")
        #expect(field.value.hasPrefix("v=1; a=\(algorithm.rawValue); c=\(header.rawValue)/\(body.rawValue); d=example.com; s=sel1;"))
        #expect(text.contains("t=1795707022;"))
        #expect(text.contains("h=from:subject:date:to:message-id;"))
        #expect(Bytes_lines(bytes).allSatisfy { $0.count <= 78 })
        let results = DKIMVerifier(dns: dns).verify(bytes)
        #expect(results.map(\.result) == [.pass])
        #expect(results.first?.domain == "example.com")
        #expect(results.first?.selector == "sel1")
        #expect(results.first?.algorithm == algorithm)
    }

    @Test(arguments: combinations)
    func oneChangedBodyByteFails(algorithm: DKIMAlgorithm, header: DKIMCanonicalization, body: DKIMCanonicalization) throws {
        var (bytes, dns) = try signed(algorithm, header, body)
        let index = try #require(bytes.lastIndex(of: UInt8(ascii: "n")))  // in "noon"
        bytes[index] = UInt8(ascii: "m")
        #expect(DKIMVerifier(dns: dns).verify(bytes).first?.result == .fail(reason: "body hash did not verify"))
    }

    @Test(arguments: combinations)
    func changedSignedHeaderFails(algorithm: DKIMAlgorithm, header: DKIMCanonicalization, body: DKIMCanonicalization) throws {
        let (bytes, dns) = try signed(algorithm, header, body)
        let tampered = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "Subject: Lunch", with: "Subject: Lunch!").utf8)
        #expect(DKIMVerifier(dns: dns).verify(tampered).first?.result == .fail(reason: "signature did not verify"))
    }

    @Test(arguments: combinations)
    func addedUnsignedHeaderStillPasses(algorithm: DKIMAlgorithm, header: DKIMCanonicalization, body: DKIMCanonicalization) throws {
        let (bytes, dns) = try signed(algorithm, header, body)
        let withTrace = Array("Received: from mail.example.com by mail1.company.org; Thu, 26 Nov 2026 16:30:25 +0100\r\nX-Spam-Score: 0.1\r\n".utf8) + bytes
        #expect(DKIMVerifier(dns: dns).verify(withTrace).first?.result == .pass)
    }

    @Test func relaxedSurvivesWhitespaceChangesSimpleDoesNot() throws {
        for (body, expected) in [(DKIMCanonicalization.relaxed, DKIMResult.pass), (.simple, .fail(reason: "body hash did not verify"))] {
            let (bytes, dns) = try signed(.ed25519SHA256, .relaxed, body)
            let changed = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "at noon.", with: "at  noon.   ").utf8)
            #expect(DKIMVerifier(dns: dns).verify(changed).first?.result == expected)
        }
    }

    @Test func bodyLengthTagIgnoresAppendedText() throws {
        let (bytes, dns) = try signed(.ed25519SHA256, .relaxed, .relaxed, lengthTag: true)
        #expect(String(decoding: bytes, as: UTF8.self).contains("l=25;"))
        let appended = bytes + Array("Click here: http://evil.example/\r\n".utf8)
        #expect(DKIMVerifier(dns: dns).verify(appended).first?.result == .pass)
    }

    @Test func keyProblems() throws {
        let (bytes, _) = try signed(.ed25519SHA256, .relaxed, .relaxed)
        var empty = InMemoryDNS()
        #expect(DKIMVerifier(dns: empty).verify(bytes).first?.result == .permerror(reason: "no key at sel1._domainkey.example.com"))
        empty.failing.insert("sel1._domainkey.example.com")
        #expect(DKIMVerifier(dns: empty).verify(bytes).first?.result.keyword == "temperror")
        var revoked = InMemoryDNS()
        revoked.addTXT("sel1._domainkey.example.com", "v=DKIM1; k=ed25519; p=")
        #expect(DKIMVerifier(dns: revoked).verify(bytes).first?.result == .permerror(reason: "key revoked"))
        var wrongType = InMemoryDNS()
        wrongType.addTXT("sel1._domainkey.example.com", Self.key(.rsaSHA256).dnsRecord)
        #expect(DKIMVerifier(dns: wrongType).verify(bytes).first?.result.keyword == "permerror")
        // A key of another pair: the signature fails.
        var other = InMemoryDNS()
        other.addTXT("sel1._domainkey.example.com", DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey(seed: [1, 2, 3])).dnsRecord)
        #expect(DKIMVerifier(dns: other).verify(bytes).first?.result == .fail(reason: "signature did not verify"))
    }

    @Test(arguments: [
        "v=1; a=rsa-sha256; d=example.com; s=sel1; h=to; bh=AAAA; b=AAAA",
        "v=2; a=rsa-sha256; d=example.com; s=sel1; h=from; bh=AAAA; b=AAAA",
        "v=1; a=rsa-sha1; d=example.com; s=sel1; h=from; bh=AAAA; b=AAAA",
        "v=1; a=rsa-sha256; s=sel1; h=from; bh=AAAA; b=AAAA",
        "v=1; v=1; a=rsa-sha256; d=example.com; s=sel1; h=from; bh=AAAA; b=AAAA",
        "garbage",
    ])
    func malformedSignaturesArePermerrors(signature: String) {
        let bytes = Array("DKIM-Signature: \(signature)\r\nFrom: a@example.com\r\n\r\nbody\r\n".utf8)
        #expect(DKIMVerifier(dns: InMemoryDNS()).verify(bytes).first?.result.keyword == "permerror")
    }

    @Test func expiredSignatureFails() throws {
        let key = Self.key(.ed25519SHA256)
        let message = Array("DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=sel1; h=from; x=100; bh=AAAA; b=AAAA\r\nFrom: a@example.com\r\n\r\nbody\r\n".utf8)
        #expect(DKIMVerifier(dns: Self.zone(key)).verify(message, now: 200).first?.result == .fail(reason: "signature expired"))
    }

    @Test func unsignedMessageHasNoResults() {
        #expect(DKIMVerifier(dns: InMemoryDNS()).verify(wire(Self.message)).isEmpty)
    }

    @Test func demonstrationKeysAreStable() {
        #expect(DKIMTestKeys.rsaPrivateKey().keySizeInBits == 2048)
        #expect(DKIMSigningKey.rsa(DKIMTestKeys.rsaPrivateKey()).publicKeyBase64 == DKIMTestKeys.rsaPublicKeyBase64)
        #expect(DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey()).publicKeyBase64
            == DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey()).publicKeyBase64)
        #expect(DKIMSigningKey.ed25519(DKIMTestKeys.ed25519PrivateKey()).dnsRecord.hasPrefix("v=DKIM1; k=ed25519; p="))
    }
}

/// Line contents of CRLF text.
func Bytes_lines(_ bytes: [UInt8]) -> [Substring] {
    String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").map { Substring($0) }
}
