import MailCore

/// Why a store operation failed.
public enum MailStoreError: Error, Hashable, Sendable, IMAPBackendErrorConvertible {
    case noSuchUser(String)
    case noSuchMailbox(String)
    case mailboxExists(String)
    case invalidName(String)
    case permissionDenied(String)
    case cannot(String)
    /// Delivery or append would go over the owner's quota (bytes or number of messages).
    /// `permanent` when the message alone is bigger than the whole quota.
    case quotaExceeded(permanent: Bool)

    /// The SMTP reply an MTA should give for a failed delivery (RFC 5321 §4.2, RFC 3463).
    public var smtpReply: (code: Int, enhanced: String, text: String) {
        switch self {
        case .quotaExceeded(let permanent):
            return permanent ? (552, "5.2.2", "Mailbox full: message exceeds the quota")
                : (452, "4.2.2", "Mailbox full, try again later")
        case .noSuchUser: return (550, "5.1.1", "User unknown")
        case .noSuchMailbox, .invalidName, .mailboxExists, .permissionDenied, .cannot:
            return (451, "4.3.0", "Temporary local error")
        }
    }

    /// The IMAP engine's view of the error.
    public var imapBackendError: IMAPBackendError {
        switch self {
        case .noSuchUser, .noSuchMailbox: return .nonexistent
        case .mailboxExists: return .alreadyExists
        case .invalidName(let why): return .cannot(why)
        case .permissionDenied: return .noPermission
        case .cannot(let why): return .cannot(why)
        case .quotaExceeded: return .overQuota
        }
    }
}

/// A change made to a mailbox, given to observers (IMAP IDLE sessions, the tutor's goal checks).
public struct MailboxChange: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case exists, expunge, flags, created, deleted, renamed }
    /// The account that owns the folder (a user, or a team for shared mailboxes).
    public var owner: String
    /// Folder name inside the owner's account (`INBOX`, `Work.Projects`).
    public var folder: String
    public var kind: Kind
    public var uids: [UInt32]
}

/// A message kept in a folder.
public struct StoredMessage: Hashable, Sendable {
    public let uid: UInt32
    public let internalDate: IMAPDate
    public let raw: [UInt8]
    public var flags: Set<IMAPFlag>
    /// Whether some session has already been told this message is `\Recent`.
    public var recentClaimed: Bool
    public var size: Int { raw.count }
}

/// The mail store of one MDA host: accounts (users and teams), folders, messages, UIDs, flags,
/// quotas, subscriptions, change notification and the POP3 lock.
///
/// Names. Each account has folders in a hierarchy separated by `.`; `INBOX` is case-insensitive.
/// A *team* account (e.g. `support`) has no password; its members see its folders under the
/// shared namespace `Shared.` — `Shared.support` is the team's INBOX, `Shared.support.Archive`
/// its `Archive` folder. NAMESPACE answers `(("" ".")) NIL (("Shared." "."))`.
///
/// Time. The store never reads a clock: deliveries and appends carry their internal date, and
/// ``now`` (set by the host) seeds new UIDVALIDITY values, which are strictly increasing.
///
/// Notifications. Every change is appended to ``changeLog`` and given to observers. A host keeps
/// its IMAP sessions in step by observing the store and, for each session of a user in
/// ``viewers(of:)`` that ``IMAPServer/isIdling``, calling ``IMAPServer/mailboxChanged(now:)``;
/// other sessions pick the news up at their next command.
///
/// ```swift
/// let store = MailStore()
/// try store.addUser("bob", password: "secret123", addresses: ["bob@company.org"], quotaBytes: 10_000_000)
/// let uid = try store.deliver(to: "bob", bytes: message, internalDate: now)
/// ```
public final class MailStore {
    final class Folder {
        var name: String
        var uidValidity: UInt32
        var uidNext: UInt32 = 1
        var messages: [StoredMessage] = []
        var changeCounter: UInt64 = 1
        var keywords: Set<IMAPFlag> = []
        var structures: [UInt32: IMAPMessageStructure] = [:]
        init(name: String, uidValidity: UInt32) { self.name = name; self.uidValidity = uidValidity }

