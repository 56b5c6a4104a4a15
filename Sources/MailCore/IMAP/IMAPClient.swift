/// The client side of an IMAP session, sans-IO: commands in, bytes out; bytes in, parsed
/// responses out. It numbers tags (`a001`, `a002`…), waits for `+` before the octets of a
/// synchronising literal (or uses LITERAL+ when offered), follows the connection state and
/// handles STARTTLS, AUTHENTICATE PLAIN without SASL-IR, and IDLE/DONE.
///
/// ```
/// var client = IMAPClient()
/// client.receive(greeting)                     // → [.event(.untaggedStatus(.ok, …))]
/// let (tag, out) = client.send(.login(user: "bob", password: "secret123"))
/// ```
public struct IMAPClient: FactReporting {
    public enum State: Hashable, Sendable {
        case awaitingGreeting, notAuthenticated, authenticated
        case selected(String)
        case logout
    }

    /// The engines' shared ``EngineAction``; each parsed response comes as `.event(response)`,
    /// in order with the transport actions.
    public typealias Output = EngineAction<IMAPResponse>

    public private(set) var state = State.awaitingGreeting
    /// Capabilities from the greeting, CAPABILITY, or a `[CAPABILITY …]` code.
    public private(set) var capabilities: Set<String> = []
    /// Commands sent and not yet completed, by tag.
    public private(set) var pending: [String: IMAPCommand] = [:]
    public private(set) var isIdling = false
    private var framer: IMAPFramer
    private var counter = 0
    private let tagPrefix: String
    /// Chunks waiting for a `+` continuation (synchronising literals, AUTHENTICATE response).
    private var waiting: [[UInt8]] = []
    private var idleTag: String?
    /// What happened, as the client saw it, for the world's journal (`FactReporting`).
    public var facts: [ProtocolFact] = []
    /// The last `* n EXISTS` heard, for the `selected` fact.
    private var lastExists = 0

    public init(tagPrefix: String = "a", limits: IMAPFramer.Limits = .init(maxLine: 1024 * 1024, maxLiteral: 64 * 1024 * 1024,
                                                                           maxCommand: 65 * 1024 * 1024)) {
        self.tagPrefix = tagPrefix
        var f = IMAPFramer(limits: limits)
        f.isClientSide = true
        framer = f
    }

    /// Sends a command; returns its tag and what to write now.
    public mutating func send(_ command: IMAPCommand) -> (tag: String, output: [Output]) {
        counter += 1
        let tag = tagPrefix + (counter < 10 ? "00" : counter < 100 ? "0" : "") + String(counter)
        pending[tag] = command
        var chunks = IMAPCommandEncoder.encode(tag: tag, command, literalPlus: capabilities.contains("LITERAL+"))
        if case .idle = command { idleTag = tag }
        let first = chunks.removeFirst()
        waiting += chunks
        return (tag, [.send(first)])
    }

    /// Ends IDLE (RFC 2177): writes `DONE`.
    public mutating func done() -> [Output] {
        guard isIdling else { return [] }
        isIdling = false
        return [.send(Array("DONE\r\n".utf8))]
    }

    /// `AUTHENTICATE PLAIN` with SASL-IR when offered, else the response follows the `+`.
    public mutating func authenticatePlain(user: String, password: String) -> (tag: String, output: [Output]) {
        let token = Base64.encode([0] + Array(user.utf8) + [0] + Array(password.utf8))
        if capabilities.contains("SASL-IR") {
            return send(.authenticate(mechanism: "PLAIN", initialResponse: token))
        }
        let r = send(.authenticate(mechanism: "PLAIN", initialResponse: nil))
        waiting.append(token + [0x0D, 0x0A])
        return r
    }

    /// The TLS handshake finished: anything buffered in plaintext is discarded; capabilities are
    /// forgotten (RFC 3501 §6.2.1), so ask again.
    public mutating func tlsEstablished() -> [Output] {
        facts.append(.session(.tlsEstablished))
        framer.discardBuffered()
        capabilities = []
        return []
    }

