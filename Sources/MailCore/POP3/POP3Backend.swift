/// One message of a maildrop as the POP3 server sees it at login (RFC 1939 §4).
public struct POP3MaildropMessage: Equatable, Sendable {
    /// The unique id UIDL reports: 1 to 70 characters in 0x21...0x7E, stable across sessions
    /// (RFC 1939 §7).
    public var uniqueID: String
    /// The message as stored (RFC 5322). The server sends it with CRLF line ends; its POP3 size is
    /// the size of that form.
    public var content: [UInt8]

    public init(uniqueID: String, content: [UInt8]) {
        self.uniqueID = uniqueID
        self.content = content
    }
}

/// Why a maildrop could not be opened or updated.
public enum POP3MaildropError: Error, Equatable, Sendable {
    /// Another session holds the lock: `-ERR [IN-USE]` (RFC 2449 §8.1.1).
    case inUse
    /// A temporary failure: `-ERR [SYS/TEMP]` (RFC 3206 §4).
    case temporaryFailure
    /// A permanent failure: `-ERR [SYS/PERM]` (RFC 3206 §4).
    case permanentFailure
}

/// What the POP3 server needs from a mail store: check credentials, lock a maildrop and take a
/// snapshot of it, remove messages in the UPDATE state, release the lock.
///
/// The server calls these synchronously from its event methods. A store shared by several
/// sessions is a class, so that every session sees the same locks.
///
/// Lifecycle in one session: `lockMaildrop` after a successful login; at `QUIT` in the TRANSACTION
/// state `removeMessages` (only if something was marked) then `unlockMaildrop`; if the connection
/// ends any other way, only `unlockMaildrop` (RFC 1939 §6: no UPDATE state, nothing removed).
public protocol POP3Backend: AnyObject {
    /// Checks a user name and password (USER/PASS, AUTH PLAIN).
    func verifyPassword(user: String, password: String) -> Bool

    /// The shared secret used by APOP (RFC 1939 §7), or nil when APOP is not possible for this
    /// user. The server compares MD5(timestamp + secret) with the client's digest.
    func apopSecret(user: String) -> String?

    /// Takes the exclusive lock on the user's maildrop and returns its messages in order (message
    /// number 1 is the first). Fails with `.inUse` when another session holds the lock.
    func lockMaildrop(user: String) -> Result<[POP3MaildropMessage], POP3MaildropError>

    /// Removes the messages with these unique ids (UPDATE state, RFC 1939 §6).
    func removeMessages(user: String, uniqueIDs: [String]) -> Result<Void, POP3MaildropError>

    /// Releases the lock taken by `lockMaildrop`.
    func unlockMaildrop(user: String)
}