        func index(of uid: UInt32) -> Int? {
            var lo = 0, hi = messages.count - 1
            while lo <= hi {
                let mid = (lo + hi) / 2
                if messages[mid].uid == uid { return mid }
                if messages[mid].uid < uid { lo = mid + 1 } else { hi = mid - 1 }
            }
            return nil
        }
    }

    final class Account {
        let name: String
        let password: String?
        /// Fixed at creation: ``MailStore/addressIndex`` is built from them.
        let addresses: [String]
        var quotaBytes: Int?
        /// The most messages the account may hold, all folders together (Dovecot's
        /// `quota_rule = *:messages=N`).
        var quotaMessages: Int?
        /// Folders in creation order (LIST shows them in this order).
        var folders: [Folder] = []
        var subscriptions: Set<String> = []
        var members: [String] = []
        var pop3Locked = false
        init(name: String, password: String?, addresses: [String], quotaBytes: Int?) {
            self.name = name; self.password = password; self.addresses = addresses; self.quotaBytes = quotaBytes
        }
        var isTeam: Bool { password == nil }
        var usedBytes: Int { folders.reduce(0) { $0 + $1.messages.reduce(0) { $0 + $1.size } } }
        var messageCount: Int { folders.reduce(0) { $0 + $1.messages.count } }
        func folder(_ name: String) -> Folder? { folders.first { $0.name == name } }
    }

    /// The hierarchy separator.
    public let separator: Character = "."
    /// The shared namespace prefix (without its trailing separator).
    public let sharedRoot = "Shared"
    /// Current virtual time; new folders take UIDVALIDITY from it (kept strictly increasing).
    public var now: IMAPDate
    var accounts: [String: Account] = [:]
    private var accountOrder: [String] = []
    /// Lower-cased address → the first account, in creation order, that lists it.
    private var addressIndex: [String: String] = [:]
    private var lastUIDValidity: UInt32 = 0
    private var observers: [(UInt64, (MailboxChange) -> Void)] = []
    private var nextObserver: UInt64 = 1
    /// Recent changes, oldest first: the last ``changeLogLimit`` to ``changeLogLimit``·2 of them.
    public private(set) var changeLog: [MailboxChange] = []
    public var changeLogLimit = 1000
    /// The most messages an account without a message quota may hold, all folders together. The
    /// store keeps every message in memory, so even an account with no quota has a bound: without
    /// one, `COPY 1:* INBOX` doubles a mailbox at each command (22 commands made 4 million
    /// messages). Dovecot's `quota_rule = *:messages=N`, as a default; an account's own message
    /// quota replaces it.
    public var messageLimit = 100_000

    public init(now: IMAPDate = IMAPDate(secondsSince1970: 0)) { self.now = now }

    // MARK: accounts

    /// Adds a user with an INBOX. `quotaBytes` nil means unlimited.
    public func addUser(_ name: String, password: String, addresses: [String] = [], quotaBytes: Int? = nil) throws {
        try addAccount(Account(name: name, password: password, addresses: addresses, quotaBytes: quotaBytes))
    }

    /// Adds a team mailbox (`support`, `ventes`) that `members` open as `Shared.<name>`.
    public func addTeam(_ name: String, members: [String], addresses: [String] = [], quotaBytes: Int? = nil) throws {
        guard !name.contains(separator), !name.isEmpty else { throw MailStoreError.invalidName(name) }
        let account = Account(name: name, password: nil, addresses: addresses, quotaBytes: quotaBytes)
        account.members = members
        try addAccount(account)
    }

    private func addAccount(_ account: Account) throws {
        guard accounts[account.name.lowercased()] == nil else { throw MailStoreError.mailboxExists(account.name) }
        accounts[account.name.lowercased()] = account
        accountOrder.append(account.name.lowercased())
        for address in account.addresses where addressIndex[address.lowercased()] == nil {
            addressIndex[address.lowercased()] = account.name
        }
        account.folders.append(Folder(name: "INBOX", uidValidity: newUIDValidity()))
        account.subscriptions.insert("INBOX")
    }

