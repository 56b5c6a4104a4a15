import Testing
@testable import MailCore

/// Connects a `POP3Client` and a `POP3Server` back to back, without TLS octets: when both sides
/// asked for TLS, both are told the handshake is done.
struct POP3Pair {
    var client: POP3Client
    var server: POP3Server
    var now: Duration = .zero
    /// Lines as they crossed the wire: `C: …`, `S: …`, and `-- TLS --` at the handshake.
    private(set) var log: [String] = []
    private(set) var result: POP3ClientResult?
    /// Octets per delivery; nil delivers everything at once.
    var chunk: Int?

    private var toServer: [UInt8] = []
    private var toClient: [UInt8] = []
    private var clientWantsTLS = false
    private var serverWantsTLS = false
    private var clientClosed = false
    private var serverClosed = false

    init(job: POP3ClientJob, backend: POP3InMemoryMaildrop,
         configuration: POP3ServerConfiguration = .init(hostname: "mail1.company.org"), chunk: Int? = nil) {
        client = POP3Client(job: job)
        server = POP3Server(configuration: configuration, backend: backend, sessionID: 7)
        self.chunk = chunk
    }

    private mutating func fromClient(_ actions: [POP3ClientAction]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                toServer += bytes
                log += String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").map { "C: " + $0 }
            case .startTLS: clientWantsTLS = true
            case .close: clientClosed = true
            case .event(.finished(let result)): self.result = result
            case .event(.transactionFinished): Issue.record("a POP3 session has one transaction")
            }
        }
    }

    private mutating func fromServer(_ actions: [POP3Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                toClient += bytes
            case .startTLS: serverWantsTLS = true
            case .close: serverClosed = true
            }
        }
    }

    mutating func run() -> POP3ClientResult? {
        fromServer(server.start(now: now))
        fromClient(client.start(now: now))
        for _ in 0..<100_000 {
            if !toClient.isEmpty {
                let n = min(chunk ?? toClient.count, toClient.count)
                let piece = Array(toClient.prefix(n))
                toClient.removeFirst(n)
                fromClient(client.receive(piece, now: now))
            } else if !toServer.isEmpty && !clientClosed && !serverClosed {
                let n = min(chunk ?? toServer.count, toServer.count)
                let piece = Array(toServer.prefix(n))
                toServer.removeFirst(n)
                let before = toClient.count
                fromServer(server.receive(piece, now: now))
                log += String(decoding: toClient[before...], as: UTF8.self).split(separator: "\r\n").map { "S: " + $0 }
            } else if clientWantsTLS && serverWantsTLS {
                clientWantsTLS = false
                serverWantsTLS = false
                log.append("-- TLS --")
                let before = toClient.count
                fromServer(server.tlsEstablished(now: now))
                log += String(decoding: toClient[before...], as: UTF8.self).split(separator: "\r\n").map { "S: " + $0 }
                fromClient(client.tlsEstablished(now: now))
            } else if let hold = server.holdUntil, !clientClosed {
                // A failed login answers after its delay: time passes until then.
                now = max(now, hold)
                let before = toClient.count
                fromServer(server.timerFired(now: now))
                log += String(decoding: toClient[before...], as: UTF8.self).split(separator: "\r\n").map { "S: " + $0 }
            } else {
                break
            }
        }
        if clientClosed { server.connectionClosed() }
        if serverClosed && result == nil { fromClient(client.connectionClosed()) }
        return result
    }
}

/// Serves the first bytes of a greeting and lets the client go on, for the first `start`.
func greetingLog(_ pair: POP3Pair) -> [String] { pair.log }

