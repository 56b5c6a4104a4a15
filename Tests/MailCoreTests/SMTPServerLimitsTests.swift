import Crypto
import Foundation
import Testing
@testable import MailCore

/// Limits a real Postfix has (issue 17): one copy per distinct recipient, a bound on what one
/// transaction may store, slowed-down and limited AUTH failures; AUTH only inside TLS
/// (`smtpd_tls_auth_only`), CRAM-MD5 with a real HMAC-MD5, and non-SMTP input answered the same
/// way whatever its bytes (issue 13).
@Suite struct SMTPServerLimitsTests {
    static func submission(_ mechanisms: [SASLMechanism] = [.plain, .login, .cramMD5]) -> SMTPServerConfiguration {
        SMTPServerConfiguration.submission(hostname: "mail.example.com", mechanisms: mechanisms)
    }

    /// Session after STARTTLS and EHLO on 587.
    static func tlsSession(_ configuration: SMTPServerConfiguration = submission()) -> TestServer {
        var server = makeServer(configuration)
        _ = server.start(now: .zero)
        _ = server.receive(bytes("EHLO pc.example.com\r\nSTARTTLS\r\n"), now: .seconds(1))
        _ = server.tlsEstablished(now: .seconds(1))
        _ = server.receive(bytes("EHLO pc.example.com\r\n"), now: .seconds(1))
        return server
    }

    @Test func duplicateRecipientsAreAcceptedButStoredOnce() {
        let (out, server) = exchange("""
            EHLO x\r\nMAIL FROM:<carol@oldshop.test>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<BOB@example.com>\r\n\
            RCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n
            """)
        #expect(out.lines.filter { $0 == "250 2.1.5 Ok" }.count == 4, "\(out.lines)")
        #expect(out.lines.last?.hasPrefix("250 2.0.0 Ok: queued as") == true)
        #expect(server.policy.queued.count == 1)
        #expect(server.policy.queued.first?.envelope.recipients.map(\.path.address) == ["bob@example.com", "alice@example.com"])
    }

