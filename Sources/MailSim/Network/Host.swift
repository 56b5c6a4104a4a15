import MailCore

/// What a listener does with a connection it accepts (a fault for tests and scenarios).
public enum AcceptThenDrop: Equatable, Sendable {
    /// Accept, then close at once with a FIN (the service never sees the connection).
    case closeImmediately
    /// Accept, then reset at once (the service never sees the connection).
    case resetImmediately
    /// Hand the connection to the service as usual, but reset it as soon as the server has
    /// received `bytes` bytes from the client (only the first `bytes` bytes are delivered).
    case resetAfterReceiving(bytes: Int)
}

/// Options of a listening port.
public struct ListenOptions: Equatable, Sendable {
    /// Accept-then-drop fault, or nil for a well-behaved listener.
    public var drop: AcceptThenDrop?
    public init(drop: AcceptThenDrop? = nil) { self.drop = drop }
}

/// A simulated machine: a name, one IPv4 address, an up/down state and listening ports.
///
/// Services (SMTP, POP3, IMAP engines) attach by calling ``listen(port:options:accept:)``; the
/// accept handler receives the server end of every new ``Connection``.
public final class Host {
    /// Lower-case host name, e.g. `mail.example.com`.
    public let name: String
    public let address: IPv4Address
    /// False after ``World/takeDown(_:)`` or ``World/crash(_:)`` until ``World/bringUp(_:)``.
    public internal(set) var isUp: Bool = true
    /// This host's own generator, derived from the world seed with label `host:<name>`.
    public var random: SeededRandom

    /// The world owns this object and outlives it (see ``Connection``): no reference counting.
    unowned(unsafe) let world: World
    var listeners: [UInt16: Listener] = [:]
    var nextEphemeralPort: UInt16 = Host.firstEphemeralPort
    /// Open connection ends on this host, in the order they were made.
    var endpoints: [Connection] = []

    /// Ephemeral ports are handed out from here upward (IANA dynamic range, RFC 6335 §6).
    public static let firstEphemeralPort: UInt16 = 49152

    struct Listener {
        var options: ListenOptions
        var accept: (Connection) -> Void
    }

    init(world: World, name: String, address: IPv4Address) {
        self.world = world
        self.name = name
        self.address = address
        self.random = world.random.derive(label: "host:" + name)
    }

    /// Starts listening on `port`; `accept` runs (inside the scheduler) for each connection that
    /// completes its handshake. Listening again on the same port replaces the handler.
    public func listen(port: UInt16, options: ListenOptions = .init(), accept: @escaping (Connection) -> Void) {
        listeners[port] = Listener(options: options, accept: accept)
    }

    /// Stops listening; later connection attempts to `port` are refused. Open connections stay.
    public func stopListening(port: UInt16) {
        listeners[port] = nil
    }

    /// Ports with a listener, ascending.
    public var listeningPorts: [UInt16] { listeners.keys.sorted() }

    /// What the host's services do when it boots again after a crash (listen again, look at
    /// their queues), in the order they were registered.
    var bootActions: [() -> Void] = []

    /// Registers a service's start-up, run each time the host comes back up after a crash.
    public func onBoot(_ action: @escaping () -> Void) { bootActions.append(action) }

    /// Changes the options of an existing listener (no effect when nothing listens on `port`).
    public func setListenOptions(_ options: ListenOptions, port: UInt16) {
        listeners[port]?.options = options
    }

    /// Open connection ends on this host.
    public var openConnections: [Connection] { endpoints }

    func allocateEphemeralPort() -> UInt16 {
        // The next port is nearly always free: one look through the open ends, rather than a
        // set of all their ports built for every connection.
        for _ in 0..<(65536 - Int(Host.firstEphemeralPort)) {
            let port = nextEphemeralPort
            nextEphemeralPort = port == UInt16.max ? Host.firstEphemeralPort : port + 1
            if !endpoints.contains(where: { $0.localAddress.port == port }) { return port }
        }
        // Every ephemeral port is busy: reuse the next one (cannot happen with bounded runs).
        return nextEphemeralPort
    }
}

/// The path between two hosts (or a host and itself): latency and seeded faults.
///
/// Loss model: TCP is reliable, so a lost segment is not missing from the stream; it arrives
/// late, after one retransmission timeout per loss (doubling each time, RFC 6298 §5.5), and later
/// segments wait behind it (order is kept per direction). A segment lost more than
/// ``World/maxRetransmissions`` times in a row aborts the connection (both ends see
/// `.reset(.timedOut)`), like a TCP stack giving up.
public final class Link {
    /// The two host names, sorted.
    public let endpoints: (String, String)
    /// One-way delay of every segment.
    public var latency: VirtualDuration
    /// Extra one-way delay drawn uniformly in `0...jitter` per segment from the link's generator.
    public var jitter: VirtualDuration = .zero
    /// Probability (0...1) that a segment is lost once (see the loss model above).
    public var lossRate: Double = 0
    /// True while the two hosts cannot reach each other (``World/partition(_:_:)``).
    public internal(set) var isPartitioned: Bool = false
    /// The link's own generator, label `link:<a>|<b>`.
    public var random: SeededRandom

    init(_ a: String, _ b: String, latency: VirtualDuration, random: SeededRandom) {
        endpoints = (a, b)
        self.latency = latency
        self.random = random
    }
}
