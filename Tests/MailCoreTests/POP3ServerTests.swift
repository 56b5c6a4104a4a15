import Testing
@testable import MailCore

/// The maildrop of the course's POP3 session: three messages of 5000, 3500 and 3845 octets.
func courseMaildrop() -> POP3InMemoryMaildrop {
    let first = pop3Message([
        "Return-Path: <alice@example.com>",
        "Received: from mail.example.com by mail1.company.org",
        "From: Alice <alice@example.com>",
        "To: Bob <bob@company.org>",
        "Subject: Hello",
        "Date: Fri, 06 Dec 2024 10:00:00 +0100",
        "",
        "Contenu du message...",
    ], size: 5000)
    let second = pop3Message(["From: Alice <alice@example.com>", "Subject: Second", "", "Message 2"], size: 3500)
    let third = pop3Message(["From: Carol <carol@example.net>", "Subject: Third", "", "Message 3"], size: 3845)
    return POP3InMemoryMaildrop(
        passwords: ["bob": "secret123", "alice": "mypassword"],
        boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "abc123def456", content: first),
            POP3MaildropMessage(uniqueID: "ghi789jkl012", content: second),
            POP3MaildropMessage(uniqueID: "mno345pqr678", content: third),
        ]])
}

/// Runs a `C:`/`S:` transcript against a fresh server and checks every server reply.
func runTranscript(_ transcript: [String], backend: POP3InMemoryMaildrop,
                   configuration: POP3ServerConfiguration = .init(hostname: "mail1.company.org"),
                   sourceLocation: SourceLocation = #_sourceLocation) {
    var harness = POP3ServerHarness(backend, configuration: configuration)
    var expected: [String] = []
    var actual = harness.start()
    for entry in transcript {
        if entry.hasPrefix("C: ") {
            #expect(actual == crlf(expected), sourceLocation: sourceLocation)
            expected = []
            actual = harness.sendLine(String(entry.dropFirst(3)))
        } else if entry.hasPrefix("S: ") {
            expected.append(String(entry.dropFirst(3)))
        } else if entry == "S:" {
            expected.append("")
        }
    }
    #expect(actual == crlf(expected), sourceLocation: sourceLocation)
}

func lines(of message: POP3MaildropMessage) -> [String] {
    POP3Text.lines(message.content).map { "S: " + String(decoding: $0, as: UTF8.self) }
}

@Suite struct POP3ServerTranscriptTests {
    /// The course's session (USER, PASS, STAT, LIST, UIDL, RETR, DELE, QUIT). The course deletes
    /// one message yet announces two; here both retrieved messages are deleted.
    @Test func courseSession() {
        let backend = courseMaildrop()
        let box = backend.boxes["bob"]!
        runTranscript([
            "S: +OK POP3 server ready",
            "C: USER bob",
            "S: +OK User accepted",
            "C: PASS secret123",
            "S: +OK Logged in",
            "C: STAT",
            "S: +OK 3 12345",
            "C: LIST",
            "S: +OK 3 messages",
            "S: 1 5000",
            "S: 2 3500",
            "S: 3 3845",
            "S: .",
            "C: UIDL",
            "S: +OK Unique ID listing",
            "S: 1 abc123def456",
            "S: 2 ghi789jkl012",
            "S: 3 mno345pqr678",
            "S: .",
            "C: RETR 1",
            "S: +OK 5000 octets",
        ] + lines(of: box[0]) + [
            "S: .",
            "C: DELE 1",
            "S: +OK Message 1 deleted",
            "C: RETR 2",
            "S: +OK 3500 octets",
        ] + lines(of: box[1]) + [
            "S: .",
            "C: DELE 2",
            "S: +OK Message 2 deleted",
            "C: QUIT",
            "S: +OK POP3 server signing off (2 messages deleted)",
        ], backend: backend)
        #expect(backend.boxes["bob"]?.map(\.uniqueID) == ["mno345pqr678"])
        #expect(backend.locked.isEmpty)
    }

    @Test func courseMessageHeaders() {
        let box = courseMaildrop().boxes["bob"]!
        #expect(box[0].content.count == 5000)
        #expect(lines(of: box[0])[0] == "S: Return-Path: <alice@example.com>")
    }

