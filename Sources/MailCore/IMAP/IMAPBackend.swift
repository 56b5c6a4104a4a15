/// One message as a session sees it in a mailbox listing.
public struct IMAPMessageSummary: Hashable, Sendable {
    public var uid: UInt32
    /// Stored flags and keywords (never `\Recent`, which is per session).
    public var flags: Set<IMAPFlag>
    public var internalDate: IMAPDate
    public var size: Int
    public init(uid: UInt32, flags: Set<IMAPFlag>, internalDate: IMAPDate, size: Int) {
        self.uid = uid; self.flags = flags; self.internalDate = internalDate; self.size = size
    }
}

/// The state of a mailbox at one instant, as returned by ``IMAPBackend/snapshot(user:mailbox:claimRecent:)``.
public struct IMAPMailboxSnapshot: Hashable, Sendable {
    public var uidValidity: UInt32
    public var uidNext: UInt32
    /// In ascending UID order: position + 1 is the sequence number.
    public var messages: [IMAPMessageSummary]
    /// UIDs that are `\Recent` for the calling session.
    public var recent: Set<UInt32>
    /// Keywords defined in the mailbox (listed in FLAGS after the system flags).
    public var keywords: Set<IMAPFlag>
    /// Increases on every change to the mailbox; a session compares it to skip needless work.
    public var changeCounter: UInt64
    public init(uidValidity: UInt32, uidNext: UInt32, messages: [IMAPMessageSummary], recent: Set<UInt32>,
                keywords: Set<IMAPFlag> = [], changeCounter: UInt64) {
        self.uidValidity = uidValidity; self.uidNext = uidNext; self.messages = messages; self.recent = recent
        self.keywords = keywords; self.changeCounter = changeCounter
    }
}

/// A mailbox as LIST shows it.
public struct IMAPMailboxInfo: Hashable, Sendable {
    /// Full Unicode name, hierarchy separated by ``IMAPBackend/hierarchySeparator``.
    public var name: String
    /// `\HasChildren`, `\HasNoChildren`, `\Noselect`, `\Sent`…
    public var attributes: [String]
    public var subscribed: Bool
    public init(name: String, attributes: [String], subscribed: Bool) {
        self.name = name; self.attributes = attributes; self.subscribed = subscribed
    }
}

/// STATUS counts (RFC 3501 §6.3.10).
public struct IMAPMailboxStatus: Hashable, Sendable {
    public var messages: Int
    public var recent: Int
    public var uidNext: UInt32
    public var uidValidity: UInt32
    public var unseen: Int
    public init(messages: Int, recent: Int, uidNext: UInt32, uidValidity: UInt32, unseen: Int) {
        self.messages = messages; self.recent = recent; self.uidNext = uidNext; self.uidValidity = uidValidity; self.unseen = unseen
    }
}

/// The UIDs given by COPY/MOVE, for the `COPYUID` response code (RFC 4315 §3).
public struct IMAPCopyResult: Hashable, Sendable {
    public var uidValidity: UInt32
    /// (source UID, new UID in the destination), in source order.
    public var mapping: [(UInt32, UInt32)]
    public init(uidValidity: UInt32, mapping: [(UInt32, UInt32)]) { self.uidValidity = uidValidity; self.mapping = mapping }
    public static func == (a: IMAPCopyResult, b: IMAPCopyResult) -> Bool {
        a.uidValidity == b.uidValidity && a.mapping.map { [$0.0, $0.1] } == b.mapping.map { [$0.0, $0.1] }
    }
    public func hash(into h: inout Hasher) { h.combine(uidValidity); for (a, b) in mapping { h.combine(a); h.combine(b) } }
}

/// The namespaces a user sees (RFC 2342): prefix and separator for each.
public struct IMAPNamespaces: Hashable, Sendable {
    public var personal: [(prefix: String, separator: Character)]
    public var otherUsers: [(prefix: String, separator: Character)]
    public var shared: [(prefix: String, separator: Character)]
    public init(personal: [(prefix: String, separator: Character)], otherUsers: [(prefix: String, separator: Character)] = [],
                shared: [(prefix: String, separator: Character)] = []) {
        self.personal = personal; self.otherUsers = otherUsers; self.shared = shared
    }
    public static func == (a: IMAPNamespaces, b: IMAPNamespaces) -> Bool {
        func k(_ l: [(prefix: String, separator: Character)]) -> [String] { l.map { $0.prefix + String($0.separator) } }
        return k(a.personal) == k(b.personal) && k(a.otherUsers) == k(b.otherUsers) && k(a.shared) == k(b.shared)
    }
    public func hash(into h: inout Hasher) { for l in [personal, otherUsers, shared] { for n in l { h.combine(n.prefix) } } }
}

