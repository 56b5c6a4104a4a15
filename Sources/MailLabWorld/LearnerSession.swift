import MailTutor
import Foundation
import MailCore
import MailSim

/// A learner's connection to a simulated server, from the learner's machine.
///
/// Each typed line goes on the wire with CRLF; the session then steps the world until the
/// server's reply has arrived, or the server closes, or nothing more happens. When a reply is
/// complete, and what the server waits for next, is not read from the reply text: the server's
/// engine reports the end of every reply (`ServerReply`, in the world's reply journal, with the
/// octet count that ends it), and the session waits until that many octets have arrived.
///
/// As a client it acts on what the server awaits: TLS after STARTTLS/STLS was accepted (it then
/// really starts TLS as the client and waits for the handshake, so the rest of the session is
/// encrypted on the wire), the message after DATA's go-ahead, nothing once the server is closing.
/// What the session achieved (authenticated as whom, a message accepted) comes from the facts the
/// server's engine reported to the journal.
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
    /// Why the connection ended, in both languages (it goes into the tutor's messages).
    private var closeReason: (fr: String, en: String)?

    /// Journal position up to which this session's facts were read.
    private var factCursor = 0
    /// Reply-journal position up to which this connection's replies were read, the replies
    /// against the octets that arrived, and the replies complete since the last command.
    private var replyCursor = 0
    private var replies = ReplyTracker()
    private var arrived: [ServerReply] = []
    /// What the server waits for, as its last complete reply said.
    private var awaiting: ServerAwaits = .command

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
        replyCursor = owner.world.replies.nextSequence
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
                throw TutorError(fr: "Échec de la négociation TLS avec \(host):\(port) (\(closeReason?.fr ?? "pas de réponse")).",
                                 en: "TLS negotiation with \(host):\(port) failed (\(closeReason?.en ?? "no answer")).")
            }
        }
        owner.run(until: { replyArrived() || closeReason != nil }, patience: Self.patience)
        _ = takeArrived()
        greeting = received
        received = []
        if closeReason != nil { isClosed = true }
    }

    // MARK: events from the virtual socket

    private func handle(_ event: ConnectionEvent) {
        switch event {
        case .connected:
            connected = true
        case let .connectFailed(error):
            connectError = error
        case let .data(bytes):
            replies.advance(by: bytes.count)
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
            closeReason = ("fermée par le serveur", "closed by the server")
            connection?.close()
        case .closed:
            closeReason = closeReason ?? ("fermée", "closed")
        case let .reset(reason):
            closeReason = (reason.message(.fr), reason.message(.en))
        }
    }

    // MARK: the server's replies

    /// Reads the replies the server's engine reported for this connection since the last call,
    /// and keeps those whose octets have all arrived; true when there is one.
    private func replyArrived() -> Bool {
        guard let connection else { return false }
        let journal = owner.world.replies
        for record in journal.records(since: replyCursor) where record.session == connection.id {
            replies.expect(record.reply)
        }
        replyCursor = journal.nextSequence
        arrived += replies.completed()
        // News the server pushes on its own (IDLE) answers nothing.
        return arrived.contains { $0.status != .update }
    }

    /// The last reply complete since the previous call (what the server awaits follows it).
    private func takeArrived() -> ServerReply? {
        _ = replyArrived()
        let last = arrived.last
        arrived = []
        if let last { awaiting = last.awaiting }
        return last
    }

    // MARK: TutorSession

    var connectionID: Int { connection?.id ?? 0 }

    func takeUnsolicited() -> [String] {
        guard connection != nil else { return [] }
        try? owner.settle()
        _ = takeArrived()
        let lines = received
        received = []
        if closeReason != nil { isClosed = true }
        return lines
    }

    func send(line: String) -> SessionExchange {
        guard !isClosed, let connection else { return SessionExchange(lines: [], events: [.closed]) }
        // Lines that arrived since the last command (an IMAP push during IDLE, a 421 after an
        // idle timeout while time was advanced) come first.
        _ = takeArrived()
        let early = received
        received = []
        connection.write(Array(line.utf8) + [0x0D, 0x0A])
        var exchange: SessionExchange
        if awaiting == .messageData && line != "." {
            // A line of the message: the server answers only the final dot.
            try? owner.settle()
            exchange = finish(lines: [], events: [], reply: nil)
        } else {
            exchange = self.exchange()
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

    private func exchange() -> SessionExchange {
        owner.run(until: { replyArrived() || closeReason != nil }, patience: Self.patience)
        var reply = takeArrived()
        var lines = received
        received = []
        var events: [SessionEvent] = []
        switch reply?.awaiting {
        case .tlsHandshake?:
            // STARTTLS/STLS accepted: the handshake, as the client.
            if !tlsUp, let connection {
                connection.startTLS(asClient: target.name)
                owner.run(until: { tlsUp || closeReason != nil }, patience: Self.patience)
                if tlsUp {
                    events.append(.tlsEstablished("\(target.name), certificate verified against the MailLab CA"))
                    // The client is up first (TLS 1.3: its Finished is still on the way); the
                    // server reports TLS when that arrives. Wait for it, so that a goal on the
                    // server's fact ticks with STARTTLS's own line, not with the next one.
                    owner.run(until: { serverReportedTLS(on: connection.id) || closeReason != nil }, patience: Self.patience)
                }
            }
        case .nothing?:
            // The server is closing (QUIT, LOGOUT, too many errors): wait for it to.
            owner.run(until: { closeReason != nil }, patience: Self.patience)
        case .command?, .saslResponse?, .messageData?, .literal?, .idleDone?, nil:
            break
        }
        // A reply that came after (LOGOUT's tagged OK behind its `* BYE`) is the last word.
        if let later = takeArrived() { reply = later }
        lines += received
        received = []
        return finish(lines: lines, events: events, reply: reply)
    }

    private func finish(lines: [String], events: [SessionEvent], reply: ServerReply?) -> SessionExchange {
        var events = events + journalEvents()
        if closeReason != nil && !isClosed {
            isClosed = true
            events.append(.closed)
        }
        return SessionExchange(lines: lines, events: events, reply: reply)
    }

    // MARK: facts

    /// Whether the server's engine has reported TLS on this connection since the last command.
    private func serverReportedTLS(on session: Int) -> Bool {
        owner.world.journal.records(since: factCursor).contains { record in
            guard record.context.session == session, record.context.role == .server,
                  case .session(.tlsEstablished) = record.fact else { return false }
            return true
        }
    }

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