    @Test func listAndUidlOfOneMessageAndStatAfterDele() {
        runTranscript([
            "S: +OK POP3 server ready",
            "C: USER bob", "S: +OK User accepted",
            "C: PASS secret123", "S: +OK Logged in",
            "C: LIST 2", "S: +OK 2 3500",
            "C: UIDL 3", "S: +OK 3 mno345pqr678",
            "C: DELE 1", "S: +OK Message 1 deleted",
            "C: STAT", "S: +OK 2 7345",
            "C: LIST", "S: +OK 2 messages", "S: 2 3500", "S: 3 3845", "S: .",
            "C: UIDL", "S: +OK Unique ID listing", "S: 2 ghi789jkl012", "S: 3 mno345pqr678", "S: .",
            "C: LIST 1", "S: -ERR Message 1 is deleted",
            "C: UIDL 1", "S: -ERR Message 1 is deleted",
            "C: NOOP", "S: +OK",
            "C: RSET", "S: +OK maildrop has 3 messages (12345 octets)",
            "C: STAT", "S: +OK 3 12345",
            "C: QUIT", "S: +OK POP3 server signing off",
        ], backend: courseMaildrop())
    }

    @Test func capabilitiesBeforeAndAfterLogin() {
        runTranscript([
            "S: +OK POP3 server ready",
            "C: CAPA",
            "S: +OK Capability list follows",
            "S: TOP", "S: UIDL", "S: RESP-CODES", "S: AUTH-RESP-CODE", "S: PIPELINING",
            "S: STLS", "S: USER", "S: SASL PLAIN", "S: IMPLEMENTATION MailLab", "S: .",
            "C: AUTH",
            "S: +OK Supported mechanisms follow", "S: PLAIN", "S: .",
            "C: USER bob", "S: +OK User accepted",
            "C: PASS secret123", "S: +OK Logged in",
            "C: CAPA",
            "S: +OK Capability list follows",
            "S: TOP", "S: UIDL", "S: RESP-CODES", "S: AUTH-RESP-CODE", "S: PIPELINING",
            "S: IMPLEMENTATION MailLab", "S: .",
        ], backend: courseMaildrop())
    }

    @Test func topSendsHeadersAndFirstLines() {
        let backend = POP3InMemoryMaildrop(passwords: ["bob": "pw"], boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "u1", content: Array("Subject: t\nFrom: a@b\n\nline 1\n.line 2\nline 3\n".utf8)),
        ]])
        runTranscript([
            "S: +OK POP3 server ready",
            "C: USER bob", "S: +OK User accepted",
            "C: PASS pw", "S: +OK Logged in",
            "C: TOP 1 0", "S: +OK Top of message follows", "S: Subject: t", "S: From: a@b", "S:", "S: .",
            "C: TOP 1 2", "S: +OK Top of message follows", "S: Subject: t", "S: From: a@b", "S:",
            "S: line 1", "S: ..line 2", "S: .",
            "C: TOP 1 99", "S: +OK Top of message follows", "S: Subject: t", "S: From: a@b", "S:",
            "S: line 1", "S: ..line 2", "S: line 3", "S: .",
            // Bare LF in the store become CRLF; the size counts them.
            "C: LIST 1", "S: +OK 1 50",
            "C: TOP 2 1", "S: -ERR No such message",
        ], backend: backend)
    }

    @Test func byteStuffingInRetr() {
        let backend = POP3InMemoryMaildrop(passwords: ["bob": "pw"], boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "u1", content: Array("Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nend\r\n".utf8)),
        ]])
        runTranscript([
            "S: +OK POP3 server ready",
            "C: USER bob", "S: +OK User accepted",
            "C: PASS pw", "S: +OK Logged in",
            "C: RETR 1", "S: +OK 38 octets",
            "S: Subject: dots", "S:", "S: ..", "S: ...", "S: ..hidden", "S: end", "S: .",
        ], backend: backend)
    }

    /// RFC 1939 §7: the APOP example, with the same timestamp and secret.
    @Test func apopExampleFromRFC1939() {
        let backend = POP3InMemoryMaildrop(passwords: ["mrose": "tanstaaf"], boxes: ["mrose": []])
        var harness = POP3ServerHarness(
            backend, configuration: .init(hostname: "dbc.mtview.ca.us", apop: true), sessionID: 1896)
        harness.now = .seconds(697170952)
        #expect(harness.start() == "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n")
        #expect(harness.sendLine("APOP mrose 00000000000000000000000000000000") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(harness.sendLine("APOP mrose c4c9334bac560ecc979e58001b3e22fb") == "+OK Logged in\r\n")
        #expect(harness.sendLine("STAT") == "+OK 0 0\r\n")
    }

    @Test func apopRefusedWhenNotOffered() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.sendLine("APOP bob c4c9334bac560ecc979e58001b3e22fb") == "-ERR APOP is not enabled on this server\r\n")
    }

    @Test func authPlain() {
        let backend = courseMaildrop()
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        let good = Base64.encode("\u{0}bob\u{0}secret123")
        let bad = Base64.encode("\u{0}bob\u{0}nope")
        #expect(harness.sendLine("AUTH PLAIN \(bad)") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(harness.sendLine("AUTH PLAIN") == "+ \r\n")
        #expect(harness.sendLine("*") == "-ERR Authentication cancelled.\r\n")
        #expect(harness.sendLine("AUTH PLAIN") == "+ \r\n")
        #expect(harness.sendLine("not base64!") == "-ERR Invalid base64 data.\r\n")
        #expect(harness.sendLine("AUTH CRAM-MD5") == "-ERR Unsupported authentication mechanism.\r\n")
        #expect(harness.sendLine("AUTH PLAIN") == "+ \r\n")
        #expect(harness.sendLine(good) == "+OK Logged in\r\n")
        #expect(harness.server.user == "bob")
    }
}

