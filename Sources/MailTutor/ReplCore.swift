import Foundation
import MailCore

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

    public static var commands: [String] { ReplCommands.names }

    /// Terminal width for wrapping explanations and narration at word boundaries; nil leaves
    /// lines long (piped output, tests). The libedit layer sets it before every line.
    public var width: Int?
    /// True while the server's last reply asked for a SASL response (334 / + ): the next line
    /// is a credential, kept out of the history file.
    private var saslPending = false

    public private(set) var language: Language
    var env: Environment
    private var world: TutorWorld?
    /// The world the learner works in now (nil before one is made), for `maillab --web`.
    public var liveWorld: TutorWorld? { world }
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
        var inData = false
        /// TLS is up (implicit TLS, or after STARTTLS/STLS): a credential sent now is protected.
        var encrypted = false
    }

    private struct Draft {
        /// The mail client composing it, or nil for the learner's own machine writing as `from`.
        var device: String?
        var from: String
        var to: [String]
        var subject: String
        var body: [String] = []
        /// The session `!send` was typed in: the REPL goes back to it once the message is sent.
        var returnTo: OpenSession?
    }

    private struct QuizState {
        var run: QuizRun
        var attempt: Int64?
        var lesson: Lesson
        /// Seeds the order of the choices: the learner and the attempt's number, so that two
        /// learners (or two attempts) see the right answer at different places, reproducibly.
        var seed: String
        /// First wrong answers, for the review at the end: what was typed and the code the world gave.
        var firstMisses: [String: (answer: String, predicted: String?)] = [:]
    }

    private struct ActiveTask {
        var lessonID: String
        var exerciseID: String
        var task: LearnerTask
        var tracker: GoalTracker
        var hintsUsed = 0
        var startedAt: Date
        var done = false
        /// False until the first update after the exercise opened: an invariant (`keep:`) that
        /// already holds then is not announced as met, since the learner has not done anything.
        var opened = false
    }

    /// Set by an error reply during an exercise: `afterCommand` then offers a hint, unless the
    /// reply met a goal.
    private var hintOffer = false

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

    func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    /// ANSI colour when the terminal wants it (`--no-color` and `NO_COLOR` turn it off).
    private func paint(_ text: String, _ code: String) -> String {
        env.color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
    func t(_ text: LocalizedText) -> String { text[language] }

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
    public func welcome() -> String { layout(welcomeText()) }

    private func welcomeText() -> String {
        var out = t("MailLab — laboratoire SMTP, POP3 et IMAP. Tapez « help » pour la liste des commandes.\n",
                    "MailLab — a laboratory for SMTP, POP3 and IMAP. Type 'help' for the list of commands.\n")
        let fresh = (try? env.store?.hasProgress(learner: env.learner)) ?? nil
        if let saved = savedPosition(), let entry = env.library.lessonIndex.first(where: { $0.id == saved.lesson }) {
            out += t("Bon retour ! Vous en étiez à l'étape \(saved.index + 1) de la leçon « \(entry.title.fr) » : tapez « resume » (ou « lesson \(entry.id) ») pour continuer.\n",
                     "Welcome back! You were at step \(saved.index + 1) of the lesson '\(entry.title.en)': type 'resume' (or 'lesson \(entry.id)') to go on.\n")
        } else if fresh != true, let first = env.library.lessonIndex.first {
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
        let result = evaluateInContext(line)
        return Output(text: layout(result.text), exit: result.exit)
    }

    /// Wraps the learner-facing lines of an answer to `width`; protocol lines (`S: `, `C: `,
    /// sniffed `~ ` lines) and indented samples stay as they are.
    private func layout(_ text: String) -> String {
        guard let width, text.contains(where: { $0 == "\n" }) || text.count > width else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("S: ") || line.hasPrefix("C: ") || line.hasPrefix("~ ") || line.hasPrefix("  C: ") || line.hasPrefix("    ") {
                return String(line)
            }
            return TextLayout.wrap(String(line), width: width)
        }.joined(separator: "\n")
    }

    private func evaluateInContext(_ line: String) -> Output {
        switch context {
        case .top:
            return Output(text: afterCommand(command(line)), exit: quitRequested)
        case let .session(open):
            if line.hasPrefix("!") {
                let inner = String(line.dropFirst())
                if inner.trimmingCharacters(in: .whitespaces).lowercased() == "quit" { return endOfInput() }
                let name = inner.split(separator: " ").first.map { $0.lowercased() } ?? ""
                if name == "send" { return Output(text: startCompose(inner.split(separator: " ").dropFirst().map(String.init), returnTo: open)) }
                var out = command(inner)
                // A command that left the session (lesson, quiz, next…) closes it and says so.
                var stillHere = false
                if case let .session(now) = context { stillHere = now.session === open.session }
                if !stillHere, !open.session.isClosed {
                    open.session.close()
                    out += t("(connexion à \(open.session.host):\(open.session.port) fermée)\n",
                             "(connection to \(open.session.host):\(open.session.port) closed)\n")
                } else if stillHere {
                    // What the server pushed while the helper ran (IDLE's `* n EXISTS` during
                    // `!advance`, a 421 after a timeout) is shown now, not at the next command.
                    for pushed in open.session.takeUnsolicited() { out += "S: \(Printable.escape(pushed))\n" }
                    if open.session.isClosed {
                        context = .top
                        out += t("Connexion fermée par le serveur.\n", "Connection closed by the server.\n")
                    }
                }
                return Output(text: afterCommand(out), exit: quitRequested)
            }
            // An empty line outside DATA sends nothing (a stray Enter would earn a 500).
            if !open.inData, line.trimmingCharacters(in: .whitespaces).isEmpty { return Output(text: "") }
            return Output(text: afterCommand(sessionLine(line, open)))
        case var .compose(draft):
            if line == "." { return Output(text: afterCommand(finishCompose(draft))) }
            if draft.body.count >= Self.maximumBodyLines {
                return Output(text: t("Message trop long (\(Self.maximumBodyLines) lignes au plus) : tapez « . » pour l'envoyer.\n",
                                      "Message too long (at most \(Self.maximumBodyLines) lines): type '.' to send it.\n"))
            }
            draft.body.append(line)
            context = .compose(draft)
            return Output(text: "")
        case let .quiz(state):
            return Output(text: quizAnswer(line, state))
        }
    }

    /// Longest message body `send` composes, in lines.
    public static let maximumBodyLines = 2000

    /// Longest stretch of virtual time one call of ``timePassed(seconds:)`` runs (a terminal
    /// suspended for an hour does not replay the hour in one go).
    public static let maximumWaitStep = 60

    /// At a terminal, while the learner sits at a session's prompt, virtual time follows the wall
    /// clock: the line editor calls this with the whole seconds waited. The world runs that long
    /// (a backup MX retries, a timer fires) and what the server pushed meanwhile (IDLE's
    /// `* n EXISTS`, a `421` or `* BYE` after a timeout) is returned to print at once, with the
    /// goals it met. Nil when nothing is to be shown, or outside a session (at the tutor's own
    /// prompt, in a message being composed or in a quiz, time stands still). Piped input never
    /// calls it, so transcripts stay deterministic.
    public func timePassed(seconds: Int) -> String? {
        guard seconds > 0, case let .session(open) = context, !open.session.isClosed, let world else { return nil }
        _ = try? world.perform(.advance(seconds: min(seconds, Self.maximumWaitStep)))
        var out = open.session.takeUnsolicited().map { "S: \(Printable.escape($0))\n" }.joined()
        if open.session.isClosed {
            context = .top
            out += t("Connexion fermée par le serveur.\n", "Connection closed by the server.\n")
        }
        let text = layout(afterCommand(out))
        return text.isEmpty ? nil : text
    }

    private var isCompose: Bool {
        if case .compose = context { return true }
        return false
    }

    /// Ctrl-C: throws away the line being typed; nothing is sent to a server.
    public func interrupt() -> Output {
        switch context {
        case .session: return Output(text: t("(ligne annulée, rien n'est envoyé ; Ctrl-D ferme la session)\n",
                                             "(line cancelled, nothing sent; Ctrl-D closes the session)\n"))
        case .quiz: return Output(text: t("(Ctrl-D arrête le quiz)\n", "(Ctrl-D stops the quiz)\n"))
        case .compose: return Output(text: t("(Ctrl-D abandonne le message)\n", "(Ctrl-D discards the message)\n"))
        case .top: return Output(text: "")
        }
    }

    /// The line as the history file may keep it (passwords, AUTH payloads and SASL responses
    /// masked), computed before the line is evaluated.
    public func historyEntry(for line: String) -> String {
        switch context {
        case let .session(open):
            if open.inData { return line }
            return Secrets.redact(line, protocolKind: open.session.protocolKind, awaitingSASL: saslPending)
        case .top, .quiz:
            return Secrets.redact(line, protocolKind: nil, awaitingSASL: false)
        case .compose:
            return line
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
        case let .compose(draft):
            context = .top
            if let open = draft.returnTo, !open.session.isClosed {
                context = .session(open)
                return Output(text: t("Message abandonné. Retour à la session \(open.session.host):\(open.session.port).\n",
                                      "Message discarded. Back to the session with \(open.session.host):\(open.session.port).\n"))
            }
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
            var note = ""
            do { try env.store?.setSetting(learner: env.learner, key: "language", value: lang.rawValue) } catch let error as TutorError {
                note = t(error.message) + "\n"
            } catch {}
            return t("Langue : français.\n", "Language: English.\n") + note
        case "lessons":
            return env.library.lessonIndex.map { "\($0.id)  \(t($0.title))" }.joined(separator: "\n") + "\n"
        case "scenarios":
            return env.library.scenarioIndex.map { "\($0.id)  \(t($0.title))" }.joined(separator: "\n") + "\n"
        case "lesson":
            guard let id = args.first, args.count <= 2 else { return usage("lesson ID [N]") }
            if args.count == 2 {
                guard let number = Int(args[1]), number >= 1 else { return usage("lesson ID [N]") }
                return startLesson(id, section: number)
            }
            return startLesson(id)
        case "resume": return resume()
        case "map": return lessonMap()
        case "reset", "retry": return resetExercise()
        case "skip": return skipExercise()
        case "clear": return "\u{1B}[H\u{1B}[2J"
        case "codes":
            guard args.count <= 1, let table = Reference.codes(args.first, language: language) else { return usage("codes [smtp|pop3|imap]") }
            return table
        case "glossary": return Reference.glossaryText(args.isEmpty ? nil : args.joined(separator: " "), language: language)
        case "show": return showMessage(args)
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
            if env.library.lesson(id) == nil { return unknownLesson(id, command: "quiz") }
            return startQuiz(id)
        case "progress": return progressTable()
        case "hint": return hint()
        case "goals": return goalsStatus(full: true)
        case "hosts": return hosts()
        case "dig": return dig(args)
        case "dns": return dnsCommand(args)
        case "mta": return mtaCommand(args)
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
        case "why": return args.isEmpty ? why() : Reference.why(args.joined(separator: " "), language: language)
        default:
            let suggestion = Self.commands.min { editDistance($0, name) < editDistance($1, name) }
            var out = t("Commande inconnue « \(Printable.escape(String(name.prefix(40)))) ».", "Unknown command '\(Printable.escape(String(name.prefix(40))))'.")
            if let suggestion, editDistance(suggestion, name) <= 2 { out += t(" Vouliez-vous dire « \(suggestion) » ?", " Did you mean '\(suggestion)'?") }
            return out + t(" Tapez « help ».\n", " Type 'help'.\n")
        }
    }

    func usage(_ form: String) -> String {
        t("Usage : \(ReplCommands.localize(form, .fr))\n", "Usage: \(form)\n")
    }

    /// "Unknown lesson", with the nearest id when one is close ("quiz smpt" → smtp).
    private func unknownLesson(_ id: String, command: String) -> String {
        let ids = env.library.lessonIndex.map(\.id)
        let wanted = id.lowercased()
        // Ids look like "02-smtp": the part after the number counts as a name too.
        func distance(_ candidate: String) -> Int {
            let short = candidate.split(separator: "-", maxSplits: 1).last.map(String.init) ?? candidate
            return min(editDistance(candidate, wanted), editDistance(short, wanted))
        }
        var out = t("Leçon inconnue « \(Printable.escape(String(id.prefix(40)))) ».", "Unknown lesson '\(Printable.escape(String(id.prefix(40))))'.")
        if let best = ids.min(by: { distance($0) < distance($1) }), distance(best) <= 2 {
            out += t(" Vouliez-vous dire « \(command) \(best) » ?", " Did you mean '\(command) \(best)'?")
        }
        return out + t(" Tapez « lessons ».\n", " Type 'lessons'.\n")
    }

    private func help(_ topic: String?) -> String {
        if let text = ReplCommands.help(topic, language: language) { return text }
        return t("Pas d'aide pour « \(Printable.escape(topic ?? "")) ».\n", "No help for '\(Printable.escape(topic ?? ""))'.\n")
    }

    // MARK: World

    private func currentWorld() throws -> TutorWorld {
        if let world { return world }
        let made = try env.driver.makeWorld(scenario: nil, seed: 1)
        world = made
        wireCursor = 0
        return made
    }

    func worldOrMessage(_ body: (TutorWorld) throws -> String) -> String {
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
        // `why` must not explain the previous session's last reply.
        lastReply = nil
        saslPending = false
        return worldOrMessage { world in
            let session = try world.openSession(host: target.host, port: target.port, tls: target.tls)
            context = .session(OpenSession(session: session, encrypted: target.tls))
            var out = t("Connecté à \(target.host):\(target.port)\(target.tls ? " (TLS)" : ""). Ctrl-D pour fermer, !why, !hint, !goals.\n",
                        "Connected to \(target.host):\(target.port)\(target.tls ? " (TLS)" : ""). Ctrl-D to close, !why, !hint, !goals.\n")
            for line in session.greeting { out += "S: \(Printable.escape(line))\n" }
            if let last = session.greeting.last { lastReply = (last, session.protocolKind) }
            if !target.tls, [465, 993, 995].contains(target.port) {
                out += t("» Le port \(target.port) attend TLS dès le premier octet : le serveur ne dira rien en clair. "
                         + "Tapez « connect \(target.host) \(target.port) --tls ».\n",
                         "» Port \(target.port) expects TLS from the first byte: the server will say nothing in clear. "
                         + "Type 'connect \(target.host) \(target.port) --tls'.\n")
            }
            return out
        }
    }

    private func sessionLine(_ line: String, _ open: OpenSession) -> String {
        var open = open
        let kind = open.session.protocolKind
        let clearCredential = !open.inData && !open.encrypted
            && Secrets.sendsCredential(line, protocolKind: kind, awaitingSASL: saslPending)
        let exchange = open.session.send(line: line)
        var out = ""
        for reply in exchange.lines { out += "S: \(Printable.escape(reply))\n" }
        for event in exchange.events {
            switch event {
            case let .tlsEstablished(description):
                open.encrypted = true
                out += t("(TLS établi : \(Self.frenchTLS(description)))\n", "(TLS established: \(description))\n")
            case let .authenticated(user): out += t("(authentifié : \(user))\n", "(authenticated: \(user))\n")
            case let .accepted(_, _, queueID): out += t("(message accepté\(queueID.map { ", file \($0)" } ?? ""))\n",
                                                        "(message accepted\(queueID.map { ", queue id \($0)" } ?? ""))\n")
            case .closed: break
            }
        }
        // What the server waits for now comes from its engine (the reply's end it reported), not
        // from the reply text: the message after DATA's 354, a SASL response, a literal.
        if let reply = exchange.reply {
            let wasInData = open.inData
            open.inData = reply.awaiting == .messageData
            if open.inData && !wasInData {
                out += t("(tapez le message ; une ligne avec un seul . le termine)\n", "(type the message; a line holding only . ends it)\n")
            }
        }
        if clearCredential {
            out += paint(t("» Attention : ce secret vient de traverser le réseau en clair (encodé en base64 ou non, c'est pareil : "
                           + "le base64 n'est pas un chiffrement) ; quiconque écoute (« sniff on ») le lit. Chiffrez d'abord "
                           + "(STARTTLS, STLS, ou un port TLS).",
                           "» Careful: this secret just crossed the network in clear (base64 or not, it is the same: base64 is no "
                           + "encryption); anyone listening ('sniff on') reads it. Encrypt first (STARTTLS, STLS, or a TLS port)."), "35") + "\n"
        }
        if let last = exchange.lines.last {
            lastReply = (last, kind)
            saslPending = exchange.reply.map { $0.awaiting == .saslResponse || $0.awaiting == .literal } ?? false
            if exchange.reply?.status == .negative {
                out += explainError(last, kind: kind)
                if !open.inData, let note = tutorCommandNote(line, kind: kind) { out += note }
            }
        }
        if open.session.isClosed || exchange.events.contains(.closed) {
            context = .top
            out += t("Connexion fermée par le serveur.\n", "Connection closed by the server.\n")
        } else {
            context = .session(open)
        }
        return out
    }

    /// A tutor command typed at a server's prompt (`next`, `hint`, `lesson smtp`) went to the
    /// server, which refused it: the learner is told how to reach the tutor from a session. Words
    /// the session's protocol knows (QUIT, HELP, LIST…) are left alone.
    private func tutorCommandNote(_ line: String, kind: MailProtocol) -> String? {
        let words = line.split(separator: " ")
        guard let first = words.first.map({ $0.lowercased() }), ReplCommands.names.contains(first) else { return nil }
        let known = ProtocolVocabulary.words(for: kind).map { $0.split(separator: " ").first.map { $0.lowercased() } ?? "" }
        if kind != .imap, known.contains(first) { return nil }
        // An IMAP line starts with a tag: a lone word or "next 2" cannot be a command, but
        // "a1 list" is (the first word is then the tag, not a tutor command).
        if kind == .imap, words.count > 1, known.contains(words[1].lowercased()) { return nil }
        return paint(t("» « \(first) » est une commande du tuteur : le serveur l'a reçue comme une ligne du protocole. Dans une session, "
                       + "tapez « !\(line) », ou fermez d'abord la session (Ctrl-D).",
                       "» '\(first)' is a tutor command: the server got it as a protocol line. Inside a session, type "
                       + "'!\(line)', or close the session first (Ctrl-D)."), "36") + "\n"
    }

    /// The world describes TLS in English ("HOST, certificate verified against the MailLab CA").
    static func frenchTLS(_ description: String) -> String {
        description.replacingOccurrences(of: "certificate verified against the MailLab CA", with: "certificat vérifié par l'AC MailLab")
            .replacingOccurrences(of: "certificate not verified", with: "certificat non vérifié")
    }

    private func explainError(_ line: String, kind: MailProtocol) -> String {
        var out = ""
        if let explanation = world?.explain(reply: line, protocolKind: kind) { out += paint("» \(t(explanation))", "33") + "\n" }
        if let active = task, !active.done {
            if let advice = active.task.advice.first(where: { ReplyCode.has(line, $0.code) }) {
                out += paint("» \(t(advice.text))", "36") + "\n"
            } else if active.hintsUsed < active.task.hints.count + (active.task.solution == nil ? 0 : 1) {
                // Offered by `afterCommand`, unless the error was what the exercise asked for.
                hintOffer = true
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
                    + "\(Printable.escape(entry.from))  \(Printable.escape(entry.subject))  (\(entry.size) \(t("octets", "bytes")))"
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
            return out.isEmpty ? t("Fait.\n", "Done.\n") : out
        }
    }

    // MARK: Composing

    /// `send FROM|DEVICE TO[,TO] SUBJECT`, or with options: `send --from ADDRESS TO SUBJECT`,
    /// `send --device NAME TO SUBJECT`. Anything else starting with `--` is a usage error (it
    /// is never taken for a device, and no body is read).
    private func startCompose(_ args: [String], returnTo: OpenSession? = nil) -> String {
        let form = "send [--from FROM|--device DEVICE] FROM|DEVICE TO[,TO] SUBJECT"
        var sender: String?
        var positional: [String] = []
        var index = 0
        while index < args.count {
            let word = args[index]
            if word == "--from" || word == "--device" {
                guard index + 1 < args.count, sender == nil else { return usage(form) }
                sender = args[index + 1]
                if word == "--from", !args[index + 1].contains("@") {
                    return t("--from attend une adresse (alice@example.com) ; pour un appareil, --device NOM.\n",
                             "--from expects an address (alice@example.com); for a device, --device NAME.\n")
                }
                index += 2
                continue
            }
            if word.hasPrefix("--"), positional.count < 2 {
                return t("Option inconnue « \(Printable.escape(String(word.prefix(30)))) ». ", "Unknown option '\(Printable.escape(String(word.prefix(30))))'. ") + usage(form)
            }
            positional.append(word)
            index += 1
        }
        if let sender { positional.insert(sender, at: 0) }
        guard positional.count >= 3 else { return usage(form) }
        let to = positional[1].split(separator: ",").map(String.init)
        guard !to.isEmpty, to.allSatisfy({ $0.contains("@") }) else { return usage(form) }
        // An address writes from the learner's machine; a name is one of the world's mail clients.
        let isAddress = positional[0].contains("@")
        context = .compose(Draft(device: isAddress ? nil : positional[0], from: isAddress ? positional[0] : "", to: to,
                                 subject: positional.dropFirst(2).joined(separator: " "), returnTo: returnTo))
        return t("Tapez le texte ; une ligne avec un seul . l'envoie (Ctrl-D abandonne).\n",
                 "Type the text; a line holding only . sends it (Ctrl-D discards).\n")
    }

    private func finishCompose(_ draft: Draft) -> String {
        context = .top
        let out = perform(.send(SendAction(device: draft.device, from: draft.from, to: draft.to, subject: draft.subject,
                                           body: draft.body.joined(separator: "\n"))))
        if let open = draft.returnTo, !open.session.isClosed {
            context = .session(open)
            // A message sent from inside an IDLE session is announced there at once.
            let pushed = open.session.takeUnsolicited().map { "S: \(Printable.escape($0))\n" }.joined()
            return out + t("(retour à la session \(open.session.host):\(open.session.port))\n",
                           "(back to the session with \(open.session.host):\(open.session.port))\n") + pushed
        }
        return out
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
    /// The servers' own code (MailCore's `SASLCRAMMD5`) computes it, so the helper cannot disagree
    /// with what they check.
    static func cramMD5Response(user: String, password: String, challenge: [UInt8]) -> (digest: String, response: String) {
        let hex = String(decoding: SASLCRAMMD5.digest(password: password, challenge: challenge), as: UTF8.self)
        let response = SASLCRAMMD5.response(user: user, password: password, challenge: challenge)
        return (hex, Data(response).base64EncodedString())
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
        let start = (try? currentWorld())?.nextFactSequence ?? 0
        task = ActiveTask(lessonID: lessonID, exerciseID: exerciseID, task: taskDef,
                          tracker: GoalTracker(goals: taskDef.goals, forbidden: taskDef.forbidden, startingAt: start),
                          startedAt: env.clock())
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
        let offerHint = hintOffer
        hintOffer = false
        guard var active = task, !active.done, let world else { return out }
        let update = active.tracker.update(world: world)
        let newly = update.newlyMet
        // An error reply that met a goal (the 503 the task asks for) needs no offer of help.
        if offerHint, newly.isEmpty, update.violation == nil {
            out += t("» Besoin d'aide ? Tapez « !hint ».\n", "» Need help? Type '!hint'.\n")
        }
        let elapsed = max(0, Int(env.clock().timeIntervalSince(active.startedAt)))
        for goal in update.newlyUnmet {
            out += paint(t("✗ Plus vrai : ", "✗ No longer true: ") + (goal.description.map(t) ?? goal.id), "33") + "\n"
        }
        if let violation = update.violation {
            task = active
            return out + paint(t("✗ Tentative terminée : ", "✗ Attempt over: ") + t(violation.explanation), "31") + "\n"
                + t("Tapez « reset » pour recommencer l'exercice sur un réseau neuf.\n",
                    "Type 'reset' to restart the exercise on a fresh network.\n")
        }
        let atOpening = !active.opened
        active.opened = true
        for goal in newly {
            if !(atOpening && goal.isInvariant) {
                out += paint(t("✓ Objectif atteint : ", "✓ Goal met: ") + (goal.description.map(t) ?? goal.id), "32") + "\n"
            }
            do {
                try env.store?.recordGoal(learner: env.learner, lesson: active.lessonID, exercise: active.exerciseID, goal: goal.id,
                                          hintsUsed: active.hintsUsed, seconds: elapsed, at: env.clock())
            } catch let error as TutorError {
                out += t(error.message) + "\n"
            } catch {}
        }
        if !newly.isEmpty || !update.newlyUnmet.isEmpty || !text.isEmpty { out += progressLine(active) }
        if active.tracker.isComplete {
            active.done = true
            recordCompletion(active)
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
            out = t("Solution (les lignes à taper) :\n", "Solution (the lines to type):\n")
                + solution.map { "  " + ($0.isEmpty ? t("(ligne vide)", "(empty line)") : $0) }.joined(separator: "\n") + "\n"
            active.hintsUsed += 1
        } else {
            out = t("Plus d'indice pour cet exercice.\n", "No more hints for this exercise.\n")
        }
        if active.hintsUsed > (task?.hintsUsed ?? 0) {
            // One row per hint shown, whatever the number of goals (issue 12 item 4).
            do {
                try env.store?.recordHint(learner: env.learner, lesson: active.lessonID, exercise: active.exerciseID,
                                          number: active.hintsUsed, language: language, at: env.clock())
            } catch let error as TutorError { task = active; return out + t(error.message) + "\n" } catch {}
        }
        task = active
        return out
    }

    // MARK: Lessons

    /// Starts lesson `id`: at section `section` (from 1) when given, else where the learner left
    /// it (saved position), else at its beginning.
    private func startLesson(_ id: String, section: Int? = nil) -> String {
        guard let found = env.library.lesson(id) else { return unknownLesson(id, command: "lesson") }
        var out = ""
        do { try env.store?.startLesson(learner: env.learner, lesson: id, language: language, at: env.clock()) } catch let error as TutorError {
            out += t(error.message) + "\n"
        } catch {}
        if case let .session(open) = context { open.session.close(); context = .top }
        runner = nil
        task = nil
        var cursor = LessonCursor(lesson: found)
        if let section {
            let parts = found.sections.count + found.exercises.count
            guard section <= parts else {
                return t("La leçon « \(id) » a \(found.sections.count) sections et \(found.exercises.count) exercices (1 à \(parts)) ; tapez « map ».\n",
                         "Lesson '\(id)' has \(found.sections.count) sections and \(found.exercises.count) exercises (1 to \(parts)); type 'map'.\n")
            }
            cursor.section = min(section - 1, found.sections.count)
            cursor.exercise = max(0, section - 1 - found.sections.count)
        } else if let saved = savedPosition(), saved.lesson == id, saved.index > 0 {
            cursor.section = min(saved.index, found.sections.count)
            cursor.exercise = max(0, saved.index - found.sections.count)
            out += t("(reprise à l'étape \(saved.index + 1) ; « lesson \(id) 1 » reprend du début, « map » montre le plan)\n",
                     "(resuming at step \(saved.index + 1); 'lesson \(id) 1' starts from the beginning, 'map' shows the plan)\n")
        }
        lesson = cursor
        out += "# \(t(found.title))\n"
        return out + next()
    }

    /// Where the learner is: the lesson and the step (sections, then exercises, from 0).
    private func savedPosition() -> (lesson: String, index: Int)? {
        guard let text = try? env.store?.setting(learner: env.learner, key: "position") else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let index = Int(parts[1]), index >= 0 else { return nil }
        return (String(parts[0]), index)
    }

    private func savePosition(_ lessonID: String?, _ index: Int) {
        try? env.store?.setSetting(learner: env.learner, key: "position", value: lessonID.map { "\($0) \(index)" })
    }

    /// `resume`: the saved lesson at the saved step.
    private func resume() -> String {
        guard let saved = savedPosition(), env.library.lesson(saved.lesson) != nil else {
            return t("Rien à reprendre : tapez « lessons ».\n", "Nothing to resume: type 'lessons'.\n")
        }
        return startLesson(saved.lesson)
    }

    /// The language saved with `lang` (the REPL calls it when `--lang` was not given).
    public func useSavedLanguage() {
        if let value = try? env.store?.setting(learner: env.learner, key: "language"), let saved = Language(rawValue: value) {
            language = saved
        }
    }

    private func next() -> String {
        if let runner { return replayNext(runner) }
        guard var cursor = lesson else { return t("Rien à suivre : tapez « lesson ID » ou « replay ID ».\n", "Nothing to follow: type 'lesson ID' or 'replay ID'.\n") }
        if let active = task, !active.done {
            return t("L'exercice n'est pas terminé (tapez « goals » ou « hint », « skip » pour le passer, « reset » pour le recommencer).\n",
                     "The exercise is not finished yet (type 'goals' or 'hint', 'skip' to skip it, 'reset' to restart it).\n")
        }
        let found = cursor.lesson
        if cursor.section < found.sections.count {
            let section = found.sections[cursor.section]
            savePosition(found.id, cursor.section)
            cursor.section += 1
            lesson = cursor
            let step = t("section \(cursor.section)/\(found.sections.count)", "section \(cursor.section)/\(found.sections.count)")
            return "\n## \(t(section.title))  (\(step))\n\(TextLayout.reflow(t(section.text), width: width))\n"
                + t("(next pour continuer, back pour revenir)\n", "(next to go on, back to go back)\n")
        }
        if cursor.exercise < found.exercises.count {
            let exercise = found.exercises[cursor.exercise]
            let previous = cursor.exercise > 0 ? found.exercises[cursor.exercise - 1] : nil
            savePosition(found.id, found.sections.count + cursor.exercise)
            cursor.exercise += 1
            lesson = cursor
            if case let .session(open) = context { open.session.close(); context = .top }
            var notice: String
            if exercise.continues, world != nil, let previous, previous.scenario == exercise.scenario, !freshWorldWanted,
               worldLeftBy == previous.id {
                notice = t("(Cet exercice continue dans le réseau de l'exercice précédent.)\n",
                           "(This exercise continues in the network of the previous exercise.)\n")
            } else if exercise.continues, let previous, previous.scenario == exercise.scenario {
                // The previous exercise was skipped, jumped over or is being restarted: the network
                // this one needs is the one its solution leaves, so it is played on a fresh world.
                guard let continued = worldContinuing(found, index: cursor.exercise - 1) else {
                    return t("Monde indisponible pour cet exercice.\n", "World unavailable for this exercise.\n")
                }
                world = continued
                wireCursor = continued.wireLog().count
                notice = freshWorldWanted
                    ? t("(Cet exercice repart du réseau tel que l'exercice précédent le laisse, rejoué depuis le début.)\n",
                        "(This exercise starts again from the network as the previous exercise leaves it, replayed from the start.)\n")
                    : t("(Cet exercice continue le précédent, qui n'a pas été terminé ici : sa solution a été jouée pour vous, et le réseau est tel qu'elle le laisse.)\n",
                        "(This exercise continues the previous one, which was not finished here: its solution was played for you, and the network is as it leaves it.)\n")
            } else {
                do {
                    let scenario = exercise.scenario.flatMap { env.library.scenario($0) }
                    world = try env.driver.makeWorld(scenario: scenario, seed: scenario?.seed ?? 1)
                    wireCursor = 0
                } catch let error as TutorError {
                    return t(error.message) + "\n"
                } catch {
                    return t("Monde indisponible : \(error)\n", "World unavailable: \(error)\n")
                }
                let named = exercise.scenario.flatMap { env.library.scenario($0) }.map { " (\(t($0.title)))" } ?? ""
                notice = t("(Cet exercice part d'un réseau neuf\(named) : ce que vous avez fait avant n'y est plus.)\n",
                           "(This exercise starts from a fresh network\(named): what you did before is not there.)\n")
            }
            freshWorldWanted = false
            worldLeftBy = nil
            notice = t("\nExercice \(cursor.exercise)/\(found.exercises.count) ", "\nExercise \(cursor.exercise)/\(found.exercises.count) ") + notice
            return notice + startTask(exercise.task, lessonID: found.id, exerciseID: exercise.id)
        }
        lesson = nil
        task = nil
        savePosition(nil, 0)
        do { try env.store?.completeLesson(learner: env.learner, lesson: found.id, at: env.clock()) } catch {}
        let quiz = found.quiz.isEmpty ? "" : t(" Tapez « quiz \(found.id) » pour le quiz.", " Type 'quiz \(found.id)' for the quiz.")
        return t("Leçon terminée.", "Lesson complete.") + "\n" + lessonSummary(found) + quiz.trimmingCharacters(in: .whitespaces) + (quiz.isEmpty ? "" : "\n")
    }

    /// Where the current attempt stands, for `maillab check` (nil when no exercise is under way).
    public var attemptStatus: (complete: Bool, violated: Bool, holdingStateGoals: [Goal])? {
        guard let active = task else { return nil }
        let holding = active.tracker.goals.filter { !$0.isEvent && !$0.isInvariant && active.tracker.holding.contains($0.id) }
        return (active.done || active.tracker.isComplete, active.tracker.violation != nil, holding)
    }

    /// Opens exercise `index` (from 0) of lesson `id` directly, as `next` would after its sections.
    public func openExercise(lesson id: String, index: Int) -> String {
        guard let found = env.library.lesson(id), index < found.exercises.count else { return "" }
        task = nil
        runner = nil
        var cursor = LessonCursor(lesson: found)
        cursor.section = found.sections.count
        cursor.exercise = index
        lesson = cursor
        return afterCommand(next())
    }

    /// Set by `reset`: the exercise restarts on a fresh world even when it continues another.
    private var freshWorldWanted = false

    /// The exercise whose completion left the current world as it is (nil once another exercise
    /// starts on it unfinished): an exercise that `continues:` goes on in this world only then.
    private var worldLeftBy: String?

    /// The world as exercise `index` of `found` starts when the exercises it continues were done
    /// by their solutions: a fresh world, the solutions played at a REPL that records nothing
    /// (what `maillab check` does too).
    private func worldContinuing(_ found: Lesson, index: Int) -> TutorWorld? {
        var first = index
        while first > 0, found.exercises[first].continues { first -= 1 }
        var quiet = env
        quiet.store = nil
        let player = ReplCore(environment: quiet, language: language)
        _ = player.openExercise(lesson: found.id, index: first)
        for previous in first..<index {
            for line in found.exercises[previous].task.solution ?? [] { _ = player.evaluate(line) }
            _ = player.evaluate("next")
        }
        if case let .session(open) = player.context { open.session.close() }
        return player.world
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
        guard var cursor = lesson else { return t("Impossible de revenir en arrière ici.\n", "Cannot go back here.\n") }
        // The step shown last is cursor - 1; going back shows cursor - 2.
        let shown = cursor.section + cursor.exercise - 1
        guard shown >= 1 else { return t("Vous êtes au début de la leçon.\n", "You are at the start of the lesson.\n") }
        let target = shown - 1
        cursor.section = min(target, cursor.lesson.sections.count)
        cursor.exercise = max(0, target - cursor.lesson.sections.count)
        lesson = cursor
        task = nil
        return next()
    }

    /// `reset`: the current exercise again, on a fresh world.
    private func resetExercise() -> String {
        guard var cursor = lesson, cursor.exercise > 0, task != nil else {
            return t("Aucun exercice en cours à recommencer.\n", "No exercise under way to restart.\n")
        }
        cursor.exercise -= 1
        lesson = cursor
        task = nil
        freshWorldWanted = true
        return t("On recommence l'exercice.\n", "Restarting the exercise.\n") + next()
    }

    /// `skip`: leaves the current exercise unfinished (recorded as skipped) and goes on.
    private func skipExercise() -> String {
        guard let active = task, !active.done, lesson != nil else {
            if runner != nil { return next() }
            return t("Aucun exercice en cours à passer.\n", "No exercise under way to skip.\n")
        }
        let seconds = max(0, Int(env.clock().timeIntervalSince(active.startedAt)))
        try? env.store?.recordExercise(learner: env.learner, lesson: active.lessonID, exercise: active.exerciseID, status: "skipped",
                                       hintsUsed: active.hintsUsed, seconds: seconds, language: language, at: env.clock())
        task = nil
        return t("Exercice passé.\n", "Exercise skipped.\n") + next()
    }

    /// Records a completed exercise (called once when its goals are all met).
    private func recordCompletion(_ active: ActiveTask) {
        worldLeftBy = active.exerciseID
        let seconds = max(0, Int(env.clock().timeIntervalSince(active.startedAt)))
        try? env.store?.recordExercise(learner: env.learner, lesson: active.lessonID, exercise: active.exerciseID, status: "completed",
                                       hintsUsed: active.hintsUsed, seconds: seconds, language: language, at: env.clock())
    }

    /// `map`: the lesson's sections and exercises, where the learner is and what is done.
    private func lessonMap() -> String {
        guard let found = lesson?.lesson ?? savedPosition().flatMap({ env.library.lesson($0.lesson) }) else {
            return t("Aucune leçon en cours : tapez « lesson ID ».\n", "No lesson under way: type 'lesson ID'.\n")
        }
        let status = (try? env.store?.exerciseStatus(learner: env.learner, lesson: found.id)) ?? [:]
        let here: Int? = lesson.map { $0.section + $0.exercise - 1 }
        var out = "# \(t(found.title))\n"
        for (index, section) in found.sections.enumerated() {
            let mark = here == index ? "→" : " "
            out += "\(mark) \(String(index + 1).leftPadded(2))  \(t(section.title))\n"
        }
        for (offset, exercise) in found.exercises.enumerated() {
            let index = found.sections.count + offset
            let mark = here == index ? "→" : " "
            var state = status[exercise.id].map { $0 == "completed" ? t("[fait]", "[done]") : t("[passé]", "[skipped]") } ?? "[ ]"
            if let active = task, active.exerciseID == exercise.id, active.lessonID == found.id, active.done { state = t("[fait]", "[done]") }
            let title = t(exercise.task.instructions).split(separator: "\n").first.map { String($0.prefix(60)) } ?? exercise.id
            out += "\(mark) \(String(index + 1).leftPadded(2))  \(state) \(t("exercice", "exercise")) \(exercise.id) — \(title)\n"
        }
        return out + t("(« lesson \(found.id) N » va à l'étape N)\n", "('lesson \(found.id) N' goes to step N)\n")
    }

    /// `show USER [FOLDER] N`: a stored message, headers and body, as the server keeps it.
    private func showMessage(_ args: [String]) -> String {
        guard (2...3).contains(args.count), let number = Int(args[args.count - 1]), number >= 1 else {
            return usage("show USER [FOLDER] N")
        }
        return worldOrMessage { world in
            // "\r\n" is one Character in Swift: split on the Unicode scalars.
            let text = try world.message(user: args[0], folder: args.count == 3 ? args[1] : nil, number: number)
            let all = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
                .map { String(String.UnicodeScalarView($0)).replacingOccurrences(of: "\r", with: "") }
            let lines = all.prefix(Self.maximumShownLines)
            // Indented so that narration wrapping leaves the header lines as they are.
            var out = lines.map { "    " + Printable.escape($0).replacingOccurrences(of: "\\t", with: "    ") }
                .joined(separator: "\n") + "\n"
            if all.count > Self.maximumShownLines {
                out += t("(… message coupé après \(Self.maximumShownLines) lignes)\n", "(… message cut after \(Self.maximumShownLines) lines)\n")
            }
            return out
        }
    }

    /// Longest message `show` prints, in lines.
    static let maximumShownLines = 400

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
        guard let found = env.library.lesson(id) else { return unknownLesson(id, command: "quiz") }
        guard !found.quiz.isEmpty else { return t("Cette leçon n'a pas de quiz.\n", "This lesson has no quiz.\n") }
        var out = ""
        if case let .session(open) = context { open.session.close(); context = .top }
        let missed: [String]
        do { missed = try env.store?.missedQuestions(learner: env.learner, lesson: id) ?? [] } catch let error as TutorError {
            out += t(error.message) + "\n"
            missed = []
        } catch { missed = [] }
        let ordinal = (try? env.store?.quizAttempts(learner: env.learner, lesson: id)) ?? 0
        let attempt = try? env.store?.startQuiz(learner: env.learner, lesson: id, at: env.clock())
        let state = QuizState(run: QuizRun(lesson: found, previouslyMissed: missed), attempt: attempt, lesson: found,
                              seed: "\(env.learner)\u{0}\(ordinal)")
        context = .quiz(state)
        out += t("# Quiz : \(t(found.title)) (\(found.quiz.count) questions)\n", "# Quiz: \(t(found.title)) (\(found.quiz.count) questions)\n")
        out += t("(« !b64d TEXTE » et les autres outils restent utilisables ; Ctrl-D arrête le quiz)\n",
                 "('!b64d TEXT' and the other helpers still work; Ctrl-D stops the quiz)\n")
        if !missed.isEmpty { out += t("Les questions manquées la dernière fois viennent d'abord.\n", "Questions missed last time come first.\n") }
        return out + showQuestion(state)
    }

    private func choiceOrder(_ question: Question, _ state: QuizState) -> [Int] {
        QuizGrader.choiceOrder(question, seed: state.seed)
    }

    private func showQuestion(_ state: QuizState) -> String {
        guard let question = state.run.current else { return "" }
        let order = choiceOrder(question, state)
        return "\n" + QuizGrader.render(question, language: language, order: order.isEmpty ? nil : order)
    }

    /// Tutor commands a quiz lets through with `!` (they answer nothing and change no context).
    static let quizHelpers: Set<String> = ["b64", "b64d", "cram-md5", "why", "codes", "glossary", "help", "?", "dig", "hosts",
                                           "mailbox", "show", "queue", "lang", "clear"]

    private func quizAnswer(_ line: String, _ state: QuizState) -> String {
        var state = state
        guard let question = state.run.current else {
            context = .top
            return finishQuiz(state, early: false)
        }
        let answer = line.trimmingCharacters(in: .whitespaces)
        if answer.hasPrefix("!") {
            let inner = String(answer.dropFirst())
            let name = inner.split(separator: " ").first.map { $0.lowercased() } ?? ""
            guard Self.quizHelpers.contains(name) else {
                return t("Pendant un quiz, seuls les outils sont permis (!b64, !b64d, !cram-md5, !why, !glossary, !codes…) ; Ctrl-D arrête le quiz.\n",
                         "During a quiz only the helpers work (!b64, !b64d, !cram-md5, !why, !glossary, !codes…); Ctrl-D stops the quiz.\n")
            }
            return command(inner) + t("(la question attend toujours votre réponse)\n", "(the question still waits for your answer)\n")
        }
        let order = choiceOrder(question, state)
        if let invalid = QuizGrader.validate(question, answer: answer, order: order.isEmpty ? nil : order) {
            return t(invalid.message) + "\n"
        }
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
        let grade = QuizGrader.grade(question, answer: answer, predicted: predicted, language: language,
                                     order: order.isEmpty ? nil : order)
        out += grade.correct ? t("Exact !\n", "Right!\n") : t("Pas tout à fait. Réponse : \(grade.expected)\n", "Not quite. Answer: \(grade.expected)\n")
        out += "» \(t(grade.explanation))\n"
        out += QuizGrader.whyNot(question, grade, language: language, order: order.isEmpty ? nil : order).map { "» \($0)\n" }.joined()
        if !grade.correct, !state.run.isRetry(question.id) { state.firstMisses[question.id] = (answer, predicted) }
        if let attempt = state.attempt {
            do {
                try env.store?.recordAnswer(attempt: attempt, learner: env.learner, lesson: state.lesson.id, question: question.id,
                                            answer: answer, correct: grade.correct, firstAttempt: !state.run.isRetry(question.id),
                                            questionText: t(question.prompt), language: language, at: env.clock())
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

    /// Score of the last finished quiz, as (score, total): over the questions asked when the
    /// quiz was stopped early (a question never asked is not a wrong answer).
    public private(set) var lastQuizScore: (score: Int, total: Int)?

    private func finishQuiz(_ state: QuizState, early: Bool) -> String {
        let run = state.run
        let total = early ? run.asked : run.total
        lastQuizScore = (run.score, total)
        if let attempt = state.attempt {
            try? env.store?.finishQuiz(attempt: attempt, score: run.score, total: total, at: env.clock())
        }
        var out = t("Score : \(run.score)/\(total)", "Score: \(run.score)/\(total)")
        if early {
            out += t(" (quiz interrompu après \(run.asked) question(s) sur \(run.total) ; les autres ne comptent pas)",
                     " (quiz stopped after \(run.asked) of \(run.total) question(s); the others do not count)")
        }
        out += "\n"
        if !run.missed.isEmpty {
            let prompts = run.missed.compactMap { id in state.lesson.quiz.first { $0.id == id } }.map { question -> String in
                let text = t(question.prompt)
                var entry = "  - " + (text.count > 90 ? String(text.prefix(89)) + "…" : text)
                // In the review: what was answered, the right answer, and why the option picked is wrong.
                if let miss = state.firstMisses[question.id] {
                    let order = choiceOrder(question, state)
                    let grade = QuizGrader.grade(question, answer: miss.answer, predicted: miss.predicted, language: language,
                                                 order: order.isEmpty ? nil : order)
                    entry += "\n    " + t("vous : \(miss.answer) ; réponse : \(grade.expected)", "you: \(miss.answer); answer: \(grade.expected)")
                    entry += QuizGrader.whyNot(question, grade, language: language, order: order.isEmpty ? nil : order)
                        .map { "\n    " + $0 }.joined()
                }
                return entry
            }
            out += t("À revoir (manquées du premier coup, elles reviendront en tête au prochain quiz) :\n",
                     "To review (missed the first time; they come first in the next quiz):\n") + prompts.joined(separator: "\n") + "\n"
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
        // Course order (the files' order), then any lesson with progress but no file any more.
        let known = library.lessonIndex.map(\.id)
        let ids = known + Array(Set(rows.map(\.lesson)).subtracting(known)).sorted()
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
