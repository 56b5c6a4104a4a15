import Testing
import MailCore
@testable import MailAgents

/// The IMAP server reports the end of every reply and what it waits for next (`ServerReply`):
/// each row feeds the course store's server a client's bytes ONE OCTET AT A TIME and compares the
/// replies reported (code, status, what the server awaits) and the line each one ends on.
@Suite struct StoreIMAPReplyTests {
    struct Row: CustomStringConvertible, Sendable {
        var name: String
        var input: [String]
        var tlsAfter: Int? = nil
        var configuration: IMAPServerConfiguration = .plaintextAllowed
        /// `code awaiting | the line the reply ends on`.
        var expected: [String]
        var description: String { name }
    }

    static let rows: [Row] = [
        Row(name: "greeting, LOGIN, SELECT, IDLE awaits DONE, a BAD, LOGOUT's BYE then OK",
            input: ["a LOGIN bob secret123", "b SELECT INBOX", "c IDLE", "DONE", "d FOO", "e LOGOUT"],
            expected: ["* OK command | * OK [CAPABILITY", "OK command | a OK", "OK command | b OK", "+ idleDone | + idling",
                       "OK command | c OK IDLE terminated", "BAD command | d BAD", "* BYE nothing | * BYE",
                       "OK nothing | e OK LOGOUT completed"]),
        Row(name: "a synchronising literal awaits its octets; SEARCH by UID; NO for a missing mailbox",
            input: ["a LOGIN bob {9}", "secret123", "b SELECT Nowhere", "c EXAMINE INBOX", "d UID SEARCH ALL"],
            expected: ["* OK command | * OK [CAPABILITY", "+ literal | + OK", "OK command | a OK", "NO command | b NO",
                       "OK command | c OK", "OK command | d OK"]),
        Row(name: "AUTHENTICATE PLAIN awaits the SASL response",
            input: ["a AUTHENTICATE PLAIN", "AGJvYgBzZWNyZXQxMjM=", "b NOOP"],
            expected: ["* OK command | * OK [CAPABILITY", "+ saslResponse | + ", "OK command | a OK", "OK command | b OK"]),
        Row(name: "STARTTLS awaits the handshake, then the session goes on",
            input: ["a STARTTLS", "b CAPABILITY"], tlsAfter: 1, configuration: IMAPServerConfiguration(),
            expected: ["* OK command | * OK [CAPABILITY", "OK tlsHandshake | a OK Begin TLS", "OK command | b OK"]),
    ]

    @Test(arguments: rows)
    func repliesFedOctetByOctet(_ row: Row) throws {
        let session = IMAPTestSession(try imapCourseStore(), configuration: row.configuration)
        var written: [UInt8] = []
        func take(_ actions: [IMAPServerAction]) {
            for case .send(let bytes) in actions { written += bytes }
        }
        take(session.server.start(now: session.now.engineTime))
        var replies = session.server.takeReplies()
        for (index, line) in row.input.enumerated() {
            for byte in Array((line + "\r\n").utf8) {
                take(session.server.receive([byte], now: session.now.engineTime))
                replies += session.server.takeReplies()
            }
            if row.tlsAfter == index + 1 {
                take(session.server.tlsEstablished(now: session.now.engineTime))
                replies += session.server.takeReplies()
            }
        }
        let shown = replies.map { reply -> String in
            // The line the reply ends on: the bytes before `end` back to the previous line feed.
            guard reply.end >= 2, reply.end <= written.count, written[reply.end - 2] == 13, written[reply.end - 1] == 10 else {
                return "\(reply.code) \(reply.awaiting) | (not at a line end)"
            }
            let start = written[..<(reply.end - 2)].lastIndex(of: 10).map { $0 + 1 } ?? 0
            return "\(reply.code) \(reply.awaiting) | " + String(decoding: written[start..<(reply.end - 2)], as: UTF8.self)
        }
        #expect(shown.count == row.expected.count, "\(shown)")
        for (got, want) in zip(shown, row.expected) {
            #expect(got.hasPrefix(want), "\(row.name): \(got) is not \(want)")
        }
        #expect(replies.last?.end == written.count)
    }

    /// What the server pushes during IDLE answers nothing: an update, named by its first words.
    @Test func idlePushesAreNoReplies() throws {
        let store = try imapCourseStore()
        let session = IMAPTestSession(store)
        session.greet()
        session.send("a LOGIN bob secret123")
        session.send("b SELECT INBOX")
        session.send("c IDLE")
        _ = session.server.takeReplies()
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "New", id: "n1"), internalDate: imapCourseNow)
        let pushed = session.changed()
        #expect(pushed.contains("EXISTS"))
        let replies = session.server.takeReplies()
        #expect(replies.map(\.status) == [.update] && replies.first?.awaiting == .idleDone, "\(replies)")
        #expect(replies.first?.code.hasPrefix("* ") == true)
    }
}