@Suite struct POP3ServerRobustnessTests {
    func loggedIn(_ backend: POP3InMemoryMaildrop = courseMaildrop()) -> POP3ServerHarness {
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        _ = harness.login("bob", "secret123")
        return harness
    }

    @Test func overLongCommandIsRefusedAndDrained() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.sendLine(String(repeating: "A", count: 300)) == "-ERR Command line too long\r\n")
        // 20 KB without CRLF: nothing until the CRLF, then one reply.
        for _ in 0..<20 {
            #expect(harness.send(String(repeating: "B", count: 1024)) == "")
        }
        #expect(harness.send("\r\nCAPA\r\n").hasPrefix("-ERR Command line too long\r\n+OK Capability list follows\r\n"))
        #expect(harness.server.phase == .authorization)
        #expect(!harness.closed)
    }

    @Test func commandOf255OctetsIsAccepted() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        _ = harness.sendLine("USER bob")
        // "PASS " + 248 octets + CRLF = 255 octets.
        #expect(harness.sendLine("PASS " + String(repeating: "p", count: 248)) == "-ERR [AUTH] Authentication failed.\r\n")
        _ = harness.sendLine("USER bob")
        #expect(harness.sendLine("PASS " + String(repeating: "p", count: 249)) == "-ERR Command line too long\r\n")
    }

    @Test(arguments: ["STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "TOP 1 1", "UIDL", "NOOP", "RSET"])
    func transactionCommandsBeforeLogin(command: String) {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.sendLine(command) == "-ERR Not logged in.\r\n")
        #expect(harness.server.phase == .authorization)
    }

    @Test func passWithoutUser() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.sendLine("PASS secret123") == "-ERR No username given.\r\n")
        // A failed PASS forgets the user: the next PASS needs a new USER.
        _ = harness.sendLine("USER bob")
        #expect(harness.sendLine("PASS wrong") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(harness.sendLine("PASS secret123") == "-ERR No username given.\r\n")
    }

    @Test(arguments: ["RETR 4", "DELE 4", "TOP 4 1", "LIST 4", "UIDL 99"])
    func missingMessage(command: String) {
        var harness = loggedIn()
        #expect(harness.sendLine(command) == "-ERR No such message\r\n")
    }

    @Test(arguments: ["RETR 2", "DELE 2", "TOP 2 1", "LIST 2", "UIDL 2"])
    func deletedMessage(command: String) {
        var harness = loggedIn()
        #expect(harness.sendLine("DELE 2") == "+OK Message 2 deleted\r\n")
        #expect(harness.sendLine(command) == "-ERR Message 2 is deleted\r\n")
    }

    @Test(arguments: [
        ("FOO", "-ERR Unknown command"), ("", "-ERR Empty command line"), ("RETR x", "-ERR Invalid argument"),
        ("RETR", "-ERR Missing argument"), ("STAT 1", "-ERR Too many arguments"),
        ("ST\u{0}AT", "-ERR Invalid characters in command"), ("STAT\u{ff}", "-ERR Invalid characters in command"),
    ])
    func badCommandsInTransaction(command: String, reply: String) {
        var harness = loggedIn()
        #expect(harness.sendLine(command) == reply + "\r\n")
        #expect(harness.sendLine("NOOP") == "+OK\r\n")
    }

    @Test func tooManyBadCommandsClose() {
        let backend = courseMaildrop()
        var harness = loggedIn(backend)
        for _ in 0..<19 { #expect(harness.sendLine("FOO") == "-ERR Unknown command\r\n") }
        #expect(!harness.closed)
        _ = harness.sendLine("FOO")
        #expect(harness.closed)
        #expect(backend.locked.isEmpty)
        #expect(backend.boxes["bob"]?.count == 3)
    }

    @Test func loginCommandsAfterLogin() {
        var harness = loggedIn()
        #expect(harness.sendLine("USER bob") == "-ERR Already logged in.\r\n")
        #expect(harness.sendLine("PASS x") == "-ERR Already logged in.\r\n")
        #expect(harness.sendLine("STLS") == "-ERR STLS is only allowed before login.\r\n")
    }

    @Test func failedLoginAndTooManyFailures() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.login("bob", "nope") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(harness.login("nobody", "secret123") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(!harness.closed)
        #expect(harness.login("bob", "again") == "-ERR [AUTH] Authentication failed.\r\n")
        #expect(harness.closed)
    }

    @Test func mailboxInUse() {
        let backend = courseMaildrop()
        var first = loggedIn(backend)
        var second = POP3ServerHarness(backend, sessionID: 2)
        _ = second.start()
        #expect(second.login("bob", "secret123") == "-ERR [IN-USE] Mailbox is locked by another session\r\n")
        #expect(second.server.phase == .authorization)
        #expect(first.sendLine("QUIT") == "+OK POP3 server signing off\r\n")
        #expect(second.login("bob", "secret123") == "+OK Logged in\r\n")
    }

    @Test func quitBeforeLogin() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.send("QUIT\r\nNOOP\r\n") == "+OK POP3 server signing off\r\n")
        #expect(harness.closed)
        #expect(harness.server.phase == .closed)
        #expect(harness.sendLine("NOOP") == "")
    }
}

