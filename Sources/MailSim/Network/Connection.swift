import MailCore

/// One end of a simulated TCP connection (a virtual socket).
///
/// A client end comes from ``World/connect(from:to:port:onEvent:)``; a server end is handed to the
/// accept handler given to ``Host/listen(port:options:accept:)``. The application writes bytes
/// with ``write(_:)-([UInt8])`` and learns everything else through ``onEvent``.
///
/// ```
/// let conn = world.connect(from: "alice-laptop", to: "mail.example.com", port: 587) { event in … }
/// // server side
/// host.listen(port: 587) { conn in
///     conn.onEvent = { event in … }
///     conn.write("220 mail.example.com ESMTP Postfix\r\n")
/// }
/// ```
///
/// TLS: ``startTLS(asServer:)`` / ``startTLS(asClient:)`` may be called at any moment (right after
/// connecting for implicit TLS, or after a STARTTLS exchange). From then on bytes written are
/// encrypted on the wire and `.data` events carry decrypted plaintext.
public final class Connection: CustomStringConvertible {
    public enum Side: Equatable, Sendable { case client, server }
    public enum State: Equatable, Sendable { case connecting, established, closed }

    public let side: Side
    /// The host this end lives on.
    public let host: Host
    public let localAddress: SocketAddressV4
    public let remoteAddress: SocketAddressV4
    /// The peer's host name when the peer is a known host.
    public let remoteHostName: String?
    /// What the world's facts of this end share (``World/factContext(for:role:)``), once made.
    var factOrigin: FactContext.Origin?
    public internal(set) var state: State = .connecting
    /// True once this end has shut its writing side (`shutdownWrite()` or `close()`).
    public private(set) var isWriteShut = false
    /// True once the peer's FIN arrived.
    public private(set) var isReadShut = false
    /// True once `startTLS` was called on this end.
    public var isTLSStarted: Bool { tls != nil }
    /// True once this end's TLS handshake completed.
    public private(set) var isTLSEstablished = false
    /// True when this end relays the bytes of a program outside the world (the loopback TCP
    /// bridge): it never starts TLS itself, so once its peer has started TLS the bytes it writes
    /// are that program's TLS records. The tap then takes the plaintext from the peer instead:
    /// the peer records what it receives (decrypted after TLS) as application data, so the
    /// transcript's inside view stays whole. Set it before the first write.
    public var relaysExternalBytes = false {
        didSet { if relaysExternalBytes { flow.hasRelayingEnd = true } }
    }

    /// The application's event handler. Events that happen before it is set are kept and
    /// delivered (in order) when it is set.
    public var onEvent: ((ConnectionEvent) -> Void)? {
        didSet { if onEvent != nil { flushHeld() } }
    }

    unowned let flow: TCPFlow
    var tls: TLSSession?
    var dropAfter: Int?
    /// Server end between SYN and the handshake's ACK: the listener that will accept it.
    var listener: Host.Listener?
    private var received = 0
    private var silenced = false
    private var held: [ConnectionEvent] = []
    private var pendingWrites: [[UInt8]] = []
    private var pendingShutdown = false
    private var pendingClientTLS: String?

    init(flow: TCPFlow, side: Side, host: Host, local: SocketAddressV4, remote: SocketAddressV4, remoteName: String?) {
        self.flow = flow
        self.world = flow.world
        self.side = side
        self.host = host
        self.localAddress = local
        self.remoteAddress = remote
        self.remoteHostName = remoteName
    }

    /// Connection number in the world's tap (1, 2, …).
    public var id: Int { flow.id }

    public var description: String {
        "\(side == .client ? "client" : "server") end of #\(flow.id) \(localAddress) → \(remoteAddress)"
    }

    private var outbound: FlowDirection { side == .client ? .clientToServer : .serverToClient }
    private var peer: Connection? { side == .client ? flow.server : flow.client }
    private var peerRelaysExternalBytes: Bool { flow.hasRelayingEnd && (peer?.relaysExternalBytes ?? false) }
    /// The world owns every flow, host and connection end, and outlives them: read without the
    /// reference counting of `unowned` (two atomic operations per access, several per segment).
    private unowned(unsafe) let world: World

