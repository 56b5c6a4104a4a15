// Learner-facing explanations of policy results, in English and French.

/// The two languages of MailLab's learner-facing texts.
public enum PolicyLanguage: String, Sendable, CaseIterable {
    case en, fr
}

extension SPFResult {
    /// What this result means, for a learner.
    public func explanation(_ language: PolicyLanguage) -> String {
        switch (self, language) {
        case (.pass, .en): return "SPF pass: the sending host is listed in the SPF record of the MAIL FROM domain."
        case (.pass, .fr): return "SPF pass : l'hôte émetteur figure dans l'enregistrement SPF du domaine de MAIL FROM."
        case (.fail, .en): return "SPF fail: the domain states that this host may not send its mail (-all or a matching '-' term)."
        case (.fail, .fr): return "SPF fail : le domaine déclare que cet hôte n'a pas le droit d'envoyer son courrier (-all ou un terme '-' qui correspond)."
        case (.softfail, .en): return "SPF softfail: the host is probably not allowed (~all); accept the message but treat it with suspicion."
        case (.softfail, .fr): return "SPF softfail : l'hôte n'est probablement pas autorisé (~all) ; le message est accepté mais jugé suspect."
        case (.neutral, .en): return "SPF neutral: the domain makes no statement about this host (?all or no match)."
        case (.neutral, .fr): return "SPF neutral : le domaine ne se prononce pas sur cet hôte (?all ou aucun terme ne correspond)."
        case (.none, .en): return "SPF none: the domain publishes no SPF record."
        case (.none, .fr): return "SPF none : le domaine ne publie aucun enregistrement SPF."
        case (.temperror, .en): return "SPF temperror: a DNS query failed for now; the receiver may answer with a 4xx code and let the sender retry."
        case (.temperror, .fr): return "SPF temperror : une requête DNS a échoué pour l'instant ; le destinataire peut répondre par un code 4xx et laisser l'expéditeur réessayer."
        case (.permerror, .en): return "SPF permerror: the record cannot be used (syntax error, more than 10 DNS lookups or more than 2 void lookups)."
        case (.permerror, .fr): return "SPF permerror : l'enregistrement est inutilisable (erreur de syntaxe, plus de 10 requêtes DNS ou plus de 2 requêtes sans réponse)."
        }
    }
}

extension DKIMResult {
    /// What this result means, for a learner.
    public func explanation(_ language: PolicyLanguage) -> String {
        switch (self, language) {
        case (.pass, .en): return "DKIM pass: the signature matches the signed header fields and the body, with the key published in DNS."
        case (.pass, .fr): return "DKIM pass : la signature correspond aux en-têtes signés et au corps, avec la clé publiée dans le DNS."
        case (.fail, .en): return "DKIM fail: the message was changed after signing (body hash or signature does not match)."
        case (.fail, .fr): return "DKIM fail : le message a été modifié après la signature (l'empreinte du corps ou la signature ne correspond pas)."
        case (.permerror, .en): return "DKIM permerror: the signature cannot be checked (malformed, unknown algorithm, missing or revoked key)."
        case (.permerror, .fr): return "DKIM permerror : la signature ne peut pas être vérifiée (mal formée, algorithme inconnu, clé absente ou révoquée)."
        case (.temperror, .en): return "DKIM temperror: the public key could not be fetched from DNS for now."
        case (.temperror, .fr): return "DKIM temperror : la clé publique n'a pas pu être obtenue du DNS pour l'instant."
        case (.none, .en): return "DKIM none: the message carries no DKIM-Signature field."
        case (.none, .fr): return "DKIM none : le message ne porte aucun champ DKIM-Signature."
        }
    }
}

extension DMARCOutcome {
    /// What the DMARC evaluation concluded and what the receiver does, for a learner.
    public func explanation(_ language: PolicyLanguage) -> String {
        switch (result, language) {
        case (.pass, .en): return "DMARC pass: SPF or DKIM passed for a domain aligned with the From domain \(fromDomain)."
        case (.pass, .fr): return "DMARC pass : SPF ou DKIM a réussi pour un domaine aligné sur le domaine From \(fromDomain)."
        case (.none, .en): return "DMARC none: \(fromDomain) publishes no DMARC policy."
        case (.none, .fr): return "DMARC none : \(fromDomain) ne publie aucune politique DMARC."
        case (.temperror, .en): return "DMARC temperror: the policy could not be fetched from DNS for now."
        case (.temperror, .fr): return "DMARC temperror : la politique n'a pas pu être obtenue du DNS pour l'instant."
        case (.permerror, .en): return "DMARC permerror: the policy record is unusable."
        case (.permerror, .fr): return "DMARC permerror : l'enregistrement de politique est inutilisable."
        case (.fail, _):
            let action: String
            switch (disposition, language) {
            case (.none, .en): action = "deliver it normally (monitoring only)"
            case (.none, .fr): action = "le distribuer normalement (simple surveillance)"
            case (.quarantine, .en): action = "deliver it to the spam folder (quarantine)"
            case (.quarantine, .fr): action = "le ranger dans les indésirables (quarantaine)"
            case (.reject, .en): action = "refuse it (550 5.7.1)"
            case (.reject, .fr): action = "le refuser (550 5.7.1)"
            }
            if language == .en {
                return "DMARC fail: neither SPF nor DKIM passed for a domain aligned with \(fromDomain); the receiver should \(action)"
                    + (sampledOut ? ", because pct= left this message out of the policy." : ".")
            }
            return "DMARC fail : ni SPF ni DKIM n'a réussi pour un domaine aligné sur \(fromDomain) ; le destinataire doit \(action)"
                + (sampledOut ? ", car pct= a exclu ce message de la politique." : ".")
        }
    }
}

extension DNSBLResult {
    /// What the blocklist answer means, for a learner.
    public func explanation(_ language: PolicyLanguage) -> String {
        switch (self, language) {
        case (.notListed, .en): return "The client address is on no blocklist queried."
        case (.notListed, .fr): return "L'adresse du client ne figure sur aucune liste de blocage interrogée."
        case (.listed(let zone, _, _), .en): return "The client address is listed by \(zone): the server refuses the connection with 554 5.7.1."
        case (.listed(let zone, _, _), .fr): return "L'adresse du client est listée par \(zone) : le serveur refuse la connexion avec 554 5.7.1."
        case (.temporaryFailure(let zone), .en): return "The blocklist \(zone) did not answer; nothing is concluded from it."
        case (.temporaryFailure(let zone), .fr): return "La liste \(zone) n'a pas répondu ; on n'en conclut rien."
        }
    }
}