@Suite struct POP3ServerTLSTests {
    @Test func stlsDiscardsPipelinedCommands() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.send("STLS\r\nUSER x\r\n") == "+OK Begin TLS negotiation\r\n")
        #expect(harness.tlsRequested == 1)
        // Octets arriving before the handshake ends are not commands either.
        #expect(harness.send("PASS y\r\n") == "")
        #expect(harness.tls() == "")
        #expect(harness.server.tlsActive)
        #expect(harness.sendLine("PASS secret123") == "-ERR No username given.\r\n")
        #expect(harness.sendLine("STLS") == "-ERR TLS is already active.\r\n")
        #expect(!harness.sendLine("CAPA").contains("STLS"))
        #expect(harness.login("bob", "secret123") == "+OK Logged in\r\n")
    }

    @Test func stlsNotOfferedWithoutTLS() {
        var harness = POP3ServerHarness(courseMaildrop(), configuration: .init(hostname: "h", tls: .none))
        _ = harness.start()
        #expect(harness.sendLine("STLS") == "-ERR STLS is not available.\r\n")
        #expect(harness.tlsRequested == 0)
        #expect(!harness.sendLine("CAPA").contains("STLS"))
    }

    @Test func plaintextLoginRefusedBeforeTLS() {
        let refused = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
        var harness = POP3ServerHarness(
            courseMaildrop(), configuration: .init(hostname: "h", plaintextLoginRequiresTLS: true))
        _ = harness.start()
        let capa = harness.sendLine("CAPA")
        #expect(capa.contains("STLS\r\n"))
        #expect(!capa.contains("USER\r\n"))
        #expect(!capa.contains("SASL"))
        #expect(harness.sendLine("USER bob") == refused)
        #expect(harness.sendLine("PASS secret123") == refused)
        #expect(harness.sendLine("AUTH PLAIN") == refused)
        #expect(harness.sendLine("STLS") == "+OK Begin TLS negotiation\r\n")
        _ = harness.tls()
        #expect(harness.sendLine("CAPA").contains("USER\r\n"))
        #expect(harness.login("bob", "secret123") == "+OK Logged in\r\n")
    }

    @Test func implicitTLSGreetsAfterHandshake() {
        var harness = POP3ServerHarness(courseMaildrop(), configuration: .init(hostname: "h", tls: .implicit))
        #expect(harness.start() == "")
        #expect(harness.tlsRequested == 1)
        #expect(harness.send("USER bob\r\n") == "")
        #expect(harness.tls() == "+OK POP3 server ready\r\n")
        #expect(harness.sendLine("STLS") == "-ERR TLS is already active.\r\n")
        #expect(harness.login("bob", "secret123") == "+OK Logged in\r\n")
    }
}

