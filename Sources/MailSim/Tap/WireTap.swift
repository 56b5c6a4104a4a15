/// One thing the tap saw on a connection, stamped with virtual time.
public struct TapEvent: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The client sent a SYN (repeated for each retransmission of an unanswered attempt).
        case syn
        /// The server accepted (SYN/ACK sent).
        case synAck
        /// The client learnt the handshake completed (its ACK).
        case established
        /// Bytes the application wrote (always plaintext: the inside view); `encrypted` tells
        /// whether they went through TLS on the wire.
        case appData(FlowDirection, [UInt8], encrypted: Bool)
        /// Bytes put on the wire (ciphertext once the sender started TLS).
        case segment(FlowDirection, [UInt8], encrypted: Bool)
        /// `startTLS` was called on that end.
        case tlsStarted(Connection.Side)
        /// That end's TLS handshake completed.
        case tlsEstablished(Connection.Side)
        /// That end's TLS failed with this message.
        case tlsFailed(Connection.Side, String)
        case fin(FlowDirection)
        case rst(FlowDirection)
        /// The connection attempt was answered with RST.
        case refused
        /// The connection attempt got no answer within the connect timeout.
        case connectTimedOut
        /// The stacks gave up (no path for too long, too many retransmissions).
        case aborted(AbortCause)
        /// The connection reached ``WireTap/maximumBytesPerConnection``: later bytes are not kept.
        case truncated
    }

    public let time: VirtualTime
    public let kind: Kind
}

/// The record of one connection as seen by the tap.
public final class TapConnection {
    /// 1, 2, … in the order connections were opened.
    public let id: Int
    public let client: SocketAddressV4
    public let server: SocketAddressV4
    public let clientHostName: String
    /// Nil when the target address belongs to no host.
    public let serverHostName: String?
    public let openedAt: VirtualTime
    public private(set) var events: [TapEvent] = []
    /// `events.count`, read without taking hold of the array (the bridge asks at every pump).
    public var eventCount: Int { events.count }
    /// Bytes kept so far (application data plus wire segments).
    public private(set) var recordedBytes = 0
    let maximumBytes: Int

    init(id: Int, client: SocketAddressV4, server: SocketAddressV4, clientHostName: String, serverHostName: String?,
         openedAt: VirtualTime, maximumBytes: Int = WireTap.defaultMaximumBytesPerConnection) {
        self.maximumBytes = maximumBytes
        self.id = id
        self.client = client
        self.server = server
        self.clientHostName = clientHostName
        self.serverHostName = serverHostName
        self.openedAt = openedAt
    }

    /// False for connections opened while the tap was paused: nothing is kept.
    var isRecording = true

    /// The tap that lists this connection among its changed ones (``WireTap/tracksChanges``).
    weak var changeList: WireTap?
    /// True while this connection is on its tap's list of changed connections.
    var isListedAsChanged = false

    func record(_ kind: TapEvent.Kind, at time: VirtualTime) {
        guard isRecording else { return }
        if !isListedAsChanged, let changeList {
            isListedAsChanged = true
            changeList.changed.append(self)
        }
        switch kind {
        case let .appData(_, bytes, _), let .segment(_, bytes, _):
            if isTruncated { return }
            if recordedBytes + bytes.count > maximumBytes {
                isTruncated = true
                events.append(TapEvent(time: time, kind: .truncated))
                return
            }
            recordedBytes += bytes.count
        default:
            break
        }
        events.append(TapEvent(time: time, kind: kind))
    }

    /// True once the byte limit was reached.
    public private(set) var isTruncated = false

    /// True once both ends of the connection are closed (nothing more will be recorded).
    public internal(set) var isFinished = false

    /// The header line of this connection in a transcript:
    /// `== 192.0.2.10:49152 → 198.51.100.25:587 (mail.example.com) at +0.000s` (`à` in French).
    public func headerLine(_ language: SimLanguage = .en) -> String {
        let name = serverHostName.map { " (\($0))" } ?? ""
        return "== \(client) → \(server)\(name) \(TranscriptText.at(language)) \(openedAt)"
    }
}

/// Records every connection of a world: the handshake, application bytes in both directions
/// (plaintext), where TLS starts, the wire bytes (ciphertext after TLS), FIN and RST.
///
/// Exports: ``transcript(view:)`` (the course's `C:`/`S:` style) and ``pcap(epochUnixSeconds:)``
/// (a classic libpcap file that Wireshark dissects).
public final class WireTap {
    /// Connections in the order they were opened.
    public private(set) var connections: [TapConnection] = []
    /// Per-connection limit of recorded bytes (application data and wire segments together);
    /// beyond it the tap notes `-- tap limit reached … --` and keeps only control events.
    public var maximumBytesPerConnection = WireTap.defaultMaximumBytesPerConnection
    public static let defaultMaximumBytesPerConnection = 16 * 1024 * 1024

    /// While false, new connections are not recorded at all (benchmarks, long soak runs); the
    /// transcript and pcap then show only the connections opened while it was true.
    public var isRecording = true

    /// When true, the tap lists the connections that recorded an event since the last
    /// ``takeChanged()``, so that a reader of every connection (the bridge's session log) looks
    /// only at those. Off by default: nobody would empty the list.
    public var tracksChanges = false
    fileprivate var changed = BatchList<TapConnection>()

