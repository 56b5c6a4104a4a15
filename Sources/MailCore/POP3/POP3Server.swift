/// How a POP3 listener behaves.
public struct POP3ServerConfiguration: Sendable {
    /// TLS on this listener (RFC 2595, RFC 8314).
    public enum TLSMode: Equatable, Sendable {
        /// Plaintext only: STLS is not offered.
        case none
        /// Port 110: plaintext first, `STLS` offered in the AUTHORIZATION state (RFC 2595 §4).
        case starttls
        /// Port 995: TLS from the first octet, before the greeting (RFC 8314 §3.3).
        case implicit
    }

    /// The host name in the APOP timestamp.
    public var hostname: String
    /// The greeting text after `+OK`.
    public var greeting: String
    public var tls: TLSMode
    /// Refuse USER/PASS and AUTH PLAIN until TLS is active (RFC 2595 §2.2).
    public var plaintextLoginRequiresTLS: Bool
    /// Offer APOP: the greeting then carries a timestamp `<session.clock@hostname>` (RFC 1939 §7).
    public var apop: Bool
    /// Offer `AUTH PLAIN` (RFC 5034, RFC 4616).
    public var saslPlain: Bool
    /// Inactivity autologout timer; RFC 1939 §3 asks for at least 10 minutes.
    public var idleTimeout: Duration
    /// The `IMPLEMENTATION` capability (RFC 2449 §6.9); nil leaves it out.
    public var implementation: String?
    /// Bad commands (syntax errors, unknown commands, over-long lines) before the server closes.
    public var maximumBadCommands: Int
    /// Failed logins before the server closes.
    public var maximumAuthenticationFailures: Int
    /// How long each failed login waits before its `-ERR` (Dovecot `auth_failure_delay`, 2 s);
    /// commands sent meanwhile wait too. Zero answers at once.
    public var authenticationFailureDelay: Duration

    public init(
        hostname: String,
        greeting: String = "POP3 server ready",
        tls: TLSMode = .starttls,
        plaintextLoginRequiresTLS: Bool = false,
        apop: Bool = false,
        saslPlain: Bool = true,
        idleTimeout: Duration = .seconds(600),
        implementation: String? = "MailLab",
        maximumBadCommands: Int = 20,
        maximumAuthenticationFailures: Int = 3,
        authenticationFailureDelay: Duration = .seconds(2)
    ) {
        self.hostname = hostname
        self.greeting = greeting
        self.tls = tls
        self.plaintextLoginRequiresTLS = plaintextLoginRequiresTLS
        self.apop = apop
        self.saslPlain = saslPlain
        self.idleTimeout = idleTimeout
        self.implementation = implementation
        self.maximumBadCommands = maximumBadCommands
        self.maximumAuthenticationFailures = maximumAuthenticationFailures
        self.authenticationFailureDelay = authenticationFailureDelay
    }
}

/// What a POP3 server engine asks its driver to do: the engines' shared ``EngineAction``
/// (a server has no events).
public typealias POP3Action = EngineAction<Never>

/// The server side of a POP3 session (RFC 1939), sans-IO: octets and the current time in,
/// actions out.
///
/// ```
/// S: +OK POP3 server ready
/// C: USER bob
/// S: +OK User accepted
/// C: PASS secret123
/// S: +OK Logged in
/// C: STAT
/// S: +OK 3 12345
/// C: QUIT
/// S: +OK POP3 server signing off
/// ```
/// Messages marked with DELE are removed only when QUIT is received in the TRANSACTION state
/// (UPDATE state, RFC 1939 §6). A connection that ends any other way removes nothing.
public struct POP3Server: FactReporting, ReplyReporting {
    /// The RFC 1939 §3 session states, plus the moments before the greeting and after closing.
    public enum Phase: Equatable, Sendable {
        case notStarted
        case authorization
        case transaction
        case update
        case closed
    }

    struct Message {
        var uniqueID: String
        var canonical: [UInt8]
    }

    enum State {
        case notStarted
        /// Implicit TLS: waiting for the handshake before the greeting.
        case awaitingImplicitTLS
        /// `user` is the name given by USER; `saslPlain` is set while waiting for the AUTH PLAIN
        /// response line.
        case authorization(user: String?, saslPlain: Bool)
        /// `+OK` sent to STLS; every octet until the handshake is discarded.
        case awaitingTLS
        case transaction(user: String, messages: [Message], deleted: Set<Int>)
        case update
        case closed
    }

