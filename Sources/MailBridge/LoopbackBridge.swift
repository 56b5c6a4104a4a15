import MailAgents
import MailCore
import MailSim
import Foundation
import NIOCore
import NIOPosix

/// Settings of a ``LoopbackBridge``.
public struct BridgeConfiguration: Sendable {
    /// Base of the first host's block of ports (DESIGN.md: 10000).
    public var portOffset = 10_000
    /// Address the real listeners bind to; only loopback unless the user asks otherwise.
    public var listenAddress = "127.0.0.1"
    /// Server hosts to bridge; nil for all of them.
    public var expose: [String]?
    /// Connections open at once on one real port; more are accepted and closed at once.
    public var maxConnectionsPerPort = 64
    /// How often virtual time is brought up to the wall clock when nothing else happens.
    public var tick: TimeAmount = .milliseconds(10)
    /// The simulated host real clients appear to come from.
    public var bridgeHostName = "bridge"
    /// Its address (TEST-NET-1, RFC 5737).
    public var bridgeAddress = "192.0.2.200"
    /// One-way latency between the bridge host and the servers.
    public var bridgeLatency: VirtualDuration = .microseconds(500)
    /// When set, virtual instant "now" is given this Unix time, so the dates in messages and
    /// replies match the real clock (nil keeps the world's own epoch, as tests want).
    public var wallClockUnixSeconds: Int64?
    /// Language of the log's markers.
    public var french = false

    /// The listen address as it is written before `:port` (IPv6 in brackets, RFC 3986 §3.2.2).
    public var listenHostForURL: String {
        listenAddress.contains(":") ? "[\(listenAddress)]" : listenAddress
    }
    /// Bytes a real client may push into the world per tick; beyond, its socket is not read
    /// until the next tick (bounds what waits inside the simulation).
    public var maxInputBytesPerTick = 1 << 20

    public init() {}
}

/// A login of the simulated world that real clients may use.
public struct BridgeAccount: Hashable, Sendable {
    public let login: String
    public let password: String
    /// The mail domain whose store holds the account.
    public let domain: String
    /// `login@domain` when that address reaches the account.
    public let address: String?
}

/// Exposes a simulated world's servers on real TCP ports (issue 8, `maillab serve`).
///
/// The bridge is a byte pipe. Every accepted TCP connection opens a virtual connection from the
/// simulated host `bridge` to the server's own port (25, 587, …); bytes from the real client are
/// written into it unchanged and bytes from the simulated server go back unchanged. TLS
/// (STARTTLS and implicit) therefore runs end to end between the real client and the simulated
/// server's TLS layer: the real client verifies the world's CA (written to a file by the
/// caller from ``certificateAuthorityPEM``), and the server engine is exactly the simulation's.
/// FIN and RST map both ways (half-close included).
///
/// Threading: one NIO event loop owns the world. The listeners and all accepted channels live
/// on it, the clock ticks on it, and ``withWorld(_:)`` runs on it, so the world (which is not
/// thread-safe) is only ever touched from that one thread. Virtual time follows the wall
/// clock: it is advanced to the elapsed real time on every tick and after every input.
public final class LoopbackBridge: @unchecked Sendable {
    public let configuration: BridgeConfiguration
    /// The real ports, host by host.
    public let ports: [BridgedPort]
    /// Logins real clients may use, by domain then login.
    public let accounts: [BridgeAccount]
    /// The world CA's certificate (PEM), for the clients' trust store.
    public let certificateAuthorityPEM: String
    /// The loop that owns the world.
    public let eventLoop: EventLoop

    private let group: MultiThreadedEventLoopGroup
    private let mailWorld: MailWorld
    private let bridgeHost: MailSim.Host
    private let log: @Sendable (String) -> Void
    private let listenerLock = NSLock()
    private var listenerChannels: [Channel] = []

    // Confined to `eventLoop`.
    private var openCounts: [Int: Int] = [:]
    private var sessions: [BridgeSession] = []
    private var clockOrigin: NIODeadline?
    private var virtualOrigin: VirtualTime = .zero
    private var ticker: RepeatedTask?
    private var pumping = false
    private var stopped = false
    /// Times a client's reading was paused by ``BridgeConfiguration/maxInputBytesPerTick``.
    var readPauses = 0

