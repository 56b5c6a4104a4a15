import MailCore
/// A fault that can be applied now or scheduled at a virtual time.
public enum Fault: Equatable, Sendable {
    /// The host stops answering: new connections to it time out, segments to and from it wait
    /// (and the connections are aborted with `.timedOut` after ``World/stallTimeout``).
    /// Listeners are kept.
    case down(String)
    /// The host answers again; waiting segments are sent.
    case up(String)
    /// The host dies: each open connection sends a RST and its local end sees
    /// `.reset(.hostCrashed)`; listeners are forgotten (the services must listen again after
    /// ``up(_:)``); the host stays down until brought up.
    case crash(String)
    /// The two hosts cannot reach each other (both directions); like `down`, for one path only.
    case partition(String, String)
    case heal(String, String)
    /// Sets a link's latency, jitter and loss rate.
    case setLink(String, String, latency: VirtualDuration, jitter: VirtualDuration, lossRate: Double)
}

/// Errors of world set-up (programmer errors in scenarios, reported plainly).
public enum WorldError: Error, Equatable, CustomStringConvertible {
    case duplicateHost(String)
    case duplicateAddress(IPv4Address)
    case invalidAddress(String)
    case unknownHost(String)

    public var description: String {
        switch self {
        case let .duplicateHost(name): return "host \(name) is defined twice"
        case let .duplicateAddress(address): return "address \(address) is used twice"
        case let .invalidAddress(text): return "\(text) is not an IPv4 address"
        case let .unknownHost(name): return "no host named \(name)"
        }
    }
}

/// A simulated Internet: hosts, links, DNS, a certificate authority, one event loop and a wire
/// tap, all driven by one seed.
///
/// ```
/// let world = try World.defaultWorld(seed: 42)
/// world.host("mail.example.com")?.listen(port: 25) { conn in … }
/// try world.connect(from: "alice-laptop", to: "mail.example.com", port: 25) { event in … }
/// try world.runUntilIdle()
/// print(world.tap.transcript())
/// ```
public final class World {
    public let seed: UInt64
    /// The root generator; children come from ``SeededRandom/derive(label:)``.
    public let random: SeededRandom
    public let scheduler = Scheduler()
    public let dns = DNSZone()
    public let tap = WireTap()
    /// What the engines reported (`ProtocolFact`), bounded; see `record(_:context:)`.
    public var journal = FactJournal()
    /// The ends of the server engines' replies, per connection (what the server waits for next),
    /// bounded like the journal: the tutor, replay and bridge read them instead of reply text.
    public var replies = ReplyJournal()

    /// Unix time (seconds) of virtual instant zero: 2025-01-01T00:00:00Z unless changed.
    public var epochUnixSeconds: Int64 = 1_735_689_600
    /// Latency of links created without an explicit one.
    public var defaultLatency: VirtualDuration = .milliseconds(5)
    /// Latency between two ends on the same host.
    public var loopbackLatency: VirtualDuration = .microseconds(50)
    /// How long an unanswered connection attempt waits before `.connectFailed(.timedOut)`.
    public var connectTimeout: VirtualDuration = .seconds(30)
    /// How long segments may wait for a path (host down, partition) before the connection is
    /// aborted with `.reset(.timedOut)` on both ends.
    public var stallTimeout: VirtualDuration = .seconds(120)
    /// First retransmission timeout (doubles on each loss, RFC 6298 §5.5).
    public var retransmissionTimeout: VirtualDuration = .seconds(1)
    /// A segment lost more times than this in a row aborts its connection.
    public var maxRetransmissions: Int = 5

    /// Hosts in the order they were added.
    public private(set) var hosts: [Host] = []
    private var hostsByName: [String: Host] = [:]
    private var hostsByAddress: [IPv4Address: Host] = [:]
    /// Links by their two host names in order (a pair, so that a lookup builds no string).
    private var linksByKey: [LinkKey: Link] = [:]
    private struct LinkKey: Hashable {
        var first: String
        var second: String
    }
    private var openFlows: [TCPFlow] = []
    /// Every flow ever made (their ends point to them without owning them).
    private var allFlows: [TCPFlow] = []
    private var nextFlowID = 1
    private var ca: CertificateAuthority?

