// The six engines under the one contract (`ProtocolEngine`). The SMTP engines implement the
// `into:` methods natively; the POP3 and IMAP engines build their actions in their own arrays and
// are adapted here. Each adapter is one line: what differs between engines is only which of their
// events produce actions.

extension SMTPServer: ProtocolEngine {
    public typealias Event = Never

    public mutating func connectionClosed(now: Duration, into actions: inout [SMTPServerAction]) {
        connectionClosed(now: now)
    }
}

extension SMTPClient: ProtocolEngine {
    public typealias Event = ClientEvent<SMTPDeliveryResult>
}

extension POP3Server: ProtocolEngine {
    public typealias Event = Never

    public mutating func start(now: Duration, into actions: inout [POP3Action]) { actions += start(now: now) }
    public mutating func receive(_ bytes: [UInt8], now: Duration, into actions: inout [POP3Action]) {
        actions += receive(bytes, now: now)
    }
    public mutating func tlsEstablished(now: Duration, into actions: inout [POP3Action]) {
        actions += tlsEstablished(now: now)
    }
    public mutating func connectionClosed(now: Duration, into actions: inout [POP3Action]) { connectionClosed() }
    public mutating func timerFired(now: Duration, into actions: inout [POP3Action]) { actions += timerFired(now: now) }
}

extension POP3Client: ProtocolEngine {
    public typealias Event = ClientEvent<POP3ClientResult>

    public mutating func start(now: Duration, into actions: inout [POP3ClientAction]) { actions += start(now: now) }
    public mutating func receive(_ bytes: [UInt8], now: Duration, into actions: inout [POP3ClientAction]) {
        actions += receive(bytes, now: now)
    }
    public mutating func tlsEstablished(now: Duration, into actions: inout [POP3ClientAction]) {
        actions += tlsEstablished(now: now)
    }
    public mutating func connectionClosed(now: Duration, into actions: inout [POP3ClientAction]) {
        actions += connectionClosed()
    }
    public mutating func timerFired(now: Duration, into actions: inout [POP3ClientAction]) { actions += timerFired(now: now) }
}

extension IMAPServer: ProtocolEngine {
    public typealias Event = Never

    public mutating func start(now: Duration, into actions: inout [IMAPServerAction]) { actions += start(now: now) }
    public mutating func receive(_ bytes: [UInt8], now: Duration, into actions: inout [IMAPServerAction]) {
        actions += receive(bytes, now: now)
    }
    public mutating func tlsEstablished(now: Duration, into actions: inout [IMAPServerAction]) {
        actions += tlsEstablished(now: now)
    }
    public mutating func connectionClosed(now: Duration, into actions: inout [IMAPServerAction]) { connectionClosed() }
    public mutating func timerFired(now: Duration, into actions: inout [IMAPServerAction]) { actions += timerFired(now: now) }
    /// The store changed a mailbox (IDLE pushes it at once); not part of the contract, which
    /// only covers connection events.
    public mutating func mailboxChanged(now: Duration, into actions: inout [IMAPServerAction]) {
        actions += mailboxChanged(now: now)
    }
}

/// The IMAP client is driven by its owner's commands (`send(_:)`, `done()`); the contract covers
/// its connection events. It has no timeouts of its own: its owner decides how long to wait.
extension IMAPClient: ProtocolEngine {
    public typealias Event = IMAPResponse

    /// Nothing to send: the client waits for the greeting.
    public mutating func start(now: Duration, into actions: inout [Output]) {}
    public mutating func receive(_ bytes: [UInt8], now: Duration, into actions: inout [Output]) { actions += receive(bytes) }
    public mutating func tlsEstablished(now: Duration, into actions: inout [Output]) { actions += tlsEstablished() }
    /// The connection ended: nothing is pending any more.
    public mutating func connectionClosed(now: Duration, into actions: inout [Output]) { connectionEnded() }
    public mutating func timerFired(now: Duration, into actions: inout [Output]) {}
    public var nextDeadline: Duration? { nil }
}
