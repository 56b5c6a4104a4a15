import Testing
import MailCore
@testable import MailAgents

/// Several sessions (devices) on one mailbox, IDLE, \Recent.
@Suite struct StoreSessionsTests {
    func open(_ store: MailStore) -> IMAPTestSession {
        let s = IMAPTestSession(store)
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        return s
    }

    @Test func twoSessionsSeeEachOthersFlagsExpungesAndArrivals() throws {
        let store = try imapCourseStore()
        let phone = open(store), laptop = open(store)
        #expect(imapLines(phone.send("c STORE 2 +FLAGS.SILENT (\\Flagged)")) == ["c OK STORE completed"])
        #expect(imapLines(laptop.send("d NOOP")) == ["* 2 FETCH (FLAGS (\\Flagged))", "d OK NOOP completed"])
        #expect(imapLines(phone.send("e STORE 1 +FLAGS (\\Deleted)")) == ["* 1 FETCH (FLAGS (\\Deleted \\Seen))", "e OK STORE completed"])
        #expect(imapLines(phone.send("f EXPUNGE")) == ["* 1 EXPUNGE", "f OK EXPUNGE completed"])
        #expect(imapLines(laptop.send("g NOOP")) == ["* 1 EXPUNGE", "g OK NOOP completed"])
        try store.deliver(to: "bob", bytes: imapCourseMessage(id: "new"), internalDate: imapCourseNow)
        #expect(imapLines(laptop.send("h NOOP")) == ["* 3 EXISTS", "* 1 RECENT", "h OK NOOP completed"])
        // The laptop claimed the new message first: it is not \Recent for the phone, which keeps
        // its own \Recent message from SELECT.
        #expect(imapLines(phone.send("i NOOP")) == ["* 3 EXISTS", "* 1 RECENT", "i OK NOOP completed"])
        #expect(imapLines(phone.send("j FETCH 3 FLAGS")) == ["* 3 FETCH (FLAGS ())", "j OK FETCH completed"])
        #expect(imapLines(laptop.send("k FETCH 3 FLAGS")) == ["* 3 FETCH (FLAGS (\\Recent))", "k OK FETCH completed"])
    }

    @Test func expungeIsDeferredDuringFetchBySequenceNumber() throws {
        let store = try imapCourseStore()
        let phone = open(store), laptop = open(store)
        phone.send("c STORE 2 +FLAGS.SILENT (\\Deleted)")
        phone.send("d EXPUNGE")
        let during = laptop.send("e FETCH 1 FLAGS")
        #expect(!during.contains("EXPUNGE"))
        #expect(imapLines(laptop.send("f NOOP")) == ["* 2 EXPUNGE", "f OK NOOP completed"])
    }

    @Test func recentBelongsToExactlyOneSession() throws {
        let store = try imapCourseStore()
        let first = open(store)
        let second = open(store)
        #expect(first.send("c SEARCH RECENT") == "* SEARCH 3\r\nc OK SEARCH completed\r\n")
        #expect(second.send("c SEARCH RECENT") == "* SEARCH\r\nc OK SEARCH completed\r\n")
        let examine = IMAPTestSession(store)
        examine.send("a LOGIN bob secret123")
        #expect(examine.send("b EXAMINE INBOX").contains("* 0 RECENT\r\n"))
    }

    @Test func idleReceivesExistsWhenMailIsDelivered() throws {
        let store = try imapCourseStore()
        let s = open(store)
        var woken = [String]()
        let token = store.addObserver { change in
            if store.viewers(of: change.owner).contains("bob") && s.server.isIdling { woken.append(s.changed()) }
        }
        defer { store.removeObserver(token) }
        #expect(s.send("i IDLE") == "+ idling\r\n")
        try store.deliver(to: "bob", bytes: imapCourseMessage(id: "push"), internalDate: imapCourseNow)
        #expect(woken == ["* 4 EXISTS\r\n* 2 RECENT\r\n"])
        #expect(s.send("DONE") == "i OK IDLE terminated\r\n")
    }

    @Test func moveReportsCopyUIDAndExpunge() throws {
        let store = try imapCourseStore()
        let s = open(store)
        let uv = try store.uidState(user: "bob", mailbox: "Work").uidValidity
        #expect(imapLines(s.send("c UID MOVE 2:3 Work")) == ["* OK [COPYUID \(uv) 2:3 1:2] Moved UIDs.", "* 3 EXPUNGE", "* 2 EXPUNGE", "c OK UID MOVE completed"])
        #expect(try store.messages(user: "bob").map(\.uid) == [1])
        #expect(imapLines(s.send("d COPY 1 Nowhere")) == ["d NO [TRYCREATE] Mailbox doesn't exist: Nowhere"])
    }

