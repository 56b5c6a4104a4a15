/// The client side of a POP3 session for one job (RFC 1939), sans-IO: octets and the current time
/// in, actions out.
///
/// It reads the greeting, asks CAPA, upgrades with STLS when the job asks for it, logs in (USER
/// and PASS, APOP or AUTH PLAIN), lists the maildrop (STAT, UIDL, LIST), asks the job's planner
/// what to do, downloads (RETR) and marks (DELE) accordingly, and ends with QUIT:
/// ```
/// S: +OK POP3 server ready
/// C: CAPA
/// …
/// C: USER bob
/// S: +OK User accepted
/// C: PASS secret123
/// S: +OK Logged in
/// C: STAT
/// C: UIDL
/// C: LIST
/// C: RETR 1
/// C: DELE 1
/// C: QUIT
/// S: +OK POP3 server signing off (1 message deleted)
/// ```
/// One command is outstanding at a time. Multi-line replies are dot-unstuffed (RFC 1939 §3). A
/// message whose RETR failed is not deleted even if the plan says so.
public struct POP3Client: FactReporting {
    enum Step: Equatable {
        case greeting
        case capa
        case stls
        case user
        case pass
        case apop
        case authPlain
        case stat
        case uidl
        case list
        case retr(Int)
        case dele(Int)
        case quit
    }

    enum State {
        case notStarted
        case awaitingImplicitTLS
        /// `+OK` to STLS received; waiting for the handshake.
        case awaitingTLS
        /// Waiting for the reply to `step`. Once a multi-line reply has begun, its status and lines
        /// are kept in `multiLine`.
        case waiting(step: Step, command: POP3Command?)
        case finished
    }

    public let job: POP3ClientJob
    private var state: State = .notStarted
    private var framer = POP3LineFramer(limit: POP3Client.lineLimit)
    private var lastActivity: Duration = .zero
    private var apopTimestamp: String?
    private var messageCount = 0
    private var totalSize = 0
    private var uniqueIDs: [Int: String]?
    /// What happened, as the client saw it, for the world's journal (`FactReporting`).
    public var facts: [ProtocolFact] = []
    private var pendingRetrievals: [Int] = []
    private var pendingDeletions: [Int] = []
    /// Messages whose RETR failed: they are not deleted, so that nothing is lost.
    private var failedRetrievals: Set<Int> = []
    /// The multi-line reply being read: its status line, its unstuffed lines and their size.
    private var multiLine: (status: POP3Response, lines: [[UInt8]], size: Int)?

    /// What the session achieved so far; final once `.finished` was emitted.
    public private(set) var result = POP3ClientResult()

    /// The longest line accepted from the server, CRLF included. RFC 2449 §4 limits status lines to
    /// 512 octets; message lines are allowed to be longer than RFC 5322's 998 by lenience.
    static let lineLimit = 64 * 1024

    public init(job: POP3ClientJob) {
        self.job = job
    }

    /// Whether the session is over.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// When `timerFired(now:)` should be called: the reply timeout.
    public var nextDeadline: Duration? {
        switch state {
        case .notStarted, .finished: return nil
        case .awaitingImplicitTLS, .awaitingTLS, .waiting: return lastActivity + job.responseTimeout
        }
    }

    // MARK: - Events

    /// The connection is open.
    public mutating func start(now: Duration) -> [POP3ClientAction] {
        guard case .notStarted = state else {
            assertionFailure("POP3Client.start called twice")
            return []
        }
        lastActivity = now
        if job.tls == .implicit {
            state = .awaitingImplicitTLS
            return [.startTLS]
        }
        state = .waiting(step: .greeting, command: nil)
        return []
    }

    /// The TLS handshake finished.
    public mutating func tlsEstablished(now: Duration) -> [POP3ClientAction] {
        lastActivity = now
        switch state {
        case .awaitingImplicitTLS:
            result.tlsActive = true
            facts.append(.session(.tlsEstablished))
            state = .waiting(step: .greeting, command: nil)
            return []
        case .awaitingTLS:
            result.tlsActive = true
            facts.append(.session(.tlsEstablished))
            framer.reset()
            // RFC 2595 §4: capabilities learnt before TLS are forgotten.
            result.capabilities = []
            var actions: [POP3ClientAction] = []
            if job.requestCapabilities {
                send(.capa, step: .capa, into: &actions)
            } else {
                login(into: &actions)
            }
            return actions
        case .notStarted, .waiting, .finished:
            assertionFailure("POP3Client.tlsEstablished without a pending handshake")
            return []
        }
    }