@Suite struct POP3ClientSessionTests {
    @Test func downloadsAndDeletesEverything() throws {
        let backend = courseMaildrop()
        let originals = backend.boxes["bob"]!
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123") { listing in
            POP3RetrievalPlan(retrieve: listing.entries.map(\.message), delete: listing.entries.map(\.message))
        }, backend: backend)
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.completed)
        #expect(result.authenticated)
        #expect(result.errors.isEmpty)
        #expect(result.listing?.messageCount == 3)
        #expect(result.listing?.totalSize == 12345)
        #expect(result.listing?.entries == [
            POP3ListingEntry(message: 1, size: 5000, uniqueID: "abc123def456"),
            POP3ListingEntry(message: 2, size: 3500, uniqueID: "ghi789jkl012"),
            POP3ListingEntry(message: 3, size: 3845, uniqueID: "mno345pqr678"),
        ])
        #expect(result.downloaded.map(\.content) == originals.map(\.content))
        #expect(result.downloaded.map(\.uniqueID) == originals.map(\.uniqueID))
        #expect(result.deletedUniqueIDs == ["abc123def456", "ghi789jkl012", "mno345pqr678"])
        #expect(result.deletedCount == 3)
        #expect(backend.boxes["bob"]?.isEmpty == true)
        #expect(pair.log.filter { $0.hasPrefix("C: ") } == [
            "C: CAPA", "C: USER bob", "C: PASS secret123", "C: STAT", "C: UIDL", "C: LIST",
            "C: RETR 1", "C: RETR 2", "C: RETR 3", "C: DELE 1", "C: DELE 2", "C: DELE 3", "C: QUIT",
        ])
        #expect(pair.log.last == "S: +OK POP3 server signing off (3 messages deleted)")
    }

    @Test func followsThePlanAndIgnoresUnknownNumbers() throws {
        let backend = courseMaildrop()
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123") { _ in
            POP3RetrievalPlan(retrieve: [2, 99, 2], delete: [1])
        }, backend: backend)
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.downloaded.map(\.message) == [2])
        #expect(result.markedForDeletion == [1])
        #expect(result.deletedUniqueIDs == ["abc123def456"])
        #expect(backend.boxes["bob"]?.map(\.uniqueID) == ["ghi789jkl012", "mno345pqr678"])
    }

    @Test func dotUnstuffingGivesBackTheMessage() throws {
        let content = Array("Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n\r\nend\r\n".utf8)
        let backend = POP3InMemoryMaildrop(passwords: ["bob": "pw"], boxes: ["bob": [
            POP3MaildropMessage(uniqueID: "u1", content: content),
        ]])
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "pw"), backend: backend)
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.downloaded.first?.content == content)
        #expect(pair.log.contains("S: ..hidden"))
    }

    @Test func byteByByteEqualsWhole() throws {
        func run(chunk: Int?) -> POP3ClientResult? {
            var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123") { listing in
                POP3RetrievalPlan(retrieve: [1, 3], delete: [3])
            }, backend: courseMaildrop(), chunk: chunk)
            return pair.run()
        }
        let whole = try #require(run(chunk: nil))
        let bytewise = try #require(run(chunk: 1))
        let sevens = try #require(run(chunk: 7))
        #expect(whole == bytewise)
        #expect(whole == sevens)
        #expect(whole.downloaded.count == 2)
    }

    @Test func wrongPasswordEndsWithQuit() throws {
        let backend = courseMaildrop()
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "nope"), backend: backend)
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(!result.authenticated)
        #expect(result.errors == [POP3ClientError(
            kind: .authenticationFailed, command: "PASS ********", reply: .err(.auth, "Authentication failed."))])
        #expect(pair.log.suffix(2) == ["C: QUIT", "S: +OK POP3 server signing off"])
    }

    @Test func mailboxInUseIsReported() throws {
        let backend = courseMaildrop()
        _ = backend.lockMaildrop(user: "bob")
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123"), backend: backend)
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.errors.first?.kind == .authenticationFailed)
        #expect(result.errors.first?.reply?.code == .inUse)
    }

    @Test func apopLogin() throws {
        let backend = courseMaildrop()
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123", authentication: .apop),
                            backend: backend, configuration: .init(hostname: "mail1.company.org", apop: true))
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.authenticated)
        #expect(result.downloaded.count == 3)
        #expect(pair.log.contains { $0.hasPrefix("C: APOP bob ") })
    }

    @Test func apopWithoutTimestampIsRefusedLocally() throws {
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123", authentication: .apop),
                            backend: courseMaildrop())
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.errors.map(\.kind) == [.apopUnavailable])
        #expect(!pair.log.contains { $0.hasPrefix("C: APOP") })
    }

    @Test func saslPlainLogin() throws {
        var pair = POP3Pair(job: POP3ClientJob(user: "bob", password: "secret123", authentication: .saslPlain),
                            backend: courseMaildrop())
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.authenticated)
        #expect(pair.log.contains("C: AUTH PLAIN AGJvYgBzZWNyZXQxMjM="))
    }
}

