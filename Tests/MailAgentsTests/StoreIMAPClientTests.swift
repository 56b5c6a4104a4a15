import Testing
import MailCore
@testable import MailAgents

/// The client engine against the server engine and the real store, back to back.
final class IMAPBackToBack {
    var client = IMAPClient()
    var server: IMAPServer
    let now = imapCourseNow
    var sync = IMAPSyncState()
    var wire: [String] = []

    init(_ store: MailStore, clientSeesGreeting: Bool = true) {
        server = IMAPServer(backend: store, configuration: IMAPServerConfiguration.plaintextAllowed.withTestOrigin())
        let greeting = server.start(now: now.engineTime)
        if clientSeesGreeting {
            _ = deliver(greeting)
        } else {
            _ = client.receive(Array("* OK ready\r\n".utf8))
        }
    }

    /// Carries server actions to the client; returns the parsed responses.
    func deliver(_ actions: [IMAPServerAction]) -> [IMAPResponse] {
        var out = [IMAPResponse]()
        for a in actions {
            switch a {
            case .send(let bytes):
                wire.append("S: " + String(decoding: bytes, as: UTF8.self))
                out += pump(client.receive(bytes))
            case .startTLS, .close: break
            }
        }
        return out
    }

    /// Carries client output to the server; returns the responses it provoked.
    func pump(_ outputs: [IMAPClient.Output]) -> [IMAPResponse] {
        var out = [IMAPResponse]()
        for o in outputs {
            switch o {
            case .send(let bytes):
                wire.append("C: " + String(decoding: bytes, as: UTF8.self))
                out += deliver(server.receive(bytes, now: now.engineTime))
            case .event(let r): out.append(r)
            case .startTLS, .close: break
            }
        }
        return out
    }

    func run(_ command: IMAPCommand) -> [IMAPResponse] { pump(client.send(command).output) }

    /// Runs the sync loop until it waits (IDLE) or wants to poll.
    func drive(_ first: IMAPSyncState.Step) -> IMAPSyncState.Step {
        var step = first
        for _ in 0..<50 {
            let responses: [IMAPResponse]
            switch step {
            case .send(let cmd): responses = run(cmd)
            case .endIdle: responses = pump(client.done())
            case .wait, .pollLater: return step
            }
            step = .wait
            for r in responses {
                let s = sync.apply(r)
                if s != .wait { step = s }
            }
        }
        return step
    }

    func feed(_ responses: [IMAPResponse]) -> IMAPSyncState.Step {
        var step = IMAPSyncState.Step.wait
        for r in responses {
            let s = sync.apply(r)
            if s != .wait { step = s }
        }
        return step
    }
}