    public init(seed: UInt64) {
        self.seed = seed
        self.random = SeededRandom(seed: seed)
    }

    /// The current virtual time.
    public var now: VirtualTime { scheduler.now }

    /// Appends an engine's fact to the journal.
    public func record(_ fact: ProtocolFact, context: FactContext) {
        journal.append(fact, context: context)
    }

    /// Appends the end of a server reply on connection `session`, now.
    public func record(_ reply: ServerReply, session: Int) {
        replies.append(reply, session: session, time: .microseconds(now.microseconds))
    }

    /// Where a fact reported by the engine on `connection` happened, now.
    public func factContext(for connection: Connection, role: FactContext.Role) -> FactContext {
        // Host, port, session and peer are fixed for a connection's end: made once per role.
        if let origin = connection.factOrigin, origin.role == role {
            return FactContext(time: .microseconds(now.microseconds), origin: origin, tls: connection.isTLSEstablished)
        }
        let port = connection.side == .server ? connection.localAddress.port : connection.remoteAddress.port
        let known = connection.remoteHostName ?? host(at: connection.remoteAddress.address)?.name
        let peer = known ?? connection.remoteAddress.address.description
        let origin = FactContext.Origin(host: connection.host.name, port: port, session: connection.id, peer: peer, role: role)
        // A peer known only by its address may get a host later: that one is looked up each time.
        if known != nil { connection.factOrigin = origin }
        return FactContext(time: .microseconds(now.microseconds), origin: origin, tls: connection.isTLSEstablished)
    }

    /// Unix time in whole seconds of `time` (default: now), for `Date:` headers and logs.
    public func unixSeconds(at time: VirtualTime? = nil) -> Int64 {
        epochUnixSeconds + (time ?? now).microseconds / 1_000_000
    }

    /// A resolver over ``dns``.
    public var resolver: Resolver { Resolver(zone: dns) }

    /// The world's certificate authority, made on first use from the seed.
    public var certificateAuthority: CertificateAuthority {
        get throws {
            if let ca { return ca }
            let made = try CertificateAuthority(random: random)
            ca = made
            return made
        }
    }

    // MARK: hosts and links

    /// Adds a host. With `addDNS` an A record `name → address` is added too.
    @discardableResult
    public func addHost(_ name: String, address: String, addDNS: Bool = true) throws -> Host {
        guard let ip = IPv4Address(address) else { throw WorldError.invalidAddress(address) }
        let lower = name.lowercased()
        if host(lower) != nil { throw WorldError.duplicateHost(lower) }
        if hostsByAddress[ip] != nil { throw WorldError.duplicateAddress(ip) }
        let made = Host(world: self, name: lower, address: ip)
        hosts.append(made)
        hostsByName[lower] = made
        hostsByAddress[ip] = made
        if addDNS { dns.addA(lower, ip) }
        return made
    }

    /// The host with this name (case-insensitive) or dotted-quad address.
    public func host(_ nameOrAddress: String) -> Host? {
        if let ip = IPv4Address(nameOrAddress) { return hostsByAddress[ip] }
        return hostsByName[DNSZone.normalize(nameOrAddress)]
    }

    /// The host that owns `address`, if any.
    public func host(at address: IPv4Address) -> Host? { hostsByAddress[address] }

    /// The link between two hosts (made on first use with ``defaultLatency``, or
    /// ``loopbackLatency`` for a host and itself).
    public func link(_ a: String, _ b: String) -> Link {
        let x = DNSZone.normalize(a), y = DNSZone.normalize(b)
        let (first, second) = x <= y ? (x, y) : (y, x)
        if let link = linksByKey[LinkKey(first: first, second: second)] { return link }
        let key = first + "|" + second
        let made = Link(first, second, latency: first == second ? loopbackLatency : defaultLatency,
                        random: random.derive(label: "link:" + key))
        linksByKey[LinkKey(first: first, second: second)] = made
        return made
    }

    func pathIsUp(_ from: Host, _ to: Host) -> Bool {
        from.isUp && to.isUp && !link(from.name, to.name).isPartitioned
    }

    // MARK: connections