@Suite struct POP3ClientTLSTests {
    @Test func stlsBeforeLogin() throws {
        var pair = POP3Pair(
            job: POP3ClientJob(user: "bob", password: "secret123", tls: .starttls(required: true)),
            backend: courseMaildrop(),
            configuration: .init(hostname: "mail1.company.org", plaintextLoginRequiresTLS: true))
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.tlsActive)
        #expect(result.authenticated)
        let tls = try #require(pair.log.firstIndex(of: "-- TLS --"))
        #expect(Array(pair.log[..<tls].filter { $0.hasPrefix("C: ") }) == ["C: CAPA", "C: STLS"])
        #expect(Array(pair.log[tls...].filter { $0.hasPrefix("C: ") }.prefix(3)) == ["C: CAPA", "C: USER bob", "C: PASS secret123"])
        #expect(!result.capabilities.contains("STLS"))
    }

    @Test func requiredTLSUnavailableQuitsWithoutCredentials() throws {
        var pair = POP3Pair(
            job: POP3ClientJob(user: "bob", password: "secret123", tls: .starttls(required: true)),
            backend: courseMaildrop(), configuration: .init(hostname: "h", tls: .none))
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.errors.map(\.kind) == [.tlsUnavailable])
        #expect(pair.log.filter { $0.hasPrefix("C: ") } == ["C: CAPA", "C: QUIT"])
        #expect(!result.tlsActive)
    }

    @Test func optionalTLSFallsBackToPlaintext() throws {
        var pair = POP3Pair(
            job: POP3ClientJob(user: "bob", password: "secret123", tls: .starttls(required: false)),
            backend: courseMaildrop(), configuration: .init(hostname: "h", tls: .none))
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(result.authenticated)
        #expect(!result.tlsActive)
    }

    @Test func implicitTLS() throws {
        var pair = POP3Pair(
            job: POP3ClientJob(user: "bob", password: "secret123", tls: .implicit),
            backend: courseMaildrop(), configuration: .init(hostname: "h", tls: .implicit))
        let outcome = pair.run()
        let result = try #require(outcome)
        #expect(pair.log.first == "-- TLS --")
        #expect(result.tlsActive)
        #expect(result.downloaded.count == 3)
    }
}

/// The client against a server played by the test, line by line.
@Suite struct POP3ClientScriptedTests {
    static func sent(_ actions: [POP3ClientAction]) -> String {
        actions.compactMap { if case .send(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
            .joined()
    }

    static func finished(_ actions: [POP3ClientAction]) -> POP3ClientResult? {
        for case .event(.finished(let result)) in actions { return result }
        return nil
    }

    @Test func refusedGreeting() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw"))
        #expect(client.start(now: .zero).isEmpty)
        let actions = client.receive(Array("-ERR [SYS/TEMP] busy\r\n".utf8), now: .zero)
        #expect(actions.first == .close)
        let result = try #require(Self.finished(actions))
        #expect(result.errors == [POP3ClientError(kind: .greetingRefused, command: nil, reply: .err(.sysTemp, "busy"))])
        #expect(client.isFinished)
    }

    @Test func garbageIsAProtocolViolation() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", requestCapabilities: false))
        _ = client.start(now: .zero)
        #expect(Self.sent(client.receive(Array("+OK hi\r\n".utf8), now: .zero)) == "USER bob\r\n")
        let actions = client.receive(Array("220 smtp.example.com ESMTP\r\n".utf8), now: .zero)
        #expect(try #require(Self.finished(actions)).errors.map(\.kind) == [.protocolViolation])
    }

