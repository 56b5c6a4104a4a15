/// The one contract of the six protocol engines (SMTP, POP3 and IMAP; server and client).
///
/// An engine is a sans-IO state machine. Its driver (the simulation's `ServerSession` and
/// `ClientSession`, a test, the fuzzer) calls one method per event of the connection, always with
/// the current time, and performs the actions the engine appended, in order:
///
///     driver                       engine
///     connected ─────────────────▶ start(now:into:)            → [.send(greeting)]
///     bytes from the peer ───────▶ receive(_:now:into:)        → [.send(reply), .startTLS, …]
///     TLS handshake done ────────▶ tlsEstablished(now:into:)
///     TLS handshake failed ──────▶ tlsFailed(now:into:)
///     peer closed / reset ───────▶ connectionClosed(now:into:)
///     nextDeadline reached ──────▶ timerFired(now:into:)
///
/// * **One transport action type**, ``EngineAction``: send bytes, start TLS, close, and `event`
///   for what the engine hands to its owner (a client's result, an IMAP client's parsed
///   responses). Server engines have no events (`Event == Never`).
/// * **One time type**: `Duration` since an origin the driver chooses (the simulation uses the
///   world's start, see `VirtualTime.engineTime`). An engine that needs a calendar date (IMAP's
///   INTERNALDATE) gets the origin's date in its configuration; no engine reads a clock.
/// * **Facts** through ``FactReporting``: every engine appends `ProtocolFact`s (its own case:
///   `.smtp`, `.pop3`, `.imap`, plus the shared `.session`) and the driver drains them after each
///   call with `takeFacts()`.
///
/// The `into:` methods are the contract; the forms that return the actions are conveniences
/// (``ProtocolEngine/start(now:)`` and friends, defined once below for every engine).
public protocol ProtocolEngine: FactReporting {
    /// What the engine hands to its owner besides transport actions (`Never` for servers).
    associatedtype Event

    /// The connection is open (for implicit TLS the driver decides whether the handshake comes
    /// first; the POP3 engines ask for it themselves with `.startTLS`).
    mutating func start(now: Duration, into actions: inout [EngineAction<Event>])
    /// Bytes from the peer.
    mutating func receive(_ bytes: [UInt8], now: Duration, into actions: inout [EngineAction<Event>])
    /// The TLS handshake the engine asked for (or the implicit one) finished.
    mutating func tlsEstablished(now: Duration, into actions: inout [EngineAction<Event>])
    /// The TLS handshake failed: the connection is unusable. Defaults to `connectionClosed`.
    mutating func tlsFailed(now: Duration, into actions: inout [EngineAction<Event>])
    /// The peer closed the connection or it broke. The SMTP and POP3 clients append their final
    /// `event` (with the reason in their result) when the session had not ended already.
    mutating func connectionClosed(now: Duration, into actions: inout [EngineAction<Event>])
    /// The time of ``nextDeadline`` came (the driver may call early; the engine checks).
    mutating func timerFired(now: Duration, into actions: inout [EngineAction<Event>])
    /// When `timerFired` should be called next; nil when nothing is awaited.
    var nextDeadline: Duration? { get }
}

/// What an engine asks its driver to do, in order.
public enum EngineAction<Event> {
    /// Write these bytes to the peer.
    case send([UInt8])
    /// Start the TLS handshake now (after the bytes that came before), then call
    /// `tlsEstablished(now:into:)` or `tlsFailed(now:into:)`. Bytes received meanwhile are
    /// discarded by the engine (RFC 3207 §4, RFC 2595 §4, RFC 3501 §6.2.1).
    case startTLS
    /// Close the connection (after sending what came before).
    case close
    /// Something for the engine's owner (see the engine's `Event` type).
    case event(Event)
}

extension EngineAction: Equatable where Event: Equatable {}
extension EngineAction: Hashable where Event: Hashable {}
extension EngineAction: Sendable where Event: Sendable {}

/// The events of a client engine that delivers work and ends with a result (SMTP, POP3).
public enum ClientEvent<Result> {
    /// One transaction ended and the session goes on with a queued job (SMTP, see
    /// `SMTPClient.enqueue(_:)`): this is the finished transaction's result.
    case transactionFinished(Result)
    /// The session is over; this is its result. Comes exactly once.
    case finished(Result)
}

extension ClientEvent: Equatable where Result: Equatable {}
extension ClientEvent: Hashable where Result: Hashable {}
extension ClientEvent: Sendable where Result: Sendable {}

extension ProtocolEngine {
    public mutating func tlsFailed(now: Duration, into actions: inout [EngineAction<Event>]) {
        connectionClosed(now: now, into: &actions)
    }

    // Convenience forms that return the actions.

    public mutating func start(now: Duration) -> [EngineAction<Event>] {
        var actions: [EngineAction<Event>] = []
        start(now: now, into: &actions)
        return actions
    }

    public mutating func receive<C: Collection>(_ bytes: C, now: Duration) -> [EngineAction<Event>] where C.Element == UInt8 {
        var actions: [EngineAction<Event>] = []
        receive(Array(bytes), now: now, into: &actions)
        return actions
    }

    public mutating func tlsEstablished(now: Duration) -> [EngineAction<Event>] {
        var actions: [EngineAction<Event>] = []
        tlsEstablished(now: now, into: &actions)
        return actions
    }

    public mutating func tlsFailed(now: Duration) -> [EngineAction<Event>] {
        var actions: [EngineAction<Event>] = []
        tlsFailed(now: now, into: &actions)
        return actions
    }

    public mutating func timerFired(now: Duration) -> [EngineAction<Event>] {
        var actions: [EngineAction<Event>] = []
        timerFired(now: now, into: &actions)
        return actions
    }
}
