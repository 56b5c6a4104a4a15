/// An SMTP client session, sans-IO: delivers one `SMTPClientJob` (RFC 5321 with RFC 1870 SIZE,
/// 2920 PIPELINING, 3207 STARTTLS, 4954 AUTH, 6152 8BITMIME, 3461 DSN), for mail clients and for
/// relaying MTAs alike.
///
/// It reads the greeting, says EHLO (HELO if EHLO is refused with 5xx), runs STARTTLS and EHLO
/// again when the job asks for TLS, authenticates if given credentials, then sends MAIL, the RCPTs
/// and DATA — in one write when the server advertises PIPELINING — the dot-stuffed message and
/// QUIT. The result says, per recipient, whether the server accepted the message.
public struct SMTPClient: FactReporting {
    enum AuthStep: Hashable {
        /// AUTH PLAIN with initial response sent.
        case plain
        /// AUTH LOGIN sent; counts the 334 prompts answered.
        case login(promptsAnswered: Int)
        case cramMD5(responded: Bool)
        case xoauth2
        /// XOAUTH2 error challenge answered with an empty line; waiting for the 535.
        case xoauth2Failing
    }

    /// The reply the client waits for in the mail transaction, in order.
    enum Expected: Hashable {
        case mail
        case rcpt(Int)
        case data
    }

    /// The mail transaction in progress (RFC 5321 §3.3): from MAIL to the reply to DATA. It lives
    /// only in `State.transaction`, so no transaction can be pending in any other state.
    struct Transaction: Hashable {
        /// MAIL, the RCPTs and DATA went in one write (RFC 2920).
        var pipelining: Bool
        /// The replies awaited, in order, and how many came.
        var expected: [Expected]
        var answered = 0
        /// The server accepted MAIL.
        var mailAccepted = false
    }

    enum State: Hashable {
        case notStarted
        case greeting
        case ehlo
        case helo
        case startTLS
        case tlsHandshake
        case auth(AuthStep)
        case transaction(Transaction)
        /// The message was sent; waiting for the reply to the final dot.
        case messageEnd(discarded: Bool)
        case quit
        case finished
    }

    /// The message of the current transaction.
    public private(set) var job: SMTPClientJob
    /// Messages waiting to go over this session once the current transaction ends, oldest first
    /// (see ``enqueue(_:)``).
    public private(set) var queuedJobs: [SMTPClientJob] = []
    public var timeouts: SMTPClientTimeouts

    var state: State = .notStarted
    var parser = SMTPReplyParser()
    var output: [UInt8] = []
    var capabilities = SMTPServerCapabilities()
    var tlsActive: Bool
    var authenticatedWith: SASLMechanism?
    /// What happened, as the client saw it, for the world's journal (`FactReporting`).
    public var facts: [ProtocolFact] = []
    /// Reply to each RCPT, by recipient index.
    var rcptReplies: [SMTPReply?]
    var messageReply: SMTPReply?
    var failure: SMTPSessionFailure?
    var deadline: Duration?

    public init(job: SMTPClientJob, timeouts: SMTPClientTimeouts = SMTPClientTimeouts()) {
        self.job = job
        self.timeouts = timeouts
        self.tlsActive = job.tls == .implicit
        self.rcptReplies = Array(repeating: nil, count: job.recipients.count)
    }

    /// When `timerFired(now:)` should be called; `nil` when nothing is awaited.
    public var nextDeadline: Duration? { deadline }

    public var isFinished: Bool { state == .finished }

