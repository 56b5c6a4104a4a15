import MailCore
import MailSim

/// Runs a sans-IO client engine over a virtual connection it opens itself, and hands the engine's
/// result to `completion` exactly once — also when the connection is refused, times out or is reset.
final class ClientSession<Engine, EngineAction, Result> {
    /// What the session does with one of the engine's actions.
    enum Action {
        case send([UInt8])
        case startTLS
        case close
        /// One transaction of several ended; the session goes on.
        case transactionFinished(Result)
        case finished(Result)
    }

    enum Failure {
        case connect(ConnectError)
        case reset(ResetReason)
        case tls(String)
    }

    struct Hooks {
        var start: (inout Engine, Duration, inout [EngineAction]) -> Void
        var receive: (inout Engine, [UInt8], Duration, inout [EngineAction]) -> Void
        var tlsEstablished: (inout Engine, Duration, inout [EngineAction]) -> Void
        var tlsFailed: (inout Engine, Duration, inout [EngineAction]) -> Void
        var closed: (inout Engine, Duration, inout [EngineAction]) -> Void
        var timerFired: (inout Engine, Duration, inout [EngineAction]) -> Void
        /// `inout` only so that reading the deadline does not copy the whole engine.
        var deadline: (inout Engine) -> Duration?
        var classify: (EngineAction) -> Action
        /// The result to report when the engine never got to finish.
        var failed: (Engine, Failure) -> Result
        /// The facts the engine reported since the last call (`FactReporting.takeFacts()`).
        var takeFacts: (inout Engine) -> [ProtocolFact] = { _ in [] }
    }

    private(set) var engine: Engine
    private let world: World
    private let hooks: Hooks
    private let serverName: String
    private var connection: Connection?
    private var timer = SessionTimer()
    private var actions: [EngineAction] = []
    private var awaitingImplicitTLS = false
    private var completion: ((Result) -> Void)?
    /// Receives each ``Action/transactionFinished(_:)`` result (sessions that carry several
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
            hooks.start(&engine, now, &actions)
        case .connectFailed(let error):
            complete(hooks.failed(engine, .connect(error)))
            return
        case .data(let bytes):
            hooks.receive(&engine, bytes, now, &actions)
        case .tlsEstablished:
            if awaitingImplicitTLS {
                awaitingImplicitTLS = false
                hooks.start(&engine, now, &actions)
            } else {
                hooks.tlsEstablished(&engine, now, &actions)
            }
        case .reset(let reason):
            if case .tlsFailed(let message) = reason {
                if awaitingImplicitTLS {
                    complete(hooks.failed(engine, .tls(message)))
                    return
                }
                hooks.tlsFailed(&engine, now, &actions)
            } else {
                hooks.closed(&engine, now, &actions)
            }
            perform()
            if completion != nil { complete(hooks.failed(engine, .reset(reason))) }
            return
        case .endOfStream, .closed:
            hooks.closed(&engine, now, &actions)
        }
        perform()
    }

    private func perform() {
        if let connection {
            let facts = hooks.takeFacts(&engine)
            if !facts.isEmpty {
                let context = world.factContext(for: connection, role: .client)
                for fact in facts { world.record(fact, context: context) }
            }
        }
        var index = 0
        while index < actions.count, let connection {
            switch hooks.classify(actions[index]) {
            case .send(let bytes):
                connection.write(bytes)
            case .startTLS:
                connection.startTLS(asClient: serverName)
            case .close:
                connection.close()
            case .transactionFinished(let result):
                onTransaction?(result)
            case .finished(let result):
                actions.removeAll(keepingCapacity: true)
                connection.close()
                complete(result)
                return
            }
            index += 1
        }
        actions.removeAll(keepingCapacity: true)
        rearmTimer()
    }

    private func rearmTimer() {
        let deadline = completion != nil ? hooks.deadline(&engine) : nil
        timer.arm(for: deadline, in: world) { [self] in self.timerDue() }
    }

    private func timerDue() {
        timer.fired()
        guard completion != nil else { return }
        guard SessionTimer.isDue(hooks.deadline(&engine), now: world.now) else {
            rearmTimer()
            return
        }
        hooks.timerFired(&engine, world.now.engineTime, &actions)
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
