/// Direction of travel on a connection.
public enum FlowDirection: Equatable, Sendable {
    case clientToServer, serverToClient
    var reversed: FlowDirection { self == .clientToServer ? .serverToClient : .clientToServer }
}

/// What travels through a pipe: the TCP events the simulation models.
enum Segment {
    case synAck
    /// The client's ACK completing the three-way handshake; the server accepts when it arrives.
    case ack
    case data([UInt8])
    case fin
    case rst
}

/// The shared state of one TCP connection: the two ends, the two ordered pipes, timers, and
/// the tap record. Internal; applications only see ``Connection``.
final class TCPFlow {
    struct Pipe {
        var lastArrival: VirtualTime = .zero
        var stalled: [Segment] = []
        var stallTimer: ScheduledEvent?
        /// Segments on their way, in order of arrival. A pipe never reorders, so each scheduler
        /// event of the pipe takes the next batch from here: its closure captures nothing but
        /// the flow. Segments that arrive at the same instant (a reply and the FIN after it,
        /// several replies written at once) share one event, as long as it has not started.
        var inFlight = FIFO<Segment>()
        /// How many segments each pending event delivers, the running one excluded.
        var batches = FIFO<Int>()
    }

    /// A first-in first-out queue that keeps its oldest element inline: a pipe rarely has more
    /// than one segment or batch on its way, and then needs no array at all.
    struct FIFO<Element> {
        private var oldest: Element?
        private var others: [Element] = []
        private var othersStart = 0

        var isEmpty: Bool { oldest == nil }

        mutating func append(_ item: Element) {
            if oldest == nil { oldest = item } else { others.append(item) }
        }

        mutating func incrementLast() where Element == Int {
            if othersStart < others.count { others[others.count - 1] += 1 } else { oldest! += 1 }
        }

        mutating func takeFirst() -> Element {
            let item = oldest!
            if othersStart < others.count {
                oldest = others[othersStart]
                othersStart += 1
                if othersStart == others.count {
                    others.removeAll(keepingCapacity: true)
                    othersStart = 0
                }
            } else {
                oldest = nil
            }
            return item
        }
    }

    let id: Int
    /// The world owns this object and outlives it (see ``Connection``): no reference counting.
    unowned(unsafe) let world: World
    let clientHost: Host
    let serverHost: Host?
    let tap: TapConnection
    var client: Connection!
    var server: Connection?
    var toServer = Pipe()
    var toClient = Pipe()
    var connectTimer: ScheduledEvent?
    var synRetries: [ScheduledEvent] = []
    var synSent = false
    /// One end relays an outside program's bytes (``Connection/relaysExternalBytes``).
    var hasRelayingEnd = false
    var aborted = false

    init(id: Int, world: World, clientHost: Host, serverHost: Host?, tap: TapConnection) {
        self.id = id
        self.world = world
        self.clientHost = clientHost
        self.serverHost = serverHost
        self.tap = tap
    }

    var isFinished: Bool { client.state == .closed && (server?.state ?? .closed) == .closed }

    func hosts(_ direction: FlowDirection) -> (from: Host, to: Host)? {
        guard let serverHost else { return nil }
        return direction == .clientToServer ? (clientHost, serverHost) : (serverHost, clientHost)
    }

    func pathIsUp(_ direction: FlowDirection) -> Bool {
        guard let path = path else { return false }
        return path.client._withUnsafeGuaranteedRef { $0.isUp } && path.server._withUnsafeGuaranteedRef { $0.isUp }
            && !path.link._withUnsafeGuaranteedRef { $0.isPartitioned }
    }

    /// The two hosts and the link, read without reference counting on the per-segment paths:
    /// this flow holds them strongly (`clientHost`, `serverHost`, `linkStorage`), so they live
    /// at least as long as it does.
    private struct PathRefs {
        let client: Unmanaged<Host>
        let server: Unmanaged<Host>
        let link: Unmanaged<Link>
    }

    private var pathStorage: PathRefs?
    private var path: PathRefs? {
        if let pathStorage { return pathStorage }
        guard let serverHost, let link = cachedLink else { return nil }
        let refs = PathRefs(client: .passUnretained(clientHost), server: .passUnretained(serverHost), link: .passUnretained(link))
        pathStorage = refs
        return refs
    }

    /// The link between the two hosts (the same object in both directions), looked up once.
    private var linkStorage: Link?
    var cachedLink: Link? {
        if let linkStorage { return linkStorage }
        guard let serverHost else { return nil }
        let link = world.link(clientHost.name, serverHost.name)
        linkStorage = link
        return link
    }

