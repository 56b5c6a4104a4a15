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
    /// Connections open at once on one real port (Postfix's `default_process_limit`, Dovecot's
    /// `process_limit`); more are accepted and closed at once, unless an idle connection that
    /// never logged in can make room (see ``busyIdleTimeout``).
    public var maxConnectionsPerPort = 64
    /// Connections open at once on one real port from one client address (Postfix's
    /// `smtpd_client_connection_count_limit`, Dovecot's `mail_max_userip_connections`).
    public var maxConnectionsPerClientAddress = 16
    /// A connection that has not logged in (and every port-25 connection) is closed after this
    /// long without a byte from its client (Dovecot's login processes, Postfix's `smtpd_timeout`
    /// are longer: the engines keep theirs for logged-in sessions).
    public var preLoginIdleTimeout: TimeAmount = .seconds(60)
    /// When a port holds three quarters of ``maxConnectionsPerPort`` or more, connections that
    /// have not logged in are closed after this long without a byte from their client, and a
    /// newcomer on a full port takes the place of the one idle the longest (Postfix's stress
    /// mode: `smtpd_timeout = ${stress?10}`): silent sockets cannot lock a port.
    public var busyIdleTimeout: TimeAmount = .seconds(10)
    /// How often the idle timeouts above are checked.
    public var housekeepingInterval: TimeAmount = .seconds(1)
    /// How far virtual time may run ahead of the wall clock. Whenever bytes arrive, the world
    /// runs at once every event due before `wall clock + maxLead`, so latencies below it cost
    /// no real time; later events (timeouts, retries, long links) wait for their real time.
    public var maxLead: VirtualDuration = .milliseconds(2)
    /// The simulated host real clients appear to come from.
    public var bridgeHostName = "bridge"
    /// Its address (TEST-NET-1, RFC 5737).
    public var bridgeAddress = "192.0.2.200"
    /// One-way latency between the bridge host and the servers (loopback-like by default;
    /// `maillab serve --latency` sets it for a lesson).
    public var bridgeLatency: VirtualDuration = .microseconds(25)
    /// When set, virtual instant "now" is given this Unix time, so the dates in messages and
    /// replies match the real clock (nil keeps the world's own epoch, as tests want).
    public var wallClockUnixSeconds: Int64?
    /// Language of the log's markers.
    public var french = false
    /// Finished connections the world and its tap keep once logged (a window for the live view;
    /// older ones are forgotten so that a long run's memory stays bounded).
    public var finishedConnectionsKept = 128
    /// Bytes of application data the tap keeps per bridged connection (beyond, the log notes
    /// the limit and stops logging that connection's bytes).
    public var tapBytesPerConnection = 16 * 1024 * 1024

    /// The listen address as it is written before `:port` (IPv6 in brackets, RFC 3986 §3.2.2).
    public var listenHostForURL: String {
        listenAddress.utf8.contains(UInt8(ascii: ":")) ? "[\(listenAddress)]" : listenAddress
    }
    /// Bytes a real client may push into the world per ``inputWindow``; beyond, its socket is
    /// not read until the window ends (bounds what waits inside the simulation).
    public var maxInputBytesPerWindow = 1 << 20
    public var inputWindow: TimeAmount = .milliseconds(10)
    /// Bytes from the simulated server waiting to be sent to a real client that does not read;
    /// beyond, the connection is reset (the simulation has no flow control).
    public var maxPendingOutputBytes = 32 * 1024 * 1024

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
/// on it, and ``withWorld(_:)`` runs on it, so the world (which is not thread-safe) is only
/// ever touched from that one thread. Virtual time follows the wall clock, event-driven: bytes
/// from a client run the world at once (up to ``BridgeConfiguration/maxLead`` ahead of the
/// wall clock), and a timer wakes the loop when the next simulated event falls due.
public final class LoopbackBridge: @unchecked Sendable {
    public let configuration: BridgeConfiguration
    /// The real ports, host by host.
    public let ports: [BridgedPort]
    /// Logins real clients may use, by domain then login.
    public private(set) var accounts: [BridgeAccount]
    /// The world CA's certificate (PEM), for the clients' trust store.
    public let certificateAuthorityPEM: String
    /// The loop that owns the world.
    public let eventLoop: EventLoop

