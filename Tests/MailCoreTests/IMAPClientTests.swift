import Testing
@testable import MailCore

@Suite struct IMAPClientEngineTests {
    static let serverBytes = Array(("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE SASL-IR] Dovecot ready.\r\n"
        + "a001 OK Logged in\r\n"
        + "* 2 EXISTS\r\n* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\na002 OK FETCH completed\r\n").utf8)

    func responses(_ chunks: [[UInt8]]) -> [IMAPResponse] {
        var c = IMAPClient()
        _ = c.send(.login(user: "bob", password: "secret123"))
        _ = c.send(.fetch(.all, [.uid, .flags], uid: true))
        var out = [IMAPResponse]()
        for chunk in chunks {
            for o in c.receive(chunk) { if case .event(let r) = o { out.append(r) } }
        }
        return out
    }

    @Test func byteByByteEqualsWhole() {
        let whole = responses([Self.serverBytes])
        #expect(whole == responses(Self.serverBytes.map { [$0] }))
        #expect(whole.count == 5)
        #expect(whole[3] == .fetch(seq: 1, IMAPFetchData(uid: 7, flags: [.seen], sections: ["BODY[]": Array("hello".utf8)])))
    }

    @Test func tagsAndStates() {
        var c = IMAPClient()
        _ = c.receive(Array("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n".utf8))
        #expect(c.state == .notAuthenticated)
        let (tag, out) = c.send(.login(user: "bob", password: "a b"))
        #expect(tag == "a001")
        #expect(out == [.send(Array("a001 LOGIN bob \"a b\"\r\n".utf8))])
        _ = c.receive(Array("a001 OK Logged in\r\n".utf8))
        #expect(c.state == .authenticated)
        _ = c.send(.select("Envoyés"))
        _ = c.receive(Array("a002 NO [NONEXISTENT] Mailbox doesn't exist: Envoy&AOk-s\r\n".utf8))
        #expect(c.state == .authenticated)
        let idle = c.send(.idle)
        #expect(idle.output == [.send(Array("a003 IDLE\r\n".utf8))])
        _ = c.receive(Array("+ idling\r\n".utf8))
        #expect(c.isIdling)
        #expect(c.done() == [.send(Array("DONE\r\n".utf8))])
        _ = c.receive(Array("a003 OK IDLE terminated\r\n".utf8))
        #expect(c.pending.isEmpty)
    }
}

@Suite struct IMAPSyncStateTests {
    @Test func followsExpungesFlagsAndUIDValidityChanges() {
        var s = IMAPSyncState()
        #expect(s.start(capabilities: ["IDLE"]) == .send(.list(reference: "", pattern: "*")))
        _ = s.apply(.list(attributes: [], separator: ".", name: "INBOX", lsub: false))
        #expect(s.apply(.tagged(tag: "a1", .ok, code: nil, text: "")) == .send(.select("INBOX")))
        _ = s.apply(.untaggedStatus(.ok, code: "UIDVALIDITY 5", text: ""))
        #expect(s.apply(.tagged(tag: "a2", .ok, code: nil, text: "")) == .send(.fetch(.all, [.uid, .flags], uid: true)))
        for (seq, uid) in [(1, 10), (2, 11), (3, 12)] as [(Int, UInt32)] {
            _ = s.apply(.fetch(seq: seq, IMAPFetchData(uid: uid, flags: [])))
        }
        #expect(s.apply(.tagged(tag: "a3", .ok, code: nil, text: "")) == .send(.idle))
        _ = s.apply(.continuation("idling"))
        _ = s.apply(.fetch(seq: 2, IMAPFetchData(flags: [.seen, .recent])))
        _ = s.apply(.expunge(1))
        #expect(s.view.uids == [11, 12])
        #expect(s.view.flags[11] == [.seen])
        #expect(s.apply(.exists(3)) == .endIdle)
        #expect(s.apply(.tagged(tag: "a4", .ok, code: nil, text: "")) == .send(.fetch(IMAPSequenceSet(ranges: [.init(.number(13), .star)]), [.uid, .flags], uid: true)))
        _ = s.apply(.untaggedStatus(.ok, code: "UIDVALIDITY 6", text: ""))
        #expect(s.view.uids.isEmpty)
        #expect(s.view.uidValidity == 6)
    }
}
