import Testing
import X509
@testable import MailSim

func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    let n = Array(needle.utf8)
    guard !n.isEmpty, haystack.count >= n.count else { return false }
    for start in 0...(haystack.count - n.count) where haystack[start..<(start + n.count)].elementsEqual(n) {
        return true
    }
    return false
}

func wireBytes(_ connection: TapConnection) -> [UInt8] {
    connection.events.flatMap { event -> [UInt8] in
        if case let .segment(_, bytes, _) = event.kind { return bytes }
        return []
    }
}

@Suite("TLS over virtual sockets")
struct TLSTests {
    @Test("STARTTLS after plaintext lines: handshake succeeds and later plaintext never reaches the wire")
    func startTLS() throws {
        let world = try World.defaultWorld(seed: 7)
        let service = try EchoService(world: world, host: "mail.example.com", port: 587)
        let client = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 587,
                                      script: ["EHLO alice", "STARTTLS", "EHLO again", "AUTH PLAIN c2VjcmV0", "QUIT"])
        try world.runUntilIdle()
        #expect(client.replies == ["220 mail.example.com echo ready", "250 EHLO alice", "220 go ahead",
                                   "250 EHLO again", "250 AUTH PLAIN c2VjcmV0", "221 bye"])
        #expect(client.events.contains("tlsEstablished"))
        #expect(service.serverEvents.contains("tlsEstablished"))
        let record = try #require(world.tap.connections.first)
        let wire = wireBytes(record)
        #expect(contains(wire, "EHLO alice"))
        #expect(!contains(wire, "EHLO again"))
        #expect(!contains(wire, "c2VjcmV0"))
        #expect(!contains(wire, "221 bye"))
        let inside = world.transcript()
        #expect(inside.contains("C: STARTTLS\nS: 220 go ahead\n-- TLS started --\nC: EHLO again\n"))
        let outside = world.transcript(view: .eavesdropper)
        #expect(outside.contains("-- TLS started --\nC: [TLS ciphertext, "))
        #expect(!outside.contains("EHLO again"))
        #expect(outside.contains("C: EHLO alice"))
    }

    @Test("implicit TLS from the first byte")
    func implicitTLS() throws {
        let world = try World.defaultWorld(seed: 7)
        _ = try EchoService(world: world, host: "mail1.company.org", port: 993, implicitTLS: true)
        let client = try ScriptClient(world: world, from: "bob-pc", to: "mail1.company.org", port: 993,
                                      script: ["a1 LOGIN bob secret123", "QUIT"], implicitTLS: true)
        try world.runUntilIdle()
        #expect(client.replies == ["220 mail1.company.org echo ready", "250 a1 LOGIN bob secret123", "221 bye"])
        #expect(client.events.prefix(2) == ["connected", "tlsEstablished"])
        let record = try #require(world.tap.connections.first)
        let wire = wireBytes(record)
        #expect(!contains(wire, "echo ready"))
        #expect(!contains(wire, "secret123"))
        // The first wire bytes are a TLS handshake record (content type 22, version 3.x).
        #expect(wire.prefix(2) == [0x16, 0x03])
        let transcript = world.transcript()
        #expect(transcript.hasPrefix("== 192.0.2.20:49152 → 203.0.113.10:993 (mail1.company.org) at +0.000s\n-- TLS started --\nS: 220 mail1.company.org echo ready\n"))
    }

    @Test("a wrong server name fails verification on the client, visibly")
    func wrongHostName() throws {
        let world = try World.defaultWorld(seed: 7)
        let service = try EchoService(world: world, host: "mail.example.com", port: 465, implicitTLS: true)
        let client = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 465,
                                      script: ["EHLO alice"], implicitTLS: true, tlsName: "mail1.company.org")
        try world.runUntilIdle()
        #expect(client.events == ["connected", "reset(tlsFailed)"])
        #expect(client.replies.isEmpty)
        // NIOSSL checks the name once BoringSSL has finished the handshake, so the server may
        // believe it succeeded; it never gets application data and is reset.
        #expect(!service.serverEvents.contains { $0.hasPrefix("data") })
        #expect(service.serverEvents.last == "reset(connection reset by peer)")
        let transcript = world.transcript()
        #expect(transcript.contains("-- TLS failed on the client: "))
        print("wrong-name failure as seen by the learner:", transcript.split(separator: "\n").first { $0.contains("TLS failed") } ?? "")
    }

    @Test("a certificate from another authority fails chain verification")
    func untrustedAuthority() throws {
        let world = try World.defaultWorld(seed: 7)
        let stranger = try World(seed: 8).certificateAuthority.serverIdentity(for: "mail.example.com")
        let serverRecorder = EventRecorder()
        try #require(world.host("mail.example.com")).listen(port: 993) { conn in
            conn.onEvent = serverRecorder.attach(world)
            conn.startTLS(asServer: stranger)
            conn.write("* OK ready\r\n")
        }
        let recorder = EventRecorder()
        let conn = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 993, onEvent: recorder.attach(world))
        conn.startTLS(asClient: "mail.example.com")
        try world.runUntilIdle()
        #expect(recorder.kinds == ["connected", "reset(tlsFailed)"])
        guard case let .reset(.tlsFailed(message))? = recorder.events.last?.1 else {
            Issue.record("no TLS failure")
            return
        }
        #expect(message.contains("CERTIFICATE_VERIFY_FAILED"), "\(message)")
        #expect(serverRecorder.kinds == ["reset(tlsFailed)"])
    }

    @Test("the CA and host keys come from the seed; certificates name the host")
    func deterministicKeys() throws {
        let a = try World(seed: 11).certificateAuthority
        let b = try World(seed: 11).certificateAuthority
        let c = try World(seed: 12).certificateAuthority
        #expect(a.privateKey.rawRepresentation == b.privateKey.rawRepresentation)
        #expect(a.privateKey.rawRepresentation != c.privateKey.rawRepresentation)
        #expect(a.certificate.serialNumber == b.certificate.serialNumber)
        #expect(a.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        let identity = try a.serverIdentity(for: "Mail.Example.com")
        let again = try b.serverIdentity(for: "mail.example.com")
        #expect(identity.privateKey.rawRepresentation == again.privateKey.rawRepresentation)
        let names = try #require(try identity.certificate.extensions.subjectAlternativeNames)
        #expect(Array(names) == [.dnsName("mail.example.com")])
        #expect(identity.certificate.issuer == a.certificate.subject)
        #expect(identity.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }
}

@Suite struct TLSReasonTests {
    @Test(arguments: [
        ("handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /x/y/tls_record.cc:231]))", "WRONG_VERSION_NUMBER"),
        ("sslError([Error: 1 error:1:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /a/b.cc:1])", "CERTIFICATE_VERIFY_FAILED"),
        ("unableToValidateCertificate", "unableToValidateCertificate"),
        ("failed [something at /tmp/file.c:3] here", "failed [something] here"),
    ])
    func reasonsAreShortAndPathFree(input: String, expected: String) {
        #expect(TLSSession.conciseReason(input) == expected)
    }
}