@Suite struct POP3ServerUpdateStateTests {
    @Test func deletionsOnlyAtQuit() {
        let backend = courseMaildrop()
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        _ = harness.login("bob", "secret123")
        _ = harness.sendLine("DELE 1")
        _ = harness.sendLine("DELE 3")
        #expect(harness.server.markedForDeletion == [1, 3])
        #expect(backend.boxes["bob"]?.count == 3)
        #expect(harness.sendLine("QUIT") == "+OK POP3 server signing off (2 messages deleted)\r\n")
        #expect(backend.boxes["bob"]?.map(\.uniqueID) == ["ghi789jkl012"])
        #expect(backend.removals == [["abc123def456", "mno345pqr678"]])
        #expect(harness.closed)
    }

    @Test func rsetUndeletes() {
        let backend = courseMaildrop()
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        _ = harness.login("bob", "secret123")
        _ = harness.sendLine("DELE 1")
        _ = harness.sendLine("RSET")
        #expect(harness.sendLine("RETR 1").hasPrefix("+OK 5000 octets\r\n"))
        #expect(harness.sendLine("QUIT") == "+OK POP3 server signing off\r\n")
        #expect(backend.boxes["bob"]?.count == 3)
        #expect(backend.removals.isEmpty)
    }

    @Test func droppedConnectionDeletesNothing() {
        let backend = courseMaildrop()
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        _ = harness.login("bob", "secret123")
        _ = harness.sendLine("DELE 1")
        harness.server.connectionClosed()
        #expect(backend.boxes["bob"]?.count == 3)
        #expect(backend.locked.isEmpty)
        #expect(harness.server.phase == .closed)
    }

    @Test func idleTimeoutClosesWithoutUpdate() {
        let backend = courseMaildrop()
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        harness.now = .seconds(30)
        _ = harness.login("bob", "secret123")
        _ = harness.sendLine("DELE 1")
        #expect(harness.server.nextDeadline == .seconds(630))
        harness.now = .seconds(629)
        #expect(harness.timer() == "")
        harness.now = .seconds(630)
        #expect(harness.timer() == "-ERR Disconnected for inactivity.\r\n")
        #expect(harness.closed)
        #expect(harness.server.nextDeadline == nil)
        #expect(backend.boxes["bob"]?.count == 3)
        #expect(backend.locked.isEmpty)
    }

