import Testing
@testable import MailSim

/// Splits a byte stream into CRLF lines (without the CRLF).
struct LineBuffer {
    private var bytes: [UInt8] = []
    mutating func append(_ more: [UInt8]) -> [String] {
        bytes += more
        var lines: [String] = []
        while let index = bytes.firstIndex(of: 0x0A) {
            var line = Array(bytes[..<index])
            if line.last == 0x0D { line.removeLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            bytes.removeSubrange(...index)
        }
        return lines
    }
}

/// A toy line service: greets with `220 <host> echo ready`, answers each line with `250 <line>`,
/// `STARTTLS` with `220 go ahead` (then starts TLS), `QUIT` with `221 bye` (then closes).
/// With `implicitTLS` it starts TLS as soon as the connection is accepted.
final class EchoService {
    let host: Host
    let identity: TLSServerIdentity?
    let implicitTLS: Bool
    var serverEvents: [String] = []

    init(world: World, host: String, port: UInt16, implicitTLS: Bool = false, options: ListenOptions = .init()) throws {
        self.host = try #require(world.host(host))
        self.implicitTLS = implicitTLS
        self.identity = try world.certificateAuthority.serverIdentity(for: host)
        self.host.listen(port: port, options: options) { [self] conn in accept(conn) }
    }

    private func accept(_ conn: Connection) {
        var lines = LineBuffer()
        if implicitTLS, let identity { conn.startTLS(asServer: identity) }
        conn.write("220 \(host.name) echo ready\r\n")
        conn.onEvent = { [self] event in
            serverEvents.append(describe(event))
            switch event {
            case let .data(bytes):
                for line in lines.append(bytes) {
                    switch line.uppercased() {
                    case "QUIT":
                        conn.write("221 bye\r\n")
                        conn.close()
                    case "STARTTLS":
                        conn.write("220 go ahead\r\n")
                        if let identity { conn.startTLS(asServer: identity) }
                    default:
                        conn.write("250 \(line)\r\n")
                    }
                }
            case .endOfStream:
                conn.close()
            default:
                break
            }
        }
    }
}

/// A scripted client: after each complete server reply it sends the next command. `STARTTLS`
/// in the script starts TLS once the server answered 220; `tlsName` is the name it verifies.
final class ScriptClient {
    var events: [String] = []
    var replies: [String] = []
    let connection: Connection

    init(world: World, from: String, to: String, port: UInt16, script: [String],
         implicitTLS: Bool = false, tlsName: String? = nil) throws {
        var remaining = script
        var lines = LineBuffer()
        var pendingTLS = false
        var conn: Connection!
        let name = tlsName ?? to
        conn = try world.connect(from: from, to: to, port: port)
        connection = conn
        func sendNext() {
            guard !remaining.isEmpty else { return }
            let command = remaining.removeFirst()
            if command.uppercased() == "STARTTLS" { pendingTLS = true }
            conn.write(command + "\r\n")
        }
        conn.onEvent = { [self] event in
            events.append(describe(event))
            switch event {
            case .connected:
                if implicitTLS { conn.startTLS(asClient: name) }
            case let .data(bytes):
                for line in lines.append(bytes) {
                    replies.append(line)
                    if pendingTLS && line.hasPrefix("220 ") {
                        pendingTLS = false
                        conn.startTLS(asClient: name)
                    }
                    if line.hasPrefix("221 ") { conn.close(); return }
                    sendNext()
                }
            case .endOfStream:
                conn.close()
            default:
                break
            }
        }
    }
}

func describe(_ event: ConnectionEvent) -> String {
    switch event {
    case .connected: return "connected"
    case let .connectFailed(error): return "connectFailed(\(error))"
    case let .data(bytes): return "data(\(bytes.count))"
    case .tlsEstablished: return "tlsEstablished"
    case .endOfStream: return "endOfStream"
    case .closed: return "closed"
    case let .reset(reason):
        if case .tlsFailed = reason { return "reset(tlsFailed)" }
        return "reset(\(reason))"
    }
}

/// Records the events of one connection end with their virtual times.
final class EventRecorder {
    var events: [(VirtualTime, ConnectionEvent)] = []
    func attach(_ world: World) -> (ConnectionEvent) -> Void {
        { [unowned self, unowned world] event in events.append((world.now, event)) }
    }
    var kinds: [String] { events.map { describe($0.1) } }
}
