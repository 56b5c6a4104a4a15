import MailAgents
import MailCore
import MailSim
import Testing
@testable import MailBridge

@Suite struct BridgePlanTests {
    static let course: [(name: String, ports: [UInt16])] = [
        ("mail.example.com", [25, 110, 143, 465, 587, 993, 995]),
        ("mail1.company.org", [25, 587, 465]),
        ("mail2.company.org", [25]),
        ("alice-laptop", []),
        ("mail-backup.example.net", [25]),
    ]

    @Test func defaultOffsetGivesDesignTable() throws {
        let plan = try BridgePlan.make(servers: Self.course, offset: 10_000)
        let first = plan.filter { $0.hostName == "mail.example.com" }.map { "\($0.virtualPort)→\($0.realPort)" }
        #expect(first == ["25→10025", "110→10110", "143→10143", "465→10465", "587→10587", "993→10993", "995→10995"])
        let second = plan.filter { $0.hostName == "mail1.company.org" }.map(\.realPort)
        #expect(second == [11025, 11465, 11587])
        // A host without listeners takes no block: the backup MX is the fourth server.
        #expect(plan.last?.hostName == "mail-backup.example.net")
        #expect(plan.last?.realPort == 13025)
        #expect(plan.last?.hostIndex == 3)
    }

    @Test func exposeKeepsEachHostsBlock() throws {
        let plan = try BridgePlan.make(servers: Self.course, offset: 20_000, expose: ["MAIL2.company.org"])
        #expect(plan.map(\.realPort) == [22025])
        #expect(plan.map(\.hostIndex) == [2])
    }

    @Test func unknownExposedHostIsAnError() {
        #expect(throws: BridgeError.self) {
            try BridgePlan.make(servers: Self.course, offset: 10_000, expose: ["alice-laptop"])
        }
    }

    @Test(arguments: [-1, 63_000])
    func offsetOutOfRangeIsAnError(offset: Int) {
        #expect(throws: BridgeError.self) { try BridgePlan.make(servers: Self.course, offset: offset) }
    }

    @Test(arguments: [
        (UInt16(25), "smtp", MailProtocol.smtp, false), (587, "submission", .smtp, false), (465, "smtps", .smtp, true),
        (110, "pop3", .pop3, false), (995, "pop3s", .pop3, true), (143, "imap", .imap, false), (993, "imaps", .imap, true),
    ])
    func standardServices(port: UInt16, name: String, proto: MailProtocol, implicit: Bool) {
        let service = BridgeService.standard(port: port)
        #expect(service.name == name)
        #expect(service.mailProtocol == proto)
        #expect(service.implicitTLS == implicit)
    }

    @Test func courseWorldPortsFromTheBridge() throws {
        let world = try MailWorld.course(seed: 1)
        var config = BridgeConfiguration()
        config.portOffset = 30_000
        let bridge = try LoopbackBridge(world: world, configuration: config, log: { _ in })
        let table = bridge.ports.map { "\($0.hostName) \($0.virtualPort) \($0.realPort)" }
        #expect(table.contains("mail.example.com 587 30587"))
        #expect(table.contains("mail.example.com 465 30465"))
        #expect(table.contains("mail1.company.org 25 31025"))
        #expect(!table.contains { $0.hasPrefix("alice-laptop") || $0.hasPrefix("bridge") })
        // By domain: company.org before example.com.
        #expect(bridge.accounts.map { "\($0.login)/\($0.password)/\($0.address ?? "-")" }
                == ["bob/secret123/bob@company.org", "alice/mypassword/alice@example.com"])
        #expect(bridge.certificateAuthorityPEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }
}

extension ServerReply {
    /// A reply after which the server awaits `awaiting` (what the redactor follows; the code and
    /// the octet count do not matter to it).
    static func awaiting(_ awaiting: ServerAwaits) -> ServerReply {
        ServerReply(status: awaiting == .saslResponse || awaiting == .literal || awaiting == .messageData ? .continuation : .positive,
                    code: "", awaiting: awaiting, end: 0)
    }
}

@Suite struct CredentialRedactorTests {
    /// Feeds a dialogue and returns the logged client lines. `C: ` lines are the client's; a
    /// server reply is written with what the server's engine reports it awaits after it:
    /// `S: ` a command, `S sasl: ` a SASL response, `S literal: ` a literal's octets.
    static func run(_ proto: MailProtocol, _ dialogue: [String]) -> [String] {
        var redactor = CredentialRedactor(mailProtocol: proto)
        var logged: [String] = []
        for line in dialogue {
            if line.hasPrefix("C: ") { logged.append(redactor.clientLine(String(line.dropFirst(3)))) }
            else if line.hasPrefix("S sasl: ") { redactor.serverReplied(.awaiting(.saslResponse)) }
            else if line.hasPrefix("S literal: ") { redactor.serverReplied(.awaiting(.literal)) }
            else { redactor.serverReplied(.awaiting(.command)) }
        }
        return logged
    }