    /// Adds a message to send on this session after the current one, the way Postfix reuses a
    /// cached connection: RFC 5321 §3.3 lets a client run several mail transactions in one
    /// session. The next transaction starts with MAIL right after the server's reply to the
    /// previous message; each finished transaction but the last is reported with
    /// `.event(.transactionFinished(_:))`, the last one with `.event(.finished(_:))`.
    ///
    /// The job must be for the same server with the same EHLO name, TLS and authentication as
    /// the first. Returns false, and keeps nothing, once the session is ending (QUIT sent, or a
    /// failure): the caller then opens a new session. Jobs still queued when the session ends
    /// were never attempted; they stay in ``queuedJobs``.
    ///
    /// ```
    /// S: 250 2.0.0 Ok: queued as 4F2A1
    /// C: MAIL FROM:<alice@example.com>     (the queued job, instead of QUIT)
    /// ```
    public mutating func enqueue(_ next: SMTPClientJob) -> Bool {
        switch state {
        case .quit, .finished: return false
        case .notStarted, .greeting, .ehlo, .helo, .startTLS, .tlsHandshake, .auth, .transaction, .messageEnd: break
        }
        guard failure == nil else { return false }
        queuedJobs.append(next)
        return true
    }

    // MARK: - Events

    /// The connection is open (for implicit TLS: the handshake is done). Waits for the greeting.
    public mutating func start(now: Duration, into actions: inout [SMTPClientAction]) {
        guard state == .notStarted else { return }
        state = .greeting
        deadline = now + timeouts.command
    }

    /// Bytes from the server.
    public mutating func receive<C: Collection>(_ bytes: C, now: Duration, into actions: inout [SMTPClientAction]) where C.Element == UInt8 {
        switch state {
        case .notStarted, .finished, .tlsHandshake: return
        case .greeting, .ehlo, .helo, .startTLS, .auth, .transaction, .messageEnd, .quit: break
        }
        parser.append(bytes)
        while state != .finished && state != .tlsHandshake {
            let reply: SMTPReply?
            do {
                reply = try parser.next()
            } catch {
                fail(.malformedReply, quit: false, into: &actions)
                break
            }
            guard let reply else { break }
            handle(reply, now: now, into: &actions)
        }
        flush(into: &actions)
    }

    /// The STARTTLS handshake succeeded: say EHLO again (RFC 3207 §4.2).
    public mutating func tlsEstablished(now: Duration, into actions: inout [SMTPClientAction]) {
        guard state == .tlsHandshake else { return }
        tlsActive = true
        facts.append(.session(.tlsEstablished))
        parser = SMTPReplyParser()
        capabilities = SMTPServerCapabilities()
        sendEHLO(now: now)
        flush(into: &actions)
    }

    /// The STARTTLS handshake failed: the connection is unusable.
    public mutating func tlsFailed(now: Duration, into actions: inout [SMTPClientAction]) {
        guard state == .tlsHandshake else { return }
        failure = SMTPSessionFailure(stage: .startTLS, reason: .tlsHandshakeFailed)
        finish(into: &actions)
    }

    /// The server (or the network) closed the connection.
    public mutating func connectionClosed(now: Duration, into actions: inout [SMTPClientAction]) {
        switch state {
        case .finished: return
        case .quit:
            finish(into: &actions, closeConnection: false)
        case .notStarted, .greeting, .ehlo, .helo, .startTLS, .tlsHandshake, .auth, .transaction, .messageEnd:
            if failure == nil { failure = SMTPSessionFailure(stage: currentStage, reason: .connectionClosed) }
            finish(into: &actions, closeConnection: false)
        }
    }

    /// Time passed; gives up when the current wait exceeded its limit.
    public mutating func timerFired(now: Duration, into actions: inout [SMTPClientAction]) {
        guard let deadline, now >= deadline, state != .finished else { return }
        if state == .quit {
            finish(into: &actions)
            return
        }
        if failure == nil { failure = SMTPSessionFailure(stage: currentStage, reason: .timeout) }
        finish(into: &actions)
    }

    // The forms that return the actions come from `ProtocolEngine`; this one too, since
    // `connectionClosed` has no convenience there (the servers' forms return nothing).
    public mutating func connectionClosed(now: Duration) -> [SMTPClientAction] {
        var actions: [SMTPClientAction] = []
        connectionClosed(now: now, into: &actions)
        return actions
    }