    /// Prepares the bridge for `world` (not yet listening). The world must not be used by the
    /// caller afterwards except through ``withWorld(_:)``.
    /// - Throws: ``BridgeError`` for a bad offset or exposed host, or a world error when the
    ///   bridge host's name or address is taken.
    public init(world: MailWorld, configuration: BridgeConfiguration = .init(),
                log: @escaping @Sendable (String) -> Void) throws {
        self.configuration = configuration
        self.mailWorld = world
        self.log = log
        let sim = world.world
        ports = try BridgePlan.make(servers: sim.hosts.map { ($0.name, $0.listeningPorts) },
                                    offset: configuration.portOffset, expose: configuration.expose)
        if ports.isEmpty {
            throw BridgeError(fr: "ce monde n'a aucun port de serveur à exposer",
                              en: "this world has no server port to expose")
        }
        bridgeHost = try Self.addBridgeHost(to: sim, configuration: configuration)
        for name in Set(ports.map(\.hostName)).sorted() {
            try sim.apply(.setLink(bridgeHost.name, name, latency: configuration.bridgeLatency,
                                   jitter: .zero, lossRate: 0))
        }
        var accounts: [BridgeAccount] = []
        for domain in world.stores.keys.sorted() {
            guard let store = world.stores[domain] else { continue }
            for (login, password) in store.credentialsForSubmission() {
                let candidate = "\(login)@\(domain)"
                let address = store.account(forAddress: candidate) == login ? candidate : nil
                accounts.append(BridgeAccount(login: login, password: password, domain: domain, address: address))
            }
        }
        self.accounts = accounts
        certificateAuthorityPEM = try sim.certificateAuthority.certificatePEM
        if let unix = configuration.wallClockUnixSeconds {
            sim.epochUnixSeconds = unix - sim.now.microseconds / 1_000_000
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
    }

    /// Adds the host real clients come from: the configured name and address, or when a
    /// scenario already uses them, `name-2`, … and the next free address of the same /24.
    static func addBridgeHost(to sim: World, configuration: BridgeConfiguration) throws -> MailSim.Host {
        guard let base = IPv4Address(configuration.bridgeAddress) else {
            throw WorldError.invalidAddress(configuration.bridgeAddress)
        }
        var name = configuration.bridgeHostName
        var suffix = 2
        while sim.host(name) != nil {
            name = "\(configuration.bridgeHostName)-\(suffix)"
            suffix += 1
        }
        let network = base.value & 0xFFFF_FF00
        var last = base.value & 0xFF
        for _ in 0..<254 {
            let candidate = IPv4Address(network | last)
            if sim.host(candidate.description) == nil {
                return try sim.addHost(name, address: candidate.description, addDNS: false)
            }
            last = last >= 254 ? 1 : last + 1
        }
        throw BridgeError(fr: "aucune adresse libre pour l'hôte du pont près de \(base)",
                          en: "no free address for the bridge host near \(base)")
    }

    // MARK: life cycle

    /// Binds every listener and starts the clock.
    /// - Throws: ``BridgeError`` naming the port that could not be bound (nothing stays bound).
    public func start() throws {
        try eventLoop.submit { self.startClock() }.wait()
        for port in ports {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(BridgeChannelHandler(bridge: self, port: port))
                    }
                }
            do {
                let channel = try bootstrap.bind(host: configuration.listenAddress, port: port.realPort).wait()
                listenerLock.withLock { listenerChannels.append(channel) }
            } catch {
                stop()
                throw BridgeError(
                    fr: "impossible d'écouter sur \(configuration.listenHostForURL):\(port.realPort) (\(port.hostName) port \(port.virtualPort)) : \(error)",
                    en: "cannot listen on \(configuration.listenHostForURL):\(port.realPort) (\(port.hostName) port \(port.virtualPort)): \(error)")
            }
        }
    }

    /// Closes the listeners and every open connection, then stops the loop. Safe to call twice;
    /// must not be called from the bridge's own loop.
    public func stop() {
        let listeners = listenerLock.withLock { () -> [Channel] in
            defer { listenerChannels = [] }
            return listenerChannels
        }
        let closing: [EventLoopFuture<Void>] = (try? eventLoop.submit { () -> [EventLoopFuture<Void>] in
            self.stopped = true
            self.ticker?.cancel()
            self.ticker = nil
            var futures = listeners.map { $0.close() }
            for session in self.sessions {
                session.virtual?.close()
                futures.append(session.channel.close())
            }
            self.renderLogs(final: true)
            return futures
        }.wait()) ?? []
        for future in closing { _ = try? future.wait() }
        try? group.syncShutdownGracefully()
    }

    /// Runs `body` with the world on the bridge's loop, after bringing virtual time up to date.
    public func withWorld<T>(_ body: @escaping (MailWorld) throws -> T) throws -> T {
        try eventLoop.submit { () throws -> T in
            self.pump()
            return try body(self.mailWorld)
        }.wait()
    }

    /// How many times reading from a client was paused for sending too fast.
    public func readPauseCount() -> Int {
        (try? eventLoop.submit { self.readPauses }.wait()) ?? 0
    }

    /// Waits until `condition` holds on the world (checked on every tick) or `timeout` passes.
    /// Returns whether it held.
    public func wait(timeout: TimeAmount, until condition: @escaping (MailWorld) -> Bool) -> Bool {
        let promise = eventLoop.makePromise(of: Bool.self)
        eventLoop.execute {
            let deadline = NIODeadline.now() + timeout
            var task: RepeatedTask?
            task = self.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: self.configuration.tick) { _ in
                self.pump()
                if condition(self.mailWorld) {
                    task?.cancel()
                    promise.succeed(true)
                } else if NIODeadline.now() >= deadline || self.stopped {
                    task?.cancel()
                    promise.succeed(false)
                }
            }
        }
        return (try? promise.futureResult.wait()) ?? false
    }

    // MARK: clock (on the loop)

    private func startClock() {
        clockOrigin = .now()
        virtualOrigin = mailWorld.world.now
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: configuration.tick, delay: configuration.tick) { [self] _ in
            pump()
            for session in sessions { session.newTick() }
        }
    }

    /// Brings virtual time up to the wall clock, running what falls due, then writes the log.
    func pump() {
        eventLoop.assertInEventLoop()
        guard !pumping, !stopped, let origin = clockOrigin else { return }
        pumping = true
        defer { pumping = false }
        let elapsed = (NIODeadline.now() - origin).nanoseconds / 1_000
        let sim = mailWorld.world
        let target = max(sim.now, VirtualTime(microseconds: virtualOrigin.microseconds + elapsed))
        do {
            try sim.run(until: target)
        } catch {
            log("!! \(error)")
        }
        renderLogs(final: false)
    }

    private func renderLogs(final: Bool) {
        var finished: [ObjectIdentifier] = []
        for session in sessions {
            for line in session.log?.renderNew() ?? [] { log(line) }
            if session.isFinished || final {
                for line in session.log?.flush() ?? [] { log(line) }
                log("\(session.label) -- \(configuration.french ? "session terminée" : "session ended") --")
                finished.append(ObjectIdentifier(session))
            }
        }
        if !finished.isEmpty {
            sessions.removeAll { finished.contains(ObjectIdentifier($0)) }
        }
    }

    // MARK: sessions (on the loop)

    /// A real client connected on `port`: opens the virtual connection, or returns nil (and
    /// logs why) when the port already has its maximum of connections.
    func open(port: BridgedPort, channel: Channel) -> BridgeSession? {
        let peer = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        guard !stopped else { return nil }
        let count = openCounts[port.realPort, default: 0]
        if count >= configuration.maxConnectionsPerPort {
            log("-- \(peer) → \(port.realPort): " + (configuration.french
                ? "refusé (\(count) connexions déjà ouvertes sur ce port)"
                : "refused (\(count) connections already open on this port)") + " --")
            return nil
        }
        openCounts[port.realPort] = count + 1
        let session = BridgeSession(bridge: self, port: port, channel: channel)
        let virtual = mailWorld.world.connect(from: bridgeHost, to: port.hostName, port: port.virtualPort) {
            [weak session] event in session?.virtualEvent(event)
        }
        virtual.relaysExternalBytes = true
        session.virtual = virtual
        session.label = "#\(virtual.id)"
        if let tap = mailWorld.world.tap.connections.last(where: { $0.id == virtual.id }) {
            session.log = SessionLog(label: session.label, tap: tap, mailProtocol: port.service.mailProtocol,
                                     french: configuration.french)
        }
        log("\(session.label) == \(peer) → \(port.hostName):\(port.virtualPort) "
            + "(\(configuration.listenHostForURL):\(port.realPort), \(port.service.name)) ==")
        sessions.append(session)
        pump()
        return session
    }

    /// The real connection of `session` is gone.
    func released(_ session: BridgeSession) {
        openCounts[session.port.realPort, default: 1] -= 1
    }
}