    // MARK: connection set-up

    /// Sends SYN attempts at 0, 1, 3, 7, 15 s (doubling back-off, RFC 6298 §5.5) while the path is
    /// down; the connect timer fires at ``World/connectTimeout`` whatever happens. The first SYN
    /// leaves at once; the retries are only scheduled when it could not.
    func startConnecting() {
        let now = world.now
        connectTimer = world.scheduler.schedule(at: now + world.connectTimeout) { [self] in
            guard client.state == .connecting else { return }
            synRetries.forEach { $0.cancel() }
            tap.record(.connectTimedOut, at: world.now)
            client.finish()
            client.emit(.connectFailed(.timedOut))
            world.flowFinished(self)
        }
        connectStart = now
        trySyn()
        if !synSent { scheduleSynRetries() }
    }

    private var connectStart = VirtualTime.zero
    private var synRetriesScheduled = false

    /// The retries still ahead of now, scheduled once, when a SYN could not leave or was lost.
    private func scheduleSynRetries() {
        guard !synRetriesScheduled, client.state == .connecting else { return }
        synRetriesScheduled = true
        var offset = world.retransmissionTimeout
        var step = world.retransmissionTimeout * 2
        while offset < world.connectTimeout {
            let at = connectStart + offset
            if at > world.now {
                synRetries.append(world.scheduler.schedule(at: at) { [self] in trySyn() })
            }
            offset = offset + step
            step = step * 2
        }
    }

    private func trySyn() {
        guard client.state == .connecting, !synSent else { return }
        tap.record(.syn, at: world.now)
        guard pathIsUp(.clientToServer), let link = cachedLink else { return }
        synSent = true
        let arrival = world.now + link.latency + drawJitter(link)
        world.scheduler.post(at: arrival) { [self] in synArrived() }
    }

    private func synArrived() {
        guard let serverHost, serverHost.isUp, client.state == .connecting else {
            synSent = false  // lost in flight: a later retry may try again
            scheduleSynRetries()
            return
        }
        guard let listener = serverHost.listeners[tap.server.port] else {
            send(.rst, .serverToClient)
            return
        }
        let end = Connection(flow: self, side: .server, host: serverHost,
                             local: tap.server, remote: tap.client, remoteName: clientHost.name)
        end.listener = listener
        server = end
        serverHost.endpoints.append(end)
        send(.synAck, .serverToClient)
    }

    /// The handshake's last ACK reached the server: the listener accepts (RFC 9293 §3.5: a
    /// passive open completes on the ACK of the SYN/ACK).
    func accept(_ end: Connection, listener: Host.Listener) {
        switch listener.options.drop {
        case .closeImmediately?:
            end.close()
        case .resetImmediately?:
            end.reset()
        case let .resetAfterReceiving(bytes)?:
            end.dropAfter = bytes
            listener.accept(end)
        case nil:
            listener.accept(end)
        }
    }

    // MARK: segments

    /// Sends a segment from the end on the `direction`'s sending side; records it on the tap.
    func send(_ segment: Segment, _ direction: FlowDirection) {
        let now = world.now
        // A paused tap records nothing: the event is not even made.
        if tap.isRecording { record(segment, direction, at: now) }
        let pipeStalled = direction == .clientToServer ? !toServer.stalled.isEmpty : !toClient.stalled.isEmpty
        if pipeStalled || !pathIsUp(direction) {
            stall(segment, direction)
        } else {
            transmit(segment, direction)
        }
    }

    private func record(_ segment: Segment, _ direction: FlowDirection, at now: VirtualTime) {
        switch segment {
        case .synAck: tap.record(.synAck, at: now)
        case .ack: tap.record(.established, at: now)
        case let .data(bytes):
            let sender = direction == .clientToServer ? client : server
            let receiver = direction == .clientToServer ? server : client
            // A relaying end (the TCP bridge) writes an outside program's TLS records once
            // the receiving end has started TLS.
            let encrypted = sender?.tls != nil || (sender?.relaysExternalBytes == true && receiver?.tls != nil)
            tap.record(.segment(direction, bytes, encrypted: encrypted), at: now)
        case .fin: tap.record(.fin(direction), at: now)
        case .rst: tap.record(.rst(direction), at: now)
        }
    }

