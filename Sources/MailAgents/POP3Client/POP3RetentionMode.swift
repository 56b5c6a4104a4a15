import MailCore

/// What a mail client does with the messages it downloads by POP3 (the three modes of the course).
public enum POP3RetentionMode: Equatable, Hashable, Sendable {
    /// Download, then DELE: the message leaves the server, so another device will not see it.
    case deleteAfterDownload
    /// Download only what this device has not seen (by UIDL), never delete.
    case leaveOnServer
    /// Like `leaveOnServer`, and delete from the server the messages this device downloaded at
    /// least `after` ago (virtual time).
    case leaveOnServerThenDelete(after: Duration)

    /// The short name used in scenario files and settings.
    public var name: String {
        switch self {
        case .deleteAfterDownload: return "delete"
        case .leaveOnServer: return "leave"
        case .leaveOnServerThenDelete: return "leave-then-delete"
        }
    }

    /// Reads `delete`, `leave`, or `leave-then-delete` with a number of days.
    public init?(name: String, days: Int? = nil) {
        switch name {
        case "delete": self = .deleteAfterDownload
        case "leave": self = .leaveOnServer
        case "leave-then-delete":
            guard let days, days >= 0 else { return nil }
            self = .leaveOnServerThenDelete(after: .seconds(days * 86_400))
        default: return nil
        }
    }
}

extension POP3RetentionMode {
    /// What the mode does, for the learner.
    public var summary: POP3LocalizedText {
        switch self {
        case .deleteAfterDownload:
            return .init(english: "Download each message, then delete it from the server (DELE): other devices will not get it.",
                         french: "Télécharger chaque message puis le supprimer du serveur (DELE) : les autres appareils ne le recevront pas.")
        case .leaveOnServer:
            return .init(english: "Leave messages on the server; UIDL tells which ones this device already has, so none is downloaded twice.",
                         french: "Laisser les messages sur le serveur ; UIDL indique ceux que l'appareil possède déjà, aucun n'est téléchargé deux fois.")
        case .leaveOnServerThenDelete(let after):
            let days = after.components.seconds / 86_400
            return .init(english: "Leave messages on the server, and delete them \(days) day(s) after this device downloaded them.",
                         french: "Laisser les messages sur le serveur, puis les supprimer \(days) jour(s) après leur téléchargement par cet appareil.")
        }
    }
}