    @Test func announcedSizeTimesRecipientsIsBounded() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.maxMessageSize = 800
        configuration.maxTransactionOctets = 1000
        let (out, server) = exchange("""
            EHLO x\r\nMAIL FROM:<carol@oldshop.test> SIZE=600\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
            RCPT TO:<alice@example.com>\r\n
            """, server: makeServer(configuration))
        #expect(Array(out.lines.suffix(3)) == ["250 2.1.5 Ok", "250 2.1.5 Ok",
                                              "452 4.5.3 Error: too many recipients for a message of this size"])
        #expect(server.currentEnvelope?.recipients.count == 1)
    }

    @Test func storedSizeTimesRecipientsIsBoundedAtTheEndOfData() {
        var configuration = SMTPServerConfiguration.relay(hostname: "mail.example.com")
        configuration.maxMessageSize = 800
        configuration.maxTransactionOctets = 1000
        let body = String(repeating: "0123456789\r\n", count: 50)  // 600 octets
        let two = exchange("EHLO x\r\nMAIL FROM:<c@o.test>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n"
                           + body + ".\r\n", server: makeServer(configuration))
        #expect(two.0.lines.last == "552 5.3.4 Error: message too big for this many recipients")
        #expect(two.1.policy.queued.isEmpty)
        let one = exchange("EHLO x\r\nMAIL FROM:<c@o.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + body + ".\r\n",
                           server: makeServer(configuration))
        #expect(one.0.lines.last?.hasPrefix("250 2.0.0 Ok: queued as") == true)
        let big = String(repeating: "0123456789\r\n", count: 80)  // 960 octets: over message_size_limit
        let alone = exchange("EHLO x\r\nMAIL FROM:<c@o.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + big + ".\r\n",
                             server: makeServer(configuration))
        #expect(alone.0.lines.last == "552 5.3.4 Error: message file too big")
    }

    @Test func failedAuthIsDelayedAndTheThirdOneDisconnects() {
        var server = Self.tlsSession()
        let wrong = "AUTH PLAIN " + String(decoding: Base64.encode(Array("\0alice\0guess".utf8)), as: UTF8.self) + "\r\n"
        var now = Duration.seconds(10)
        for attempt in 1...3 {
            var out = Collected()
            out.add(server.receive(bytes(wrong), now: now))
            #expect(out.text.isEmpty, "attempt \(attempt): the reply waits")
            #expect(server.nextDeadline == now + .seconds(2))
            out.add(server.timerFired(now: now + .milliseconds(1999)))
            #expect(out.text.isEmpty)
            now += .seconds(2)
            out.add(server.timerFired(now: now))
            if attempt < 3 {
                #expect(out.lines == ["535 5.7.8 Error: authentication failed"])
                #expect(!out.closed)
            } else {
                #expect(out.lines == ["535 5.7.8 Error: authentication failed",
                                      "421 4.7.0 mail.example.com Error: too many errors"])
                #expect(out.closed)
            }
            now += .seconds(1)
        }
    }

    @Test func commandsSentDuringTheDelayAreAnsweredAfterIt() {
        var server = Self.tlsSession()
        var out = Collected()
        out.add(server.receive(bytes("AUTH PLAIN " + String(decoding: Base64.encode(Array("\0alice\0guess".utf8)), as: UTF8.self) + "\r\nNOOP\r\n"),
                               now: .seconds(5)))
        out.add(server.receive(bytes("NOOP\r\n"), now: .seconds(6)))
        #expect(out.text.isEmpty)
        out.add(server.timerFired(now: .seconds(7)))
        #expect(out.lines == ["535 5.7.8 Error: authentication failed", "250 2.0.0 Ok", "250 2.0.0 Ok"])
        // A good password afterwards works at once.
        out = Collected()
        out.add(server.receive(bytes("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=\r\n"), now: .seconds(8)))
        #expect(out.lines == ["235 2.7.0 Authentication successful"])
    }

    @Test func noAuthBeforeTLSThenPlainLoginCramMD5() {
        var server = makeServer(Self.submission())
        var out = Collected()
        out.add(server.start(now: .zero))
        out.add(server.receive(bytes("EHLO pc\r\n"), now: .seconds(1)))
        #expect(!out.text.contains("AUTH"), "\(out.lines)")
        #expect(out.text.contains("250-STARTTLS"))
        out = Collected()
        out.add(server.receive(bytes("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=\r\nSTARTTLS\r\n"), now: .seconds(2)))
        #expect(out.lines == ["530 5.7.0 Must issue a STARTTLS command first", "220 2.0.0 Ready to start TLS"])
        _ = server.tlsEstablished(now: .seconds(2))
        out = Collected()
        out.add(server.receive(bytes("EHLO pc\r\n"), now: .seconds(3)))
        #expect(out.lines.contains("250-AUTH PLAIN LOGIN CRAM-MD5"), "\(out.lines)")
        #expect(!out.text.contains("STARTTLS"))
    }

    /// HMAC-MD5 (RFC 2104) computed here with swift-crypto, independently of the engine's own code.
    static func cramResponse(user: String, password: String, challenge: [UInt8]) -> String {
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: SymmetricKey(data: Array(password.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return String(decoding: Base64.encode(Array("\(user) \(hex)".utf8)), as: UTF8.self)
    }

    @Test func cramMD5WithARealComputedResponse() throws {
        var server = Self.tlsSession()
        var out = Collected()
        out.add(server.receive(bytes("AUTH CRAM-MD5\r\n"), now: .seconds(4)))
        let line = try #require(out.lines.first)
        #expect(line.hasPrefix("334 "))
        let challenge = try #require(Base64.decode(Array(line.dropFirst(4).utf8)))
        #expect(String(decoding: challenge, as: UTF8.self).hasSuffix("@mail.example.com>"))
        out = Collected()
        out.add(server.receive(bytes(Self.cramResponse(user: "alice", password: "mypassword", challenge: challenge) + "\r\n"),
                               now: .seconds(5)))
        #expect(out.lines == ["235 2.7.0 Authentication successful"])
        #expect(server.session.authenticatedUser == "alice")
        #expect(server.session.authenticationMechanism == .cramMD5)

        // The same response for another challenge, or a wrong password, fails.
        var other = Self.tlsSession()
        out = Collected()
        out.add(other.receive(bytes("AUTH CRAM-MD5\r\n"), now: .seconds(4)))
        out.add(other.receive(bytes(Self.cramResponse(user: "alice", password: "wrong", challenge: challenge) + "\r\n"),
                              now: .seconds(5)))
        out.add(other.timerFired(now: .seconds(7)))
        #expect(out.lines.last == "535 5.7.8 Error: authentication failed")
    }

    @Test(arguments: [UInt64(1), 7, 42, 2026])
    func aTLSClientHelloOnAPlaintextPortGetsOneReplyWhateverItsBytes(seed: UInt64) {
        // A ClientHello: record header, then random bytes (with LFs at random places).
        var generator = SplitMixForSMTP(seed: seed)
        var hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        for _ in 0..<500 { hello.append(UInt8(truncatingIfNeeded: generator.next())) }
        var server = makeServer(Self.submission())
        var out = Collected()
        _ = server.start(now: .zero)
        out.add(server.receive(hello.prefix(200), now: .seconds(1)))
        out.add(server.receive(hello.dropFirst(200), now: .seconds(1)))
        #expect(out.lines == ["221 2.7.0 Error: this is not SMTP, closing the connection"])
        #expect(out.closed)
    }

    @Test func anEmptyLineIsStillABadSyntaxNotAClose() {
        let (out, _) = exchange("\r\nEHLO x\r\n")
        #expect(out.lines.first == "500 5.5.2 Error: bad syntax")
        #expect(!out.closed)
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMixForSMTP {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