    /// Opens a connection from `source` to `target` (a host name or dotted-quad address) on
    /// `port`. The returned client end reports `.connected`, or `.connectFailed(_)`:
    /// `.refused` after one round trip when nothing listens, `.timedOut` after
    /// ``connectTimeout`` when the host is down, partitioned away or the address unused,
    /// `.unknownHost` for a name that is no host (at once).
    @discardableResult
    public func connect(from source: Host, to target: String, port: UInt16,
                        onEvent: ((ConnectionEvent) -> Void)? = nil) -> Connection {
        let literal = IPv4Address(target)
        let destination = literal.map { hostsByAddress[$0] } ?? hostsByName[DNSZone.normalize(target)]
        let unresolvable = destination == nil && literal == nil
        let serverAddress = SocketAddressV4(destination?.address ?? literal ?? IPv4Address(0), port)
        let clientAddress = SocketAddressV4(source.address, source.allocateEphemeralPort())
        let tapRecord = TapConnection(id: nextFlowID, client: clientAddress, server: serverAddress,
                                      clientHostName: source.name, serverHostName: destination?.name, openedAt: now,
                                      maximumBytes: tap.maximumBytesPerConnection)
        let flow = TCPFlow(id: nextFlowID, world: self, clientHost: source, serverHost: destination, tap: tapRecord)
        nextFlowID += 1
        let end = Connection(flow: flow, side: .client, host: source, local: clientAddress, remote: serverAddress,
                             remoteName: destination?.name)
        flow.client = end
        end.onEvent = onEvent
        if tap.isRecording { allFlows.append(flow) }  // kept for invariant checks only
        if unresolvable || !source.isUp {
            end.finish()
            end.emit(.connectFailed(unresolvable ? .unknownHost(target) : .localHostDown))
            return end
        }
        tap.open(tapRecord)
        source.endpoints.append(end)
        openFlows.append(flow)
        flow.startConnecting()
        return end
    }

    /// ``connect(from:to:port:onEvent:)`` naming the source host.
    /// - Throws: ``WorldError/unknownHost(_:)`` when `source` is no host.
    @discardableResult
    public func connect(from source: String, to target: String, port: UInt16,
                        onEvent: ((ConnectionEvent) -> Void)? = nil) throws -> Connection {
        connect(from: try require(source), to: target, port: port, onEvent: onEvent)
    }

    func flowFinished(_ flow: TCPFlow) {
        flow.tap.isFinished = true
        if let index = openFlows.firstIndex(where: { $0 === flow }) { openFlows.remove(at: index) }
    }

    /// Connections not yet finished, oldest first.
    public var openConnectionCount: Int { openFlows.count }

    /// Connections the world still keeps a record of (open ones and finished ones not yet
    /// forgotten, see ``forgetFinishedConnections(keepingLast:)``).
    public var recordedConnectionCount: Int { allFlows.count }

    /// Forgets finished connections but the `keep` most recent: they leave the list the
    /// invariant checks walk and the tap (a long real-time run, `maillab serve`, keeps a bounded
    /// window). Trims by half-windows: nothing is done until more than 2·`keep` finished
    /// connections are kept. Returns how many were forgotten.
    @discardableResult
    public func forgetFinishedConnections(keepingLast keep: Int) -> Int {
        let keep = max(keep, 0)
        guard allFlows.count > 2 * keep + openFlows.count else { return 0 }
        var finished = 0
        for flow in allFlows where flow.isFinished { finished += 1 }
        guard finished > 2 * keep else { return 0 }
        var toDrop = finished - keep
        var dropped = Set<Int>()
        allFlows.removeAll { flow in
            guard toDrop > 0, flow.isFinished else { return false }
            toDrop -= 1
            dropped.insert(flow.id)
            return true
        }
        tap.forget(connectionIDs: dropped)
        return dropped.count
    }

    // MARK: faults

