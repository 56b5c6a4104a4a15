import MailCore
import MailMessage
import MailSim

/// What a user writes in a mail client's compose window.
public struct Composition: Sendable {
    public var to: [String]
    public var cc: [String]
    public var bcc: [String]
    public var subject: String
    public var text: String
    public var html: String?
    public var attachments: [Attachment]

    public init(to: [String], cc: [String] = [], bcc: [String] = [], subject: String, text: String,
                html: String? = nil, attachments: [Attachment] = []) {
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
    }
}

/// The outcome of one submission, as the client shows it.
public struct SubmissionResult: Sendable {
    public var messageID: String
    /// The client engine's result; `nil` when the session could not even be built.
    public var result: SMTPDeliveryResult?
    /// Connection refused, timed out, TLS failure…, when the session never got going.
    public var transportError: String?

    /// Every recipient was accepted and the message queued.
    public var succeeded: Bool {
        guard transportError == nil, let result else { return false }
        return result.sessionFailure == nil && result.allAccepted
    }

    /// A one-line summary: `queued as 3F4A51234` or the error.
    public var summary: String {
        if let transportError { return transportError }
        guard let result else { return "not sent" }
        if let failure = SMTPAttempt(result: result, transportError: nil).failureText { return failure }
        if let id = result.queueID { return "queued as \(id)" }
        return result.messageReply.map { "\($0.code) \($0.text)" } ?? "no reply"
    }
}

/// A mail client on one device (a simulated host): sends through its account's submission server.
/// The POP3 and IMAP sides of the client are in their own files.
public final class MUA {
    public let world: World
    public let host: Host
    public var account: MailAccountSettings
    /// Every submission this client made, in order.
    public private(set) var sent: [SubmissionResult] = []
    private var counter = 0

    /// POP3: what this device does with messages it downloaded (delete, leave, leave N days).
    public var pop3Mode: POP3RetentionMode = .deleteAfterDownload
    /// POP3: the UIDLs this device has seen, and when.
    public internal(set) var pop3State = POP3DeviceState()
    /// POP3: the device's local mailbox, filled by downloads.
    public internal(set) var downloaded: [DownloadedMessage] = []
    /// POP3: every check this device made, in order.
    public internal(set) var fetches: [FetchResult] = []
    /// IMAP: wait for news with IDLE when the server offers it (else poll).
    public var usesIDLE = true
    /// IMAP: the device's synchronised view, while a sync session runs.
    public internal(set) var imapSync: IMAPSyncSession?

    public init(world: World, host: Host, account: MailAccountSettings) {
        self.world = world
        self.host = host
        self.account = account
    }

    /// Builds the message as the client would (RFC 5322 headers, MIME when needed).
    public func compose(_ composition: Composition) throws -> BuiltMessage {
        guard let from = MailAddress(account.displayName.map { "\($0) <\(account.address)>" } ?? account.address) else {
            throw MUAError.badAddress(account.address)
        }
        counter += 1
        var builder = MessageBuilder(from: from, date: world.mailDate(), seed: "\(world.seed)/\(host.name)", counter: counter)
        func parse(_ list: [String]) throws -> [MailAddress] {
            try list.map { text in
                guard let address = MailAddress(text) else { throw MUAError.badAddress(text) }
                return address
            }
        }
        builder.to = try parse(composition.to)
        builder.cc = try parse(composition.cc)
        builder.bcc = try parse(composition.bcc)
        builder.subject = composition.subject
        builder.textBody = composition.text
        builder.htmlBody = composition.html
        builder.attachments = composition.attachments
        return builder.build()
    }

    /// Composes and submits; `completion` runs in virtual time once the session ends.
    public func send(_ composition: Composition, completion: ((SubmissionResult) -> Void)? = nil) throws {
        let message = try compose(composition)
        submit(message.bytes, from: account.address, to: message.envelopeRecipients, messageID: message.messageID,
               completion: completion)
    }