/// One bridged connection: the real channel and the virtual connection (on the bridge's loop).
final class BridgeSession {
    unowned let bridge: LoopbackBridge
    let port: BridgedPort
    let channel: Channel
    var virtual: Connection?
    var log: SessionLog?
    var label = "#?"
    private(set) var channelClosed = false
    private var virtualEnded = false
    private var inputThisTick = 0
    private var readingPaused = false
    private var released = false

    init(bridge: LoopbackBridge, port: BridgedPort, channel: Channel) {
        self.bridge = bridge
        self.port = port
        self.channel = channel
    }

    var isFinished: Bool { channelClosed && (virtualEnded || virtual?.state == .closed) }

    // From the simulated server.
    func virtualEvent(_ event: ConnectionEvent) {
        switch event {
        case .connected, .tlsEstablished:
            break
        case let .data(bytes):
            guard !channelClosed else { return }
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        case .endOfStream:
            guard !channelClosed else { return }
            channel.close(mode: .output, promise: nil)
        case .closed:
            virtualEnded = true
            if !channelClosed { channel.close(promise: nil) }
        case .reset, .connectFailed:
            virtualEnded = true
            abortChannel()
        }
    }

    /// Closes the real connection with a RST (SO_LINGER 0), as the simulated end was aborted.
    private func abortChannel() {
        guard !channelClosed else { return }
        guard let options = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        options.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            .whenComplete { [channel] _ in channel.close(promise: nil) }
    }

