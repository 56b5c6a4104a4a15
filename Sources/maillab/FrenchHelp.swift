import ArgumentParser
import Foundation
import MailTutor

/// `maillab --help` in French (`--lang fr`, or LC_ALL/LANG starting with fr).
///
/// ArgumentParser writes help in English from the commands' declarations; this takes its text
/// unwrapped, translates the headings, the built-in lines and every abstract, discussion and
/// option help of MailLab's commands, and wraps it again to the terminal's width.
enum FrenchHelp {
    static let headings: [(String, String)] = [
        ("OVERVIEW:", "APERÇU :"), ("USAGE:", "UTILISATION :"), ("ARGUMENTS:", "ARGUMENTS :"), ("OPTIONS:", "OPTIONS :"),
        ("SUBCOMMANDS:", "SOUS-COMMANDES :"),
    ]

    /// English text of a declaration → French. Keep in step with the `help:`/`abstract:` strings.
    static let texts: [String: String] = [
        // Built into ArgumentParser.
        "Show the version.": "Affiche la version.",
        "Show help information.": "Affiche cette aide.",
        "See 'maillab help <subcommand>' for detailed help.": "Voir « maillab help <sous-commande> » pour l'aide détaillée.",
        // The root command and the global options.
        "A laboratory and tutor for SMTP, POP3 and IMAP.": "Un laboratoire et un tuteur pour SMTP, POP3 et IMAP.",
        "Exit codes: 0 success, 1 a check or grade failed, 2 usage or input error.":
            "Codes de sortie : 0 succès, 1 une vérification ou une note en échec, 2 erreur d'utilisation ou d'entrée.",
        "Language of messages: fr or en (default: LC_ALL/LANG).": "Langue des messages : fr ou en (par défaut : LC_ALL/LANG).",
        "Folder of the progress database and history.": "Dossier de la base de progression et de l'historique.",
        "Learner name (default: the user name).": "Nom de l'apprenant (par défaut : le nom d'utilisateur).",
        "No colours (also when NO_COLOR is set).": "Pas de couleurs (aussi quand NO_COLOR est défini).",
        // Subcommands.
        "List the lessons in course order, id first.": "Liste les leçons dans l'ordre du cours, identifiant d'abord.",
        "List the scenarios, id first.": "Liste les scénarios, identifiant d'abord.",
        "Start a lesson in the REPL.": "Commence une leçon dans le tuteur interactif.",
        "Lesson id.": "Identifiant de la leçon.",
        "Take a lesson's quiz; exits 1 when under half the questions were right the first time.":
            "Passe le quiz d'une leçon ; sort avec 1 quand moins de la moitié des questions sont justes du premier coup.",
        "Lesson id (default: the first lesson).": "Identifiant de la leçon (par défaut : la première).",
        "Show progress per lesson, or export it for teachers.": "Montre la progression par leçon, ou l'exporte pour les enseignants.",
        "Export every learner's progress: json or csv.": "Exporte la progression de chaque apprenant : json ou csv.",
        "Validate lesson and scenario files (default: Lessons/ and Scenarios/).":
            "Valide les fichiers de leçons et de scénarios (par défaut : Lessons/ et Scenarios/).",
        "Prints file:line: message per problem and exits 2 on any. With --coverage, reports syllabus coverage and exits 1 when an id lacks an explanation, an exercise or three quiz questions.":
            "Écrit fichier:ligne: message par problème et sort avec 2 s'il y en a. Avec --coverage, rend compte de la couverture du programme et sort avec 1 quand une notion manque d'explication, d'exercice ou de trois questions de quiz.",
        "Files or folders.": "Fichiers ou dossiers.",
        "Export the quiz bank for an LMS instead (moodle-xml or gift); every lesson without ID.":
            "Exporte plutôt la banque de questions pour une plateforme (moodle-xml ou gift) ; toutes les leçons sans ID.",
        "With --export: write ID.fr.EXT and ID.en.EXT (or course.*) into this folder.":
            "Avec --export : écrit ID.fr.EXT et ID.en.EXT (ou course.*) dans ce dossier.",
        "A class: every progress.sqlite under this folder (one per learner or group); a summary per learner, or with --export all their rows.":
            "Une classe : chaque progress.sqlite sous ce dossier (un par apprenant ou groupe) ; un résumé par apprenant, ou avec --export toutes leurs lignes.",
        "Report syllabus coverage.": "Rend compte de la couverture du programme.",
        "Print, per file, how many tasks, solutions, alternative solutions and counter-examples are replayed.":
            "Écrit, par fichier, combien de tâches, de solutions, d'autres solutions et de contre-exemples sont rejoués.",
        "Replay a scenario step by step (→/Enter next, ←/b back, r run, p pause, t transcript/diagram, l language, q quit).":
            "Rejoue un scénario pas à pas (→/Entrée suivant, ←/b retour, r tout jouer, p pause, t transcription/diagramme, l langue, q quitter).",
        "Scenario id.": "Identifiant du scénario.",
        "Run every step without pausing; exit 1 if an expectation fails.": "Joue toutes les étapes sans pause ; sort avec 1 si une attente échoue.",
        "With --auto (or after r): time between steps, e.g. 1s, 500ms, 2.5s.": "Avec --auto (ou après r) : temps entre les étapes, ex. 1s, 500ms, 2.5s.",
        "Columns of the diagram (default: the terminal's, else 100).": "Colonnes du diagramme (par défaut : celles du terminal, sinon 100).",
        "Seed of the simulation (default: the scenario's).": "Graine de la simulation (par défaut : celle du scénario).",
        "Write the plaintext transcript to FILE (- for standard output).": "Écrit la transcription en clair dans FICHIER (- pour la sortie standard).",
        "Write a pcap capture to FILE.": "Écrit une capture pcap dans FICHIER.",
        "Write the TLS secrets of every session to FILE (NSS key log format, for Wireshark).":
            "Écrit les secrets TLS de chaque session dans FICHIER (format NSS key log, pour Wireshark).",
        "Write the whole replay as one self-contained HTML page to FILE.": "Écrit toute la relecture en une page HTML autonome dans FICHIER.",
        "Measure MailLab's simulator (use a release build).": "Mesure le simulateur de MailLab (avec une compilation release).",
        "Push messages from mail clients through submission, MX relay and local delivery.":
            "Fait passer des messages de clients de messagerie par la soumission, le relais MX et la livraison locale.",
        "Expose the simulated world's servers on 127.0.0.1 to real mail clients.":
            "Ouvre les serveurs du monde simulé sur 127.0.0.1 à de vrais clients de messagerie.",
        "Scenario whose world to serve (default: the course's world).": "Scénario dont le monde est servi (par défaut : celui du cours).",
        "Address to listen on (only loopback unless you ask).": "Adresse d'écoute (seulement la boucle locale sauf demande).",
        "Base of the first host's block of ports.": "Base du bloc de ports de la première machine.",
        "Only these server hosts.": "Seulement ces serveurs.",
        "Seed of the world.": "Graine du monde.",
        "Root seed of the simulated world.": "Graine racine du monde simulé.",
        "Messages to deliver.": "Messages à livrer.",
        "Mail clients sending at the same time.": "Clients de messagerie qui envoient en même temps.",
        "Size of each message in octets.": "Taille de chaque message en octets.",
        "Messages each client sends per submission session (its outbox).": "Messages envoyés par client à chaque session de soumission (sa boîte d'envoi).",
    ]