    @Test func smtpAuthPlainInitialResponse() {
        #expect(Self.run(.smtp, ["C: EHLO x", "S: 250 ok", "C: AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=",
                                 "S: 235 2.7.0 Authentication successful", "C: MAIL FROM:<a@b>"])
                == ["EHLO x", "AUTH PLAIN ****", "MAIL FROM:<a@b>"])
    }

    @Test func smtpAuthLoginExchange() {
        #expect(Self.run(.smtp, ["C: AUTH LOGIN", "S sasl: 334 VXNlcm5hbWU6", "C: YWxpY2U=", "S sasl: 334 UGFzc3dvcmQ6",
                                 "C: bXlwYXNzd29yZA==", "S: 535 5.7.8 failed", "C: QUIT"])
                == ["AUTH LOGIN", "****", "****", "QUIT"])
    }

    @Test func pop3PassApopAndAuth() {
        #expect(Self.run(.pop3, ["C: USER bob", "S: +OK", "C: PASS secret123", "S: +OK", "C: APOP bob 0123abcd",
                                 "S: -ERR", "C: AUTH PLAIN", "S sasl: + ", "C: AGJvYgBzZWNyZXQxMjM=", "S: +OK", "C: STAT"])
                == ["USER bob", "PASS ****", "APOP bob ****", "AUTH PLAIN", "****", "STAT"])
    }

    @Test func imapLoginForms() {
        #expect(Self.run(.imap, ["C: a1 LOGIN bob secret123", "S: a1 OK", "C: a2 login \"bob\" \"se cret\"", "S: a2 OK",
                                 "C: a3 SELECT INBOX"])
                == ["a1 LOGIN bob ****", "a2 login \"bob\" ****", "a3 SELECT INBOX"])
    }

    @Test func imapLoginWithLiteralHidesUntilTaggedReply() {
        #expect(Self.run(.imap, ["C: a1 LOGIN bob {9}", "S literal: + Ready", "C: secret123", "S: a1 OK done", "C: a2 NOOP"])
                == ["a1 LOGIN bob ****", "****", "a2 NOOP"])
    }

    @Test func imapAuthenticate() {
        #expect(Self.run(.imap, ["C: A AUTHENTICATE PLAIN", "S sasl: + ", "C: AGJvYgBzZWNyZXQxMjM=", "S: A OK",
                                 "C: B AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=", "S: B OK", "C: C LOGOUT"])
                == ["A AUTHENTICATE PLAIN", "****", "B AUTHENTICATE PLAIN ****", "C LOGOUT"])
    }
}

@Suite struct BridgeHostTests {
    @Test func bridgeHostAvoidsTakenNameAndAddress() throws {
        let world = try MailWorld.course(seed: 1)
        try world.world.addHost("bridge", address: "192.0.2.200", addDNS: false)
        let host = try LoopbackBridge.addBridgeHost(to: world.world, configuration: BridgeConfiguration())
        #expect(host.name == "bridge-2")
        #expect(host.address.description == "192.0.2.201")
    }

    @Test func bridgeHostUsesTheConfiguredOnes() throws {
        let world = try MailWorld.course(seed: 1)
        let host = try LoopbackBridge.addBridgeHost(to: world.world, configuration: BridgeConfiguration())
        #expect(host.name == "bridge")
        #expect(host.address.description == "192.0.2.200")
        #expect(host.listeningPorts.isEmpty)
    }
}

/// The session log copies a plain client line as it is when ``CredentialRedactor/passesUnchanged(_:)``
/// says so, and sends the others through ``CredentialRedactor/clientLine(_:)``: both ways must
/// log the same text and leave the redactor in the same state, whatever the dialogue.
@Suite struct RedactorFastPathTests {
    static let words = ["AUTH", "auth", "PLAIN", "LOGIN", "PASS", "pass", "APOP", "USER", "MAIL", "FROM:<a@b>",
                        "a1", "a2", "LOGIN", "login", "AUTHENTICATE", "SELECT", "INBOX", "{5}", "{3+}", ".", "",
                        "x", "AGFsaWNl", "\"bob\"", "DATA", "P", "A"]
    static let replies: [ServerAwaits] = [.command, .saslResponse, .literal, .messageData, .idleDone, .nothing]

    @Test(arguments: [MailProtocol.smtp, .pop3, .imap])
    func fastPathLogsWhatTheSlowPathLogs(_ proto: MailProtocol) {
        for seed in UInt64(1)...200 {
            var random = SeededRandom(seed: seed)
            var slow = CredentialRedactor(mailProtocol: proto)
            var fast = CredentialRedactor(mailProtocol: proto)
            for step in 0..<40 {
                if random.next() % 3 == 0 {
                    let reply = ServerReply.awaiting(Self.replies[Int(random.next() % UInt64(Self.replies.count))])
                    slow.serverReplied(reply)
                    fast.serverReplied(reply)
                    continue
                }
                let count = Int(random.next() % 4)
                let line = (0..<count).map { _ in Self.words[Int(random.next() % UInt64(Self.words.count))] }.joined(separator: " ")
                let expected = slow.clientLine(line)
                let got = fast.passesUnchanged(Array(line.utf8)[...]) ? line : fast.clientLine(line)
                #expect(got == expected, "seed \(seed) step \(step): \(proto) line \"\(line)\"")
                #expect(fast.state == slow.state, "seed \(seed) step \(step): \(proto) line \"\(line)\"")
            }
        }
    }
}

/// The session log's word-at-a-time checks agree with a byte loop, at every length and offset.
@Suite struct SessionLogScanTests {
    @Test func plainASCIIAndLineFeedAgreeWithByteLoops() {
        var random = SeededRandom(seed: 7)
        let alphabet: [UInt8] = [0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x80, 0xC3, 0xFF, 0x00]
        for length in 0...40 {
            for round in 0..<60 {
                let bytes = (0..<length + 3).map { _ in
                    random.next() % 3 == 0 ? alphabet[Int(random.next() % UInt64(alphabet.count))] : UInt8(ascii: "x")
                }
                let slice = bytes[3...]
                let plain = slice.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) }
                #expect(SessionLog.isPlainASCII(slice) == plain, "length \(length) round \(round): \(Array(slice))")
                for start in 3...bytes.count {
                    let expected = bytes[start...].firstIndex(of: 0x0A)
                    #expect(SessionLog.firstLineFeed(bytes, start..<bytes.count) == expected, "\(bytes) from \(start)")
                }
            }
        }
    }
}
