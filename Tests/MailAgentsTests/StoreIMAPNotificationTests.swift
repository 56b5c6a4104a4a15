import Testing
import MailCore
import MailSim
@testable import MailAgents

/// When untagged news reaches a session: after the command's own responses and before its tagged
/// reply (Dovecot's order), at once during IDLE, never before EXISTS announced the message.
@Suite struct StoreIMAPNotificationTests {
    func selected(_ store: MailStore) -> IMAPTestSession {
        let s = IMAPTestSession(store)
        s.greet()
        s.send("a LOGIN bob secret123")
        s.send("b SELECT INBOX")
        return s
    }

    @Test func newMailIsAnnouncedAfterTheCommandsOwnResponses() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "New", id: "n1"), internalDate: imapCourseNow)
        // FETCH 1:* covers the three announced messages only; then the news, then the tagged OK.
        #expect(imapLines(s.send("c FETCH 1:* (UID)")) == [
            "* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)",
            "* 4 EXISTS", "* 2 RECENT",
            "c OK FETCH completed"])
        #expect(imapLines(s.send("d FETCH 4 (UID FLAGS)")) == ["* 4 FETCH (UID 4 FLAGS (\\Recent))", "d OK FETCH completed"])
    }

    @Test func aMessageNotYetAnnouncedIsNeverFetched() throws {
        let store = try imapCourseStore()
        let s = selected(store)
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "New", id: "n1"), internalDate: imapCourseNow)
        // Sequence number 4 does not exist yet in this session: BAD, and the news follows.
        #expect(imapLines(s.send("c FETCH 4 (UID)")) == ["c BAD Invalid messageset"])
        #expect(imapLines(s.send("d UID FETCH 4 (FLAGS)")) == ["* 4 EXISTS", "* 2 RECENT", "d OK UID FETCH completed"])
        #expect(imapLines(s.send("e UID FETCH 4 (FLAGS)")) == ["* 4 FETCH (UID 4 FLAGS (\\Recent))", "e OK UID FETCH completed"])
    }

    @Test func expungesWaitForACommandThatAllowsThem() throws {
        let store = try imapCourseStore()
        let a = selected(store), b = selected(store)
        #expect(imapLines(b.send("c STORE 2 +FLAGS (\\Deleted)")) == ["* 2 FETCH (FLAGS (\\Deleted))", "c OK STORE completed"])
        #expect(imapLines(b.send("d EXPUNGE")) == ["* 2 EXPUNGE", "d OK EXPUNGE completed"])
        // RFC 3501 §7.4.1: no EXPUNGE during FETCH by sequence number; NOOP then reports it.
        #expect(imapLines(a.send("e FETCH 1 (FLAGS)")) == ["* 1 FETCH (FLAGS (\\Seen))", "e OK FETCH completed"])
        #expect(imapLines(a.send("f NOOP")) == ["* 2 EXPUNGE", "f OK NOOP completed"])
        #expect(imapLines(a.send("g FETCH 2 (UID)")) == ["* 2 FETCH (UID 3)", "g OK FETCH completed"])
    }

    @Test func aFlagChangeByAnotherSessionFollowsTheOwnResponses() throws {
        let store = try imapCourseStore()
        let a = selected(store), b = selected(store)
        b.send("c STORE 3 +FLAGS (\\Flagged)")
        #expect(imapLines(a.send("d SEARCH FLAGGED")) == ["* SEARCH 3", "* 3 FETCH (FLAGS (\\Flagged \\Recent))", "d OK SEARCH completed"])
    }

    @Test func idleReportsArrivalsWithTheirRecentCount() throws {
        let store = try imapCourseStore()
        let a = selected(store), b = selected(store)
        #expect(a.send("c IDLE") == "+ idling\r\n")
        try store.deliver(to: "bob", bytes: imapCourseMessage(subject: "New", id: "n1"), internalDate: imapCourseNow)
        // a already holds message 3 as \Recent and claims the new one: 2.
        #expect(imapLines(a.changed()) == ["* 4 EXISTS", "* 2 RECENT"])
        // Another session learns of it too, but \Recent belongs to one session only (RFC 3501 §2.3.2).
        #expect(imapLines(b.send("d NOOP")) == ["* 4 EXISTS", "* 0 RECENT", "d OK NOOP completed"])
        #expect(a.send("DONE") == "c OK IDLE terminated\r\n")
    }

    /// Two sessions through the MDA of the course world: one waits in IDLE; the other's STORE and
    /// EXPUNGE and a delivery reach it through the store's observers before it sends DONE.
    @Test func idlePushThroughTheMDA() throws {
        let mail = try MailWorld.course(seed: 41)
        try sendToBob(mail, subject: "First")
        mail.mdas["mail1.company.org"]?.setPlaintextLoginRequiresTLS(false)
        let world = mail.world
        var idler = "", other = ""
        let a = world.connect(from: world.host("bob-pc")!, to: "mail1.company.org", port: 143) { e in
            if case .data(let b) = e { idler += String(decoding: b, as: UTF8.self) }
        }
        let b = world.connect(from: world.host("bob-pc")!, to: "mail1.company.org", port: 143) { e in
            if case .data(let b) = e { other += String(decoding: b, as: UTF8.self) }
        }
        a.write("a1 LOGIN bob secret123\r\na2 SELECT INBOX\r\na3 IDLE\r\n")
        b.write("b1 LOGIN bob secret123\r\nb2 SELECT INBOX\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(idler.hasSuffix("+ idling\r\n"), "\(idler)")

        b.write("b3 STORE 1 +FLAGS (\\Flagged)\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(idler.hasSuffix("+ idling\r\n* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\n"), "\(idler)")

        try sendToBob(mail, subject: "Second")
        #expect(idler.hasSuffix("* 2 EXISTS\r\n* 2 RECENT\r\n"), "\(idler)")

        b.write("b4 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(idler.hasSuffix("* 1 FETCH (FLAGS (\\Flagged \\Deleted \\Recent))\r\n"), "\(idler)")
        b.write("b5 EXPUNGE\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(idler.hasSuffix("* 1 FETCH (FLAGS (\\Flagged \\Deleted \\Recent))\r\n* 1 EXPUNGE\r\n"), "\(idler)")
        #expect(!idler.contains("a3 OK"))

        a.write("DONE\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(idler.hasSuffix("a3 OK IDLE terminated\r\n"), "\(idler)")
        #expect(other.contains("b5 OK EXPUNGE completed"))
    }
}

/// Dovecot's `disable_plaintext_auth = yes` (the engine's default) and the pre-login limits.
@Suite struct StoreIMAPLoginPolicyTests {
    @Test func theDefaultRefusesPlaintextLoginUntilTLS() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store, configuration: IMAPServerConfiguration())
        #expect(s.greet() == "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT "
            + "SPECIAL-USE ESEARCH SORT STARTTLS LOGINDISABLED] Dovecot ready.\r\n")
        let refused = "NO [PRIVACYREQUIRED] Login refused: this connection is not encrypted. Use STARTTLS first, or port 993.\r\n"
        #expect(s.send("a LOGIN bob secret123") == "a " + refused)
        #expect(s.send("b AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=") == "b " + refused)
        #expect(s.send("c AUTHENTICATE LOGIN") == "c " + refused)
        #expect(s.server.user == nil)
        #expect(s.send("d STARTTLS") == "d OK Begin TLS negotiation\r\n")
        #expect(s.tlsRequested)
        _ = s.server.tlsEstablished(now: s.now.engineTime)
        #expect(s.send("e CAPABILITY") == "* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT "
            + "SPECIAL-USE ESEARCH SORT AUTH=PLAIN AUTH=LOGIN\r\ne OK CAPABILITY completed\r\n")
        #expect(s.send("f LOGIN bob secret123").hasPrefix("f OK [CAPABILITY"))
    }

    @Test func implicitTLSAcceptsLoginAtOnce() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store, configuration: IMAPServerConfiguration(implicitTLS: true))
        #expect(s.greet().contains("AUTH=PLAIN AUTH=LOGIN] Dovecot ready."))
        #expect(s.send("a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=").hasPrefix("a OK [CAPABILITY"))
    }

    @Test func beforeLoginABigLiteralIsRefusedWithoutContinuation() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("a LOGIN {9000}") == "a NO [TOOBIG] Literal of 9000 octets is too big (limit 8192).\r\n")
        #expect(s.send("b LOGIN {5}") == "+ OK\r\n")
        #expect(s.send("bob42 x") == "b NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        let flood = String(repeating: "z", count: 9000)
        #expect(s.send("c LOGIN {9000+}\r\n\(flood) x") == "c BAD [TOOBIG] Literal of 9000 octets is too big or not allowed; its octets are discarded.\r\n")
        #expect(s.send("d LOGIN bob secret123").hasPrefix("d OK"))
        // Once logged in, the usual limits apply.
        #expect(s.send("e APPEND Drafts {9000}") == "+ OK\r\n")
    }

    @Test func repeatedFailuresAreDelayedThenDisconnected() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("a LOGIN bob wrong") == "a NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        #expect(s.send("b LOGIN bob wrong") == "b NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        // The third failure waits 2 s of engine time, the input meanwhile is held.
        #expect(s.send("c LOGIN bob wrong") == "")
        #expect(s.send("d NOOP") == "")
        let start = s.now
        let deadline = try #require(s.server.nextDeadline)
        #expect(deadline == start.engineTime + .seconds(2))
        #expect(s.text(s.server.timerFired(now: start.engineTime + .seconds(1))) == "")
        #expect(s.text(s.server.timerFired(now: deadline))
            == "c NO [AUTHENTICATIONFAILED] Authentication failed.\r\n* BYE Too many failed login attempts.\r\n")
        #expect(s.closed)
        #expect(s.server.user == nil)
    }

    @Test func aDelayedFailureBelowTheLimitResumesTheHeldInput() throws {
        let store = try imapCourseStore()
        var config = IMAPServerConfiguration.plaintextAllowed
        config.maxAuthFailures = 5
        let s = IMAPTestSession(store, configuration: config)
        s.greet()
        s.send("a LOGIN bob wrong")
        s.send("b LOGIN bob wrong")
        #expect(s.send("c AUTHENTICATE PLAIN AGJvYgB3cm9uZw==") == "")
        #expect(s.send("d LOGIN bob secret123") == "")
        let deadline = try #require(s.server.nextDeadline)
        let out = imapLines(s.text(s.server.timerFired(now: deadline)))
        #expect(out.count == 2)
        #expect(out.first == "c NO [AUTHENTICATIONFAILED] Authentication failed.")
        #expect(out.last?.hasPrefix("d OK [CAPABILITY") == true)
        #expect(s.server.user == "bob")
    }
}
