import Testing
@testable import MailCore
@testable import MailAgents

/// Transcripts pinning what Dovecot's imaptest found wrong (issue 13) and the extensions the
/// server now advertises (SPECIAL-USE, UNSELECT, ENABLE, ID, ESEARCH, SORT).
@Suite struct StoreIMAPComplianceTests {
    func selected(_ store: MailStore, _ mailbox: String = "INBOX") -> IMAPTestSession {
        let s = IMAPTestSession(store)
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b SELECT \(mailbox)")
        return s
    }

    // MARK: RFC822.HEADER / RFC822.TEXT

    @Test func rfc822HeaderIsTheHeaderOnlyAndDoesNotSetSeen() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        let raw = imapCourseMessage(subject: "Lunch", id: "a2")
        let split = try #require(blankLine(raw))
        let header = String(decoding: raw[0..<split], as: UTF8.self)
        let body = String(decoding: raw[split...], as: UTF8.self)
        #expect(s.send("c FETCH 2 RFC822.HEADER") == "* 2 FETCH (RFC822.HEADER {\(split)}\r\n\(header))\r\nc OK FETCH completed\r\n")
        #expect(try store.messages(user: "bob")[1].flags == [])
        // RFC 3501 §6.4.5: RFC822.TEXT is BODY[TEXT], so it sets \Seen and FLAGS comes along.
        #expect(s.send("d FETCH 2 RFC822.TEXT")
            == "* 2 FETCH (RFC822.TEXT {\(raw.count - split)}\r\n\(body) FLAGS (\\Seen))\r\nd OK FETCH completed\r\n")
        #expect(try store.messages(user: "bob")[1].flags == [.seen])
    }

    func blankLine(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A { return i + 4 }
        return nil
    }

    // MARK: MOVE into the selected mailbox

    @Test func moveIntoTheSelectedMailboxExpungesAndAnnouncesTheCopy() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        let uv = try store.uidState(user: "bob", mailbox: "INBOX").uidValidity
        #expect(imapLines(s.send("c MOVE 1 INBOX")) == [
            "* OK [COPYUID \(uv) 1 4] Moved UIDs.",
            "* 1 EXPUNGE",
            "* 3 EXISTS",
            "* 2 RECENT",
            "c OK MOVE completed"])
        #expect(try store.messages(user: "bob").map(\.uid) == [2, 3, 4])
        #expect(try store.messages(user: "bob").last?.flags == [.seen])
    }

    // MARK: modified UTF-7 names

    @Test func aNameThatIsNotModifiedUTF7GetsNO() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        #expect(s.send("b CREATE \"Caf&AOk\"") == "b NO Mailbox name is not valid mUTF-7: \"Caf&AOk\"\r\n")
        #expect(s.send("c SELECT \"&Jjo\"") == "c NO Mailbox name is not valid mUTF-7: \"&Jjo\"\r\n")
        // A NO is not an invalid command: the session stays usable and nothing was created.
        #expect(s.send("d NOOP") == "d OK NOOP completed\r\n")
        #expect(!store.mailboxes(user: "bob").contains { $0.name.hasPrefix("Caf") })
        #expect(s.send("e CREATE \"Caf&AOk-\"") == "e OK CREATE completed\r\n")
        #expect(store.mailboxes(user: "bob").contains { $0.name == "Café" })
    }

    // MARK: ID (RFC 2971)

    @Test func idAnswersAndAcceptsTheLongestLineTheRFCAllows() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("a ID NIL") == "* ID (\"name\" \"MailLab IMAP\" \"vendor\" \"MailLab\")\r\na OK ID completed\r\n")
        // 30 fields of 30 octets with 1024-octet values: the largest ID RFC 2971 §3.3 allows.
        var pairs = [String]()
        for i in 0..<30 {
            let field = "field" + String(repeating: "x", count: 23) + (i < 10 ? "0\(i)" : "\(i)")
            pairs.append("\"\(field)\" \"\(String(repeating: "v", count: 1024))\"")
        }
        let line = "b ID (" + pairs.joined(separator: " ") + ")"
        #expect(line.utf8.count >= 32 * 1024 - 1000)
        #expect(s.send(line) == "* ID (\"name\" \"MailLab IMAP\" \"vendor\" \"MailLab\")\r\nb OK ID completed\r\n")
        s.send("c LOGIN bob secret123")
        // A client sending more than the RFC asks (three more pairs, one NIL) is still answered.
        let extra = (1...3).map { " \"extra\($0)\" \"\(String(repeating: "w", count: 1024))\"" }.joined()
        let long = "d ID (" + pairs.joined(separator: " ") + extra + " \"nil-field\" NIL)"
        #expect(long.utf8.count > 32 * 1024)
        #expect(s.send(long).hasSuffix("d OK ID completed\r\n"))
    }

    // MARK: LSUB parents (RFC 3501 §6.3.9)

    @Test func lsubShowsUnsubscribedParentsOfSubscribedChildrenAsNoselect() throws {
        let store = try imapCourseStore()
        try store.createMailbox(user: "bob", name: "parent.child.grandchild")
        try store.setSubscribed(user: "bob", name: "parent.child.grandchild", subscribed: true)
        try store.setSubscribed(user: "bob", name: "Work.Projects", subscribed: true)
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        #expect(imapLines(s.send("b LSUB \"\" parent.%")) == ["* LSUB (\\Noselect) \".\" parent.child", "b OK LSUB completed"])
        #expect(imapLines(s.send("c LSUB \"\" %")) == [
            "* LSUB () \".\" INBOX", "* LSUB (\\Noselect) \".\" Work", "* LSUB (\\Noselect) \".\" parent", "c OK LSUB completed"])
        #expect(imapLines(s.send("d LSUB \"\" *")) == [
            "* LSUB () \".\" INBOX", "* LSUB () \".\" Work.Projects", "* LSUB () \".\" parent.child.grandchild", "d OK LSUB completed"])
        s.send("e SUBSCRIBE Work")
        #expect(imapLines(s.send("f LSUB \"\" W%")) == ["* LSUB () \".\" Work", "f OK LSUB completed"])
    }

    // MARK: SEARCH on parsed addresses

    @Test func addressSearchMatchesTheParsedAddressAsEnvelopeDoes() throws {
        let store = try imapCourseStore()
        let odd = Array("""
        From: <user (comment)@ (comment) domain.org>\r
        To: Bob <bob @ company.org>\r
        Cc: "Doe, Jane" <jane(work)@example.net>\r
        Subject: odd\r
        \r
        hi\r

        """.utf8)
        try store.deliver(to: "bob", bytes: odd, internalDate: imapCourseNow)
        let s = selected(store)
        #expect(imapLines(s.send("c SEARCH FROM user@domain.org")) == ["* SEARCH 4", "c OK SEARCH completed"])
        #expect(imapLines(s.send("d SEARCH TO bob@company.org")) == ["* SEARCH 1 2 3 4", "d OK SEARCH completed"])
        #expect(imapLines(s.send("e SEARCH CC jane@example.net")) == ["* SEARCH 4", "e OK SEARCH completed"])
        #expect(imapLines(s.send("f SEARCH CC \"Doe, Jane\"")) == ["* SEARCH 4", "f OK SEARCH completed"])
        #expect(imapLines(s.send("g SEARCH FROM nobody@domain.org")) == ["* SEARCH", "g OK SEARCH completed"])
    }

    // MARK: FLAGS when a keyword appears

    @Test func aStoreWithANewKeywordAnnouncesFlagsToThisAndOtherSessions() throws {
        let store = try imapCourseStore()
        let a = selected(store), b = selected(store)
        #expect(imapLines(a.send("c STORE 1 +FLAGS ($Label1)")) == [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.",
            "* 1 FETCH (FLAGS (\\Seen $Label1))",
            "c OK STORE completed"])
        // The same keyword again: nothing new to announce.
        #expect(imapLines(a.send("d STORE 2 +FLAGS ($Label1)")) == ["* 2 FETCH (FLAGS ($Label1))", "d OK STORE completed"])
        #expect(imapLines(b.send("e NOOP")) == [
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)",
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 \\*)] Flags permitted.",
            "* 1 FETCH (FLAGS (\\Seen $Label1))",
            "* 2 FETCH (FLAGS ($Label1))",
            "e OK NOOP completed"])
    }

    // MARK: SPECIAL-USE (RFC 6154)

    @Test func specialUseFoldersCarryTheirAttributes() throws {
        let store = try imapCourseStore()
        for name in ["Trash", "Junk", "Archive"] { try store.createMailbox(user: "bob", name: name) }
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        #expect(imapLines(s.send("b LIST \"\" %")) == [
            "* LIST (\\HasNoChildren) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasChildren) \".\" Work",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk",
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive",
            "b OK LIST completed"])
        #expect(imapLines(s.send("c LIST (SPECIAL-USE) \"\" *")) == [
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk",
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive",
            "c OK LIST completed"])
        #expect(imapLines(s.send("d LIST \"\" (INBOX Sent) RETURN (SPECIAL-USE SUBSCRIBED)")) == [
            "* LIST (\\HasNoChildren \\Subscribed) \".\" INBOX",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent",
            "d OK LIST completed"])
        #expect(s.send("e LIST (BOGUS) \"\" *") == "e BAD Unsupported LIST option BOGUS.\r\n")
    }

    // MARK: UNSELECT, ENABLE

    @Test func unselectLeavesDeletedMessagesAndEnableListsNothing() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        s.send("c STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(s.send("d UNSELECT") == "d OK UNSELECT completed\r\n")
        #expect(try store.messages(user: "bob").count == 3)
        #expect(s.send("e FETCH 1 FLAGS") == "e BAD Command FETCH is not valid in this state.\r\n")
        #expect(s.send("f ENABLE CONDSTORE UTF8=ACCEPT") == "* ENABLED\r\nf OK ENABLE completed\r\n")
        #expect(s.send("g ENABLE") == "g BAD ENABLE needs at least one capability.\r\n")
    }

    // MARK: ESEARCH (RFC 4731)

    @Test func searchReturnGivesMinMaxCountAll() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        #expect(imapLines(s.send("c SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")) == [
            "* ESEARCH (TAG \"c\") MIN 2 MAX 3 ALL 2:3 COUNT 2", "c OK SEARCH completed"])
        #expect(imapLines(s.send("d UID SEARCH RETURN () ALL")) == ["* ESEARCH (TAG \"d\") UID ALL 1:3", "d OK UID SEARCH completed"])
        #expect(imapLines(s.send("e SEARCH RETURN (MIN COUNT) DELETED")) == ["* ESEARCH (TAG \"e\") COUNT 0", "e OK SEARCH completed"])
        #expect(imapLines(s.send("f SEARCH RETURN (COUNT) 1,3")) == ["* ESEARCH (TAG \"f\") COUNT 2", "f OK SEARCH completed"])
        #expect(s.send("g SEARCH RETURN (SAVE) ALL") == "g BAD Unknown SEARCH RETURN option.\r\n")
    }

    // MARK: SORT (RFC 5256)

    func sortStore() throws -> MailStore {
        let store = MailStore(now: IMAPDate(secondsSince1970: 1_234_567_890))
        try store.addUser("bob", password: "secret123", addresses: ["bob@company.org"])
        let messages: [(String, String, String, String, Int64)] = [
            // From, To, Subject, Date, internal date offset
            ("Zoe <zoe@x.org>", "carol@y.org", "Re: [team] Budget", "Mon, 02 Dec 2024 10:00:00 +0000", 300),
            ("adam@x.org", "Bob <bob@company.org>", "Agenda (fwd)", "Sun, 01 Dec 2024 09:00:00 -0500", 100),
            ("Mia <mia@x.org>", "alice@y.org", "=?UTF-8?Q?Fwd=3A_budget?=", "Sun, 01 Dec 2024 12:00:00 +0000", 200),
            ("bea@x.org", "dave@y.org", "[fwd: agenda]", "bad date", 50),
        ]
        for (i, m) in messages.enumerated() {
            let raw = "From: \(m.0)\r\nTo: \(m.1)\r\nSubject: \(m.2)\r\nDate: \(m.3)\r\n\r\n" + String(repeating: "x", count: 1000 * (4 - i)) + "\r\n"
            try store.deliver(to: "bob", bytes: Array(raw.utf8), internalDate: IMAPDate(secondsSince1970: 1_733_000_000 + m.4))
        }
        return store
    }

    @Test(arguments: [
        ("(ARRIVAL)", "4 2 3 1"),
        ("(REVERSE ARRIVAL)", "1 3 2 4"),
        // Message 4 has no readable Date: its internal date (the oldest) stands in.
        ("(DATE)", "4 3 2 1"),
        ("(FROM)", "2 4 3 1"),
        ("(TO)", "3 2 1 4"),
        ("(SIZE)", "4 3 2 1"),
        // Base subjects: budget, Agenda, budget, agenda → agenda ×2 (by sequence), then budget ×2.
        ("(SUBJECT)", "2 4 1 3"),
        ("(SUBJECT DATE)", "4 2 3 1"),
        ("(REVERSE SUBJECT ARRIVAL)", "3 1 4 2"),
        ("(CC SIZE)", "4 3 2 1"),
    ])
    func sortOrders(_ criteria: String, _ expected: String) throws {
        let s = selected(try sortStore())
        #expect(imapLines(s.send("c SORT \(criteria) UTF-8 ALL")) == ["* SORT \(expected)", "c OK SORT completed"])
    }

    @Test func uidSortWithCriteriaAndCharsetErrors() throws {
        let s = selected(try sortStore())
        #expect(imapLines(s.send("c UID SORT (SIZE) US-ASCII SENTSINCE 1-Dec-2024 NOT FROM zoe")) == ["* SORT 3 2", "c OK UID SORT completed"])
        #expect(s.send("d SORT (SIZE) KOI8-R ALL") == "d NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset.\r\n")
        #expect(s.send("e SORT (THREAD) UTF-8 ALL") == "e BAD Unknown sort criterion.\r\n")
    }

    @Test(arguments: [
        ("Re: hello", "hello"), ("RE: Re[2]: Fwd: hello", "hello"), ("[list] Re: hello (fwd)", "hello"),
        ("[fwd: Re: hello]", "hello"), ("  hello \t  world  ", "hello world"), ("[only blob]", "[only blob]"),
        ("Fw: [a][b] hello", "hello"), ("Report: numbers", "Report: numbers"), ("re:", ""),
    ])
    func baseSubjects(_ subject: String, _ base: String) {
        #expect(IMAPSort.baseSubject(subject) == base)
    }
}