    /// The connection ended (either side): no reply will come for what is pending.
    public mutating func connectionEnded() {
        state = .logout
        pending.removeAll()
        waiting.removeAll()
        idleTag = nil
        isIdling = false
    }

    /// Bytes from the server.
    public mutating func receive<C: Collection>(_ bytes: C) -> [Output] where C.Element == UInt8 {
        framer.append(bytes)
        var out = [Output]()
        while let frame = framer.next() {
            switch frame {
            case .complete(let line):
                out += handle(IMAPResponseParser.parse(line))
            case .lineTooLong, .literalRefused:
                out.append(.close)
                state = .logout
                return out
            case .literalAccepted:
                break
            }
        }
        return out
    }

    private mutating func handle(_ response: IMAPResponse) -> [Output] {
        var out: [Output] = [.event(response)]
        switch response {
        case .untaggedStatus(let status, let code, _):
            if let code { learn(code) }
            if state == .awaitingGreeting {
                state = status == .preauth ? .authenticated : (status == .bye ? .logout : .notAuthenticated)
                facts.append(.session(.greeting))
            }
            if status == .bye { state = .logout }
        case .capability(let caps):
            capabilities = Set(caps.map { $0.uppercased() })
        case .continuation:
            if let tag = idleTag, pending[tag] != nil, !isIdling, waiting.isEmpty {
                isIdling = true
                facts.append(.imap(.idleStarted))
            } else if !waiting.isEmpty {
                out.append(.send(waiting.removeFirst()))
            }
        case .tagged(let tag, let status, let code, _):
            if let code { learn(code) }
            guard let command = pending.removeValue(forKey: tag) else { break }
            waiting.removeAll()
            if tag == idleTag {
                idleTag = nil
                isIdling = false
                facts.append(.imap(.idleEnded))
            }
            guard status == .ok else {
                facts.append(.session(.refused(command: command.name, status: status.rawValue, code: code)))
                if case .select = command { state = .authenticated }
                if case .examine = command { state = .authenticated }
                break
            }
            switch command {
            case let .login(user, _):
                state = .authenticated
                facts.append(.session(.authSucceeded(mechanism: "LOGIN-COMMAND", user: user)))
            case let .authenticate(mechanism, _):
                state = .authenticated
                facts.append(.session(.authSucceeded(mechanism: mechanism.uppercased(), user: "")))
            case let .select(m):
                state = .selected(m)
                facts.append(.imap(.selected(mailbox: m, readOnly: false, exists: lastExists)))
            case let .examine(m):
                state = .selected(m)
                facts.append(.imap(.selected(mailbox: m, readOnly: true, exists: lastExists)))
            case .close, .unselect: state = .authenticated
            case .logout: state = .logout; out.append(.close)
            case .startTLS:
                framer.discardBuffered()
                out.append(.startTLS)
            default: break
            }
        case .exists(let n):
            lastExists = n
        case .flags, .recent, .expunge, .search, .status, .fetch, .list, .other:
            break
        }
        return out
    }

    private mutating func learn(_ code: String) {
        if code.uppercased().hasPrefix("CAPABILITY ") {
            capabilities = Set(code.split(separator: " ").dropFirst().map { $0.uppercased() })
        }
    }
}

extension IMAPResponse {
    /// `COPYUID`/`APPENDUID` data from a response code (RFC 4315 §3).
    public static func uidPlus(_ code: String?) -> (uidValidity: UInt32, source: IMAPSequenceSet?, destination: IMAPSequenceSet)? {
        guard let parts = code?.split(separator: " "), let kind = parts.first?.uppercased() else { return nil }
        if kind == "COPYUID", parts.count == 4, let v = UInt32(parts[1]),
           let s = IMAPSequenceSet(parsing: parts[2]), let d = IMAPSequenceSet(parsing: parts[3]) {
            return (v, s, d)
        }
        if kind == "APPENDUID", parts.count == 3, let v = UInt32(parts[1]), let d = IMAPSequenceSet(parsing: parts[2]) {
            return (v, nil, d)
        }
        return nil
    }
}
