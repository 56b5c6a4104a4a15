import Testing
@testable import MailSim
import MailCore

@Suite("Virtual sockets and faults")
struct NetworkTests {
    @Test("a line exchange completes with link latency and a clean FIN exchange")
    func exchange() throws {
        let world = try World.defaultWorld(seed: 1)
        let service = try EchoService(world: world, host: "mail.example.com", port: 25)
        let client = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25,
                                      script: ["HELO alice", "QUIT"])
        try world.runUntilIdle()
        #expect(client.replies == ["220 mail.example.com echo ready", "250 HELO alice", "221 bye"])
        #expect(client.events.first == "connected")
        #expect(service.serverEvents.contains("data(12)"))
        #expect(client.connection.state == .closed)
        #expect(world.openConnectionCount == 0)
        // 3 round trips of 10 ms after the 10 ms handshake (5 ms one way).
        let tapEvents = try #require(world.tap.connections.first).events
        #expect(tapEvents.first?.kind == .syn)
        #expect(tapEvents.contains { $0.kind == .synAck && $0.time == .at(.milliseconds(5)) })
        #expect(tapEvents.contains { $0.kind == .established && $0.time == .at(.milliseconds(10)) })
    }

    @Test("connecting to a closed port is refused after one round trip")
    func refused() throws {
        let world = try World.defaultWorld(seed: 1)
        let recorder = EventRecorder()
        try world.connect(from: "alice-laptop", to: "198.51.100.25", port: 25, onEvent: recorder.attach(world))
        try world.runUntilIdle()
        #expect(recorder.kinds == ["connectFailed(connection refused)"])
        #expect(recorder.events.first?.0 == .at(.milliseconds(10)))
        #expect(world.transcript().contains("-- connection refused at +0.010s --"))
    }

    @Test("connecting to a down host times out exactly at the connect timeout")
    func downHostTimesOut() throws {
        let world = try World.defaultWorld(seed: 1)
        world.connectTimeout = .seconds(45)
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        try world.takeDown("mail.example.com")
        let recorder = EventRecorder()
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25, onEvent: recorder.attach(world))
        try world.runUntilIdle()
        #expect(recorder.kinds == ["connectFailed(connection timed out)"])
        #expect(recorder.events.first?.0 == .at(.seconds(45)))
        // SYN retransmissions at 0, 1, 3, 7, 15, 31 s.
        let syns = try #require(world.tap.connections.first).events.filter { $0.kind == .syn }.map(\.time)
        #expect(syns == [0, 1, 3, 7, 15, 31].map { VirtualTime.at(.seconds($0)) })
    }

    @Test("an unused address times out; an unknown name fails at once")
    func unusedAddressAndUnknownName() throws {
        let world = try World.defaultWorld(seed: 1)
        let a = EventRecorder(), b = EventRecorder()
        try world.connect(from: "alice-laptop", to: "203.0.113.99", port: 25, onEvent: a.attach(world))
        try world.connect(from: "alice-laptop", to: "nowhere.invalid", port: 25, onEvent: b.attach(world))
        try world.runUntilIdle()
        #expect(a.kinds == ["connectFailed(connection timed out)"])
        #expect(a.events.first?.0 == .at(.seconds(30)))
        #expect(b.kinds == ["connectFailed(unknown host nowhere.invalid)"])
        #expect(b.events.first?.0 == .zero)
    }

    @Test("a host that comes back before the timeout answers a retransmitted SYN")
    func hostReturns() throws {
        let world = try World.defaultWorld(seed: 1)
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        try world.takeDown("mail.example.com")
        try world.schedule(.up("mail.example.com"), at: .at(.seconds(2)))
        let recorder = EventRecorder()
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25, onEvent: recorder.attach(world))
        try world.run(until: .at(.seconds(10)))
        // The SYN sent at 3 s gets through.
        #expect(recorder.kinds.first == "connected")
        #expect(recorder.events.first?.0 == .at(.seconds(3) + .milliseconds(10)))
    }

    @Test("a crash resets open connections on both ends; listeners must be registered again")
    func crash() throws {
        let world = try World.defaultWorld(seed: 1)
        let server = try #require(world.host("mail.example.com"))
        var serverEnd: Connection?
        let serverRecorder = EventRecorder()
        server.listen(port: 110) { conn in
            serverEnd = conn
            conn.onEvent = serverRecorder.attach(world)
            conn.write("+OK ready\r\n")
        }
        let clientRecorder = EventRecorder()
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 110, onEvent: clientRecorder.attach(world))
        try world.run(until: .at(.seconds(1)))
        #expect(serverEnd?.state == .established)
        try world.crash("mail.example.com")
        try world.runUntilIdle()
        #expect(serverRecorder.kinds == ["reset(host crashed)"])
        #expect(clientRecorder.kinds == ["connected", "data(11)", "reset(connection reset by peer)"])
        #expect(clientRecorder.events.last?.0 == .at(.seconds(1) + .milliseconds(5)))
        #expect(server.listeningPorts.isEmpty)
        #expect(!server.isUp)
        // Back up, nobody listening yet: refused.
        try world.bringUp("mail.example.com")
        let again = EventRecorder()
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 110, onEvent: again.attach(world))
        try world.runUntilIdle()
        #expect(again.kinds == ["connectFailed(connection refused)"])
        #expect(world.transcript().contains("-- RST from server at +1.000s --"))
    }

    @Test("after a crash and restart, a half-open peer gets a RST when it next sends")
    func halfOpenAfterCrash() throws {
        let world = try World.defaultWorld(seed: 1)
        let server = try #require(world.host("mail.example.com"))
        server.listen(port: 25) { conn in conn.write("220 hi\r\n") }
        let recorder = EventRecorder()
        let conn = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25, onEvent: recorder.attach(world))
        try world.run(until: .at(.seconds(1)))
        try world.takeDown("mail.example.com")  // no RST can leave: the client does not know
        try world.crash("mail.example.com")
        try world.run(until: .at(.seconds(2)))
        #expect(recorder.kinds == ["connected", "data(8)"])
        try world.bringUp("mail.example.com")
        // The RST sent during the crash waited for the host; it now reaches the client.
        try world.runUntilIdle()
        #expect(recorder.kinds == ["connected", "data(8)", "reset(connection reset by peer)"])
        #expect(conn.state == .closed)
    }

    @Test("a partition stalls segments, and healing delivers them in order")
    func partitionHeals() throws {
        let world = try World.defaultWorld(seed: 1)
        _ = try EchoService(world: world, host: "mail1.company.org", port: 25)
        let client = try ScriptClient(world: world, from: "mail.example.com", to: "mail1.company.org", port: 25,
                                      script: ["HELO a", "HELO b", "QUIT"])
        try world.run(until: .at(.milliseconds(22)))  // greeting in at 20 ms; "HELO a" in flight until 25 ms
        try world.partition("mail.example.com", "mail1.company.org")
        try world.run(until: .at(.seconds(60)))
        #expect(client.replies == ["220 mail1.company.org echo ready"])
        try world.heal("mail.example.com", "mail1.company.org")
        try world.runUntilIdle()
        #expect(client.replies == ["220 mail1.company.org echo ready", "250 HELO a", "250 HELO b", "221 bye"])
    }

    @Test("a partition that lasts longer than the stall timeout aborts both ends")
    func partitionTimesOut() throws {
        let world = try World.defaultWorld(seed: 1)
        world.stallTimeout = .seconds(90)
        _ = try EchoService(world: world, host: "mail1.company.org", port: 25)
        try world.partition("mail.example.com", "mail1.company.org")
        let client = try ScriptClient(world: world, from: "mail.example.com", to: "mail1.company.org", port: 25,
                                      script: ["HELO a", "QUIT"])
        try world.runUntilIdle()
        // The SYN cannot go out: connect times out at 30 s.
        #expect(client.events == ["connectFailed(connection timed out)"])

        let second = try ScriptClient(world: world, from: "mail2.company.org", to: "mail1.company.org", port: 25,
                                      script: ["HELO a", "QUIT"])
        let start = world.now
        try world.run(until: start + .milliseconds(21))
        try world.partition("mail2.company.org", "mail1.company.org")
        try world.runUntilIdle()
        #expect(second.events == ["connected", "data(34)", "reset(connection timed out)"])
        #expect(world.now == start + .milliseconds(25) + .seconds(90))
        #expect(world.transcript().contains("-- aborted at +2m00.025s: no path for 1m30s --"))
    }

    @Test("accept-then-drop: close at once, reset at once, reset after N bytes", arguments: [
        (AcceptThenDrop.closeImmediately, ["connected", "endOfStream", "reset(connection reset by peer)"], [String]()),
        (.resetImmediately, ["connected", "reset(connection reset by peer)"], []),
        (.resetAfterReceiving(bytes: 10), ["connected", "data(33)", "reset(connection reset by peer)"], ["HELO alph"]),
    ])
    func acceptThenDrop(drop: AcceptThenDrop, clientKinds: [String], serverLines: [String]) throws {
        let world = try World.defaultWorld(seed: 1)
        var received: [String] = []
        var lines = LineBuffer()
        var partial: [UInt8] = []
        try #require(world.host("mail.example.com")).listen(port: 25, options: ListenOptions(drop: drop)) { conn in
            conn.write("220 mail.example.com echo ready\r\n")
            conn.onEvent = { event in
                if case let .data(bytes) = event { received += lines.append(bytes); partial += bytes }
            }
        }
        let recorder = EventRecorder()
        let conn = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25, onEvent: recorder.attach(world))
        conn.write("HELO alpha\r\nHELO beta\r\n")
        try world.runUntilIdle()
        #expect(recorder.kinds == clientKinds)
        if !serverLines.isEmpty {
            #expect(String(decoding: partial, as: UTF8.self) == "HELO alpha")
        }
        #expect(received.isEmpty)
    }

    @Test("half-close: the peer sees end of stream and can still answer")
    func halfClose() throws {
        let world = try World.defaultWorld(seed: 1)
        let serverRecorder = EventRecorder()
        try #require(world.host("mail.example.com")).listen(port: 7) { conn in
            var total = 0
            conn.onEvent = { event in
                serverRecorder.events.append((world.now, event))
                switch event {
                case let .data(bytes): total += bytes.count
                case .endOfStream:
                    conn.write("got \(total)\r\n")
                    conn.shutdownWrite()
                default: break
                }
            }
        }
        let recorder = EventRecorder()
        let conn = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 7, onEvent: recorder.attach(world))
        conn.write("hello")
        conn.shutdownWrite()
        try world.runUntilIdle()
        #expect(serverRecorder.kinds == ["data(5)", "endOfStream", "closed"])
        #expect(recorder.kinds == ["connected", "data(7)", "endOfStream", "closed"])
        #expect(world.openConnectionCount == 0)
    }

    @Test("ephemeral ports are handed out from 49152 upward per host")
    func ephemeralPorts() throws {
        let world = try World.defaultWorld(seed: 1)
        let a = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25)
        let b = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25)
        let c = try world.connect(from: "bob-pc", to: "mail.example.com", port: 25)
        #expect([a, b, c].map(\.localAddress.port) == [49152, 49153, 49152])
        #expect(a.localAddress.description == "192.0.2.10:49152")
        try world.runUntilIdle()
    }

    @Test("a lossy link delays segments by retransmission timeouts but keeps the stream intact and ordered")
    func lossKeepsOrder() throws {
        for seed: UInt64 in [3, 4, 5] {
            let world = try World.defaultWorld(seed: seed)
            try world.apply(.setLink("alice-laptop", "mail.example.com", latency: .milliseconds(20),
                                     jitter: .milliseconds(10), lossRate: 0.3))
            _ = try EchoService(world: world, host: "mail.example.com", port: 25)
            let script = (1...20).map { "LINE \($0)" } + ["QUIT"]
            let client = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25, script: script)
            try world.runUntilIdle()
            let expected = ["220 mail.example.com echo ready"] + (1...20).map { "250 LINE \($0)" } + ["221 bye"]
            // Either every reply arrived in order, or the loss limit aborted the connection.
            if client.events.last == "reset(connection timed out)" {
                #expect(Array(expected.prefix(client.replies.count)) == client.replies, "seed=\(seed)")
            } else {
                #expect(client.replies == expected, "seed=\(seed)")
            }
            #expect(world.now > .at(.seconds(1)), "seed=\(seed): with 30 % loss some segment must have waited")
        }
    }
}