    /// Submits raw message bytes with the account's server settings.
    public func submit(_ data: [UInt8], from sender: String, to recipients: [String], messageID: String = "",
                       keepResult: Bool = true, completion: ((SubmissionResult) -> Void)? = nil) {
        guard let job = job(data, from: sender, to: recipients) else {
            let failed = SubmissionResult(messageID: messageID, result: nil,
                                          transportError: "invalid address in \(([sender] + recipients).joined(separator: ", "))")
            sent.append(failed)
            completion?(failed)
            return
        }
        let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
            engine: SMTPClient(job: job), world: world, serverName: account.smtpHost,
            hooks: SMTPClient.sessionHooks) { [self] attempt in
            // Strong: the session (kept by its connection) keeps the client until it reports.
            let result = SubmissionResult(messageID: messageID, result: attempt.result, transportError: attempt.transportError)
            if keepResult { sent.append(result) }
            completion?(result)
        }
        session.connect(from: host, to: account.smtpHost, port: account.smtpPort, implicitTLS: account.smtpSecurity == .tls)
    }

    /// One message waiting in the outbox.
    public struct OutgoingMessage: Sendable {
        public var data: [UInt8]
        public var sender: String
        public var recipients: [String]
        public var messageID: String

        public init(data: [UInt8], from sender: String, to recipients: [String], messageID: String = "") {
            self.data = data
            self.sender = sender
            self.recipients = recipients
            self.messageID = messageID
        }
    }

    /// Sends the whole outbox on one session, one mail transaction after the other (RFC 5321
    /// §3.3), as a client's "send unsent messages" does. `completion` runs once per message, in
    /// order. Messages whose turn never came (the session ended early) go again on a new session.
    public func submitOutbox(_ messages: [OutgoingMessage], keepResult: Bool = true,
                             completion: ((SubmissionResult) -> Void)? = nil) {
        var waiting: [(message: OutgoingMessage, job: SMTPClientJob)] = []
        for message in messages {
            if let job = job(message.data, from: message.sender, to: message.recipients) {
                waiting.append((message, job))
            } else {
                let failed = SubmissionResult(messageID: message.messageID, result: nil, transportError:
                    "invalid address in \(([message.sender] + message.recipients).joined(separator: ", "))")
                sent.append(failed)
                completion?(failed)
            }
        }
        guard let first = waiting.first else { return }
        var engine = SMTPClient(job: first.job)
        for entry in waiting.dropFirst() { _ = engine.enqueue(entry.job) }
        func report(_ attempt: SMTPAttempt) {
            guard !waiting.isEmpty else { return }
            let message = waiting.removeFirst().message
            let result = SubmissionResult(messageID: message.messageID, result: attempt.result, transportError: attempt.transportError)
            if keepResult { sent.append(result) }
            completion?(result)
        }
        let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
            engine: engine, world: world, serverName: account.smtpHost,
            hooks: SMTPClient.sessionHooks) { [weak self] attempt in
            report(attempt)
            if !waiting.isEmpty { self?.submitOutbox(waiting.map(\.message), keepResult: keepResult, completion: completion) }
        }
        session.onTransaction = report
        session.connect(from: host, to: account.smtpHost, port: account.smtpPort, implicitTLS: account.smtpSecurity == .tls)
    }

    /// The client job for a message with the account's TLS and authentication settings.
    private func job(_ data: [UInt8], from sender: String, to recipients: [String]) -> SMTPClientJob? {
        let tls: SMTPClientTLSMode
        switch account.smtpSecurity {
        case .none: tls = .none
        case .startTLS: tls = .startTLSRequired
        case .tls: tls = .implicit
        }
        let auth = account.smtpAuthentication
            ? SMTPClientAuthentication(user: account.login, secret: account.password, preferredMechanism: account.smtpMechanism)
            : nil
        return SMTPClientJob(from: sender, to: recipients, data: data, ehloName: account.ehloName,
                             tls: tls, authentication: auth)
    }
}

public enum MUAError: Error, Equatable, CustomStringConvertible {
    case badAddress(String)

    public var description: String {
        switch self {
        case .badAddress(let text): return "not a valid address: \(text)"
        }
    }
}