    /// Octets from the server.
    public mutating func receive(_ octets: some Collection<UInt8>, now: Duration) -> [POP3ClientAction] {
        guard case .waiting = state else { return [] }
        lastActivity = now
        var actions: [POP3ClientAction] = []
        for line in framer.append(octets) {
            guard case .waiting = state else { break }
            switch line {
            case .tooLong:
                fail(.protocolViolation, command: nil, reply: nil, into: &actions)
            case .line(let bytes):
                handle(line: bytes, into: &actions)
            }
        }
        if case .waiting = state {} else { framer.reset() }
        return actions
    }

    /// Time passed: gives up when a reply is overdue.
    public mutating func timerFired(now: Duration) -> [POP3ClientAction] {
        guard let deadline = nextDeadline, now >= deadline else { return [] }
        var actions: [POP3ClientAction] = []
        fail(.timeout, command: currentCommand?.redactedLine, reply: nil, into: &actions)
        return actions
    }

    /// The connection ended. If the session was not over, the result records why.
    public mutating func connectionClosed() -> [POP3ClientAction] {
        if case .finished = state { return [] }
        result.errors.append(POP3ClientError(kind: .connectionClosed, command: currentCommand?.redactedLine, reply: nil))
        state = .finished
        return [.event(.finished(result))]
    }

    // MARK: - Replies

    private var currentCommand: POP3Command? {
        if case .waiting(_, let command) = state { return command }
        return nil
    }

    private static func isMultiLine(_ step: Step) -> Bool {
        switch step {
        case .capa, .uidl, .list, .retr: return true
        case .greeting, .stls, .user, .pass, .apop, .authPlain, .stat, .dele, .quit: return false
        }
    }

    private mutating func handle(line: [UInt8], into actions: inout [POP3ClientAction]) {
        guard case .waiting(let step, let command) = state else { return }
        if let status = multiLine?.status {
            if line == [0x2E] {
                let lines = multiLine?.lines ?? []
                multiLine = nil
                completed(step: step, command: command, reply: status, lines: lines, into: &actions)
                return
            }
            // RFC 1939 §3: a line starting with "." had one "." added by the server.
            let data = line.first == 0x2E ? Array(line.dropFirst()) : line
            multiLine?.size += data.count + 2
            if (multiLine?.size ?? 0) > job.maximumMessageSize {
                multiLine = nil
                fail(.messageTooLarge, command: command?.redactedLine, reply: status, into: &actions)
                return
            }
            multiLine?.lines.append(data)
            return
        }
        guard let reply = POP3Response.parse(line: line) else {
            fail(.protocolViolation, command: command?.redactedLine, reply: nil, into: &actions)
            return
        }
        if reply.status == .continuation {
            // A server that asks for the PLAIN response although it was sent up front gets "*".
            if step == .authPlain {
                actions.append(.send(Array("*\r\n".utf8)))
            } else {
                fail(.protocolViolation, command: command?.redactedLine, reply: reply, into: &actions)
            }
            return
        }
        if reply.isOK && Self.isMultiLine(step) {
            multiLine = (reply, [], 0)
            return
        }
        completed(step: step, command: command, reply: reply, lines: [], into: &actions)
    }

