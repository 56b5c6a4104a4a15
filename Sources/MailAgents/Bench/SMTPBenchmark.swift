import MailCore
import MailSim

/// The end-to-end SMTP workload behind `maillab bench smtp`: mail clients submit messages on
/// port 587 (AUTH PLAIN), the sender's MTA relays each one to the recipient domain's MX on port
/// 25, which delivers it into the mailbox. Everything runs inside the simulator; the wire tap and
/// the MTA logs are off so that memory stays flat.
///
/// TLS is off in this workload (a TLS handshake per message would measure BoringSSL, not MailLab).
public struct SMTPBenchmark {
    public struct Result: Sendable {
        public var messages: Int
        public var delivered: Int
        public var virtualSeconds: Double
        public var schedulerSteps: Int
    }

    public var messages: Int
    /// Mail clients sending at the same time, each one message after the other.
    public var concurrency: Int
    public var messageSize: Int
    /// Messages each client sends per submission session (its outbox); 1 is a session per message.
    public var outbox: Int
    /// The sending MTA's on-demand connection cache (``MTAConfiguration/reusesConnections``, on
    /// by default as in Postfix): at 20 sessions to the MX, queued messages go over open ones.
    public var reusesConnections: Bool

    public init(messages: Int, concurrency: Int = 32, messageSize: Int = 1024, outbox: Int = 1,
                reusesConnections: Bool = true) {
        self.messages = max(1, messages)
        self.concurrency = max(1, concurrency)
        self.messageSize = max(64, messageSize)
        self.outbox = max(1, outbox)
        self.reusesConnections = reusesConnections
    }

    /// Builds the world and runs the workload to the end.
    public func run(seed: UInt64 = 1) throws -> Result {
        let world = try World.defaultWorld(seed: seed)
        world.tap.isRecording = false
        let mail = MailWorld(world: world)
        try mail.addUser(address: "alice@example.com", login: "alice", password: "mypassword")
        try mail.addUser(address: "bob@company.org", login: "bob", password: "secret123")
        var senderConfiguration = MTAConfiguration(
            hostname: "mail.example.com", localDomains: ["example.com"], requireTLSForAuth: false,
            offerTLSOnRelayPort: false)
        senderConfiguration.reusesConnections = reusesConnections
        let sender = try mail.addMTA(on: "mail.example.com", configuration: senderConfiguration)
        let receiver = try mail.addMTA(on: "mail1.company.org", configuration: MTAConfiguration(
            hostname: "mail1.company.org", localDomains: ["company.org"], offerTLSOnRelayPort: false))
        sender.keepsLog = false
        receiver.keepsLog = false

        var body = "From: Alice <alice@example.com>\r\nTo: Bob <bob@company.org>\r\nSubject: bench\r\n"
        body += "Date: Wed, 06 Dec 2024 10:30:00 +0100\r\nMessage-ID: <bench@example.com>\r\n\r\n"
        let line = String(repeating: "x", count: 70) + "\r\n"
        while body.utf8.count < messageSize { body += line }
        let data = Array(body.utf8)

        var remaining = messages
        var clients: [MUA] = []
        for index in 0..<concurrency {
            let host = try world.addHost("bench-client-\(index)", address: "10.\(index / 250).\(index % 250 + 1).1", addDNS: false)
            clients.append(MUA(world: world, host: host, account: MailAccountSettings(
                address: "alice@example.com", login: "alice", password: "mypassword",
                smtpHost: "mail.example.com", smtpPort: 587, smtpSecurity: .none, smtpMechanism: .plain)))
        }
        let outgoing = MUA.OutgoingMessage(data: data, from: "alice@example.com", to: ["bob@company.org"])
        func next(_ client: MUA) {
            guard remaining > 0 else { return }
            if outbox == 1 {
                remaining -= 1
                client.submit(data, from: "alice@example.com", to: ["bob@company.org"], keepResult: false) { _ in next(client) }
                return
            }
            let batch = min(outbox, remaining)
            remaining -= batch
            var left = batch
            client.submitOutbox(Array(repeating: outgoing, count: batch), keepResult: false) { _ in
                left -= 1
                if left == 0 { next(client) }
            }
        }
        for client in clients { next(client) }
        let start = world.scheduler.stepsRun
        try world.runUntilIdle(maxSteps: messages * 400 + 10_000)
        let delivered = try mail.store(for: "company.org").messages(user: "bob").count
        return Result(messages: messages, delivered: delivered,
                      virtualSeconds: Double(world.now.microseconds) / 1_000_000,
                      schedulerSteps: world.scheduler.stepsRun - start)
    }
}