    // MARK: application calls

    /// Sends bytes to the peer (ignored once this end is closed or its writing side shut).
    /// Before the connection is established the bytes wait and go out right after the handshake.
    public func write(_ bytes: [UInt8]) {
        guard state != .closed, !isWriteShut, !pendingShutdown, !bytes.isEmpty else { return }
        if state == .connecting {
            pendingWrites.append(bytes)
            return
        }
        if !relaysExternalBytes, flow.tap.isRecording {
            flow.tap.record(.appData(outbound, bytes, encrypted: tls != nil), at: world.now)
        }
        if let tls {
            handle(tls.write(bytes))
        } else {
            flow.send(.data(bytes), outbound)
        }
    }

    /// Sends the UTF-8 bytes of `text`.
    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Half-close: sends FIN. The peer sees `.endOfStream`; this end may still receive data.
    public func shutdownWrite() {
        guard state != .closed, !isWriteShut else { return }
        if state == .connecting { pendingShutdown = true; return }
        isWriteShut = true
        // A real client behind the bridge expects a close_notify before the FIN (openssl
        // s_client reports "unexpected eof" otherwise). Simulated peers do without, which keeps
        // the course's transcripts ending in a plain FIN exchange.
        if let tls, isTLSEstablished, peerRelaysExternalBytes {
            for chunk in tls.closeNotify() { flow.send(.data(chunk), outbound) }
        }
        flow.send(.fin, outbound)
        if isReadShut {
            finish()
            emit(.closed)
        }
    }

    /// Closes this end: sends FIN and stops delivering events to the application. Data that
    /// still arrives is answered with a RST, like a real stack.
    public func close() {
        guard state != .closed else { return }
        silenced = true
        held.removeAll()
        if state == .connecting {
            reset()
            return
        }
        shutdownWrite()
        if isReadShut { finish() }
    }

    /// Aborts: sends RST; the peer sees `.reset(.byPeer)`. No event is delivered to this end.
    public func reset() {
        guard state != .closed else { return }
        silenced = true
        held.removeAll()
        if state == .established || flow.synSent {
            flow.send(.rst, outbound)
        }
        if state == .connecting { flow.connectionEstablishedOrRefused() }
        finish()
        if flow.isFinished { world.flowFinished(flow) }
    }

    /// Starts TLS as the server with `identity` (see ``CertificateAuthority/serverIdentity(for:)``).
    /// Bytes already received are not affected; the next bytes from the peer must be its ClientHello.
    public func startTLS(asServer identity: TLSServerIdentity) {
        guard state == .established, tls == nil else { return }
        flow.tap.record(.tlsStarted(side), at: world.now)
        do {
            let session = try TLSSession(serverContext: identity.context)
            tls = session
            handle(session.start())
        } catch {
            failTLS(String(describing: error))
        }
    }

    /// Starts TLS as the client, verifying the server's chain against the world's CA and its
    /// name against `serverName` (RFC 6125 dNSName match). Sends the ClientHello at once, or
    /// right after the handshake when called before `.connected` (implicit TLS: connect, start
    /// TLS, write; everything written is then encrypted).
    public func startTLS(asClient serverName: String) {
        if state == .connecting, side == .client {
            pendingClientTLS = serverName
            return
        }
        guard state == .established, tls == nil else { return }
        flow.tap.record(.tlsStarted(side), at: world.now)
        do {
            let session = try TLSSession(clientContext: world.certificateAuthority.clientContext(), serverName: serverName)
            tls = session
            handle(session.start())
        } catch {
            failTLS(String(describing: error))
        }
    }

    // MARK: from the flow

