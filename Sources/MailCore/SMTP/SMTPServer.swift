/// What the caller of an `SMTPServer` must do, in order (the engines' shared ``EngineAction``;
/// a server has no events). `.startTLS` follows the `220 2.0.0 Ready to start TLS` just sent;
/// bytes received until `tlsEstablished(now:into:)` are discarded (RFC 3207 §4).
public typealias SMTPServerAction = EngineAction<Never>

/// An SMTP server session, sans-IO (RFC 5321 with RFC 1870, 1985, 2034, 2920, 3207, 3461, 4954, 6152).
///
/// Feed it the client's bytes and the current (virtual) time; it appends actions to a caller's
/// array. It enforces the command sequence and every limit itself, and asks its `policy` what only
/// the MTA can know (credentials, senders, recipients, the final acceptance of a message).
///
///     S: 220 mail.example.com ESMTP Postfix
///     C: EHLO client.example.com
///     S: 250-mail.example.com
///     S: 250-PIPELINING
///     …
///     C: MAIL FROM:<alice@example.com>
///     S: 250 2.1.0 Ok
public struct SMTPServer<Policy: SMTPServerPolicy>: FactReporting, ReplyReporting {
    enum State {
        case notStarted
        /// Greeting refused with 554: everything but QUIT gets 503 (RFC 5321 §3.1).
        case refusing
        /// Commands; `transaction` once MAIL was accepted.
        case commands
        /// AUTH LOGIN, waiting for the user name.
        case authLoginUser
        /// AUTH LOGIN, waiting for the password.
        case authLoginPassword(user: String)
        /// AUTH PLAIN without initial response, waiting for it.
        case authPlain
        case authCramMD5(challenge: [UInt8])
        /// AUTH XOAUTH2 without initial response, waiting for it.
        case authXOAuth2
        /// XOAUTH2 token refused: the error challenge was sent, waiting for the client's empty line.
        case authXOAuth2Failed
        /// DATA answered 354: the message's octets until the final dot (`transaction`,
        /// `unstuffer` and `body`).
        case data
        case awaitingTLS
        case closed
    }

    /// The mail transaction in progress (RFC 5321 §3.3): from an accepted MAIL to the end of the
    /// message, RSET, HELO/EHLO or STARTTLS. It lives only in `.commands` and `.data`: entering
    /// any other state drops it (`state`'s observer), so a transaction in an AUTH exchange or
    /// during the TLS handshake cannot survive.
    struct Transaction {
        var envelope: SMTPEnvelope
        /// RCPT commands refused in this transaction.
        var refusedRecipients = 0
    }

    public private(set) var configuration: SMTPServerConfiguration
    public var policy: Policy
    /// What the MTA needs for `Received:` and its decisions.
    public private(set) var session: SMTPSessionInfo

    /// The session's state. The transaction and the message being received are kept beside it,
    /// not in its cases, so that each turn mutates them in place instead of copying them out of
    /// the enum and back; leaving `.commands` and `.data` drops them, leaving `.data` drops the
    /// message.
    var state: State = .notStarted {
        didSet {
            switch state {
            case .commands:
                if !body.isEmpty || body.capacity > 0 { body = [] }
            case .data:
                break
            case .notStarted, .refusing, .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2,
                 .authXOAuth2Failed, .awaitingTLS, .closed:
                if transaction != nil { transaction = nil }
                if !body.isEmpty || body.capacity > 0 { body = [] }
            }
        }
    }
    var framer: LineFramer
    var output: [UInt8] = []
    /// The transaction in progress (`.commands` after MAIL, and `.data`).
    var transaction: Transaction?
    /// In `.data`: the unstuffer of the message and the octets received so far.
    var unstuffer = DotUnstuffer()
    var body: [UInt8] = []
    /// The envelope of the transaction in progress, if MAIL was accepted.
    var envelope: SMTPEnvelope? { transaction?.envelope }
    var unknownCommands = 0
    var authExchanges: UInt64 = 0
    /// Failed AUTH attempts in this session (`maxAuthFailures`).
    var authFailures = 0
    /// Set by `authenticationFailed`: where its reply starts in `output`, to hold it back.
    var heldReplyStart: Int?
    /// Replies waiting for the end of an `authFailureDelay`, and when it ends.
    var heldOutput: [UInt8] = []
    var holdUntil: Duration?
    /// Input that may wait behind a held reply (a line and some pipelined commands); more
    /// closes the session.
    var heldInputLimit: Int { framer.maxLineLength + 4096 }
    /// What happened, for the world's journal (`FactReporting`).
    public var facts: [ProtocolFact] = []
    /// The ends of the replies and what the session waits for then (`ReplyReporting`).
    public var replies: [ServerReply] = []
    /// Octets handed to the driver in `.send` actions so far.
    var flushedOctets = 0
    /// Where the last reported reply ended (in octets written since the greeting).
    var lastReplyEnd = 0
    /// The basic code of the last reply written.
    var lastCode = 0
    /// The verb of the command being answered, for `SessionFact.refused`.
    var currentVerb = ""
    /// The SASL mechanism of the AUTH exchange in progress.
    var currentMechanism = ""
    var lastActivity: Duration = .zero