/// What went wrong in the store; the engine turns each case into a tagged `NO` with a response code.
public enum IMAPBackendError: Error, Hashable, Sendable {
    /// `NO [NONEXISTENT]` (or `[TRYCREATE]` for COPY/APPEND/MOVE targets).
    case nonexistent
    /// `NO [ALREADYEXISTS]`
    case alreadyExists
    /// `NO [NOPERM]`
    case noPermission
    /// `NO [OVERQUOTA]`
    case overQuota
    /// `NO [CANNOT]` with a reason (deleting INBOX, a name with the separator at the end…).
    case cannot(String)
}

/// A store's own error type can conform to tell the engine which `NO` to answer.
public protocol IMAPBackendErrorConvertible: Error {
    var imapBackendError: IMAPBackendError { get }
}

/// What the IMAP server engine needs from a mail store. MailAgents' `MailStore` conforms.
///
/// Every method names the authenticated user; mailbox names are full Unicode names (INBOX
/// already normalised to `"INBOX"`). The engine keeps its own per-session view (sequence numbers,
/// flags last reported) and learns what others changed by comparing snapshots, so the backend
/// needs no session registry.
public protocol IMAPBackend: AnyObject {
    /// The hierarchy separator (`"."` in MailLab, as in the course's Dovecot).
    var hierarchySeparator: Character { get }
    /// Checks credentials; returns the canonical user name, or nil.
    func authenticate(user: String, password: String) -> String?
    func namespaces(user: String) -> IMAPNamespaces
    /// Every mailbox the user can see, in a stable order.
    func mailboxes(user: String) -> [IMAPMailboxInfo]
    func createMailbox(user: String, name: String) throws
    func deleteMailbox(user: String, name: String) throws
    func renameMailbox(user: String, from: String, to: String) throws
    func setSubscribed(user: String, name: String, subscribed: Bool) throws
    func status(user: String, mailbox: String) throws -> IMAPMailboxStatus
    /// The mailbox now. With `claimRecent`, messages not yet seen by any session become recent
    /// for this caller only (RFC 3501 §2.3.2); without it, `recent` lists unclaimed messages.
    func snapshot(user: String, mailbox: String, claimRecent: Bool) throws -> IMAPMailboxSnapshot
    /// The change counter alone (cheap), or nil if the mailbox no longer exists.
    func changeCounter(user: String, mailbox: String) -> UInt64?
    func messageBytes(user: String, mailbox: String, uid: UInt32) -> [UInt8]?
    func messageStructure(user: String, mailbox: String, uid: UInt32) -> IMAPMessageStructure?
    /// Changes flags of the given UIDs (missing ones ignored); returns the new flags per UID.
    func storeFlags(user: String, mailbox: String, uids: [UInt32], operation: IMAPStoreOperation,
                    flags: Set<IMAPFlag>) throws -> [UInt32: Set<IMAPFlag>]
    func copy(user: String, from: String, uids: [UInt32], to: String) throws -> IMAPCopyResult
    func move(user: String, from: String, uids: [UInt32], to: String) throws -> IMAPCopyResult
    /// Removes messages flagged `\Deleted` (only those in `uids` when given); returns removed UIDs.
    func expunge(user: String, mailbox: String, uids: Set<UInt32>?) throws -> [UInt32]
    /// Appends a message; returns (UIDVALIDITY, UID) for `APPENDUID`.
    func append(user: String, mailbox: String, message: [UInt8], flags: Set<IMAPFlag>,
                internalDate: IMAPDate) throws -> (uidValidity: UInt32, uid: UInt32)
    /// A header value with its RFC 2047 encoded words decoded, for SEARCH (RFC 3501 §6.4.4:
    /// `SUBJECT café` finds `Subject: =?utf-8?q?caf=C3=A9?=`, as Dovecot does).
    func decodedHeaderText(_ value: String) -> String
}

extension IMAPBackend {
    /// Without a MIME decoder, a backend searches header values as written.
    public func decodedHeaderText(_ value: String) -> String { value }
}
