import Testing
import MailCore
@testable import MailAgents

/// Seeded garbage never crashes the server, and afterwards a fresh command still gets an answer
/// unless the session was closed for too many invalid commands.
@Suite struct StoreIMAPRobustnessTests {
    @Test func tooManyInvalidCommandsCloseTheSession() throws {
        let s = IMAPTestSession(try imapCourseStore())
        s.greet()
        var last = ""
        for i in 1...20 { last = s.send("x\(i) BOGUS") }
        #expect(last == "x20 BAD Unknown command.\r\n* BYE Too many invalid IMAP commands.\r\n")
        #expect(s.closed)
        #expect(s.send("y NOOP") == "")
    }

    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces: [String] = [
        "a ", "b UID ", "FETCH ", "SEARCH ", "STORE ", "SELECT ", "APPEND ", "IDLE", "DONE", "LOGIN bob secret123",
        "1:*", "0", "*", ",", ":", "(", ")", "[", "]", "<", ">", "\"", "\\", "{", "}", "{5}", "{3+}", "{99999999999}",
        "BODY[", "HEADER.FIELDS (", "NOT ", "OR ", "INBOX", "&AOk-", "&", "\r\n", "\r\n", "\r\n", "\n", "\u{0}", "é",
        " ", "FLAGS", "+FLAGS.SILENT", "ENVELOPE", "BODYSTRUCTURE", "UID", "SINCE 1-Jan-2020", "LARGER 99999999999",
    ]

    @Test(arguments: [1, 2, 3, 42, 1234, 99_999] as [UInt64])
    func garbageNeverCrashes(seed: UInt64) throws {
        var rng = SplitMix(state: seed)
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        for _ in 0..<400 {
            var chunk = ""
            for _ in 0..<(1 + Int(rng.next() % 8)) { chunk += Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))] }
            _ = s.raw(Array(chunk.utf8))
            if s.closed { break }
        }
        #expect(store.checkInvariants() == [], "seed=\(seed)")
        if !s.closed {
            // Finish whatever was pending (IDLE, AUTHENTICATE, a literal), then check liveness.
            _ = s.raw(Array(String(repeating: "x", count: 64).utf8) + Array("\r\nDONE\r\n".utf8))
            let out = s.send("zz NOOP")
            #expect(out.contains("zz ") || s.closed || s.server.isIdling, "seed=\(seed)")
        }
    }
}
