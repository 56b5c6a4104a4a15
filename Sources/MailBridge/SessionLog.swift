import MailCore
import MailSim

/// Renders one bridged connection's tap record as log lines in the course's `C:`/`S:` style,
/// incrementally (each call renders only what the tap saw since the last one), with
/// credentials hidden by a ``CredentialRedactor``, which follows what the server awaits from the
/// replies its engine reported (``expect(_:)``, matched to the server's octets).
///
/// The tap holds the plaintext of both directions even after TLS: the simulated server end
/// records what it decrypts from the bridge (``Connection/relaysExternalBytes``).
public final class SessionLog {
    /// Longest line kept whole; longer ones are cut into pieces of this size (bounded memory).
    public static let maxLineBytes = 4096

    /// Prefix of every line, e.g. `#3`.
    public let label: String
    public let tap: TapConnection
    public let french: Bool
    private var processed = 0
    private var redactor: CredentialRedactor
    private var replies = ReplyTracker()
    private var pendingClient: [UInt8] = []
    private var pendingServer: [UInt8] = []
    private var tlsShown = false

    public init(label: String, tap: TapConnection, mailProtocol: MailProtocol?, french: Bool) {
        self.label = label
        self.tap = tap
        self.french = french
        self.redactor = CredentialRedactor(mailProtocol: mailProtocol)
    }

    /// A reply the server's engine reported on this connection (in order, before its octets are
    /// rendered): once its octets are in the log, the redactor knows what the server awaits.
    public func expect(_ reply: ServerReply) { replies.expect(reply) }

    /// Lines for the tap events recorded since the previous call.
    public func renderNew() -> [String] {
        var out: [String] = []
        let events = tap.events
        while processed < events.count {
            render(events[processed].kind, into: &out)
            processed += 1
        }
        return out
    }

    /// Lines still buffered without their line feed (at the end of a session).
    public func flush() -> [String] {
        var out: [String] = []
        flush(.clientToServer, into: &out)
        flush(.serverToClient, into: &out)
        return out
    }

    private func text(_ fr: String, _ en: String) -> String { french ? fr : en }

    private func emitLine(_ bytes: [UInt8], _ direction: FlowDirection, into out: inout [String]) {
        let raw = WireTap.escapeLine(bytes)
        if direction == .clientToServer {
            out.append("\(label) C: \(redactor.clientLine(raw))")
        } else {
            out.append("\(label) S: \(raw)")
        }
    }

    private func flush(_ direction: FlowDirection, into out: inout [String]) {
        let rest = direction == .clientToServer ? pendingClient : pendingServer
        if !rest.isEmpty {
            emitLine(rest, direction, into: &out)
            if direction == .clientToServer { pendingClient = [] } else { pendingServer = [] }
        }
    }

    /// Cuts application bytes into lines (LF, a CR before it removed); a line longer than
    /// ``maxLineBytes`` is emitted in pieces of that size.
    private func take(_ bytes: [UInt8], _ direction: FlowDirection, into out: inout [String]) {
        var pending: [UInt8]
        if direction == .clientToServer {
            pending = pendingClient
            pendingClient = []
        } else {
            pending = pendingServer
            pendingServer = []
        }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let limit = min(bytes.endIndex, index + (Self.maxLineBytes - pending.count))
            if let lf = bytes[index..<limit].firstIndex(of: 0x0A) {
                pending.append(contentsOf: bytes[index..<lf])
                if pending.last == 0x0D { pending.removeLast() }
                emitLine(pending, direction, into: &out)
                pending.removeAll(keepingCapacity: true)
                index = lf + 1
            } else {
                pending.append(contentsOf: bytes[index..<limit])
                index = limit
                if pending.count >= Self.maxLineBytes {
                    emitLine(pending, direction, into: &out)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if direction == .clientToServer { pendingClient = pending } else { pendingServer = pending }
    }

    private func side(_ direction: FlowDirection) -> String {
        direction == .clientToServer ? text("client", "client") : text("serveur", "server")
    }

    private func render(_ kind: TapEvent.Kind, into out: inout [String]) {
        switch kind {
        case let .appData(direction, bytes, _):
            take(bytes, direction, into: &out)
            if direction == .serverToClient {
                replies.advance(by: bytes.count)
                for reply in replies.completed() { redactor.serverReplied(reply) }
            }
        case .tlsStarted:
            if !tlsShown {
                tlsShown = true
                out.append("\(label) -- \(text("TLS démarré", "TLS started")) --")
            }
        case .tlsEstablished(.server):
            out.append("\(label) -- \(text("poignée de main TLS terminée", "TLS handshake done")) --")
        case let .tlsFailed(failedSide, message):
            let who = failedSide == .client ? text("client", "client") : text("serveur", "server")
            out.append("\(label) -- \(text("échec TLS côté \(who)", "TLS failed on the \(who)")) : \(message) --")
        case let .fin(direction):
            flush(direction, into: &out)
            out.append("\(label) -- FIN \(text("du", "from")) \(side(direction)) --")
        case let .rst(direction):
            flush(.clientToServer, into: &out)
            flush(.serverToClient, into: &out)
            out.append("\(label) -- RST \(text("du", "from")) \(side(direction)) --")
        case .refused:
            out.append("\(label) -- \(text("connexion refusée", "connection refused")) --")
        case .connectTimedOut:
            out.append("\(label) -- \(text("délai de connexion dépassé", "connection timed out")) --")
        case let .aborted(cause):
            out.append("\(label) -- \(text("abandon", "aborted")) : \(cause.message(french ? .fr : .en)) --")
        case .truncated:
            out.append("\(label) -- \(text("limite de la capture atteinte : la suite n'est plus journalisée", "tap limit reached: the rest is not logged")) --")
        case .syn, .synAck, .established, .segment, .tlsEstablished:
            break
        }
    }
}
