import MailCore
import MailSim

/// A session its owner must let go of when the owner goes away first.
protocol DetachableSession: AnyObject {
    func detach()
}

/// Runs a sans-IO server engine (any `ProtocolEngine` without events: SMTP, POP3, IMAP) on the
/// server end of a virtual connection: the connection's events go into the engine through the
/// contract, the engine's actions go out to the connection, its facts go to the world's journal,
/// and its deadline becomes a scheduler event. One instance per accepted connection.
final class ServerSession<Engine: ProtocolEngine & ReplyReporting>: DetachableSession where Engine.Event == Never {
    private(set) var engine: Engine
    let connection: Connection
    private let world: World
    private let tlsIdentity: () -> TLSServerIdentity?
    private var timer = SessionTimer()
    private var actions: [EngineAction<Never>] = []
    private var finished = false
    var onFinish: (() -> Void)?
    /// Called before every call into the engine (the MDA keeps its store's clock in step).
    var willDrive: (() -> Void)?

    init(engine: Engine, connection: Connection, world: World,
         tlsIdentity: @escaping () -> TLSServerIdentity?) {
        self.engine = engine
        self.connection = connection
        self.world = world
        self.tlsIdentity = tlsIdentity
    }

    /// Starts the engine (greeting) and begins listening to the connection.
    func start(implicitTLS: Bool) {
        // Unowned, not weak: the owner keeps the session until `onFinish` or `detach()`, and both
        // leave the connection without a handler for this session and the timer cancelled.
        // (A weak reference would give every session a side table, slowing each retain.)
        connection.onEvent = { [unowned self] event in handle(event) }
        if implicitTLS {
            guard let identity = tlsIdentity() else { connection.reset(); return }
            awaitingImplicitTLS = true
            connection.startTLS(asServer: identity)
        } else {
            willDrive?()
            engine.start(now: world.now.engineTime, into: &actions)
            perform()
        }
    }

    /// Lets the owner poke the engine from outside (a mailbox changed during IMAP IDLE, …).
    func drive(_ body: (inout Engine, Duration, inout [EngineAction<Never>]) -> Void) {
        guard !finished else { return }
        body(&engine, world.now.engineTime, &actions)
        perform()
    }

    /// Implicit TLS (465, 993, 995): the greeting waits for the handshake.
    private var awaitingImplicitTLS = false

    private func handle(_ event: ConnectionEvent) {
        guard !finished else { return }
        let now = world.now.engineTime
        switch event {
        case .data(let bytes):
            willDrive?()
            engine.receive(bytes, now: now, into: &actions)
        case .tlsEstablished:
            willDrive?()
            if awaitingImplicitTLS {
                awaitingImplicitTLS = false
                engine.start(now: now, into: &actions)
            } else {
                engine.tlsEstablished(now: now, into: &actions)
            }
        case .endOfStream:
            finish(close: true)
            return
        case .closed, .reset, .connectFailed:
            finish(close: false)
            return
        case .connected:
            break
        }
        perform()
    }

    /// Moves the engine's facts to the world's journal, with where and when they happened, and the
    /// ends of its replies to the world's reply journal.
    private func journalFacts() {
        let world = world, connection = connection
        engine.drainReplies { world.record($0, session: connection.id) }
        guard !engine.facts.isEmpty else { return }
        let context = world.factContext(for: connection, role: .server)
        engine.drainFacts { world.record($0, context: context) }
    }

    private func perform() {
        journalFacts()
        var index = 0
        while index < actions.count {
            switch actions[index] {
            case .send(let bytes):
                connection.write(bytes)
            case .startTLS:
                if let identity = tlsIdentity() {
                    connection.startTLS(asServer: identity)
                } else {
                    connection.reset()
                    actions.removeAll(keepingCapacity: true)
                    finish(close: false)
                    return
                }
            case .close:
                actions.removeAll(keepingCapacity: true)
                finish(close: true)
                return
            }
            index += 1
        }
        actions.removeAll(keepingCapacity: true)
        rearmTimer()
    }

    private func rearmTimer() {
        let deadline = !finished ? engine.nextDeadline : nil
        if timer.covers(deadline, in: world) { return }
        timer.arm(for: deadline, in: world) { [unowned self] in timerDue() }
    }

    private func timerDue() {
        timer.fired()
        guard !finished else { return }
        guard SessionTimer.isDue(engine.nextDeadline, now: world.now) else {
            rearmTimer()
            return
        }
        willDrive?()
        engine.timerFired(now: world.now.engineTime, into: &actions)
        perform()
    }

    /// The owner is going away with the session still open: the connection's events are no
    /// longer for this session (they wait on the connection), and its timer stops.
    func detach() {
        timer.cancel()
        if !finished { connection.onEvent = nil }
        finished = true
        onFinish = nil
    }

    private func finish(close: Bool) {
        guard !finished else { return }
        finished = true
        timer.cancel()
        var ignored: [EngineAction<Never>] = []
        engine.connectionClosed(now: world.now.engineTime, into: &ignored)
        journalFacts()
        world.record(.session(.closed), context: world.factContext(for: connection, role: .server))
        if close { connection.close() }
        connection.onEvent = nil
        onFinish?()
        onFinish = nil
    }
}
