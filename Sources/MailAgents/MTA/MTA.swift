import MailCore
import MailMessage
import MailSim

/// A mail transfer agent on a simulated host, answering like the course's Postfix.
///
/// It listens on its SMTP ports (25 relay/MX, 587 submission, 465 implicit TLS), applies its
/// relay policy, adds trace headers, queues every accepted message and delivers it: into the local
/// store for its own domains, else to the MX hosts of the recipient's domain in preference order,
/// retrying with backoff, warning and finally bouncing to the sender.
///
///     S: 220 mail.example.com ESMTP Postfix
///     C: EHLO client.example.com
///     …
///     S: 250 2.0.0 Ok: queued as 3F4A51234
public final class MTA {
    public let world: World
    public let host: Host
    public private(set) var configuration: MTAConfiguration
    /// The mail store of the local domains, `nil` for a pure relay.
    public let store: MailStore?
    /// Logins and passwords for SMTP AUTH (submission).
    public private(set) var credentials: [String: String]
    public internal(set) var queue: MailQueue
    /// What this MTA has done, one line per event, for the `queue` command and tests: the last
    /// ``historyLimit``/2 to ``historyLimit`` lines (a long `serve` keeps its memory bounded).
    public private(set) var log: [String] = []
    /// Lines of ``log`` and verdicts of ``inboundVerdicts`` kept at most; reaching it drops the
    /// older half.
    public var historyLimit = 4000
    private var dateText: (seconds: Int64, text: String)?
    /// Where this MTA's own facts (deliveries, relays, bounces) come from: made once.
    lazy var agentFactOrigin = FactContext.Origin(host: host.name, port: 0, session: 0, peer: "", role: .agent)
    /// The SPF/DKIM/DMARC verdicts on messages received on port 25, in order (with `inboundChecks`),
    /// bounded as ``log`` is.
    public internal(set) var inboundVerdicts: [InboundVerdict] = []

    var random: SeededRandom
    /// Draws for DMARC `pct=` sampling, apart from `random` so queue ids do not depend on them.
    var policyRandom: SeededRandom
    var wakeUpEvent: ScheduledEvent?
    private var sessions: [ObjectIdentifier: DetachableSession] = [:]
    /// Open relay sessions that queued messages may join, by `exchange[address]`
    /// (``MTAConfiguration/reusesConnections``).
    var relaySessions: [String: [RelaySession]] = [:]

    public init(world: World, host: Host, configuration: MTAConfiguration, store: MailStore? = nil,
                credentials: [String: String] = [:]) {
        self.world = world
        self.host = host
        self.configuration = configuration
        self.store = store
        self.credentials = credentials
        self.queue = MailQueue(schedule: configuration.retry)
        self.random = host.random.derive(label: "mta")
        self.policyRandom = host.random.derive(label: "mta policy")
    }

    deinit {
        for session in sessions.values { session.detach() }
    }

    /// Opens the listeners; after a crash the host re-opens them when it comes back up, and the
    /// queue (kept on disk by a real MTA) is looked at again.
    public func start() {
        listen()
        host.onBoot { [weak self] in
            guard let self else { return }
            self.listen()
            self.scheduleRun(at: self.world.now)
        }
    }

    private func listen() {
        for listener in configuration.listeners {
            host.listen(port: listener.port) { [weak self] connection in
                self?.accept(connection, listener: listener)
            }
        }
    }

    public func setRelayPolicy(_ policy: RelayPolicy) { configuration.relayPolicy = policy }
    public func setRetrySchedule(_ schedule: RetrySchedule) {
        configuration.retry = schedule
        queue.schedule = schedule
    }
    public func addCredentials(user: String, password: String) { credentials[user] = password }
    /// Whether AUTH on submission needs STARTTLS first (new sessions only).
    public func setRequireTLSForAuth(_ value: Bool) { configuration.requireTLSForAuth = value }
    /// The on-demand connection cache and its limit of sessions per MX, for messages queued from
    /// now on (open sessions carry on).
    public func setConnectionCache(_ on: Bool, destinationConcurrencyLimit limit: Int? = nil) {
        configuration.reusesConnections = on
        if let limit { configuration.destinationConcurrencyLimit = max(1, limit) }
    }
    /// The domains this MTA signs outgoing mail for (DKIM).
    public func setDKIMSigning(_ signing: [DKIMSigningConfiguration]) { configuration.dkimSigning = signing }
    /// Turns the SPF/DKIM/DMARC checks of port 25 on or off, and the DMARC enforcement.
    public func setInboundChecks(_ enabled: Bool, dmarcEnforcement: Bool) {
        configuration.inboundChecks = enabled
        configuration.dmarcEnforcement = dmarcEnforcement
    }
    /// The DNS blocklist zones consulted when a client connects to port 25.
    public func setBlocklists(_ zones: [String]) { configuration.blocklists = zones }

