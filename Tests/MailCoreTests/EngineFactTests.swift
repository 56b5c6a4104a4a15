import Testing
@testable import MailCore

/// Issue 12: the engines report what happened as typed facts. Each table row feeds a server a
/// client's bytes ONE OCTET AT A TIME (so no fact depends on how TCP cut the stream) and compares
/// the facts it reported, in order.
@Suite struct SMTPServerFactTests {
    static let plain = "AGFsaWNlAG15cGFzc3dvcmQ="  // \0alice\0mypassword

    struct Row: CustomStringConvertible, Sendable {
        var name: String
        var configuration: SMTPServerConfiguration
        var input: [String]
        /// TLS is established after this many input lines (the engine is told at that point).
        var tlsAfter: Int?
        var expected: [ProtocolFact]
        var description: String { name }
    }

    static let rows: [Row] = [
        Row(name: "submission on 465: TLS at once, PLAIN, one recipient accepted, one refused, message queued",
            configuration: .implicitTLS(hostname: "mail.example.com"),
            input: ["EHLO pc", "AUTH PLAIN \(plain)", "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.com>",
                    "RCPT TO:<nobody@example.com>", "DATA", "Subject: t", "", "hi", ".", "QUIT"],
            expected: [.session(.tlsEstablished), .session(.greeting), .smtp(.hello(name: "pc", extended: true)),
                       .session(.authSucceeded(mechanism: "PLAIN", user: "alice")),
                       .smtp(.mailAccepted(from: "alice@example.com")), .smtp(.rcptAccepted(to: "bob@example.com")),
                       .session(.refused(command: "RCPT", status: "550", code: "5.1.1")),
                       .smtp(.rcptRefused(to: "nobody@example.com", code: 550, enhanced: "5.1.1")),
                       .smtp(.messageAccepted(queueID: "3F4A51234", from: "alice@example.com", to: ["bob@example.com"], size: 18))]),
        Row(name: "relay port: HELO, RSET without and with a transaction, a sequence error",
            configuration: .relay(hostname: "mail.example.com"),
            input: ["HELO client", "RSET", "RCPT TO:<bob@example.com>", "MAIL FROM:<carol@oldshop.test>", "RSET", "QUIT"],
            expected: [.session(.greeting), .smtp(.hello(name: "client", extended: false)), .smtp(.reset(hadTransaction: false)),
                       .session(.refused(command: "RCPT", status: "503", code: "5.5.1")),
                       .smtp(.mailAccepted(from: "carol@oldshop.test")), .smtp(.reset(hadTransaction: true))]),
        Row(name: "relay port: STARTTLS, then a relay attempt refused",
            configuration: .relay(hostname: "mail.example.com"),
            input: ["EHLO x", "STARTTLS", "EHLO x", "MAIL FROM:<x@spam.test>", "RCPT TO:<bob@company.org>"], tlsAfter: 2,
            expected: [.session(.greeting), .smtp(.hello(name: "x", extended: true)), .session(.tlsEstablished),
                       .smtp(.hello(name: "x", extended: true)), .smtp(.mailAccepted(from: "x@spam.test")),
                       .session(.refused(command: "RCPT", status: "554", code: "5.7.1")),
                       .smtp(.rcptRefused(to: "bob@company.org", code: 554, enhanced: "5.7.1"))]),
        Row(name: "submission on 465: AUTH LOGIN with a wrong password, then an unknown command",
            configuration: .implicitTLS(hostname: "mail.example.com"),
            input: ["EHLO pc", "AUTH LOGIN", "YWxpY2U=", "d3Jvbmc=", "hello"],
            expected: [.session(.tlsEstablished), .session(.greeting), .smtp(.hello(name: "pc", extended: true)),
                       .session(.authFailed(mechanism: "LOGIN", user: nil)),
                       .session(.refused(command: "AUTH", status: "535", code: "5.7.8")),
                       .session(.refused(command: "", status: "502", code: "5.5.2"))]),
    ]