    public let configuration: POP3ServerConfiguration
    private let backend: any POP3Backend
    private let sessionID: UInt64
    private var state: State = .notStarted
    private var framer = POP3LineFramer(limit: POP3Server.commandLineLimit)
    private var lastActivity: Duration = .zero
    private var badCommands = 0
    private var authenticationFailures = 0
    /// A failed login is being slowed down: until `holdUntil` its reply (and the close after the
    /// last allowed failure) waits in `heldActions`, and the lines received meanwhile in
    /// `pendingLines` (at most `heldLineLimit`, more closes the session).
    private(set) var holdUntil: Duration?
    private var heldActions: [POP3Action] = []
    private var pendingLines: [POP3LineFramer.Line] = []
    static let heldLineLimit = 64
    /// What happened, for the world's journal (`FactReporting`).
    public var facts: [ProtocolFact] = []
    /// The ends of the replies and what the session waits for then (`ReplyReporting`).
    public var replies: [ServerReply] = []
    /// Octets written since the greeting (held replies included) and where the last reported
    /// reply ended: carried from one `POP3Output` to the next.
    private var written = 0
    private var lastReplyEnd = 0

    /// Whether TLS protects the connection.
    public private(set) var tlsActive = false
    /// The APOP timestamp in the greeting, when APOP is offered.
    public private(set) var apopTimestamp: String?

    /// RFC 2449 §4: a command line is at most 255 octets, CRLF included.
    public static let commandLineLimit = 255
    /// The AUTH PLAIN response line may be longer than a command (RFC 5034 §4).
    static let saslLineLimit = 1024

    /// - Parameters:
    ///   - sessionID: a number the caller chooses per connection (like a process id); with the
    ///     start time it makes the APOP timestamp, so the same inputs give the same greeting.
    public init(configuration: POP3ServerConfiguration, backend: any POP3Backend, sessionID: UInt64) {
        self.configuration = configuration
        self.backend = backend
        self.sessionID = sessionID
    }

    public var phase: Phase {
        switch state {
        case .notStarted, .awaitingImplicitTLS: return .notStarted
        case .authorization, .awaitingTLS: return .authorization
        case .transaction: return .transaction
        case .update: return .update
        case .closed: return .closed
        }
    }

    /// The logged-in user, in the TRANSACTION state.
    public var user: String? {
        if case .transaction(let user, _, _) = state { return user }
        return nil
    }

    /// Message numbers marked for deletion, in the TRANSACTION state.
    public var markedForDeletion: [Int] {
        if case .transaction(_, _, let deleted) = state { return deleted.sorted() }
        return []
    }

    /// When `timerFired(now:)` should be called next: the inactivity deadline.
    public var nextDeadline: Duration? {
        if let holdUntil { return holdUntil }
        switch state {
        case .notStarted, .update, .closed: return nil
        case .awaitingImplicitTLS, .authorization, .awaitingTLS, .transaction:
            return lastActivity + configuration.idleTimeout
        }
    }

    // MARK: - Events

    /// The connection is open: greet the client, or start TLS first on an implicit-TLS listener.
    public mutating func start(now: Duration) -> [POP3Action] {
        guard case .notStarted = state else {
            assertionFailure("POP3Server.start called twice")
            return []
        }
        lastActivity = now
        if configuration.tls == .implicit {
            state = .awaitingImplicitTLS
            return [.startTLS]
        }
        return greet(now: now)
    }

    /// The TLS handshake finished (after `.startTLS`).
    public mutating func tlsEstablished(now: Duration) -> [POP3Action] {
        lastActivity = now
        switch state {
        case .awaitingImplicitTLS:
            tlsActive = true
            facts.append(.session(.tlsEstablished))
            return greet(now: now)
        case .awaitingTLS:
            // RFC 2595 §4: the session restarts in AUTHORIZATION with no user given.
            tlsActive = true
            framer.reset()
            state = .authorization(user: nil, saslPlain: false)
            facts.append(.session(.tlsEstablished))
            return []
        case .notStarted, .authorization, .transaction, .update, .closed:
            assertionFailure("POP3Server.tlsEstablished without a pending handshake")
            return []
        }
    }