    // MARK: receiving

    func serverConfiguration(for listener: MTAListener) -> SMTPServerConfiguration {
        var c: SMTPServerConfiguration
        switch listener.kind {
        case .relay:
            c = .relay(hostname: configuration.hostname)
            c.tlsAvailable = configuration.offerTLSOnRelayPort
            if !configuration.offerTLSOnRelayPort { c.extensions.remove(.starttls) }
            // Port 25 offers AUTH to its users only inside TLS, whatever the submission ports do:
            // a relay port never takes a password in clear (Postfix `smtpd_tls_auth_only = yes`).
            c.mechanisms = configuration.submissionMechanisms
            c.requireTLSForAuth = true
        case .submission:
            c = .submission(hostname: configuration.hostname, mechanisms: configuration.submissionMechanisms)
            c.requireTLSForAuth = configuration.requireTLSForAuth
        case .implicitTLS:
            c = .implicitTLS(hostname: configuration.hostname, mechanisms: configuration.submissionMechanisms)
        }
        // A host without users (a backup MX) offers no AUTH at all.
        if credentials.isEmpty { c.mechanisms = [] }
        c.maxMessageSize = configuration.maxMessageSize
        c.maxRecipients = configuration.maxRecipients
        c.challengeSeed = random.next()
        return c
    }

    private func accept(_ connection: Connection, listener: MTAListener) {
        let clientAddress = connection.remoteAddress.address
        let clientName = world.host(at: clientAddress)?.name
        let policy = MTAPolicy(mta: self, listener: listener)
        let engine = SMTPServer(configuration: serverConfiguration(for: listener), policy: policy,
                                clientAddress: clientAddress.description, clientHostname: clientName)
        let session = ServerSession<SMTPServer<MTAPolicy>>(
            engine: engine, connection: connection, world: world,
            tlsIdentity: { [weak self] in self.flatMap { try? $0.world.certificateAuthority.serverIdentity(for: $0.configuration.hostname) } })
        let key = ObjectIdentifier(session)
        sessions[key] = session
        session.onFinish = { [weak self] in self?.sessions[key] = nil }
        session.start(implicitTLS: listener.kind == .implicitTLS)
    }

    /// Whether this client may send to foreign domains through us.
    func mayRelay(session: SMTPSessionInfo) -> Bool {
        // An AUTH done in clear on port 25 (never possible here, see `serverConfiguration`) would
        // not count: the relay port trusts only an authentication protected by TLS.
        if session.authenticatedUser != nil && (session.listener != .relay || session.tlsActive) { return true }
        switch configuration.relayPolicy {
        case .open: return true
        case .authenticated: return false
        case .mynetworks(let networks):
            guard let address = IPv4Address(session.clientAddress) else { return false }
            return networks.contains { $0.contains(address) }
        }
    }

    func isLocal(domain: String) -> Bool { configuration.localDomains.contains(domain.lowercased()) }

    /// The store account of a local address, if any.
    func localAccount(_ address: String) -> String? { store?.account(forAddress: address.lowercased()) }

    /// Called by the policy when a message was accepted: trace headers, DKIM signature for
    /// authenticated submissions, queue id, queue. `folder` is where local recipients get it.
    func enqueue(envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo, folder: String = "INBOX") -> QueueID {
        let id = newQueueID()
        let recipients = envelope.recipients.map(\.path.address)
        var queued = receivedHeader(session: session, id: id, recipients: recipients, room: data.count + 128)
        let added = session.listener != .relay ? missingSubmissionHeaders(data, id: id) : []
        if session.authenticatedUser != nil && !configuration.dkimSigning.isEmpty {
            queued += dkimSign(added + data, id: id)
        } else {
            queued += added
            queued += data
        }
        queue.add(id: id, sender: envelope.reversePath.address, recipients: recipients, data: queued,
                  now: world.now, folder: folder)
        note("\(id): from=<\(envelope.reversePath.address)>, size=\(data.count), nrcpt=\(recipients.count) (queue active)")
        scheduleRun(at: world.now)
        return id
    }

