/// A short text a learner may read, in English and in French: the catalogue's ``BilingualText``
/// under the name the POP3 client first gave it.
public typealias POP3LocalizedText = BilingualText

extension POP3ClientError.Kind {
    /// What went wrong, for the learner.
    public var summary: POP3LocalizedText {
        switch self {
        case .greetingRefused:
            return .init(english: "The server refused the connection in its greeting (-ERR).",
                         french: "Le serveur a refusé la connexion dès son message d'accueil (-ERR).")
        case .tlsUnavailable:
            return .init(english: "TLS was required but the server does not offer STLS.",
                         french: "TLS était exigé mais le serveur ne propose pas STLS.")
        case .tlsRefused:
            return .init(english: "The server refused STLS.",
                         french: "Le serveur a refusé la commande STLS.")
        case .authenticationFailed:
            return .init(english: "Login failed: see the server's reply and its response code ([AUTH], [IN-USE], …).",
                         french: "Échec de la connexion au compte : voir la réponse du serveur et son code ([AUTH], [IN-USE], …).")
        case .apopUnavailable:
            return .init(english: "APOP needs a timestamp in the greeting, and the server sent none.",
                         french: "APOP a besoin d'un horodatage dans le message d'accueil, et le serveur n'en a pas envoyé.")
        case .commandFailed:
            return .init(english: "The server answered -ERR to a command.",
                         french: "Le serveur a répondu -ERR à une commande.")
        case .protocolViolation:
            return .init(english: "The server sent something that is not a POP3 reply.",
                         french: "Le serveur a envoyé quelque chose qui n'est pas une réponse POP3.")
        case .messageTooLarge:
            return .init(english: "A message was larger than the client accepts.",
                         french: "Un message dépassait la taille que le client accepte.")
        case .timeout:
            return .init(english: "The server did not answer in time.",
                         french: "Le serveur n'a pas répondu à temps.")
        case .connectionClosed:
            return .init(english: "The connection ended before QUIT was answered: nothing was deleted.",
                         french: "La connexion s'est terminée avant la réponse à QUIT : rien n'a été supprimé.")
        }
    }
}
