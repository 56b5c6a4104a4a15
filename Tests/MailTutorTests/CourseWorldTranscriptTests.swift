import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// What every SMTP and POP3 port of the course's world announces before and after TLS, pinned
/// line for line (issue 13): AUTH only inside TLS (`smtpd_tls_auth_only = yes`), PLAIN, LOGIN
/// and CRAM-MD5 on submission, no AUTH at all on a backup MX, no plaintext POP3 login before STLS
/// (`disable_plaintext_auth = yes`).
@Suite struct CourseWorldTranscriptTests {
    static func world() throws -> SimulatedWorld {
        try #require(try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 5) as? SimulatedWorld)
    }

    static func ehlo(_ host: String, auth: String?, startTLS: Bool, vrfy: Bool = true) -> [String] {
        var lines = ["250-\(host)", "250-PIPELINING", "250-SIZE 10240000"]
        if vrfy { lines += ["250-VRFY", "250-ETRN"] }
        if startTLS { lines.append("250-STARTTLS") }
        if let auth { lines.append("250-AUTH \(auth)") }
        return lines + ["250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 DSN"]
    }

    static let servers = ["mail.example.com", "mail1.company.org", "mail2.company.org", "mail-backup.example.net"]

    @Test(arguments: servers)
    func smtpPortsBeforeAndAfterTLS(host: String) throws {
        let world = try Self.world()
        let hasUsers = host == "mail.example.com" || host == "mail1.company.org"
        let mechanisms = hasUsers ? "PLAIN LOGIN CRAM-MD5" : nil
        for port in [25, 587] {
            let session = try world.openSession(host: host, port: port, tls: false)
            #expect(session.greeting == ["220 \(host) ESMTP Postfix"])
            #expect(session.send(line: "EHLO pc.example.com").lines == Self.ehlo(host, auth: nil, startTLS: true),
                    "\(host):\(port) before TLS")
            #expect(session.send(line: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").lines
                    == [hasUsers ? "530 5.7.0 Must issue a STARTTLS command first" : "503 5.5.1 Error: authentication not enabled"])
            #expect(session.send(line: "STARTTLS").lines == ["220 2.0.0 Ready to start TLS"])
            #expect(session.send(line: "EHLO pc.example.com").lines == Self.ehlo(host, auth: mechanisms, startTLS: false),
                    "\(host):\(port) after TLS")
            session.close()
        }
        let implicit = try world.openSession(host: host, port: 465, tls: true)
        #expect(implicit.greeting == ["220 \(host) ESMTP Postfix"])
        #expect(implicit.send(line: "EHLO pc.example.com").lines == Self.ehlo(host, auth: mechanisms, startTLS: false),
                "\(host):465")
        implicit.close()
    }

    @Test(arguments: ["mail.example.com", "mail1.company.org"])
    func pop3PortsBeforeAndAfterTLS(host: String) throws {
        let world = try Self.world()
        let base = ["+OK Capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
        let open = base + ["USER", "SASL PLAIN", "IMPLEMENTATION MailLab", "."]
        let plain = try world.openSession(host: host, port: 110, tls: false)
        #expect(plain.greeting.first?.hasPrefix("+OK POP3 server ready <") == true, "\(plain.greeting)")
        #expect(plain.send(line: "CAPA").lines == base + ["STLS", "IMPLEMENTATION MailLab", "."])
        #expect(plain.send(line: "USER bob").lines
                == ["-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."])
        #expect(plain.send(line: "STLS").lines == ["+OK Begin TLS negotiation"])
        #expect(plain.send(line: "CAPA").lines == open)
        plain.close()
        let implicit = try world.openSession(host: host, port: 995, tls: true)
        #expect(implicit.send(line: "CAPA").lines == open)
        implicit.close()
    }

    @Test func relayPortRelaysOnlyForAnAuthenticationInsideTLS() throws {
        let world = try Self.world()
        let session = try world.openSession(host: "mail.example.com", port: 25, tls: false)
        _ = session.send(line: "EHLO pc.example.com")
        #expect(session.send(line: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").lines == ["530 5.7.0 Must issue a STARTTLS command first"])
        _ = session.send(line: "MAIL FROM:<alice@example.com>")
        #expect(session.send(line: "RCPT TO:<bob@company.org>").lines == ["554 5.7.1 <bob@company.org>: Relay access denied"])
        _ = session.send(line: "RSET")
        _ = session.send(line: "STARTTLS")
        _ = session.send(line: "EHLO pc.example.com")
        #expect(session.send(line: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").lines == ["235 2.7.0 Authentication successful"])
        _ = session.send(line: "MAIL FROM:<alice@example.com>")
        #expect(session.send(line: "RCPT TO:<bob@company.org>").lines == ["250 2.1.5 Ok"])
        session.close()
    }
}

/// Every shipped scenario, three seeds, twice each: the plaintext transcripts are byte-identical
/// (issue 13; the pcap's TLS payloads may differ, the transcript never does).
@Suite struct ScenarioDeterminismTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var scenarios: [Scenario] {
        ContentLibrary.load(paths: [repository.appendingPathComponent("Lessons").path,
                                    repository.appendingPathComponent("Scenarios").path]).scenarios
    }

    static func play(_ scenario: Scenario, seed: UInt64) throws -> String {
        let runner = try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver(), seed: seed)
        _ = runner.runAuto()
        let world = try #require(runner.world as? SimulatedWorld)
        return world.transcript()
    }

    @Test func everyScenarioIsShipped() {
        #expect(Self.scenarios.count >= 11)
    }

    @Test(arguments: scenarios.map(\.id))
    func sameSeedSameTranscript(id: String) throws {
        let scenario = try #require(Self.scenarios.first { $0.id == id })
        for seed: UInt64 in [1, 7, 2026] {
            let first = try Self.play(scenario, seed: seed)
            let second = try Self.play(scenario, seed: seed)
            if first != second {
                let a = first.split(separator: "\n", omittingEmptySubsequences: false)
                let b = second.split(separator: "\n", omittingEmptySubsequences: false)
                let index = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
                Issue.record("\(id) seed \(seed): transcripts differ at line \(index + 1): \(index < a.count ? String(a[index]) : "<end>") | \(index < b.count ? String(b[index]) : "<end>")")
            }
        }
    }
}