    /// Octets from the client. Complete lines are answered in order (PIPELINING, RFC 2449 §6.6).
    public mutating func receive(_ octets: some Collection<UInt8>, now: Duration) -> [POP3Action] {
        switch state {
        case .notStarted, .update, .closed:
            return []
        case .awaitingImplicitTLS, .awaitingTLS:
            // Plaintext octets before the handshake are never commands (RFC 2595 §4).
            return []
        case .authorization, .transaction:
            break
        }
        lastActivity = now
        if holdUntil == nil, framer.bufferedCount == 0, let first = octets.first, Self.startsNonPOP3Input(first) {
            // Not POP3 at all (a TLS ClientHello sent to 110): one -ERR and the close, whatever
            // the bytes that follow, so the transcript never depends on the handshake's random bytes.
            var output = makeOutput()
            output.send(.err("This is not POP3 (a TLS handshake on a plaintext port?), closing the connection"))
            releaseLock()
            state = .closed
            output.close()
            return absorb(output)
        }
        let lines = framer.append(octets)
        if holdUntil != nil {
            pendingLines += lines
            if pendingLines.count > Self.heldLineLimit {
                // Flooding while a failed login waits: the session ends with the held reply.
                holdUntil = nil
                pendingLines = []
                releaseLock()
                state = .closed
                let held = heldActions
                heldActions = []
                return held.last == .close ? held : held + [.close]
            }
            return []
        }
        var output = makeOutput()
        answer(lines, now: now, into: &output)
        return absorb(output)
    }

    /// True for a first byte that starts another protocol: a TLS handshake record (0x16) or a
    /// byte above 0x7F (an SSLv2 hello, a binary client). A command line never starts so.
    static func startsNonPOP3Input(_ byte: UInt8) -> Bool {
        byte == 0x16 || byte >= 0x80
    }

    /// Answers complete lines in order until one fails a login that must wait (the rest then
    /// waits in `pendingLines`), or the session switches to TLS or ends.
    private mutating func answer(_ lines: [POP3LineFramer.Line], now: Duration, into output: inout POP3Output) {
        for (index, line) in lines.enumerated() {
            switch state {
            case .authorization, .transaction: break
            case .notStarted, .awaitingImplicitTLS, .awaitingTLS, .update, .closed:
                // After STLS or QUIT the rest of the buffer is discarded.
                framer.reset()
                return
            }
            switch line {
            case .tooLong:
                if case .authorization(_, true) = state {
                    // An over-long SASL response ends the AUTH exchange (RFC 5034 §4).
                    state = .authorization(user: nil, saslPlain: false)
                    framer.limit = Self.commandLineLimit
                }
                badCommand(POP3Response.err("Command line too long"), into: &output)
                output.endTurn(awaiting: awaiting)
            case .line(let bytes):
                output.verb = ""
                let failuresBefore = authenticationFailures
                let actionsBefore = output.actions.count
                handle(line: bytes, into: &output)
                output.endTurn(awaiting: awaiting)
                if authenticationFailures > failuresBefore, configuration.authenticationFailureDelay > .zero {
                    // The -ERR of the failed login (and a close) wait; so do the following lines.
                    heldActions = Array(output.actions[actionsBefore...])
                    output.actions.removeSubrange(actionsBefore...)
                    holdUntil = now + configuration.authenticationFailureDelay
                    pendingLines = Array(lines[(index + 1)...])
                    return
                }
            }
        }
        switch state {
        case .awaitingTLS, .update, .closed: framer.reset()
        case .notStarted, .awaitingImplicitTLS, .authorization, .transaction: break
        }
    }

    /// Time passed; closes an idle session (RFC 1939 §3 autologout timer) without entering the
    /// UPDATE state.
    public mutating func timerFired(now: Duration) -> [POP3Action] {
        guard let deadline = nextDeadline, now >= deadline else { return [] }
        if holdUntil != nil {
            // The delay after a failed login is over: its reply, then the lines that waited.
            holdUntil = nil
            lastActivity = now
            var output = makeOutput()
            output.actions = heldActions
            heldActions = []
            let waiting = pendingLines
            pendingLines = []
            if case .closed = state { return output.actions }
            answer(waiting, now: now, into: &output)
            return absorb(output)
        }
        var output = makeOutput()
        if case .awaitingImplicitTLS = state {
            output.close()
        } else if case .awaitingTLS = state {
            output.close()
        } else {
            output.send(.err("Disconnected for inactivity."))
            output.close()
        }
        releaseLock()
        state = .closed
        output.endTurn(awaiting: awaiting)
        return absorb(output)
    }