    func newQueueID() -> QueueID {
        while true {
            let id = QueueID(using: &random)
            if !queue.contains(id) { return id }
        }
    }

    /// The `Received:` field (RFC 5321 §4.4), in a buffer with `room` more bytes reserved.
    private func receivedHeader(session: SMTPSessionInfo, id: QueueID, recipients: [String], room: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + room)
        bytes += "Received: from ".utf8
        bytes += (session.heloName ?? "unknown").utf8
        bytes += " (".utf8
        bytes += (session.clientHostname ?? "unknown").utf8
        bytes += " [".utf8
        bytes += session.clientAddress.utf8
        bytes += "])\r\n\tby ".utf8
        bytes += configuration.hostname.utf8
        bytes += " (Postfix) with ".utf8
        bytes += session.receivedProtocol.utf8
        bytes += " id ".utf8
        bytes += id.description.utf8
        if recipients.count == 1 {
            bytes += "\r\n\tfor <".utf8
            bytes += recipients[0].utf8
            bytes += ">".utf8
        }
        bytes += "; ".utf8
        bytes += currentDateText().utf8
        bytes += "\r\n".utf8
        return bytes
    }

    /// The current date as in a `Date:` field, made once per virtual second.
    private func currentDateText() -> String {
        let seconds = world.unixSeconds
        if let cached = dateText, cached.seconds == seconds { return cached.text }
        let text = world.mailDate(offsetMinutes: configuration.zoneOffsetMinutes).description
        dateText = (seconds, text)
        return text
    }

    /// On submission, a `Message-ID:` and a `Date:` when the client wrote none (RFC 6409 §8).
    private func missingSubmissionHeaders(_ data: [UInt8], id: QueueID) -> [UInt8] {
        let names = HeaderScan.presentFields(data, among: ["date", "message-id"])
        var text = ""
        if !names.contains("date") {
            text += "Date: \(currentDateText())\r\n"
        }
        if !names.contains("message-id") {
            text += "Message-ID: <\(world.unixSeconds).\(id)@\(configuration.hostname)>\r\n"
        }
        return Array(text.utf8)
    }

    /// Whether ``log`` keeps a line per event (off for benchmarks).
    public var keepsLog = true

    func note(_ line: @autoclosure () -> String) {
        guard keepsLog else { return }
        Self.append("\(world.now) \(configuration.hostname): \(line())", to: &log, limit: historyLimit)
    }

    /// Appends to a bounded history, dropping its older half when it is full.
    static func append<Element>(_ element: Element, to history: inout [Element], limit: Int) {
        if history.count >= max(limit, 2) { history.removeFirst(history.count / 2) }
        history.append(element)
    }
}

/// Finds header fields in a message without parsing it fully.
enum HeaderScan {
    /// Which of `wanted` (lower case) name a field of the header block, in any case.
    static func presentFields(_ message: [UInt8], among wanted: [String]) -> Set<String> {
        var present: Set<String> = []
        var lineStart = 0
        var index = 0
        while index <= message.count {
            if index == message.count || message[index] == 0x0A {
                var end = index
                if end > lineStart && message[end - 1] == 0x0D { end -= 1 }
                if end == lineStart { break }  // blank line: end of the header
                let first = message[lineStart]
                if first != 0x20 && first != 0x09, let colon = message[lineStart..<end].firstIndex(of: 0x3A) {
                    // Compared on the bytes, lengths first, A-Z folded (`wanted` is lower case).
                    let length = colon - lineStart
                    for candidate in wanted where candidate.utf8.count == length {
                        var position = lineStart
                        var same = true
                        for byte in candidate.utf8 {
                            let raw = message[position]
                            if (raw >= 0x41 && raw <= 0x5A ? raw + 0x20 : raw) != byte { same = false; break }
                            position += 1
                        }
                        if same { present.insert(candidate); break }
                    }
                }
                lineStart = index + 1
            }
            index += 1
        }
        return present
    }
}