    private mutating func completed(
        step: Step, command: POP3Command?, reply: POP3Response, lines: [[UInt8]], into actions: inout [POP3ClientAction]
    ) {
        let commandLine = command?.redactedLine
        switch step {
        case .greeting:
            guard reply.isOK else { return fail(.greetingRefused, command: nil, reply: reply, into: &actions) }
            facts.append(.session(.greeting))
            apopTimestamp = Self.timestamp(in: reply.text)
            if job.requestCapabilities {
                send(.capa, step: .capa, into: &actions)
            } else {
                afterCapabilities(capaAnswered: false, into: &actions)
            }
        case .capa:
            result.capabilities = reply.isOK ? lines.map { String(decoding: $0, as: UTF8.self) } : []
            afterCapabilities(capaAnswered: reply.isOK, into: &actions)
        case .stls:
            if reply.isOK {
                state = .awaitingTLS
                framer.reset()
                actions.append(.startTLS)
            } else if job.tls == .starttls(required: true) {
                result.errors.append(POP3ClientError(kind: .tlsRefused, command: commandLine, reply: reply))
                quit(into: &actions)
            } else {
                login(into: &actions)
            }
        case .user:
            guard reply.isOK else { return loginFailed(commandLine, reply, into: &actions) }
            send(.pass(job.password), step: .pass, into: &actions)
        case .pass, .apop, .authPlain:
            guard reply.isOK else { return loginFailed(commandLine, reply, into: &actions) }
            result.authenticated = true
            let mechanism = step == .apop ? "APOP" : step == .authPlain ? "PLAIN" : "USER"
            facts.append(.session(.authSucceeded(mechanism: mechanism, user: job.user)))
            send(.stat, step: .stat, into: &actions)
        case .stat:
            guard reply.isOK else {
                result.errors.append(POP3ClientError(kind: .commandFailed, command: commandLine, reply: reply))
                return quit(into: &actions)
            }
            let fields = reply.text.split(separator: " ")
            guard fields.count >= 2, let count = Int(fields[0]), let size = Int(fields[1]), count >= 0, size >= 0 else {
                return fail(.protocolViolation, command: commandLine, reply: reply, into: &actions)
            }
            messageCount = count
            totalSize = size
            send(.uidl(nil), step: .uidl, into: &actions)
        case .uidl:
            if reply.isOK {
                var ids: [Int: String] = [:]
                for line in lines {
                    guard let entry = POP3UniqueIDListing.parse(String(decoding: line, as: UTF8.self)) else {
                        return fail(.protocolViolation, command: commandLine, reply: reply, into: &actions)
                    }
                    ids[entry.message] = entry.uniqueID
                }
                uniqueIDs = ids
            } else {
                uniqueIDs = nil
            }
            send(.list(nil), step: .list, into: &actions)
        case .list:
            guard reply.isOK else {
                result.errors.append(POP3ClientError(kind: .commandFailed, command: commandLine, reply: reply))
                return quit(into: &actions)
            }
            var entries: [POP3ListingEntry] = []
            for line in lines {
                guard let scan = POP3ScanListing.parse(String(decoding: line, as: UTF8.self)) else {
                    return fail(.protocolViolation, command: commandLine, reply: reply, into: &actions)
                }
                entries.append(POP3ListingEntry(message: scan.message, size: scan.size, uniqueID: uniqueIDs?[scan.message]))
            }
            let listing = POP3MaildropListing(
                messageCount: messageCount, totalSize: totalSize, entries: entries, uniqueIDsAvailable: uniqueIDs != nil)
            result.listing = listing
            let plan = job.planner(listing)
            result.plan = plan
            // Only numbers that were listed, each once, in the planner's order.
            let known = Set(entries.map(\.message))
            var seen = Set<Int>()
            pendingRetrievals = plan.retrieve.filter { known.contains($0) && seen.insert($0).inserted }
            seen = []
            pendingDeletions = plan.delete.filter { known.contains($0) && seen.insert($0).inserted }
            nextTransfer(into: &actions)
        case .retr(let n):
            if reply.isOK {
                var content: [UInt8] = []
                for line in lines { content += line + [0x0D, 0x0A] }
                result.downloaded.append(POP3DownloadedMessage(message: n, uniqueID: uniqueIDs?[n], content: content))
                facts.append(.pop3(.retrieved(message: n, uidl: uniqueIDs?[n] ?? "", size: content.count)))
            } else {
                failedRetrievals.insert(n)
                result.errors.append(POP3ClientError(kind: .commandFailed, command: commandLine, reply: reply))
            }
            nextTransfer(into: &actions)
        case .dele(let n):
            if reply.isOK {
                result.markedForDeletion.append(n)
                facts.append(.pop3(.markedDeleted(message: n, uidl: uniqueIDs?[n] ?? "")))
            } else {
                result.errors.append(POP3ClientError(kind: .commandFailed, command: commandLine, reply: reply))
            }
            nextTransfer(into: &actions)
        case .quit:
            if reply.isOK {
                result.completed = true
                if result.authenticated {
                    result.deletedCount = result.markedForDeletion.count
                    result.deletedUniqueIDs = result.markedForDeletion.compactMap { uniqueIDs?[$0] }
                    facts.append(.pop3(.committed(deleted: result.deletedUniqueIDs)))
                }
            } else {
                result.errors.append(POP3ClientError(kind: .commandFailed, command: commandLine, reply: reply))
            }
            finish(into: &actions)
        }
    }

