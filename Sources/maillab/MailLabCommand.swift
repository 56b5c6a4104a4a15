import ArgumentParser
import Foundation
import MailTutor

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Language of messages: fr or en (default: LC_ALL/LANG).")
    var lang: String?

    @Option(name: .customLong("data-dir"), help: "Folder of the progress database and history.")
    var dataDir: String?

    @Option(name: .long, help: "Learner name (default: the user name).")
    var learner: String?

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    func validate() throws {
        if let lang, Language(rawValue: lang.lowercased()) == nil {
            throw ValidationError("--lang must be fr or en")
        }
    }

    /// The process environment, read once: Foundation builds a new dictionary at every read.
    static let processEnvironment = ProcessInfo.processInfo.environment
    var environment: [String: String] { Self.processEnvironment }
    var language: Language { Language.resolve(option: lang, environment: environment) }
    var color: Bool { !noColor && environment["NO_COLOR"] == nil && isatty(STDOUT_FILENO) == 1 }

    var learnerName: String {
        if let learner, !learner.isEmpty { return learner }
        return environment["USER"] ?? environment["LOGNAME"] ?? "learner"
    }

    /// `--data-dir`, else `$XDG_DATA_HOME/maillab`, else `~/.local/share/maillab`.
    var dataDirectory: String {
        if let dataDir { return dataDir }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("maillab") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/maillab")
    }

    var databasePath: String { (dataDirectory as NSString).appendingPathComponent("progress.sqlite") }
    var historyPath: String { (dataDirectory as NSString).appendingPathComponent("history") }

    /// Opens the progress store; on failure prints the clear message and returns nil.
    func openStore(required: Bool) throws -> ProgressStore? {
        do {
            return try ProgressStore(path: databasePath)
        } catch let error as TutorError {
            Output.error(error.message[language])
            if required { throw ExitCode(2) }
            Output.error(language == .fr ? "(la progression ne sera pas enregistrée)" : "(progress will not be recorded)")
            return nil
        }
    }
}

enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

struct MailLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maillab",
        abstract: "A laboratory and tutor for SMTP, POP3 and IMAP.",
        discussion: "Exit codes: 0 success, 1 a check or grade failed, 2 usage or input error.",
        version: "0.1.0",
        subcommands: [Lessons.self, Scenarios.self, LessonCommand.self, Replay.self, Quiz.self, Progress.self, Check.self,
                      Bench.self, Serve.self])

    @OptionGroup var global: GlobalOptions
    @Option(help: "Show the world's sessions live on a web page at http://127.0.0.1:PORT/ (0: any free port).") var web: Int?

    mutating func run() throws {
        let session = try REPLSession(global: global)
        if let web { try session.startLiveView(port: web) }
        try session.run(initial: [])
    }
}