    /// True when the arguments ask for help and the language is French.
    static func wanted(_ arguments: [String], environment: [String: String]) -> Bool {
        let asksHelp = arguments.contains("--help") || arguments.contains("-h") || arguments.first == "help"
        guard asksHelp else { return false }
        var option: String?
        if let index = arguments.firstIndex(of: "--lang"), index + 1 < arguments.count { option = arguments[index + 1] }
        if let joined = arguments.first(where: { $0.hasPrefix("--lang=") }) { option = String(joined.dropFirst(7)) }
        return Language.resolve(option: option, environment: environment) == .fr
    }

    /// The French help of the subcommand named in `arguments` (the root's when none).
    static func text(_ arguments: [String], columns: Int) -> String {
        let names = MailLabCommand.configuration.subcommands.map { ($0.configuration.commandName ?? "", $0) }
        let named = arguments.first { word in names.contains { $0.0 == word } }
        let command: ParsableCommand.Type = names.first { $0.0 == named }?.1 ?? MailLabCommand.self
        let english = MailLabCommand.helpMessage(for: command, columns: 10_000)
        return translate(english, columns: columns)
    }

    static func translate(_ english: String, columns: Int) -> String {
        var lines: [String] = []
        for raw in english.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            for (heading, french) in headings where line.hasPrefix(heading) {
                line = french + line.dropFirst(heading.count)
            }
            // Longest texts first, so that a sentence is not half-translated by a shorter one.
            for (source, target) in texts.sorted(by: { $0.key.count > $1.key.count }) where line.contains(source) {
                line = line.replacingOccurrences(of: source, with: target)
            }
            lines.append(wrap(line, columns: columns))
        }
        return lines.joined(separator: "\n")
    }

    /// Wraps a help line; an option's description continues under its own column.
    static func wrap(_ line: String, columns: Int) -> String {
        guard line.count > columns, columns > 20 else { return line }
        if line.hasPrefix("  "), let range = line.range(of: "  ", range: line.index(line.startIndex, offsetBy: 2)..<line.endIndex) {
            let padding = line[range.lowerBound...].prefix { $0 == " " }.count
            let column = line.distance(from: line.startIndex, to: range.lowerBound) + padding
            if column < columns / 2 {
                let head = String(line.prefix(column))
                let body = TextLayout.wrapLine(String(line.dropFirst(column)), width: columns - column)
                let indent = String(repeating: " ", count: column)
                return head + body.replacingOccurrences(of: "\n", with: "\n" + indent)
            }
        }
        return TextLayout.wrapLine(line, width: columns)
    }
}