    /// Creates a session for a client at `clientAddress`. For an implicit-TLS listener the caller
    /// completes the TLS handshake before `start(now:)`.
    public init(configuration: SMTPServerConfiguration, policy: Policy, clientAddress: String, clientHostname: String? = nil) {
        self.configuration = configuration
        self.policy = policy
        // Only printable ASCII reaches the session facts (and so `Received:` headers).
        func printable(_ text: String) -> String {
            let isPrintable: (UInt8) -> Bool = { $0 > 0x20 && $0 < 0x7F }
            return text.utf8.allSatisfy(isPrintable) ? text : String(decoding: text.utf8.filter(isPrintable), as: UTF8.self)
        }
        self.session = SMTPSessionInfo(clientAddress: printable(clientAddress), clientHostname: clientHostname.map(printable),
                                       serverHostname: configuration.hostname, listener: configuration.kind,
                                       tlsActive: configuration.kind == .implicitTLS)
        self.framer = LineFramer(maxLineLength: max(configuration.maxAuthLineLength, configuration.maxCommandLineLength))
        self.output.reserveCapacity(512)
    }

    /// The envelope of the transaction in progress.
    public var currentEnvelope: SMTPEnvelope? { envelope }

    /// True once the engine has asked to close.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// When `timerFired(now:)` should be called next; `nil` when closed.
    public var nextDeadline: Duration? {
        switch state {
        case .closed, .notStarted: return nil
        case .refusing, .commands, .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed, .data, .awaitingTLS:
            return holdUntil ?? (lastActivity + configuration.idleTimeout)
        }
    }

    // MARK: - Events

