import Foundation
import MailCore

/// The reference at hand in the REPL: `why CODE`, `codes [smtp|pop3|imap]` and `glossary [TERM]`,
/// all read from MailCore's reply catalogue and the glossary below, in both languages.
public enum Reference {
    /// The catalogue entries a code names, whatever the protocol: `550`, `5.7.1`,
    /// `550 5.7.1 Relay access denied`, `-ERR [IN-USE]`, `[IN-USE]`, `NO [PRIVACYREQUIRED]`,
    /// `a1 NO [TRYCREATE] …`, `TRYCREATE`.
    public static func entries(for argument: String) -> [ReplyCatalogueEntry] {
        let text = argument.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return [] }
        let words = text.split(separator: " ").map(String.init)
        let first = words[0].uppercased()
        // SMTP: a basic code, an enhanced code, or a whole reply line.
        if first.count == 3, first.allSatisfy(\.isNumber) {
            return ReplyExplainer.entries(text, protocolKind: .smtp)
        }
        if let enhanced = EnhancedStatusCode(first), let entry = ReplyCatalogue.smtpEnhanced(enhanced) { return [entry] }
        // POP3: +OK / -ERR and a response code.
        if first == "+OK" || first == "-ERR" { return ReplyExplainer.entries(text, protocolKind: .pop3) }
        // IMAP: a status with or without its tag.
        if ["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(first) { return ReplyExplainer.entries("* " + text, protocolKind: .imap) }
        if words.count > 1, ["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(words[1].uppercased()) {
            return ReplyExplainer.entries(text, protocolKind: .imap)
        }
        // A response code alone: POP3's and IMAP's, both when both know it.
        var found: [ReplyCatalogueEntry] = []
        if let entry = ReplyCatalogue.pop3(first) { found.append(entry) }
        if let entry = ReplyCatalogue.imap(first) { found.append(entry) }
        return found
    }

    /// `why ARGUMENT`: every entry, or a clear message naming what was not found.
    public static func why(_ argument: String, language: Language) -> String {
        let found = entries(for: argument)
        let french = language == .fr
        guard !found.isEmpty else {
            return french
                ? "« \(Printable.escape(String(argument.prefix(60)))) » n'est pas dans le catalogue des réponses. Essayez un code SMTP (550), un code étendu (5.7.1), -ERR [IN-USE] ou NO [TRYCREATE] ; « codes » les liste.\n"
                : "'\(Printable.escape(String(argument.prefix(60))))' is not in the reply catalogue. Try an SMTP code (550), an enhanced code (5.7.1), -ERR [IN-USE] or NO [TRYCREATE]; 'codes' lists them.\n"
        }
        return found.map { entry in
            "» \(entry.mailProtocol.rawValue) \(entry.key) — \(entry.title.text(french: french))\(french ? " : " : ": ")"
                + "\(entry.meaning.text(french: french)) \(entry.usualCauses.text(french: french))\n"
        }.joined()
    }

    /// `codes [PROTOCOL]`: one line per catalogue entry (key and title).
    public static func codes(_ protocolName: String?, language: Language) -> String? {
        let kinds: [MailCore.MailProtocol]
        switch protocolName?.lowercased() {
        case nil: kinds = [.smtp, .pop3, .imap]
        case "smtp"?: kinds = [.smtp]
        case "pop3"?, "pop"?: kinds = [.pop3]
        case "imap"?: kinds = [.imap]
        default: return nil
        }
        let french = language == .fr
        var out = ""
        for kind in kinds {
            let entries = ReplyCatalogue.allEntries.filter { $0.mailProtocol == kind }
            out += "\(kind.rawValue)\n"
            let width = min(24, (entries.map(\.key.count).max() ?? 8) + 2)
            for entry in entries {
                out += "  " + entry.key.padding(toLength: max(width, entry.key.count + 1), withPad: " ", startingAt: 0)
                    + entry.title.text(french: french) + "\n"
            }
        }
        return out + (french ? "(« why CODE » pour l'explication complète)\n" : "('why CODE' for the full explanation)\n")
    }

