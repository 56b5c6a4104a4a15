import Testing
@testable import MailCore

/// The server engines report the end of every reply and what they wait for next
/// (`ServerReply`), so that nobody above them re-reads reply text. Each row feeds a server its
/// client's bytes ONE OCTET AT A TIME and compares the replies reported, in order: their status,
/// code and what the server awaits, and that each `end` falls exactly after the reply's last line
/// in what the server wrote.
struct ReplyRow: CustomStringConvertible, Sendable {
    var name: String
    var input: [String]
    /// TLS is established after this many input lines (the engine is told at that point).
    var tlsAfter: Int? = nil
    var expected: [Expected]
    var description: String { name }

    struct Expected: Equatable, CustomStringConvertible, Sendable {
        var code: String
        var status: ServerReply.Status
        var awaiting: ServerAwaits
        var description: String { "\(code) \(status) → \(awaiting)" }
        init(_ code: String, _ status: ServerReply.Status, _ awaiting: ServerAwaits) {
            self.code = code
            self.status = status
            self.awaiting = awaiting
        }
    }
}

/// Checks that every reply's `end` is a line end in `written` and that the line ending there
/// starts as the reply's code says (SMTP `250 `, POP3 `+OK`, IMAP `tag OK`); returns the rows.
func checkEnds(_ replies: [ServerReply], in written: [UInt8], lineStarts: (ServerReply, String) -> Bool,
               sourceLocation: SourceLocation = #_sourceLocation) {
    var previous = 0
    for reply in replies {
        #expect(reply.end > previous && reply.end <= written.count, "\(reply)", sourceLocation: sourceLocation)
        guard reply.end > previous, reply.end <= written.count else { return }
        #expect(Array(written[reply.end - 2..<reply.end]) == [13, 10], "\(reply) does not end a line", sourceLocation: sourceLocation)
        let body = written[..<(reply.end - 2)]
        let start = body.lastIndex(of: 10).map { $0 + 1 } ?? 0
        let line = String(decoding: written[start..<(reply.end - 2)], as: UTF8.self)
        #expect(lineStarts(reply, line), "\(reply) ends at '\(line)'", sourceLocation: sourceLocation)
        previous = reply.end
    }
}

@Suite struct SMTPServerReplyTests {
    static let plain = "AGFsaWNlAG15cGFzc3dvcmQ="  // \0alice\0mypassword

    static let rows: [ReplyRow] = [
        ReplyRow(name: "submission on 465: AUTH LOGIN over two continuations, a message, QUIT",
                 input: ["EHLO pc", "AUTH LOGIN", "YWxpY2U=", "bXlwYXNzd29yZA==", "MAIL FROM:<alice@example.com>",
                         "RCPT TO:<bob@example.com>", "DATA", "Subject: t", "", "..a dot line", ".", "QUIT"],
                 expected: [.init("220", .positive, .command), .init("250", .positive, .command),
                            .init("334", .continuation, .saslResponse), .init("334", .continuation, .saslResponse),
                            .init("235", .positive, .command), .init("250", .positive, .command),
                            .init("250", .positive, .command), .init("354", .continuation, .messageData),
                            .init("250", .positive, .command), .init("221", .positive, .nothing)]),
        ReplyRow(name: "relay: STARTTLS awaits the handshake, then EHLO again; errors are negative",
                 input: ["EHLO x", "STARTTLS", "EHLO x", "hello", "RCPT TO:<bob@example.com>", "AUTH PLAIN"], tlsAfter: 2,
                 expected: [.init("220", .positive, .command), .init("250", .positive, .command),
                            .init("220", .positive, .tlsHandshake), .init("250", .positive, .command),
                            .init("502", .negative, .command), .init("503", .negative, .command),
                            .init("334", .continuation, .saslResponse)]),
        ReplyRow(name: "submission on 465: AUTH PLAIN without initial response, a wrong password answered after its delay",
                 input: ["EHLO pc", "AUTH PLAIN", "AGFsaWNlAHdyb25n", "AUTH PLAIN \(plain)", "RSET"],
                 expected: [.init("220", .positive, .command), .init("250", .positive, .command),
                            .init("334", .continuation, .saslResponse), .init("535", .negative, .command),
                            .init("235", .positive, .command), .init("250", .positive, .command)]),
    ]

    @Test(arguments: rows)
    func repliesFedOctetByOctet(_ row: ReplyRow) {
        let configuration: SMTPServerConfiguration = row.name.hasPrefix("relay")
            ? .relay(hostname: "mail.example.com") : .implicitTLS(hostname: "mail.example.com")
        var server = makeServer(configuration)
        var actions: [SMTPServerAction] = []
        var now: Duration = .seconds(1)
        var replies: [ServerReply] = []
        server.start(now: now, into: &actions)
        replies += server.takeReplies()
        for (index, line) in row.input.enumerated() {
            for byte in Array((line + "\r\n").utf8) {
                server.receive([byte], now: now, into: &actions)
                replies += server.takeReplies()
            }
            while let hold = server.holdUntil {
                now = hold
                server.timerFired(now: now, into: &actions)
                replies += server.takeReplies()
            }
            if row.tlsAfter == index + 1 {
                server.tlsEstablished(now: now, into: &actions)
                replies += server.takeReplies()
            }
        }
        let written = actions.flatMap { action -> [UInt8] in if case .send(let bytes) = action { bytes } else { [] } }
        #expect(replies.map { .init($0.code, $0.status, $0.awaiting) } == row.expected, "\(row.name)")
        checkEnds(replies, in: written) { reply, line in line.hasPrefix(reply.code + " ") }
        #expect(replies.last?.end == written.count)
    }

