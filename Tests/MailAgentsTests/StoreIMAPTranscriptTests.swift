import Testing
import MailCore
@testable import MailAgents

@Suite struct StoreIMAPTranscriptTests {
    /// The course's session (LOGIN, LIST, SELECT, SEARCH, FETCH, STORE, COPY, LOGOUT) against the real store.
    @Test func courseSession() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        #expect(s.greet() == "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE ESEARCH SORT STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot ready.\r\n")
        #expect(imapLines(s.send("A003 LOGIN bob secret123")) == [
            "A003 OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE ESEARCH SORT] Logged in"])
        #expect(imapLines(s.send("A004 LIST \"\" \"*\"")) == [
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasChildren) \".\" Work",
            "* LIST (\\HasNoChildren) \".\" Work.Projects",
            "A004 OK LIST completed"])
        #expect(imapLines(s.send("A005 SELECT INBOX")) == [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
            "* 3 EXISTS",
            "* 1 RECENT",
            "* OK [UNSEEN 2] First unseen message",
            "* OK [UIDVALIDITY 1234567890] UIDs valid",
            "* OK [UIDNEXT 4] Predicted next UID",
            "A005 OK [READ-WRITE] SELECT completed"])
        #expect(imapLines(s.send("A006 SEARCH UNSEEN")) == ["* SEARCH 2 3", "A006 OK SEARCH completed"])
        let header = Array(imapCourseMessage().prefix { _ in true })
        let headerEnd = try #require(firstBlankLine(header))
        let headerText = String(decoding: header[0..<headerEnd], as: UTF8.self)
        let fetched = s.send("A007 FETCH 3 (FLAGS BODY[HEADER])")
        // The course shows FLAGS (\Recent) here, but RFC 3501 §6.4.5 says BODY[HEADER] (not .PEEK) sets \Seen.
        #expect(fetched == "* 3 FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER] {\(headerEnd)}\r\n\(headerText))\r\nA007 OK FETCH completed\r\n")
        #expect(imapLines(s.send("A009 STORE 3 +FLAGS (\\Seen)")) == ["* 3 FETCH (FLAGS (\\Seen \\Recent))", "A009 OK STORE completed"])
        #expect(imapLines(s.send("A010 COPY 3 Work.Projects")) == ["A010 OK [COPYUID 1234567895 3 1] COPY completed"])
        #expect(imapLines(s.send("A011 LOGOUT")) == ["* BYE IMAP4rev1 Server logging out", "A011 OK LOGOUT completed"])
        #expect(s.closed)
        #expect(try store.messages(user: "bob", mailbox: "Work.Projects").map(\.flags) == [[.seen]])
    }

    func firstBlankLine(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A { return i + 4 }
        return nil
    }

    @Test func fetchBodyTextSetsSeenButPeekDoesNot() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        let peek = s.send("c FETCH 2 (BODY.PEEK[TEXT])")
        #expect(!peek.contains("FLAGS"))
        #expect(try store.messages(user: "bob")[1].flags == [])
        let full = s.send("d FETCH 2 BODY[TEXT]")
        #expect(full.hasPrefix("* 2 FETCH (BODY[TEXT] {"))
        #expect(full.contains("FLAGS (\\Seen)"))
        #expect(try store.messages(user: "bob")[1].flags == [.seen])
    }

    @Test func uidFetchEnvelopeAndStructure() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        let out = s.send("c UID FETCH 3 (ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE)")
        let size = imapCourseMessage().count
        let subject = Array("Urgent - Réunion".utf8)
        #expect(out == "* 3 FETCH (UID 3 ENVELOPE (\"Wed, 06 Dec 2024 14:30:00 +0100\" {\(subject.count)}\r\nUrgent - Réunion "
            + "((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Alice\" NIL \"alice\" \"example.com\")) "
            + "((\"Alice\" NIL \"alice\" \"example.com\")) ((\"Bob\" NIL \"bob\" \"company.org\")) NIL NIL NIL "
            + "\"<xyz789@example.com>\") BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
            + "\(size - 197) 6 NIL NIL NIL NIL) RFC822.SIZE \(size) INTERNALDATE \"06-Dec-2024 14:30:00 +0100\")\r\n"
            + "c OK UID FETCH completed\r\n")
    }
}

/// The exact bytes Python's imaplib and curl send for common tasks.
@Suite struct StoreIMAPClientDialectTests {
    @Test func imaplibSession() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("LJAB1 CAPABILITY").hasSuffix("LJAB1 OK CAPABILITY completed\r\n"))
        #expect(s.send("LJAB2 LOGIN bob \"secret123\"").hasPrefix("LJAB2 OK"))
        #expect(s.send("LJAB3 SELECT INBOX").hasSuffix("LJAB3 OK [READ-WRITE] SELECT completed\r\n"))
        #expect(s.send("LJAB4 SEARCH ALL") == "* SEARCH 1 2 3\r\nLJAB4 OK SEARCH completed\r\n")
        let raw = imapCourseMessage(subject: "Hello", id: "a1")
        #expect(s.send("LJAB5 FETCH 1 (RFC822)") == "* 1 FETCH (RFC822 {\(raw.count)}\r\n\(String(decoding: raw, as: UTF8.self)))\r\nLJAB5 OK FETCH completed\r\n")
        #expect(s.send("LJAB6 STORE 1 +FLAGS \\Deleted") == "* 1 FETCH (FLAGS (\\Deleted \\Seen))\r\nLJAB6 OK STORE completed\r\n")
        #expect(s.send("LJAB7 EXPUNGE") == "* 1 EXPUNGE\r\nLJAB7 OK EXPUNGE completed\r\n")
        #expect(s.send("LJAB8 LOGOUT") == "* BYE IMAP4rev1 Server logging out\r\nLJAB8 OK LOGOUT completed\r\n")
    }

    @Test func curlFetchByUID() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("A001 CAPABILITY").contains("AUTH=PLAIN"))
        #expect(s.send("A002 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=").hasPrefix("A002 OK"))
        _ = s.send("A003 SELECT INBOX")
        let raw = imapCourseMessage(subject: "Lunch", id: "a2")
        #expect(s.send("A004 UID FETCH 2 BODY[]") == "* 2 FETCH (UID 2 BODY[] {\(raw.count)}\r\n\(String(decoding: raw, as: UTF8.self)) FLAGS (\\Seen))\r\nA004 OK UID FETCH completed\r\n")
    }
}
