import MailCore

/// POP3 sees a user's INBOX as the maildrop (RFC 1939), locked while a session holds it.
extension MailStore: POP3Backend {
    public func verifyPassword(user: String, password: String) -> Bool {
        checkPassword(user: user, password: password) != nil
    }

    public func apopSecret(user: String) -> String? { password(user: user) }

    public func lockMaildrop(user: String) -> Result<[POP3MaildropMessage], POP3MaildropError> {
        guard hasAccount(user) else { return .failure(.permanentFailure) }
        guard acquireLock(user: user) else { return .failure(.inUse) }
        do {
            let uidValidity = try uidState(user: user, mailbox: "INBOX").uidValidity
            let listing = try messages(user: user).map {
                POP3MaildropMessage(uniqueID: Self.pop3UniqueID(uidValidity: uidValidity, uid: $0.uid), content: $0.raw)
            }
            return .success(listing)
        } catch {
            releaseLock(user: user)
            return .failure(.temporaryFailure)
        }
    }

    public func removeMessages(user: String, uniqueIDs: [String]) -> Result<Void, POP3MaildropError> {
        do {
            let uidValidity = try uidState(user: user, mailbox: "INBOX").uidValidity
            var uids: Set<UInt32> = []
            for id in uniqueIDs {
                guard let (validity, uid) = Self.parsePOP3UniqueID(id), validity == uidValidity else { continue }
                uids.insert(uid)
            }
            try delete(user: user, uids: uids)
            return .success(())
        } catch {
            return .failure(.temporaryFailure)
        }
    }

    public func unlockMaildrop(user: String) { releaseLock(user: user) }

    /// A UIDL value that never changes for a message: its folder's UIDVALIDITY and its UID, in
    /// hexadecimal (`65a3f2c0000002a`), the way Dovecot derives them.
    public static func pop3UniqueID(uidValidity: UInt32, uid: UInt32) -> String {
        hex(uidValidity, width: 8) + hex(uid, width: 8)
    }

    static func parsePOP3UniqueID(_ text: String) -> (UInt32, UInt32)? {
        guard text.utf8.count == 16,
              let validity = UInt32(text.prefix(8), radix: 16), let uid = UInt32(text.suffix(8), radix: 16) else { return nil }
        return (validity, uid)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