    /// The catalogue as a printable Markdown page.
    public static func codesMarkdown(language: Language) -> String {
        let french = language == .fr
        var out = french ? "# Codes de réponse SMTP, POP3 et IMAP\n" : "# SMTP, POP3 and IMAP reply codes\n"
        for kind in [MailCore.MailProtocol.smtp, .pop3, .imap] {
            out += "\n## \(kind.rawValue)\n\n"
            out += french ? "| Code | Titre | Sens | Causes habituelles |\n|---|---|---|---|\n"
                : "| Code | Title | Meaning | Usual causes |\n|---|---|---|---|\n"
            for entry in ReplyCatalogue.allEntries where entry.mailProtocol == kind {
                let cells = [entry.key, entry.title.text(french: french), entry.meaning.text(french: french),
                             entry.usualCauses.text(french: french)].map { $0.replacingOccurrences(of: "|", with: "\\|") }
                out += "| `\(cells[0])` | \(cells[1]) | \(cells[2]) | \(cells[3]) |\n"
            }
        }
        return out
    }

    // MARK: Glossary

    public struct Term: Sendable {
        public var names: [String]
        public var title: LocalizedText
        public var definition: LocalizedText
    }

    /// The course's vocabulary. Written for this course; each entry names the lesson's words.
    public static let glossary: [Term] = [
        Term(names: ["MUA"], title: LocalizedText(fr: "Mail User Agent (client de messagerie)", en: "Mail User Agent (mail client)"),
             definition: LocalizedText(fr: "Le programme de l'utilisateur : il rédige, soumet au MSA et lit la boîte en POP3 ou IMAP (Thunderbird, Outlook, un webmail).",
                                       en: "The user's program: it writes messages, submits them to the MSA and reads the mailbox over POP3 or IMAP (Thunderbird, Outlook, a webmail).")),
        Term(names: ["MSA", "submission"], title: LocalizedText(fr: "Mail Submission Agent (serveur de soumission)", en: "Mail Submission Agent"),
             definition: LocalizedText(fr: "Le serveur qui reçoit les messages des clients authentifiés, sur le port 587 (STARTTLS) ou 465 (TLS implicite), et les confie au MTA.",
                                       en: "The server that takes messages from authenticated clients, on port 587 (STARTTLS) or 465 (implicit TLS), and hands them to the MTA.")),
        Term(names: ["MTA", "relay", "relais"], title: LocalizedText(fr: "Mail Transfer Agent (relais)", en: "Mail Transfer Agent (relay)"),
             definition: LocalizedText(fr: "Le serveur qui achemine le courrier de serveur à serveur en SMTP sur le port 25 : il cherche les MX du domaine, garde le message en file d'attente et réessaie tant que la livraison échoue temporairement.",
                                       en: "The server that carries mail from server to server with SMTP on port 25: it looks up the domain's MX, keeps the message in its queue and retries while delivery fails temporarily.")),
        Term(names: ["MDA", "delivery"], title: LocalizedText(fr: "Mail Delivery Agent (distribution)", en: "Mail Delivery Agent"),
             definition: LocalizedText(fr: "Le programme qui range un message arrivé dans la boîte du destinataire (filtres, dossiers, quota) ; POP3 et IMAP lisent ensuite cette boîte.",
                                       en: "The program that files an arrived message in the recipient's mailbox (filters, folders, quota); POP3 and IMAP then read that mailbox.")),
        Term(names: ["MX"], title: LocalizedText(fr: "Enregistrement DNS MX", en: "DNS MX record"),
             definition: LocalizedText(fr: "Dit quels serveurs reçoivent le courrier d'un domaine, chacun avec une préférence : le plus petit nombre est essayé d'abord, les autres servent de secours.",
                                       en: "Tells which servers receive a domain's mail, each with a preference: the lowest number is tried first, the others are backups.")),
        Term(names: ["envelope", "enveloppe"], title: LocalizedText(fr: "Enveloppe SMTP", en: "SMTP envelope"),
             definition: LocalizedText(fr: "L'expéditeur (MAIL FROM) et les destinataires (RCPT TO) donnés au serveur, distincts des en-têtes From: et To: du message ; c'est l'enveloppe qui décide de la livraison et du retour des erreurs.",
                                       en: "The sender (MAIL FROM) and recipients (RCPT TO) given to the server, apart from the message's From: and To: headers; the envelope decides delivery and where errors go back.")),
        Term(names: ["bounce", "DSN", "NDR", "rebond"], title: LocalizedText(fr: "Avis de non-remise (DSN, « bounce »)", en: "Bounce (delivery status notification)"),
             definition: LocalizedText(fr: "Le message qu'un MTA renvoie à l'expéditeur de l'enveloppe quand il ne peut pas livrer un message qu'il avait accepté ; il part avec MAIL FROM:<> pour ne jamais rebondir à son tour.",
                                       en: "The message an MTA sends back to the envelope sender when it cannot deliver a message it had accepted; it goes out with MAIL FROM:<> so that it never bounces in turn.")),
        Term(names: ["open relay", "open-relay", "relais ouvert"], title: LocalizedText(fr: "Relais ouvert", en: "Open relay"),
             definition: LocalizedText(fr: "Un serveur qui relaie vers n'importe quel domaine pour n'importe qui, sans authentification : les spammeurs s'en servent et il finit sur les listes noires.",
                                       en: "A server that relays to any domain for anyone, without authentication: spammers use it and it ends up on blocklists.")),
        Term(names: ["DNSBL", "RBL", "blocklist", "liste noire"], title: LocalizedText(fr: "Liste noire DNS (DNSBL)", en: "DNS blocklist (DNSBL)"),
             definition: LocalizedText(fr: "Une liste d'adresses IP d'expéditeurs abusifs, interrogée par le DNS ; un serveur listé voit ses messages refusés (souvent 554 5.7.1).",
                                       en: "A list of abusive senders' IP addresses, queried through DNS; a listed server sees its messages refused (often 554 5.7.1).")),
        Term(names: ["SASL", "AUTH"], title: LocalizedText(fr: "SASL (authentification)", en: "SASL (authentication)"),
             definition: LocalizedText(fr: "Le cadre commun des mécanismes d'authentification (PLAIN, LOGIN, CRAM-MD5, SCRAM, XOAUTH2) utilisés par AUTH en SMTP et POP3 et AUTHENTICATE en IMAP ; les échanges sont en base64, qui n'est pas un chiffrement.",
                                       en: "The common frame of the authentication mechanisms (PLAIN, LOGIN, CRAM-MD5, SCRAM, XOAUTH2) used by AUTH in SMTP and POP3 and AUTHENTICATE in IMAP; the exchanges are base64, which is no encryption.")),
        Term(names: ["STARTTLS", "STLS", "TLS"], title: LocalizedText(fr: "TLS, STARTTLS et TLS implicite", en: "TLS, STARTTLS and implicit TLS"),
             definition: LocalizedText(fr: "TLS chiffre la connexion. Avec STARTTLS (SMTP 587/25, POP3 STLS sur 110, IMAP sur 143) la session commence en clair puis passe en TLS ; sur 465, 995 et 993 le TLS commence dès le premier octet.",
                                       en: "TLS encrypts the connection. With STARTTLS (SMTP 587/25, POP3 STLS on 110, IMAP on 143) the session starts in clear then switches to TLS; on 465, 995 and 993 TLS starts from the very first byte.")),
        Term(names: ["UIDL"], title: LocalizedText(fr: "UIDL (POP3)", en: "UIDL (POP3)"),
             definition: LocalizedText(fr: "La commande POP3 qui donne un identifiant unique et stable par message ; un client en mode « laisser sur le serveur » s'en sert pour ne pas télécharger deux fois.",
                                       en: "The POP3 command giving each message a unique, stable identifier; a client in 'leave on server' mode uses it not to download twice.")),
        Term(names: ["UID"], title: LocalizedText(fr: "UID (IMAP)", en: "UID (IMAP)"),
             definition: LocalizedText(fr: "Le numéro d'un message dans son dossier IMAP, qui ne change pas quand d'autres messages sont effacés (contrairement au numéro de séquence).",
                                       en: "A message's number in its IMAP folder, which does not change when other messages are expunged (unlike the sequence number).")),
        Term(names: ["UIDVALIDITY"], title: LocalizedText(fr: "UIDVALIDITY (IMAP)", en: "UIDVALIDITY (IMAP)"),
             definition: LocalizedText(fr: "Le numéro de génération d'un dossier : s'il change, les UID connus du client ne valent plus rien et il doit tout relire.",
                                       en: "A folder's generation number: when it changes, the UIDs the client knows are worthless and it must read everything again.")),
        Term(names: ["flags", "flag", "drapeaux", "drapeau"], title: LocalizedText(fr: "Drapeaux IMAP", en: "IMAP flags"),
             definition: LocalizedText(fr: "L'état d'un message gardé par le serveur : \\Seen (lu), \\Answered, \\Flagged, \\Draft, \\Deleted (à effacer au prochain EXPUNGE) ; STORE les ajoute (+FLAGS) ou les retire (-FLAGS).",
                                       en: "A message's state kept by the server: \\Seen (read), \\Answered, \\Flagged, \\Draft, \\Deleted (erased at the next EXPUNGE); STORE adds them (+FLAGS) or removes them (-FLAGS).")),
        Term(names: ["IDLE"], title: LocalizedText(fr: "IDLE (IMAP)", en: "IDLE (IMAP)"),
             definition: LocalizedText(fr: "Le client reste à l'écoute et le serveur lui pousse les nouveautés (* 3 EXISTS) sans qu'il interroge ; DONE termine l'attente.",
                                       en: "The client keeps listening and the server pushes changes to it (* 3 EXISTS) without polling; DONE ends the wait.")),
        Term(names: ["SPF"], title: LocalizedText(fr: "SPF", en: "SPF"),
             definition: LocalizedText(fr: "Un enregistrement TXT du domaine de l'enveloppe qui liste les adresses IP autorisées à envoyer pour lui ; le serveur qui reçoit compare l'IP de la connexion.",
                                       en: "A TXT record of the envelope's domain listing the IP addresses allowed to send for it; the receiving server checks the connection's IP against it.")),
        Term(names: ["DKIM", "selector", "sélecteur", "DKIM selector"], title: LocalizedText(fr: "DKIM et son sélecteur", en: "DKIM and its selector"),
             definition: LocalizedText(fr: "Une signature des en-têtes et du corps ajoutée par le domaine qui envoie ; la clé publique est publiée en TXT sous SELECTEUR._domainkey.DOMAINE (s= et d= de l'en-tête DKIM-Signature).",
                                       en: "A signature over the headers and body added by the sending domain; the public key is published as TXT under SELECTOR._domainkey.DOMAIN (s= and d= of the DKIM-Signature header).")),
        Term(names: ["DMARC", "alignment", "alignement", "DMARC alignment"], title: LocalizedText(fr: "DMARC et l'alignement", en: "DMARC and alignment"),
             definition: LocalizedText(fr: "La politique publiée en TXT sous _dmarc.DOMAINE (p=none, quarantine ou reject) ; elle passe si SPF ou DKIM réussit pour un domaine aligné sur celui du From: visible.",
                                       en: "The policy published as TXT under _dmarc.DOMAIN (p=none, quarantine or reject); it passes when SPF or DKIM succeeds for a domain aligned with the visible From: one.")),
        Term(names: ["queue", "file d'attente"], title: LocalizedText(fr: "File d'attente", en: "Queue"),
             definition: LocalizedText(fr: "Les messages qu'un MTA a acceptés sans pouvoir encore les livrer ; il réessaie à intervalles croissants et renvoie un avis de non-remise après quelques jours (5 par défaut chez Postfix).",
                                       en: "The messages an MTA has accepted but not delivered yet; it retries at growing intervals and returns a bounce after some days (5 by default in Postfix).")),
        Term(names: ["base64"], title: LocalizedText(fr: "base64", en: "base64"),
             definition: LocalizedText(fr: "Un codage de n'importe quels octets en 64 caractères sûrs (4 caractères pour 3 octets) ; il sert aux pièces jointes et à AUTH. Il se décode sans clé : ce n'est pas un secret.",
                                       en: "An encoding of any bytes into 64 safe characters (4 characters for 3 bytes), used for attachments and AUTH. It decodes without any key: it is no secret.")),
        Term(names: ["dot-stuffing", "transparence"], title: LocalizedText(fr: "Doublement du point", en: "Dot-stuffing"),
             definition: LocalizedText(fr: "Pendant DATA (et dans les réponses POP3), une ligne du texte qui commence par un point en reçoit un second, pour ne pas être prise pour la fin du message.",
                                       en: "During DATA (and in POP3 replies), a text line starting with a dot gets a second one, so that it is not taken for the end of the message.")),
    ]

