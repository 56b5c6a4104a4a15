import Crypto
import Foundation

/// The REPL's logic, free of any terminal: one line in, the answer out.
///
/// The libedit layer (in the `maillab` executable) only reads lines, keeps history and asks
/// `completions(for:)`; scripts and tests call `evaluate(_:)` directly and get the same answers.
///
/// Contexts: the sandbox prompt; a protocol session (`connect HOST PORT`), where lines go to the
/// server as typed and tutor commands start with `!`; a message being composed (`send`); a quiz.
/// `endOfInput()` (Ctrl-D) leaves the current context, and at the sandbox prompt leaves the REPL.
public final class ReplCore {
    public struct Output: Equatable, Sendable {
        public var text: String
        /// The REPL should end (quit, or Ctrl-D at the sandbox prompt).
        public var exit: Bool
        public init(text: String, exit: Bool = false) {
            self.text = text
            self.exit = exit
        }
    }

    public struct Environment {
        public var library: ContentLibrary
        public var driver: WorldDriver
        public var store: ProgressStore?
        public var learner: String
        /// Wall clock for progress records (time taken); never used by the simulation.
        public var clock: () -> Date
        public var color: Bool

        public init(library: ContentLibrary, driver: WorldDriver, store: ProgressStore?, learner: String,
                    clock: @escaping () -> Date, color: Bool = false) {
            self.library = library
            self.driver = driver
            self.store = store
            self.learner = learner
            self.clock = clock
            self.color = color
        }
    }

    /// Longest line the REPL accepts (protocol engines have their own, smaller limits).
    public static let maximumLineLength = 8192

    public static let commands = ["advance", "b64", "b64d", "back", "connect", "cram-md5", "dig", "down", "goals", "help", "hint",
                                  "hosts", "lang", "lesson", "lessons", "mailbox", "next", "progress", "queue", "quit", "quiz",
                                  "replay", "run", "scenarios", "send", "sniff", "up", "why"]

    public private(set) var language: Language
    private var env: Environment
    private var world: TutorWorld?
    private var facts = FactLog()
    private var context = Context.top
    private var task: ActiveTask?
    private var lesson: LessonCursor?
    private var runner: ScenarioRunner?
    private var lastReply: (line: String, kind: MailProtocol)?
    private var sniffing = false
    private var wireCursor = 0

    private enum Context {
        case top
        case session(OpenSession)
        case compose(Draft)
        case quiz(QuizState)
    }

    private struct OpenSession {
        var session: TutorSession
        var record: Int
        var inData = false
    }

    private struct Draft {
        /// The mail client composing it, or nil for the learner's own machine writing as `from`.
        var device: String?
        var from: String
        var to: [String]
        var subject: String
        var body: [String] = []
    }

    private struct QuizState {
        var run: QuizRun
        var attempt: Int64?
        var lesson: Lesson
    }

    private struct ActiveTask {
        var lessonID: String
        var exerciseID: String
        var task: LearnerTask
        var tracker: GoalTracker
        var hintsUsed = 0
        var startedAt: Date
        var done = false
    }

    private struct LessonCursor {
        var lesson: Lesson
        /// Sections shown so far; then exercises started so far.
        var section = 0
        var exercise = 0
    }

    public init(environment: Environment, language: Language) {
        env = environment
        self.language = language
    }

