import Testing
import MailCore
@testable import MailAgents

/// Runs any client engine against any server engine through `ProtocolEngine` alone: the same
/// loop carries bytes, TLS requests and closes whatever the protocol. (TLS is "established" at
/// once when both sides asked for it: the engines only need to hear that the handshake ended.)
final class EngineLoopback<Client: ProtocolEngine, Server: ProtocolEngine> where Server.Event == Never {
    var client: Client
    var server: Server
    var now: Duration = .zero
    /// What the client engine handed to its owner, in order.
    var events: [Client.Event] = []
    /// The facts both engines reported, as the world's journal would get them.
    var clientFacts: [ProtocolFact] = []
    var serverFacts: [ProtocolFact] = []
    /// What the owner of the client does when it hears an event (the IMAP client is command-driven).
    var respond: (inout Client, Client.Event) -> [EngineAction<Client.Event>] = { _, _ in [] }
    private(set) var clientClosed = false
    private(set) var serverClosed = false
    private(set) var handshakes = 0
    private var clientWantsTLS = false
    private var serverWantsTLS = false
    /// Bounds the exchange: a loop that never ends fails the test instead of hanging it.
    private var steps = 0

    init(client: Client, server: Server) {
        self.client = client
        self.server = server
    }

    func run() {
        var out: [EngineAction<Client.Event>] = []
        client.start(now: now, into: &out)
        fromClient(out)
        var greeting: [EngineAction<Never>] = []
        server.start(now: now, into: &greeting)
        fromServer(greeting)
        clientFacts += client.takeFacts()
        serverFacts += server.takeFacts()
    }

    private func fromServer(_ actions: [EngineAction<Never>]) {
        for action in actions {
            steps += 1
            guard steps < 1000 else { Issue.record("the exchange does not end"); return }
            switch action {
            case .send(let bytes):
                guard !clientClosed else { continue }
                var out: [EngineAction<Client.Event>] = []
                now += .milliseconds(10)
                client.receive(bytes, now: now, into: &out)
                fromClient(out)
            case .startTLS:
                serverWantsTLS = true
                handshakeIfBothAsked()
            case .close:
                serverClosed = true
                if !clientClosed {
                    var out: [EngineAction<Client.Event>] = []
                    client.connectionClosed(now: now, into: &out)
                    fromClient(out)
                }
            }
        }
    }

    private func fromClient(_ actions: [EngineAction<Client.Event>]) {
        for action in actions {
            steps += 1
            guard steps < 1000 else { Issue.record("the exchange does not end"); return }
            switch action {
            case .send(let bytes):
                guard !serverClosed else { continue }
                var out: [EngineAction<Never>] = []
                now += .milliseconds(10)
                server.receive(bytes, now: now, into: &out)
                fromServer(out)
            case .startTLS:
                clientWantsTLS = true
                handshakeIfBothAsked()
            case .close:
                clientClosed = true
                if !serverClosed {
                    serverClosed = true
                    var ignored: [EngineAction<Never>] = []
                    server.connectionClosed(now: now, into: &ignored)
                }
            case .event(let event):
                events.append(event)
                fromClient(respond(&client, event))
            }
        }
    }

    private func handshakeIfBothAsked() {
        guard clientWantsTLS && serverWantsTLS else { return }
        clientWantsTLS = false
        serverWantsTLS = false
        handshakes += 1
        var fromS: [EngineAction<Never>] = []
        server.tlsEstablished(now: now, into: &fromS)
        var fromC: [EngineAction<Client.Event>] = []
        client.tlsEstablished(now: now, into: &fromC)
        fromServer(fromS)
        fromClient(fromC)
    }
}