    /// The glossary entry for `name` (any of its names, case and accents ignored).
    public static func term(_ name: String) -> Term? {
        let wanted = AnswerNormalizer.loose(name)
        return glossary.first { term in term.names.contains { AnswerNormalizer.loose($0) == wanted } }
            ?? glossary.first { AnswerNormalizer.loose($0.title.fr).hasPrefix(wanted) || AnswerNormalizer.loose($0.title.en).hasPrefix(wanted) }
    }

    /// `glossary` (the list of terms) or `glossary TERM` (its definition).
    public static func glossaryText(_ name: String?, language: Language) -> String {
        let french = language == .fr
        guard let name, !name.isEmpty else {
            let names = glossary.map { displayName($0, french: french) }.joined(separator: ", ")
            return (french ? "Glossaire : " : "Glossary: ") + names + "\n"
                + (french ? "(« glossary TERME » pour la définition)\n" : "('glossary TERM' for the definition)\n")
        }
        guard let term = term(name) else {
            let suggestion = glossary.flatMap(\.names).min { editDistance($0.lowercased(), name.lowercased()) < editDistance($1.lowercased(), name.lowercased()) }
            var out = french ? "« \(Printable.escape(String(name.prefix(40)))) » n'est pas dans le glossaire."
                : "'\(Printable.escape(String(name.prefix(40))))' is not in the glossary."
            if let suggestion, editDistance(suggestion.lowercased(), name.lowercased()) <= 2 {
                out += french ? " Vouliez-vous dire « \(suggestion) » ?" : " Did you mean '\(suggestion)'?"
            }
            return out + (french ? " Tapez « glossary » pour la liste.\n" : " Type 'glossary' for the list.\n")
        }
        return "\(displayName(term, french: french)) — \(term.title[language])\n» \(term.definition[language])\n"
    }

    /// The name a term is listed under: in French, its French name when it has one, with the
    /// English word the protocols and tools use after it (« enveloppe », « rebond (bounce) »).
    static func displayName(_ term: Term, french: Bool) -> String {
        let first = term.names[0]
        guard french, let local = frenchNames[first] else { return first }
        return local
    }

    static let frenchNames: [String: String] = [
        "envelope": "enveloppe", "bounce": "rebond (bounce)", "open relay": "relais ouvert",
        "flags": "drapeaux (flags)", "queue": "file d'attente (queue)", "dot-stuffing": "transparence (dot-stuffing)",
    ]

    public static func glossaryMarkdown(language: Language) -> String {
        var out = language == .fr ? "# Glossaire de la messagerie\n\n" : "# E-mail glossary\n\n"
        for term in glossary {
            out += "**\(displayName(term, french: language == .fr))** — \(term.title[language])  \n\(term.definition[language])\n\n"
        }
        return out
    }
}