extension MailLabCommand {
    struct Lessons: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the lessons in course order, id first.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let library = try ContentLocator.library(global)
            // Course order: the files' order (01-architecture.yaml, 02-smtp.yaml…), not the ids'.
            for lesson in library.lessonIndex {
                Output.print("\(lesson.id)\t\(lesson.title[global.language])\n")
            }
            if !library.diagnostics.isEmpty { throw ExitCode(2) }
        }
    }

    struct Scenarios: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the scenarios, id first.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let library = try ContentLocator.library(global)
            for scenario in library.scenarioIndex.sorted(by: { $0.id < $1.id }) {
                Output.print("\(scenario.id)\t\(scenario.title[global.language])\n")
            }
            if !library.diagnostics.isEmpty { throw ExitCode(2) }
        }
    }

    struct LessonCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lesson", abstract: "Start a lesson in the REPL.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Lesson id.") var id: String

        func run() throws {
            let session = try REPLSession(global: global, need: .lesson(id))
            guard session.library.lesson(id) != nil else {
                Output.error(global.language == .fr ? "leçon inconnue : \(id)" : "unknown lesson: \(id)")
                throw ExitCode(2)
            }
            try session.run(initial: ["lesson \(id)"])
        }
    }

    struct Quiz: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a lesson's quiz; exits 1 when under half the questions were right the first time.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Lesson id (default: the first lesson).") var id: String?
        @Option(help: "Export the quiz bank for an LMS instead (moodle-xml or gift); every lesson without ID.")
        var export: String?
        @Option(help: "With --export: write ID.fr.EXT and ID.en.EXT (or course.*) into this folder.")
        var output: String?

        func validate() throws {
            if let export, QuizExport.Format(rawValue: export) == nil { throw ValidationError("--export must be moodle-xml or gift") }
            if output != nil, export == nil { throw ValidationError("--output needs --export") }
        }

        /// `--export`: the bank of one lesson (or all), in the chosen language or both into files.
        func exportBank(_ format: QuizExport.Format) throws {
            let library = try ContentLocator.library(global, need: id.map { .lesson($0) } ?? .index)
            let lessons: [Lesson]
            if let id {
                guard let lesson = library.lesson(id) else {
                    Output.error(global.language == .fr ? "leçon inconnue : \(id)" : "unknown lesson: \(id)")
                    throw ExitCode(2)
                }
                lessons = [lesson]
            } else {
                lessons = library.lessonIndex.compactMap { library.lesson($0.id) }
            }
            let driver = WorldFactory.driver()
            // A predict question's answer is the code the simulated world gives.
            let predicted: (MailTutor.Question) -> String? = { question in
                guard case let .predict(scenarioID, target, prefix) = question.kind else { return nil }
                let scenario = scenarioID.flatMap { library.scenario($0) }
                guard let world = try? driver.makeWorld(scenario: scenario, seed: scenario?.seed ?? 1) else { return nil }
                return try? ReplyPrediction.expectedCode(world: world, session: target, prefix: prefix)
            }
            guard let output else {
                Output.print(QuizExport.export(lessons, format: format, language: global.language, predicted: predicted))
                return
            }
            try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for language in Language.allCases {
                let name = "\(id ?? "course").\(language.rawValue).\(format == .gift ? "gift" : "xml")"
                let path = (output as NSString).appendingPathComponent(name)
                do {
                    try Data(QuizExport.export(lessons, format: format, language: language, predicted: predicted).utf8)
                        .write(to: URL(fileURLWithPath: path))
                } catch {
                    Output.error(global.language == .fr ? "impossible d'écrire \(path)" : "cannot write \(path)")
                    throw ExitCode(2)
                }
                Output.print(path + "\n")
            }
        }

        func run() throws {
            if let export, let format = QuizExport.Format(rawValue: export) { return try exportBank(format) }
            let session = try REPLSession(global: global, need: id.map { .lesson($0) } ?? .index)
            guard let lessonID = id ?? session.library.lessonIndex.first?.id, session.library.lesson(lessonID) != nil else {
                Output.error(global.language == .fr ? "leçon inconnue : \(id ?? "")" : "unknown lesson: \(id ?? "")")
                throw ExitCode(2)
            }
            try session.run(initial: ["quiz \(lessonID)"], stopWhenQuizEnds: true)
            guard let score = session.core.lastQuizScore else { throw ExitCode(1) }
            if score.total == 0 || score.score * 2 < score.total { throw ExitCode(1) }
        }
    }

    struct Progress: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show progress per lesson, or export it for teachers.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Export every learner's progress: json or csv.") var export: String?
        @Option(name: .customLong("class"), help: "A class: every progress.sqlite under this folder (one per learner or group); a summary per learner, or with --export all their rows.")
        var classFolder: String?

        func validate() throws {
            if let export, export != "json", export != "csv" { throw ValidationError("--export must be json or csv") }
        }

        /// The databases of a class: DIR/progress.sqlite, DIR/*/progress.sqlite, DIR/*.sqlite.
        static func databases(in folder: String) -> [String] {
            let fm = FileManager.default
            var found: [String] = []
            let top = (folder as NSString).appendingPathComponent("progress.sqlite")
            if fm.fileExists(atPath: top) { found.append(top) }
            for name in ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                let path = (folder as NSString).appendingPathComponent(name)
                if name.hasSuffix(".sqlite"), path != top { found.append(path) }
                let inner = (path as NSString).appendingPathComponent("progress.sqlite")
                if fm.fileExists(atPath: inner) { found.append(inner) }
            }
            return found
        }

        func runClass(_ folder: String) throws {
            let paths = Self.databases(in: folder)
            guard !paths.isEmpty else {
                Output.error(global.language == .fr ? "aucune base progress.sqlite sous \(folder)" : "no progress.sqlite database under \(folder)")
                throw ExitCode(2)
            }
            var rows: [ProgressStore.ExportRow] = []
            for path in paths {
                do {
                    rows += try ProgressStore(path: path, readOnly: true).export()
                } catch let error as TutorError {
                    Output.error(error.message[global.language])
                    throw ExitCode(2)
                }
            }
            switch export {
            case "json": Output.print(ProgressStore.json(rows))
            case "csv": Output.print(ProgressStore.csv(rows))
            default: Output.print(ProgressStore.classSummary(rows, language: global.language))
            }
        }

        func run() throws {
            if let classFolder { return try runClass(classFolder) }
            guard let store = try global.openStore(required: true) else { throw ExitCode(2) }
            do {
                switch export {
                case "json": Output.print(ProgressStore.json(try store.export()))
                case "csv": Output.print(ProgressStore.csv(try store.export()))
                default:
                    let library = try ContentLocator.library(global)
                    Output.print(ProgressTable.render(try store.summary(learner: global.learnerName), library: library,
                                                      language: global.language))
                }
            } catch let error as TutorError {
                Output.error(error.message[global.language])
                throw ExitCode(2)
            }
        }
    }

    struct Check: ParsableCommand {
        /// `--counts`: one line per file, then the totals.
        static func countsTable(_ tallies: [SolutionCheck.Tally], language: Language) -> String {
            let fr = language == .fr
            var total = SolutionCheck.Tally(file: fr ? "total" : "total")
            var out = ""
            let width = max(5, tallies.map { URL(fileURLWithPath: $0.file).lastPathComponent.count }.max() ?? 0)
            func row(_ name: String, _ t: SolutionCheck.Tally) -> String {
                let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
                return fr ? "\(padded)  \(t.tasks) tâche(s), \(t.solutions) solution(s), \(t.alternatives) autre(s) solution(s), \(t.counterExamples) contre-exemple(s)\n"
                          : "\(padded)  \(t.tasks) task(s), \(t.solutions) solution(s), \(t.alternatives) alternative(s), \(t.counterExamples) counter-example(s)\n"
            }
            for tally in tallies {
                out += row(URL(fileURLWithPath: tally.file).lastPathComponent, tally)
                total.tasks += tally.tasks
                total.solutions += tally.solutions
                total.alternatives += tally.alternatives
                total.counterExamples += tally.counterExamples
            }
            return out + row(total.file, total)
        }

        static let configuration = CommandConfiguration(
            abstract: "Validate lesson and scenario files (default: Lessons/ and Scenarios/).",
            discussion: "Prints file:line: message per problem and exits 2 on any. With --coverage, reports syllabus coverage and exits 1 when an id lacks an explanation, an exercise or three quiz questions.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Files or folders.") var paths: [String] = []
        @Flag(help: "Report syllabus coverage.") var coverage = false
        @Flag(help: "Print, per file, how many tasks, solutions, alternative solutions and counter-examples are replayed.") var counts = false

        func run() throws {
            // Without PATHs, check the course's own content (exit 2 saying where it looked when
            // there is none); with PATHs, the course's content, if any, resolves references.
            let defaults = paths.isEmpty ? try ContentLocator.requiredPaths(global)
                                         : ContentLocator.defaultPaths(environment: global.environment)
            let targets = paths.isEmpty ? defaults : paths
            let library = ContentLibrary.load(paths: targets, reference: paths.isEmpty ? [] : defaults)
            for diagnostic in library.diagnostics { Output.print(diagnostic.render(global.language) + "\n") }
            // The files are valid: every task's solution and counter-examples are replayed on its
            // world (issue 12); a failure there is a failed check (exit 1).
            if library.diagnostics.isEmpty {
                let files = Set(targets.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
                let included: (String) -> Bool = { file in
                    let path = URL(fileURLWithPath: file).standardizedFileURL.path
                    return files.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
                }
                for warning in SolutionCheck.hintWarnings(library: library, including: included)
                    + QuizBalance.warnings(library: library, including: included) {
                    Output.error((global.language == .fr ? "avertissement : " : "warning: ") + warning.render(global.language))
                }
                var replayed = SolutionCheck.run(library: library, driver: WorldFactory.driver(), including: included)
                replayed += SolutionCheck.variants(paths: targets, reference: paths.isEmpty ? [] : defaults,
                                                   driver: WorldFactory.driver(), including: included)
                for diagnostic in replayed { Output.print(diagnostic.render(global.language) + "\n") }
                if counts { Output.print(Self.countsTable(SolutionCheck.tally(library: library, including: included), language: global.language)) }
                if !replayed.isEmpty {
                    Output.error(global.language == .fr ? "\(replayed.count) exercice(s) en échec" : "\(replayed.count) exercise check(s) failed")
                    throw ExitCode(1)
                }
            }
            if coverage { Output.print(CoverageReport(library: library).render(global.language)) }
            if !library.diagnostics.isEmpty {
                Output.error(global.language == .fr ? "\(library.diagnostics.count) problème(s)" : "\(library.diagnostics.count) problem(s)")
                throw ExitCode(2)
            }
            if coverage, !CoverageReport(library: library).isComplete { throw ExitCode(1) }
            if !coverage {
                Output.print(global.language == .fr
                    ? "ok : \(library.lessons.count) leçon(s), \(library.scenarios.count) scénario(s)\n"
                    : "ok: \(library.lessons.count) lesson(s), \(library.scenarios.count) scenario(s)\n")
            }
        }
    }
}