@Suite struct StoreIMAPClientTests {
    @Test func clientCommandsAgainstServer() throws {
        let store = try imapCourseStore()
        let b = IMAPBackToBack(store)
        #expect(b.client.state == .notAuthenticated)
        #expect(b.client.capabilities.contains("LITERAL+"))
        let login = b.run(.login(user: "bob", password: "secret123"))
        #expect(login.last == .tagged(tag: "a001", .ok, code: "CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT SPECIAL-USE ESEARCH SORT", text: "Logged in"))
        #expect(b.client.state == .authenticated)
        #expect(b.run(.create("Envoyés")).last == .tagged(tag: "a002", .ok, code: nil, text: "CREATE completed"))
        let list = b.run(.list(reference: "", pattern: "*"))
        #expect(list.contains(.list(attributes: ["\\HasNoChildren"], separator: ".", name: "Envoyés", lsub: false)))
        _ = b.run(.select("INBOX"))
        #expect(b.client.state == .selected("INBOX"))
        let fetched = b.run(.fetch(IMAPSequenceSet(parsing: "3")!, [.envelope, .section(IMAPSection(text: .text), partial: nil, peek: true)], uid: true))
        guard case .fetch(3, let data)? = fetched.first else { Issue.record("no FETCH: \(fetched)"); return }
        #expect(data.uid == 3)
        #expect(data.envelope?.subject == "Urgent - Réunion")
        #expect(data.envelope?.from == [IMAPAddress(name: "Alice", mailbox: "alice", host: "example.com")])
        #expect(data.sections["BODY[TEXT]"].map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("Bonjour Bob,") == true)
        #expect(b.run(.store(IMAPSequenceSet(parsing: "3")!, .add, silent: false, [.flagged], uid: true)).first
            == .fetch(seq: 3, IMAPFetchData(uid: 3, flags: [.flagged, .recent])))
        let copy = b.run(.copy(IMAPSequenceSet(parsing: "2:3")!, "Envoyés", uid: true))
        guard case .tagged(_, .ok, let code, _)? = copy.last, let uids = IMAPResponse.uidPlus(code) else { Issue.record("no COPYUID"); return }
        #expect(uids.source?.description == "2:3" && uids.destination.description == "1:2")
        let moved = b.run(.move(IMAPSequenceSet(parsing: "1")!, "Work", uid: false))
        #expect(moved.contains(.expunge(1)))
        _ = b.run(.store(IMAPSequenceSet(parsing: "1")!, .add, silent: true, [.deleted], uid: false))
        #expect(b.run(.expunge) == [.expunge(1), .tagged(tag: "a010", .ok, code: nil, text: "EXPUNGE completed")])
        #expect(b.run(.logout).last == .tagged(tag: "a011", .ok, code: nil, text: "LOGOUT completed"))
        #expect(b.client.state == .logout)
    }

    @Test func synchronisingLiteralWaitsForContinuation() throws {
        let store = try imapCourseStore()
        try store.addUser("zoé", password: "mötdepasse")
        let b = IMAPBackToBack(store, clientSeesGreeting: false)
        #expect(!b.client.capabilities.contains("LITERAL+"))
        // 8-bit user name and password go as synchronising literals: each waits for "+".
        let login = b.run(.login(user: "zoé", password: "mötdepasse"))
        #expect(login.first == .continuation("OK"))
        #expect(login.last.map { if case .tagged(_, .ok, _, _) = $0 { return true } else { return false } } == true)
        #expect(b.wire.prefix(4) == ["C: a001 LOGIN {4}\r\n", "S: + OK\r\n", "C: zoé {11}\r\n", "S: + OK\r\n"])
        #expect(b.client.state == .authenticated)
    }

    @Test func authenticatePlainWithoutSASLIR() throws {
        let store = try imapCourseStore()
        let b = IMAPBackToBack(store, clientSeesGreeting: false)
        let r = b.pump(b.client.authenticatePlain(user: "bob", password: "secret123").output)
        #expect(r.first == .continuation(""))
        #expect(b.client.state == .authenticated)
    }

    @Test func syncLoopFollowsTheServerWithIdle() throws {
        let store = try imapCourseStore()
        let b = IMAPBackToBack(store)
        _ = b.run(.login(user: "bob", password: "secret123"))
        var step = b.drive(b.sync.start(capabilities: b.client.capabilities))
        #expect(step == .wait)
        #expect(b.client.isIdling)
        #expect(b.sync.folderNames == ["INBOX", "Sent", "Drafts", "Work", "Work.Projects"])
        #expect(b.sync.view.uids == [1, 2, 3])
        #expect(b.sync.view.flags[1] == [.seen])
        #expect(b.sync.view.uidValidity == 1_234_567_890)

        // Another device flags a message and mail arrives: IDLE pushes, the loop fetches.
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [2], operation: .add, flags: [.flagged])
        try store.deliver(to: "bob", bytes: imapCourseMessage(id: "later"), internalDate: imapCourseNow)
        step = b.feed(b.deliver(b.server.mailboxChanged(now: b.now.engineTime)))
        #expect(step == .endIdle)
        step = b.drive(step)
        #expect(step == .wait)
        #expect(b.sync.view.uids == [1, 2, 3, 4])
        #expect(b.sync.view.flags[2] == [.flagged])

        // An expunge elsewhere.
        try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [1], operation: .add, flags: [.deleted])
        try store.expunge(user: "bob", mailbox: "INBOX")
        _ = b.feed(b.deliver(b.server.mailboxChanged(now: b.now.engineTime)))
        #expect(b.sync.view.uids == [2, 3, 4])
        #expect(b.sync.view.flags[1] == nil)
    }

    @Test func syncLoopPollsWithoutIdle() throws {
        let store = try imapCourseStore()
        let b = IMAPBackToBack(store)
        _ = b.run(.login(user: "bob", password: "secret123"))
        var step = b.drive(b.sync.start(capabilities: ["IMAP4REV1"]))
        #expect(step == .pollLater)
        try store.deliver(to: "bob", bytes: imapCourseMessage(id: "polled"), internalDate: imapCourseNow)
        step = b.drive(b.sync.poll())
        #expect(step == .pollLater)
        #expect(b.sync.view.uids == [1, 2, 3, 4])
    }
}

@Suite struct StoreIMAPClientTLSTests {
    @Test func clientStartTLSThenLogin() throws {
        let store = try imapCourseStore()
        var server = IMAPServer(backend: store, configuration: IMAPServerConfiguration(requireTLSForAuthentication: true).withTestOrigin())
        var client = IMAPClient()
        func toClient(_ actions: [IMAPServerAction]) -> [IMAPClient.Output] {
            actions.flatMap { a -> [IMAPClient.Output] in
                if case .send(let bytes) = a { return client.receive(bytes) }
                return []
            }
        }
        func toServer(_ outputs: [IMAPClient.Output]) -> [IMAPServerAction] {
            outputs.flatMap { o -> [IMAPServerAction] in
                if case .send(let bytes) = o { return server.receive(bytes, now: imapCourseNow.engineTime) }
                return []
            }
        }
        _ = toClient(server.start(now: imapCourseNow.engineTime))
        #expect(client.capabilities.contains("STARTTLS") && client.capabilities.contains("LOGINDISABLED"))
        let fromServer = toServer(client.send(.startTLS).output)
        #expect(fromServer.last == .startTLS)
        let clientOut = toClient(fromServer)
        #expect(clientOut.contains(.startTLS))
        _ = server.tlsEstablished(now: imapCourseNow.engineTime)
        _ = client.tlsEstablished()
        #expect(client.capabilities.isEmpty)
        _ = toClient(toServer(client.send(.capability).output))
        #expect(client.capabilities.contains("AUTH=PLAIN") && !client.capabilities.contains("STARTTLS"))
        _ = toClient(toServer(client.authenticatePlain(user: "bob", password: "secret123").output))
        #expect(client.state == .authenticated)
        #expect(server.user == "bob")
    }
}
