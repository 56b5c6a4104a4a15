/// Why a connection attempt failed.
public enum ConnectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing listens on the port: the server host answered the SYN with a RST (one round trip).
    case refused
    /// No answer within ``World/connectTimeout`` (host down, partitioned, or address unused).
    case timedOut
    /// The name is neither a known host nor a dotted-quad address.
    case unknownHost(String)
    /// The connecting host itself is down.
    case localHostDown

    public var description: String { message(.en) }
}

/// Why an established connection was aborted.
public enum ResetReason: Equatable, Sendable, CustomStringConvertible {
    /// The peer sent a RST (its application called `reset()`, its host crashed, or it received
    /// data after closing).
    case byPeer
    /// This end's own host crashed.
    case hostCrashed
    /// Segments could not get through for ``World/stallTimeout`` (host down, partition) or a
    /// segment was lost more than ``World/maxRetransmissions`` times.
    case timedOut
    /// The TLS handshake or a TLS record failed on this end (message from BoringSSL / NIOSSL).
    case tlsFailed(String)
    /// This (server) end was dropped by its listener's ``AcceptThenDrop`` fault.
    case droppedByListener

    public var description: String { message(.en) }
}

/// Everything an application learns about its end of a ``Connection``.
///
/// Events are always delivered from the scheduler (never from inside a call the application
/// makes), in the order they happen. After the application calls `close()` or `reset()` on its
/// end, no further event is delivered to it.
public enum ConnectionEvent: Equatable, Sendable {
    /// Client end: the three-way handshake completed.
    case connected
    /// Client end: the attempt failed; the connection is finished.
    case connectFailed(ConnectError)
    /// Application bytes from the peer (plaintext, also after TLS started).
    case data([UInt8])
    /// The TLS handshake completed on this end.
    case tlsEstablished
    /// The peer shut its writing side (FIN): no more data will come.
    case endOfStream
    /// Both directions are shut after a clean FIN exchange; the connection is finished.
    case closed
    /// The connection was aborted; it is finished.
    case reset(ResetReason)
}
