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
