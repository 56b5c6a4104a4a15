import ArgumentParser
import Foundation
import MailTutor

extension MailLabCommand {
    /// `maillab replay ID [--auto] [--seed N] [--transcript FILE|-] [--pcap FILE]`: plays a
    /// scenario step by step in the simulated world, showing each step's narration, the dialogue
    /// on the wire and a sequence diagram.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a scenario step by step (Enter: next, b: back, r: run to the end, q: quit).",
            discussion: "With --auto the steps run without pausing and the exit code is 1 when an expectation fails.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Scenario id.") var id: String
        @Flag(help: "Run every step without pausing; exit 1 if an expectation fails.") var auto = false
        @Option(help: "Seed of the simulation (default: the scenario's).") var seed: UInt64?
        @Option(help: "Write the plaintext transcript to FILE (- for standard output).") var transcript: String?
        @Option(help: "Write a pcap capture to FILE.") var pcap: String?

        func run() throws {
            let language = global.language
            func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }
            let library = ContentLocator.library(environment: global.environment)
            for diagnostic in library.diagnostics { Output.error(diagnostic.render(language)) }
            guard let scenario = library.scenario(id) else {
                Output.error(t("scénario inconnu : \(id) (voir « maillab scenarios »)", "unknown scenario: \(id) (see 'maillab scenarios')"))
                throw ExitCode(2)
            }
            // With `--transcript -` standard output carries only the transcript.
            let say: (String) -> Void = transcript == "-" ? { Output.error($0.hasSuffix("\n") ? String($0.dropLast()) : $0) } : { Output.print($0) }
            let runner: ScenarioRunner
            do {
                runner = try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver(), seed: seed)
            } catch let error as TutorError {
                Output.error(error.message[language])
                throw ExitCode(2)
            }
            var view = ReplayView(runner: runner, language: language, color: global.color)
            say(view.title())
            let interactive = !auto
            var failed = false
            loop: while !runner.isAtEnd {
                if interactive {
                    say(t("[Entrée] suivant · b retour · r jusqu'au bout · q quitter > ",
                          "[Enter] next · b back · r run to the end · q quit > "))
                    guard let answer = readLine(strippingNewline: true) else { break loop }
                    switch answer.trimmingCharacters(in: .whitespaces).lowercased() {
                    case "":
                        break
                    case "b", "back":
                        say(view.back())
                        continue loop
                    case "r", "run":
                        while let outcome = runner.next() {
                            failed = failed || !outcome.passed
                            say(view.render(outcome))
                        }
                        break loop
                    case "q", "quit":
                        break loop
                    default:
                        say(t("Entrée, b, r ou q.\n", "Enter, b, r or q.\n"))
                        continue loop
                    }
                }
                guard let outcome = runner.next() else { break }
                failed = failed || !outcome.passed
                say(view.render(outcome))
            }
            if runner.isAtEnd { say(t("Fin du scénario.\n", "End of the scenario.\n")) }
            if let world = runner.world as? SimulatedWorld {
                if let transcript {
                    let text = world.transcript(language: language)
                    if transcript == "-" {
                        Output.print(text)
                    } else if !write(Data(text.utf8), to: transcript) {
                        throw ExitCode(2)
                    }
                }
                if let pcap, !write(Data(world.pcap()), to: pcap) { throw ExitCode(2) }
            }
            if auto && failed {
                Output.error(t("au moins une vérification a échoué", "at least one expectation failed"))
                throw ExitCode(1)
            }
        }

        private func write(_ data: Data, to path: String) -> Bool {
            do {
                try data.write(to: URL(fileURLWithPath: path))
                return true
            } catch {
                Output.error(global.language == .fr ? "impossible d'écrire \(path) : \(error.localizedDescription)"
                                                    : "cannot write \(path): \(error.localizedDescription)")
                return false
            }
        }
    }
}

