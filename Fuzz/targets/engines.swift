// libFuzzer target: the three server engines (SMTPServer, POP3Server, IMAPServer) driven through
// their one contract (`ProtocolEngine`) as a connection's driver would, with a peer's bytes cut
// into arbitrary reads. POP3 and IMAP serve a real `MailStore` (MailAgents' store, compiled in).
//
// Input: byte 0 chooses the engine (bits 0-1: SMTP relay/submission, POP3, IMAP, SMTP on an
// implicit-TLS port) and its configuration (bits 2-7: limits, TLS modes, authentication delays,
// bare line endings); byte 1 seeds the driver's choices: the size of each read, time passing, the
// timer firing at (or just before) the engine's deadline, the TLS handshake the engine asks for
// succeeding or failing (with plaintext bytes arriving before it ends), messages delivered to the
// store during an IMAP session (IDLE pushes). The rest is the client's byte stream.
//
// A run fails (fatalError, so libFuzzer keeps the input) when an engine
//   * sends after asking to close, sends an empty or unterminated write, or sends while the TLS
//     handshake it asked for is running, or acts on plaintext received during that handshake;
//   * buffers more than its documented limits: SMTP a line plus the held input after a failed
//     AUTH (`heldInputLimit`) and a message body within `maxMessageSize`; POP3 a SASL line and
//     64 held lines; IMAP a command (`maxCommand`) plus a line, `maxLine` while a login waits;
//   * answers with more than a bounded number of octets per line received (no unbounded output);
//   * lets the timer fire early to any effect, or leaves its deadline where it was after firing
//     (a driver would spin);
//   * reports inconsistent facts: an SMTP RCPT accepted outside a transaction, a message accepted
//     (or handed to the policy) that the input never ended with `<CRLF>.<CRLF>` after a 354, a
//     stored message larger than its limits or with a recipient twice; POP3 maildrop commands or
//     IMAP mailbox commands carried out before a successful login, facts after `closed`;
//   * writes an SMTP reply line that is not `ddd SP/- printable text`, or an IMAP response line
//     that is not untagged, a continuation, or tagged with a tag the client sent;
//   * at the end, left in a state that reads commands, does not answer one more line (a reply
//     per command), or keeps the POP3 maildrop locked after the connection closed.

@inline(never)
func violated(_ what: String) -> Never {
    fatalError("engines: " + what)
}

struct FuzzRandom {
    var state: UInt64
    init(seed: UInt8, size: Int) { state = 0x9E37_79B9_7F4A_7C15 &* (UInt64(seed) &+ 1) ^ UInt64(size) }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// The MTA's side of an SMTP session: alice and bob on example.com, relaying for those who
/// logged in; it records what the engine handed it.
struct FuzzSMTPPolicy: SMTPServerPolicy {
    var refuseConnection = false
    var accepted: [(envelope: SMTPEnvelope, size: Int)] = []
    var successfulLogins = 0
    var queueNumber = 0

