import Testing
@testable import MailCore

@Suite struct POP3CommandParsingTests {
    static let valid: [(String, POP3Command)] = [
        ("USER bob", .user("bob")),
        ("user bob", .user("bob")),
        ("PASS secret123", .pass("secret123")),
        ("PASS my secret", .pass("my secret")),
        ("APOP mrose c4c9334bac560ecc979e58001b3e22fb", .apop(name: "mrose", digest: "c4c9334bac560ecc979e58001b3e22fb")),
        ("APOP mrose C4C9334BAC560ECC979E58001B3E22FB", .apop(name: "mrose", digest: "c4c9334bac560ecc979e58001b3e22fb")),
        ("AUTH", .auth(mechanism: nil, initialResponse: nil)),
        ("AUTH plain", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("AUTH PLAIN AGJvYgBzZWNyZXQxMjM=", .auth(mechanism: "PLAIN", initialResponse: "AGJvYgBzZWNyZXQxMjM=")),
        ("STAT", .stat),
        ("LIST", .list(nil)),
        ("LIST 2", .list(2)),
        ("RETR 1", .retr(1)),
        ("DELE 12", .dele(12)),
        ("NOOP", .noop),
        ("RSET", .rset),
        ("TOP 1 10", .top(message: 1, lines: 10)),
        ("TOP 3 0", .top(message: 3, lines: 0)),
        ("UIDL", .uidl(nil)),
        ("UIDL 3", .uidl(3)),
        ("CAPA", .capa),
        ("stls", .stls),
        ("QUIT", .quit),
    ]

    @Test(arguments: valid)
    func parses(line: String, command: POP3Command) {
        #expect(POP3Command.parse(line: Array(line.utf8)) == .success(command))
    }

    @Test(arguments: valid.map(\.1))
    func roundTrips(command: POP3Command) {
        #expect(POP3Command.parse(line: Array(command.line.utf8)) == .success(command))
        #expect(command.encoded == Array((command.line + "\r\n").utf8))
    }

    static let invalid: [(String, POP3CommandParseError)] = [
        ("", .empty),
        (" ", .empty),
        ("FOO", .unknownCommand(keyword: "FOO")),
        ("RETR", .missingArgument(keyword: "RETR")),
        ("RETR 0", .invalidArgument(keyword: "RETR")),
        ("RETR x", .invalidArgument(keyword: "RETR")),
        ("RETR -1", .invalidArgument(keyword: "RETR")),
        ("RETR 1234567890", .invalidArgument(keyword: "RETR")),
        ("RETR 1 2", .tooManyArguments(keyword: "RETR")),
        ("STAT 1", .tooManyArguments(keyword: "STAT")),
        ("TOP 1", .missingArgument(keyword: "TOP")),
        ("TOP 1 x", .invalidArgument(keyword: "TOP")),
        ("USER", .missingArgument(keyword: "USER")),
        ("USER a b", .tooManyArguments(keyword: "USER")),
        ("PASS", .missingArgument(keyword: "PASS")),
        ("APOP mrose", .missingArgument(keyword: "APOP")),
        ("APOP mrose xyz", .invalidArgument(keyword: "APOP")),
        ("USER b\u{0}b", .invalidOctets),
        ("USER b\u{e9}", .invalidOctets),
    ]

    @Test(arguments: invalid)
    func refuses(line: String, error: POP3CommandParseError) {
        #expect(POP3Command.parse(line: Array(line.utf8)) == .failure(error))
    }

    @Test func redactsSecrets() {
        #expect(POP3Command.pass("secret123").redactedLine == "PASS ********")
        #expect(!POP3Command.apop(name: "bob", digest: "c4c9334bac560ecc979e58001b3e22fb").redactedLine.contains("c4c9"))
        #expect(POP3Command.auth(mechanism: "PLAIN", initialResponse: "AGJvYgA=").redactedLine == "AUTH PLAIN ********")
    }
}

@Suite struct POP3ResponseParsingTests {
    static let table: [(String, POP3Response?)] = [
        ("+OK", .ok()),
        ("+OK Logged in", .ok("Logged in")),
        ("+OK 3 12345", .ok("3 12345")),
        ("-ERR No such message", .err("No such message")),
        ("-ERR [IN-USE] Mailbox is locked by another session", .err(.inUse, "Mailbox is locked by another session")),
        ("-ERR [AUTH] Authentication failed.", .err(.auth, "Authentication failed.")),
        ("-ERR [SYS/TEMP] Try later", .err(.sysTemp, "Try later")),
        ("-ERR [SYS/PERM] No", .err(.sysPerm, "No")),
        ("-ERR [LOGIN-DELAY] Wait", .err(.loginDelay, "Wait")),
        ("-ERR [FOO/BAR] x", .err(.other("FOO/BAR"), "x")),
        ("+ ", POP3Response(.continuation, "")),
        ("+ dGVzdA==", POP3Response(.continuation, "dGVzdA==")),
        ("+OKAY", nil),
        ("OK", nil),
        ("", nil),
    ]