    @Test(arguments: rows)
    func factsFedOctetByOctet(_ row: Row) {
        var server = makeServer(row.configuration)
        var actions: [SMTPServerAction] = []
        var now: Duration = .seconds(1)
        var facts: [ProtocolFact] = []
        server.start(now: now, into: &actions)
        facts += server.takeFacts()
        for (index, line) in row.input.enumerated() {
            for byte in Array((line + "\r\n").utf8) {
                server.receive([byte], now: now, into: &actions)
                facts += server.takeFacts()
            }
            // A failed AUTH answers after its delay, as a client would wait for it.
            while let hold = server.holdUntil {
                now = hold
                server.timerFired(now: now, into: &actions)
                facts += server.takeFacts()
            }
            if row.tlsAfter == index + 1 {
                server.tlsEstablished(now: now, into: &actions)
                facts += server.takeFacts()
            }
        }
        #expect(facts == row.expected, "\(row.name)")
        #expect(server.takeFacts().isEmpty)
    }
}

@Suite struct POP3ServerFactTests {
    static func maildrop() -> POP3InMemoryMaildrop {
        POP3InMemoryMaildrop(passwords: ["bob": "secret123"], boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "u1", content: pop3Message(["Subject: one", "", "1"], size: 0)),
            POP3MaildropMessage(uniqueID: "u2", content: pop3Message(["Subject: two", "", "2"], size: 0)),
            POP3MaildropMessage(uniqueID: "u3", content: pop3Message(["Subject: three", "", "3"], size: 0)),
        ]])
    }

    /// Every octet apart: the facts of a download-then-delete session, and of a changed mind.
    @Test(arguments: [
        (["CAPA", "USER bob", "PASS secret123", "STAT", "UIDL", "RETR 1", "DELE 1", "DELE 2", "QUIT"],
         [ProtocolFact.session(.greeting), .session(.capabilities), .session(.authSucceeded(mechanism: "USER", user: "bob")),
          .pop3(.stat(messages: 3, octets: -1)), .pop3(.listed(message: nil, uidl: true)),
          .pop3(.retrieved(message: 1, uidl: "u1", size: -1)), .pop3(.markedDeleted(message: 1, uidl: "u1")),
          .pop3(.markedDeleted(message: 2, uidl: "u2")), .pop3(.committed(deleted: ["u1", "u2"]))]),
        (["USER bob", "PASS secret123", "TOP 2 0", "DELE 2", "RSET", "RETR 9", "QUIT"],
         [ProtocolFact.session(.greeting), .session(.authSucceeded(mechanism: "USER", user: "bob")),
          .pop3(.top(message: 2, lines: 0, uidl: "u2")), .pop3(.markedDeleted(message: 2, uidl: "u2")),
          .pop3(.reset(restored: ["u2"])), .session(.refused(command: "RETR", status: "-ERR", code: nil)),
          .pop3(.committed(deleted: []))]),
        (["USER bob", "PASS nope"],
         [ProtocolFact.session(.greeting), .session(.authFailed(mechanism: "USER", user: "bob")),
          .session(.refused(command: "PASS", status: "-ERR", code: "AUTH"))]),
    ])
    func factsFedOctetByOctet(_ input: [String], _ expected: [ProtocolFact]) {
        var harness = POP3ServerHarness(Self.maildrop(), configuration: .init(hostname: "mail1.company.org", tls: .implicit))
        _ = harness.start()
        _ = harness.tls()
        var facts = harness.server.takeFacts().filter { $0 != .session(.tlsEstablished) }
        for line in input {
            for byte in Array((line + "\r\n").utf8) {
                _ = harness.send(String(decoding: [byte], as: UTF8.self))
                facts += harness.server.takeFacts()
            }
        }
        // Sizes depend on the canonical form: compare them apart.
        func sizeless(_ fact: ProtocolFact) -> ProtocolFact {
            switch fact {
            case let .pop3(.stat(messages, _)): return .pop3(.stat(messages: messages, octets: -1))
            case let .pop3(.retrieved(message, uidl, _)): return .pop3(.retrieved(message: message, uidl: uidl, size: -1))
            default: return fact
            }
        }
        #expect(facts.map(sizeless) == expected)
    }
}
