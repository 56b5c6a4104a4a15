import Testing
import MailCore
@testable import MailAgents

/// What real clients (Thunderbird's quick filter, mutt's `~s`, python imaplib) found against
/// `maillab serve`, pinned as transcripts of the engine over the store.
@Suite struct RealClientIMAPFindingsTests {
    static func store() throws -> MailStore {
        let store = MailStore(now: IMAPDate(secondsSince1970: 1_700_000_000))
        try store.addUser("bob", password: "pw")
        let encoded = "From: =?utf-8?q?Zo=C3=A9_Martin?= <zoe@example.com>\r\nTo: bob@company.org\r\nSubject: =?utf-8?q?caf=C3=A9?= latte\r\n\r\nhello\r\n"
        let plain = "From: Dave <dave@y.org>\r\nTo: bob@company.org\r\nSubject: Lunch\r\n\r\nPizza?\r\n"
        let latin1 = "From: =?ISO-8859-1?B?SGVsZW5l?= <h@z.org>\r\nTo: bob@company.org\r\nSubject: =?ISO-8859-1?Q?R=E9union_demain?=\r\n\r\nx\r\n"
        for m in [encoded, plain, latin1] { _ = try store.deliver(to: "bob", bytes: Array(m.utf8), internalDate: IMAPDate(year: 2024, month: 12, day: 2, hour: 9)!) }
        return store
    }

    func search(_ criteria: [UInt8]) throws -> String {
        let s = IMAPTestSession(try Self.store())
        s.send("a LOGIN bob pw")
        s.send("b SELECT INBOX")
        return s.raw(Array("c SEARCH ".utf8) + criteria + [13, 10])
    }

    /// `SEARCH CHARSET UTF-8 SUBJECT café` finds a subject written as RFC 2047 encoded words
    /// (Dovecot decodes them before matching; a raw match found nothing).
    @Test func subjectMatchesDecodedEncodedWords() throws {
        let literal = Array("CHARSET UTF-8 SUBJECT {5+}\r\ncaf".utf8) + [0xC3, 0xA9]
        #expect(try search(literal) == "* SEARCH 1\r\nc OK SEARCH completed\r\n")
        // Beyond ASCII the comparison ignores case too.
        let upper = Array("CHARSET UTF-8 SUBJECT {5+}\r\nCAF".utf8) + [0xC3, 0x89]
        #expect(try search(upper) == "* SEARCH 1\r\nc OK SEARCH completed\r\n")
        // ISO-8859-1 Q-encoding: "Réunion".
        let reunion = Array("CHARSET UTF-8 SUBJECT {8+}\r\nR".utf8) + [0xC3, 0xA9] + Array("union".utf8)
        #expect(try search(reunion) == "* SEARCH 3\r\nc OK SEARCH completed\r\n")
        // The raw form still matches, and plain subjects are unchanged.
        #expect(try search(Array("SUBJECT latte".utf8)) == "* SEARCH 1\r\nc OK SEARCH completed\r\n")
        #expect(try search(Array("SUBJECT lunch".utf8)) == "* SEARCH 2\r\nc OK SEARCH completed\r\n")
    }

    /// FROM matches the display name decoded (`Zoé`), and HEADER does the same for any field.
    @Test func fromAndHeaderMatchDecodedNames() throws {
        let zoe = Array("CHARSET UTF-8 FROM {4+}\r\nZo".utf8) + [0xC3, 0xA9]
        #expect(try search(zoe) == "* SEARCH 1\r\nc OK SEARCH completed\r\n")
        #expect(try search(Array("FROM helene".utf8)) == "* SEARCH 3\r\nc OK SEARCH completed\r\n")
        let header = Array("CHARSET UTF-8 HEADER Subject {7+}\r\nr".utf8) + [0xC3, 0xA9] + Array("unio".utf8)
        #expect(try search(header) == "* SEARCH 3\r\nc OK SEARCH completed\r\n")
    }

    /// imaptest's `expunge` script: another session expunged message 2, which this session was
    /// not told yet (EXPUNGE may not be sent during FETCH): FETCH UID/FLAGS still answers from
    /// the session's view, as Dovecot does; the message's bytes are gone, so a body FETCH ends
    /// in `NO [EXPUNGEISSUED]` (RFC 5530) after the data of the others; a UID command then tells.
    @Test func fetchOfAMessageExpungedElsewhere() throws {
        let store = try Self.store()
        let a = IMAPTestSession(store), b = IMAPTestSession(store)
        for s in [a, b] { s.send("l LOGIN bob pw"); s.send("s SELECT INBOX") }
        a.send("f FETCH 2 FLAGS")
        b.send("b1 STORE 2 +FLAGS (\\Deleted)")
        #expect(b.send("b2 EXPUNGE") == "* 2 EXPUNGE\r\nb2 OK EXPUNGE completed\r\n")
        #expect(a.send("c1 FETCH 2 UID") == "* 2 FETCH (UID 2)\r\nc1 OK FETCH completed\r\n")
        let body = a.send("c2 FETCH 1:3 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
        #expect(body.hasPrefix("* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {"), "\(body)")
        #expect(!body.contains("* 2 FETCH"), "\(body)")
        #expect(body.contains("* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {"), "\(body)")
        #expect(body.hasSuffix("c2 NO [EXPUNGEISSUED] Some of the requested messages no longer exist.\r\n"), "\(body)")
        // A UID command may carry the EXPUNGE (§7.4.1 forbids it only for FETCH, STORE, SEARCH).
        #expect(a.send("c3 UID FETCH 2 (UID FLAGS)")
                == "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n* 2 EXPUNGE\r\nc3 OK UID FETCH completed\r\n")
        #expect(a.send("n NOOP") == "n OK NOOP completed\r\n")
    }
}
