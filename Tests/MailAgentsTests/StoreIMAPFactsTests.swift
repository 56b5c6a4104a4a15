import Testing
import MailCore
@testable import MailAgents

/// The facts the IMAP server reports as it answers (issue 12): what the tutor judges.
@Suite struct StoreIMAPFactsTests {
    @Test func aSessionReportsLoginSelectFetchStoreCopySearchAndLogout() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.server.takeFacts() == [.session(.greeting)])
        s.send("a LOGIN bob wrong")
        s.send("b LOGIN bob secret123")
        #expect(s.server.takeFacts() == [
            .session(.authFailed(mechanism: "LOGIN-COMMAND", user: "bob")),
            .session(.refused(command: "LOGIN", status: "NO", code: "AUTHENTICATIONFAILED")),
            .session(.authSucceeded(mechanism: "LOGIN-COMMAND", user: "bob")),
            .imap(.state(.authenticated))])
        s.send("c SELECT INBOX")
        #expect(s.server.takeFacts() == [.imap(.state(.selected)), .imap(.selected(mailbox: "INBOX", readOnly: false, exists: 3))])
        s.send("d FETCH 2:3 (FLAGS BODY.PEEK[HEADER])")
        s.send("e UID FETCH 2 BODY[TEXT]")
        #expect(s.server.takeFacts() == [
            .imap(.fetched(mailbox: "INBOX", uids: [2, 3], items: ["FLAGS", "BODY.PEEK[HEADER]"], peek: true, seenSet: [], byUID: false)),
            .imap(.fetched(mailbox: "INBOX", uids: [2], items: ["UID", "BODY[TEXT]"], peek: false, seenSet: [2], byUID: true))])
        s.send("f STORE 3 +FLAGS (\\Deleted)")
        s.send("g COPY 1 Work")
        s.send("h SEARCH OR FROM nobody NOT SEEN")
        s.send("i SORT (SUBJECT) UTF-8 ALL")
        #expect(s.server.takeFacts() == [
            .imap(.stored(mailbox: "INBOX", uids: [3], operation: .add, flags: ["\\Deleted"], silent: false, byUID: false)),
            .imap(.copied(source: "INBOX", destination: "Work", sourceUIDs: [1], destinationUIDs: [1], moved: false, byUID: false)),
            .imap(.searched(mailbox: "INBOX", criteria: ["OR", "FROM nobody", "NOT", "SEEN"], resultUIDs: [3], byUID: false)),
            .imap(.searched(mailbox: "INBOX", criteria: ["ALL"], resultUIDs: [1, 2, 3], byUID: false))])
        s.send("j EXPUNGE")
        s.send("k SELECT Nowhere")
        #expect(s.server.takeFacts() == [
            .imap(.expunged(mailbox: "INBOX", uids: [3])),
            .imap(.closedMailbox(mailbox: "INBOX", expunged: false, command: "SELECT")),
            .imap(.state(.authenticated)),
            .session(.refused(command: "SELECT", status: "NO", code: "NONEXISTENT"))])
        s.send("l LIST \"\" W*")
        s.send("m CREATE Old")
        s.send("n RENAME Old New")
        s.send("o CAPABILITY")
        s.send("p LOGOUT")
        #expect(s.server.takeFacts() == [
            .imap(.listed(reference: "", pattern: "W*", subscribedOnly: false, result: ["Work", "Work.Projects"])),
            .imap(.created(mailbox: "Old")),
            .imap(.renamed(from: "Old", to: "New")),
            .session(.capabilities),
            .imap(.state(.logout)),
            .session(.closed)])
    }

    @Test func idleReportsItsStartPushesAndEnd() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        s.send("c IDLE")
        _ = s.server.takeFacts()
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [2], operation: .add, flags: [.flagged])
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "New", id: "n"), internalDate: imapCourseNow)
        s.changed()
        s.send("DONE")
        #expect(s.server.takeFacts() == [
            .imap(.pushed("FETCH 2 (FLAGS (\\Flagged))", duringIdle: true)),
            .imap(.pushed("EXISTS 4", duringIdle: true)),
            .imap(.pushed("RECENT 2", duringIdle: true)),
            .imap(.idleEnded)])
        // Outside IDLE the news that follows a command is pushed too, not during IDLE.
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "Next", id: "m"), internalDate: imapCourseNow)
        s.send("d NOOP")
        #expect(s.server.takeFacts() == [.imap(.pushed("EXISTS 5", duringIdle: false)), .imap(.pushed("RECENT 3", duringIdle: false))])
    }

    @Test func closeReportsTheMessagesItExpunged() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        s.send("c STORE 1 +FLAGS.SILENT (\\Deleted)")
        _ = s.server.takeFacts()
        s.send("d CLOSE")
        #expect(s.server.takeFacts() == [
            .imap(.expunged(mailbox: "INBOX", uids: [1])),
            .imap(.closedMailbox(mailbox: "INBOX", expunged: true, command: "CLOSE")),
            .imap(.state(.authenticated))])
    }

    /// Which command closed the selected mailbox is part of the fact: UNSELECT, EXAMINE of
    /// another mailbox, LOGOUT.
    @Test func theCommandThatClosedTheMailboxIsReported() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        _ = s.server.takeFacts()
        s.send("c UNSELECT")
        #expect(s.server.takeFacts().contains(.imap(.closedMailbox(mailbox: "INBOX", expunged: false, command: "UNSELECT"))))
        s.send("d SELECT INBOX")
        s.send("e EXAMINE Work")
        #expect(s.server.takeFacts().contains(.imap(.closedMailbox(mailbox: "INBOX", expunged: false, command: "EXAMINE"))))
        s.send("f LOGOUT")
        #expect(s.server.takeFacts().contains(.imap(.closedMailbox(mailbox: "Work", expunged: false, command: "LOGOUT"))))
    }

    @Test func plaintextRefusalAndTLSAreReported() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store, configuration: IMAPServerConfiguration())
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b STARTTLS")
        _ = s.server.tlsEstablished(now: s.now.engineTime)
        s.send("c AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=")
        #expect(s.server.takeFacts() == [
            .session(.greeting),
            .session(.refused(command: "LOGIN", status: "NO", code: "PRIVACYREQUIRED")),
            .session(.tlsEstablished),
            .session(.authSucceeded(mechanism: "PLAIN", user: "bob")),
            .imap(.state(.authenticated))])
        s.send("d FETCH 1 FLAGS")
        s.send("e")
        #expect(s.server.takeFacts() == [
            .session(.refused(command: "FETCH", status: "BAD", code: nil)),
            .session(.refused(command: "", status: "BAD", code: nil))])
    }
}