    /// Applies a fault now.
    public func apply(_ fault: Fault) throws {
        switch fault {
        case let .down(name):
            try require(name).isUp = false
        case let .up(name):
            let host = try require(name)
            let crashed = host.listeners.isEmpty && !host.isUp
            host.isUp = true
            if crashed { for action in host.bootActions { action() } }
            pathsChanged()
        case let .crash(name):
            let victim = try require(name)
            for end in victim.endpoints {
                let direction: FlowDirection = end.side == .client ? .clientToServer : .serverToClient
                if end.state == .established || end.side == .server { end.flow.send(.rst, direction) }
                if end.state == .connecting { end.flow.connectionEstablishedOrRefused() }
                end.finish()
                end.emit(.reset(.hostCrashed))
                if end.flow.isFinished { flowFinished(end.flow) }
            }
            victim.endpoints = []
            victim.listeners = [:]
            victim.isUp = false
        case let .partition(a, b):
            _ = try require(a); _ = try require(b)
            link(a, b).isPartitioned = true
        case let .heal(a, b):
            _ = try require(a); _ = try require(b)
            link(a, b).isPartitioned = false
            pathsChanged()
        case let .setLink(a, b, latency, jitter, lossRate):
            _ = try require(a); _ = try require(b)
            let l = link(a, b)
            l.latency = latency
            l.jitter = jitter
            l.lossRate = min(max(lossRate, 0), 1)
        }
    }

    /// Schedules a fault at a virtual time. Names are checked now, so a typo fails at once.
    @discardableResult
    public func schedule(_ fault: Fault, at time: VirtualTime) throws -> ScheduledEvent {
        switch fault {
        case let .down(n), let .up(n), let .crash(n): _ = try require(n)
        case let .partition(a, b), let .heal(a, b), let .setLink(a, b, _, _, _): _ = try require(a); _ = try require(b)
        }
        return scheduler.schedule(at: time) { [self] in try? apply(fault) }
    }

    public func takeDown(_ name: String) throws { try apply(.down(name)) }
    public func bringUp(_ name: String) throws { try apply(.up(name)) }
    public func crash(_ name: String) throws { try apply(.crash(name)) }
    public func partition(_ a: String, _ b: String) throws { try apply(.partition(a, b)) }
    public func heal(_ a: String, _ b: String) throws { try apply(.heal(a, b)) }

    private func require(_ name: String) throws -> Host {
        guard let found = host(name) else { throw WorldError.unknownHost(name) }
        return found
    }

    private func pathsChanged() {
        for flow in openFlows { flow.pathMayHaveReturned() }
    }

    // MARK: invariants

    /// Internal consistency problems (empty when sound); cheap enough to check in every test.
    /// Checks that every open end is listed on its host and only there, that finished
    /// connections are not counted as open, and that open connections have an open end.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        for host in hosts {
            for end in host.endpoints {
                if end.state == .closed { problems.append("\(host.name) lists a closed end: \(end)") }
                if end.host !== host { problems.append("\(host.name) lists an end of \(end.host.name): \(end)") }
            }
        }
        for flow in allFlows {
            for end in [flow.client, flow.server].compactMap({ $0 }) {
                let listed = end.host.endpoints.contains { $0 === end }
                if (end.state != .closed) != listed {
                    problems.append("end \(end) is \(end.state) but \(listed ? "" : "not ")listed on its host")
                }
            }
            let open = openFlows.contains { $0 === flow }
            if flow.isFinished && open { problems.append("finished connection #\(flow.id) still counted as open") }
        }
        return problems
    }

    // MARK: running

    public func step() -> Bool { scheduler.step() }
    public func runUntilIdle(maxSteps: Int? = nil) throws { try scheduler.runUntilIdle(maxSteps: maxSteps) }
    public func run(until time: VirtualTime, maxSteps: Int? = nil) throws { try scheduler.run(until: time, maxSteps: maxSteps) }
    public func run(for duration: VirtualDuration, maxSteps: Int? = nil) throws { try scheduler.run(for: duration, maxSteps: maxSteps) }

    // MARK: exports

    /// The tap's transcript (see ``WireTap/transcript(view:)``).
    public func transcript(view: WireTap.TranscriptView = .inside, language: SimLanguage = .en) -> String {
        tap.transcript(view: view, language: language)
    }

    /// The tap as a pcap file, timestamps offset by ``epochUnixSeconds``.
    public func pcap() -> [UInt8] { PcapWriter.capture(tap.connections, epochUnixSeconds: epochUnixSeconds) }
}