    private func drawJitter(_ link: Link) -> VirtualDuration {
        guard link.jitter.microseconds > 0 else { return .zero }
        let span = UInt64(link.jitter.microseconds) + 1
        return .microseconds(Int64(link.random.next() % span))
    }

    private func transmit(_ segment: Segment, _ direction: FlowDirection) {
        guard let path else { return }
        let (delay, givenUp) = path.link._withUnsafeGuaranteedRef { link -> (VirtualDuration, Bool) in
            var delay = link.latency + drawJitter(link)
            if link.lossRate > 0 {
                var rto = world.retransmissionTimeout
                var losses = 0
                while link.random.chance(link.lossRate) {
                    losses += 1
                    if losses > world.maxRetransmissions { return (delay, true) }
                    delay = delay + rto
                    rto = rto * 2
                }
            }
            return (delay, false)
        }
        if givenUp {
            // Lost more often than the stack retransmits: the connection is given up.
            world.scheduler.post(after: delay) { [self] in abort(.timedOut, cause: .retransmissionLimit) }
            return
        }
        let arrival = world.now + delay
        if direction == .clientToServer {
            if enqueue(segment, arriving: arrival, in: &toServer) {
                world.scheduler.post(at: toServer.lastArrival) { [self] in deliverBatch(.clientToServer) }
            }
        } else if enqueue(segment, arriving: arrival, in: &toClient) {
            world.scheduler.post(at: toClient.lastArrival) { [self] in deliverBatch(.serverToClient) }
        }
    }

    /// Puts `segment` in flight; true when it starts a new batch, whose delivery the caller
    /// schedules at `pipe.lastArrival` (the closure is made only then, not for every segment).
    private func enqueue(_ segment: Segment, arriving earliest: VirtualTime, in pipe: inout Pipe) -> Bool {
        let arrival = max(earliest, pipe.lastArrival)
        pipe.inFlight.append(segment)
        let joinsLastBatch = !pipe.batches.isEmpty && arrival == pipe.lastArrival
        pipe.lastArrival = arrival
        if joinsLastBatch {
            pipe.batches.incrementLast()
            return false
        }
        pipe.batches.append(1)
        return true
    }

    private func deliverBatch(_ direction: FlowDirection) {
        var count = direction == .clientToServer ? toServer.batches.takeFirst() : toClient.batches.takeFirst()
        while count > 0 {
            count -= 1
            let segment = direction == .clientToServer ? toServer.inFlight.takeFirst() : toClient.inFlight.takeFirst()
            guard !aborted else { continue }
            let receiver = direction == .clientToServer ? server : client
            receiver?.receive(segment)
            if isFinished { world.flowFinished(self) }
        }
    }

    private func stall(_ segment: Segment, _ direction: FlowDirection) {
        func arm(_ pipe: inout Pipe) {
            pipe.stalled.append(segment)
            if pipe.stallTimer == nil {
                pipe.stallTimer = world.scheduler.schedule(after: world.stallTimeout) { [self] in
                    abort(.timedOut, cause: .noPath(world.stallTimeout))
                }
            }
        }
        if direction == .clientToServer { arm(&toServer) } else { arm(&toClient) }
    }

    /// Called by the world when a host comes up or a partition heals.
    func pathMayHaveReturned() {
        for direction in [FlowDirection.clientToServer, .serverToClient] where pathIsUp(direction) {
            var pipe = direction == .clientToServer ? toServer : toClient
            guard !pipe.stalled.isEmpty else { continue }
            pipe.stallTimer?.cancel()
            pipe.stallTimer = nil
            let segments = pipe.stalled
            pipe.stalled = []
            if direction == .clientToServer { toServer = pipe } else { toClient = pipe }
            for segment in segments { transmit(segment, direction) }
        }
    }

    /// Tears both ends down without anything on the wire (the stacks gave up).
    func abort(_ reason: ResetReason, cause: AbortCause) {
        guard !aborted, !isFinished else { return }
        aborted = true
        toServer.stallTimer?.cancel()
        toClient.stallTimer?.cancel()
        connectTimer?.cancel()
        tap.record(.aborted(cause), at: world.now)
        for end in [client, server].compactMap({ $0 }) where end.state != .closed {
            let wasConnecting = end.state == .connecting
            end.finish()
            end.emit(wasConnecting ? .connectFailed(.timedOut) : .reset(reason))
        }
        world.flowFinished(self)
    }

    func connectionEstablishedOrRefused() {
        connectTimer?.cancel()
        synRetries.forEach { $0.cancel() }
    }
}