    /// The connection ended (dropped, reset, or closed after `.close`). A maildrop still locked is
    /// released and nothing is removed (RFC 1939 §6).
    public mutating func connectionClosed() {
        releaseLock()
        state = .closed
    }

    // MARK: - Commands

    private mutating func handle(line: [UInt8], into output: inout POP3Output) {
        if case .authorization(let user, true) = state {
            saslResponse(line: line, user: user, into: &output)
            return
        }
        switch POP3Command.parse(line: line) {
        case .failure(let error):
            let reply: POP3Response
            switch error {
            case .empty: reply = .err("Empty command line")
            case .invalidOctets: reply = .err("Invalid characters in command")
            case .unknownCommand: reply = .err("Unknown command")
            case .missingArgument: reply = .err("Missing argument")
            case .tooManyArguments: reply = .err("Too many arguments")
            case .invalidArgument: reply = .err("Invalid argument")
            }
            badCommand(reply, into: &output)
        case .success(let command):
            output.verb = command.keyword
            switch state {
            case .authorization(let user, _):
                authorization(command, user: user, into: &output)
            case .transaction(let user, let messages, let deleted):
                transaction(command, user: user, messages: messages, deleted: deleted, into: &output)
            case .notStarted, .awaitingImplicitTLS, .awaitingTLS, .update, .closed:
                return
            }
        }
    }

    private mutating func badCommand(_ reply: POP3Response, into output: inout POP3Output) {
        output.send(reply)
        badCommands += 1
        if badCommands >= configuration.maximumBadCommands {
            releaseLock()
            state = .closed
            output.close()
        }
    }

    private var plaintextAllowed: Bool { tlsActive || !configuration.plaintextLoginRequiresTLS }

    private static let plaintextRefused = POP3Response.err(
        .auth, "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")

    private mutating func authorization(_ command: POP3Command, user: String?, into output: inout POP3Output) {
        switch command {
        case .user(let name):
            guard plaintextAllowed else { return output.send(Self.plaintextRefused) }
            state = .authorization(user: name, saslPlain: false)
            output.send(.ok("User accepted"))
        case .pass(let password):
            guard plaintextAllowed else { return output.send(Self.plaintextRefused) }
            guard let user else { return output.send(.err("No username given.")) }
            state = .authorization(user: nil, saslPlain: false)
            if backend.verifyPassword(user: user, password: password) {
                openMaildrop(user: user, mechanism: "USER", into: &output)
            } else {
                authenticationFailed(mechanism: "USER", user: user, into: &output)
            }
        case .apop(let name, let digest):
            guard configuration.apop, let timestamp = apopTimestamp else {
                return output.send(.err("APOP is not enabled on this server"))
            }
            state = .authorization(user: nil, saslPlain: false)
            if let secret = backend.apopSecret(user: name), POP3Text.md5Hex(timestamp + secret) == digest {
                openMaildrop(user: name, mechanism: "APOP", into: &output)
            } else {
                authenticationFailed(mechanism: "APOP", user: name, into: &output)
            }
        case .auth(nil, _):
            var lines: [String] = []
            if configuration.saslPlain && plaintextAllowed { lines.append("PLAIN") }
            output.send(.ok("Supported mechanisms follow"))
            output.send(bytes: POP3Text.multiLineBody(strings: lines))
        case .auth(let mechanism?, let initial):
            guard mechanism == "PLAIN", configuration.saslPlain else {
                return output.send(.err("Unsupported authentication mechanism."))
            }
            guard plaintextAllowed else { return output.send(Self.plaintextRefused) }
            if let initial {
                state = .authorization(user: nil, saslPlain: false)
                checkPlain(response: initial == "=" ? "" : initial, into: &output)
            } else {
                state = .authorization(user: nil, saslPlain: true)
                framer.limit = Self.saslLineLimit
                output.send(POP3Response(.continuation, ""))
            }
        case .stls:
            if tlsActive { return output.send(.err("TLS is already active.")) }
            guard configuration.tls == .starttls else { return output.send(.err("STLS is not available.")) }
            state = .awaitingTLS
            output.send(.ok("Begin TLS negotiation"))
            output.startTLS()
        case .capa:
            capabilities(into: &output)
        case .quit:
            state = .closed
            output.send(.ok("POP3 server signing off"))
            output.close()
        case .stat, .list, .retr, .dele, .noop, .rset, .top, .uidl:
            badCommand(.err("Not logged in."), into: &output)
        }
    }

