import Foundation
import MailSim

/// A learner's connection to a simulated server, from the learner's machine.
///
/// Each typed line goes on the wire with CRLF; the session then steps the world until the reply
/// is complete for the protocol: SMTP a final `NNN ` line (RFC 5321 §4.2.1), POP3 the status line
/// and, after `+OK` to LIST/UIDL without argument, RETR, TOP or CAPA, the lines up to `.`
/// (RFC 1939 §3), IMAP the tagged response of the typed tag or a `+` continuation (RFC 3501 §7.5),
/// or until the server closes or nothing more happens.
///
/// As a client it reads what it must to go on: STARTTLS/STLS accepted (then it really starts TLS
/// as the client and waits for the handshake, so the rest of the session is encrypted on the
/// wire), a continuation to answer, DATA's go-ahead. What the session achieved (authenticated as
/// whom, a message accepted) comes from the facts the server's engine reported to the journal.
final class LearnerSession: TutorSession {
    let protocolKind: MailProtocol
    let host: String
    let port: Int
    private(set) var greeting: [String] = []
    private(set) var isClosed = false

    private let owner: SimulatedWorld
    private let target: MailSim.Host
    private var connection: Connection?
    private var buffer: [UInt8] = []
    private var received: [String] = []
    private var connected = false
    private var connectError: ConnectError?
    private var tlsUp = false
    private var closeReason: String?

    // What a client must know of its own session: DATA under way, the tag awaited, a continuation.
    private var inData = false
    private var imapTag: String?
    /// Journal position up to which this session's facts were read.
    private var factCursor = 0
    private var continuation = false

    /// Longest reply line kept; longer data is cut into pieces (a peer cannot exhaust memory).
    static let maximumLine = 64 * 1024
    /// How far one learner command may run virtual time while waiting for its reply (more than
    /// the stall timeout, so a vanished server shows as a reset).
    static let patience: VirtualDuration = .minutes(3)

    init(world: SimulatedWorld, target: MailSim.Host, port: Int, protocolKind: MailProtocol) {
        owner = world
        self.target = target
        host = target.name
        self.port = port
        self.protocolKind = protocolKind
    }

    // MARK: opening

    func open(implicitTLS: Bool) throws {
        factCursor = owner.world.journal.nextSequence
        let connection = owner.world.connect(from: owner.learnerHost, to: target.name, port: UInt16(port)) { [weak self] event in
            self?.handle(event)
        }
        self.connection = connection
        owner.run(until: { connected || connectError != nil || closeReason != nil })
        if let error = connectError {
            isClosed = true
            switch error {
            case .refused:
                throw TutorError(fr: "Connexion refusée : rien n'écoute sur \(host):\(port).",
                                 en: "Connection refused: nothing listens on \(host):\(port).")
            case .timedOut:
                throw TutorError(fr: "Délai dépassé : \(host) ne répond pas (machine arrêtée ou injoignable).",
                                 en: "Timed out: \(host) does not answer (host down or unreachable).")
            case .unknownHost, .localHostDown:
                throw TutorError(fr: "Connexion impossible : \(error)", en: "Cannot connect: \(error)")
            }
        }
        guard connected else {
            isClosed = true
            throw TutorError(fr: "Pas de réponse de \(host):\(port).", en: "No answer from \(host):\(port).")
        }
        if implicitTLS {
            connection.startTLS(asClient: target.name)
            owner.run(until: { tlsUp || closeReason != nil }, patience: Self.patience)
            guard tlsUp else {
                isClosed = true
                throw TutorError(fr: "Échec de la négociation TLS avec \(host):\(port) (\(closeReason ?? "pas de réponse")).",
                                 en: "TLS negotiation with \(host):\(port) failed (\(closeReason ?? "no answer")).")
            }
        }
        owner.run(until: { greetingComplete() || closeReason != nil }, patience: Self.patience)
        greeting = received
        received = []
        if closeReason != nil { isClosed = true }
    }

    private func greetingComplete() -> Bool {
        switch protocolKind {
        case .smtp, .dns: return received.contains(where: Self.isFinalSMTPLine)
        case .pop3, .imap: return !received.isEmpty
        }
    }

    // MARK: events from the virtual socket

    private func handle(_ event: ConnectionEvent) {
        switch event {
        case .connected:
            connected = true
        case let .connectFailed(error):
            connectError = error
        case let .data(bytes):
            for byte in bytes {
                buffer.append(byte)
                if byte == 0x0A || buffer.count >= Self.maximumLine {
                    var line = buffer[...]
                    if line.last == 0x0A { line = line.dropLast() }
                    if line.last == 0x0D { line = line.dropLast() }
                    received.append(String(decoding: line, as: UTF8.self))
                    buffer = []
                }
            }
        case .tlsEstablished:
            tlsUp = true
        case .endOfStream:
            closeReason = "closed by the server"
            connection?.close()
        case .closed:
            closeReason = closeReason ?? "closed"
        case let .reset(reason):
            closeReason = reason.description
        }
    }

    // MARK: TutorSession

    var connectionID: Int { connection?.id ?? 0 }

    func takeUnsolicited() -> [String] {
        guard connection != nil else { return [] }
        try? owner.settle()
        let lines = received
        received = []
        if closeReason != nil { isClosed = true }
        return lines
    }