    @Test func uidlStableAcrossSessions() {
        let backend = courseMaildrop()
        var first = POP3ServerHarness(backend)
        _ = first.start()
        _ = first.login("bob", "secret123")
        let before = first.sendLine("UIDL")
        _ = first.sendLine("DELE 1")
        _ = first.sendLine("QUIT")
        var second = POP3ServerHarness(backend, sessionID: 2)
        _ = second.start()
        _ = second.login("bob", "secret123")
        let after = second.sendLine("UIDL")
        #expect(before == crlf(["+OK Unique ID listing", "1 abc123def456", "2 ghi789jkl012", "3 mno345pqr678", "."]))
        #expect(after == crlf(["+OK Unique ID listing", "1 ghi789jkl012", "2 mno345pqr678", "."]))
    }

    /// The same client octets give the same server octets whether they arrive whole or one at a
    /// time.
    @Test func byteByByteEqualsWhole() {
        let script = "CAPA\r\nUSER bob\r\nPASS secret123\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 3\r\nRETR 2\r\nDELE 2\r\n"
            + String(repeating: "X", count: 400) + "\r\nRETR 2\r\nRSET\r\nDELE 3\r\nQUIT\r\n"
        var whole = POP3ServerHarness(courseMaildrop())
        let wholeOut = whole.start() + whole.send(script)
        var bytewise = POP3ServerHarness(courseMaildrop())
        var bytewiseOut = bytewise.start()
        for byte in script.utf8 {
            bytewiseOut += bytewise.collect(bytewise.server.receive([byte], now: .zero))
        }
        #expect(wholeOut == bytewiseOut)
        #expect(wholeOut.hasSuffix("+OK POP3 server signing off (1 message deleted)\r\n"))
        #expect(whole.closed && bytewise.closed)
    }
}

/// SplitMix64, for seeded test inputs (a failing test prints its seed).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

@Suite struct POP3ServerSplitTests {
    /// The script cut at random places (seeded) gives the same replies as the script whole.
    @Test(arguments: [1, 2, 3, 42, 1939])
    func randomSplitsEqualWhole(seed: UInt64) {
        let script = Array(("CAPA\r\nUSER bob\r\nPASS secret123\r\nSTAT\r\nLIST\r\nUIDL\r\nTOP 1 3\r\nRETR 3\r\n"
            + String(repeating: "Z", count: 600) + "\r\nDELE 2\r\nNOOP\r\nQUIT\r\n").utf8)
        var whole = POP3ServerHarness(courseMaildrop())
        let expected = whole.start() + whole.send(String(decoding: script, as: UTF8.self))
        var random = TestRandom(state: seed)
        var split = POP3ServerHarness(courseMaildrop())
        var actual = split.start()
        var index = 0
        while index < script.count {
            let length = 1 + random.next(below: 40)
            let end = min(script.count, index + length)
            actual += split.collect(split.server.receive(script[index..<end], now: .zero))
            index = end
        }
        #expect(actual == expected, "seed=\(seed)")
    }

    @Test func overLongSaslResponseEndsTheExchange() {
        var harness = POP3ServerHarness(courseMaildrop())
        _ = harness.start()
        #expect(harness.sendLine("AUTH PLAIN") == "+ \r\n")
        #expect(harness.sendLine(String(repeating: "A", count: 2000)) == "-ERR Command line too long\r\n")
        #expect(harness.sendLine("CAPA").hasPrefix("+OK Capability list follows\r\n"))
        #expect(harness.login("bob", "secret123") == "+OK Logged in\r\n")
    }
}

@Suite struct POP3ServerWordingTests {
    @Test func singularAndPlural() {
        let backend = POP3InMemoryMaildrop(passwords: ["bob": "pw"], boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "u1", content: Array("Subject: x\r\n\r\nhi\r\n".utf8)),
        ]])
        var harness = POP3ServerHarness(backend)
        _ = harness.start()
        _ = harness.login("bob", "pw")
        #expect(harness.sendLine("LIST") == crlf(["+OK 1 message", "1 18", "."]))
        #expect(harness.sendLine("RSET") == "+OK maildrop has 1 message (18 octets)\r\n")
        harness.server.checkInvariants()
        _ = harness.sendLine("DELE 1")
        harness.server.checkInvariants()
        #expect(harness.sendLine("QUIT") == "+OK POP3 server signing off (1 message deleted)\r\n")
    }
}