    private let group: MultiThreadedEventLoopGroup
    private let mailWorld: MailWorld
    private let bridgeHost: MailSim.Host
    private let log: @Sendable (String) -> Void
    private let flushLog: (@Sendable () -> Void)?
    /// Where the sessions' lines go as bytes (lines ended by line feeds), when set; else to `log`.
    private let logBytes: (@Sendable ([UInt8]) -> Void)?
    private let listenerLock = NSLock()
    private var listenerChannels: [Channel] = []

    // Confined to `eventLoop`.
    private var openCounts: [Int: Int] = [:]
    private var openPerAddress: [String: Int] = [:]
    private var sessions: [BridgeSession] = []
    private var clockOrigin: NIODeadline?
    private var virtualOrigin: VirtualTime = .zero
    private var wakeup: Scheduled<Void>?
    private var wakeupDeadline: NIODeadline?
    private var housekeeping: RepeatedTask?
    private var pumping = false
    private var stopped = false
    /// Times a client's reading was paused by ``BridgeConfiguration/maxInputBytesPerWindow``.
    var readPauses = 0
    /// Connections closed by the bridge's own limits (idle before login, output not read).
    var closedByLimits = 0
    /// Steps run by one pump at most before it lets the loop serve sockets again.
    static let stepsPerPump = 100_000
    /// Called on the loop after each pump (the live view, `observe(every:_:)` in WebLiveBridge.swift).
    var pumpObserver: ((MailWorld) -> Void)?