    private mutating func saslResponse(line: [UInt8], user: String?, into output: inout POP3Output) {
        framer.limit = Self.commandLineLimit
        state = .authorization(user: nil, saslPlain: false)
        let text = String(decoding: line, as: UTF8.self)
        if text == "*" {
            // RFC 5034 §4: a lone "*" cancels the exchange.
            return output.send(.err("Authentication cancelled."))
        }
        checkPlain(response: text, into: &output)
    }

    /// RFC 4616: `[authzid] NUL authcid NUL passwd`, base64-encoded.
    private mutating func checkPlain(response: String, into output: inout POP3Output) {
        guard let decoded = Base64.decode(response.utf8) else {
            return output.send(.err("Invalid base64 data."))
        }
        let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return authenticationFailed(mechanism: "PLAIN", user: nil, into: &output) }
        let authzid = String(decoding: parts[0], as: UTF8.self)
        let user = String(decoding: parts[1], as: UTF8.self)
        let password = String(decoding: parts[2], as: UTF8.self)
        guard authzid.isEmpty || authzid == user,
              backend.verifyPassword(user: user, password: password) else {
            return authenticationFailed(mechanism: "PLAIN", user: user, into: &output)
        }
        openMaildrop(user: user, mechanism: "PLAIN", into: &output)
    }

    private mutating func authenticationFailed(mechanism: String, user: String?, into output: inout POP3Output) {
        output.facts.append(.session(.authFailed(mechanism: mechanism, user: user)))
        // The -ERR starts an action of its own, so that it can be held back (failure delay).
        output.sendAlone(POP3Response.err(.auth, "Authentication failed."))
        output.facts.append(.session(.refused(command: output.verb, status: "-ERR", code: POP3ResponseCode.auth.text)))
        authenticationFailures += 1
        if authenticationFailures >= configuration.maximumAuthenticationFailures {
            state = .closed
            output.close()
        }
    }

    /// RFC 1939 §4: after a successful login the server locks the maildrop; if it cannot, it
    /// answers `-ERR` and stays in AUTHORIZATION.
    private mutating func openMaildrop(user: String, mechanism: String, into output: inout POP3Output) {
        switch backend.lockMaildrop(user: user) {
        case .success(let stored):
            let messages = stored.map { Message(uniqueID: $0.uniqueID, canonical: POP3Text.canonicalLines($0.content)) }
            state = .transaction(user: user, messages: messages, deleted: [])
            output.send(.ok("Logged in"))
            output.facts.append(.session(.authSucceeded(mechanism: mechanism, user: user)))
        case .failure(.inUse):
            output.send(.err(.inUse, "Mailbox is locked by another session"))
        case .failure(.temporaryFailure):
            output.send(.err(.sysTemp, "Unable to open the maildrop, try again later"))
        case .failure(.permanentFailure):
            output.send(.err(.sysPerm, "Unable to open the maildrop"))
        }
    }

    private func capabilities(into output: inout POP3Output) {
        output.facts.append(.session(.capabilities))
        var lines = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
        if case .authorization = state {
            if configuration.tls == .starttls && !tlsActive { lines.append("STLS") }
            if plaintextAllowed {
                lines.append("USER")
                if configuration.saslPlain { lines.append("SASL PLAIN") }
            }
        }
        if let implementation = configuration.implementation { lines.append("IMPLEMENTATION \(implementation)") }
        output.send(.ok("Capability list follows"))
        output.send(bytes: POP3Text.multiLineBody(strings: lines))
    }

    private mutating func transaction(
        _ command: POP3Command, user: String, messages: [Message], deleted: Set<Int>, into output: inout POP3Output
    ) {
        /// The message with this number, or the reply explaining why there is none.
        enum Lookup {
            case success(Message)
            case failure(POP3Response)
        }
        func lookup(_ n: Int) -> Lookup {
            guard n >= 1, n <= messages.count else { return .failure(.err("No such message")) }
            if deleted.contains(n) { return .failure(.err("Message \(n) is deleted")) }
            return .success(messages[n - 1])
        }
        let live = messages.indices.map { $0 + 1 }.filter { !deleted.contains($0) }
        let liveSize = live.reduce(0) { $0 + messages[$1 - 1].canonical.count }

        switch command {
        case .stat:
            output.send(.ok("\(live.count) \(liveSize)"))
            output.facts.append(.pop3(.stat(messages: live.count, octets: liveSize)))
        case .list(nil):
            output.facts.append(.pop3(.listed(message: nil, uidl: false)))
            output.send(.ok(Self.count(live.count, "message")))
            output.send(bytes: POP3Text.multiLineBody(strings: live.map {
                POP3ScanListing(message: $0, size: messages[$0 - 1].canonical.count).line
            }))
        case .list(let n?):
            switch lookup(n) {
            case .success(let message):
                output.send(.ok(POP3ScanListing(message: n, size: message.canonical.count).line))
                output.facts.append(.pop3(.listed(message: n, uidl: false)))
            case .failure(let reply): output.send(reply)
            }
        case .uidl(nil):
            output.facts.append(.pop3(.listed(message: nil, uidl: true)))
            output.send(.ok("Unique ID listing"))
            output.send(bytes: POP3Text.multiLineBody(strings: live.map {
                POP3UniqueIDListing(message: $0, uniqueID: messages[$0 - 1].uniqueID).line
            }))
        case .uidl(let n?):
            switch lookup(n) {
            case .success(let message):
                output.send(.ok(POP3UniqueIDListing(message: n, uniqueID: message.uniqueID).line))
                output.facts.append(.pop3(.listed(message: n, uidl: true)))
            case .failure(let reply): output.send(reply)
            }
        case .retr(let n):
            switch lookup(n) {
            case .success(let message):
                output.send(.ok("\(message.canonical.count) octets"))
                output.send(bytes: POP3Text.multiLineBody(POP3Text.lines(message.canonical)))
                output.facts.append(.pop3(.retrieved(message: n, uidl: message.uniqueID, size: message.canonical.count)))
            case .failure(let reply): output.send(reply)
            }
        case .top(let n, let count):
            switch lookup(n) {
            case .success(let message):
                output.send(.ok("Top of message follows"))
                output.send(bytes: POP3Text.multiLineBody(POP3Text.top(message.canonical, bodyLines: count)))
                output.facts.append(.pop3(.top(message: n, lines: count, uidl: message.uniqueID)))
            case .failure(let reply): output.send(reply)
            }
        case .dele(let n):
            switch lookup(n) {
            case .success(let message):
                state = .transaction(user: user, messages: messages, deleted: deleted.union([n]))
                output.send(.ok("Message \(n) deleted"))
                output.facts.append(.pop3(.markedDeleted(message: n, uidl: message.uniqueID)))
            case .failure(let reply): output.send(reply)
            }
        case .noop:
            output.send(.ok())
        case .rset:
            output.facts.append(.pop3(.reset(restored: deleted.sorted().map { messages[$0 - 1].uniqueID })))
            state = .transaction(user: user, messages: messages, deleted: [])
            let total = messages.reduce(0) { $0 + $1.canonical.count }
            output.send(.ok("maildrop has \(Self.count(messages.count, "message")) (\(total) octets)"))
        case .capa:
            capabilities(into: &output)
        case .quit:
            // RFC 1939 §6: the UPDATE state removes the marked messages, then releases the lock.
            state = .update
            let removed = deleted.sorted().map { messages[$0 - 1].uniqueID }
            var result: Result<Void, POP3MaildropError> = .success(())
            if !removed.isEmpty { result = backend.removeMessages(user: user, uniqueIDs: removed) }
            backend.unlockMaildrop(user: user)
            switch result {
            case .success:
                output.facts.append(.pop3(.committed(deleted: removed)))
                output.send(.ok(removed.isEmpty
                    ? "POP3 server signing off"
                    : "POP3 server signing off (\(Self.count(removed.count, "message")) deleted)"))
            case .failure:
                output.send(.err(.sysTemp, "Some deleted messages were not removed"))
            }
            state = .closed
            output.close()
        case .user, .pass, .apop, .auth:
            badCommand(.err("Already logged in."), into: &output)
        case .stls:
            badCommand(.err("STLS is only allowed before login."), into: &output)
        }
    }

    /// "1 message", "3 messages".
    static func count(_ n: Int, _ noun: String) -> String { n == 1 ? "1 \(noun)" : "\(n) \(noun)s" }

    /// Checks the session's internal consistency (debug builds; cheap enough for every test).
    func checkInvariants() {
        #if DEBUG
        if case .transaction(_, let messages, let deleted) = state {
            assert(deleted.allSatisfy { (1...messages.count).contains($0) }, "marked message outside the maildrop")
        }
        assert(framer.bufferedCount <= framer.limit, "line buffer over its limit")
        #endif
    }

    private mutating func greet(now: Duration) -> [POP3Action] {
        state = .authorization(user: nil, saslPlain: false)
        var text = configuration.greeting
        if configuration.apop {
            let timestamp = "<\(sessionID).\(now.components.seconds)@\(configuration.hostname)>"
            apopTimestamp = timestamp
            text += " " + timestamp
        }
        var output = makeOutput()
        output.send(.ok(text))
        output.endTurn(awaiting: awaiting)
        facts.append(.session(.greeting))
        return absorb(output)
    }

    /// An output that goes on from where the last one stopped in the stream.
    private func makeOutput() -> POP3Output {
        POP3Output(written: written, lastReplyEnd: lastReplyEnd)
    }

    /// Takes the facts and replies of `output`; returns its actions.
    private mutating func absorb(_ output: POP3Output) -> [POP3Action] {
        facts += output.facts
        replies += output.replies
        written = output.written
        lastReplyEnd = output.lastReplyEnd
        return output.actions
    }

    /// What the session waits for in its current state.
    private var awaiting: ServerAwaits {
        switch state {
        case .authorization(_, true): return .saslResponse
        case .authorization, .transaction: return .command
        case .awaitingTLS: return .tlsHandshake
        case .notStarted, .awaitingImplicitTLS, .update, .closed: return .nothing
        }
    }

    private mutating func releaseLock() {
        if case .transaction(let user, _, _) = state {
            backend.unlockMaildrop(user: user)
            state = .closed
        }
    }
}

