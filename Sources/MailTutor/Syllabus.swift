/// The syllabus topics (docs SYLLABUS.md) with short titles, in the order of the course.
public enum Syllabus {
    public struct Topic: Equatable, Sendable {
        public var id: String
        public var title: LocalizedText
    }

    private static func t(_ id: String, _ fr: String, _ en: String) -> Topic {
        Topic(id: id, title: LocalizedText(fr: fr, en: en))
    }

    public static let topics: [Topic] = [
        t("arch.path", "Trajet d'un message de bout en bout", "Journey of a message end to end"),
        t("arch.mua", "Rôle du client de messagerie (MUA)", "Role of the mail user agent (MUA)"),
        t("arch.mta", "Rôle de l'agent de transfert (MTA)", "Role of the mail transfer agent (MTA)"),
        t("arch.mda", "Rôle de l'agent de distribution (MDA)", "Role of the mail delivery agent (MDA)"),
        t("arch.postal", "L'analogie avec la poste", "The postal-mail analogy"),
        t("smtp.basics", "SMTP : principes et ports 25, 587, 465", "SMTP: principles and ports 25, 587, 465"),
        t("smtp.commands", "Commandes SMTP et fin de DATA", "SMTP commands and the end of DATA"),
        t("smtp.ehlo", "Extensions annoncées par EHLO", "Extensions advertised by EHLO"),
        t("smtp.codes", "Codes de réponse SMTP et codes étendus", "SMTP reply codes and enhanced codes"),
        t("smtp.session", "Une session de soumission complète", "A complete submission session"),
        t("smtp.auth", "Authentification SMTP (PLAIN, LOGIN, CRAM-MD5, XOAUTH2)", "SMTP authentication (PLAIN, LOGIN, CRAM-MD5, XOAUTH2)"),
        t("smtp.relay", "Relais ouvert et soumission authentifiée", "Open relay and authenticated submission"),
        t("smtp.mx", "Recherche MX, préférence et serveur de secours", "MX lookup, preference and backup MX"),
        t("smtp.queue", "File d'attente, nouvelles tentatives et rebonds", "Queue, retries and bounces"),
        t("pop3.basics", "POP3 : principes et ports 110, 995", "POP3: principles and ports 110, 995"),
        t("pop3.states", "États d'une session POP3", "States of a POP3 session"),
        t("pop3.commands", "Commandes POP3", "POP3 commands"),
        t("pop3.session", "Une session POP3 complète", "A complete POP3 session"),
        t("pop3.uidl", "UIDL : ne pas télécharger deux fois", "UIDL: never download twice"),
        t("pop3.modes", "Modes de conservation des messages POP3", "POP3 message retention modes"),
        t("imap.basics", "IMAP : principes et ports 143, 993", "IMAP: principles and ports 143, 993"),
        t("imap.states", "États d'une session IMAP", "States of an IMAP session"),
        t("imap.commands", "Commandes IMAP", "IMAP commands"),
        t("imap.tags", "Étiquettes, réponses non étiquetées, OK/NO/BAD", "Tags, untagged data, OK/NO/BAD"),
        t("imap.flags", "Drapeaux et mots-clés IMAP", "IMAP flags and keywords"),
        t("imap.session", "Une session IMAP complète", "A complete IMAP session"),
        t("imap.folders", "Dossiers IMAP et leur hiérarchie", "IMAP folders and their hierarchy"),
        t("imap.idle", "IDLE : notification immédiate", "IDLE: push notification"),
        t("compare.table", "POP3 et IMAP comparés critère par critère", "POP3 and IMAP compared point by point"),
        t("compare.scenarios", "Quel protocole pour quel usage", "Which protocol for which use"),
        t("sec.tls", "STARTTLS et TLS implicite", "STARTTLS and implicit TLS"),
        t("sec.auth", "Mécanismes d'authentification", "Authentication mechanisms"),
        t("sec.spf", "SPF", "SPF"),
        t("sec.dkim", "DKIM", "DKIM"),
        t("sec.dmarc", "DMARC", "DMARC"),
        t("format.structure", "Structure d'un message", "Structure of a message"),
        t("format.headers", "En-têtes d'un message", "Message headers"),
        t("format.mime", "MIME et pièces jointes", "MIME and attachments"),
        t("format.alternative", "multipart/alternative : texte et HTML", "multipart/alternative: text and HTML"),
        t("client.config", "Configurer un client de messagerie", "Configuring a mail client"),
    ]

    public static let ids: Set<String> = Set(topics.map(\.id))

    public static func topic(_ id: String) -> Topic? { topics.first { $0.id == id } }
}