    /// Prepares the bridge for `world` (not yet listening). The world must not be used by the
    /// caller afterwards except through ``withWorld(_:)``. `flush` (optional) is called after
    /// each batch of log lines. `logBytes` (optional) takes the sessions' lines as one run of
    /// bytes per pump, each line ended by a line feed, instead of one `log` call per line.
    /// - Throws: ``BridgeError`` for a bad offset or exposed host, or a world error when the
    ///   bridge host's name or address is taken.
    public init(world: MailWorld, configuration: BridgeConfiguration = .init(),
                log: @escaping @Sendable (String) -> Void, flush: (@Sendable () -> Void)? = nil,
                logBytes: (@Sendable ([UInt8]) -> Void)? = nil) throws {
        self.configuration = configuration
        self.mailWorld = world
        self.log = log
        self.flushLog = flush
        self.logBytes = logBytes
        let sim = world.world
        sim.tap.tracksChanges = true  // the session logs read only the connections that changed
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
        sim.tap.maximumBytesPerConnection = configuration.tapBytesPerConnection
        accounts = Self.accounts(of: world)
        certificateAuthorityPEM = try sim.certificateAuthority.certificatePEM
        if let unix = configuration.wallClockUnixSeconds {
            sim.epochUnixSeconds = unix - sim.now.microseconds / 1_000_000
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
    }

    static func accounts(of world: MailWorld) -> [BridgeAccount] {
        var accounts: [BridgeAccount] = []
        for domain in world.stores.keys.sorted() {
            guard let store = world.stores[domain] else { continue }
            for (login, password) in store.credentialsForSubmission() {
                let candidate = "\(login)@\(domain)"
                let address = store.account(forAddress: candidate) == login ? candidate : nil
                accounts.append(BridgeAccount(login: login, password: password, domain: domain, address: address))
            }
        }
        return accounts
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
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
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
            self.wakeup?.cancel()
            self.wakeup = nil
            self.housekeeping?.cancel()
            self.housekeeping = nil
            var futures = listeners.map { $0.close() }
            for session in self.sessions {
                session.virtual?.close()
                futures.append(session.channel.close())
            }
            self.renderLogs(final: true)
            self.flushLog?()
            return futures
        }.wait()) ?? []
        for future in closing { _ = try? future.wait() }
        try? group.syncShutdownGracefully()
    }

    /// Runs `body` with the world on the bridge's loop, after bringing virtual time up to date.
    public func withWorld<T>(_ body: @escaping (MailWorld) throws -> T) throws -> T {
        try eventLoop.submit { () throws -> T in
            self.pump()
            defer { self.pump() }
            return try body(self.mailWorld)
        }.wait()
    }

    /// Adds accounts to the world (``MailWorld/addUser(address:login:password:quotaBytes:)``)
    /// on the bridge's loop and lists them in ``accounts``.
    public func addAccounts(_ made: [(address: String, login: String, password: String)]) throws {
        try eventLoop.submit {
            for account in made {
                try self.mailWorld.addUser(address: account.address, login: account.login, password: account.password)
            }
            self.accounts = Self.accounts(of: self.mailWorld)
        }.wait()
    }

    /// How many times reading from a client was paused for sending too fast.
    public func readPauseCount() -> Int {
        (try? eventLoop.submit { self.readPauses }.wait()) ?? 0
    }

    /// The bridge's and the world's table sizes (for tests and the soak benchmark).
    public struct TableSizes: Sendable, Equatable {
        /// Bridged connections not yet logged to their end.
        public var sessions: Int
        /// Connections the world keeps (open and recent finished ones).
        public var worldConnections: Int
        /// Connections in the world's tap.
        public var tapConnections: Int
        /// Open virtual connections.
        public var openConnections: Int
    }

    public func tableSizes() -> TableSizes {
        (try? eventLoop.submit {
            TableSizes(sessions: self.sessions.count, worldConnections: self.mailWorld.world.recordedConnectionCount,
                       tapConnections: self.mailWorld.world.tap.connections.count,
                       openConnections: self.mailWorld.world.openConnectionCount)
        }.wait()) ?? TableSizes(sessions: 0, worldConnections: 0, tapConnections: 0, openConnections: 0)
    }

    /// Connections the bridge closed for its own limits (idle before login, unread output).
    public func closedByLimitsCount() -> Int {
        (try? eventLoop.submit { self.closedByLimits }.wait()) ?? 0
    }

    /// Waits until `condition` holds on the world (checked every 5 ms) or `timeout` passes.
    /// Returns whether it held.
    public func wait(timeout: TimeAmount, until condition: @escaping (MailWorld) -> Bool) -> Bool {
        let promise = eventLoop.makePromise(of: Bool.self)
        eventLoop.execute {
            let deadline = NIODeadline.now() + timeout
            var task: RepeatedTask?
            task = self.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { _ in
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
        housekeeping = eventLoop.scheduleRepeatedTask(initialDelay: configuration.housekeepingInterval,
                                                      delay: configuration.housekeepingInterval) { [self] _ in
            closeIdleSessions()
        }
        pump()
    }

    /// The virtual instant the wall clock is at now.
    private func wallVirtualNow() -> VirtualTime? {
        guard let origin = clockOrigin else { return nil }
        let elapsed = (NIODeadline.now() - origin).nanoseconds / 1_000
        return VirtualTime(microseconds: virtualOrigin.microseconds + elapsed)
    }

    /// Brings virtual time up to the wall clock and runs every event due before
    /// `wall clock + maxLead`, then writes the log and sets the timer for the next event.
    func pump() {
        eventLoop.assertInEventLoop()
        guard !pumping, !stopped, let wallNow = wallVirtualNow() else { return }
        pumping = true
        defer { pumping = false }
        let sim = mailWorld.world
        let horizon = wallNow + configuration.maxLead
        var steps = 0
        do {
            if wallNow > sim.now { try sim.run(until: wallNow) }
            while steps < Self.stepsPerPump, let next = sim.scheduler.nextEventTime, next <= horizon {
                sim.step()
                steps += 1
            }
        } catch {
            log("!! \(error)")
        }
        flushSockets()
        pumpObserver?(mailWorld)
        renderLogs(final: false)
        scheduleWakeup(busy: steps >= Self.stepsPerPump)
    }

    /// Connections that got data from their simulated server during this pump.
    private var toFlush = BatchList<BridgeSession>()

    func queueFlush(_ session: BridgeSession) { toFlush.append(session) }

    /// Hands each connection's data of this pump to its socket, one flush per connection.
    private func flushSockets() {
        guard !toFlush.isEmpty else { return }
        var sessions = toFlush.take()
        for session in sessions where session.flushQueued {
            session.flushQueued = false
            session.channel.flush()
        }
        toFlush.recycle(&sessions)
    }

    /// Sets the one timer that wakes the loop when the next simulated event falls due (at once
    /// when a pump stopped at its step budget, so sockets are served in between).
    private func scheduleWakeup(busy: Bool) {
        guard let origin = clockOrigin, !stopped else { return }
        let deadline: NIODeadline
        if busy {
            deadline = .now()
        } else {
            guard let next = mailWorld.world.scheduler.nextEventTime else { return }
            let due = next.microseconds - virtualOrigin.microseconds - configuration.maxLead.microseconds
            deadline = origin + .microseconds(max(due, 0))
        }
        if let current = wakeupDeadline, current <= deadline { return }
        wakeup?.cancel()
        wakeupDeadline = deadline
        wakeup = eventLoop.scheduleTask(deadline: deadline) { [self] in
            wakeupDeadline = nil
            wakeup = nil
            pump()
        }
    }

    /// The lines of one ``renderLogs(final:)``; its capacity is kept up to 256 kB.
    private var logBuffer: [UInt8] = []
    static let logBufferKept = 256 * 1024

    /// The session log of each bridged connection not yet logged to its end, by virtual
    /// connection id (the world's reply journal names connections by id).
    private var sessionLogs: [Int: SessionLog] = [:]
    /// Sessions whose real connection is closed and whose end is not logged yet.
    private var closedSessions = BatchList<BridgeSession>()

    /// The real connection of `session` closed: its end is logged once the virtual one ends too.
    func noteChannelClosed(_ session: BridgeSession) { closedSessions.append(session) }

    /// Where ``renderLogs(final:)`` stopped reading the world's reply journal.
    private var replyCursor = 0

    private func renderLogs(final: Bool) {
        var finished = false
        var wrote = false
        // The servers' replies (what each awaits next) reach the logs before their octets.
        let journal = mailWorld.world.replies
        let records = journal.records(since: replyCursor)
        replyCursor = journal.nextSequence
        for record in records { sessionLogs[record.session]?.expect(record.reply) }
        // Every session's new lines go into one buffer, handed over once (in this order).
        logBuffer.removeAll(keepingCapacity: logBuffer.capacity <= Self.logBufferKept)
        // Only the connections that recorded something since the last pump have new lines.
        mailWorld.world.tap.forEachChanged { sessionLogs[$0.id]?.renderNew(into: &logBuffer) }
        // A session can end only once its real connection is closed.
        var closed = closedSessions.take()
        defer { closedSessions.recycle(&closed) }
        for session in final ? sessions : closed where !session.logged {
            if session.isFinished || final {
                session.log?.renderNew(into: &logBuffer)
                session.log?.flush(into: &logBuffer)
                logBuffer.append(contentsOf: "\(session.label) -- \(configuration.french ? "session terminée" : "session ended") --\n".utf8)
                session.logged = true
                finished = true
            } else {
                closedSessions.append(session)
            }
        }
        if !logBuffer.isEmpty {
            wrote = true
            if let logBytes {
                logBytes(logBuffer)
            } else {
                for line in SessionLog.lines(logBuffer) { log(line) }
            }
        }
        if finished {
            for session in sessions where session.logged {
                if let id = session.virtual?.id { sessionLogs[id] = nil }
            }
            sessions.removeAll { $0.logged }
            // Logged connections leave the world's tables but a window of recent ones.
            mailWorld.world.forgetFinishedConnections(keepingLast: configuration.finishedConnectionsKept)
        }
        if wrote { scheduleLogFlush(final: final) }
    }

    /// When the log was last handed to the disk, and whether a flush is already on its way.
    private var lastLogFlush = NIODeadline.distantPast
    private var logFlushScheduled = false
    /// At most one log write every 20 ms under load (one per pump cost a quarter of the time at
    /// 2,000 messages per second); the sink rotates between lines, so `--log-max` still holds.
    static let logFlushInterval = TimeAmount.milliseconds(20)

    private func scheduleLogFlush(final: Bool) {
        let now = NIODeadline.now()
        if final || now - lastLogFlush >= Self.logFlushInterval {
            lastLogFlush = now
            flushLog?()
            return
        }
        guard !logFlushScheduled else { return }
        logFlushScheduled = true
        eventLoop.scheduleTask(deadline: lastLogFlush + Self.logFlushInterval) { [self] in
            logFlushScheduled = false
            lastLogFlush = .now()
            flushLog?()
        }
    }

    // MARK: limits (on the loop)

    private func say(_ fr: String, _ en: String) -> String { configuration.french ? fr : en }

    /// A port under stress holds three quarters of its connections or more.
    private func isBusy(_ realPort: Int) -> Bool {
        openCounts[realPort, default: 0] * 4 >= configuration.maxConnectionsPerPort * 3
    }

    /// Where ``noteLogins()`` stopped reading the world's fact journal.
    private var factCursor = 0

    /// Marks the sessions whose server engine reported a successful login (`authSucceeded`, or an
    /// IMAP `PREAUTH` greeting as the state `authenticated`): facts from the engines, not the
    /// dialogue re-read. A connection id is shared by both ends of a virtual connection.
    private func noteLogins() {
        let journal = mailWorld.world.journal
        let records = journal.records(since: factCursor)
        factCursor = journal.nextSequence
        var ids: Set<Int> = []
        for record in records where record.context.role == .server {
            switch record.fact {
            case .session(.authSucceeded), .imap(.state(.authenticated)): ids.insert(record.context.session)
            default: break
            }
        }
        guard !ids.isEmpty else { return }
        for session in sessions where !session.authenticated {
            if let id = session.virtual?.id, ids.contains(id) { session.authenticated = true }
        }
    }

    /// Closes connections that never logged in and whose client is silent for too long.
    private func closeIdleSessions() {
        noteLogins()
        let now = NIODeadline.now()
        for session in sessions where !session.isReleased && !session.authenticated {
            let idle = now - session.lastInput
            if idle >= configuration.preLoginIdleTimeout {
                session.closeForLimit(say("fermée : aucun octet du client depuis \(idle.nanoseconds / 1_000_000_000) s avant connexion",
                                          "closed: no byte from the client for \(idle.nanoseconds / 1_000_000_000) s before login"))
            } else if idle >= configuration.busyIdleTimeout && isBusy(session.port.realPort) {
                session.closeForLimit(say("fermée : inactive avant connexion alors que le port est chargé",
                                          "closed: idle before login while the port is busy"))
            }
        }
    }

    /// On a full port, closes the connection that never logged in and is idle the longest, if
    /// it is idle for at least ``BridgeConfiguration/busyIdleTimeout``. Returns whether one was closed.
    private func makeRoom(on realPort: Int) -> Bool {
        noteLogins()
        let now = NIODeadline.now()
        let candidates = sessions.filter {
            $0.port.realPort == realPort && !$0.isReleased && !$0.authenticated
                && now - $0.lastInput >= configuration.busyIdleTimeout
        }
        guard let oldest = candidates.min(by: { $0.lastInput < $1.lastInput }) else { return false }
        oldest.closeForLimit(say("fermée : inactive avant connexion, sa place est donnée à un nouveau client",
                                 "closed: idle before login, its place goes to a new client"))
        return true
    }

    // MARK: sessions (on the loop)

    /// A real client connected on `port`: opens the virtual connection, or returns nil (and
    /// logs why) when the port or the client's address already has its maximum of connections.
    func open(port: BridgedPort, channel: Channel) -> BridgeSession? {
        let remote = channel.remoteAddress
        let address = remote?.ipAddress ?? "?"
        let peer = remote.map { "\(address):\($0.port ?? 0)" } ?? "?"
        guard !stopped else { return nil }
        let addressKey = "\(port.realPort) \(address)"
        let fromAddress = openPerAddress[addressKey, default: 0]
        if fromAddress >= configuration.maxConnectionsPerClientAddress {
            log("-- \(peer) → \(port.realPort): " + say(
                "refusé (\(fromAddress) connexions déjà ouvertes depuis \(address) sur ce port)",
                "refused (\(fromAddress) connections already open from \(address) on this port)") + " --")
            return nil
        }
        let count = openCounts[port.realPort, default: 0]
        if count >= configuration.maxConnectionsPerPort && !makeRoom(on: port.realPort) {
            log("-- \(peer) → \(port.realPort): " + say(
                "refusé (\(count) connexions déjà ouvertes sur ce port)",
                "refused (\(count) connections already open on this port)") + " --")
            return nil
        }
        openCounts[port.realPort, default: 0] += 1
        openPerAddress[addressKey, default: 0] += 1
        let session = BridgeSession(bridge: self, port: port, channel: channel, addressKey: addressKey)
        let virtual = mailWorld.world.connect(from: bridgeHost, to: port.hostName, port: port.virtualPort) {
            [weak session] event in session?.virtualEvent(event)
        }
        virtual.relaysExternalBytes = true
        session.virtual = virtual
        session.label = "#\(virtual.id)"
        if let tap = mailWorld.world.tap.connections.last, tap.id == virtual.id {
            let log = SessionLog(label: session.label, tap: tap, mailProtocol: port.service.mailProtocol,
                                 french: configuration.french)
            session.log = log
            sessionLogs[virtual.id] = log
        }
        log("\(session.label) == \(peer) → \(port.hostName):\(port.virtualPort) "
            + "(\(configuration.listenHostForURL):\(port.realPort), \(port.service.name)) ==")
        sessions.append(session)
        pump()
        return session
    }

    /// The real connection of `session` is gone (or being closed by a limit): its place is free.
    func released(_ session: BridgeSession) {
        openCounts[session.port.realPort, default: 1] -= 1
        let left = openPerAddress[session.addressKey, default: 1] - 1
        openPerAddress[session.addressKey] = left > 0 ? left : nil
    }

    /// The log line of a connection closed by a limit.
    func closedForLimit(_ session: BridgeSession, _ reason: String) {
        closedByLimits += 1
        log("\(session.label) -- \(reason) --")
    }
}

/// One bridged connection: the real channel and the virtual connection (on the bridge's loop).
final class BridgeSession {
    unowned let bridge: LoopbackBridge
    let port: BridgedPort
    let channel: Channel
    /// `realPort address`, for the per-address count.
    let addressKey: String
    var virtual: Connection?
    var log: SessionLog?
    var label = "#?"
    /// Set once the end of the session is in the log.
    var logged = false
    /// When the client last sent a byte (its connection time before that).
    private(set) var lastInput = NIODeadline.now()
    private(set) var channelClosed = false
    private var virtualEnded = false
    private var inputThisWindow = 0
    private var windowStart = NIODeadline.now()
    private var readingPaused = false
    private(set) var isReleased = false
    /// Data written to the channel and not flushed yet (``LoopbackBridge/flushSockets()``).
    var flushQueued = false

    init(bridge: LoopbackBridge, port: BridgedPort, channel: Channel, addressKey: String) {
        self.bridge = bridge
        self.port = port
        self.channel = channel
        self.addressKey = addressKey
    }

    var isFinished: Bool { channelClosed && (virtualEnded || virtual?.state == .closed) }
    /// True once the server engine reported a login on this connection (``LoopbackBridge/noteLogins()``):
    /// the bridge gives connections that never logged in shorter idle timeouts.
    var authenticated = false

    // From the simulated server.
    func virtualEvent(_ event: ConnectionEvent) {
        switch event {
        case .connected, .tlsEstablished:
            break
        case let .data(bytes):
            guard !channelClosed, !isReleased else { return }
            // What the socket has not taken yet, written or still to flush (NIO counts it; the
            // bridge and the channels share one event loop, so the option is read in place).
            let pendingOutput = (try? channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
            if pendingOutput + bytes.count > bridge.configuration.maxPendingOutputBytes {
                closeForLimit(bridge.configuration.french
                    ? "réinitialisée : le client ne lit pas ce que le serveur lui envoie (\(pendingOutput) octets en attente)"
                    : "reset: the client does not read what the server sends (\(pendingOutput) bytes waiting)")
                return
            }
            // Written now, flushed once at the end of the pump that produced it (with whatever
            // else this connection got in the same pump): one system call, not one per reply.
            channel.write(channel.allocator.buffer(bytes: bytes), promise: nil)
            if !flushQueued {
                flushQueued = true
                bridge.queueFlush(self)
            }
        case .endOfStream:
            guard !channelClosed else { return }
            channel.flush()
            channel.close(mode: .output, promise: nil)
        case .closed:
            virtualEnded = true
            if !channelClosed {
                channel.flush()
                channel.close(promise: nil)
            }
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

    /// A limit of the bridge ends this connection: its place is freed now, the virtual
    /// connection is reset and the real one closed with a RST.
    func closeForLimit(_ reason: String) {
        guard !isReleased else { return }
        bridge.closedForLimit(self, reason)
        release()
        if let virtual, virtual.state != .closed { virtual.reset() }
        virtualEnded = true
        abortChannel()
    }

    private func release() {
        if !isReleased {
            isReleased = true
            bridge.released(self)
        }
    }

    // From the real client.
    func clientSent(_ bytes: [UInt8]) {
        guard !isReleased else { return }
        let now = NIODeadline.now()
        lastInput = now
        virtual?.write(bytes)
        if now - windowStart >= bridge.configuration.inputWindow {
            windowStart = now
            inputThisWindow = 0
        }
        inputThisWindow += bytes.count
        if inputThisWindow >= bridge.configuration.maxInputBytesPerWindow && !readingPaused {
            readingPaused = true
            bridge.readPauses += 1
            channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            let resume = windowStart + bridge.configuration.inputWindow
            channel.eventLoop.scheduleTask(deadline: resume) { [weak self] in self?.resumeReading() }
        }
        bridge.pump()
    }

    /// The input window ended: the client may send again.
    private func resumeReading() {
        windowStart = .now()
        inputThisWindow = 0
        guard readingPaused, !channelClosed else { return }
        readingPaused = false
        channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
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
        if !channelClosed { bridge.noteChannelClosed(self) }
        channelClosed = true
        if let virtual, virtual.state != .closed { virtual.close() }
        release()
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
