import Testing
import MailCore
@testable import MailAgents

/// Inputs found by the `engines` libFuzzer target (`scripts/fuzz engines`, Fuzz/crashes/engines-*)
/// and what the server engines must do with them now.
@Suite struct EngineFuzzFindingsTests {
    static func store() throws -> MailStore {
        let store = MailStore()
        try store.addUser("bob", password: "secret123", addresses: ["bob@example.com"])
        _ = try store.deliver(to: "bob", bytes: Array("Subject: hi\r\n\r\nHi Bob.\r\n".utf8), internalDate: imapCourseNow)
        return store
    }

    /// Every line the server wrote is a whole response line: untagged, a continuation or tagged,
    /// with no CR or LF inside it.
    static func expectResponseLines(_ output: String, tags: Set<String>) {
        #expect(output.hasSuffix("\r\n"))
        for line in output.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast() {
            #expect(!line.contains("\r") && !line.contains("\n"), "\(line.debugDescription)")
            let tag = String(line.prefix { $0 != " " })
            #expect(tag == "*" || tag == "+" || tags.contains(tag), "\(line.debugDescription)")
        }
    }

    /// engines-crash-b940b44d: `a1 LOGIN {3}` followed by a bare CR (not a literal, the line goes
    /// on) was refused with `a1 BAD Expected '<LF>'.`, the LF itself in the text: the client read
    /// a response line `'.` with no tag. The parser now names CR and LF.
    @Test(arguments: ["a1 LOGIN {3}\rXT]<0.10>)\r\n", "a1 LOGIN {3}X\r\n", "a1 LOGIN bob {9}\rsecret123\r\n",
                      "a1 APPEND INBOX {3}\r\r\n"])
    func literalWithoutCRLFIsRefusedOnOneLine(_ input: String) throws {
        let session = IMAPTestSession(try Self.store())
        session.greet()
        let output = session.raw(Array(input.utf8))
        Self.expectResponseLines(output, tags: ["a1"])
        #expect(output.hasPrefix("a1 BAD") || output.hasPrefix("a1 NO"), "\(output.debugDescription)")
    }

    /// An account without a quota (as the accounts of `serve`) copied its INBOX onto itself: each
    /// `COPY 1:* INBOX` doubled it, and 22 commands (492 octets, the `engines` target's seed
    /// that went over its 5-second timeout) made 4 million messages. The store now holds at most
    /// `messageLimit` messages in an account without a message quota; more is `NO [OVERQUOTA]`.
    @Test func copyingAMailboxOntoItselfStopsAtTheMessageLimit() throws {
        let store = try Self.store()
        store.messageLimit = 32
        let session = IMAPTestSession(store)
        session.greet()
        session.send("a1 LOGIN bob secret123")
        session.send("a2 SELECT INBOX")
        var replies: [String] = []
        for n in 3..<13 { replies.append(session.send("a\(n) COPY 1:* INBOX")) }
        #expect(try store.messageQuota("bob").used == 32)
        #expect(replies[0].contains("a3 OK"))
        #expect(replies.last?.contains("a12 NO [OVERQUOTA]") == true, "\(replies.last ?? "")")
        // Mail delivered to the full account waits: a temporary failure, 452 4.2.2 at the MTA.
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) {
            try store.deliver(to: "bob", bytes: Array("Subject: x\r\n\r\nx\r\n".utf8), internalDate: imapCourseNow)
        }
        #expect(MailStore().messageLimit == 100_000)
    }

    /// An account's own message quota replaces the store's limit, higher or lower.
    @Test func messageQuotaReplacesTheLimit() throws {
        let store = try Self.store()
        store.messageLimit = 2
        try store.setQuota("bob", messages: 3)
        _ = try store.deliver(to: "bob", bytes: Array("Subject: 2\r\n\r\n".utf8), internalDate: imapCourseNow)
        _ = try store.deliver(to: "bob", bytes: Array("Subject: 3\r\n\r\n".utf8), internalDate: imapCourseNow)
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) {
            try store.deliver(to: "bob", bytes: Array("Subject: 4\r\n\r\n".utf8), internalDate: imapCourseNow)
        }
    }

    /// The fuzzer's input itself, fed as it was (bytes above 0x7F, pipelined commands).
    @Test func crashInputGetsWholeLines() throws {
        let input: [UInt8] = Array("a1 LOGIN {3}\rXT]<0.10>)\r\na4 ".utf8) + [0xFF, 0xFF, 0xFF]
            + Array(".SOR".utf8) + [0xAC] + Array(" (SUBJECT) UTF-8 ALL\r\na5 COPYa6 UID SEARCH RY[1] BODY[TEXT]<0.1".utf8)
            + [0x18] + Array(">)\r\na5 CCOUNOUT\r\n".utf8)
        let session = IMAPTestSession(try Self.store())
        session.greet()
        Self.expectResponseLines(session.raw(input), tags: ["a1", "a4", "a5"])
    }
}