    /// Pipelined commands in one write: one report per reply, each at its own line end.
    @Test func pipelinedCommandsReportEachReply() {
        var server = makeServer(.relay(hostname: "mail.example.com"))
        var actions: [SMTPServerAction] = []
        server.start(now: .seconds(1), into: &actions)
        server.receive(Array("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nhi\r\n.\r\n".utf8),
                       now: .seconds(1), into: &actions)
        let replies = server.takeReplies()
        let written = actions.flatMap { action -> [UInt8] in if case .send(let bytes) = action { bytes } else { [] } }
        #expect(replies.map(\.code) == ["220", "250", "250", "250", "354", "250"])
        #expect(replies.map(\.awaiting) == [.command, .command, .command, .command, .messageData, .command])
        checkEnds(replies, in: written) { reply, line in line.hasPrefix(reply.code + " ") }
    }

    /// An idle session's 421 is a reply after which the server awaits nothing.
    @Test func timeoutAwaitsNothing() {
        var server = makeServer(.relay(hostname: "mail.example.com"))
        var actions: [SMTPServerAction] = []
        server.start(now: .seconds(1), into: &actions)
        _ = server.takeReplies()
        server.timerFired(now: .seconds(10_000), into: &actions)
        let replies = server.takeReplies()
        #expect(replies.map { .init($0.code, $0.status, $0.awaiting) } == [ReplyRow.Expected("421", .negative, .nothing)])
    }
}

@Suite struct POP3ServerReplyTests {
    static let rows: [ReplyRow] = [
        ReplyRow(name: "multi-line replies end after their dot; QUIT awaits nothing",
                 input: ["CAPA", "USER bob", "PASS secret123", "LIST", "RETR 1", "TOP 2 0", "STAT", "RETR 9", "QUIT"],
                 expected: [.init("+OK", .positive, .command), .init("+OK", .positive, .command), .init("+OK", .positive, .command),
                            .init("+OK", .positive, .command), .init("+OK", .positive, .command), .init("+OK", .positive, .command),
                            .init("+OK", .positive, .command), .init("+OK", .positive, .command), .init("-ERR", .negative, .command),
                            .init("+OK", .positive, .nothing)]),
        ReplyRow(name: "AUTH PLAIN without initial response: a continuation that awaits the SASL response",
                 input: ["AUTH PLAIN", "AGJvYgBzZWNyZXQxMjM=", "NOOP"],
                 expected: [.init("+OK", .positive, .command), .init("+", .continuation, .saslResponse),
                            .init("+OK", .positive, .command), .init("+OK", .positive, .command)]),
        ReplyRow(name: "STLS awaits the handshake; a failed login is answered after its delay",
                 input: ["STLS", "USER bob", "PASS nope", "USER bob", "PASS secret123"], tlsAfter: 1,
                 expected: [.init("+OK", .positive, .command), .init("+OK", .positive, .tlsHandshake),
                            .init("+OK", .positive, .command), .init("-ERR", .negative, .command),
                            .init("+OK", .positive, .command), .init("+OK", .positive, .command)]),
    ]

    @Test(arguments: rows)
    func repliesFedOctetByOctet(_ row: ReplyRow) {
        var server = POP3Server(configuration: .init(hostname: "mail1.company.org"), backend: POP3ServerFactTests.maildrop(),
                                sessionID: 1)
        var now: Duration = .seconds(1)
        var actions = server.start(now: now)
        var replies = server.takeReplies()
        for (index, line) in row.input.enumerated() {
            for byte in Array((line + "\r\n").utf8) {
                actions += server.receive([byte], now: now)
                replies += server.takeReplies()
            }
            while let hold = server.holdUntil {
                now = hold
                actions += server.timerFired(now: now)
                replies += server.takeReplies()
            }
            if row.tlsAfter == index + 1 {
                actions += server.tlsEstablished(now: now)
                replies += server.takeReplies()
            }
        }
        let written = actions.flatMap { action -> [UInt8] in if case .send(let bytes) = action { bytes } else { [] } }
        #expect(replies.map { .init($0.code, $0.status, $0.awaiting) } == row.expected, "\(row.name)")
        // A multi-line reply ends at its dot, a one-line reply at its status line.
        checkEnds(replies, in: written) { reply, line in line == "." || line.hasPrefix(reply.code) }
        #expect(replies.last?.end == written.count)
    }
}
