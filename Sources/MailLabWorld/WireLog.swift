import MailTutor
import MailCore
import MailSim

/// One thing seen on the wire, in the form the tutor shows: a connection opening, a line of
/// application data (the endpoints' plaintext, marked when it crossed the wire encrypted), TLS
/// starting, or the connection ending.
public struct WireEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case opened
        /// A line without its CRLF; `fromClient` tells the direction.
        case line(String, fromClient: Bool, encrypted: Bool)
        case tlsStarted
        case refused
        case timedOut
        case fin(fromClient: Bool)
        case rst(fromClient: Bool)
        /// The stacks gave up (no path for too long, too many retransmissions).
        case aborted(AbortCause)
        case tlsFailed(onClient: Bool, String)
        /// The tap stopped keeping this connection's bytes (its per-connection limit).
        case truncated
    }

    /// Connection number in the tap (1, 2, …).
    public var connection: Int
    /// Virtual microseconds since the start.
    public var time: Int64
    public var client: String
    public var server: String
    public var port: Int
    public var kind: Kind
    /// For a server line that ends a reply: the reply's end as the server's engine reported it
    /// (status, code, what the server waits for next). Lines inside a reply have none.
    public var reply: ServerReply? = nil
    /// For a server line: the server's octets on this connection up to the end of the line.
    var serverEnd = 0
}

/// Turns the tap's records into `WireEvent`s incrementally: each call looks only at what the tap
/// recorded since the previous one, so the log only grows (the REPL's `sniff` relies on it).
/// Within one call, new events are ordered by time, then connection, then tap order.
final class WireLog {
    private var seen: [Int: Int] = [:]
    private var partial: [Int: [Bool: [UInt8]]] = [:]
    private(set) var events: [WireEvent] = []
    /// Server octets seen per connection (where the next server line starts).
    private var serverOctets: [Int: Int] = [:]
    /// Replies read from the world's reply journal, by connection and end, not yet matched to a
    /// line; the journal position read up to; the events already matched.
    private var replyEnds: [Int: [Int: ServerReply]] = [:]
    private var pendingReplies = 0
    private var replyCursor = 0
    private var annotated = 0
    /// Longest partial line kept (a peer sending no LF cannot grow it without bound).
    static let maximumLine = 64 * 1024

    func update(from tap: WireTap) -> [WireEvent] {
        var fresh: [(WireEvent, Int)] = []
        for connection in tap.connections {
            let start = seen[connection.id] ?? 0
            let all = connection.events
            guard start < all.count else { continue }
            let client = connection.clientHostName
            let server = connection.serverHostName ?? connection.server.address.description
            let port = Int(connection.server.port)
            var order = 0
            func add(_ time: VirtualTime, _ kind: WireEvent.Kind) {
                fresh.append((WireEvent(connection: connection.id, time: time.microseconds, client: client, server: server,
                                        port: port, kind: kind), order))
                order += 1
            }
            if start == 0 { add(connection.openedAt, .opened) }
            for event in all[start...] {
                switch event.kind {
                case let .appData(direction, bytes, encrypted):
                    let fromClient = direction == .clientToServer
                    var buffer = partial[connection.id]?[fromClient] ?? []
                    var octets = serverOctets[connection.id] ?? 0
                    func addLine(_ text: String) {
                        add(event.time, .line(text, fromClient: fromClient, encrypted: encrypted))
                        if !fromClient { fresh[fresh.count - 1].0.serverEnd = octets }
                    }
                    for byte in bytes {
                        buffer.append(byte)
                        if !fromClient { octets += 1 }
                        if byte == 0x0A {
                            var line = buffer.dropLast()
                            if line.last == 0x0D { line = line.dropLast() }
                            addLine(WireTap.escapeLine(Array(line)))
                            buffer = []
                        } else if buffer.count >= Self.maximumLine {
                            addLine(WireTap.escapeLine(buffer) + "…")
                            buffer = []
                        }
                    }
                    partial[connection.id, default: [:]][fromClient] = buffer
                    if !fromClient { serverOctets[connection.id] = octets }
                case .tlsStarted:
                    if !events.contains(where: { $0.connection == connection.id && $0.kind == .tlsStarted })
                        && !fresh.contains(where: { $0.0.connection == connection.id && $0.0.kind == .tlsStarted }) {
                        add(event.time, .tlsStarted)
                    }
                case .refused: add(event.time, .refused)
                case .connectTimedOut: add(event.time, .timedOut)
                case let .fin(direction): add(event.time, .fin(fromClient: direction == .clientToServer))
                case let .rst(direction): add(event.time, .rst(fromClient: direction == .clientToServer))
                case let .aborted(cause): add(event.time, .aborted(cause))
                case let .tlsFailed(side, message): add(event.time, .tlsFailed(onClient: side == .client, message))
                case .truncated: add(event.time, .truncated)
                case .syn, .synAck, .established, .segment, .tlsEstablished:
                    break
                }
            }
            seen[connection.id] = all.count
        }
        let sorted = fresh.sorted { a, b in
            (a.0.time, a.0.connection, a.1) < (b.0.time, b.0.connection, b.1)
        }.map(\.0)
        events += sorted
        return sorted
    }

    /// Marks the server lines that end a reply with the reply the server's engine reported
    /// (`ServerReply`, matched by connection and octet count), for the events not marked yet.
    func annotate(with journal: ReplyJournal) {
        for record in journal.records(since: replyCursor) {
            replyEnds[record.session, default: [:]][record.reply.end] = record.reply
            pendingReplies += 1
        }
        replyCursor = journal.nextSequence
        while annotated < events.count {
            let event = events[annotated]
            if case .line(_, false, _) = event.kind, let reply = replyEnds[event.connection]?.removeValue(forKey: event.serverEnd) {
                events[annotated].reply = reply
                pendingReplies -= 1
            }
            annotated += 1
        }
        // Replies of connections the tap no longer keeps are never matched: stay bounded.
        if pendingReplies > journal.limit {
            replyEnds = [:]
            pendingReplies = 0
        }
    }

    /// Every line as a `WireRecord` (time in whole virtual seconds).
    func records(of tap: WireTap) -> [WireRecord] {
        _ = update(from: tap)
        return events.compactMap { event in
            guard case let .line(text, fromClient, encrypted) = event.kind else { return nil }
            let server = "\(event.server):\(event.port)"
            return WireRecord(time: Int(event.time / 1_000_000), from: fromClient ? event.client : server,
                              to: fromClient ? server : event.client, text: text, encrypted: encrypted)
        }
    }
}

extension SimulatedWorld {
    /// Every wire event since the world started (connections, lines, TLS, closes), in order.
    public func wireEvents() -> [WireEvent] {
        _ = wire.update(from: world.tap)
        wire.annotate(with: world.replies)
        return wire.events
    }

    /// The plaintext transcript of every connection (`C:`/`S:` lines), as `maillab replay
    /// --transcript` writes it.
    public func transcript(language: Language = .en) -> String {
        world.transcript(view: .inside, language: language == .fr ? .fr : .en)
    }

    /// The capture of every connection as a libpcap file.
    public func pcap() -> [UInt8] { world.pcap() }
}
