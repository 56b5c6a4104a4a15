import Foundation

/// The REPL's command table: names (completion and "did you mean"), and help in both languages
/// with translated placeholders. `ReplCore.command(_:)` dispatches on the same names; a test
/// checks that every name here is dispatched and every dispatched name is here.
public enum ReplCommands {
    public struct Entry: Sendable {
        /// Names the entry documents (`b64 TEXT / b64d TEXT` documents b64 and b64d).
        public var names: [String]
        /// The form with English placeholders; `form(.fr)` translates them.
        public var form: String
        public var help: LocalizedText
        /// Also accepted, not listed (`?` for help, `exit` for quit, `retry` for reset).
        public var aliases: [String] = []
    }

    public static let entries: [Entry] = [
        Entry(names: ["lessons", "scenarios"], form: "lessons / scenarios",
              help: LocalizedText(fr: "liste les leçons / scénarios", en: "list lessons / scenarios")),
        Entry(names: ["lesson"], form: "lesson ID [N]",
              help: LocalizedText(fr: "commence une leçon, reprend où vous en étiez, ou va à la section N", en: "start a lesson, resume where you left off, or go to section N")),
        Entry(names: ["next", "back"], form: "next / back",
              help: LocalizedText(fr: "section ou exercice suivant / précédent", en: "next / previous section or exercise")),
        Entry(names: ["map"], form: "map", help: LocalizedText(fr: "plan de la leçon : sections, exercices faits ou non", en: "lesson map: sections, exercises done or not")),
        Entry(names: ["reset", "skip"], form: "reset / skip",
              help: LocalizedText(fr: "recommence l'exercice sur un monde neuf / passe l'exercice", en: "restart the exercise on a fresh world / skip the exercise"),
              aliases: ["retry"]),
        Entry(names: ["resume"], form: "resume", help: LocalizedText(fr: "reprend la leçon où vous l'aviez laissée", en: "go back to the lesson where you left it")),
        Entry(names: ["replay", "run"], form: "replay ID", help: LocalizedText(fr: "rejoue un scénario pas à pas (next, back, run)", en: "replay a scenario step by step (next, back, run)")),
        Entry(names: ["quiz"], form: "quiz [ID]", help: LocalizedText(fr: "quiz d'une leçon", en: "a lesson's quiz")),
        Entry(names: ["progress"], form: "progress", help: LocalizedText(fr: "votre progression", en: "your progress")),
        Entry(names: ["hosts"], form: "hosts", help: LocalizedText(fr: "les machines du réseau simulé", en: "hosts of the simulated network")),
        Entry(names: ["dig"], form: "dig NAME [MX|A|TXT]", help: LocalizedText(fr: "interroge le DNS", en: "query the DNS")),
        Entry(names: ["dns"], form: "dns [list [ZONE]] / dns add|del NAME TYPE VALUE",
              help: LocalizedText(fr: "publie ou retire un enregistrement d'une zone que vous administrez (A, MX, TXT)",
                                  en: "publish or remove a record of a zone you administer (A, MX, TXT)")),
        Entry(names: ["mta"], form: "mta [HOST] / mta HOST KEY VALUE",
              help: LocalizedText(fr: "réglages d'un MTA que vous administrez : relay, mynetworks, require-tls-auth, dkim",
                                  en: "settings of an MTA you administer: relay, mynetworks, require-tls-auth, dkim")),
        Entry(names: ["connect"], form: "connect HOST PORT [--tls]",
              help: LocalizedText(fr: "ouvre une session ; ! avant une commande du tuteur, Ctrl-D pour sortir",
                                  en: "open a session; ! before a tutor command, Ctrl-D to leave")),
        Entry(names: ["b64", "b64d"], form: "b64 TEXT / b64d TEXT",
              help: LocalizedText(fr: "encode / décode en base64 (\\0 pour l'octet nul)", en: "base64 encode / decode (\\0 for a NUL byte)")),
        Entry(names: ["cram-md5"], form: "cram-md5 USER PASSWORD CHALLENGE", help: LocalizedText(fr: "calcule la réponse CRAM-MD5", en: "compute a CRAM-MD5 response")),
        Entry(names: ["send"], form: "send [--from] FROM|DEVICE TO[,TO] SUBJECT",
              help: LocalizedText(fr: "rédige un message depuis une adresse ou un appareil (fin par .)", en: "compose a message from an address or a device (end with .)")),
        Entry(names: ["mailbox"], form: "mailbox USER [FOLDER]", help: LocalizedText(fr: "contenu d'une boîte", en: "list a mailbox")),
        Entry(names: ["show"], form: "show USER [FOLDER] N", help: LocalizedText(fr: "affiche un message avec ses en-têtes", en: "print a message with its headers")),
        Entry(names: ["queue"], form: "queue [HOST]", help: LocalizedText(fr: "file d'attente des MTA", en: "MTA queues")),
        Entry(names: ["down", "up"], form: "down HOST / up HOST", help: LocalizedText(fr: "arrête / relance une machine", en: "stop / restart a host")),
        Entry(names: ["advance"], form: "advance DURATION", help: LocalizedText(fr: "avance le temps simulé (5m, 2h, 1d)", en: "move simulated time on (5m, 2h, 1d)")),
        Entry(names: ["sniff"], form: "sniff on|off", help: LocalizedText(fr: "montre ce qui passe sur le réseau", en: "show what crosses the network")),
        Entry(names: ["why"], form: "why [CODE]",
              help: LocalizedText(fr: "explique la dernière réponse du serveur, ou un code (550, 5.7.1, -ERR [IN-USE], NO [TRYCREATE])",
                                  en: "explain the server's last reply, or a code (550, 5.7.1, -ERR [IN-USE], NO [TRYCREATE])")),
        Entry(names: ["codes"], form: "codes [smtp|pop3|imap]", help: LocalizedText(fr: "table des codes de réponse", en: "table of reply codes")),
        Entry(names: ["glossary"], form: "glossary [TERM]", help: LocalizedText(fr: "glossaire (MUA, MX, SASL, UIDL…)", en: "glossary (MUA, MX, SASL, UIDL…)")),
        Entry(names: ["hint", "goals"], form: "hint / goals", help: LocalizedText(fr: "indice suivant / état des objectifs", en: "next hint / state of the goals")),
        Entry(names: ["lang"], form: "lang fr|en", help: LocalizedText(fr: "change de langue (retenu pour la prochaine fois)", en: "switch language (remembered next time)")),
        Entry(names: ["clear"], form: "clear", help: LocalizedText(fr: "efface l'écran (aussi Ctrl-L)", en: "clear the screen (also Ctrl-L)")),
        Entry(names: ["help"], form: "help [COMMAND]", help: LocalizedText(fr: "cette aide", en: "this help"), aliases: ["?"]),
        Entry(names: ["quit"], form: "quit", help: LocalizedText(fr: "quitter", en: "leave"), aliases: ["exit"]),
    ]

