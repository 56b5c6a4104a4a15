import MailCore
@testable import MailAgents

/// One IMAP server session driven by a test: lines in, the server's bytes out as text.
final class IMAPTestSession {
    var server: IMAPServer
    var now: IMAPDate
    var closed = false
    var tlsRequested = false

    init(_ store: MailStore, configuration: IMAPServerConfiguration = .plaintextAllowed, now: IMAPDate = imapCourseNow) {
        server = IMAPServer(backend: store, configuration: configuration.withTestOrigin(zone: now.utcOffsetMinutes))
        self.now = now
    }

    @discardableResult
    func greet() -> String { text(server.start(now: now.engineTime)) }

    /// Sends one line (CRLF added) and returns what the server wrote.
    @discardableResult
    func send(_ line: String) -> String { raw(Array((line + "\r\n").utf8)) }

    @discardableResult
    func raw(_ bytes: [UInt8]) -> String { text(server.receive(bytes, now: now.engineTime)) }

    /// Feeds bytes one at a time, collecting everything.
    func rawByteByByte(_ bytes: [UInt8]) -> String {
        var out = ""
        for b in bytes { out += text(server.receive([b], now: now.engineTime)) }
        return out
    }

    func changed() -> String { text(server.mailboxChanged(now: now.engineTime)) }

    func text(_ actions: [IMAPServerAction]) -> String {
        var out = ""
        for a in actions {
            switch a {
            case .send(let bytes): out += String(decoding: bytes, as: UTF8.self)
            case .startTLS: tlsRequested = true
            case .close: closed = true
            }
        }
        return out
    }
}

extension IMAPDate {
    /// The engine time (`ProtocolEngine`'s one time type) of this date for the test servers,
    /// whose origin is the Unix epoch (``IMAPServerConfiguration/withTestOrigin(zone:)``).
    var engineTime: Duration { .seconds(secondsSince1970) }
}

extension IMAPServerConfiguration {
    /// Engine time zero is the Unix epoch, in the zone of the test's dates (APPEND without a date
    /// gets the current date in that zone).
    func withTestOrigin(zone utcOffsetMinutes: Int = 60) -> IMAPServerConfiguration {
        var configuration = self
        configuration.origin = IMAPDate(secondsSince1970: 0, utcOffsetMinutes: utcOffsetMinutes)
        return configuration
    }

    /// The engine's default refuses plaintext logins before TLS (as Dovecot's
    /// `disable_plaintext_auth`); most tests log in on a plain test connection.
    static var plaintextAllowed: IMAPServerConfiguration { IMAPServerConfiguration(requireTLSForAuthentication: false) }
}

/// 2024-12-06 14:30:00 +0100, the date of the course's message.
let imapCourseNow = IMAPDate(year: 2024, month: 12, day: 6, hour: 14, minute: 30, second: 0, utcOffsetMinutes: 60)!

func imapCourseMessage(subject: String = "Urgent - Réunion", id: String = "xyz789") -> [UInt8] {
    Array("""
    Return-Path: <alice@example.com>\r
    From: Alice <alice@example.com>\r
    To: Bob <bob@company.org>\r
    Subject: \(subject)\r
    Date: Wed, 06 Dec 2024 14:30:00 +0100\r
    Message-ID: <\(id)@example.com>\r
    \r
    Bonjour Bob,\r
    \r
    La réunion de demain est avancée à 10h.\r
    Merci de confirmer ta présence.\r
    \r
    Alice\r

    """.utf8)
}

func imapLines(_ text: String) -> [String] {
    text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
}

/// A store with bob (3 messages in INBOX: 1 seen, 2 unseen; folders Sent, Drafts, Work, Work.Projects).
func imapCourseStore() throws -> MailStore {
    let store = MailStore(now: IMAPDate(secondsSince1970: 1_234_567_890))
    try store.addUser("bob", password: "secret123", addresses: ["bob@company.org"])
    try store.addUser("alice", password: "mypassword", addresses: ["alice@example.com"])
    for name in ["Sent", "Drafts", "Work", "Work.Projects"] { try store.createMailbox(user: "bob", name: name) }
    let first = try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "Hello", id: "a1"), internalDate: imapCourseNow)
    try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "Lunch", id: "a2"), internalDate: imapCourseNow)
    try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [first], operation: .add, flags: [.seen])
    // A first session has already seen the first two, so only the third is \Recent.
    _ = try store.snapshot(user: "bob", mailbox: "INBOX", claimRecent: true)
    try store.deliver(to: "bob", bytes: imapCourseMessage(), internalDate: imapCourseNow)
    return store
}