    /// A new tick: the client may send again.
    func newTick() {
        inputThisTick = 0
        if readingPaused && !channelClosed {
            readingPaused = false
            channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }

    // From the real client.
    func clientSent(_ bytes: [UInt8]) {
        virtual?.write(bytes)
        inputThisTick += bytes.count
        if inputThisTick >= bridge.configuration.maxInputBytesPerTick && !readingPaused {
            readingPaused = true
            bridge.readPauses += 1
            channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        bridge.pump()
    }

    func clientShutOutput() {
        if let virtual, virtual.state != .closed {
            virtual.shutdownWrite()
        } else {
            channel.close(promise: nil)
        }
        bridge.pump()
    }

    func clientReset() {
        virtual?.reset()
        virtualEnded = true
        bridge.pump()
    }

    func channelInactive() {
        channelClosed = true
        if let virtual, virtual.state != .closed { virtual.close() }
        if !released {
            released = true
            bridge.released(self)
        }
        bridge.pump()
    }
}

/// The pipeline handler of an accepted real connection.
final class BridgeChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let bridge: LoopbackBridge
    private let port: BridgedPort
    private var session: BridgeSession?

    init(bridge: LoopbackBridge, port: BridgedPort) {
        self.bridge = bridge
        self.port = port
    }

    func channelActive(context: ChannelHandlerContext) {
        session = bridge.open(port: port, channel: context.channel)
        if session == nil { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let session, let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty else { return }
        session.clientSent(bytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            session?.clientShutOutput()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.channelInactive()
        session = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset by the real client (ECONNRESET) or any socket error aborts the virtual side too.
        session?.clientReset()
        context.close(promise: nil)
    }
}
