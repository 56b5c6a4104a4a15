import MailCore
import MailMessage

/// The store serves the IMAP engine directly: most requirements are the store's own public
/// methods (their ``MailStoreError`` converts to ``IMAPBackendError``); the rest are here.
extension MailStore: IMAPBackend {
    public var hierarchySeparator: Character { separator }

    public func authenticate(user: String, password: String) -> String? { checkPassword(user: user, password: password) }

    public func namespaces(user: String) -> IMAPNamespaces {
        IMAPNamespaces(personal: [("", separator)], otherUsers: [], shared: [(sharedRoot + String(separator), separator)])
    }

    public func messageBytes(user: String, mailbox: String, uid: UInt32) -> [UInt8]? { raw(user: user, mailbox: mailbox, uid: uid) }

    public func messageStructure(user: String, mailbox: String, uid: UInt32) -> IMAPMessageStructure? {
        structure(user: user, mailbox: mailbox, uid: uid)
    }

    public func decodedHeaderText(_ value: String) -> String { EncodedWord.decode(value).text }

    public func append(user: String, mailbox: String, message: [UInt8], flags: Set<IMAPFlag>,
                       internalDate: IMAPDate) throws -> (uidValidity: UInt32, uid: UInt32) {
        try append(user: user, mailbox: mailbox, bytes: message, flags: flags, internalDate: internalDate)
    }
}
