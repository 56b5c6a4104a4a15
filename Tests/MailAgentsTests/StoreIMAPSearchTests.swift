import Testing
import MailCore
@testable import MailAgents

/// SEARCH keys against three known messages.
@Suite struct StoreIMAPSearchTests {
    static func store() throws -> MailStore {
        let store = MailStore(now: IMAPDate(secondsSince1970: 1_700_000_000))
        try store.addUser("bob", password: "pw")
        let m1 = "From: Alice <alice@example.com>\r\nTo: bob@company.org\r\nCc: carol@x.org\r\nSubject: Budget 2025\r\nDate: Mon, 2 Dec 2024 09:00:00 +0000\r\nX-Priority: 1\r\n\r\nNumbers attached.\r\n"
        let m2 = "From: Dave <dave@y.org>\r\nTo: bob@company.org\r\nSubject: Lunch?\r\nDate: Thu, 5 Dec 2024 12:00:00 +0000\r\n\r\nPizza or sushi?\r\n"
        let m3 = "From: alice@example.com\r\nTo: team@company.org\r\nBcc: bob@company.org\r\nSubject: Re: Budget 2025\r\nDate: Fri, 6 Dec 2024 08:00:00 +0000\r\n\r\n" + String(repeating: "long line of text\r\n", count: 20)
        let d1 = IMAPDate(year: 2024, month: 12, day: 2, hour: 9)!, d2 = IMAPDate(year: 2024, month: 12, day: 5, hour: 12)!
        let d3 = IMAPDate(year: 2024, month: 12, day: 6, hour: 8)!
        try store.deliver(to: "bob", bytes: Array(m1.utf8), internalDate: d1)
        try store.deliver(to: "bob", bytes: Array(m2.utf8), internalDate: d2)
        try store.deliver(to: "bob", bytes: Array(m3.utf8), internalDate: d3)
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [1], operation: .add, flags: [.seen, .answered])
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [2], operation: .add, flags: [.flagged, IMAPFlag("$Forwarded")])
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [3], operation: .add, flags: [.draft, .deleted])
        return store
    }

    @Test(arguments: [
        ("ALL", "1 2 3"), ("SEEN", "1"), ("UNSEEN", "2 3"), ("ANSWERED", "1"), ("UNANSWERED", "2 3"),
        ("FLAGGED", "2"), ("UNFLAGGED", "1 3"), ("DELETED", "3"), ("UNDELETED", "1 2"), ("DRAFT", "3"), ("UNDRAFT", "1 2"),
        ("KEYWORD $Forwarded", "2"), ("UNKEYWORD $forwarded", "1 3"), ("RECENT", "1 2 3"), ("NEW", "2 3"), ("OLD", ""),
        ("FROM alice", "1 3"), ("TO team", "3"), ("CC carol", "1"), ("BCC bob", "3"), ("SUBJECT \"budget 2025\"", "1 3"),
        ("BODY pizza", "2"), ("TEXT numbers", "1"), ("TEXT Dave", "2"), ("HEADER X-Priority 1", "1"), ("HEADER X-Priority \"\"", "1"),
        ("SINCE 5-Dec-2024", "2 3"), ("BEFORE 5-Dec-2024", "1"), ("ON 6-Dec-2024", "3"),
        ("SENTSINCE 6-Dec-2024", "3"), ("SENTBEFORE 3-Dec-2024", "1"), ("SENTON 5-Dec-2024", "2"),
        ("LARGER 300", "3"), ("SMALLER 150", "2"), ("UID 2:*", "2 3"), ("2,3", "2 3"), ("*", "3"),
        ("NOT SEEN", "2 3"), ("OR SEEN FLAGGED", "1 2"), ("(FROM alice SUBJECT Re)", "3"), ("OR (SEEN ANSWERED) DRAFT", "1 3"),
        ("NOT (OR SEEN DRAFT)", "2"), ("CHARSET UTF-8 FROM Dave", "2"),
    ])
    func key(_ criteria: String, _ expected: String) throws {
        let s = IMAPTestSession(try Self.store())
        s.send("a LOGIN bob pw")
        s.send("b SELECT INBOX")
        #expect(s.send("c SEARCH \(criteria)") == "* SEARCH\(expected.isEmpty ? "" : " " + expected)\r\nc OK SEARCH completed\r\n")
    }
}