    /// The connection is open (and, for implicit TLS, the handshake done): sends the greeting.
    public mutating func start(now: Duration, into actions: inout [SMTPServerAction]) {
        guard case .notStarted = state else { return }
        lastActivity = now
        if configuration.kind == .implicitTLS { facts.append(.session(.tlsEstablished)) }
        switch policy.connectionOpened(session: session) {
        case .accept:
            replyStart(220, nil)
            output.append(contentsOf: configuration.hostname.utf8)
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: configuration.greetingText.utf8)
            output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
            enterCommands()
            facts.append(.session(.greeting))
        case .acceptWith(let reply):
            send(reply)
            enterCommands()
            facts.append(.session(.greeting))
        case .reject(let reply):
            send(reply)
            if reply.code == 421 {
                state = .closed
                flush(into: &actions)
                actions.append(.close)
                return
            }
            state = .refusing
        }
        flush(into: &actions)
    }

    /// Bytes from the client.
    public mutating func receive<C: Collection>(_ bytes: C, now: Duration, into actions: inout [SMTPServerAction]) where C.Element == UInt8 {
        switch state {
        case .closed, .notStarted, .awaitingTLS:
            return  // nothing is read before the greeting, while TLS starts, or after close
        case .refusing, .commands, .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed, .data:
            break
        }
        lastActivity = now
        framer.append(bytes)
        if holdUntil != nil {
            // A failed AUTH is being slowed down: its reply and everything after it wait.
            if framer.bufferedCount > heldInputLimit {
                holdUntil = nil
                output = heldOutput
                heldOutput = []
                reply(421, "4.7.0", configuration.hostname + " Error: too many errors")
                close(into: &actions)
            }
            return
        }
        process(now: now, into: &actions)
    }

    /// The TLS handshake that followed STARTTLS succeeded: the session starts over without a
    /// greeting, and the client must say EHLO again (RFC 3207 §4.2).
    public mutating func tlsEstablished(now: Duration, into actions: inout [SMTPServerAction]) {
        guard case .awaitingTLS = state else { return }
        lastActivity = now
        framer.discardBuffered()
        session.tlsActive = true
        session.heloName = nil
        session.usedEHLO = false
        session.authenticatedUser = nil
        session.authenticationMechanism = nil
        enterCommands()  // no transaction survives the handshake
        facts.append(.session(.tlsEstablished))
    }

    /// The deadline passed: an idle session gets `421 4.4.2` and is closed.
    public mutating func timerFired(now: Duration, into actions: inout [SMTPServerAction]) {
        guard let deadline = nextDeadline, now >= deadline else { return }
        if holdUntil != nil {
            // The delay after a failed AUTH is over: its reply goes out, then the waiting input.
            holdUntil = nil
            lastActivity = now
            output = heldOutput + output
            heldOutput = []
            if authFailures >= configuration.maxAuthFailures {
                reply(421, "4.7.0", configuration.hostname + " Error: too many errors")
                close(into: &actions)
                return
            }
            process(now: now, into: &actions)
            return
        }
        reply(421, "4.4.2", configuration.hostname + " Error: timeout exceeded")
        close(into: &actions)
    }

    /// The client went away: the transaction in progress (and any partial message) is dropped,
    /// nothing is handed to the policy.
    public mutating func connectionClosed(now: Duration) {
        state = .closed  // drops the transaction and any partial message
        framer.discardBuffered()
        output.removeAll()
    }

    // The forms that return the actions come from `ProtocolEngine` (Engine/ProtocolEngine.swift).

    // MARK: - Output

    mutating func flush(into actions: inout [SMTPServerAction]) {
        endOfTurn()
        guard !output.isEmpty else { return }
        flushedOctets += output.count
        actions.append(.send(output))
        output.removeAll(keepingCapacity: true)
    }

    mutating func close(into actions: inout [SMTPServerAction]) {
        state = .closed
        endOfTurn()
        framer.discardBuffered()
        flush(into: &actions)
        actions.append(.close)
    }

    mutating func send(_ reply: SMTPReply) {
        lastCode = reply.code
        if reply.code >= 400 { noteRefusal(reply.code, reply.enhancedCode?.description) }
        if configuration.extensions.contains(.enhancedStatusCodes) || reply.enhancedCode == nil {
            reply.encode(into: &output)
        } else {
            var plain = reply
            plain.enhancedCode = nil
            plain.encode(into: &output)
        }
    }

    /// Writes a one-line reply without building an `SMTPReply`.
    mutating func reply(_ code: Int, _ enhanced: StaticString?, _ text: String) {
        replyStart(code, enhanced)
        output.append(contentsOf: text.utf8)
        output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    mutating func reply(_ code: Int, _ enhanced: StaticString?, _ text: StaticString) {
        replyStart(code, enhanced)
        text.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    /// `code SP [enhanced-code SP]` (RFC 5321 §4.2, RFC 2034 §4 when ENHANCEDSTATUSCODES is on).
    private mutating func replyStart(_ code: Int, _ enhanced: StaticString?) {
        lastCode = code
        if code >= 400 { noteRefusal(code, enhanced.map { "\($0)" }) }
        output.append(UInt8(ascii: "0") + UInt8(code / 100))
        output.append(UInt8(ascii: "0") + UInt8(code / 10 % 10))
        output.append(UInt8(ascii: "0") + UInt8(code % 10))
        output.append(UInt8(ascii: " "))
        if let enhanced, configuration.extensions.contains(.enhancedStatusCodes) {
            enhanced.withUTF8Buffer { output.append(contentsOf: $0) }
            output.append(UInt8(ascii: " "))
        }
    }

    /// What the session waits for in its current state.
    var awaiting: ServerAwaits {
        switch state {
        case .refusing, .commands: return .command
        case .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed: return .saslResponse
        case .data: return .messageData
        case .awaitingTLS: return .tlsHandshake
        case .notStarted, .closed: return .nothing
        }
    }

    /// One input is answered (a command line, a message, the greeting, a timeout): when replies
    /// were written since the last report, the last of them is reported with what the session
    /// waits for now (`ReplyReporting`). Held replies (after a failed AUTH) count where they stand
    /// in the stream: they go out before anything written later.
    mutating func endOfTurn() {
        let written = flushedOctets + output.count + heldOutput.count
        guard written > lastReplyEnd, lastCode != 0 else { return }
        lastReplyEnd = written
        replies.append(.smtp(lastCode, awaiting: awaiting, end: written))
    }

    /// An error reply: reported with the verb being answered.
    mutating func noteRefusal(_ code: Int, _ enhanced: String?) {
        facts.append(.session(.refused(command: currentVerb, status: String(code), code: enhanced)))
    }

    // MARK: - Input loop

    mutating func process(now: Duration, into actions: inout [SMTPServerAction]) {
        loop: while true {
            switch state {
            case .closed, .notStarted:
                framer.discardBuffered()
                break loop
            case .awaitingTLS:
                // RFC 3207 §4: anything pipelined after STARTTLS is thrown away.
                framer.discardBuffered()
                break loop
            case .data:
                let chunk = framer.buffered
                if chunk.isEmpty { break loop }
                let consumed = unstuffer.feed(chunk, into: &body)
                if let consumed {
                    framer.consume(consumed)
                    finishData()
                    endOfTurn()
                } else {
                    framer.consume(chunk.count)
                    break loop
                }
            case .refusing, .commands, .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2,
                 .authXOAuth2Failed:
                if holdUntil != nil { break loop }
                if case .commands = state, !framer.discarding, let first = framer.buffered.first, Self.startsNonSMTPInput(first) {
                    // This is not SMTP (a TLS ClientHello on a plaintext port): one reply and the
                    // close, whatever the bytes that follow, as Postfix's `smtpd_forbidden_commands`
                    // does, so the transcript never depends on the handshake's random bytes.
                    currentVerb = ""
                    reply(221, "2.7.0", "Error: this is not SMTP, closing the connection")
                    close(into: &actions)
                    return
                }
                guard let bounds = framer.nextBounds() else { break loop }
                switch bounds {
                case .tooLong:
                    if isInAuthExchange { enterCommands() }
                    reply(500, "5.5.2", "Error: line too long")
                    endOfTurn()
                case .line(let range, _):
                    handleLine(framer.line(at: range), now: now, into: &actions)
                    endOfTurn()
                    if let start = heldReplyStart {
                        heldReplyStart = nil
                        if configuration.authFailureDelay > .zero {
                            // Replies before the failure go now; the failure waits for the delay.
                            heldOutput = Array(output[start...])
                            output.removeSubrange(start...)
                            holdUntil = now + configuration.authFailureDelay
                            break loop
                        } else if authFailures >= configuration.maxAuthFailures {
                            reply(421, "4.7.0", configuration.hostname + " Error: too many errors")
                            close(into: &actions)
                            return
                        }
                    }
                }
            }
        }
        flush(into: &actions)
    }

    /// True for a first byte that means another protocol altogether: a TLS handshake record
    /// (0x16, a ClientHello sent to a plaintext port) or a byte above 0x7F (an SSLv2 hello, a
    /// binary client). Other bad bytes get `500 5.5.2` per line (QUALITY.md item 3).
    static func startsNonSMTPInput(_ byte: UInt8) -> Bool {
        byte == 0x16 || byte >= 0x80
    }

    var isInAuthExchange: Bool {
        switch state {
        case .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed: return true
        case .notStarted, .refusing, .commands, .data, .awaitingTLS, .closed: return false
        }
    }

    mutating func handleLine(_ line: ArraySlice<UInt8>, now: Duration, into actions: inout [SMTPServerAction]) {
        switch state {
        case .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed:
            handleSASLResponse(line)
            return
        case .notStarted, .refusing, .commands, .data, .awaitingTLS, .closed:
            break
        }
        currentVerb = ""
        let isAuthLine = line.count >= 5 && SMTPCommandParser.dropPrefix(line, "AUTH ") != nil
        if !isAuthLine && line.count + 2 > configuration.maxCommandLineLength {
            reply(500, "5.5.2", "Error: line too long")
            return
        }
        switch SMTPCommandParser.parse(line) {
        case .failure(let error):
            if case .refusing = state {
                reply(503, "5.7.0", "Error: access denied for " + session.clientAddress)
                return
            }
            send(error.reply)
            if error == .unknownCommand {
                unknownCommands += 1
                if unknownCommands >= configuration.maxUnknownCommands {
                    reply(421, "4.7.0", configuration.hostname + " Error: too many errors")
                    close(into: &actions)
                }
            }
        case .success(let command):
            currentVerb = command.verb
            if case .refusing = state {
                if command == .quit {
                    reply(221, "2.0.0", "Bye")
                    close(into: &actions)
                } else {
                    reply(503, "5.7.0", "Error: access denied for " + session.clientAddress)
                }
                return
            }
            handle(command, now: now, into: &actions)
        }
    }

    // MARK: - Commands

    mutating func resetTransaction() {
        transaction = nil
    }

    /// Back to commands, without a transaction.
    mutating func enterCommands() {
        state = .commands
        transaction = nil
    }

    mutating func handle(_ command: SMTPCommand, now: Duration, into actions: inout [SMTPServerAction]) {
        switch command {
        case .helo(let name):
            resetTransaction()
            session.heloName = name
            session.usedEHLO = false
            reply(250, nil, configuration.hostname)
            facts.append(.smtp(.hello(name: name, extended: false)))
        case .ehlo(let name):
            resetTransaction()
            session.heloName = name
            session.usedEHLO = true
            sendEHLOReply()
            facts.append(.smtp(.hello(name: name, extended: true)))
        case .mail(let path, let parameters):
            handleMail(path, parameters)
        case .rcpt(let path, let parameters):
            handleRcpt(path, parameters)
        case .data:
            guard let transaction else {
                reply(503, "5.5.1", "Error: need MAIL command")
                return
            }
            let envelope = transaction.envelope
            guard !envelope.recipients.isEmpty else {
                if transaction.refusedRecipients > 0 {
                    reply(554, "5.5.1", "Error: no valid recipients")
                } else {
                    reply(503, "5.5.1", "Error: need RCPT command")
                }
                return
            }
            reply(354, nil, "End data with <CR><LF>.<CR><LF>")
            // The message may not make the transaction store more than maxTransactionOctets.
            let perCopy = configuration.maxTransactionOctets / max(1, envelope.recipients.count)
            let unstuffer = DotUnstuffer(storageLimit: min(configuration.maxMessageSize, perCopy),
                                         normalizeBareLineEndings: configuration.bareLineEndings == .normalize)
            // Room for the size the client announced (RFC 1870), within reason; the buffer
            // still grows past it for a client that announced too little.
            var body: [UInt8] = []
            body.reserveCapacity(min(envelope.mailParameters.size ?? 4096, 1 << 20) + 64)
            self.unstuffer = unstuffer
            self.body = body
            state = .data
        case .rset:
            facts.append(.smtp(.reset(hadTransaction: transaction != nil)))
            resetTransaction()
            reply(250, "2.0.0", "Ok")
        case .noop:
            reply(250, "2.0.0", "Ok")
        case .quit:
            reply(221, "2.0.0", "Bye")
            close(into: &actions)
        case .vrfy(let argument):
            guard configuration.extensions.contains(.vrfy) else {
                reply(502, "5.5.1", "VRFY command is disabled")
                return
            }
            send(policy.verify(argument, session: session))
        case .expn, .help:
            reply(502, "5.5.1", "Error: command not implemented")
        case .etrn(let argument):
            guard configuration.extensions.contains(.etrn) else {
                reply(502, "5.5.1", "Error: command not implemented")
                return
            }
            guard session.heloName != nil else {
                reply(503, "5.5.1", "Error: send HELO/EHLO first")
                return
            }
            guard transaction == nil else {
                reply(503, "5.5.1", "Error: MAIL transaction in progress")
                return
            }
            send(policy.etrn(argument, session: session))
        case .starttls:
            if session.tlsActive {
                reply(554, "5.5.1", "Error: TLS already active")
                return
            }
            guard configuration.tlsAvailable, configuration.extensions.contains(.starttls) else {
                reply(502, "5.5.1", "Error: command not implemented")
                return
            }
            reply(220, "2.0.0", "Ready to start TLS")
            state = .awaitingTLS
            framer.discardBuffered()
            flush(into: &actions)
            actions.append(.startTLS)
        case .auth(let mechanism, let initialResponse):
            handleAuth(mechanism, initialResponse, now: now)
        }
    }

    var authOffered: Bool {
        configuration.extensions.contains(.auth) && !configuration.mechanisms.isEmpty
    }

    /// The EHLO reply (RFC 5321 §4.1.1.1), written straight into the output.
    mutating func sendEHLOReply() {
        lastCode = 250
        func startLine(_ output: inout [UInt8]) {
            output.append(contentsOf: [UInt8(ascii: "2"), UInt8(ascii: "5"), UInt8(ascii: "0"), UInt8(ascii: "-")])
        }
        // Every line starts "250-"; the last one is patched to "250 " at the end.
        var lastLineStart = output.count
        startLine(&output)
        output.append(contentsOf: configuration.hostname.utf8)
        output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        func line(_ text: StaticString, _ output: inout [UInt8], _ lastLineStart: inout Int) {
            lastLineStart = output.count
            startLine(&output)
            text.withUTF8Buffer { output.append(contentsOf: $0) }
            output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        let extensions = configuration.extensions
        if extensions.contains(.pipelining) { line("PIPELINING", &output, &lastLineStart) }
        if extensions.contains(.size) {
            lastLineStart = output.count
            startLine(&output)
            output.append(contentsOf: "SIZE ".utf8)
            SASLCRAMMD5.appendDecimal(UInt64(max(0, configuration.maxMessageSize)), to: &output)
            output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        if extensions.contains(.vrfy) { line("VRFY", &output, &lastLineStart) }
        if extensions.contains(.etrn) { line("ETRN", &output, &lastLineStart) }
        if extensions.contains(.starttls) && configuration.tlsAvailable && !session.tlsActive { line("STARTTLS", &output, &lastLineStart) }
        if authOffered && (session.tlsActive || !configuration.requireTLSForAuth || configuration.advertiseAuthBeforeTLS) {
            for separator in configuration.advertiseAuthEqualsForm ? [UInt8(ascii: " "), UInt8(ascii: "=")] : [UInt8(ascii: " ")] {
                lastLineStart = output.count
                startLine(&output)
                output.append(contentsOf: "AUTH".utf8)
                output.append(separator)
                for (index, mechanism) in configuration.mechanisms.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: " ")) }
                    output.append(contentsOf: mechanism.rawValue.utf8)
                }
                output.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
            }
        }
        if extensions.contains(.enhancedStatusCodes) { line("ENHANCEDSTATUSCODES", &output, &lastLineStart) }
        if extensions.contains(.eightBitMIME) { line("8BITMIME", &output, &lastLineStart) }
        if extensions.contains(.dsn) { line("DSN", &output, &lastLineStart) }
        output[lastLineStart + 3] = UInt8(ascii: " ")
    }

    mutating func handleMail(_ path: SMTPPath, _ parameters: SMTPMailParameters) {
        guard session.heloName != nil else {
            reply(503, "5.5.1", "Error: send HELO/EHLO first")
            return
        }
        guard transaction == nil else {
            reply(503, "5.5.1", "Error: nested MAIL command")
            return
        }
        if configuration.requireAuthForMail && session.authenticatedUser == nil {
            if configuration.requireTLSForAuth && !session.tlsActive {
                reply(530, "5.7.0", "Must issue a STARTTLS command first")
            } else {
                reply(530, "5.7.0", "Authentication required")
            }
            return
        }
        if let size = parameters.size, configuration.extensions.contains(.size), size > configuration.maxMessageSize {
            reply(552, "5.3.4", "Message size exceeds fixed limit")
            return
        }
        switch policy.checkSender(path, parameters: parameters, session: session) {
        case .accept:
            reply(250, "2.1.0", "Ok")
        case .acceptWith(let positive):
            send(positive)
        case .reject(let refusal):
            send(refusal)
            facts.append(.smtp(.mailRefused(from: path.address, code: refusal.code,
                                            enhanced: refusal.enhancedCode?.description)))
            return
        }
        facts.append(.smtp(.mailAccepted(from: path.address)))
        transaction = Transaction(envelope: SMTPEnvelope(reversePath: path, mailParameters: parameters))
    }

    mutating func handleRcpt(_ path: SMTPPath, _ parameters: SMTPRecipientParameters) {
        // The envelope is read in place, never copied out: a copy alive when the recipient is
        // appended below would make the append copy the whole list.
        guard let count = transaction?.envelope.recipients.count else {
            reply(503, "5.5.1", "Error: need MAIL command")
            return
        }
        guard count < configuration.maxRecipients else {
            reply(452, "4.5.3", "Error: too many recipients")
            return
        }
        var duplicate = false
        if count > 0 {
            let wanted = path.address.lowercased()
            duplicate = transaction!.envelope.recipients.contains { $0.path.address.lowercased() == wanted }
        }
        if !duplicate, let size = transaction!.envelope.mailParameters.size,
           size > 0, size > configuration.maxTransactionOctets / (count + 1) {
            // Each distinct recipient may cost a stored copy: the announced size decides.
            reply(452, "4.5.3", "Error: too many recipients for a message of this size")
            return
        }
        switch policy.checkRecipient(path, parameters: parameters, envelope: transaction!.envelope, session: session) {
        case .accept:
            reply(250, "2.1.5", "Ok")
        case .acceptWith(let positive):
            send(positive)
        case .reject(let refusal):
            send(refusal)
            transaction?.refusedRecipients += 1
            facts.append(.smtp(.rcptRefused(to: path.address, code: refusal.code,
                                            enhanced: refusal.enhancedCode?.description)))
            return
        }
        facts.append(.smtp(.rcptAccepted(to: path.address)))
        // The same recipient twice is accepted but kept once: one stored copy per distinct
        // recipient, as Postfix's cleanup does.
        if !duplicate { transaction?.envelope.recipients.append(SMTPEnvelopeRecipient(path: path, parameters: parameters)) }
    }

    mutating func finishData() {
        guard case .data = state, let transaction else {
            assertionFailure("SMTPServer.finishData outside the data state")
            return
        }
        let envelope = transaction.envelope
        let unstuffer = self.unstuffer
        var body: [UInt8] = []
        swap(&body, &self.body)
        enterCommands()  // the transaction ends with the message, whatever the reply
        if unstuffer.exceededStorageLimit, unstuffer.contentLength <= configuration.maxMessageSize {
            // The message alone would fit; its copies for every recipient would not.
            reply(552, "5.3.4", "Error: message too big for this many recipients")
        } else if unstuffer.exceededStorageLimit {
            reply(552, "5.3.4", "Error: message file too big")
        } else if unstuffer.longestLine > SMTPLimits.textLine - 2 {
            reply(500, "5.5.2", "Error: message line too long")
        } else if unstuffer.sawBareLineEnding && configuration.bareLineEndings == .reject {
            reply(554, "5.6.0", "Error: bare <CR> or <LF> received in message data")
        } else {
            switch policy.acceptMessage(envelope, data: body, session: session) {
            case .queued(let id):
                lastCode = 250
                facts.append(.smtp(.messageAccepted(queueID: id, from: envelope.reversePath.address,
                                                    to: envelope.recipients.map(\.path.address), size: body.count,
                                                    dotLines: unstuffer.dotLines)))
                output.append(contentsOf: configuration.extensions.contains(.enhancedStatusCodes)
                              ? SMTPServerReplies.queuedPrefix : SMTPServerReplies.queuedPrefixPlain)
                for byte in id.utf8 where byte > 0x20 && byte < 0x7F { output.append(byte) }
                output.append(UInt8(ascii: "\r"))
                output.append(UInt8(ascii: "\n"))
            case .reject(let refusal):
                send(refusal)
                facts.append(.smtp(.messageRefused(code: refusal.code, enhanced: refusal.enhancedCode?.description)))
            }
        }
    }

    // MARK: - AUTH (RFC 4954)

    mutating func handleAuth(_ mechanismName: String, _ initialResponse: [UInt8]?, now: Duration) {
        guard session.heloName != nil else {
            reply(503, "5.5.1", "Error: send HELO/EHLO first")
            return
        }
        guard authOffered else {
            reply(503, "5.5.1", "Error: authentication not enabled")
            return
        }
        if configuration.requireTLSForAuth && !session.tlsActive {
            reply(530, "5.7.0", "Must issue a STARTTLS command first")
            return
        }
        guard session.authenticatedUser == nil else {
            reply(503, "5.5.1", "Error: already authenticated")
            return
        }
        guard transaction == nil else {
            reply(503, "5.5.1", "Error: MAIL transaction in progress")
            return
        }
        guard let mechanism = SASLMechanism(name: Array(mechanismName.utf8)), configuration.mechanisms.contains(mechanism) else {
            reply(504, "5.5.4", "Unrecognized authentication type")
            return
        }
        authExchanges &+= 1
        currentMechanism = mechanism.rawValue
        var decoded: [UInt8]?
        if let initialResponse {
            if initialResponse == [UInt8(ascii: "*")] {
                reply(501, "5.7.0", "Authentication aborted")
                return
            }
            if mechanism == .cramMD5 {
                reply(501, "5.5.4", "Syntax: CRAM-MD5 takes no initial response")
                return
            }
            if initialResponse == [UInt8(ascii: "=")] {
                decoded = []
            } else {
                guard let bytes = Base64.decode(initialResponse) else {
                    reply(501, "5.5.2", "Invalid base64 data in initial response")
                    return
                }
                decoded = bytes
            }
        }
        switch mechanism {
        case .plain:
            if let decoded { finishPlain(decoded) } else { challenge([]); state = .authPlain }
        case .login:
            if let decoded {
                state = .authLoginPassword(user: String(decoding: decoded, as: UTF8.self))
                challenge(SASLLogin.passwordPrompt)
            } else {
                state = .authLoginUser
                challenge(SASLLogin.usernamePrompt)
            }
        case .cramMD5:
            let seconds = UInt64(clamping: now.components.seconds)
            let text = SASLCRAMMD5.challenge(sequence: configuration.challengeSeed &+ authExchanges, time: seconds,
                                             hostname: configuration.hostname)
            state = .authCramMD5(challenge: text)
            challenge(text)
        case .xoauth2:
            if let decoded { finishXOAuth2(decoded) } else { challenge([]); state = .authXOAuth2 }
        }
    }

    /// `334 base64(text)`.
    mutating func challenge(_ text: [UInt8]) {
        lastCode = 334
        output.append(contentsOf: "334 ".utf8)
        Base64.encode(text, into: &output)
        output.append(UInt8(ascii: "\r"))
        output.append(UInt8(ascii: "\n"))
    }

    mutating func handleSASLResponse(_ line: ArraySlice<UInt8>) {
        let current = state
        enterCommands()  // AUTH is refused during a transaction (RFC 4954 §4)
        if case .authXOAuth2Failed = current {
            authenticationFailed()
            return
        }
        if line.count == 1 && line.first == UInt8(ascii: "*") {
            reply(501, "5.7.0", "Authentication aborted")
            return
        }
        guard let decoded = Base64.decode(line) else {
            reply(501, "5.5.2", "Invalid base64 data in continued response")
            return
        }
        switch current {
        case .authLoginUser:
            state = .authLoginPassword(user: String(decoding: decoded, as: UTF8.self))
            challenge(SASLLogin.passwordPrompt)
        case .authLoginPassword(let user):
            guard !user.isEmpty else { authenticationFailed(); return }
            let credentials = SASLCredentials.password(user: user, password: String(decoding: decoded, as: UTF8.self),
                                                       authorizationIdentity: nil)
            if policy.authenticate(credentials, session: session) {
                authenticationSucceeded(user: user, mechanism: .login)
            } else {
                authenticationFailed()
            }
        case .authPlain:
            finishPlain(decoded)
        case .authCramMD5(let challengeText):
            guard let parsed = SASLCRAMMD5.parse(decoded),
                  let password = policy.password(forUser: parsed.user, session: session),
                  SASLCRAMMD5.verify(response: decoded, challenge: challengeText, password: password) else {
                authenticationFailed()
                return
            }
            authenticationSucceeded(user: parsed.user, mechanism: .cramMD5)
        case .authXOAuth2:
            finishXOAuth2(decoded)
        case .notStarted, .refusing, .commands, .data, .awaitingTLS, .closed, .authXOAuth2Failed:
            break
        }
    }

    mutating func finishPlain(_ decoded: [UInt8]) {
        guard let credentials = SASLPlain.parse(decoded) else {
            authenticationFailed()
            return
        }
        if case .password(let user, _, let authzid) = credentials, let authzid, authzid != user {
            // Acting for someone else is not allowed here.
            authenticationFailed()
            return
        }
        if policy.authenticate(credentials, session: session) {
            authenticationSucceeded(user: credentials.user, mechanism: .plain)
        } else {
            authenticationFailed()
        }
    }

    mutating func finishXOAuth2(_ decoded: [UInt8]) {
        guard let credentials = SASLXOAuth2.parse(decoded), policy.authenticate(credentials, session: session) else {
            // The mechanism reports the error in a challenge, then fails after the client's reply.
            challenge(SASLXOAuth2.errorChallenge)
            state = .authXOAuth2Failed
            return
        }
        authenticationSucceeded(user: credentials.user, mechanism: .xoauth2)
    }

    mutating func authenticationSucceeded(user: String, mechanism: SASLMechanism) {
        // Only printable ASCII may reach trace headers.
        session.authenticatedUser = String(decoding: user.utf8.filter { $0 > 0x20 && $0 < 0x7F }, as: UTF8.self)
        session.authenticationMechanism = mechanism
        reply(235, "2.7.0", "Authentication successful")
        facts.append(.session(.authSucceeded(mechanism: mechanism.rawValue, user: session.authenticatedUser ?? user)))
    }

    mutating func authenticationFailed() {
        facts.append(.session(.authFailed(mechanism: currentMechanism, user: nil)))
        authFailures += 1
        heldReplyStart = output.count
        reply(535, "5.7.8", "Error: authentication failed")
    }
}

/// Replies the server writes often, pre-encoded.
enum SMTPServerReplies {
    static let queuedPrefix: [UInt8] = Array("250 2.0.0 Ok: queued as ".utf8)
    static let queuedPrefixPlain: [UInt8] = Array("250 Ok: queued as ".utf8)
}