/// A policy that accepts every sender and recipient and queues every message as `C0FFEE`.
struct AcceptingPolicy: SMTPServerPolicy {
    mutating func authenticate(_ credentials: SASLCredentials, session: SMTPSessionInfo) -> Bool { false }
    mutating func checkSender(_ path: SMTPPath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPPolicyDecision { .accept }
    mutating func checkRecipient(_ path: SMTPPath, parameters: SMTPRecipientParameters, envelope: SMTPEnvelope,
                                 session: SMTPSessionInfo) -> SMTPPolicyDecision { .accept }
    mutating func acceptMessage(_ envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> SMTPMessageDecision {
        .queued(id: "C0FFEE")
    }
}

/// The six engines conform to the one contract, and one generic driver runs each pair.
@Suite struct EngineContractTests {
    /// Compiles only for engines under the contract with the shared action type.
    func conforms<E: ProtocolEngine>(_: E.Type, event: E.Event.Type) -> Bool { true }

    @Test func theSixEnginesConform() {
        #expect(conforms(SMTPServer<AcceptingPolicy>.self, event: Never.self))
        #expect(conforms(SMTPClient.self, event: ClientEvent<SMTPDeliveryResult>.self))
        #expect(conforms(POP3Server.self, event: Never.self))
        #expect(conforms(POP3Client.self, event: ClientEvent<POP3ClientResult>.self))
        #expect(conforms(IMAPServer.self, event: Never.self))
        #expect(conforms(IMAPClient.self, event: IMAPResponse.self))
    }

    @Test func smtpClientDeliversToSMTPServerWithSTARTTLS() throws {
        let job = try #require(SMTPClientJob(from: "alice@example.com", to: ["bob@company.org"],
                                             data: Array("Subject: hi\r\n\r\n.dot\r\n".utf8), ehloName: "laptop.example.com",
                                             tls: .startTLSRequired))
        let server = SMTPServer(configuration: SMTPServerConfiguration(hostname: "mail.example.com"),
                                policy: AcceptingPolicy(), clientAddress: "192.0.2.10")
        let loop = EngineLoopback(client: SMTPClient(job: job), server: server)
        loop.run()
        #expect(loop.handshakes == 1)
        #expect(loop.clientClosed && loop.serverClosed)
        guard case .finished(let result)? = loop.events.last else { Issue.record("\(loop.events)"); return }
        #expect(result.queueID == "C0FFEE")
        #expect(loop.serverFacts.contains(.smtp(.messageAccepted(queueID: "C0FFEE", from: "alice@example.com",
                                                                  to: ["bob@company.org"], size: 21, dotLines: 1))))
        #expect(loop.serverFacts.contains(.session(.tlsEstablished)))
        #expect(loop.clientFacts.contains(.session(.tlsEstablished)))
    }

    @Test func pop3ClientDownloadsFromPOP3Server() throws {
        let store = try imapCourseStore()
        let server = POP3Server(configuration: POP3ServerConfiguration(hostname: "mail1.company.org"), backend: store, sessionID: 1)
        let loop = EngineLoopback(client: POP3Client(job: POP3ClientJob(user: "bob", password: "secret123",
                                                                         tls: .starttls(required: true))),
                                  server: server)
        loop.run()
        #expect(loop.handshakes == 1)
        guard case .finished(let result)? = loop.events.last else { Issue.record("\(loop.events)"); return }
        #expect(result.completed)
        #expect(result.downloaded.count == 3)
        #expect(loop.serverFacts.contains(.session(.authSucceeded(mechanism: "USER", user: "bob"))))
        #expect(loop.serverFacts.filter { if case .pop3(.retrieved) = $0 { true } else { false } }.count == 3)
    }

    @Test func imapClientLogsInToIMAPServer() throws {
        let store = try imapCourseStore()
        let server = IMAPServer(backend: store, configuration: .plaintextAllowed)
        let loop = EngineLoopback(client: IMAPClient(), server: server)
        loop.respond = { client, response in
            switch response {
            case .untaggedStatus(.ok, _, _) where client.state == .notAuthenticated:
                return client.send(.login(user: "bob", password: "secret123")).output
            case .tagged("a001", .ok, _, _):
                return client.send(.select("INBOX")).output
            case .tagged("a002", .ok, _, _):
                return client.send(.logout).output
            default:
                return []
            }
        }
        loop.run()
        #expect(loop.clientClosed && loop.serverClosed)
        #expect(loop.events.contains { if case .tagged("a003", .ok, _, _) = $0 { true } else { false } })
        #expect(loop.clientFacts.contains(.imap(.selected(mailbox: "INBOX", readOnly: false, exists: 3))))
        #expect(loop.serverFacts.contains(.session(.authSucceeded(mechanism: "LOGIN-COMMAND", user: "bob"))))
    }
}