    private func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    /// ANSI colour when the terminal wants it (`--no-color` and `NO_COLOR` turn it off).
    private func paint(_ text: String, _ code: String) -> String {
        env.color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
    private func t(_ text: LocalizedText) -> String { text[language] }

    // MARK: Prompt and welcome

    /// True while a quiz waits for answers (`maillab quiz` stops reading when it ends).
    public var isQuizActive: Bool {
        if case .quiz = context { return true }
        return false
    }

    public var prompt: String {
        switch context {
        case .top: return "maillab> "
        case let .session(open): return open.inData ? "data> " : "\(open.session.host):\(open.session.port)> "
        case .compose: return "body> "
        case .quiz: return "quiz> "
        }
    }

    /// Shown when the REPL starts; on a learner's first start it offers the first lesson.
    public func welcome() -> String {
        var out = t("MailLab — laboratoire SMTP, POP3 et IMAP. Tapez « help » pour la liste des commandes.\n",
                    "MailLab — a laboratory for SMTP, POP3 and IMAP. Type 'help' for the list of commands.\n")
        let fresh = (try? env.store?.hasProgress(learner: env.learner)) ?? nil
        if fresh != true, let first = env.library.lessonIndex.first {
            out += t("Première visite ? Commencez par la leçon « \(first.title.fr) » : tapez « lesson \(first.id) ».\n",
                     "First time here? Start with the lesson '\(first.title.en)': type 'lesson \(first.id)'.\n")
        }
        return out
    }

    // MARK: Evaluation

    /// Evaluates one line typed by the learner.
    public func evaluate(_ rawLine: String) -> Output {
        var line = rawLine
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        if line.utf8.count > Self.maximumLineLength {
            return Output(text: t("Ligne trop longue (\(line.utf8.count) octets) : la limite est de \(Self.maximumLineLength) octets. "
                                  + "Un serveur SMTP refuse déjà les commandes de plus de 512 octets.\n",
                                  "Line too long (\(line.utf8.count) bytes): the limit is \(Self.maximumLineLength) bytes. "
                                  + "An SMTP server already refuses commands over 512 bytes.\n"))
        }
        switch context {
        case .top:
            return Output(text: afterCommand(command(line)), exit: quitRequested)
        case let .session(open):
            if line.hasPrefix("!") {
                let inner = String(line.dropFirst())
                if inner.trimmingCharacters(in: .whitespaces).lowercased() == "quit" { return endOfInput() }
                return Output(text: afterCommand(command(inner)))
            }
            return Output(text: afterCommand(sessionLine(line, open)))
        case var .compose(draft):
            if line == "." { return Output(text: afterCommand(finishCompose(draft))) }
            draft.body.append(line)
            context = .compose(draft)
            return Output(text: "")
        case let .quiz(state):
            return Output(text: quizAnswer(line, state))
        }
    }

    private var quitRequested = false

    /// Ctrl-D: leaves the current context; at the sandbox prompt, leaves the REPL.
    public func endOfInput() -> Output {
        switch context {
        case .top:
            return Output(text: t("Au revoir.\n", "Goodbye.\n"), exit: true)
        case let .session(open):
            open.session.close()
            context = .top
            return Output(text: afterCommand(t("Connexion fermée.\n", "Connection closed.\n")))
        case .compose:
            context = .top
            return Output(text: t("Message abandonné.\n", "Message discarded.\n"))
        case let .quiz(state):
            context = .top
            return Output(text: finishQuiz(state, early: true))
        }
    }

    /// Words that complete `line` (the text before the cursor), for the libedit layer.
    public func completions(for line: String) -> [String] {
        let endsWithSpace = line.last == " "
        var words = line.split(separator: " ").map(String.init)
        let partial = endsWithSpace ? "" : (words.popLast() ?? "")
        let candidates: [String]
        switch context {
        case let .session(open):
            if open.inData { return [] }
            let position = open.session.protocolKind == .imap ? 1 : 0
            guard words.count == position else { return [] }
            candidates = ProtocolVocabulary.words(for: open.session.protocolKind)
            return candidates.filter { $0.lowercased().hasPrefix(partial.lowercased()) }
        case .compose, .quiz:
            return []
        case .top:
            break
        }
        if words.isEmpty { return Self.commands.filter { $0.hasPrefix(partial) } }
        let hostNames = world?.hosts().map(\.name) ?? DefaultWorld.hostNames
        switch (words[0], words.count) {
        case ("lesson", 1), ("quiz", 1): candidates = env.library.lessonIndex.map(\.id)
        case ("replay", 1): candidates = env.library.scenarioIndex.map(\.id)
        case ("connect", 1), ("down", 1), ("up", 1), ("queue", 1): candidates = hostNames
        case ("connect", 2): candidates = ["25", "110", "143", "465", "587", "993", "995"]
        case ("connect", 3): candidates = ["--tls"]
        case ("dig", 2): candidates = DNSType.allCases.map(\.rawValue)
        case ("lang", 1): candidates = ["fr", "en"]
        case ("sniff", 1): candidates = ["on", "off"]
        case ("help", 1): candidates = Self.commands
        default: candidates = []
        }
        return candidates.filter { $0.hasPrefix(partial) }.sorted()
    }

    // MARK: Commands

    private func command(_ line: String) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "" }
        if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return t("Cette ligne contient des caractères de contrôle (\(Printable.escape(String(trimmed.prefix(40))))). "
                     + "Tapez « help » pour la liste des commandes.\n",
                     "This line holds control characters (\(Printable.escape(String(trimmed.prefix(40))))). "
                     + "Type 'help' for the list of commands.\n")
        }
        let words = trimmed.split(separator: " ").map(String.init)
        let name = words[0].lowercased()
        let args = Array(words.dropFirst())
        switch name {
        case "help", "?": return help(args.first)
        case "quit", "exit":
            quitRequested = true
            return t("Au revoir.\n", "Goodbye.\n")
        case "lang":
            guard let first = args.first, let lang = Language(rawValue: first.lowercased()) else { return usage("lang fr|en") }
            language = lang
            return t("Langue : français.\n", "Language: English.\n")
        case "lessons":
            return env.library.lessonIndex.map { "\($0.id)  \(t($0.title))" }.joined(separator: "\n") + "\n"
        case "scenarios":
            return env.library.scenarioIndex.map { "\($0.id)  \(t($0.title))" }.joined(separator: "\n") + "\n"
        case "lesson":
            guard let id = args.first else { return usage("lesson ID") }
            return startLesson(id)
        case "replay":
            guard let id = args.first else { return usage("replay ID") }
            return startReplay(id)
        case "next": return next()
        case "back": return back()
        case "run": return runAll()
        case "quiz":
            guard let id = args.first ?? lesson?.lesson.id ?? env.library.lessonIndex.first?.id else {
                return t("Aucune leçon n'a de quiz.\n", "No lesson has a quiz.\n")
            }
            return startQuiz(id)
        case "progress": return progressTable()
        case "hint": return hint()
        case "goals": return goalsStatus(full: true)
        case "hosts": return hosts()
        case "dig": return dig(args)
        case "connect": return connect(args)
        case "b64": return base64Encode(args.joined(separator: " "))
        case "b64d": return base64Decode(args.joined(separator: " "))
        case "cram-md5": return cramMD5(args)
        case "send": return startCompose(args)
        case "mailbox": return mailbox(args)
        case "queue": return queue(args)
        case "down", "up":
            guard args.count == 1 else { return usage("\(name) HOST") }
            return perform(.fault(name == "down" ? .down(args[0]) : .up(args[0])))
        case "advance":
            guard args.count == 1, let seconds = DurationText.seconds(args[0]) else { return usage("advance DURATION (5m, 2h, 1d)") }
            return perform(.advance(seconds: seconds))
        case "sniff":
            guard let mode = args.first?.lowercased(), mode == "on" || mode == "off" else { return usage("sniff on|off") }
            sniffing = mode == "on"
            wireCursor = world?.wireLog().count ?? 0
            return sniffing ? t("Écoute du réseau activée.\n", "Sniffing on.\n") : t("Écoute du réseau désactivée.\n", "Sniffing off.\n")
        case "why": return why()
        default:
            let suggestion = Self.commands.min { editDistance($0, name) < editDistance($1, name) }
            var out = t("Commande inconnue « \(Printable.escape(String(name.prefix(40)))) ».", "Unknown command '\(Printable.escape(String(name.prefix(40))))'.")
            if let suggestion, editDistance(suggestion, name) <= 2 { out += t(" Vouliez-vous dire « \(suggestion) » ?", " Did you mean '\(suggestion)'?") }
            return out + t(" Tapez « help ».\n", " Type 'help'.\n")
        }
    }

    private func usage(_ form: String) -> String { t("Usage : \(form)\n", "Usage: \(form)\n") }

    private func help(_ topic: String?) -> String {
        let lines: [(String, String, String)] = [
            ("lessons / scenarios", "liste les leçons / scénarios", "list lessons / scenarios"),
            ("lesson ID", "commence une leçon (next pour avancer)", "start a lesson (next to go on)"),
            ("replay ID", "rejoue un scénario pas à pas (next, back, run)", "replay a scenario step by step (next, back, run)"),
            ("quiz [ID]", "quiz d'une leçon", "a lesson's quiz"),
            ("progress", "votre progression", "your progress"),
            ("hosts", "les machines du réseau simulé", "hosts of the simulated network"),
            ("dig NAME [MX|A|TXT]", "interroge le DNS", "query the DNS"),
            ("connect HOST PORT [--tls]", "ouvre une session ; ! avant une commande du tuteur, Ctrl-D pour sortir",
             "open a session; ! before a tutor command, Ctrl-D to leave"),
            ("b64 TEXT / b64d TEXT", "encode / décode en base64 (\\0 pour l'octet nul)", "base64 encode / decode (\\0 for a NUL byte)"),
            ("cram-md5 USER PASSWORD CHALLENGE", "calcule la réponse CRAM-MD5", "compute a CRAM-MD5 response"),
            ("send FROM|DEVICE TO[,TO] SUBJECT", "rédige un message depuis une adresse ou un appareil (fin par .)",
             "compose a message from an address or a device (end with .)"),
            ("mailbox USER [FOLDER]", "contenu d'une boîte", "list a mailbox"),
            ("queue [HOST]", "file d'attente des MTA", "MTA queues"),
            ("down HOST / up HOST", "arrête / relance une machine", "stop / restart a host"),
            ("advance DURATION", "avance le temps simulé (5m, 2h, 1d)", "move simulated time on (5m, 2h, 1d)"),
            ("sniff on|off", "montre ce qui passe sur le réseau", "show what crosses the network"),
            ("why", "explique la dernière réponse du serveur", "explain the server's last reply"),
            ("hint / goals", "indice suivant / état des objectifs", "next hint / state of the goals"),
            ("lang fr|en", "change de langue", "switch language"),
            ("quit", "quitter", "leave"),
        ]
        let selected = topic.map { name in lines.filter { $0.0.hasPrefix(name.lowercased()) } } ?? lines
        if selected.isEmpty { return t("Pas d'aide pour « \(Printable.escape(topic ?? "")) ».\n", "No help for '\(Printable.escape(topic ?? ""))'.\n") }
        return selected.map { "  \($0.0.padding(toLength: 34, withPad: " ", startingAt: 0)) \(language == .fr ? $0.1 : $0.2)" }
            .joined(separator: "\n") + "\n"
    }

    // MARK: World

    private func currentWorld() throws -> TutorWorld {
        if let world { return world }
        let made = try env.driver.makeWorld(scenario: nil, seed: 1)
        world = made
        wireCursor = 0
        return made
    }

    private func worldOrMessage(_ body: (TutorWorld) throws -> String) -> String {
        do {
            return try body(currentWorld())
        } catch let error as TutorError {
            return t(error.message) + "\n"
        } catch {
            return t("Erreur : \(error)\n", "Error: \(error)\n")
        }
    }

    private func hosts() -> String {
        worldOrMessage { world in
            world.hosts().map { host in
                let state = host.up ? t("en marche", "up") : t("arrêtée", "down")
                let services = host.services.map { "\($0.kind.rawValue) \($0.port)" }.joined(separator: ", ")
                return "\(host.name)  \(host.address)  [\(state)]  \(services)"
            }.joined(separator: "\n") + "\n"
        }
    }

    private func dig(_ args: [String]) -> String {
        guard let name = args.first, args.count <= 2 else { return usage("dig NAME [MX|A|TXT]") }
        guard let type = DNSType(rawValue: (args.count == 2 ? args[1] : "A").uppercased()) else { return usage("dig NAME [MX|A|TXT]") }
        return worldOrMessage { world in
            let result = world.dig(name: name, type: type)
            var out = ";; status: \(result.status.rawValue)\n"
            for answer in result.answers {
                let value = answer.type == .TXT ? "\"\(answer.value)\"" : answer.value
                out += "\(answer.name).\t\(answer.ttl)\tIN\t\(answer.type.rawValue)\t\(answer.preference.map { "\($0) " } ?? "")\(value)\n"
            }
            if result.answers.isEmpty {
                out += result.status == .nxDomain ? t("Ce nom n'existe pas.\n", "This name does not exist.\n")
                    : t("Aucun enregistrement \(type.rawValue) pour ce nom.\n", "No \(type.rawValue) record for this name.\n")
            }
            return out
        }
    }

    private func connect(_ args: [String]) -> String {
        let tls = args.contains("--tls")
        let rest = args.filter { $0 != "--tls" }
        guard rest.count == 2, let port = Int(rest[1]), (1...65535).contains(port) else { return usage("connect HOST PORT [--tls]") }
        return openSession(SessionTarget(host: rest[0], port: port, tls: tls))
    }

    private func openSession(_ target: SessionTarget) -> String {
        if case let .session(open) = context { open.session.close() }
        return worldOrMessage { world in
            let session = try world.openSession(host: target.host, port: target.port, tls: target.tls)
            var record = SessionRecord(host: session.host, port: session.port, protocolKind: session.protocolKind)
            record.replies = session.greeting
            if target.tls { record.tls = true }
            facts.sessions.append(record)
            context = .session(OpenSession(session: session, record: facts.sessions.count - 1))
            var out = t("Connecté à \(target.host):\(target.port)\(target.tls ? " (TLS)" : ""). Ctrl-D pour fermer, !why, !hint, !goals.\n",
                        "Connected to \(target.host):\(target.port)\(target.tls ? " (TLS)" : ""). Ctrl-D to close, !why, !hint, !goals.\n")
            for line in session.greeting { out += "S: \(Printable.escape(line))\n" }
            if let last = session.greeting.last { lastReply = (last, session.protocolKind) }
            return out
        }
    }

    private func sessionLine(_ line: String, _ open: OpenSession) -> String {
        var open = open
        let kind = open.session.protocolKind
        let exchange = open.session.send(line: line)
        if !open.inData {
            let verb = SessionRecord.verb(of: line, protocolKind: kind)
            if !verb.isEmpty { facts.sessions[open.record].verbs.append(verb) }
        }
        if open.inData, line == "." { open.inData = false }
        facts.sessions[open.record].replies += exchange.lines
        for event in exchange.events { facts.sessions[open.record].apply(event) }
        var out = ""
        for reply in exchange.lines { out += "S: \(Printable.escape(reply))\n" }
        for event in exchange.events {
            switch event {
            case let .tlsEstablished(description): out += t("(TLS établi : \(description))\n", "(TLS established: \(description))\n")
            case let .authenticated(user): out += t("(authentifié : \(user))\n", "(authenticated: \(user))\n")
            case let .accepted(_, _, queueID): out += t("(message accepté\(queueID.map { ", file \($0)" } ?? ""))\n",
                                                        "(message accepted\(queueID.map { ", queue id \($0)" } ?? ""))\n")
            case .closed: break
            }
        }
        if kind == .smtp, !open.inData, SessionRecord.verb(of: line, protocolKind: kind) == "DATA",
           exchange.lines.last?.hasPrefix("354") == true {
            open.inData = true
            out += t("(tapez le message ; une ligne avec un seul . le termine)\n", "(type the message; a line holding only . ends it)\n")
        }
        if let last = exchange.lines.last {
            lastReply = (last, kind)
            if ProtocolVocabulary.isError(last, kind: kind) { out += explainError(last, kind: kind) }
        }
        if open.session.isClosed || exchange.events.contains(.closed) {
            context = .top
            out += t("Connexion fermée par le serveur.\n", "Connection closed by the server.\n")
        } else {
            context = .session(open)
        }
        return out
    }

    private func explainError(_ line: String, kind: MailProtocol) -> String {
        var out = ""
        if let explanation = world?.explain(reply: line, protocolKind: kind) { out += paint("» \(t(explanation))", "33") + "\n" }
        if let active = task, !active.done {
            if let advice = active.task.advice.first(where: { GoalEvaluator.replyHasCode(line, $0.code) }) {
                out += paint("» \(t(advice.text))", "36") + "\n"
            } else if active.hintsUsed < active.task.hints.count + (active.task.solution == nil ? 0 : 1) {
                out += t("» Besoin d'aide ? Tapez « !hint ».\n", "» Need help? Type '!hint'.\n")
            }
        }
        return out
    }

    private func why() -> String {
        guard let (line, kind) = lastReply else { return t("Aucune réponse de serveur à expliquer.\n", "No server reply to explain yet.\n") }
        if let explanation = world?.explain(reply: line, protocolKind: kind) { return "\(Printable.escape(line))\n» \(t(explanation))\n" }
        return t("Pas d'explication au catalogue pour : \(Printable.escape(line))\n", "No catalogue explanation for: \(Printable.escape(line))\n")
    }

    private func mailbox(_ args: [String]) -> String {
        guard (1...2).contains(args.count) else { return usage("mailbox USER [FOLDER]") }
        return worldOrMessage { world in
            let entries = try world.mailbox(user: args[0], folder: args.count == 2 ? args[1] : nil)
            if entries.isEmpty { return t("Boîte vide.\n", "Empty mailbox.\n") }
            return entries.map { entry in
                "\(entry.sequence)  uid=\(entry.uid)  \(entry.flags.joined(separator: " ").padding(toLength: 18, withPad: " ", startingAt: 0))  "
                    + "\(Printable.escape(entry.from))  \(Printable.escape(entry.subject))  (\(entry.size) o)"
            }.joined(separator: "\n") + "\n"
        }
    }

    private func queue(_ args: [String]) -> String {
        guard args.count <= 1 else { return usage("queue [HOST]") }
        return worldOrMessage { world in
            let entries = try world.queue(host: args.first)
            if entries.isEmpty { return t("File d'attente vide.\n", "Queue empty.\n") }
            return entries.map { entry in
                var line = "\(entry.id)  \(entry.host)  \(entry.from) → \(entry.to.joined(separator: ", "))  "
                line += t("essais : \(entry.attempts)", "attempts: \(entry.attempts)")
                if let next = entry.nextAttemptIn { line += t(", prochain dans \(DurationText.format(next))", ", next in \(DurationText.format(next))") }
                if let error = entry.lastError { line += "\n    \(Printable.escape(error))" }
                return line
            }.joined(separator: "\n") + "\n"
        }
    }

    private func perform(_ action: WorldAction) -> String {
        worldOrMessage { world in
            let notes = try world.perform(action)
            var out = notes.map { t($0) + "\n" }.joined()
            if case let .advance(seconds) = action { out += t("Temps simulé : +\(DurationText.format(seconds)).\n", "Simulated time: +\(DurationText.format(seconds)).\n") }
            if case let .send(send) = action { facts.submitted.append((send.from, send.to)) }
            return out.isEmpty ? t("Fait.\n", "Done.\n") : out
        }
    }

    // MARK: Composing

    private func startCompose(_ args: [String]) -> String {
        guard args.count >= 3 else { return usage("send FROM|DEVICE TO[,TO] SUBJECT") }
        let to = args[1].split(separator: ",").map(String.init)
        guard !to.isEmpty, to.allSatisfy({ $0.contains("@") }) else { return usage("send FROM|DEVICE TO[,TO] SUBJECT") }
        // An address writes from the learner's machine; a name is one of the world's mail clients.
        let isAddress = args[0].contains("@")
        context = .compose(Draft(device: isAddress ? nil : args[0], from: isAddress ? args[0] : "", to: to,
                                 subject: args.dropFirst(2).joined(separator: " ")))
        return t("Tapez le texte ; une ligne avec un seul . l'envoie (Ctrl-D abandonne).\n",
                 "Type the text; a line holding only . sends it (Ctrl-D discards).\n")
    }

    private func finishCompose(_ draft: Draft) -> String {
        context = .top
        return perform(.send(SendAction(device: draft.device, from: draft.from, to: draft.to, subject: draft.subject,
                                        body: draft.body.joined(separator: "\n"))))
    }

    // MARK: Helpers (base64, CRAM-MD5)

    /// `\0`, `\n`, `\r`, `\t` and `\\` in the text stand for those bytes (AUTH PLAIN needs NULs).
    static func unescape(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            switch iterator.next() {
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case let other?: out.append(UInt8(ascii: "\\")); out.append(other)
            case nil: out.append(UInt8(ascii: "\\"))
            }
        }
        return out
    }

    private func base64Encode(_ text: String) -> String {
        guard !text.isEmpty else { return usage("b64 TEXT") }
        return Data(Self.unescape(text)).base64EncodedString() + "\n"
    }

    private func base64Decode(_ text: String) -> String {
        guard !text.isEmpty else { return usage("b64d TEXT") }
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)) else {
            return t("Ce n'est pas du base64 valide (alphabet A-Z a-z 0-9 + /, longueur multiple de 4 avec =).\n",
                     "This is not valid base64 (alphabet A-Z a-z 0-9 + /, length a multiple of 4 with =).\n")
        }
        return Printable.escape(String(decoding: data, as: UTF8.self)) + "\n"
    }

    /// RFC 2195: the response is base64("user " + hex(HMAC-MD5(password, challenge))).
    static func cramMD5Response(user: String, password: String, challenge: [UInt8]) -> (digest: String, response: String) {
        let key = SymmetricKey(data: Array(password.utf8))
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: challenge, using: key)
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return (hex, Data("\(user) \(hex)".utf8).base64EncodedString())
    }

    private func cramMD5(_ args: [String]) -> String {
        guard args.count == 3 else { return usage("cram-md5 USER PASSWORD CHALLENGE-BASE64") }
        guard let challenge = Data(base64Encoded: args[2]) else {
            return t("Le défi doit être le texte base64 reçu après « 334 ».\n", "The challenge must be the base64 text received after '334'.\n")
        }
        let result = Self.cramMD5Response(user: args[0], password: args[1], challenge: Array(challenge))
        return t("défi : ", "challenge: ") + Printable.escape(String(decoding: challenge, as: UTF8.self)) + "\n"
            + "HMAC-MD5: \(result.digest)\n" + t("réponse : ", "response: ") + result.response + "\n"
    }

    // MARK: Tasks and goals

    private func startTask(_ taskDef: LearnerTask, lessonID: String, exerciseID: String) -> String {
        task = ActiveTask(lessonID: lessonID, exerciseID: exerciseID, task: taskDef, tracker: GoalTracker(goals: taskDef.goals),
                          startedAt: env.clock())
        facts = FactLog()
        var out = "\n== \(t(taskDef.instructions))\n" + goalsStatus(full: true)
        if let target = taskDef.session { out += openSession(target) }
        return out
    }

    /// Runs after every command: sniffed traffic, newly met goals, completion.
    private func afterCommand(_ text: String) -> String {
        var out = text
        if sniffing, let world {
            let records = world.wireLog()
            if wireCursor < records.count {
                for record in records[wireCursor...] { out += "~ " + TranscriptFormatter.line(record) + "\n" }
            }
            wireCursor = records.count
        }
        guard var active = task, !active.done, let world else { return out }
        let newly = active.tracker.update(facts: facts, world: world)
        let elapsed = max(0, Int(env.clock().timeIntervalSince(active.startedAt)))
        for goal in newly {
            out += paint(t("✓ Objectif atteint : ", "✓ Goal met: ") + (goal.description.map(t) ?? goal.id), "32") + "\n"
            do {
                try env.store?.recordGoal(learner: env.learner, lesson: active.lessonID, exercise: active.exerciseID, goal: goal.id,
                                          hintsUsed: active.hintsUsed, seconds: elapsed, at: env.clock())
            } catch let error as TutorError {
                out += t(error.message) + "\n"
            } catch {}
        }
        if !newly.isEmpty || !text.isEmpty { out += progressLine(active) }
        if active.tracker.isComplete {
            active.done = true
            out += paint(t("Exercice réussi ! (indices utilisés : \(active.hintsUsed)) Tapez « next » pour continuer.",
                           "Exercise complete! (hints used: \(active.hintsUsed)) Type 'next' to go on."), "1;32") + "\n"
        }
        task = active
        return out
    }

    private func progressLine(_ active: ActiveTask) -> String {
        let marks = active.tracker.goals.map { active.tracker.met.contains($0.id) ? "[x]" : "[ ]" }.joined(separator: " ")
        return t("Objectifs \(active.tracker.met.count)/\(active.tracker.goals.count) \(marks)\n",
                 "Goals \(active.tracker.met.count)/\(active.tracker.goals.count) \(marks)\n")
    }

    private func goalsStatus(full: Bool) -> String {
        guard let active = task else { return t("Aucun exercice en cours.\n", "No exercise under way.\n") }
        return active.tracker.goals.map { goal in
            let mark = active.tracker.met.contains(goal.id) ? "[x]" : "[ ]"
            return "  \(mark) \(goal.description.map(t) ?? goal.id)"
        }.joined(separator: "\n") + "\n"
    }

    private func hint() -> String {
        guard var active = task, !active.done else { return t("Aucun exercice en cours.\n", "No exercise under way.\n") }
        let hints = active.task.hints
        let out: String
        if active.hintsUsed < hints.count {
            out = t("Indice \(active.hintsUsed + 1)/\(hints.count) : ", "Hint \(active.hintsUsed + 1)/\(hints.count): ") + t(hints[active.hintsUsed]) + "\n"
            active.hintsUsed += 1
        } else if let solution = active.task.solution, active.hintsUsed == hints.count {
            out = t("Solution : ", "Solution: ") + t(solution) + "\n"
            active.hintsUsed += 1
        } else {
            out = t("Plus d'indice pour cet exercice.\n", "No more hints for this exercise.\n")
        }
        task = active
        return out
    }

    // MARK: Lessons

    private func startLesson(_ id: String) -> String {
        guard let found = env.library.lesson(id) else {
            return t("Leçon inconnue « \(Printable.escape(id)) ». Tapez « lessons ».\n", "Unknown lesson '\(Printable.escape(id))'. Type 'lessons'.\n")
        }
        var out = ""
        do { try env.store?.startLesson(learner: env.learner, lesson: id, at: env.clock()) } catch let error as TutorError {
            out += t(error.message) + "\n"
        } catch {}
        runner = nil
        task = nil
        lesson = LessonCursor(lesson: found)
        out += "# \(t(found.title))\n"
        return out + next()
    }

    private func next() -> String {
        if let runner { return replayNext(runner) }
        guard var cursor = lesson else { return t("Rien à suivre : tapez « lesson ID » ou « replay ID ».\n", "Nothing to follow: type 'lesson ID' or 'replay ID'.\n") }
        if let active = task, !active.done {
            return t("L'exercice n'est pas terminé (tapez « goals » ou « hint »).\n", "The exercise is not finished yet (type 'goals' or 'hint').\n")
        }
        let found = cursor.lesson
        if cursor.section < found.sections.count {
            let section = found.sections[cursor.section]
            cursor.section += 1
            lesson = cursor
            return "\n## \(t(section.title))\n\(t(section.text))\n" + t("(next pour continuer)\n", "(next to go on)\n")
        }
        if cursor.exercise < found.exercises.count {
            let exercise = found.exercises[cursor.exercise]
            cursor.exercise += 1
            lesson = cursor
            if case let .session(open) = context { open.session.close(); context = .top }
            do {
                let scenario = exercise.scenario.flatMap { env.library.scenario($0) }
                world = try env.driver.makeWorld(scenario: scenario, seed: scenario?.seed ?? 1)
                wireCursor = 0
            } catch let error as TutorError {
                return t(error.message) + "\n"
            } catch {
                return t("Monde indisponible : \(error)\n", "World unavailable: \(error)\n")
            }
            return startTask(exercise.task, lessonID: found.id, exerciseID: exercise.id)
        }
        lesson = nil
        task = nil
        do { try env.store?.completeLesson(learner: env.learner, lesson: found.id, at: env.clock()) } catch {}
        let quiz = found.quiz.isEmpty ? "" : t(" Tapez « quiz \(found.id) » pour le quiz.", " Type 'quiz \(found.id)' for the quiz.")
        return t("Leçon terminée.", "Lesson complete.") + quiz + "\n"
    }

    private func back() -> String {
        if let runner {
            do {
                try runner.back()
                world = runner.world
                wireCursor = runner.world.wireLog().count
                return t("Retour avant l'étape \(runner.position + 1) (monde rejoué depuis le début).\n",
                         "Back before step \(runner.position + 1) (world replayed from the start).\n")
            } catch {
                return t("Impossible de rejouer : \(error)\n", "Cannot replay: \(error)\n")
            }
        }
        guard var cursor = lesson, cursor.exercise == 0, cursor.section > 1 else {
            return t("Impossible de revenir en arrière ici.\n", "Cannot go back here.\n")
        }
        cursor.section -= 2
        lesson = cursor
        return next()
    }

    // MARK: Scenario replay

    private func startReplay(_ id: String) -> String {
        guard let scenario = env.library.scenario(id) else {
            return t("Scénario inconnu « \(Printable.escape(id)) ». Tapez « scenarios ».\n", "Unknown scenario '\(Printable.escape(id))'. Type 'scenarios'.\n")
        }
        do {
            let made = try ScenarioRunner(scenario: scenario, driver: env.driver)
            runner = made
            lesson = nil
            task = nil
            world = made.world
            wireCursor = 0
            return "# \(t(scenario.title))\n" + (scenario.summary.map { t($0) + "\n" } ?? "")
                + t("\(scenario.steps.count) étapes : next, back, run.\n", "\(scenario.steps.count) steps: next, back, run.\n")
        } catch let error as TutorError {
            return t(error.message) + "\n"
        } catch {
            return t("Monde indisponible : \(error)\n", "World unavailable: \(error)\n")
        }
    }

    private func describe(_ outcome: StepOutcome, total: Int) -> String {
        var out = "[\(outcome.index + 1)/\(total)] "
        out += outcome.notes.map { t($0) }.joined(separator: "\n") + "\n"
        if let error = outcome.error { out += "! " + t(error.message) + "\n" }
        for goal in outcome.failures {
            out += t("! attendu mais faux : ", "! expected but false: ") + (goal.description.map(t) ?? goal.id) + "\n"
        }
        if case .expect = outcome.step.action, outcome.failures.isEmpty { out += t("✓ vérifié\n", "✓ checked\n") }
        return out
    }

    private func replayNext(_ runner: ScenarioRunner) -> String {
        if let active = task, !active.done {
            task = nil
            return t("Tâche passée.\n", "Task skipped.\n") + replayNext(runner)
        }
        guard let outcome = runner.next() else { return t("Fin du scénario.\n", "End of the scenario.\n") }
        if case let .task(taskDef) = outcome.step.action {
            return "[\(outcome.index + 1)/\(runner.scenario.steps.count)]"
                + startTask(taskDef, lessonID: runner.scenario.id, exerciseID: taskDef.id)
        }
        return describe(outcome, total: runner.scenario.steps.count)
    }

    private func runAll() -> String {
        guard let runner else { return t("Aucun scénario : tapez « replay ID ».\n", "No scenario: type 'replay ID'.\n") }
        task = nil
        let outcomes = runner.runToEnd()
        return outcomes.map { describe($0, total: runner.scenario.steps.count) }.joined() + t("Fin du scénario.\n", "End of the scenario.\n")
    }

    // MARK: Quizzes

    private func startQuiz(_ id: String) -> String {
        guard let found = env.library.lesson(id) else {
            return t("Leçon inconnue « \(Printable.escape(id)) ».\n", "Unknown lesson '\(Printable.escape(id))'.\n")
        }
        guard !found.quiz.isEmpty else { return t("Cette leçon n'a pas de quiz.\n", "This lesson has no quiz.\n") }
        var out = ""
        let missed: [String]
        do { missed = try env.store?.missedQuestions(learner: env.learner, lesson: id) ?? [] } catch let error as TutorError {
            out += t(error.message) + "\n"
            missed = []
        } catch { missed = [] }
        let attempt = try? env.store?.startQuiz(learner: env.learner, lesson: id, at: env.clock())
        let state = QuizState(run: QuizRun(lesson: found, previouslyMissed: missed), attempt: attempt, lesson: found)
        context = .quiz(state)
        out += "# Quiz: \(t(found.title)) (\(found.quiz.count) questions)\n"
        if !missed.isEmpty { out += t("Les questions manquées la dernière fois viennent d'abord.\n", "Questions missed last time come first.\n") }
        return out + showQuestion(state)
    }

    private func showQuestion(_ state: QuizState) -> String {
        guard let question = state.run.current else { return "" }
        return "\n" + QuizGrader.render(question, language: language)
    }

    private func quizAnswer(_ line: String, _ state: QuizState) -> String {
        var state = state
        guard let question = state.run.current else {
            context = .top
            return finishQuiz(state, early: false)
        }
        let answer = line.trimmingCharacters(in: .whitespaces)
        if answer.isEmpty { return t("Tapez votre réponse (Ctrl-D arrête le quiz).\n", "Type your answer (Ctrl-D stops the quiz).\n") }
        var predicted: String?
        var out = ""
        if case let .predict(scenarioID, target, prefix) = question.kind {
            let scenario = scenarioID.flatMap { env.library.scenario($0) }
            do {
                let fresh = try env.driver.makeWorld(scenario: scenario, seed: scenario?.seed ?? 1)
                predicted = try ReplyPrediction.expectedCode(world: fresh, session: target, prefix: prefix)
            } catch let error as TutorError {
                out += t(error.message) + "\n"
            } catch {
                out += t("Simulation impossible : \(error)\n", "Cannot simulate: \(error)\n")
            }
        }
        let grade = QuizGrader.grade(question, answer: answer, predicted: predicted, language: language)
        out += grade.correct ? t("Exact !\n", "Right!\n") : t("Pas tout à fait. Réponse : \(grade.expected)\n", "Not quite. Answer: \(grade.expected)\n")
        out += "» \(t(grade.explanation))\n"
        if let attempt = state.attempt {
            do {
                try env.store?.recordAnswer(attempt: attempt, learner: env.learner, lesson: state.lesson.id, question: question.id,
                                            answer: answer, correct: grade.correct, firstAttempt: !state.run.isRetry(question.id))
            } catch let error as TutorError { out += t(error.message) + "\n" } catch {}
        }
        state.run.record(grade)
        if state.run.isFinished {
            context = .top
            return out + finishQuiz(state, early: false)
        }
        context = .quiz(state)
        return out + showQuestion(state)
    }

    /// Score of the last finished quiz, as (score, total).
    public private(set) var lastQuizScore: (score: Int, total: Int)?

    private func finishQuiz(_ state: QuizState, early: Bool) -> String {
        let run = state.run
        lastQuizScore = (run.score, run.total)
        if let attempt = state.attempt {
            try? env.store?.finishQuiz(attempt: attempt, score: run.score, total: run.total, at: env.clock())
        }
        var out = t("Score : \(run.score)/\(run.total)", "Score: \(run.score)/\(run.total)")
        if early { out += t(" (quiz interrompu)", " (quiz stopped)") }
        out += "\n"
        if !run.missed.isEmpty {
            out += t("À revoir : \(run.missed.joined(separator: ", ")) (elles reviendront au prochain quiz).\n",
                     "To review: \(run.missed.joined(separator: ", ")) (they will come back in the next quiz).\n")
        }
        return out
    }

    // MARK: Progress

    private func progressTable() -> String {
        guard let store = env.store else { return t("Progression non enregistrée.\n", "Progress is not being recorded.\n") }
        do {
            return ProgressTable.render(try store.summary(learner: env.learner), library: env.library, language: language)
        } catch let error as TutorError {
            return t(error.message) + "\n"
        } catch {
            return "\(error)\n"
        }
    }
}

/// The `progress` table, one line per lesson.
public enum ProgressTable {
    public static func render(_ rows: [ProgressStore.LessonSummary], library: ContentLibrary, language: Language) -> String {
        let fr = language == .fr
        var out = fr ? "leçon                     état       objectifs  indices  quiz    à revoir\n"
            : "lesson                    state      goals      hints    quiz    to review\n"
        let ids = Array(Set(library.lessonIndex.map(\.id) + rows.map(\.lesson))).sorted()
        for id in ids {
            let row = rows.first { $0.lesson == id }
            let state = row.map { $0.completed ? (fr ? "terminée" : "completed") : (fr ? "commencée" : "started") } ?? (fr ? "à faire" : "not begun")
            let quiz = row?.bestScore.map { "\($0)/\(row?.total ?? 0)" } ?? "-"
            out += id.padding(toLength: 26, withPad: " ", startingAt: 0) + state.padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(row?.goalsMet ?? 0).padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(row?.hintsUsed ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0)
                + quiz.padding(toLength: 8, withPad: " ", startingAt: 0) + String(row?.missed ?? 0) + "\n"
        }
        return out
    }
}

/// Levenshtein distance, for "did you mean" (inputs are short command names).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.prefix(32)), b = Array(b.prefix(32))
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