    mutating func connectionOpened(session: SMTPSessionInfo) -> SMTPPolicyDecision {
        refuseConnection ? .reject(SMTPReply(code: 554, "5.7.1", "No SMTP service here")) : .accept
    }
    mutating func authenticate(_ credentials: SASLCredentials, session: SMTPSessionInfo) -> Bool {
        let right: Bool
        switch credentials {
        case .password(let user, let password, _): right = (user, password) == ("alice", "mypassword") || (user, password) == ("bob", "secret123")
        case .bearerToken(let user, let token): right = user == "alice@example.com" && token == "ya29.token"
        }
        if right { successfulLogins += 1 }
        return right
    }
    mutating func password(forUser user: String, session: SMTPSessionInfo) -> String? {
        user == "alice" ? "mypassword" : user == "bob" ? "secret123" : nil
    }
    mutating func checkSender(_ path: SMTPPath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPPolicyDecision {
        path.address.hasPrefix("spam") ? .reject(SMTPReply(code: 550, "5.7.1", "Sender refused")) : .accept
    }
    mutating func checkRecipient(_ path: SMTPPath, parameters: SMTPRecipientParameters, envelope: SMTPEnvelope,
                                 session: SMTPSessionInfo) -> SMTPPolicyDecision {
        guard let mailbox = path.mailbox else { return .reject(SMTPReply(code: 501, "5.1.3", "Bad recipient address syntax")) }
        if mailbox.localPart.hasPrefix("grey") { return .reject(SMTPReply(code: 450, "4.2.0", "Greylisted")) }
        if mailbox.normalizedDomain == "example.com" && !path.hasRoutingSyntax { return .accept }
        return session.authenticatedUser != nil ? .accept : .reject(SMTPReply(code: 554, "5.7.1", "Relay access denied"))
    }
    mutating func acceptMessage(_ envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> SMTPMessageDecision {
        accepted.append((envelope, data.count))
        queueNumber += 1
        if data.count % 7 == 3 { return .reject(SMTPReply(code: 451, "4.3.0", "Try again later")) }
        return .queued(id: "Q\(queueNumber)")
    }
}

/// Runs one engine through its contract and checks what it does after every call.
struct Driver<Engine: ProtocolEngine> where Engine.Event == Never {
    var engine: Engine
    var random: FuzzRandom
    var now: Duration = .zero
    /// Everything delivered to the engine, and everything it sent.
    var input: [UInt8] = []
    var output: [UInt8] = []
    var facts: [ProtocolFact] = []
    var closed = false
    var tlsRequested = false
    /// Where the input of the current call started (the engine may still hold older bytes).
    var callStart = 0
    /// The most octets the engine may send in one call, given the lines received in it and all the
    /// input so far.
    let outputBound: (_ lines: Int, _ input: Int) -> Int
    /// The engine-specific checks after each call, given the bytes sent in this call.
    var check: (Engine, ArraySlice<UInt8>, inout Driver) -> Void = { _, _, _ in }

    init(engine: Engine, random: FuzzRandom, outputBound: @escaping (_ lines: Int, _ input: Int) -> Int) {
        self.engine = engine
        self.random = random
        self.outputBound = outputBound
    }

    mutating func perform(_ actions: [EngineAction<Never>], lines: Int, what: String) {
        let before = output.count
        for action in actions {
            if closed { violated("\(what): an action after .close") }
            switch action {
            case .send(let bytes):
                if bytes.isEmpty { violated("\(what): an empty send") }
                if tlsRequested { violated("\(what): a send while the TLS handshake runs") }
                if bytes.count < 2 || bytes[bytes.count - 2] != 13 || bytes[bytes.count - 1] != 10 {
                    violated("\(what): a send that does not end with CRLF")
                }
                output += bytes
            case .startTLS:
                if tlsRequested { violated("\(what): .startTLS twice") }
                tlsRequested = true
            case .close:
                closed = true
            }
        }
        let sent = output.count - before
        // (The bound is asked for only past a few kilobytes: IMAP's reads the whole store.)
        if sent > 4096, sent > outputBound(lines, input.count) {
            violated("\(what): \(sent) octets sent for \(lines) lines received")
        }
        let new = engine.takeFacts()
        for fact in new where facts.last == .session(.closed) {
            violated("\(what): fact \(fact) after closed")
        }
        facts += new
        let engine = self.engine
        let check = self.check
        let sentNow = output[before...]
        check(engine, sentNow, &self)
    }

    static func lineCount(_ bytes: ArraySlice<UInt8>) -> Int { bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }

    /// The TLS handshake the engine asked for: plaintext first (discarded), then the outcome.
    mutating func handshake(_ stream: [UInt8], _ index: inout Int) {
        tlsRequested = false
        let r = random.next()
        if r % 4 == 0, index < stream.count {
            let end = min(stream.count, index + 1 + Int((r >> 8) % 16))
            let junk = Array(stream[index..<end])
            index = end
            callStart = input.count
            input += junk
            var actions: [EngineAction<Never>] = []
            tlsRequested = true
            engine.receive(junk, now: now, into: &actions)
            if !actions.isEmpty { violated("actions for plaintext received during the TLS handshake: \(actions)") }
            tlsRequested = false
        }
        var actions: [EngineAction<Never>] = []
        callStart = input.count
        if r % 8 == 7 {
            engine.tlsFailed(now: now, into: &actions)
            for case .send in actions { violated("a send after the TLS handshake failed") }
            perform(actions, lines: 0, what: "tlsFailed")
            closed = true
        } else {
            engine.tlsEstablished(now: now, into: &actions)
            perform(actions, lines: 1, what: "tlsEstablished")
        }
    }

    /// Time passes; the timer fires when its deadline is near (a failed login's delay) or, rarely,
    /// after the idle timeout. First once just before the deadline, which must do nothing.
    mutating func maybeFireTimer() {
        guard !closed, !tlsRequested, let deadline = engine.nextDeadline else { return }
        let r = random.next()
        let near = deadline <= now + .seconds(5)
        guard near ? r % 4 != 0 : r % 32 == 0 else { return }
        var actions: [EngineAction<Never>] = []
        callStart = input.count
        if deadline - .seconds(1) > now {
            engine.timerFired(now: deadline - .seconds(1), into: &actions)
            if !actions.isEmpty { violated("the timer fired a second early and the engine acted: \(actions)") }
            perform(actions, lines: 0, what: "early timer")
        }
        now = max(now, deadline)
        engine.timerFired(now: now, into: &actions)
        // What it sends now answers input it held back (a failed login's delay).
        perform(actions, lines: Self.lineCount(input.suffix(20_480)) + 2, what: "timerFired")
        if !closed, !tlsRequested, let next = engine.nextDeadline, next <= now {
            violated("the deadline \(next) did not move after the timer fired at \(now)")
        }
    }

    /// Feeds the stream in reads of varying sizes, with time passing between them.
    mutating func run(_ stream: [UInt8], between: (inout Driver) -> Void = { _ in }) {
        var actions: [EngineAction<Never>] = []
        engine.start(now: now, into: &actions)
        perform(actions, lines: 1, what: "start")
        var index = 0
        while index < stream.count, !closed {
            if tlsRequested { handshake(stream, &index); continue }
            let r = random.next()
            let size: Int
            switch r % 4 {
            case 0: size = 1
            case 1: size = 1 + Int((r >> 8) % 8)
            case 2: size = 1 + Int((r >> 8) % 64)
            default: size = 1 + Int((r >> 8) % 2048)
            }
            let end = min(stream.count, index + size)
            let chunk = stream[index..<end]
            index = end
            callStart = input.count
            input += chunk
            actions.removeAll()
            engine.receive(Array(chunk), now: now, into: &actions)
            perform(actions, lines: Self.lineCount(chunk), what: "receive")
            switch (r >> 20) % 8 {
            case 0: now += .seconds(30)
            case 1, 2: now += .seconds(1)
            case 3: now += .milliseconds(1)
            default: break
            }
            maybeFireTimer()
            if !closed { between(&self) }
        }
        if tlsRequested { var i = stream.count; handshake(stream, &i) }
    }

    /// One more line in a state that reads commands must be answered, unless it failed a login
    /// whose answer waits (`held`).
    mutating func probe(_ bytes: String, held: (Engine) -> Bool) {
        guard !closed, !tlsRequested else { return }
        let before = output.count
        let data = Array(bytes.utf8)
        callStart = input.count
        input += data
        var actions: [EngineAction<Never>] = []
        engine.receive(data, now: now, into: &actions)
        perform(actions, lines: Self.lineCount(data[...]), what: "probe")
        if output.count == before && !closed && !held(engine) { violated("no answer to the probe \(bytes.debugDescription)") }
    }

    mutating func end() {
        var actions: [EngineAction<Never>] = []
        engine.connectionClosed(now: now, into: &actions)
        for case .send in actions { violated("a send after the peer closed") }
        closed = false
        perform(actions, lines: 0, what: "connectionClosed")
        actions.removeAll()
        engine.receive(Array("QUIT\r\n".utf8), now: now, into: &actions)
        if !actions.isEmpty { violated("actions after the connection closed: \(actions)") }
    }
}

// MARK: - SMTP

func fuzzSMTPServer(_ variant: UInt8, implicitTLS: Bool, _ random: FuzzRandom, _ stream: [UInt8]) {
    var configuration: SMTPServerConfiguration
    if implicitTLS {
        configuration = .implicitTLS(hostname: "mail.example.com", mechanisms: [.plain, .login, .cramMD5, .xoauth2])
    } else if variant & 1 == 1 {
        configuration = .submission(hostname: "mail.example.com", mechanisms: [.plain, .login, .cramMD5, .xoauth2])
    } else {
        configuration = .relay(hostname: "mail.example.com")
        configuration.mechanisms = [.plain, .login]
    }
    if variant & 2 != 0 {
        configuration.maxMessageSize = 3000
        configuration.maxRecipients = 4
        configuration.maxTransactionOctets = 7000
        configuration.maxUnknownCommands = 3
        configuration.maxAuthFailures = 2
    }
    configuration.authFailureDelay = variant & 4 != 0 ? .zero : .seconds(2)
    configuration.bareLineEndings = variant & 8 != 0 ? .reject : .normalize
    if variant & 16 != 0 { configuration.requireTLSForAuth = false; configuration.advertiseAuthEqualsForm = true }
    var policy = FuzzSMTPPolicy()
    policy.refuseConnection = variant & 63 == 32
    let server = SMTPServer(configuration: configuration, policy: policy, clientAddress: "203.0.113.7",
                            clientHostname: "client.example.net")
    let perLine = 1024 + configuration.maxCommandLineLength + configuration.maxAuthLineLength
    var driver = Driver(engine: server, random: random, outputBound: { lines, _ in 4096 + (lines + 1) * perLine })
    // Where the unread input started when a 354 went out, one entry per DATA answered.
    var dataStarts: [Int] = []
    var handedOver = 0
    var inTransaction = false
    var checkedFacts = 0
    var passwordLogins = 0
    driver.check = { server, sent, driver in
        // Buffers within their limits.
        if server.framer.bufferedCount > server.heldInputLimit {
            violated("SMTP buffers \(server.framer.bufferedCount) input octets (limit \(server.heldInputLimit))")
        }
        if server.heldOutput.count > 4096 { violated("SMTP holds \(server.heldOutput.count) reply octets") }
        if server.holdUntil == nil, !server.output.isEmpty { violated("SMTP kept \(server.output.count) reply octets unsent") }
        if case .data(_, let reception) = server.state, reception.body.count > server.configuration.maxMessageSize {
            violated("SMTP holds a body of \(reception.body.count) octets (limit \(server.configuration.maxMessageSize))")
        }
        // Reply lines.
        var lineStart = sent.startIndex
        for index in sent.indices where sent[index] == 10 {
            let line = sent[lineStart..<index]
            lineStart = index + 1
            let bytes = Array(line)
            guard bytes.count >= 5, bytes[bytes.count - 1] == 13,
                  (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0]),
                  bytes[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-"),
                  bytes.dropLast().allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                violated("SMTP reply line \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
            if bytes.starts(with: Array("354 ".utf8)) {
                // Conservatively, the body starts with the oldest input the engine may have held.
                dataStarts.append(max(0, driver.callStart - server.heldInputLimit))
            }
        }
        // Messages handed to the policy: only after a 354 and the input's <CRLF>.<CRLF>.
        let policy = server.policy
        while handedOver < policy.accepted.count {
            let (envelope, size) = policy.accepted[handedOver]
            handedOver += 1
            guard !dataStarts.isEmpty else { violated("SMTP handed over a message without a 354") }
            let start = dataStarts.removeFirst()
            let span = driver.input[start...]
            let terminator: [UInt8] = [10, UInt8(ascii: "."), 13, 10]
            var found = false
            var i = span.startIndex
            while i + 4 <= span.endIndex, !found {
                if span[i] == 10, span[i + 1] == terminator[1], span[i + 2] == 13, span[i + 3] == 10 { found = true }
                i += 1
            }
            if !found { violated("SMTP handed over a message before the end of DATA") }
            if size > 2 * span.count { violated("SMTP message of \(size) octets from \(span.count) octets of input") }
            let limit = min(server.configuration.maxMessageSize,
                            server.configuration.maxTransactionOctets / max(1, envelope.recipients.count))
            if size > limit { violated("SMTP message of \(size) octets over its limit \(limit)") }
            let addresses = envelope.recipients.map { $0.path.address.lowercased() }
            if addresses.isEmpty || Set(addresses).count != addresses.count {
                violated("SMTP message for recipients \(addresses)")
            }
            if addresses.count > server.configuration.maxRecipients { violated("SMTP message for \(addresses.count) recipients") }
        }
        // Facts.
        while checkedFacts < driver.facts.count {
            let fact = driver.facts[checkedFacts]
            checkedFacts += 1
            switch fact {
            case .smtp(.hello), .smtp(.reset), .smtp(.messageRefused), .session(.tlsEstablished): inTransaction = false
            case .smtp(.mailAccepted): inTransaction = true
            case .smtp(.rcptAccepted): if !inTransaction { violated("SMTP RCPT accepted outside a transaction") }
            case .smtp(.messageAccepted(_, _, let to, _, _)):
                if !inTransaction || to.isEmpty { violated("SMTP message accepted outside a transaction") }
                inTransaction = false
            case .session(.authSucceeded(let mechanism, _)) where mechanism != "CRAM-MD5":
                // CRAM-MD5 is checked by the engine against the password the policy gave.
                passwordLogins += 1
                if passwordLogins > policy.successfulLogins { violated("SMTP login the policy did not accept: \(fact)") }
            default: break
            }
        }
        let queued = driver.facts.filter { if case .smtp(.messageAccepted) = $0 { return true } else { return false } }.count
        if queued > policy.accepted.count { violated("SMTP reports \(queued) messages, the policy got \(policy.accepted.count)") }
    }
    driver.run(stream)
    let held: (SMTPServer<FuzzSMTPPolicy>) -> Bool = { $0.holdUntil != nil }
    if !held(driver.engine) {
        switch driver.engine.state {
        case .data: driver.probe("\r\n.\r\n", held: held)
        case .commands, .refusing: driver.probe("\r\nNOOP\r\n", held: held)
        case .authLoginUser, .authLoginPassword, .authPlain, .authCramMD5, .authXOAuth2, .authXOAuth2Failed:
            driver.probe("*\r\n", held: held)
        case .notStarted, .awaitingTLS, .closed: break
        }
    }
    driver.end()
}

// MARK: - POP3 and IMAP

/// Octets of every message in the store, each with room for its FETCH response's own text.
func storeOctets(_ store: MailStore) -> Int {
    store.accounts.values.reduce(0) { $0 + $1.folders.reduce(0) { $0 + $1.messages.reduce(0) { $0 + $1.size + 512 } } }
}

func fuzzStore() -> MailStore {
    let store = MailStore(now: IMAPDate(secondsSince1970: 1_795_000_000))
    // Fewer than the default 100,000 messages an account may hold, so that an input that copies
    // a mailbox onto itself reaches the bound in a few milliseconds.
    store.messageLimit = 3_000
    try? store.addUser("bob", password: "secret123", addresses: ["bob@example.com"], quotaBytes: 200_000)
    // Bob has a quota (as a lesson may set); alice has none, as the accounts of `serve` have none.
    try? store.addUser("alice", password: "mypassword", addresses: ["alice@example.com"])
    try? store.createMailbox(user: "bob", name: "Archive")
    let date = IMAPDate(secondsSince1970: 1_795_000_000)
    let messages = [
        "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hello\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\nHi Bob.\r\n.dot line\r\n",
        "From: =?utf-8?q?Caf=C3=A9?= <cafe@example.org>\r\nTo: bob@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\ntext\r\n--b1\r\n"
            + "Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b1--\r\n",
        "Subject: bare\n\nno CR here\n",
    ]
    for message in messages { _ = try? store.deliver(to: "bob", bytes: Array(message.utf8), internalDate: date) }
    _ = try? store.deliver(to: "alice", bytes: Array("Subject: a\r\n\r\nfor alice\r\n".utf8), internalDate: date)
    return store
}

/// Facts that need a login first.
func needsLogin(_ fact: ProtocolFact) -> Bool {
    switch fact {
    case .pop3: return true
    case .imap(.state(let name)): return name == .selected
    case .imap(.pushed), .imap(.idleStarted), .imap(.idleEnded): return false
    case .imap: return true
    case .session, .smtp, .mta: return false
    }
}

func checkLoginOrder(_ facts: [ProtocolFact], users: Set<String>, protocolName: String) {
    var loggedIn = false
    for fact in facts {
        if case .session(.authSucceeded(_, let user)) = fact {
            if !users.contains(user.lowercased()) { violated("\(protocolName) login of an unknown user \(user)") }
            loggedIn = true
        }
        if needsLogin(fact) && !loggedIn { violated("\(protocolName) \(fact) before a login") }
    }
}

func fuzzPOP3Server(_ variant: UInt8, _ random: FuzzRandom, _ stream: [UInt8]) {
    let store = fuzzStore()
    let modes: [POP3ServerConfiguration.TLSMode] = [.none, .starttls, .implicit, .starttls]
    let configuration = POP3ServerConfiguration(hostname: "mail.example.com", tls: modes[Int(variant & 3)],
                                                plaintextLoginRequiresTLS: variant & 4 != 0, apop: variant & 8 != 0,
                                                saslPlain: variant & 16 == 0, maximumBadCommands: variant & 32 != 0 ? 3 : 20,
                                                authenticationFailureDelay: variant & 32 != 0 ? .zero : .seconds(2))
    let server = POP3Server(configuration: configuration, backend: store, sessionID: 4242)
    // RETR of every message in one line's answer is the largest reply.
    var driver = Driver(engine: server, random: random, outputBound: { lines, _ in 4096 + (lines + 1) * 8192 })
    driver.check = { server, _, _ in
        let mirror = Mirror(reflecting: server)
        if let framer = mirror.descendant("framer") as? POP3LineFramer, framer.bufferedCount > POP3Server.saslLineLimit + 2 {
            violated("POP3 buffers \(framer.bufferedCount) input octets")
        }
        if let pending = mirror.descendant("pendingLines") as? [POP3LineFramer.Line], pending.count > POP3Server.heldLineLimit + 2048 {
            violated("POP3 holds \(pending.count) lines")
        }
    }
    driver.run(stream)
    if driver.engine.holdUntil == nil, driver.engine.phase == .authorization || driver.engine.phase == .transaction {
        driver.probe("\r\nNOOP\r\n", held: { $0.holdUntil != nil })
    }
    driver.end()
    checkLoginOrder(driver.facts, users: ["bob", "alice"], protocolName: "POP3")
    // The connection is gone: its maildrop lock with it; what UPDATE removed is gone.
    for user in ["bob", "alice"] {
        guard case .success(let left) = store.lockMaildrop(user: user) else { violated("POP3 left \(user)'s maildrop locked") }
        store.unlockMaildrop(user: user)
        let kept = Set(left.map(\.uniqueID))
        for case .pop3(.committed(let deleted)) in driver.facts {
            for id in deleted where kept.contains(id) { violated("POP3 committed the deletion of \(id) but the store keeps it") }
        }
    }
}

func fuzzIMAPServer(_ variant: UInt8, _ random: FuzzRandom, _ stream: [UInt8]) {
    let store = fuzzStore()
    var configuration = IMAPServerConfiguration(implicitTLS: variant & 1 != 0, requireTLSForAuthentication: variant & 2 != 0,
                                                origin: IMAPDate(secondsSince1970: 1_795_000_000))
    if variant & 4 != 0 {
        configuration.limits = .init(maxLine: 1024, maxLiteral: 2048, maxCommand: 4096)
        configuration.preLoginMaxLiteral = 64
        configuration.maxInvalidCommands = 4
    }
    if variant & 8 != 0 { configuration.authFailureDelaySeconds = 0 }
    if variant & 16 != 0 { configuration.limits.nonSynchronizingLiterals = false }
    let limits = configuration.limits
    let server = IMAPServer(backend: store, configuration: configuration)
    // A FETCH item of a few octets may send every message of the store (what it held, what the
    // input appended or copied): more than that is output without bound.
    var driver = Driver(engine: server, random: random, outputBound: { lines, input in
        8192 + (lines + 1) * 2048 + (input / 4 + 1) * storeOctets(store)
    })
    var delivered = 0
    var wasDelayed = false
    driver.check = { server, sent, driver in
        let authDelay: Bool
        if case .authDelay = server.mode { authDelay = true } else { authDelay = false }
        // Input that comes while a login waits is cut off beyond a line; the read that failed the
        // login may leave the rest of itself buffered.
        let bound = authDelay && wasDelayed ? limits.maxLine : limits.maxCommand + limits.maxLine + 2
        wasDelayed = authDelay
        if server.framer.bufferedCount > bound { violated("IMAP buffers \(server.framer.bufferedCount) input octets (bound \(bound))") }
        if !server.output.isEmpty || !server.actions.isEmpty { violated("IMAP kept output after flush") }
        // Response lines: untagged, continuation, or tagged with a tag the client sent.
        var index = sent.startIndex
        var lineStart = index
        while index < sent.endIndex {
            guard sent[index] == 10 else { index += 1; continue }
            let line = sent[lineStart..<index]
            // A literal: skip its octets, the logical line goes on after them.
            if line.count >= 4, line[line.endIndex - 2] == UInt8(ascii: "}"),
               let open = line.lastIndex(of: UInt8(ascii: "{")),
               let size = Int(String(decoding: line[(open + 1)..<(line.endIndex - 2)], as: UTF8.self)) {
                index += 1 + size
                continue
            }
            let first = line.first ?? 0
            if first != UInt8(ascii: "*") && first != UInt8(ascii: "+") {
                let tag = Array(line.prefix { $0 != UInt8(ascii: " ") })
                if tag.isEmpty || tag.count == line.count || !containsSequence(driver.input, tag) {
                    violated("IMAP response line with a tag the client never sent: \(String(decoding: line, as: UTF8.self).debugDescription) in \(String(decoding: sent.prefix(3000), as: UTF8.self).debugDescription)")
                }
            }
            index += 1
            lineStart = index
        }
    }
    driver.run(stream) { driver in
        // Another session delivers now and then; an idling session hears of it at once.
        guard delivered < 6, driver.random.next() % 8 == 0 else { return }
        delivered += 1
        _ = try? store.deliver(to: "bob", bytes: Array("Subject: new \(delivered)\r\n\r\nnews\r\n".utf8),
                               internalDate: IMAPDate(secondsSince1970: 1_795_000_100))
        var actions: [IMAPServerAction] = []
        let now = driver.now
        driver.engine.mailboxChanged(now: now, into: &actions)
        driver.perform(actions, lines: 1, what: "mailboxChanged")
    }
    if case .commands = driver.engine.mode, let state = Mirror(reflecting: driver.engine.framer).descendant("state"),
       "\(state)" == "line" {
        driver.probe("\r\nP1 NOOP\r\n", held: { if case .authDelay = $0.mode { return true } else { return false } })
    }
    driver.end()
    checkLoginOrder(driver.facts, users: ["bob", "alice"], protocolName: "IMAP")
}

func containsSequence(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
    var i = 0
    while i + needle.count <= haystack.count {
        if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngines(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let random = FuzzRandom(seed: bytes[1], size: size)
    let stream = Array(bytes[2...])
    let variant = bytes[0] >> 2
    switch bytes[0] & 3 {
    case 0: fuzzSMTPServer(variant, implicitTLS: false, random, stream)
    case 1: fuzzPOP3Server(variant, random, stream)
    case 2: fuzzIMAPServer(variant, random, stream)
    default: fuzzSMTPServer(variant, implicitTLS: true, random, stream)
    }
    return 0
}
