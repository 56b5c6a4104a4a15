import Testing
@testable import MailCore

/// Dovecot's defaults on POP3 (issues 13 and 17): no plaintext login before STLS
/// (`disable_plaintext_auth = yes`), a delay after each failed login (`auth_failure_delay`), and
/// the close after the third.
@Suite struct POP3ServerLimitsTests {
    static func maildrop() -> POP3InMemoryMaildrop {
        POP3InMemoryMaildrop(passwords: ["bob": "secret123"], boxes: ["bob": []])
    }

    static let refused = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"

    @Test func plaintextLoginIsRefusedUntilSTLSThenWorks() {
        var pop = POP3ServerHarness(Self.maildrop(), configuration: .init(hostname: "mail1.company.org", plaintextLoginRequiresTLS: true))
        _ = pop.start()
        let before = pop.sendLine("CAPA")
        #expect(before == "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\nIMPLEMENTATION MailLab\r\n.\r\n")
        #expect(pop.sendLine("USER bob") == Self.refused)
        #expect(pop.sendLine("PASS secret123") == Self.refused)
        #expect(pop.sendLine("AUTH PLAIN AGJvYgBzZWNyZXQxMjM=") == Self.refused)
        #expect(pop.sendLine("AUTH") == "+OK Supported mechanisms follow\r\n.\r\n")
        #expect(pop.sendLine("STLS") == "+OK Begin TLS negotiation\r\n")
        #expect(pop.tls() == "")
        #expect(pop.sendLine("CAPA") == "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION MailLab\r\n.\r\n")
        #expect(pop.login("bob", "secret123") == "+OK Logged in\r\n")
    }

    @Test func eachFailedLoginWaitsAndTheThirdCloses() {
        var pop = POP3ServerHarness(Self.maildrop(), configuration: .init(hostname: "h", tls: .implicit))
        _ = pop.start()
        _ = pop.tls()
        for attempt in 1...3 {
            #expect(pop.collect(pop.server.receive(Array("USER bob\r\n".utf8), now: pop.now)) == "+OK User accepted\r\n")
            let start = pop.now
            let immediate = pop.collect(pop.server.receive(Array("PASS wrong\r\nNOOP\r\n".utf8), now: pop.now))
            #expect(immediate == "", "attempt \(attempt): the reply waits")
            #expect(pop.server.nextDeadline == start + .seconds(2))
            #expect(pop.collect(pop.server.timerFired(now: start + .milliseconds(1500))) == "")
            pop.now = start + .seconds(2)
            let late = pop.timer()
            if attempt < 3 {
                #expect(late == "-ERR [AUTH] Authentication failed.\r\n-ERR Not logged in.\r\n")
                #expect(!pop.closed)
            } else {
                #expect(late == "-ERR [AUTH] Authentication failed.\r\n")
                #expect(pop.closed)
            }
            pop.now += .seconds(1)
        }
    }

    @Test func floodingDuringTheDelayCloses() {
        var pop = POP3ServerHarness(Self.maildrop(), configuration: .init(hostname: "h", tls: .implicit))
        _ = pop.start()
        _ = pop.tls()
        _ = pop.collect(pop.server.receive(Array("USER bob\r\nPASS wrong\r\n".utf8), now: pop.now))
        let flood = String(repeating: "NOOP\r\n", count: POP3Server.heldLineLimit + 1)
        let out = pop.collect(pop.server.receive(Array(flood.utf8), now: pop.now))
        #expect(out == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(pop.closed)
    }
}