    @Test(arguments: table)
    func parses(line: String, response: POP3Response?) {
        #expect(POP3Response.parse(line: Array(line.utf8)) == response)
    }

    @Test(arguments: table.compactMap { $0.1 == nil ? nil : $0 })
    func encodes(line: String, response: POP3Response?) {
        #expect(response?.line == line)
    }

    @Test func listings() {
        #expect(POP3ScanListing.parse("2 3500") == POP3ScanListing(message: 2, size: 3500))
        #expect(POP3ScanListing.parse("x 3500") == nil)
        #expect(POP3UniqueIDListing.parse("1 abc123def456") == POP3UniqueIDListing(message: 1, uniqueID: "abc123def456"))
        #expect(POP3UniqueIDListing.parse("1 " + String(repeating: "u", count: 71)) == nil)
        #expect(POP3UniqueIDListing.parse("1") == nil)
    }
}

@Suite struct POP3WireTests {
    @Test func framerSplitsAndLimits() {
        var framer = POP3LineFramer(limit: 10)
        #expect(framer.append(Array("NOOP\r\nST".utf8)) == [.line(Array("NOOP".utf8))])
        #expect(framer.append(Array("AT\n".utf8)) == [.line(Array("STAT".utf8))])
        // 8 octets + CRLF = 10 octets: accepted; 9 + CRLF: too long.
        #expect(framer.append(Array("12345678\r\n".utf8)) == [.line(Array("12345678".utf8))])
        #expect(framer.append(Array("123456789\r\n".utf8)) == [.tooLong])
        #expect(framer.append(Array(repeating: UInt8(0x41), count: 5000)) == [])
        #expect(framer.bufferedCount == 0)
        #expect(framer.append(Array("\r\nQUIT\r\n".utf8)) == [.tooLong, .line(Array("QUIT".utf8))])
    }

    @Test(arguments: [
        ("a\nb", "a\r\nb\r\n"),
        ("a\r\nb\r\n", "a\r\nb\r\n"),
        ("a\rb\r", "a\r\nb\r\n"),
        ("a\r\r\nb", "a\r\n\r\nb\r\n"),
        ("", ""),
    ])
    func canonicalLines(input: String, expected: String) {
        #expect(String(decoding: POP3Text.canonicalLines(Array(input.utf8)), as: UTF8.self) == expected)
    }

    @Test func dotStuffing() {
        let body = POP3Text.multiLineBody(strings: [".hidden", "..two", ".", "plain", ""])
        #expect(String(decoding: body, as: UTF8.self) == "..hidden\r\n...two\r\n..\r\nplain\r\n\r\n.\r\n")
    }

    /// The limit counts the octets received, line ending included: with CRLF a line holds
    /// `limit - 2` octets, with a bare LF `limit - 1` (the shared ``LineFramer`` rule).
    @Test func framerLimitCountsTheLineEndingAsReceived() {
        var framer = POP3LineFramer(limit: 10)
        #expect(framer.append(Array("123456789\n".utf8)) == [.line(Array("123456789".utf8))])
        #expect(framer.append(Array("1234567890\n".utf8)) == [.tooLong])
        #expect(framer.append(Array("123456789\r\n".utf8)) == [.tooLong])
        // The limit can change between chunks (a SASL response line is longer than a command).
        framer.limit = 12
        #expect(framer.append(Array("123456789\r\n".utf8)) == [.line(Array("123456789".utf8))])
        #expect(framer.append(Array("ab".utf8)) == [])
        #expect(framer.bufferedCount == 2)
        framer.reset()
        #expect(framer.bufferedCount == 0)
        #expect(framer.append(Array("c\r\n".utf8)) == [.line(Array("c".utf8))])
    }

    @Test func apopDigestFromRFC1939() {
        #expect(POP3Text.md5Hex("<1896.697170952@dbc.mtview.ca.us>tanstaaf") == "c4c9334bac560ecc979e58001b3e22fb")
    }
}