    // MARK: - Output

    mutating func flush(into actions: inout [SMTPClientAction]) {
        guard !output.isEmpty else { return }
        actions.append(.send(output))
        output.removeAll(keepingCapacity: true)
    }

    mutating func send(_ command: SMTPCommand) {
        command.encode(into: &output)
    }

    mutating func sendLine(_ bytes: [UInt8]) {
        output.append(contentsOf: bytes)
        output.append(UInt8(ascii: "\r"))
        output.append(UInt8(ascii: "\n"))
    }

    var currentStage: SMTPClientStage {
        switch state {
        case .notStarted, .greeting: return .greeting
        case .ehlo: return .ehlo
        case .helo: return .helo
        case .startTLS, .tlsHandshake: return .startTLS
        case .auth: return .auth
        case .transaction(let transaction):
            guard transaction.answered < transaction.expected.count else { return .data }
            switch transaction.expected[transaction.answered] {
            case .mail: return .mail
            case .rcpt: return .rcpt
            case .data: return .data
            }
        case .messageEnd: return .message
        case .quit, .finished: return .quit
        }
    }

    /// Records a session failure; sends QUIT (unless the server said 421 or broke the framing).
    mutating func fail(_ reason: SMTPSessionFailure.Reason, quit: Bool, into actions: inout [SMTPClientAction]) {
        if failure == nil { failure = SMTPSessionFailure(stage: currentStage, reason: reason) }
        if quit {
            sendQuit()
        } else {
            finish(into: &actions)
        }
    }

    mutating func sendQuit() {
        send(.quit)
        state = .quit
    }

    mutating func finish(into actions: inout [SMTPClientAction], closeConnection: Bool = true) {
        state = .finished
        deadline = nil
        flush(into: &actions)
        if closeConnection { actions.append(.close) }
        actions.append(.event(.finished(result)))
    }

    /// The result as known now.
    public var result: SMTPDeliveryResult {
        var recipients: [SMTPDeliveryResult.Recipient] = []
        for (index, recipient) in job.recipients.enumerated() {
            let outcome: SMTPRecipientOutcome
            if let rcpt = rcptReplies[index], !rcpt.isPositiveCompletion {
                outcome = rcpt.isPermanentFailure ? .permanentFailure(rcpt) : .temporaryFailure(rcpt)
            } else if let messageReply, rcptReplies[index] != nil {
                if messageReply.isPositiveCompletion {
                    outcome = .accepted(messageReply)
                } else {
                    outcome = messageReply.isPermanentFailure ? .permanentFailure(messageReply) : .temporaryFailure(messageReply)
                }
            } else if let failure {
                var reply: SMTPReply?
                if case .reply(let failed) = failure.reason { reply = failed }
                outcome = failure.isPermanent ? .permanentFailure(reply) : .temporaryFailure(reply)
            } else {
                outcome = .temporaryFailure(nil)
            }
            recipients.append(SMTPDeliveryResult.Recipient(path: recipient.path, outcome: outcome))
        }
        var queueID: String?
        if let messageReply, messageReply.isPositiveCompletion {
            queueID = SMTPClient.queueID(in: messageReply.text)
        }
        return SMTPDeliveryResult(recipients: recipients, messageReply: messageReply, queueID: queueID,
                                  sessionFailure: failure, capabilities: capabilities, usedTLS: tlsActive,
                                  authenticatedWith: authenticatedWith)
    }