    /// Every command name, sorted (completion, "did you mean").
    public static let names: [String] = Array(Set(entries.flatMap(\.names))).sorted()

    /// Placeholders as French help writes them.
    static let frenchPlaceholders: [String: String] = [
        "ID": "ID", "N": "N", "NAME": "NOM", "HOST": "HÔTE", "PORT": "PORT", "TEXT": "TEXTE", "USER": "UTILISATEUR",
        "PASSWORD": "MOT-DE-PASSE", "CHALLENGE": "DÉFI", "CHALLENGE-BASE64": "DÉFI-BASE64", "FROM": "DE", "DEVICE": "APPAREIL",
        "TO": "À", "SUBJECT": "SUJET", "FOLDER": "DOSSIER", "DURATION": "DURÉE", "CODE": "CODE", "TERM": "TERME",
        "COMMAND": "COMMANDE", "ZONE": "ZONE", "TYPE": "TYPE", "VALUE": "VALEUR", "KEY": "CLÉ",
    ]

    /// `form` with its placeholders (the words in capitals) in `language`.
    public static func localize(_ form: String, _ language: Language) -> String {
        guard language == .fr else { return form }
        var out = ""
        var word = ""
        func flush() {
            out += frenchPlaceholders[word] ?? word
            word = ""
        }
        for character in form {
            if character.isLetter || character == "-" || (character.isNumber && !word.isEmpty) {
                word.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }

    public static func help(_ topic: String?, language: Language) -> String? {
        let selected: [Entry]
        if let topic {
            let name = topic.lowercased()
            selected = entries.filter { $0.names.contains(name) || $0.aliases.contains(name) }
                + (entries.contains { $0.names.contains(name) || $0.aliases.contains(name) } ? [] : entries.filter { $0.names.contains { $0.hasPrefix(name) } })
        } else {
            selected = entries
        }
        guard !selected.isEmpty else { return nil }
        // A form longer than the column is written whole, with two spaces before its text (so the
        // wrapper still sees two columns); `padding(toLength:)` alone would cut it.
        return selected.map { entry -> String in
            let form = localize(entry.form, language)
            let column = form.count < 40 ? form.padding(toLength: 40, withPad: " ", startingAt: 0) + " " : form + "  "
            return "  \(column)\(entry.help[language])"
        }.joined(separator: "\n") + "\n"
    }
}