/// Collects actions, joining consecutive sends into one write.
struct POP3Output {
    var actions: [POP3Action] = []
    /// Facts of the commands answered; `verb` is the command being answered.
    var facts: [ProtocolFact] = []
    var verb = ""
    /// Octets written on the connection since the greeting, these included.
    var written = 0
    /// Where the last reported reply ended, and the status line of the reply being written.
    var lastReplyEnd = 0
    var status: POP3Response.Status?
    var replies: [ServerReply] = []

    /// A command (or the greeting, a timeout) is answered: reports its reply's end when it wrote one.
    mutating func endTurn(awaiting: ServerAwaits) {
        guard written > lastReplyEnd, let status else { return }
        lastReplyEnd = written
        let reply: ServerReply
        switch status {
        case .ok: reply = ServerReply(status: .positive, code: "+OK", awaiting: awaiting, end: written)
        case .err: reply = ServerReply(status: .negative, code: "-ERR", awaiting: awaiting, end: written)
        case .continuation: reply = ServerReply(status: .continuation, code: "+", awaiting: awaiting, end: written)
        }
        replies.append(reply)
    }

    /// A status line as an action of its own (so that it can be held back).
    mutating func sendAlone(_ response: POP3Response) {
        status = response.status
        let bytes = response.encoded
        written += bytes.count
        actions.append(.send(bytes))
    }

    mutating func send(bytes: [UInt8]) {
        written += bytes.count
        if case .send(let previous)? = actions.last {
            actions[actions.count - 1] = .send(previous + bytes)
        } else {
            actions.append(.send(bytes))
        }
    }

    mutating func send(_ response: POP3Response) {
        status = response.status
        if response.status == .err {
            facts.append(.session(.refused(command: verb, status: "-ERR", code: response.code?.text)))
        }
        send(bytes: response.encoded)
    }
    mutating func startTLS() { actions.append(.startTLS) }
    mutating func close() { actions.append(.close) }
}