    func send(line: String) -> SessionExchange {
        guard !isClosed, let connection else { return SessionExchange(lines: [], events: [.closed]) }
        // Lines that arrived since the last command (an IMAP push during IDLE, a 421 after an
        // idle timeout while time was advanced) come first.
        let early = received
        received = []
        connection.write(Array(line.utf8) + [0x0D, 0x0A])
        var exchange: SessionExchange
        if inData && protocolKind == .smtp {
            if line == "." {
                inData = false
                exchange = self.exchange(line: line, verb: ".")
            } else {
                try? owner.settle()
                exchange = finish(lines: [], events: [])
            }
        } else {
            exchange = self.exchange(line: line, verb: TypedCommand.verb(of: line, protocolKind: protocolKind))
        }
        exchange.lines = early + exchange.lines
        return exchange
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        connection?.close()
        try? owner.settle()
    }

    // MARK: one command and its reply

    private func exchange(line: String, verb: String) -> SessionExchange {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        // A line answering a continuation belongs to the command that asked for it.
        let answering = continuation
        continuation = false
        if protocolKind == .imap && !answering {
            imapTag = words.first
        }
        let multiline = protocolKind == .pop3 && !answering && Self.pop3MultiLine(words)
        owner.run(until: { replyComplete(multiline: multiline) || closeReason != nil }, patience: Self.patience)
        var lines = received
        received = []
        var events: [SessionEvent] = []
        let last = lines.last ?? ""

        // What a client reads of the reply to go on: a continuation to answer, DATA's go-ahead.
        switch protocolKind {
        case .smtp, .dns:
            if last.hasPrefix("334") { continuation = true }
            if verb == "DATA", !answering, last.hasPrefix("354") { inData = true }
        case .pop3:
            let status = lines.first ?? ""
            if status == "+" || status.hasPrefix("+ ") { continuation = true }
        case .imap:
            if last == "+" || last.hasPrefix("+ ") { continuation = true }
        }

        if let positive = startTLSAccepted(verb: answering ? "" : verb, lines: lines), positive, let connection {
            connection.startTLS(asClient: target.name)
            owner.run(until: { tlsUp || closeReason != nil }, patience: Self.patience)
            if tlsUp {
                events.insert(.tlsEstablished("\(target.name), certificate verified against the MailLab CA"), at: 0)
            }
        }
        if ["QUIT", "LOGOUT"].contains(verb), !answering {
            owner.run(until: { closeReason != nil }, patience: Self.patience)
        }
        lines += received
        received = []
        return finish(lines: lines, events: events)
    }

    private func finish(lines: [String], events: [SessionEvent]) -> SessionExchange {
        var events = events + journalEvents()
        if closeReason != nil && !isClosed {
            isClosed = true
            events.append(.closed)
        }
        return SessionExchange(lines: lines, events: events)
    }

    private func replyComplete(multiline: Bool) -> Bool {
        switch protocolKind {
        case .smtp, .dns:
            return received.contains(where: Self.isFinalSMTPLine)
        case .pop3:
            guard let first = received.first else { return false }
            if multiline && first.uppercased().hasPrefix("+OK") { return received.dropFirst().contains(".") }
            return true
        case .imap:
            let tag = (imapTag ?? "").uppercased()
            return received.contains { reply in
                reply == "+" || reply.hasPrefix("+ ") || (!tag.isEmpty && reply.uppercased().hasPrefix(tag + " "))
            }
        }
    }

    static func isFinalSMTPLine(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return bytes.count == 3 || bytes[3] == 0x20
    }

    /// RFC 1939 §5 and RFC 2449 §5: replies that go on until a line holding only `.` (also a bare
    /// `AUTH`, which servers answer with the list of mechanisms).
    static func pop3MultiLine(_ words: [String]) -> Bool {
        guard let verb = words.first?.uppercased() else { return false }
        switch verb {
        case "LIST", "UIDL", "AUTH": return words.count == 1
        case "RETR", "TOP", "CAPA": return true
        default: return false
        }
    }

    /// True when the reply accepts STARTTLS (SMTP 220, POP3 `+OK` to STLS, IMAP tagged OK), false
    /// when it refuses it, nil when the command was something else.
    private func startTLSAccepted(verb: String, lines: [String]) -> Bool? {
        guard !tlsUp else { return nil }
        switch protocolKind {
        case .smtp, .dns:
            guard verb == "STARTTLS", let last = lines.last else { return nil }
            return last.hasPrefix("220")
        case .pop3:
            guard verb == "STLS", let first = lines.first else { return nil }
            return first.uppercased().hasPrefix("+OK")
        case .imap:
            guard verb == "STARTTLS", let tag = imapTag else { return nil }
            return lines.contains { $0.uppercased().hasPrefix(tag.uppercased() + " OK") }
        }
    }

    // MARK: facts

    /// What the server's engine reported about this connection since the last command, from the
    /// world's journal (the tutor reads facts, it does not re-parse the replies).
    private func journalEvents() -> [SessionEvent] {
        guard let connection else { return [] }
        let records = owner.world.journal.records(since: factCursor)
        factCursor = owner.world.journal.nextSequence
        var events: [SessionEvent] = []
        for record in records where record.context.session == connection.id && record.context.role == .server {
            switch record.fact {
            case let .session(.authSucceeded(_, user)):
                events.append(.authenticated(user: user))
            case let .smtp(.messageAccepted(queueID, from, to, _, _)):
                events.append(.accepted(from: from, to: to, queueID: queueID))
            default:
                break
            }
        }
        return events
    }
}