/// What `maillab replay` prints for each step.
struct ReplayView {
    let runner: ScenarioRunner
    let language: Language
    let color: Bool
    /// Wire events already shown.
    private var cursor = 0

    init(runner: ScenarioRunner, language: Language, color: Bool) {
        self.runner = runner
        self.language = language
        self.color = color
        cursor = (runner.world as? SimulatedWorld)?.wireEvents().count ?? 0
    }

    private func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }
    private func t(_ text: LocalizedText) -> String { text[language] }
    private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func title() -> String {
        let scenario = runner.scenario
        var out = paint("# \(t(scenario.title))", "1") + "\n"
        if let summary = scenario.summary { out += t(summary) + "\n" }
        out += t("\(scenario.steps.count) étapes, graine \(runner.seed).\n", "\(scenario.steps.count) steps, seed \(runner.seed).\n")
        return out
    }

    mutating func back() -> String {
        do {
            try runner.back()
            cursor = (runner.world as? SimulatedWorld)?.wireEvents().count ?? 0
            return t("Retour avant l'étape \(runner.position + 1) (monde rejoué depuis le début).\n",
                     "Back before step \(runner.position + 1) (world replayed from the start).\n")
        } catch {
            return t("Impossible de rejouer : \(error)\n", "Cannot replay: \(error)\n")
        }
    }

    mutating func render(_ outcome: StepOutcome) -> String {
        let total = runner.scenario.steps.count
        var out = "\n" + paint("[\(outcome.index + 1)/\(total)] \(Self.label(outcome.step.action))", "1") + "\n"
        for note in outcome.notes { out += t(note) + "\n" }
        if case let .task(task) = outcome.step.action {
            for goal in task.goals { out += "  [ ] \(goal.description.map(t) ?? goal.id)\n" }
            out += t("(tâche pour l'apprenant : à faire dans « maillab », commande « replay \(runner.scenario.id) »)\n",
                     "(a learner task: do it in 'maillab' with 'replay \(runner.scenario.id)')\n")
        }
        if let error = outcome.error { out += paint("! " + t(error.message), "31") + "\n" }
        if case let .expect(goals) = outcome.step.action {
            for goal in goals {
                let failed = outcome.failures.contains(goal)
                let mark = failed ? paint("✗", "31") : paint("✓", "32")
                out += "  \(mark) \(goal.description.map(t) ?? goal.id)\n"
            }
        }
        guard let world = runner.world as? SimulatedWorld else { return out }
        let events = world.wireEvents()
        let fresh = cursor < events.count ? Array(events[cursor...]) : []
        cursor = events.count
        if !fresh.isEmpty {
            let renderer = ReplayRenderer(color: color, language: language, hostOrder: world.hosts().map(\.name))
            out += renderer.dialogue(fresh)
            out += "\n" + renderer.diagram(fresh)
        }
        return out
    }

    /// A short name for the step: `send`, `down mail1.company.org`, `advance 1m`, `expect`, …
    static func label(_ action: StepAction) -> String {
        switch action {
        case .narrate: return "narrate"
        case let .expect(goals): return "expect (\(goals.count))"
        case let .task(task): return "task \(task.id)"
        case let .world(world):
            switch world {
            case let .send(send): return "send \(send.device ?? send.from) → \(send.to.joined(separator: ", "))"
            case let .fetch(device): return "fetch \(device)"
            case let .sync(device): return "sync \(device)"
            case let .configure(configure):
                switch configure.target {
                case let .host(name), let .device(name): return "configure \(name)"
                }
            case let .fault(fault):
                switch fault {
                case let .down(name): return "down \(name)"
                case let .up(name): return "up \(name)"
                case let .crash(name): return "crash \(name)"
                case let .partition(a, b): return "partition \(a) \(b)"
                case let .heal(a, b): return "heal \(a) \(b)"
                }
            case let .advance(seconds): return "advance \(DurationText.format(seconds))"
            }
        }
    }
}
