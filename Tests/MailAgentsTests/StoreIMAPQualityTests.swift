import Testing
import MailCore
@testable import MailAgents

/// QUALITY.md items 9–14 against the real store.
@Suite struct StoreIMAPQualityTests {
    func loggedIn(_ configuration: IMAPServerConfiguration = .plaintextAllowed) throws -> (MailStore, IMAPTestSession) {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store, configuration: configuration)
        s.greet()
        s.send("a LOGIN bob secret123")
        return (store, s)
    }

    // 9
    @Test func unknownCommandIsBadAndSessionContinues() throws {
        let (_, s) = try loggedIn()
        #expect(s.send("x1 FROBNICATE now") == "x1 BAD Unknown command.\r\n")
        #expect(s.send("x2 NOOP") == "x2 OK NOOP completed\r\n")
        #expect(!s.closed)
    }

    @Test func wrongStateIsBad() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        #expect(s.send("a SELECT INBOX") == "a BAD Command SELECT is not valid in this state.\r\n")
        #expect(s.send("b FETCH 1 FLAGS") == "b BAD Command FETCH is not valid in this state.\r\n")
        s.send("c LOGIN bob secret123")
        #expect(s.send("d FETCH 1 FLAGS") == "d BAD Command FETCH is not valid in this state.\r\n")
        #expect(s.send("e LOGIN bob secret123") == "e BAD Command LOGIN is not valid in this state.\r\n")
    }

    // 10
    @Test func overlongLineIsBadThenSessionContinues() throws {
        let (_, s) = try loggedIn()
        let long = "t1 NOOP " + String(repeating: "x", count: 70_000)
        let out = s.raw(Array(long.utf8))
        #expect(out == "t1 BAD Command line too long.\r\n")
        #expect(s.raw(Array("yyyy\r\n".utf8)) == "")
        #expect(s.send("t2 NOOP") == "t2 OK NOOP completed\r\n")
    }

    // 11
    @Test func hugeSynchronisingLiteralIsTooBig() throws {
        let (_, s) = try loggedIn()
        #expect(s.send("a APPEND INBOX {999999999}") == "a NO [TOOBIG] Literal of 999999999 octets is too big (limit 10485760).\r\n")
        #expect(s.send("b NOOP") == "b OK NOOP completed\r\n")
    }

    @Test func acceptedLiteralGetsContinuationAndAppends() throws {
        let (store, s) = try loggedIn()
        let msg = "Subject: hi\r\n\r\nbody\r\n"
        #expect(s.send("a APPEND Drafts (\\Draft) {\(msg.utf8.count)}") == "+ OK\r\n")
        let uv = try store.uidState(user: "bob", mailbox: "Drafts").uidValidity
        #expect(s.raw(Array((msg + "\r\n").utf8)) == "a OK [APPENDUID \(uv) 1] APPEND completed\r\n")
        #expect(try store.messages(user: "bob", mailbox: "Drafts").map(\.flags) == [[.draft]])
    }

    @Test func nonSynchronisingLiteralTooBigIsBadAndItsOctetsAreNeverCommands() throws {
        var config = IMAPServerConfiguration.plaintextAllowed
        config.limits.maxLiteral = 100
        let (store, s) = try loggedIn(config)
        let payload = String(repeating: "z DELETE Work.Projects\r\n", count: 10) // 240 octets
        let out = s.raw(Array("a APPEND INBOX {\(payload.utf8.count)+}\r\n\(payload) more\r\nb NOOP\r\n".utf8))
        #expect(out == "a BAD [TOOBIG] Literal of 240 octets is too big or not allowed; its octets are discarded.\r\nb OK NOOP completed\r\n")
        #expect(store.mailboxes(user: "bob").contains { $0.name == "Work.Projects" })
    }

    @Test func nonSynchronisingLiteralWithinLimitsNeedsNoContinuation() throws {
        let (store, s) = try loggedIn()
        let out = s.raw(Array("a CREATE {6+}\r\nPapers\r\nb NOOP\r\n".utf8))
        #expect(out == "a OK CREATE completed\r\nb OK NOOP completed\r\n")
        #expect(store.mailboxes(user: "bob").contains { $0.name == "Papers" })
    }

    // 12
    @Test(arguments: ["FETCH 0 FLAGS", "FETCH 1:x FLAGS", "FETCH 4 FLAGS", "FETCH , FLAGS", "FETCH 1, FLAGS", "STORE 0 +FLAGS (\\Seen)", "COPY 0 Sent"])
    func malformedOrOutOfRangeSetsAreBad(_ command: String) throws {
        let (_, s) = try loggedIn()
        s.send("s SELECT INBOX")
        let out = s.send("q " + command)
        #expect(out.hasPrefix("q BAD "))
    }

    @Test func uidRangeMatchingNothingIsOK() throws {
        let (_, s) = try loggedIn()
        s.send("s SELECT INBOX")
        #expect(s.send("q UID FETCH 100:200 FLAGS") == "q OK UID FETCH completed\r\n")
        #expect(s.send("r UID STORE 100 +FLAGS (\\Seen)") == "r OK UID STORE completed\r\n")
        #expect(s.send("t UID SEARCH UID 100:200") == "* SEARCH\r\nt OK UID SEARCH completed\r\n")
    }

    @Test func deeplyNestedSearchIsBad() throws {
        let (_, s) = try loggedIn()
        s.send("s SELECT INBOX")
        let nested = String(repeating: "(", count: 100) + "ALL" + String(repeating: ")", count: 100)
        #expect(s.send("q SEARCH " + nested) == "q BAD Search query too deeply nested.\r\n")
        let nots = String(repeating: "NOT ", count: 100) + "ALL"
        #expect(s.send("r SEARCH " + nots) == "r BAD Search query too deeply nested.\r\n")
        #expect(s.send("t SEARCH NOT (OR SEEN (FLAGGED))") == "* SEARCH 2 3\r\nt OK SEARCH completed\r\n")
    }

    // 13
    @Test func startTLSDropsPipelinedCommand() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store)
        s.greet()
        let out = s.raw(Array("a STARTTLS\r\nb CAPABILITY\r\n".utf8))
        #expect(out == "a OK Begin TLS negotiation\r\n")
        #expect(s.tlsRequested)
        #expect(s.raw(Array("c NOOP\r\n".utf8)) == "") // plaintext before the handshake ends is ignored
        _ = s.server.tlsEstablished(now: s.now.engineTime)
        #expect(s.send("d CAPABILITY") == "* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE ESEARCH SORT AUTH=PLAIN AUTH=LOGIN\r\nd OK CAPABILITY completed\r\n")
        #expect(s.send("e STARTTLS") == "e BAD TLS is already active or not available.\r\n")
    }

    @Test func startTLSAfterLoginIsBad() throws {
        let (_, s) = try loggedIn()
        #expect(s.send("z STARTTLS") == "z BAD Command STARTTLS is not valid in this state.\r\n")
    }

    @Test func idleEndsWithBadOnAnythingButDone() throws {
        let (_, s) = try loggedIn()
        s.send("s SELECT INBOX")
        #expect(s.send("i IDLE") == "+ idling\r\n")
        #expect(s.send("n NOOP") == "i BAD Expected DONE.\r\n")
        #expect(s.send("m NOOP") == "m OK NOOP completed\r\n")
        #expect(s.send("j IDLE") == "+ idling\r\n")
        #expect(s.send("done") == "j OK IDLE terminated\r\n")
    }

    @Test func loginRefusedWithoutTLSWhenRequired() throws {
        let store = try imapCourseStore()
        let s = IMAPTestSession(store, configuration: IMAPServerConfiguration(requireTLSForAuthentication: true))
        #expect(s.greet().contains("STARTTLS LOGINDISABLED]"))
        #expect(s.send("a LOGIN bob secret123") == "a NO [PRIVACYREQUIRED] Login refused: this connection is not encrypted. Use STARTTLS first, or port 993.\r\n")
        s.send("b STARTTLS")
        _ = s.server.tlsEstablished(now: s.now.engineTime)
        #expect(s.send("c LOGIN bob secret123").hasPrefix("c OK [CAPABILITY"))
    }

    // 14
    @Test func mailboxNameWithCRLFIsRefusedWithSanitisedEcho() throws {
        let (store, s) = try loggedIn()
        let out = s.raw(Array("a CREATE {7+}\r\nab\r\ncd!\r\n".utf8))
        #expect(out == "a NO Mailbox name is not valid mUTF-7: \"ab??cd!\"\r\n")
        #expect(!store.mailboxes(user: "bob").contains { $0.name.hasPrefix("ab") })
    }

    @Test(arguments: ["Envoy&AOk", "Envoy&AOk-&AOk-s", "&Jjo!", "caf\u{e9}", "&AGE-"])
    func brokenModifiedUTF7IsNO(_ name: String) throws {
        let (_, s) = try loggedIn()
        let out = s.send("a SELECT \"\(name)\"")
        // NO, not BAD (as Dovecot): a BAD would make careful clients drop the connection.
        #expect(out.hasPrefix("a NO Mailbox name is not valid mUTF-7: \""))
        #expect(!out.dropLast(2).contains("\r") && !out.contains("\u{e9}"))
    }

    @Test func modifiedUTF7NamesRoundTripThroughTheStore() throws {
        let (store, s) = try loggedIn()
        #expect(s.send("a CREATE Envoy&AOk-s") == "a OK CREATE completed\r\n")
        #expect(store.mailboxes(user: "bob").contains { $0.name == "Envoyés" })
        #expect(s.send("b LIST \"\" Envoy*") == "* LIST (\\HasNoChildren) \".\" Envoy&AOk-s\r\nb OK LIST completed\r\n")
    }

    @Test func envelopeEscapesQuotesAndUsesLiteralsForLineBreaks() throws {
        let (store, s) = try loggedIn()
        try store.deliver(to: "bob", bytes: Array("From: \"Q \\\"x\\\" \\\\\" <q@x.org>\r\nSubject: say \"hi\" \\ bye\r\n\r\nb\r\n".utf8), internalDate: imapCourseNow)
        s.send("s SELECT INBOX")
        let out = s.send("f FETCH 4 ENVELOPE")
        #expect(out == "* 4 FETCH (ENVELOPE (NIL \"say \\\"hi\\\" \\\\ bye\" ((\"Q \\\"x\\\" \\\\\" NIL \"q\" \"x.org\")) "
            + "((\"Q \\\"x\\\" \\\\\" NIL \"q\" \"x.org\")) ((\"Q \\\"x\\\" \\\\\" NIL \"q\" \"x.org\")) NIL NIL NIL NIL NIL))\r\nf OK FETCH completed\r\n")
    }

    @Test func byteByByteFeedingGivesTheSameReplies() throws {
        let script = Array("a LOGIN bob secret123\r\nb SELECT INBOX\r\nc FETCH 1:* (FLAGS UID)\r\nd APPEND Sent {5+}\r\nhello\r\ne SEARCH OR SEEN TEXT \"Lunch\"\r\nf LOGOUT\r\n".utf8)
        let whole = IMAPTestSession(try imapCourseStore()).raw(script)
        let bytewise = IMAPTestSession(try imapCourseStore()).rawByteByByte(script)
        #expect(whole == bytewise)
        #expect(whole.hasSuffix("f OK LOGOUT completed\r\n"))
        #expect(whole.contains("* SEARCH 1 2\r\n"))
    }
}
