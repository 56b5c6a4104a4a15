/// Language of the texts MailSim produces for learners (transcript markers, connection errors).
public enum SimLanguage: String, Sendable, CaseIterable {
    case en, fr
}

/// Why the stacks gave a connection up.
public enum AbortCause: Equatable, Sendable {
    /// Segments waited this long for a path (host down, partition).
    case noPath(VirtualDuration)
    /// A segment was lost more times in a row than the retransmission limit.
    case retransmissionLimit

    public func message(_ language: SimLanguage) -> String {
        switch (self, language) {
        case let (.noPath(duration), .en): return "no path for \(duration)"
        case let (.noPath(duration), .fr): return "aucun chemin pendant \(duration)"
        case (.retransmissionLimit, .en): return "retransmission limit reached"
        case (.retransmissionLimit, .fr): return "limite de retransmissions atteinte"
        }
    }
}

extension ConnectError {
    /// The error in English or French.
    public func message(_ language: SimLanguage) -> String {
        switch (self, language) {
        case (.refused, .en): return "connection refused"
        case (.refused, .fr): return "connexion refusée"
        case (.timedOut, .en): return "connection timed out"
        case (.timedOut, .fr): return "délai de connexion dépassé"
        case let (.unknownHost(name), .en): return "unknown host \(name)"
        case let (.unknownHost(name), .fr): return "hôte inconnu \(name)"
        case (.localHostDown, .en): return "local host is down"
        case (.localHostDown, .fr): return "l'hôte local est arrêté"
        }
    }
}

extension ResetReason {
    /// The reason in English or French (TLS messages from the library stay as they are).
    public func message(_ language: SimLanguage) -> String {
        switch (self, language) {
        case (.byPeer, .en): return "connection reset by peer"
        case (.byPeer, .fr): return "connexion réinitialisée par le pair"
        case (.hostCrashed, .en): return "host crashed"
        case (.hostCrashed, .fr): return "l'hôte a planté"
        case (.timedOut, .en): return "connection timed out"
        case (.timedOut, .fr): return "délai de connexion dépassé"
        case let (.tlsFailed(message), .en): return "TLS failure: \(message)"
        case let (.tlsFailed(message), .fr): return "échec TLS : \(message)"
        case (.droppedByListener, .en): return "dropped by listener fault"
        case (.droppedByListener, .fr): return "coupée par la panne simulée du serveur"
        }
    }
}

/// Transcript markers in both languages.
enum TranscriptText {
    static func side(_ direction: FlowDirection, _ language: SimLanguage) -> String {
        switch (direction, language) {
        case (.clientToServer, .en): return "client"
        case (.serverToClient, .en): return "server"
        case (.clientToServer, .fr): return "du client"
        case (.serverToClient, .fr): return "du serveur"
        }
    }

    static func at(_ language: SimLanguage) -> String { language == .en ? "at" : "à" }

    static func tlsStarted(_ language: SimLanguage) -> String {
        language == .en ? "-- TLS started --" : "-- début de TLS --"
    }

    static func tlsFailed(_ side: Connection.Side, _ message: String, _ language: SimLanguage) -> String {
        switch (side, language) {
        case (.client, .en): return "-- TLS failed on the client: \(message) --"
        case (.server, .en): return "-- TLS failed on the server: \(message) --"
        case (.client, .fr): return "-- échec TLS côté client : \(message) --"
        case (.server, .fr): return "-- échec TLS côté serveur : \(message) --"
        }
    }

    static func fin(_ direction: FlowDirection, _ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en
            ? "-- FIN from \(side(direction, .en)) at \(time) --"
            : "-- FIN \(side(direction, .fr)) à \(time) --"
    }

    static func rst(_ direction: FlowDirection, _ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en
            ? "-- RST from \(side(direction, .en)) at \(time) --"
            : "-- RST \(side(direction, .fr)) à \(time) --"
    }

    static func refused(_ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en ? "-- connection refused at \(time) --" : "-- connexion refusée à \(time) --"
    }

    static func timedOut(_ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en ? "-- connection timed out at \(time) --" : "-- délai de connexion dépassé à \(time) --"
    }

    static func aborted(_ cause: AbortCause, _ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en
            ? "-- aborted at \(time): \(cause.message(.en)) --"
            : "-- connexion abandonnée à \(time) : \(cause.message(.fr)) --"
    }

    static func truncated(_ time: VirtualTime, _ language: SimLanguage) -> String {
        language == .en
            ? "-- tap limit reached at \(time): later bytes not recorded --"
            : "-- limite de la capture atteinte à \(time) : octets suivants non enregistrés --"
    }

    static func ciphertext(_ count: Int, _ language: SimLanguage) -> String {
        language == .en ? "[TLS ciphertext, \(count) bytes]" : "[chiffré TLS, \(count) octets]"
    }
}