    /// The word after `queued as ` in a reply text (Postfix, Exim and others say it that way).
    static func queueID(in text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            let marker: StaticString = "queued as "
            let markerCount = marker.utf8CodeUnitCount
            guard bytes.count > markerCount else { return nil }
            let first = marker.utf8Start[0]
            var start = 0
            while start <= bytes.count - markerCount {
                if bytes[start] == first {
                    var offset = 1
                    while offset < markerCount && bytes[start + offset] == marker.utf8Start[offset] { offset += 1 }
                    if offset == markerCount {
                        var end = start + markerCount
                        while end < bytes.count && bytes[end] != UInt8(ascii: " ") { end += 1 }
                        let from = start + markerCount
                        return end == from ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<end]), as: UTF8.self)
                    }
                }
                start += 1
            }
            return nil
        }
    }

    // MARK: - Replies

    mutating func handle(_ reply: SMTPReply, now: Duration, into actions: inout [SMTPClientAction]) {
        deadline = now + timeouts.command
        if reply.code == 421 && state != .quit {
            // The server is closing the channel (RFC 5321 §3.8).
            if case .transaction = state { consumeTransactionFailure(reply) }
            fail(.reply(reply), quit: false, into: &actions)
            return
        }
        switch state {
        case .notStarted, .finished, .tlsHandshake:
            return
        case .greeting:
            guard reply.code == 220 else {
                fail(.reply(reply), quit: true, into: &actions)
                return
            }
            facts.append(.session(.greeting))
            sendEHLO(now: now)
        case .ehlo:
            if reply.isPositiveCompletion {
                capabilities = SMTPServerCapabilities(ehloReply: reply)
                afterGreetingExchange(now: now, into: &actions)
            } else if reply.isPermanentFailure {
                send(.helo(job.ehloName))
                state = .helo
            } else {
                fail(.reply(reply), quit: true, into: &actions)
            }
        case .helo:
            guard reply.isPositiveCompletion else {
                fail(.reply(reply), quit: true, into: &actions)
                return
            }
            capabilities = SMTPServerCapabilities()
            afterGreetingExchange(now: now, into: &actions)
        case .startTLS:
            if reply.code == 220 {
                state = .tlsHandshake
                flush(into: &actions)
                actions.append(.startTLS)
            } else if job.tls == .startTLSRequired {
                fail(.reply(reply), quit: true, into: &actions)
            } else {
                afterTLSDecision(now: now, into: &actions)
            }
        case .auth(let step):
            handleAuthReply(reply, step: step, now: now, into: &actions)
        case .transaction:
            handleTransactionReply(reply, now: now, into: &actions)
        case .messageEnd(let discarded):
            if !discarded {
                messageReply = reply
                if reply.isPositiveCompletion {
                    let accepted = zip(job.recipients, rcptReplies).filter { $0.1?.isPositiveCompletion ?? false }.map(\.0.path.address)
                    facts.append(.smtp(.messageAccepted(queueID: Self.queueID(in: reply.text) ?? "", from: job.reversePath.address,
                                                        to: accepted, size: job.data.count)))
                } else {
                    facts.append(.smtp(.messageRefused(code: reply.code, enhanced: reply.enhancedCode?.description)))
                }
            }
            if queuedJobs.isEmpty {
                sendQuit()
            } else {
                actions.append(.event(.transactionFinished(result)))
                startNextJob(now: now)
            }
        case .quit:
            finish(into: &actions)
        }
    }

    mutating func sendEHLO(now: Duration) {
        send(.ehlo(job.ehloName))
        state = .ehlo
        deadline = now + timeouts.command
    }

    /// After EHLO/HELO: STARTTLS if wanted, then AUTH, then the transaction.
    mutating func afterGreetingExchange(now: Duration, into actions: inout [SMTPClientAction]) {
        if !tlsActive && (job.tls == .startTLSRequired || job.tls == .startTLSOpportunistic) {
            if capabilities.extensions.contains(.starttls) {
                send(.starttls)
                state = .startTLS
                return
            }
            if job.tls == .startTLSRequired {
                fail(.tlsNotOffered, quit: true, into: &actions)
                return
            }
        }
        afterTLSDecision(now: now, into: &actions)
    }

    mutating func afterTLSDecision(now: Duration, into actions: inout [SMTPClientAction]) {
        guard let authentication = job.authentication, authenticatedWith == nil else {
            startTransaction(now: now)
            return
        }
        let offered = capabilities.authMechanisms.compactMap { SASLMechanism(name: Array($0.utf8)) }
        var chosen: SASLMechanism?
        if let preferred = authentication.preferredMechanism, offered.contains(preferred) {
            chosen = preferred
        } else {
            chosen = [SASLMechanism.plain, .login, .cramMD5].first { offered.contains($0) }
        }
        guard let mechanism = chosen else {
            state = .auth(.plain)
            fail(.authNotOffered, quit: true, into: &actions)
            return
        }
        switch mechanism {
        case .plain:
            let message = SASLPlain.message(user: authentication.user, password: authentication.secret)
            send(.auth(mechanism: "PLAIN", initialResponse: Base64.encode(message)))
            state = .auth(.plain)
        case .login:
            send(.auth(mechanism: "LOGIN", initialResponse: nil))
            state = .auth(.login(promptsAnswered: 0))
        case .cramMD5:
            send(.auth(mechanism: "CRAM-MD5", initialResponse: nil))
            state = .auth(.cramMD5(responded: false))
        case .xoauth2:
            let message = SASLXOAuth2.message(user: authentication.user, token: authentication.secret)
            send(.auth(mechanism: "XOAUTH2", initialResponse: Base64.encode(message)))
            state = .auth(.xoauth2)
        }
    }

    mutating func handleAuthReply(_ reply: SMTPReply, step: AuthStep, now: Duration, into actions: inout [SMTPClientAction]) {
        guard let authentication = job.authentication else { return }
        if reply.isPositiveCompletion {
            switch step {
            case .plain: authenticatedWith = .plain
            case .login: authenticatedWith = .login
            case .cramMD5: authenticatedWith = .cramMD5
            case .xoauth2, .xoauth2Failing: authenticatedWith = .xoauth2
            }
            facts.append(.session(.authSucceeded(mechanism: authenticatedWith?.rawValue ?? "", user: authentication.user)))
            startTransaction(now: now)
            return
        }
        guard reply.code == 334 else {
            fail(.reply(reply), quit: true, into: &actions)
            return
        }
        switch step {
        case .plain:
            // The server ignored the initial response and asked for it.
            Base64.encode(SASLPlain.message(user: authentication.user, password: authentication.secret), into: &output)
            sendLine([])
        case .login(let answered):
            guard answered < 2 else { sendLine(Array("*".utf8)); return }
            let value = answered == 0 ? authentication.user : authentication.secret
            sendLine(Base64.encode(Array(value.utf8)))
            state = .auth(.login(promptsAnswered: answered + 1))
        case .cramMD5(let responded):
            guard !responded, let challenge = Base64.decode(Array(reply.text.utf8)) else {
                sendLine(Array("*".utf8))
                return
            }
            let response = SASLCRAMMD5.response(user: authentication.user, password: authentication.secret, challenge: challenge)
            sendLine(Base64.encode(response))
            state = .auth(.cramMD5(responded: true))
        case .xoauth2:
            // An error report in JSON: answer with an empty line to get the final reply.
            sendLine([])
            state = .auth(.xoauth2Failing)
        case .xoauth2Failing:
            sendLine(Array("*".utf8))
        }
    }

    // MARK: - Transaction

    mutating func startTransaction(now: Duration) {
        let pipelining = capabilities.extensions.contains(.pipelining)
        state = .transaction(Transaction(pipelining: pipelining, expected: [.mail] + job.recipients.indices.map { .rcpt($0) } + [.data]))
        var parameters = SMTPMailParameters()
        if capabilities.extensions.contains(.size) { parameters.size = job.data.count }
        if capabilities.extensions.contains(.eightBitMIME) && Self.hasEightBitBytes(job.data) { parameters.body = .eightBitMIME }
        if capabilities.extensions.contains(.dsn) {
            parameters.ret = job.ret
            parameters.envelopeID = job.envelopeID
        }
        send(.mail(job.reversePath, parameters))
        if pipelining {
            for index in job.recipients.indices { sendRcpt(index) }
            send(.data)
        }
        deadline = now + timeouts.command
    }

    /// Whether any byte has its high bit set (the message needs `BODY=8BITMIME`), eight at a time.
    static func hasEightBitBytes(_ data: [UInt8]) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return true }
                offset += 8
            }
            while offset < raw.count {
                if raw[offset] >= 0x80 { return true }
                offset += 1
            }
            return false
        }
    }

    /// Forgets the finished transaction and starts the first queued one.
    mutating func startNextJob(now: Duration) {
        job = queuedJobs.removeFirst()
        rcptReplies = Array(repeating: nil, count: job.recipients.count)
        messageReply = nil
        startTransaction(now: now)
    }

    mutating func sendRcpt(_ index: Int) {
        var recipient = job.recipients[index]
        if !capabilities.extensions.contains(.dsn) { recipient.parameters = SMTPRecipientParameters() }
        send(.rcpt(recipient.path, recipient.parameters))
    }

    var acceptedRecipients: Int {
        rcptReplies.reduce(0) { $0 + (($1?.isPositiveCompletion ?? false) ? 1 : 0) }
    }

    /// A 421 in the middle of a transaction: nothing more will come.
    mutating func consumeTransactionFailure(_ reply: SMTPReply) {
        guard case .transaction(var transaction) = state else { return }
        transaction.answered = transaction.expected.count
        state = .transaction(transaction)
    }

    mutating func handleTransactionReply(_ reply: SMTPReply, now: Duration, into actions: inout [SMTPClientAction]) {
        guard case .transaction(var transaction) = state else {
            assertionFailure("SMTPClient: a transaction reply outside the transaction")
            return
        }
        guard transaction.answered < transaction.expected.count else { return }
        let which = transaction.expected[transaction.answered]
        transaction.answered += 1
        if case .mail = which { transaction.mailAccepted = reply.isPositiveCompletion }
        // Back into the state before anything below moves it on (QUIT, the message).
        state = .transaction(transaction)
        let pipelining = transaction.pipelining, mailAccepted = transaction.mailAccepted
        switch which {
        case .mail:
            if !mailAccepted {
                failure = SMTPSessionFailure(stage: .mail, reason: .reply(reply))
                if !pipelining {
                    sendQuit()
                }
                // With pipelining the RCPT and DATA replies are still to come.
                return
            }
            if !pipelining {
                if job.recipients.isEmpty {
                    send(.data)
                } else {
                    sendRcpt(0)
                }
            }
        case .rcpt(let index):
            if mailAccepted { rcptReplies[index] = reply }
            if !reply.isPositiveCompletion {
                facts.append(.smtp(.rcptRefused(to: job.recipients[index].path.address, code: reply.code,
                                                enhanced: reply.enhancedCode?.description)))
            }
            if !pipelining {
                if index + 1 < job.recipients.count {
                    sendRcpt(index + 1)
                } else if acceptedRecipients > 0 {
                    send(.data)
                } else {
                    sendQuit()
                }
            }
        case .data:
            if reply.code == 354 {
                if mailAccepted && acceptedRecipients > 0 {
                    if output.isEmpty {
                        // The usual case: the message is the whole write, sent as stuffed (no copy).
                        actions.append(.send(DotStuffer.stuff(job.data)))
                    } else {
                        output.append(contentsOf: DotStuffer.stuff(job.data))
                    }
                    state = .messageEnd(discarded: false)
                } else {
                    // RFC 2920 §3.1: the server took DATA although nothing is valid; end it empty.
                    output.append(contentsOf: ".\r\n".utf8)
                    state = .messageEnd(discarded: true)
                }
                deadline = now + timeouts.dataTermination
            } else {
                if mailAccepted && acceptedRecipients > 0 && failure == nil {
                    failure = SMTPSessionFailure(stage: .data, reason: .reply(reply))
                }
                sendQuit()
            }
        }
    }
}