    @Test func timeout() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", responseTimeout: .seconds(60)))
        _ = client.start(now: .seconds(10))
        #expect(client.nextDeadline == .seconds(70))
        #expect(client.timerFired(now: .seconds(69)).isEmpty)
        let actions = client.timerFired(now: .seconds(70))
        #expect(try #require(Self.finished(actions)).errors.map(\.kind) == [.timeout])
        #expect(client.nextDeadline == nil)
    }

    @Test func droppedConnectionMeansNoDeletion() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", requestCapabilities: false) { listing in
            POP3RetrievalPlan(retrieve: [], delete: [1])
        })
        _ = client.start(now: .zero)
        var out = ""
        for reply in ["+OK hi", "+OK", "+OK Logged in", "+OK 1 10", "+OK\r\n1 u1\r\n.", "+OK\r\n1 10\r\n.", "+OK Message 1 deleted"] {
            out += Self.sent(client.receive(Array((reply + "\r\n").utf8), now: .zero))
        }
        #expect(out == "USER bob\r\nPASS pw\r\nSTAT\r\nUIDL\r\nLIST\r\nDELE 1\r\nQUIT\r\n")
        let closing = client.connectionClosed()
        let result = try #require(Self.finished(closing))
        #expect(result.markedForDeletion == [1])
        #expect(result.deletedUniqueIDs.isEmpty)
        #expect(!result.completed)
        #expect(result.errors.map(\.kind) == [.connectionClosed])
    }

    @Test func serverWithoutUIDL() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", requestCapabilities: false))
        _ = client.start(now: .zero)
        var out = ""
        for reply in ["+OK hi", "+OK", "+OK", "+OK 1 5", "-ERR unknown command", "+OK\r\n1 5\r\n.", "+OK\r\nabc\r\n."] {
            out += Self.sent(client.receive(Array((reply + "\r\n").utf8), now: .zero))
        }
        #expect(out == "USER bob\r\nPASS pw\r\nSTAT\r\nUIDL\r\nLIST\r\nRETR 1\r\nQUIT\r\n")
        #expect(client.result.listing?.uniqueIDsAvailable == false)
        #expect(client.result.downloaded == [POP3DownloadedMessage(message: 1, uniqueID: nil, content: Array("abc\r\n".utf8))])
    }

    @Test func failedRetrievalIsNotDeleted() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", requestCapabilities: false) { _ in
            POP3RetrievalPlan(retrieve: [1, 2], delete: [1, 2])
        })
        _ = client.start(now: .zero)
        var out = ""
        for reply in ["+OK hi", "+OK", "+OK", "+OK 2 10", "+OK\r\n1 a\r\n2 b\r\n.", "+OK\r\n1 5\r\n2 5\r\n.",
                      "-ERR [SYS/TEMP] read error", "+OK\r\nabc\r\n.", "+OK"] {
            out += Self.sent(client.receive(Array((reply + "\r\n").utf8), now: .zero))
        }
        #expect(out == "USER bob\r\nPASS pw\r\nSTAT\r\nUIDL\r\nLIST\r\nRETR 1\r\nRETR 2\r\nDELE 2\r\nQUIT\r\n")
        #expect(client.result.errors == [POP3ClientError(kind: .commandFailed, command: "RETR 1",
                                                         reply: .err(.sysTemp, "read error"))])
    }

    @Test func messageTooLarge() throws {
        var client = POP3Client(job: POP3ClientJob(user: "bob", password: "pw", requestCapabilities: false,
                                                   maximumMessageSize: 10))
        _ = client.start(now: .zero)
        var last: [POP3ClientAction] = []
        for reply in ["+OK hi", "+OK", "+OK", "+OK 1 50", "+OK\r\n1 u\r\n.", "+OK\r\n1 50\r\n.", "+OK\r\n0123456789"] {
            last = client.receive(Array((reply + "\r\n").utf8), now: .zero)
        }
        #expect(try #require(Self.finished(last)).errors.map(\.kind) == [.messageTooLarge])
    }

    @Test(arguments: [
        ("POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"),
        ("Dovecot ready.", nil),
        ("<no-at-sign>", nil),
    ] as [(String, String?)])
    func apopTimestamp(greeting: String, timestamp: String?) {
        #expect(POP3Client.timestamp(in: greeting) == timestamp)
    }
}

@Suite struct POP3ClientTextTests {
    static let kinds: [POP3ClientError.Kind] = [
        .greetingRefused, .tlsUnavailable, .tlsRefused, .authenticationFailed, .apopUnavailable,
        .commandFailed, .protocolViolation, .messageTooLarge, .timeout, .connectionClosed,
    ]

    @Test(arguments: kinds)
    func summariesInBothLanguages(kind: POP3ClientError.Kind) {
        #expect(!kind.summary.english.isEmpty)
        #expect(!kind.summary.french.isEmpty)
        #expect(kind.summary.english != kind.summary.french)
    }

    @Test func summariesAreDistinct() {
        #expect(Set(Self.kinds.map(\.summary.english)).count == Self.kinds.count)
        #expect(Set(Self.kinds.map(\.summary.french)).count == Self.kinds.count)
    }
}