    /// The connections with events recorded since the previous call, in the order of their first
    /// new event.
    public func takeChanged() -> [TapConnection] {
        var list: [TapConnection] = []
        forEachChanged { list.append($0) }
        return list
    }

    /// Hands each connection with events recorded since the previous call to `body`, in the
    /// order of their first new event (events recorded meanwhile list it for the next call).
    public func forEachChanged(_ body: (TapConnection) -> Void) {
        guard !changed.isEmpty else { return }
        var batch = changed.take()
        for connection in batch {
            connection.isListedAsChanged = false
            body(connection)
        }
        changed.recycle(&batch)
    }

    public init() {}

    /// Drops the records of these connections (a long real-time run keeps a bounded window).
    public func forget(connectionIDs ids: Set<Int>) {
        guard !ids.isEmpty else { return }
        connections.removeAll { ids.contains($0.id) }
    }

    func open(_ connection: TapConnection) {
        guard isRecording else {
            connection.isRecording = false
            return
        }
        if tracksChanges { connection.changeList = self }
        connections.append(connection)
    }

    /// Which view of TLS connections a transcript shows.
    public enum TranscriptView: Sendable {
        /// The endpoints' view: plaintext continues after `-- TLS started --`.
        case inside
        /// A wire eavesdropper's view: after TLS starts, each encrypted segment is shown as
        /// `C: [TLS ciphertext, N bytes]`.
        case eavesdropper
    }

    /// The transcript of every connection (see ``transcript(of:view:)``), connections separated
    /// by a blank line.
    public func transcript(view: TranscriptView = .inside, language: SimLanguage = .en) -> String {
        connections.map { Self.transcript(of: $0, view: view, language: language) }.joined(separator: "\n")
    }

    /// One connection as text: its header line, then one `C: ` or `S: ` line per line of
    /// application data (split after LF, the CRLF removed), markers such as `-- TLS started --`,
    /// `-- FIN from client at +0.040s --`, `-- RST from server at +1.005s --`,
    /// `-- connection refused at +0.010s --` (end markers carry their virtual time).
    /// Lines that are not valid UTF-8 (or hold control characters) show bytes as `\xNN`.
    public static func transcript(of connection: TapConnection, view: TranscriptView,
                                  language: SimLanguage = .en) -> String {
        var out = connection.headerLine(language) + "\n"
        var pending: [FlowDirection: [UInt8]] = [.clientToServer: [], .serverToClient: []]
        var tlsShown = false
        func prefix(_ d: FlowDirection) -> String { d == .clientToServer ? "C: " : "S: " }
        func flush(_ d: FlowDirection) {
            if let rest = pending[d], !rest.isEmpty {
                out += prefix(d) + escapeLine(rest) + "\n"
                pending[d] = []
            }
        }
        for event in connection.events {
            switch event.kind {
            case let .appData(direction, bytes, encrypted):
                if view == .eavesdropper && encrypted { continue }
                var buffer = pending[direction] ?? []
                for byte in bytes {
                    buffer.append(byte)
                    if byte == 0x0A {
                        var line = buffer.dropLast()
                        if line.last == 0x0D { line = line.dropLast() }
                        out += prefix(direction) + escapeLine(Array(line)) + "\n"
                        buffer = []
                    }
                }
                pending[direction] = buffer
            case let .segment(direction, bytes, encrypted):
                if view == .eavesdropper && encrypted {
                    out += prefix(direction) + TranscriptText.ciphertext(bytes.count, language) + "\n"
                }
            case .tlsStarted:
                if !tlsShown {
                    tlsShown = true
                    out += TranscriptText.tlsStarted(language) + "\n"
                }
            case let .tlsFailed(side, message):
                out += TranscriptText.tlsFailed(side, message, language) + "\n"
            case let .fin(direction):
                flush(direction)
                out += TranscriptText.fin(direction, event.time, language) + "\n"
            case let .rst(direction):
                flush(.clientToServer); flush(.serverToClient)
                if !connection.events.contains(where: { $0.kind == .refused }) {
                    out += TranscriptText.rst(direction, event.time, language) + "\n"
                }
            case .refused:
                out += TranscriptText.refused(event.time, language) + "\n"
            case .connectTimedOut:
                out += TranscriptText.timedOut(event.time, language) + "\n"
            case let .aborted(cause):
                flush(.clientToServer); flush(.serverToClient)
                out += TranscriptText.aborted(cause, event.time, language) + "\n"
            case .truncated:
                flush(.clientToServer); flush(.serverToClient)
                out += TranscriptText.truncated(event.time, language) + "\n"
            case .syn, .synAck, .established, .tlsEstablished:
                break
            }
        }
        flush(.clientToServer)
        flush(.serverToClient)
        return out
    }

    /// A line as text: itself when it is valid UTF-8 without control characters (TAB allowed),
    /// else printable ASCII kept and every other byte written `\xNN`.
    public static func escapeLine(_ bytes: [UInt8]) -> String {
        let clean = bytes.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
        if clean, let text = String(validating: bytes, as: UTF8.self) { return text }
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != 0x5C {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}