    @Test func statusNamespaceAndLsub() throws {
        let store = try imapCourseStore()
        try store.addTeam("support", members: ["bob", "alice"], addresses: ["support@company.org"])
        let s = open(store)
        #expect(s.send("c STATUS Work (MESSAGES UIDNEXT UNSEEN)") == "* STATUS Work (MESSAGES 0 UIDNEXT 1 UNSEEN 0)\r\nc OK STATUS completed\r\n")
        #expect(s.send("d NAMESPACE") == "* NAMESPACE ((\"\" \".\")) NIL ((\"Shared.\" \".\"))\r\nd OK NAMESPACE completed\r\n")
        #expect(s.send("e SUBSCRIBE Work") == "e OK SUBSCRIBE completed\r\n")
        #expect(s.send("f LSUB \"\" *") == "* LSUB () \".\" INBOX\r\n* LSUB () \".\" Work\r\nf OK LSUB completed\r\n")
        #expect(s.send("g LIST \"\" %") == "* LIST (\\HasNoChildren) \".\" INBOX\r\n* LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n* LIST (\\HasNoChildren \\Drafts) \".\" Drafts\r\n* LIST (\\HasChildren) \".\" Work\r\n* LIST (\\Noselect \\HasChildren) \".\" Shared\r\ng OK LIST completed\r\n")
        #expect(s.send("h LIST \"\" Shared.%") == "* LIST (\\HasNoChildren) \".\" Shared.support\r\nh OK LIST completed\r\n")
        #expect(s.send("i LIST \"\" \"\"") == "* LIST (\\Noselect) \".\" \"\"\r\ni OK LIST completed\r\n")
    }

    @Test func authenticatePlainWithAndWithoutInitialResponse() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        let token = "AGJvYgBzZWNyZXQxMjM=" // \0bob\0secret123
        #expect(s.send("a AUTHENTICATE PLAIN") == "+ \r\n")
        #expect(s.send("*") == "a BAD Authentication cancelled.\r\n")
        #expect(s.send("b AUTHENTICATE PLAIN") == "+ \r\n")
        #expect(s.send("!!!") == "b BAD Invalid base64 data in AUTHENTICATE response.\r\n")
        #expect(s.send("c AUTHENTICATE PLAIN AGJvYgB3cm9uZw==") == "c NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        #expect(s.send("d AUTHENTICATE PLAIN \(token)").hasPrefix("d OK [CAPABILITY"))
    }

    @Test func authenticateLoginTwoSteps() throws {
        let s = IMAPTestSession(try imapCourseStore())
        s.greet()
        #expect(s.send("a AUTHENTICATE LOGIN") == "+ VXNlcm5hbWU6\r\n")
        #expect(s.send("Ym9i") == "+ UGFzc3dvcmQ6\r\n")
        #expect(s.send("c2VjcmV0MTIz").hasPrefix("a OK [CAPABILITY"))
        #expect(s.server.user == "bob")
    }

    @Test func autologoutAfterInactivity() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        let deadline = try #require(s.server.nextDeadline)
        #expect(deadline == imapCourseNow.engineTime + .seconds(1800))
        #expect(s.text(s.server.timerFired(now: deadline - .seconds(1))) == "")
        #expect(s.text(s.server.timerFired(now: deadline)) == "* BYE Disconnected for inactivity.\r\n")
        #expect(s.closed)
    }

    @Test func sectionsOfAMultipartMessage() throws {
        let store = try imapCourseStore()
        let raw = Array("""
        From: a@x.org\r
        Subject: parts\r
        Content-Type: multipart/mixed; boundary="BB"\r
        \r
        preamble\r
        --BB\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        hello\r
        --BB\r
        Content-Type: message/rfc822\r
        \r
        Subject: inner\r
        \r
        inner body\r
        --BB--\r

        """.utf8)
        try store.deliver(to: "bob", bytes: raw, internalDate: imapCourseNow)
        let s = open(store)
        #expect(s.send("c FETCH 4 (BODY.PEEK[1])") == "* 4 FETCH (BODY[1] {5}\r\nhello)\r\nc OK FETCH completed\r\n")
        #expect(s.send("d FETCH 4 (BODY.PEEK[1.MIME])") == "* 4 FETCH (BODY[1.MIME] {43}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n)\r\nd OK FETCH completed\r\n")
        #expect(s.send("e FETCH 4 (BODY.PEEK[2.HEADER])") == "* 4 FETCH (BODY[2.HEADER] {18}\r\nSubject: inner\r\n\r\n)\r\ne OK FETCH completed\r\n")
        #expect(s.send("f FETCH 4 (BODY.PEEK[2.TEXT]<0.5>)") == "* 4 FETCH (BODY[2.TEXT]<0> {5}\r\ninner)\r\nf OK FETCH completed\r\n")
        #expect(s.send("g FETCH 4 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])") == "* 4 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: parts\r\n\r\n)\r\ng OK FETCH completed\r\n")
        #expect(s.send("h FETCH 4 BODYSTRUCTURE") == "* 4 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)"
            + "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 28 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            + "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "
            + "\"MIXED\" (\"BOUNDARY\" \"BB\") NIL NIL NIL))\r\nh OK FETCH completed\r\n")
        #expect(s.send("i FETCH 4 (BODY.PEEK[3])") == "* 4 FETCH (BODY[3] NIL)\r\ni OK FETCH completed\r\n")
    }
}