/// The facts of one connection's end share what does not change (host, port, session, peer,
/// role); contexts compare and hash by value whichever origin they hold.
@Suite struct FactContextOriginTests {
    @Test func contextsOfOneEndShareTheirOriginAndCompareByValue() throws {
        let world = try World.defaultWorld(seed: 1)
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        let connection = try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25) { _ in }
        try world.runUntilIdle()
        let first = world.factContext(for: connection, role: .client)
        let second = world.factContext(for: connection, role: .client)
        #expect(first.origin === second.origin)
        #expect(first.host == "alice-laptop" && first.peer == "mail.example.com" && first.port == 25)
        #expect(first.session == connection.id && first.role == .client)
        // Another role is another origin, with the same names.
        let asServer = world.factContext(for: connection, role: .server)
        #expect(asServer.role == .server && asServer.host == "alice-laptop")
        #expect(asServer != first)
        // Made elsewhere with the same values: equal, same hash.
        let made = FactContext(time: first.time, host: first.host, port: first.port, session: first.session,
                               peer: first.peer, role: .client, tls: first.tls)
        #expect(made.origin !== first.origin)
        #expect(made == first)
        #expect(Set([made, first]).count == 1)
        var later = made
        later.time = made.time + .seconds(1)
        #expect(later != made)
    }
}
