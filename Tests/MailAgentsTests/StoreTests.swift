import Testing
import MailCore
@testable import MailAgents

@Suite struct StoreTests {
    let t0 = IMAPDate(secondsSince1970: 1_700_000_000)

    @Test func uidValidityAndUIDNextFollowDeliveries() throws {
        let store = MailStore(now: t0)
        try store.addUser("alice", password: "pw")
        #expect(try store.uidState(user: "alice", mailbox: "INBOX") == (1_700_000_000, 1))
        for i in 1...3 { #expect(try store.deliver(to: "alice", bytes: Array("m\(i)".utf8), internalDate: t0) == UInt32(i)) }
        try store.storeFlags(user: "alice", mailbox: "inbox", uids: [2], operation: .add, flags: [.deleted])
        #expect(try store.expunge(user: "alice", mailbox: "INBOX") == [2])
        #expect(try store.deliver(to: "alice", bytes: Array("m4".utf8), internalDate: t0) == 4)
        #expect(try store.messages(user: "alice").map(\.uid) == [1, 3, 4])
        #expect(try store.uidState(user: "alice", mailbox: "INBOX").uidNext == 5)
        try store.createMailbox(user: "alice", name: "Later")
        #expect(try store.uidState(user: "alice", mailbox: "Later").uidValidity == 1_700_000_001)
        store.now = IMAPDate(secondsSince1970: 1_800_000_000)
        try store.createMailbox(user: "alice", name: "Much.Later")
        #expect(try store.uidState(user: "alice", mailbox: "Much").uidValidity == 1_800_000_000)
        #expect(try store.uidState(user: "alice", mailbox: "Much.Later").uidValidity == 1_800_000_001)
    }

    @Test func anAddressFindsTheFirstAccountThatListsItWhateverItsCase() throws {
        let store = MailStore(now: t0)
        try store.addUser("Alice", password: "pw", addresses: ["Alice@Example.COM", "a.smith@example.com"])
        try store.addUser("bob", password: "pw", addresses: ["bob@company.org", "ALICE@example.com"])
        try store.addTeam("support", members: ["bob"], addresses: ["Support@Company.org"])
        #expect(store.account(forAddress: "alice@example.com") == "Alice")  // first in creation order
        #expect(store.account(forAddress: "A.SMITH@EXAMPLE.COM") == "Alice")
        #expect(store.account(forAddress: "Bob@Company.Org") == "bob")
        #expect(store.account(forAddress: "support@company.org") == "support")
        #expect(store.account(forAddress: "carol@example.com") == nil)
        #expect(store.account(forAddress: "alice") == nil)  // a login is not an address
    }

    @Test func theQueueFindsARecipientsDomainAfterTheLastAt() {
        #expect(MTA.lowercasedDomain(of: "bob@company.org") == "company.org")
        #expect(MTA.lowercasedDomain(of: "Bob@Company.ORG") == "company.org")
        #expect(MTA.lowercasedDomain(of: "\"a@b\"@x.org") == "x.org")
        #expect(MTA.lowercasedDomain(of: "zoé@EXÄMPLE.org") == "exämple.org")
        #expect(MTA.lowercasedDomain(of: "postmaster") == "")
        #expect(MTA.lowercasedDomain(of: "a@") == "")
    }

    @Test func quotaGivesTemporaryOrPermanentErrors() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw", quotaBytes: 100)
        try store.deliver(to: "bob", bytes: Array(repeating: 0x61, count: 80), internalDate: t0)
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) {
            try store.deliver(to: "bob", bytes: Array(repeating: 0x61, count: 30), internalDate: t0)
        }
        #expect(throws: MailStoreError.quotaExceeded(permanent: true)) {
            try store.deliver(to: "bob", bytes: Array(repeating: 0x61, count: 101), internalDate: t0)
        }
        #expect(MailStoreError.quotaExceeded(permanent: false).smtpReply.code == 452)
        #expect(MailStoreError.quotaExceeded(permanent: false).smtpReply.enhanced == "4.2.2")
        #expect(MailStoreError.quotaExceeded(permanent: true).smtpReply.code == 552)
        #expect(MailStoreError.quotaExceeded(permanent: true).smtpReply.enhanced == "5.2.2")
        #expect(try store.quota("bob").used == 80)
        try store.createMailbox(user: "bob", name: "Archive")
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) { try store.copy(user: "bob", from: "INBOX", uids: [1], to: "Archive") }
        #expect(try store.move(user: "bob", from: "INBOX", uids: [1], to: "Archive").mapping.count == 1)
        #expect(try store.quota("bob").used == 80)
    }

    @Test func messageQuotaCountsEveryFolder() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw")
        try store.createMailbox(user: "bob", name: "Archive")
        try store.deliver(to: "bob", bytes: Array("m1".utf8), internalDate: t0)
        try store.deliver(to: "bob", folder: "Archive", bytes: Array("m2".utf8), internalDate: t0)
        try store.setQuota("bob", messages: 3)
        try store.deliver(to: "bob", bytes: Array("m3".utf8), internalDate: t0)
        #expect(try store.messageQuota("bob") == (used: 3, limit: 3))
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) {
            try store.deliver(to: "bob", bytes: Array("m4".utf8), internalDate: t0)
        }
        #expect(throws: MailStoreError.quotaExceeded(permanent: false)) {
            try store.copy(user: "bob", from: "INBOX", uids: [1], to: "Archive")
        }
        // Moving inside the account changes nothing; copying more than the whole quota never fits.
        #expect(try store.move(user: "bob", from: "INBOX", uids: [1], to: "Archive").mapping.count == 1)
        try store.setQuota("bob", messages: 1)
        #expect(throws: MailStoreError.quotaExceeded(permanent: true)) {
            try store.copy(user: "bob", from: "Archive", uids: [1, 2], to: "INBOX")
        }
        try store.setQuota("bob", messages: nil)
        try store.deliver(to: "bob", bytes: Array("m4".utf8), internalDate: t0)
        #expect(try store.messageQuota("bob") == (used: 4, limit: nil))
    }

    @Test func appendOverQuotaIsOverquotaInIMAP() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw", quotaBytes: 10)
        let s = IMAPTestSession(store)
        s.send("a LOGIN bob pw")
        #expect(s.raw(Array("b APPEND INBOX {20+}\r\n01234567890123456789\r\n".utf8)) == "b NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n")
    }

    @Test func renameInboxMovesMessagesAndLeavesInboxEmpty() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw")
        try store.createMailbox(user: "bob", name: "INBOX.Sub")
        for i in 1...2 { try store.deliver(to: "bob", bytes: Array("m\(i)".utf8), internalDate: t0) }
        try store.renameMailbox(user: "bob", from: "inbox", to: "Old.Mail")
        #expect(try store.messages(user: "bob").isEmpty)
        #expect(try store.messages(user: "bob", mailbox: "Old.Mail").map(\.raw) == [Array("m1".utf8), Array("m2".utf8)])
        #expect(store.mailboxes(user: "bob").map(\.name) == ["INBOX", "INBOX.Sub", "Old", "Old.Mail"])
        #expect(try store.deliver(to: "bob", bytes: Array("m3".utf8), internalDate: t0) == 3)
        #expect(store.checkInvariants() == [])
    }

    @Test func renameMovesChildrenAndChangesUIDValidity() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw")
        try store.createMailbox(user: "bob", name: "Work.Projects")
        let before = try store.uidState(user: "bob", mailbox: "Work").uidValidity
        try store.renameMailbox(user: "bob", from: "Work", to: "Job")
        #expect(store.mailboxes(user: "bob").map(\.name) == ["INBOX", "Job", "Job.Projects"])
        #expect(try store.uidState(user: "bob", mailbox: "Job").uidValidity > before)
        #expect(throws: MailStoreError.cannot("Mailbox has children, delete them first.")) { try store.deleteMailbox(user: "bob", name: "Job") }
        #expect(throws: MailStoreError.cannot("INBOX can't be deleted.")) { try store.deleteMailbox(user: "bob", name: "inbox") }
        #expect(throws: MailStoreError.mailboxExists("Job")) { try store.renameMailbox(user: "bob", from: "INBOX", to: "Job") }
    }

    @Test func sharedTeamMailboxIsVisibleToMembersOnly() throws {
        let store = MailStore(now: t0)
        try store.addUser("alice", password: "a")
        try store.addUser("bob", password: "b")
        try store.addUser("eve", password: "e")
        try store.addTeam("support", members: ["alice", "bob"], addresses: ["support@example.com"])
        #expect(store.account(forAddress: "SUPPORT@example.com") == "support")
        try store.deliver(to: "support", bytes: Array("ticket".utf8), internalDate: t0)
        #expect(try store.messages(user: "alice", mailbox: "Shared.support").count == 1)
        try store.storeFlags(user: "bob", mailbox: "Shared.support", uids: [1], operation: .add, flags: [IMAPFlag("$Forwarded")])
        #expect(try store.messages(user: "alice", mailbox: "Shared.support")[0].flags == [IMAPFlag("$Forwarded")])
        #expect(throws: MailStoreError.noSuchMailbox("Shared.support")) { try store.messages(user: "eve", mailbox: "Shared.support") }
        try store.createMailbox(user: "alice", name: "Shared.support.Done")
        #expect(store.mailboxes(user: "bob").map(\.name) == ["INBOX", "Shared", "Shared.support", "Shared.support.Done"])
        #expect(store.checkPassword(user: "support", password: "") == nil)
        #expect(store.viewers(of: "support") == ["alice", "bob"])
        #expect(store.checkInvariants() == [])
    }

    @Test func subscriptionsAndPOP3Lock() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw")
        try store.createMailbox(user: "bob", name: "Lists")
        try store.setSubscribed(user: "bob", name: "Lists", subscribed: true)
        #expect(store.subscriptions(user: "bob") == ["INBOX", "Lists"])
        #expect(throws: MailStoreError.noSuchMailbox("Nope")) { try store.setSubscribed(user: "bob", name: "Nope", subscribed: true) }
        try store.setSubscribed(user: "bob", name: "inbox", subscribed: false)
        #expect(store.subscriptions(user: "bob") == ["Lists"])
        #expect(store.acquireLock(user: "bob"))
        #expect(!store.acquireLock(user: "bob"))
        store.releaseLock(user: "bob")
        #expect(store.acquireLock(user: "bob"))
    }

    @Test func observersSeeEveryChangeInOrder() throws {
        let store = MailStore(now: t0)
        try store.addUser("bob", password: "pw")
        var seen = [String]()
        store.addObserver { seen.append("\($0.folder) \($0.kind.rawValue) \($0.uids)") }
        try store.deliver(to: "bob", bytes: [0x61], internalDate: t0)
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [1], operation: .add, flags: [.deleted])
        try store.expunge(user: "bob", mailbox: "INBOX")
        #expect(seen == ["INBOX exists [1]", "INBOX flags [1]", "INBOX expunge [1]"])
    }

    @Test func analyzeParsesAddressesGroupsAndParameters() {
        let list = IMAPStructure.parseAddressList("\"Doe, Jane\" <jane@x.org>, bob@y.org (Bob B), team: a@z.org, b@z.org;, <@relay:c@w.org>")
        #expect(list == [
            IMAPAddress(name: "Doe, Jane", mailbox: "jane", host: "x.org"),
            IMAPAddress(name: "Bob B", mailbox: "bob", host: "y.org"),
            IMAPAddress(name: nil, mailbox: "team", host: nil),
            IMAPAddress(name: nil, mailbox: "a", host: "z.org"),
            IMAPAddress(name: nil, mailbox: "b", host: "z.org"),
            IMAPAddress(name: nil, mailbox: nil, host: nil),
            IMAPAddress(name: nil, adl: "@relay", mailbox: "c", host: "w.org"),
        ])
        let ct = IMAPStructure.parseContentType("Text/HTML; charset=\"utf-8\" (comment); name=\"a \\\"b\\\".html\"")
        #expect(ct.type == "text" && ct.subtype == "html")
        #expect(ct.parameters == [IMAPParameter("CHARSET", "utf-8"), IMAPParameter("NAME", "a \"b\".html")])
    }
}
