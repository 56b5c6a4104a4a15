import MailCore
import MailSim

/// Runs a sans-IO client engine (a `ProtocolEngine` whose events are `ClientEvent`s: SMTP, POP3)
/// over a virtual connection it opens itself, and hands the engine's result to `completion`
/// exactly once — also when the connection is refused, times out or is reset.
final class ClientSession<Engine: ProtocolEngine, Value, Result> where Engine.Event == ClientEvent<Value> {
    enum Failure {
        case connect(ConnectError)
        case reset(ResetReason)
        case tls(String)
    }

    /// What only the owner knows: how to make its result from the engine's.
    struct Hooks {
        /// The owner's result for one the engine reported.
        var result: (Value) -> Result
        /// The result to report when the engine never got to finish.
        var failed: (Engine, Failure) -> Result
    }

    private(set) var engine: Engine
    private let world: World
    private let hooks: Hooks
    private let serverName: String
    private var connection: Connection?
    private var timer = SessionTimer()
    private var actions: [EngineAction<ClientEvent<Value>>] = []
    private var awaitingImplicitTLS = false
    private var completion: ((Result) -> Void)?
    /// Receives each `.transactionFinished` result (sessions that carry several
    /// messages; see ``SMTPClient/enqueue(_:)``).
    var onTransaction: ((Result) -> Void)?
    private(set) var connectionID: Int?

    init(engine: Engine, world: World, serverName: String, hooks: Hooks, completion: @escaping (Result) -> Void) {
        self.engine = engine
        self.world = world
        self.serverName = serverName
        self.hooks = hooks
        self.completion = completion
    }

    /// Connects `source` to `target:port`; with `implicitTLS` the engine starts after the handshake.
    func connect(from source: Host, to target: String, port: UInt16, implicitTLS: Bool) {
        awaitingImplicitTLS = implicitTLS
        // The session keeps itself alive through the connection's handler until it completes.
        let connection = world.connect(from: source, to: target, port: port) { [self] event in
            self.handle(event)
        }
        self.connection = connection
        connectionID = connection.id
    }

    /// Lets the owner change the engine between events (queue another job, …).
    func withEngine<T>(_ body: (inout Engine) -> T) -> T { body(&engine) }

    private func handle(_ event: ConnectionEvent) {
        guard completion != nil, let connection else { return }
        let now = world.now.engineTime
        switch event {
        case .connected:
            if awaitingImplicitTLS {
                connection.startTLS(asClient: serverName)
                return
            }
            engine.start(now: now, into: &actions)
        case .connectFailed(let error):
            complete(hooks.failed(engine, .connect(error)))
            return
        case .data(let bytes):
            engine.receive(bytes, now: now, into: &actions)
        case .tlsEstablished:
            if awaitingImplicitTLS {
                awaitingImplicitTLS = false
                engine.start(now: now, into: &actions)
            } else {
                engine.tlsEstablished(now: now, into: &actions)
            }
        case .reset(let reason):
            if case .tlsFailed(let message) = reason {
                if awaitingImplicitTLS {
                    complete(hooks.failed(engine, .tls(message)))
                    return
                }
                engine.tlsFailed(now: now, into: &actions)
            } else {
                engine.connectionClosed(now: now, into: &actions)
            }
            perform()
            if completion != nil { complete(hooks.failed(engine, .reset(reason))) }
            return
        case .endOfStream, .closed:
            engine.connectionClosed(now: now, into: &actions)
        }
        perform()
    }

    private func perform() {
        if let connection {
            if !engine.facts.isEmpty {
                let world = world
                let context = world.factContext(for: connection, role: .client)
                engine.drainFacts { world.record($0, context: context) }
            }
        }
        var index = 0
        while index < actions.count, let connection {
            switch actions[index] {
            case .send(let bytes):
                connection.write(bytes)
            case .startTLS:
                connection.startTLS(asClient: serverName)
            case .close:
                connection.close()
            case .event(.transactionFinished(let value)):
                onTransaction?(hooks.result(value))
            case .event(.finished(let value)):
                actions.removeAll(keepingCapacity: true)
                connection.close()
                complete(hooks.result(value))
                return
            }
            index += 1
        }
        actions.removeAll(keepingCapacity: true)
        rearmTimer()
    }

    private func rearmTimer() {
        let deadline = completion != nil ? engine.nextDeadline : nil
        if timer.covers(deadline, in: world) { return }
        timer.arm(for: deadline, in: world) { [self] in self.timerDue() }
    }

    private func timerDue() {
        timer.fired()
        guard completion != nil else { return }
        guard SessionTimer.isDue(engine.nextDeadline, now: world.now) else {
            rearmTimer()
            return
        }
        engine.timerFired(now: world.now.engineTime, into: &actions)
        perform()
    }

    private func complete(_ result: Result) {
        timer.cancel()
        guard let completion else { return }
        self.completion = nil
        if let connection, connection.state != .closed { connection.close() }
        connection?.onEvent = nil
        completion(result)
    }
}
