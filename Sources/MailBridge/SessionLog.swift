import Foundation
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
        var out: [UInt8] = []
        renderNew(into: &out)
        return Self.lines(out)
    }

    /// Appends the lines for the tap events recorded since the previous call to `out`, each
    /// ended by a line feed (the bridge's path: no string per line).
    public func renderNew(into out: inout [UInt8]) {
        guard processed < tap.eventCount else { return }
        let events = tap.events
        while processed < events.count {
            render(events[processed].kind, into: &out)
            processed += 1
        }
    }

    /// Lines still buffered without their line feed (at the end of a session).
    public func flush() -> [String] {
        var out: [UInt8] = []
        flush(into: &out)
        return Self.lines(out)
    }

    /// ``flush()`` appended to `out`, each line ended by a line feed.
    public func flush(into out: inout [UInt8]) {
        flush(.clientToServer, into: &out)
        flush(.serverToClient, into: &out)
    }

    /// Lines ended by line feeds, as strings without them.
    static func lines(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    private func text(_ fr: String, _ en: String) -> String { french ? fr : en }

    private lazy var labelBytes: [UInt8] = Array(label.utf8)
    /// `label C: ` and `label S: `, the start of every line of data (made once per session).
    private lazy var clientPrefix: [UInt8] = Array((label + " C: ").utf8)
    private lazy var serverPrefix: [UInt8] = Array((label + " S: ").utf8)

    /// Appends `label text` and a line feed.
    private func append(_ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: labelBytes)
        out.append(0x20)
        out.append(contentsOf: text.utf8)
        out.append(0x0A)
    }

    /// True when the bytes are printable ASCII or tabs: logged as they are. Eight bytes at a
    /// time: a word passes when no byte is below 0x20, at 0x7F or above (a word that does not
    /// is looked at byte by byte, for its tabs).
    static func isPlainASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            var offset = 0
            while offset + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let below = (word &- ones &* 0x20) & ~word & highs        // a byte < 0x20 (when no high bit)
                let del = (word ^ (ones &* 0x7F)), isDel = (del &- ones) & ~del & highs  // a byte == 0x7F
                if (word & highs) | below | isDel != 0 {
                    for index in offset..<offset + 8 where !Self.isPlain(raw[index]) { return false }
                }
                offset += 8
            }
            while offset < raw.count {
                if !Self.isPlain(raw[offset]) { return false }
                offset += 1
            }
            return true
        }
    }

    @inline(__always)
    private static func isPlain(_ byte: UInt8) -> Bool { byte == 0x09 || (byte >= 0x20 && byte < 0x7F) }

    private func emitLine(_ bytes: ArraySlice<UInt8>, _ direction: FlowDirection, into out: inout [UInt8]) {
        let client = direction == .clientToServer
        out.append(contentsOf: client ? clientPrefix : serverPrefix)
        // Most lines (every line of a message) are plain and pass the redactor unchanged: their
        // bytes are copied as they are; the rest goes through the escaping and redaction of text.
        if Self.isPlainASCII(bytes), !client || redactor.passesUnchanged(bytes) {
            out.append(contentsOf: bytes)
        } else {
            let raw = WireTap.escapeLine(Array(bytes))
            out.append(contentsOf: (client ? redactor.clientLine(raw) : raw).utf8)
        }
        out.append(0x0A)
    }

    private func flush(_ direction: FlowDirection, into out: inout [UInt8]) {
        let rest = direction == .clientToServer ? pendingClient : pendingServer
        if !rest.isEmpty {
            emitLine(rest[...], direction, into: &out)
            if direction == .clientToServer { pendingClient = [] } else { pendingServer = [] }
        }
    }

    /// Cuts application bytes into lines (LF, a CR before it removed); a line longer than
    /// ``maxLineBytes`` is emitted in pieces of that size.
    private func take(_ bytes: [UInt8], _ direction: FlowDirection, into out: inout [UInt8]) {
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
            if let lf = Self.firstLineFeed(bytes, index..<limit) {
                if pending.isEmpty {
                    // A whole line inside this segment: emitted from it, without a copy.
                    var end = lf
                    if end > index && bytes[end - 1] == 0x0D { end -= 1 }
                    emitLine(bytes[index..<end], direction, into: &out)
                } else {
                    pending.append(contentsOf: bytes[index..<lf])
                    if pending.last == 0x0D { pending.removeLast() }
                    emitLine(pending[...], direction, into: &out)
                    pending.removeAll(keepingCapacity: true)
                }
                index = lf + 1
            } else {
                pending.append(contentsOf: bytes[index..<limit])
                index = limit
                if pending.count >= Self.maxLineBytes {
                    emitLine(pending[...], direction, into: &out)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if direction == .clientToServer { pendingClient = pending } else { pendingServer = pending }
    }

    /// The first LF in `range` of `bytes` (memchr).
    static func firstLineFeed(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        return bytes.withUnsafeBytes { raw -> Int? in
            guard let found = memchr(raw.baseAddress! + range.lowerBound, 0x0A, range.count) else { return nil }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
        }
    }

    private func side(_ direction: FlowDirection) -> String {
        direction == .clientToServer ? text("client", "client") : text("serveur", "server")
    }

    private func render(_ kind: TapEvent.Kind, into out: inout [UInt8]) {
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
                append("-- \(text("TLS démarré", "TLS started")) --", into: &out)
            }
        case .tlsEstablished(.server):
            append("-- \(text("poignée de main TLS terminée", "TLS handshake done")) --", into: &out)
        case let .tlsFailed(failedSide, message):
            let who = failedSide == .client ? text("client", "client") : text("serveur", "server")
            append("-- \(text("échec TLS côté \(who)", "TLS failed on the \(who)")) : \(message) --", into: &out)
        case let .fin(direction):
            flush(direction, into: &out)
            append("-- FIN \(text("du", "from")) \(side(direction)) --", into: &out)
        case let .rst(direction):
            flush(.clientToServer, into: &out)
            flush(.serverToClient, into: &out)
            append("-- RST \(text("du", "from")) \(side(direction)) --", into: &out)
        case .refused:
            append("-- \(text("connexion refusée", "connection refused")) --", into: &out)
        case .connectTimedOut:
            append("-- \(text("délai de connexion dépassé", "connection timed out")) --", into: &out)
        case let .aborted(cause):
            append("-- \(text("abandon", "aborted")) : \(cause.message(french ? .fr : .en)) --", into: &out)
        case .truncated:
            append("-- \(text("limite de la capture atteinte : la suite n'est plus journalisée", "tap limit reached: the rest is not logged")) --", into: &out)
        case .syn, .synAck, .established, .segment, .tlsEstablished:
            break
        }
    }
}