    func receive(_ segment: Segment) {
        guard state != .closed else {
            // A segment for a connection this end no longer has (its host crashed, or it
            // was reset): answer with RST so a still-open peer learns it (RFC 9293 §3.10.7.1).
            switch segment {
            case .data, .fin, .ack:
                let peer = side == .client ? flow.server : flow.client
                if host.isUp, let peer, peer.state != .closed { flow.send(.rst, outbound) }
            case .synAck, .rst:
                break
            }
            return
        }
        switch segment {
        case .synAck:
            guard side == .client, state == .connecting else { return }
            flow.connectionEstablishedOrRefused()
            state = .established
            flow.send(.ack, outbound)
            // What the application asked for while connecting goes out first, as if it had
            // waited for the handshake; then the application hears of it.
            if let serverName = pendingClientTLS {
                pendingClientTLS = nil
                startTLS(asClient: serverName)
            }
            let writes = pendingWrites
            let shutdown = pendingShutdown
            pendingWrites = []
            pendingShutdown = false
            writes.forEach(write)
            if shutdown { shutdownWrite() }
            deliverNow(.connected)
        case .ack:
            guard side == .server, state == .connecting, let listener else { return }
            self.listener = nil
            state = .established
            flow.accept(self, listener: listener)
        case var .data(bytes):
            if silenced && isWriteShut {
                reset()
                return
            }
            var dropNow = false
            if let limit = dropAfter {
                let room = max(0, limit - received)
                if bytes.count >= room {
                    bytes = Array(bytes.prefix(room))
                    dropNow = true
                }
            }
            received += bytes.count
            if !bytes.isEmpty {
                if let tls {
                    handle(tls.receive(bytes))
                } else {
                    if peerRelaysExternalBytes {
                        flow.tap.record(.appData(outbound.reversed, bytes, encrypted: false), at: world.now)
                    }
                    deliverNow(.data(bytes))
                }
            }
            if dropNow, state != .closed {
                flow.send(.rst, outbound)
                finish()
                emit(.reset(.droppedByListener))
            }
        case .fin:
            isReadShut = true
            if state == .connecting { return }
            emit(.endOfStream)
            if isWriteShut {
                finish()
                emit(.closed)
            }
        case .rst:
            if state == .connecting && side == .server {
                finish()  // reset before the handshake's ACK: the service never saw it
            } else if state == .connecting {
                flow.connectionEstablishedOrRefused()
                flow.tap.record(.refused, at: world.now)
                finish()
                emit(.connectFailed(.refused))
            } else {
                finish()
                emit(.reset(.byPeer))
            }
        }
    }

    func finish() {
        state = .closed
        if let index = host.endpoints.firstIndex(where: { $0 === self }) { host.endpoints.remove(at: index) }
        tls = nil
        if flow.isFinished { world.flowFinished(flow) }
    }

    /// Queues an event for the application; it runs from the scheduler at the current time.
    func emit(_ event: ConnectionEvent) {
        guard !silenced else { return }
        queuedEvents += 1
        world.scheduler.post(after: .zero) { [self] in
            queuedEvents -= 1
            guard !silenced else { return }
            if let onEvent { onEvent(event) } else { held.append(event) }
        }
    }

    /// Events emitted and not yet handed to the application.
    private var queuedEvents = 0

    /// Hands an event over at once when that cannot reorder anything: the caller runs from a
    /// scheduler event of the network (never inside an application call), and no earlier event
    /// of this end is still waiting. Saves one scheduler event per segment.
    private func deliverNow(_ event: ConnectionEvent) {
        guard !silenced else { return }
        if queuedEvents == 0, held.isEmpty, let onEvent {
            onEvent(event)
        } else {
            emit(event)
        }
    }

    private func flushHeld() {
        while !held.isEmpty, let onEvent, !silenced {
            onEvent(held.removeFirst())
        }
    }

    private func handle(_ output: TLSSession.Output) {
        for chunk in output.wire { flow.send(.data(chunk), outbound) }
        if output.handshakeCompleted {
            isTLSEstablished = true
            flow.tap.record(.tlsEstablished(side), at: world.now)
            emit(.tlsEstablished)
        }
        for chunk in output.plaintext {
            if peerRelaysExternalBytes {
                flow.tap.record(.appData(outbound.reversed, chunk, encrypted: true), at: world.now)
            }
            emit(.data(chunk))
        }
        if let error = output.error { failTLS(error) }
    }

    private func failTLS(_ message: String) {
        guard state != .closed else { return }
        flow.tap.record(.tlsFailed(side, message), at: world.now)
        flow.send(.rst, outbound)
        finish()
        emit(.reset(.tlsFailed(message)))
        if flow.isFinished { world.flowFinished(flow) }
    }
}