    // MARK: - Steps

    private mutating func afterCapabilities(capaAnswered: Bool, into actions: inout [POP3ClientAction]) {
        if case .starttls(let required) = job.tls, !result.tlsActive {
            let offered = result.capabilities.contains { $0.uppercased() == "STLS" }
            // Without a CAPA answer STLS is tried anyway when it is required.
            if offered || (required && !capaAnswered) {
                return send(.stls, step: .stls, into: &actions)
            }
            if required {
                result.errors.append(POP3ClientError(kind: .tlsUnavailable, command: "CAPA", reply: nil))
                return quit(into: &actions)
            }
        }
        login(into: &actions)
    }

    private mutating func login(into actions: inout [POP3ClientAction]) {
        switch job.authentication {
        case .userPass:
            send(.user(job.user), step: .user, into: &actions)
        case .apop:
            guard let timestamp = apopTimestamp else {
                result.errors.append(POP3ClientError(kind: .apopUnavailable, command: nil, reply: nil))
                return quit(into: &actions)
            }
            let digest = POP3Text.md5Hex(timestamp + job.password)
            send(.apop(name: job.user, digest: digest), step: .apop, into: &actions)
        case .saslPlain:
            let response = String(decoding: Base64.encode(Array(("\u{0}" + job.user + "\u{0}" + job.password).utf8)), as: UTF8.self)
            send(.auth(mechanism: "PLAIN", initialResponse: response), step: .authPlain, into: &actions)
        }
    }

    private mutating func loginFailed(_ command: String?, _ reply: POP3Response, into actions: inout [POP3ClientAction]) {
        result.errors.append(POP3ClientError(kind: .authenticationFailed, command: command, reply: reply))
        quit(into: &actions)
    }

    private mutating func nextTransfer(into actions: inout [POP3ClientAction]) {
        if !pendingRetrievals.isEmpty {
            let n = pendingRetrievals.removeFirst()
            send(.retr(n), step: .retr(n), into: &actions)
        } else if let n = pendingDeletions.first {
            pendingDeletions.removeFirst()
            if failedRetrievals.contains(n) { return nextTransfer(into: &actions) }
            send(.dele(n), step: .dele(n), into: &actions)
        } else {
            quit(into: &actions)
        }
    }

    private mutating func quit(into actions: inout [POP3ClientAction]) {
        send(.quit, step: .quit, into: &actions)
    }

    private mutating func send(_ command: POP3Command, step: Step, into actions: inout [POP3ClientAction]) {
        state = .waiting(step: step, command: command)
        if case .send(let previous)? = actions.last {
            actions[actions.count - 1] = .send(previous + command.encoded)
        } else {
            actions.append(.send(command.encoded))
        }
    }

    private mutating func fail(
        _ kind: POP3ClientError.Kind, command: String?, reply: POP3Response?, into actions: inout [POP3ClientAction]
    ) {
        result.errors.append(POP3ClientError(kind: kind, command: command, reply: reply))
        finish(into: &actions)
    }

    private mutating func finish(into actions: inout [POP3ClientAction]) {
        state = .finished
        actions.append(.close)
        actions.append(.event(.finished(result)))
    }

    /// The APOP timestamp in a greeting text: `<...@...>` (RFC 1939 §7).
    static func timestamp(in text: String) -> String? {
        guard let open = text.firstIndex(of: "<"),
              let close = text[open...].firstIndex(of: ">") else { return nil }
        let candidate = text[open...close]
        guard candidate.contains("@"), !candidate.contains(" ") else { return nil }
        return String(candidate)
    }
}
