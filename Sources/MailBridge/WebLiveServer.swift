import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One server-sent event (the `text/event-stream` format of the HTML Living Standard, §9.2):
/// `event: NAME`, one `data:` line per line of `data`, a blank line.
public struct ServerSentEvent: Sendable, Equatable {
    public var name: String
    public var data: String

    public init(name: String, data: String) {
        self.name = name
        self.data = data
    }

    var encoded: String {
        var out = "event: \(name)\n"
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { out += "data: \(line)\n" }
        return out + "\n"
    }
}

/// The live view's HTTP server (`maillab serve --web PORT`, `maillab --web PORT`): `GET /` is the
/// page, `GET /events` a stream of server-sent events. Each new subscriber first gets the
/// snapshot (the window of recent sessions), then every event ``publish(_:)`` is given.
///
/// Bounded: at most ``maximumClients`` streams (more get `503`), at most
/// ``maximumConnections`` HTTP connections at once, and per stream at most
/// ``maximumPendingBytes`` written but not yet taken by the client beyond its snapshot: a client
/// that reads too slowly is disconnected (its browser reconnects and starts from a new snapshot),
/// so ``publish(_:)`` never waits for a client. A comment line every ``heartbeat`` keeps proxies
/// and idle connections from closing the stream and finds dead clients.
///
/// On a loopback address only requests whose `Host` names the loopback (`127.0.0.1`, `localhost`,
/// `[::1]`) are answered (no DNS rebinding from another site). The page's
/// `Content-Security-Policy` lets it talk only to its own origin.
public final class LiveWebServer: @unchecked Sendable {
    public static let defaultMaximumClients = 16
    public static let maximumConnections = 48
    public static let defaultMaximumPendingBytes = 4 << 20
    public static let heartbeat: TimeAmount = .seconds(15)
    public static let requestIdleTimeout: TimeAmount = .seconds(10)
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"

    public let maximumClients: Int
    public let maximumPendingBytes: Int
    private let page: [UInt8]
    private let snapshot: @Sendable () -> [ServerSentEvent]
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let lock = NSLock()
    // Under `lock`.
    private var streams: [ObjectIdentifier: Stream] = [:]
    private var connections = 0
    private var listener: Channel?
    private var heartbeatTask: RepeatedTask?
    private var loopbackOnly = true
    private var slowDisconnects = 0
    private var refusedStreams = 0
    private var published = 0

    final class Stream {
        let channel: Channel
        /// Bytes written to the socket and not yet flushed out to the client.
        var pending = 0
        /// What the stream may hold: its snapshot plus ``maximumPendingBytes``.
        var allowance: Int
        init(channel: Channel, allowance: Int) {
            self.channel = channel
            self.allowance = allowance
        }
    }

    /// `page`: the HTML of `GET /`; `snapshot`: the events a new subscriber starts with (called
    /// from the server's own thread).
    public init(page: String, maximumClients: Int = LiveWebServer.defaultMaximumClients,
                maximumPendingBytes: Int = LiveWebServer.defaultMaximumPendingBytes,
                snapshot: @escaping @Sendable () -> [ServerSentEvent]) {
        self.page = Array(page.utf8)
        self.maximumClients = max(1, maximumClients)
        self.maximumPendingBytes = max(1024, maximumPendingBytes)
        self.snapshot = snapshot
    }