/// The REPL around `ReplCore`: libedit on a terminal, plain lines otherwise.
final class REPLSession {
    let library: ContentLibrary
    let core: ReplCore
    let global: GlobalOptions
    /// Run after every line evaluated (the live view, `--web`).
    var afterLine: (() -> Void)?

    init(global: GlobalOptions, need: ContentLocator.Need = .index) throws {
        self.global = global
        library = try ContentLocator.library(global, need: need)
        for diagnostic in library.diagnostics { Output.error(diagnostic.render(global.language)) }
        let store = try global.openStore(required: false)
        core = ReplCore(environment: ReplCore.Environment(library: library, driver: WorldFactory.driver(), store: store,
                                                          learner: global.learnerName, clock: { Date() }, color: global.color),
                        language: global.language)
        // `lang fr` is remembered; an explicit --lang wins for this run.
        if global.lang == nil { core.useSavedLanguage() }
    }

    func run(initial: [String], stopWhenQuizEnds: Bool = false) throws {
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive { core.width = LineEditor.terminalWidth() }
        if initial.isEmpty { Output.print(core.welcome()) }
        for line in initial {
            let output = core.evaluate(line)
            Output.print(output.text)
            afterLine?()
            if output.exit { return }
        }
        var editor: LineEditor?
        if interactive {
            try? FileManager.default.createDirectory(atPath: global.dataDirectory, withIntermediateDirectories: true)
            editor = LineEditor(historyPath: global.historyPath) { [core] line in core.completions(for: line) }
            // At a session's prompt virtual time follows the wall clock; pushes show at once.
            editor?.whileWaiting = { [core] seconds in core.timePassed(seconds: seconds).map { ($0, core.prompt) } }
        }
        while true {
            if stopWhenQuizEnds, !core.isQuizActive { return }
            let line: String?
            if let editor {
                core.width = LineEditor.terminalWidth()
                switch editor.readLine(prompt: core.prompt, redact: { [core] in core.historyEntry(for: $0) }) {
                case let .line(text): line = text
                case .end: line = nil
                case .interrupted:
                    // Ctrl-C throws the line away: nothing reaches a server.
                    Output.print(core.interrupt().text)
                    continue
                }
            } else {
                line = Swift.readLine(strippingNewline: true)
            }
            guard let line else {
                let output = core.endOfInput()
                // At a terminal, Ctrl-D leaves the cursor after the prompt: start a new line.
                if editor != nil { Output.print("\n") }
                Output.print(output.text)
                if output.exit { return }
                if !interactive && !stopWhenQuizEnds {
                    // Piped input ended inside a context: leave every context, then stop.
                    continue
                }
                if !interactive { return }
                continue
            }
            let output = core.evaluate(line)
            Output.print(output.text)
            afterLine?()
            if output.exit { return }
        }
    }
}
