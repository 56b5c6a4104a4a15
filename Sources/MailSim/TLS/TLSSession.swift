import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS  // TLSUserEvent (a module of swift-nio that NIOSSL re-uses)

/// Catches what NIOSSLHandler reports upwards: plaintext, handshake completion, errors.
private final class TLSEventWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var plaintext: [[UInt8]] = []
    var handshakeCompleted = false
    var error: String?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty {
            plaintext.append(bytes)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted? = event as? TLSUserEvent {
            handshakeCompleted = true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if self.error == nil { self.error = TLSSession.describe(error) }
    }
}

/// Real TLS (swift-nio-ssl / BoringSSL) driven in memory for one connection end.
///
/// The NIOSSLHandler sits in an `EmbeddedChannel`: ciphertext from the virtual wire is written
/// inbound, the channel's outbound writes are the ciphertext to put on the wire, and what reaches
/// the end of the pipeline is plaintext. Every call runs the embedded loop to completion and
/// drains both sides, so the whole exchange is synchronous and ordered.
final class TLSSession {
    struct Output {
        var wire: [[UInt8]] = []
        var plaintext: [[UInt8]] = []
        var handshakeCompleted = false
        var error: String?
    }

    private let channel: EmbeddedChannel
    private let watcher = TLSEventWatcher()
    private var reportedHandshake = false
    private var failed = false
    private var closing = false

    init(serverContext: NIOSSLContext) throws {
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
        try channel.pipeline.syncOperations.addHandler(watcher)
    }

    init(clientContext: NIOSSLContext, serverName: String) throws {
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: clientContext, serverHostname: serverName))
        try channel.pipeline.syncOperations.addHandler(watcher)
    }

    /// Activates the channel (the client sends its ClientHello here).
    func start() -> Output {
        channel.connect(to: Self.embeddedPeerAddress, promise: nil)
        return drain()
    }

    /// Ciphertext from the wire.
    func receive(_ bytes: [UInt8]) -> Output {
        guard !failed else { return Output() }
        channel.pipeline.fireChannelRead(channel.allocator.buffer(bytes: bytes))
        // NIOSSLHandler hands decrypted data up on read-complete, as a real socket would.
        channel.pipeline.fireChannelReadComplete()
        return drain()
    }

    /// Plaintext from the application (buffered by NIOSSL until the handshake completes).
    func write(_ bytes: [UInt8]) -> Output {
        guard !failed else { return Output() }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        return drain()
    }

    /// Starts TLS closure: the close_notify alert (RFC 8446 §6.1) to put on the wire before
    /// the FIN, so that real clients behind the TCP bridge see a clean TLS shutdown. What the
    /// peer sends afterwards (its own close_notify) is absorbed without error.
    func closeNotify() -> [[UInt8]] {
        guard !failed, !closing, reportedHandshake else { return [] }
        closing = true
        channel.close(promise: nil)
        return drain().wire
    }

    private func drain() -> Output {
        channel.embeddedEventLoop.run()
        var output = Output()
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { output.wire.append(Array(buffer.readableBytesView)) }
        }
        output.plaintext = watcher.plaintext
        watcher.plaintext = []
        if watcher.handshakeCompleted && !reportedHandshake {
            reportedHandshake = true
            output.handshakeCompleted = true
        }
        if let error = watcher.error, !failed {
            failed = true
            // After our close_notify, an unclean end from the peer is no failure to report.
            if !closing { output.error = error }
        }
        return output
    }

    /// The embedded channel needs some address to become active; it is never used.
    /// The in-memory channel needs some peer address to become active; nothing is ever sent to it.
    private static let embeddedPeerAddress = try! SocketAddress(ipAddress: "127.0.0.1", port: 1)

    /// A short reason a learner can read: BoringSSL's reason code (`WRONG_VERSION_NUMBER`,
    /// `CERTIFICATE_VERIFY_FAILED`, …) when there is one, else NIOSSL's description without
    /// source paths.
    static func describe(_ error: Error) -> String {
        let text = error is NIOSSLExtraError ? String(describing: error as! NIOSSLExtraError) : String(describing: error)
        return conciseReason(text)
    }

    static func conciseReason(_ text: String) -> String {
        var reasons: [String] = []
        var rest = Substring(text)
        while let marker = rest.range(of: "OPENSSL_internal:") {
            let code = rest[marker.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !code.isEmpty, !reasons.contains(String(code)) { reasons.append(String(code)) }
            rest = rest[marker.upperBound...]
        }
        if !reasons.isEmpty { return reasons.joined(separator: ", ") }
        // No BoringSSL code: drop " at /path/file.cc:123" style locations.
        var cleaned = text
        while let at = cleaned.range(of: " at /") {
            let end = cleaned[at.upperBound...].firstIndex { $0 == "]" || $0 == ")" || $0 == "," } ?? cleaned.endIndex
            cleaned.removeSubrange(at.lowerBound..<end)
        }
        return cleaned
    }
}