    /// Binds `host:port` (0: a free port) and returns the port bound.
    /// - Throws: ``BridgeError`` naming the address when it cannot be bound.
    @discardableResult
    public func start(host: String, port: Int) throws -> Int {
        loopbackOnly = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(LiveWebHandler(server: self))
                }
            }
        let bound: Channel
        do {
            bound = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw BridgeError(fr: "impossible d'écouter sur \(host):\(port) pour la vue en direct : \(error)",
                              en: "cannot listen on \(host):\(port) for the live view: \(error)")
        }
        lock.withLock { listener = bound }
        heartbeatTask = group.next().scheduleRepeatedTask(initialDelay: Self.heartbeat, delay: Self.heartbeat) { [weak self] _ in
            self?.send(": keep-alive\n\n")
        }
        return bound.localAddress?.port ?? port
    }

    /// Closes the listener and every stream.
    public func stop() {
        heartbeatTask?.cancel()
        let (listening, open) = lock.withLock { () -> (Channel?, [Channel]) in
            defer { listener = nil; streams = [:] }
            return (listener, streams.values.map(\.channel))
        }
        try? listening?.close().wait()
        for channel in open { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }

    /// Sends `events` to every subscriber; never waits (a subscriber too far behind is dropped).
    public func publish(_ events: [ServerSentEvent]) {
        guard !events.isEmpty else { return }
        send(events.map(\.encoded).joined())
        lock.withLock { published += events.count }
    }

    /// Subscribers now, slow ones disconnected, streams refused for the limit, events published.
    public struct Counts: Sendable, Equatable {
        public var clients: Int
        public var slowDisconnects: Int
        public var refused: Int
        public var published: Int
    }

    public func counts() -> Counts {
        lock.withLock { Counts(clients: streams.count, slowDisconnects: slowDisconnects, refused: refusedStreams, published: published) }
    }

    private func send(_ text: String) {
        let bytes = Array(text.utf8)
        lock.withLock {
            for (key, stream) in streams {
                if stream.pending + bytes.count > stream.allowance {
                    streams[key] = nil
                    slowDisconnects += 1
                    stream.channel.close(promise: nil)
                    continue
                }
                write(bytes, to: stream)
            }
        }
    }

    /// Under `lock`.
    private func write(_ bytes: [UInt8], to stream: Stream) {
        stream.pending += bytes.count
        let channel = stream.channel
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let count = bytes.count
        promise.futureResult.whenComplete { [weak self, weak stream] _ in
            // A write on the loop may complete at once, inside `lock`: count it down afterwards.
            channel.eventLoop.execute {
                guard let self, let stream else { return }
                self.lock.withLock { stream.pending -= count }
            }
        }
        let part = HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: bytes)))
        channel.writeAndFlush(NIOAny(part), promise: promise)
    }

    // MARK: from the handler (on the server's loop)

    func admit() -> Bool {
        lock.withLock {
            guard connections < Self.maximumConnections else { return false }
            connections += 1
            return true
        }
    }

    func leave(_ channel: Channel) {
        lock.withLock {
            connections -= 1
            streams[ObjectIdentifier(channel)] = nil
        }
    }

    /// Whether a request naming `host` in its `Host` field may be answered.
    func acceptsHost(_ host: String?) -> Bool {
        guard loopbackOnly else { return true }
        guard var name = host?.lowercased() else { return false }
        if name.hasPrefix("[") {
            name = String(name.dropFirst().prefix { $0 != "]" })
        } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        return name == "localhost" || name == "::1" || name.hasPrefix("127.")
    }

    var pageBytes: [UInt8] { page }

    /// Registers the stream of `channel` (its head already written) and writes its snapshot;
    /// false when the limit of subscribers is reached.
    func subscribe(_ channel: Channel) -> Bool {
        lock.withLock {
            guard streams.count < maximumClients else {
                refusedStreams += 1
                return false
            }
            // The snapshot is taken and written under the lock, so no event published meanwhile
            // can reach this stream before it (and none is lost: the snapshot is taken after).
            let text = "retry: 2000\n\n" + snapshot().map(\.encoded).joined()
            let bytes = Array(text.utf8)
            let stream = Stream(channel: channel, allowance: bytes.count + maximumPendingBytes)
            streams[ObjectIdentifier(channel)] = stream
            write(bytes, to: stream)
            return true
        }
    }
}

/// One HTTP connection of the live view.
final class LiveWebHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: LiveWebServer
    private var head: HTTPRequestHead?
    private var admitted = false
    private var streaming = false
    private var idle: Scheduled<Void>?

    init(server: LiveWebServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        admitted = server.admit()
        guard admitted else {
            context.close(promise: nil)
            return
        }
        armIdle(context)
    }

    private func armIdle(_ context: ChannelHandlerContext) {
        idle?.cancel()
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: LiveWebServer.requestIdleTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted, !streaming else { return }
        switch unwrapInboundIn(data) {
        case let .head(request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(context, request)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead) {
        armIdle(context)
        guard server.acceptsHost(request.headers.first(name: "host")) else {
            return simple(context, request, .forbidden, "text/plain; charset=utf-8", Array("loopback only: use http://127.0.0.1:PORT/\n".utf8))
        }
        guard request.method == .GET || request.method == .HEAD else {
            return simple(context, request, .methodNotAllowed, "text/plain; charset=utf-8", Array("GET or HEAD only\n".utf8))
        }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        switch path {
        case "/", "/index.html":
            simple(context, request, .ok, "text/html; charset=utf-8", server.pageBytes)
        case "/events":
            guard request.method == .GET else {
                return simple(context, request, .ok, "text/event-stream; charset=utf-8", [])
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "cache-control", value: "no-store")
            headers.add(name: "x-accel-buffering", value: "no")
            let channel = context.channel
            streaming = true
            idle?.cancel()
            idle = nil
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
            context.flush()
            if !server.subscribe(channel) {
                // The head is out: end the stream at once; the page says the view is full.
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(channel.allocator.buffer(string: "event: full\ndata: {}\n\n")))))
                    .whenComplete { _ in channel.close(promise: nil) }
            }
        default:
            simple(context, request, .notFound, "text/plain; charset=utf-8", Array("not found\n".utf8))
        }
    }

    private func simple(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus,
                        _ type: String, _ body: [UInt8]) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: type)
        headers.add(name: "content-length", value: "\(body.count)")
        headers.add(name: "cache-control", value: "no-store")
        headers.add(name: "content-security-policy", value: LiveWebServer.contentSecurityPolicy)
        headers.add(name: "x-content-type-options", value: "nosniff")
        let keep = request.isKeepAlive
        if !keep { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD && !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keep { channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle?.cancel()
        if admitted { server.leave(context.channel) }
        admitted = false
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