    /// The account (user or team) that receives mail for `address` (case-insensitive), if any.
    public func account(forAddress address: String) -> String? {
        addressIndex[address.lowercased()]
    }

    public func hasAccount(_ name: String) -> Bool { accounts[name.lowercased()] != nil }

    /// Sets or clears a quota.
    public func setQuota(_ name: String, bytes: Int?) throws {
        guard let acc = accounts[name.lowercased()] else { throw MailStoreError.noSuchUser(name) }
        acc.quotaBytes = bytes
    }

    /// Sets or clears the quota on the number of messages.
    public func setQuota(_ name: String, messages: Int?) throws {
        guard let acc = accounts[name.lowercased()] else { throw MailStoreError.noSuchUser(name) }
        acc.quotaMessages = messages
    }

    /// Messages held and message quota of an account.
    public func messageQuota(_ name: String) throws -> (used: Int, limit: Int?) {
        guard let acc = accounts[name.lowercased()] else { throw MailStoreError.noSuchUser(name) }
        return (acc.messageCount, acc.quotaMessages)
    }

    /// Bytes used and quota of an account.
    public func quota(_ name: String) throws -> (used: Int, limit: Int?) {
        guard let acc = accounts[name.lowercased()] else { throw MailStoreError.noSuchUser(name) }
        return (acc.usedBytes, acc.quotaBytes)
    }

    /// Checks a user's password (teams cannot log in); returns the canonical name.
    public func checkPassword(user: String, password: String) -> String? {
        guard let acc = accounts[user.lowercased()], let p = acc.password, p == password else { return nil }
        return acc.name
    }

    // MARK: notifications

    /// Registers an observer called after every change; returns a token for ``removeObserver(_:)``.
    @discardableResult
    public func addObserver(_ body: @escaping (MailboxChange) -> Void) -> UInt64 {
        let token = nextObserver
        nextObserver += 1
        observers.append((token, body))
        return token
    }

    public func removeObserver(_ token: UInt64) { observers.removeAll { $0.0 == token } }

    private func notify(_ account: Account, _ folder: String, _ kind: MailboxChange.Kind, _ uids: [UInt32] = []) {
        let change = MailboxChange(owner: account.name, folder: folder, kind: kind, uids: uids)
        changeLog.append(change)
        // Trimmed by half-windows, not one change at a time: a busy store would shift the whole
        // log on every delivery.
        if changeLog.count > 2 * changeLogLimit { changeLog.removeFirst(changeLog.count - changeLogLimit) }
        for (_, o) in observers { o(change) }
    }

    /// Users who can see a folder of `owner` (the owner, or a team's members) — the sessions a
    /// host should wake after a change.
    public func viewers(of owner: String) -> [String] {
        guard let acc = accounts[owner.lowercased()] else { return [] }
        return acc.isTeam ? acc.members : [acc.name]
    }

    /// Debug check of the store's invariants: in every folder UIDs strictly increase and stay below
    /// UIDNEXT, folder names are unique, parents exist, and UIDVALIDITY values are unique per account.
    /// Returns the problems found (empty when sound).
    public func checkInvariants() -> [String] {
        var problems = [String]()
        for key in accountOrder {
            guard let acc = accounts[key] else { problems.append("missing account \(key)"); continue }
            var names = Set<String>(), validities = Set<UInt32>()
            if acc.folder("INBOX") == nil { problems.append("\(acc.name): no INBOX") }
            for f in acc.folders {
                if !names.insert(f.name).inserted { problems.append("\(acc.name): duplicate folder \(f.name)") }
                if !validities.insert(f.uidValidity).inserted { problems.append("\(acc.name): duplicate UIDVALIDITY in \(f.name)") }
                var last: UInt32 = 0
                for m in f.messages {
                    if m.uid <= last || m.uid >= f.uidNext { problems.append("\(acc.name)/\(f.name): bad UID \(m.uid)") }
                    last = m.uid
                }
                let levels = f.name.split(separator: separator)
                if levels.count > 1, f.name != "INBOX", acc.folder(levels.dropLast().joined(separator: String(separator))) == nil,
                   !f.name.hasPrefix("INBOX" + String(separator)) {
                    problems.append("\(acc.name): \(f.name) has no parent")
                }
            }
        }
        return problems
    }

    // MARK: POP3 lock

    /// Takes the exclusive maildrop lock (RFC 1939 §8); false when already held (`-ERR [IN-USE]`).
    public func acquireLock(user: String) -> Bool {
        guard let acc = accounts[user.lowercased()], !acc.pop3Locked else { return false }
        acc.pop3Locked = true
        return true
    }

    public func releaseLock(user: String) { accounts[user.lowercased()]?.pop3Locked = false }

    public func isLocked(user: String) -> Bool { accounts[user.lowercased()]?.pop3Locked ?? false }

    // MARK: names

    private func newUIDValidity() -> UInt32 {
        let fromClock = UInt32(clamping: max(Int64(0), now.secondsSince1970))
        lastUIDValidity = max(lastUIDValidity &+ 1, fromClock)
        return lastUIDValidity
    }

    /// Canonical folder name: `INBOX` in any case becomes `INBOX` (also as a prefix).
    func canonical(_ name: String) -> String {
        let upper = name.uppercased()
        if upper == "INBOX" { return "INBOX" }
        if upper.hasPrefix("INBOX" + String(separator)) { return "INBOX" + name.dropFirst(5) }
        return name
    }

    private func validate(_ name: String) throws {
        guard !name.isEmpty, name.count <= 200 else { throw MailStoreError.invalidName("Invalid mailbox name.") }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw MailStoreError.invalidName("Mailbox name contains control characters.")
        }
        guard !name.contains("*"), !name.contains("%") else { throw MailStoreError.invalidName("Mailbox name contains wildcards.") }
        guard !name.split(separator: separator, omittingEmptySubsequences: false).contains(where: { $0.isEmpty }) else {
            throw MailStoreError.invalidName("Mailbox name has an empty level.")
        }
    }

    /// Maps a name as a user sees it to (account, folder name).
    func resolve(user: String, _ visible: String) throws -> (Account, String) {
        guard let me = accounts[user.lowercased()] else { throw MailStoreError.noSuchUser(user) }
        let prefix = sharedRoot + String(separator)
        if visible.hasPrefix(prefix) {
            let rest = visible.dropFirst(prefix.count)
            let teamName = rest.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard let team = accounts[teamName.lowercased()], team.isTeam,
                  team.members.contains(where: { $0.lowercased() == me.name.lowercased() }) else {
                throw MailStoreError.noSuchMailbox(visible)
            }
            let inner = rest.dropFirst(teamName.count)
            return (team, inner.isEmpty ? "INBOX" : String(inner.dropFirst()))
        }
        if visible == sharedRoot { throw MailStoreError.noSuchMailbox(visible) }
        return (me, canonical(visible))
    }

    private func folder(user: String, _ visible: String) throws -> (Account, Folder) {
        let (acc, name) = try resolve(user: user, visible)
        guard let f = acc.folder(name) else { throw MailStoreError.noSuchMailbox(visible) }
        return (acc, f)
    }

    private func checkQuota(_ acc: Account, adding bytes: Int, messages: Int) throws {
        if let q = acc.quotaBytes {
            if bytes > q { throw MailStoreError.quotaExceeded(permanent: true) }
            if acc.usedBytes + bytes > q { throw MailStoreError.quotaExceeded(permanent: false) }
        }
        let q = acc.quotaMessages ?? messageLimit
        if messages > q { throw MailStoreError.quotaExceeded(permanent: true) }
        if acc.messageCount + messages > q { throw MailStoreError.quotaExceeded(permanent: false) }
    }

    // MARK: messages

    /// Delivers a message (the MTA/MDA path) into `folder` of an account (user or team);
    /// returns its UID. Throws ``MailStoreError/quotaExceeded(permanent:)`` over quota.
    @discardableResult
    public func deliver(to account: String, folder: String = "INBOX", bytes: [UInt8], internalDate: IMAPDate) throws -> UInt32 {
        guard let acc = accounts[account.lowercased()] else { throw MailStoreError.noSuchUser(account) }
        guard let f = acc.folder(canonical(folder)) else { throw MailStoreError.noSuchMailbox(folder) }
        try checkQuota(acc, adding: bytes.count, messages: 1)
        return add(acc, f, bytes: bytes, flags: [], date: internalDate)
    }

    private func add(_ acc: Account, _ f: Folder, bytes: [UInt8], flags: Set<IMAPFlag>, date: IMAPDate) -> UInt32 {
        let uid = f.uidNext
        f.uidNext += 1
        let kept = flags.subtracting([.recent])
        f.messages.append(StoredMessage(uid: uid, internalDate: date, raw: bytes, flags: kept, recentClaimed: false))
        f.keywords.formUnion(kept.filter { !$0.isSystem })
        f.changeCounter += 1
        notify(acc, f.name, .exists, [uid])
        return uid
    }

    /// Appends a message as a client would (IMAP APPEND): given flags, internal date.
    @discardableResult
    public func append(user: String, mailbox: String, bytes: [UInt8], flags: Set<IMAPFlag> = [],
                       internalDate: IMAPDate) throws -> (uidValidity: UInt32, uid: UInt32) {
        let (acc, f) = try folder(user: user, mailbox)
        try checkQuota(acc, adding: bytes.count, messages: 1)
        return (f.uidValidity, add(acc, f, bytes: bytes, flags: flags, date: internalDate))
    }

    /// The messages of a folder in UID order.
    public func messages(user: String, mailbox: String = "INBOX") throws -> [StoredMessage] {
        try folder(user: user, mailbox).1.messages
    }

    /// UIDVALIDITY and UIDNEXT of a folder.
    public func uidState(user: String, mailbox: String) throws -> (uidValidity: UInt32, uidNext: UInt32) {
        let f = try folder(user: user, mailbox).1
        return (f.uidValidity, f.uidNext)
    }

    /// Changes flags; returns the new flags of each UID found.
    @discardableResult
    public func storeFlags(user: String, mailbox: String, uids: [UInt32], operation: IMAPStoreOperation,
                           flags: Set<IMAPFlag>) throws -> [UInt32: Set<IMAPFlag>] {
        let (acc, f) = try folder(user: user, mailbox)
        let given = flags.subtracting([.recent])
        var result = [UInt32: Set<IMAPFlag>]()
        var changed = [UInt32]()
        for uid in uids {
            guard let i = f.index(of: uid) else { continue }
            let before = f.messages[i].flags
            switch operation {
            case .replace: f.messages[i].flags = given
            case .add: f.messages[i].flags.formUnion(given)
            case .remove: f.messages[i].flags.subtract(given)
            }
            result[uid] = f.messages[i].flags
            if before != f.messages[i].flags { changed.append(uid) }
        }
        f.keywords.formUnion(given.filter { !$0.isSystem })
        if !changed.isEmpty {
            f.changeCounter += 1
            notify(acc, f.name, .flags, changed)
        }
        return result
    }

    /// Copies messages (flags kept, new UIDs); returns the destination UIDVALIDITY and UID pairs.
    public func copy(user: String, from: String, uids: [UInt32], to: String) throws -> IMAPCopyResult {
        try copy(user: user, from: from, uids: uids, to: to, moving: false)
    }

    private func copy(user: String, from: String, uids: [UInt32], to: String, moving: Bool) throws -> IMAPCopyResult {
        let (sacc, src) = try folder(user: user, from)
        let (dacc, dst) = try folder(user: user, to)
        let picked = uids.sorted().compactMap { src.index(of: $0).map { src.messages[$0] } }
        // A move inside one account does not change its usage.
        if !(moving && sacc === dacc) { try checkQuota(dacc, adding: picked.reduce(0) { $0 + $1.size }, messages: picked.count) }
        var mapping = [(UInt32, UInt32)]()
        for m in picked {
            let uid = dst.uidNext
            dst.uidNext += 1
            dst.messages.append(StoredMessage(uid: uid, internalDate: m.internalDate, raw: m.raw, flags: m.flags, recentClaimed: false))
            dst.keywords.formUnion(m.flags.filter { !$0.isSystem })
            mapping.append((m.uid, uid))
        }
        if !mapping.isEmpty {
            dst.changeCounter += 1
            notify(dacc, dst.name, .exists, mapping.map(\.1))
        }
        return IMAPCopyResult(uidValidity: dst.uidValidity, mapping: mapping)
    }

    /// Moves messages (RFC 6851): copy, then remove from the source. Moving into the same mailbox
    /// is allowed (RFC 6851 §3.3 does not forbid it, Dovecot does it): the messages get new UIDs
    /// at the end and the old ones are expunged.
    public func move(user: String, from: String, uids: [UInt32], to: String) throws -> IMAPCopyResult {
        let (sacc, src) = try folder(user: user, from)
        let result = try copy(user: user, from: from, uids: uids, to: to, moving: true)
        let moved = Set(result.mapping.map(\.0))
        remove(sacc, src, moved)
        return result
    }

    private func remove(_ acc: Account, _ f: Folder, _ uids: Set<UInt32>) {
        guard !uids.isEmpty else { return }
        f.messages.removeAll { uids.contains($0.uid) }
        for u in uids { f.structures[u] = nil }
        f.changeCounter += 1
        notify(acc, f.name, .expunge, uids.sorted())
    }

    /// Removes messages flagged `\Deleted` (only among `uids` when given); returns removed UIDs.
    @discardableResult
    public func expunge(user: String, mailbox: String, uids: Set<UInt32>? = nil) throws -> [UInt32] {
        let (acc, f) = try folder(user: user, mailbox)
        let gone = f.messages.filter { $0.flags.contains(.deleted) && (uids?.contains($0.uid) ?? true) }.map(\.uid)
        remove(acc, f, Set(gone))
        return gone
    }

    /// Removes messages outright (POP3 DELE + QUIT).
    public func delete(user: String, mailbox: String = "INBOX", uids: Set<UInt32>) throws {
        let (acc, f) = try folder(user: user, mailbox)
        remove(acc, f, uids.intersection(f.messages.map(\.uid)))
    }

    /// A folder's state; with `claimRecent`, unclaimed messages become recent for the caller only
    /// and are returned in `recent`; without, `recent` lists the unclaimed ones.
    public func snapshot(user: String, mailbox: String, claimRecent: Bool) throws -> IMAPMailboxSnapshot {
        let (_, f) = try folder(user: user, mailbox)
        var recent = Set<UInt32>()
        for i in f.messages.indices where !f.messages[i].recentClaimed {
            recent.insert(f.messages[i].uid)
            if claimRecent { f.messages[i].recentClaimed = true }
        }
        let summaries = f.messages.map {
            IMAPMessageSummary(uid: $0.uid, flags: $0.flags, internalDate: $0.internalDate, size: $0.size)
        }
        return IMAPMailboxSnapshot(uidValidity: f.uidValidity, uidNext: f.uidNext, messages: summaries, recent: recent,
                                   keywords: f.keywords, changeCounter: f.changeCounter)
    }

    /// The folder's change counter (increases on every change), nil if it does not exist.
    public func changeCounter(user: String, mailbox: String) -> UInt64? {
        (try? folder(user: user, mailbox))?.1.changeCounter
    }

    func raw(user: String, mailbox: String, uid: UInt32) -> [UInt8]? {
        guard let (_, f) = try? folder(user: user, mailbox), let i = f.index(of: uid) else { return nil }
        return f.messages[i].raw
    }

    func structure(user: String, mailbox: String, uid: UInt32) -> IMAPMessageStructure? {
        guard let (_, f) = try? folder(user: user, mailbox), let i = f.index(of: uid) else { return nil }
        if let s = f.structures[uid] { return s }
        let s = IMAPStructure.analyze(rawMessage: f.messages[i].raw)
        f.structures[uid] = s
        return s
    }

    /// STATUS counts.
    public func status(user: String, mailbox: String) throws -> IMAPMailboxStatus {
        let (_, f) = try folder(user: user, mailbox)
        return IMAPMailboxStatus(messages: f.messages.count, recent: f.messages.filter { !$0.recentClaimed }.count,
                                 uidNext: f.uidNext, uidValidity: f.uidValidity,
                                 unseen: f.messages.filter { !$0.flags.contains(.seen) }.count)
    }

    // MARK: folders

    /// Creates a folder and any missing parents (RFC 3501 §6.3.3). A trailing separator is dropped.
    public func createMailbox(user: String, name: String) throws {
        var visible = name
        if visible.last == separator { visible.removeLast() }
        try validate(visible)
        let (acc, folderName) = try resolve(user: user, visible)
        if visible.hasPrefix(sharedRoot + String(separator)), folderName == "INBOX", acc.isTeam {
            throw MailStoreError.mailboxExists(name)
        }
        guard acc.folder(folderName) == nil else { throw MailStoreError.mailboxExists(name) }
        let levels = folderName.split(separator: separator).map(String.init)
        for depth in 1...levels.count {
            let partial = levels.prefix(depth).joined(separator: String(separator))
            if acc.folder(partial) == nil {
                acc.folders.append(Folder(name: partial, uidValidity: newUIDValidity()))
                notify(acc, partial, .created)
            }
        }
    }

    /// Deletes a folder; INBOX and folders with children cannot be deleted.
    public func deleteMailbox(user: String, name: String) throws {
        let (acc, folderName) = try resolve(user: user, name)
        guard folderName != "INBOX" else { throw MailStoreError.cannot("INBOX can't be deleted.") }
        guard acc.folder(folderName) != nil else { throw MailStoreError.noSuchMailbox(name) }
        let childPrefix = folderName + String(separator)
        guard !acc.folders.contains(where: { $0.name.hasPrefix(childPrefix) }) else {
            throw MailStoreError.cannot("Mailbox has children, delete them first.")
        }
        acc.folders.removeAll { $0.name == folderName }
        if let me = accounts[user.lowercased()] { me.subscriptions.remove(name) }
        notify(acc, folderName, .deleted)
    }

    /// Renames a folder and its children. Renaming INBOX moves its messages to a new folder and
    /// leaves INBOX empty (RFC 3501 §6.3.5). Renamed folders get a new UIDVALIDITY.
    public func renameMailbox(user: String, from: String, to: String) throws {
        var target = to
        if target.last == separator { target.removeLast() }
        try validate(target)
        let (acc, old) = try resolve(user: user, from)
        let (dacc, new) = try resolve(user: user, target)
        guard acc === dacc else { throw MailStoreError.cannot("Can't rename between namespaces.") }
        guard let src = acc.folder(old) else { throw MailStoreError.noSuchMailbox(from) }
        guard acc.folder(new) == nil else { throw MailStoreError.mailboxExists(to) }
        guard !new.hasPrefix(old + String(separator)) else { throw MailStoreError.cannot("Can't rename a mailbox under itself.") }
        try createParents(acc, of: new)
        if old == "INBOX" {
            let dest = Folder(name: new, uidValidity: newUIDValidity())
            for m in src.messages {
                dest.messages.append(StoredMessage(uid: dest.uidNext, internalDate: m.internalDate, raw: m.raw,
                                                   flags: m.flags, recentClaimed: m.recentClaimed))
                dest.uidNext += 1
            }
            dest.keywords = src.keywords
            acc.folders.append(dest)
            let gone = src.messages.map(\.uid)
            src.messages.removeAll()
            src.structures.removeAll()
            src.changeCounter += 1
            notify(acc, "INBOX", .expunge, gone)
            notify(acc, new, .created)
            return
        }
        let childPrefix = old + String(separator)
        for f in acc.folders where f.name == old || f.name.hasPrefix(childPrefix) {
            let renamed = new + f.name.dropFirst(old.count)
            notify(acc, f.name, .renamed)
            f.name = renamed
            f.uidValidity = newUIDValidity()
            f.changeCounter += 1
        }
    }

    private func createParents(_ acc: Account, of name: String) throws {
        let levels = name.split(separator: separator).map(String.init)
        guard levels.count > 1 else { return }
        for depth in 1..<levels.count {
            let partial = levels.prefix(depth).joined(separator: String(separator))
            if acc.folder(partial) == nil { acc.folders.append(Folder(name: partial, uidValidity: newUIDValidity())) }
        }
    }

    /// Subscribes or unsubscribes (the folder must exist to subscribe).
    public func setSubscribed(user: String, name: String, subscribed: Bool) throws {
        guard let me = accounts[user.lowercased()] else { throw MailStoreError.noSuchUser(user) }
        let visible = name.uppercased() == "INBOX" ? "INBOX" : name
        if subscribed {
            _ = try folder(user: user, visible)
            me.subscriptions.insert(visible)
        } else {
            me.subscriptions.remove(visible)
        }
    }

    /// Subscribed names, sorted.
    public func subscriptions(user: String) -> [String] {
        accounts[user.lowercased()]?.subscriptions.sorted() ?? []
    }

    /// RFC 6154 special uses of personal top-level folders, by name, as a Dovecot configuration
    /// gives them (`mailbox Sent { special_use = \Sent }` …); LIST shows them.
    public static let specialUse: [String: String] = [
        "Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk", "Spam": "\\Junk",
        "Archive": "\\Archive", "Archives": "\\Archive",
    ]

    /// Every folder a user can see, personal ones in creation order, then the shared namespace.
    public func mailboxes(user: String) -> [IMAPMailboxInfo] {
        guard let me = accounts[user.lowercased()] else { return [] }
        var out = [IMAPMailboxInfo]()
        func add(_ names: [String], visiblePrefix: String) {
            for name in names {
                let visible = visiblePrefix.isEmpty ? name : (name == "INBOX" ? visiblePrefix : visiblePrefix + String(separator) + name)
                let hasChildren = names.contains { $0.hasPrefix(name + String(separator)) }
                var attributes = [hasChildren ? "\\HasChildren" : "\\HasNoChildren"]
                if visiblePrefix.isEmpty, let use = MailStore.specialUse[name] { attributes.append(use) }
                out.append(IMAPMailboxInfo(name: visible, attributes: attributes, subscribed: me.subscriptions.contains(visible)))
            }
        }
        add(me.folders.map(\.name), visiblePrefix: "")
        let teams = accountOrder.compactMap { accounts[$0] }.filter {
            $0.isTeam && $0.members.contains { $0.lowercased() == me.name.lowercased() }
        }
        if !teams.isEmpty {
            out.append(IMAPMailboxInfo(name: sharedRoot, attributes: ["\\Noselect", "\\HasChildren"],
                                       subscribed: me.subscriptions.contains(sharedRoot)))
            for team in teams {
                let prefix = sharedRoot + String(separator) + team.name
                let names = team.folders.map(\.name)
                for name in names {
                    let visible = name == "INBOX" ? prefix : prefix + String(separator) + name
                    let hasChildren = name == "INBOX" ? names.count > 1 : names.contains { $0.hasPrefix(name + String(separator)) }
                    out.append(IMAPMailboxInfo(name: visible, attributes: [hasChildren ? "\\HasChildren" : "\\HasNoChildren"],
                                               subscribed: me.subscriptions.contains(visible)))
                }
            }
        }
        return out
    }
}
