import ArgumentParser
import Foundation
import MailLabWorld
import MailTutor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MailLabCommand {
    /// `maillab replay ID [--auto [--pace 1s]] [--width N] [--seed N] [--transcript FILE|-]
    /// [--pcap FILE [--keylog FILE]] [--html FILE]`: plays a scenario step by step in the
    /// simulated world, showing each step's narration, the dialogue on the wire and a sequence
    /// diagram fitted to the terminal. On a terminal the replay is a full-screen view with
    /// single-key controls; otherwise it reads commands line by line.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a scenario step by step (→/Enter next, ←/b back, r run, p pause, t transcript/diagram, l language, q quit).",
            discussion: """
                On a terminal the replay fills the screen: the step's number and title stay at the top, the \
                diagram fits the width (80 to 200 columns), ↓/↑ or space scroll a long step. With --auto the \
                steps run without pausing (--pace 1s: one step a second) and the exit code is 1 when an \
                expectation fails. --html FILE writes the whole replay as one self-contained web page for a \
                projector. / Sur un terminal la relecture occupe l'écran ; --auto enchaîne les étapes, \
                --html FICHIER écrit une page web autonome.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Scenario id.") var id: String
        @Flag(help: "Run every step without pausing; exit 1 if an expectation fails.") var auto = false
        @Option(help: "With --auto (or after r): time between steps, e.g. 1s, 500ms, 2.5s.") var pace: String?
        @Option(help: "Columns of the diagram (default: the terminal's, else 100).") var width: Int?
        @Option(help: "Seed of the simulation (default: the scenario's).") var seed: UInt64?
        @Option(help: "Write the plaintext transcript to FILE (- for standard output).") var transcript: String?
        @Option(help: "Write a pcap capture to FILE.") var pcap: String?
        @Option(help: "Write the TLS secrets of every session to FILE (NSS key log format, for Wireshark).") var keylog: String?
        @Option(help: "Write the whole replay as one self-contained HTML page to FILE.") var html: String?

        func validate() throws {
            if let pace, Self.paceMilliseconds(pace) == nil {
                throw ValidationError("--pace: a duration such as 1s, 500ms or 2.5s (at most 10m)")
            }
            if let width, width < ReplayRenderer.minimumWidth || width > ReplayRenderer.maximumWidth {
                throw ValidationError("--width must be between \(ReplayRenderer.minimumWidth) and \(ReplayRenderer.maximumWidth)")
            }
        }

        /// `1s`, `500ms`, `2.5s`, `1m` in milliseconds; nil when not a duration or above 10 minutes.
        static func paceMilliseconds(_ text: String) -> Int? {
            let text = text.trimmingCharacters(in: .whitespaces).lowercased()
            let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
            for (suffix, factor) in units where text.hasSuffix(suffix) {
                guard let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
                let ms = Int((value * factor).rounded())
                return ms <= 600_000 ? ms : nil
            }
            return nil
        }

        func run() throws {
            let language = global.language
            func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }
            let library = try ContentLocator.library(global, need: .scenario(id))
            for diagnostic in library.diagnostics { Output.error(diagnostic.render(language)) }
            guard let scenario = library.scenario(id) else {
                Output.error(t("scénario inconnu : \(id) (voir « maillab scenarios »)", "unknown scenario: \(id) (see 'maillab scenarios')"))
                throw ExitCode(2)
            }
            let runner: ScenarioRunner
            do {
                runner = try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver(), seed: seed)
            } catch let error as TutorError {
                Output.error(error.message[language])
                throw ExitCode(2)
            }
            if keylog != nil { (runner.world as? SimulatedWorld)?.world.recordTLSKeys() }
            let session = ReplaySession(runner: runner)
            let paceMs = pace.flatMap(Self.paceMilliseconds)
            let screen = html == nil && transcript != "-" && (!auto || paceMs != nil)
                && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
            var failed = false
            if let html {
                session.runToEnd()
                failed = session.steps.contains { !$0.outcome.passed }
                guard let world = session.world else { throw ExitCode(2) }
                let page = ReplayHTML(session: session, world: world, language: language).render()
                if !write(Data(page.utf8), to: html) { throw ExitCode(2) }
                Output.error(t("Page écrite : \(html) (\(session.steps.count) étapes).", "Page written: \(html) (\(session.steps.count) steps)."))
            } else if screen {
                var view = ScreenReplay(session: session, language: language, color: global.color, width: width,
                                        paceMs: paceMs ?? 2000, running: auto)
                view.run()
                failed = session.steps.contains { !$0.outcome.passed }
            } else {
                failed = lineReplay(session, language: language, paceMs: paceMs)
            }
            if let world = session.world {
                if let transcript {
                    let text = world.transcript(language: language)
                    if transcript == "-" {
                        Output.print(text)
                    } else if !write(Data(text.utf8), to: transcript) {
                        throw ExitCode(2)
                    }
                }
                if let pcap, !write(Data(world.pcap()), to: pcap) { throw ExitCode(2) }
                if let keylog, !write(Data(world.world.tlsKeyLog().utf8), to: keylog) { throw ExitCode(2) }
            }
            if auto && failed {
                Output.error(t("au moins une vérification a échoué", "at least one expectation failed"))
                throw ExitCode(1)
            }
        }

        /// The replay without a terminal (tests, pipes, `--auto`): steps printed one after the
        /// other with both the dialogue and the diagram; commands read line by line.
        private func lineReplay(_ session: ReplaySession, language: Language, paceMs: Int?) -> Bool {
            // With `--transcript -` standard output carries only the transcript.
            let say: (String) -> Void = transcript == "-" ? { Output.error($0.hasSuffix("\n") ? String($0.dropLast()) : $0) } : { Output.print($0) }
            var language = language
            var mode = ReplayPage.Mode.both
            let columns = width ?? Terminal.columns() ?? Int(global.environment["COLUMNS"] ?? "") ?? 100
            func page() -> ReplayPage {
                ReplayPage(scenario: session.scenario, language: language, width: columns, color: global.color, mode: mode)
            }
            let hostOrder = session.world?.hosts().map(\.name) ?? []
            func show(_ index: Int) {
                let step = session.steps[index]
                let p = page()
                let header = global.color ? "\u{1B}[1m\(p.header(step))\u{1B}[0m" : p.header(step)
                say("\n" + ([header] + p.body(step, hostOrder: hostOrder)).joined(separator: "\n") + "\n")
            }
            say(page().title(seed: session.runner.seed).joined(separator: "\n") + "\n")
            var shown = -1
            var failed = false
            func forward() -> Bool {
                if shown + 1 < session.steps.count {
                    shown += 1
                } else {
                    guard let step = session.next() else { return false }
                    failed = failed || !step.outcome.passed
                    shown = session.steps.count - 1
                }
                show(shown)
                return true
            }
            if auto {
                while forward() {
                    if let paceMs, paceMs > 0, !session.isAtEnd { usleep(UInt32(min(paceMs, 600_000)) * 1000) }
                }
            } else {
                loop: while shown + 1 < session.steps.count || !session.isAtEnd {
                    say(language == .fr ? "[Entrée] suivant · b retour · r jusqu'au bout · t vue · l langue · q quitter > "
                                        : "[Enter] next · b back · r run to the end · t view · l language · q quit > ")
                    guard let answer = readLine(strippingNewline: true) else { break loop }
                    switch answer.trimmingCharacters(in: .whitespaces).lowercased() {
                    case "", "n", "next":
                        _ = forward()
                    case "b", "back":
                        if shown <= 0 {
                            say(language == .fr ? "Déjà au début.\n" : "Already at the start.\n")
                        } else {
                            shown -= 1
                            show(shown)
                        }
                    case "r", "run":
                        while forward() {}
                        break loop
                    case "t":
                        mode = mode == .both ? .diagram : mode == .diagram ? .transcript : .both
                        if shown >= 0 { show(shown) }
                    case "l":
                        language = language == .fr ? .en : .fr
                        if shown >= 0 { show(shown) }
                    case "q", "quit":
                        break loop
                    default:
                        say(language == .fr ? "Entrée, b, r, t, l ou q.\n" : "Enter, b, r, t, l or q.\n")
                    }
                }
            }
            if session.isAtEnd && shown == session.steps.count - 1 { say(language == .fr ? "Fin du scénario.\n" : "End of the scenario.\n") }
            return failed
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

/// The terminal: size, raw mode, keys.
enum Terminal {
    static func size() -> (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    static func columns() -> Int? { isatty(STDOUT_FILENO) == 1 ? size()?.columns : nil }

    enum Key: Equatable {
        case next, back, run, pause, quit, toggle, language, down, up, pageDown, pageUp, space, home, end, other
    }

    /// Puts standard input in raw mode (no echo, no line buffering, no signals); returns the
    /// settings to restore.
    static func enterRaw() -> termios? {
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return nil }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        return original
    }

    static func restore(_ settings: termios) {
        var settings = settings
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
    }

    /// Waits up to `timeoutMs` for a key; nil on timeout.
    static func readKey(timeoutMs: Int) -> Key? {
        guard let byte = readByte(timeoutMs: timeoutMs) else { return nil }
        switch byte {
        case 13, 10, UInt8(ascii: "n"): return .next
        case UInt8(ascii: "b"), 127: return .back
        case UInt8(ascii: "r"): return .run
        case UInt8(ascii: "p"): return .pause
        case UInt8(ascii: "q"), 3, 4: return .quit
        case UInt8(ascii: "t"): return .toggle
        case UInt8(ascii: "l"): return .language
        case UInt8(ascii: "j"): return .down
        case UInt8(ascii: "k"): return .up
        case UInt8(ascii: " "): return .space
        case 27:
            guard let second = readByte(timeoutMs: 30), second == UInt8(ascii: "[") || second == UInt8(ascii: "O") else { return .other }
            guard let third = readByte(timeoutMs: 30) else { return .other }
            switch third {
            case UInt8(ascii: "C"): return .next
            case UInt8(ascii: "D"): return .back
            case UInt8(ascii: "A"): return .up
            case UInt8(ascii: "B"): return .down
            case UInt8(ascii: "H"): return .home
            case UInt8(ascii: "F"): return .end
            case UInt8(ascii: "5"), UInt8(ascii: "6"), UInt8(ascii: "1"), UInt8(ascii: "4"):
                _ = readByte(timeoutMs: 30)  // the final "~"
                return third == UInt8(ascii: "5") ? .pageUp : third == UInt8(ascii: "6") ? .pageDown
                    : third == UInt8(ascii: "1") ? .home : .end
            default: return .other
            }
        default: return .other
        }
    }

    private static func readByte(timeoutMs: Int) -> UInt8? {
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeoutMs)) > 0 else { return nil }
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 ? byte : 4  // end of input quits
    }
}

/// The full-screen replay: a pinned header (scenario, step number and title), the step's page
/// (scrolled with ↓/↑/space), and a control line at the bottom.
struct ScreenReplay {
    let session: ReplaySession
    var language: Language
    let color: Bool
    let fixedWidth: Int?
    let paceMs: Int
    var running: Bool
    var mode = ReplayPage.Mode.diagram
    /// Index of the step shown; -1 for the title page.
    var shown = -1
    var offset = 0
    var lastRun = Date()
    let hostOrder: [String]

    init(session: ReplaySession, language: Language, color: Bool, width: Int?, paceMs: Int, running: Bool) {
        self.session = session
        self.language = language
        self.color = color
        fixedWidth = width
        self.paceMs = paceMs
        self.running = running
        hostOrder = session.world?.hosts().map(\.name) ?? []
    }

    private func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    mutating func run() {
        guard let saved = Terminal.enterRaw() else { return }
        Output.print("\u{1B}[?1049h\u{1B}[?25l")
        defer {
            Output.print("\u{1B}[?25h\u{1B}[?1049l")
            Terminal.restore(saved)
        }
        var size = Terminal.size() ?? (80, 24)
        draw(size)
        while true {
            let key = Terminal.readKey(timeoutMs: running ? min(200, max(paceMs, 10)) : 250)
            let now = Terminal.size() ?? size
            var redraw = now != size
            size = now
            switch key {
            case .quit?: return
            case .next?:
                running = false
                _ = forward()
                redraw = true
            case .back?:
                running = false
                if shown > 0 { shown -= 1; offset = 0 }
                redraw = true
            case .run?: running = true; lastRun = .distantPast
            case .pause?: running = false; redraw = true
            case .toggle?: mode = mode == .diagram ? .transcript : .diagram; offset = 0; redraw = true
            case .language?: language = language == .fr ? .en : .fr; redraw = true
            case .down?: offset += 1; redraw = true
            case .up?: offset = max(0, offset - 1); redraw = true
            case .pageDown?: offset += max(1, size.rows - 4); redraw = true
            case .pageUp?: offset = max(0, offset - max(1, size.rows - 4)); redraw = true
            case .space?:
                // More of a long step, else the next step.
                if offset + pageRows(size) < bodyLines(size.columns).count { offset += pageRows(size) } else { _ = forward() }
                redraw = true
            case .home?: shown = session.steps.isEmpty ? -1 : 0; offset = 0; redraw = true
            case .end?: shown = session.steps.count - 1; offset = 0; redraw = true
            case .other?, nil: break
            }
            if running, Date().timeIntervalSince(lastRun) * 1000 >= Double(paceMs) {
                if !forward() { running = false }
                lastRun = Date()
                redraw = true
            }
            if redraw { draw(size) }
        }
    }

    /// Shows the next step (running it when it was never shown); false at the end.
    mutating func forward() -> Bool {
        if shown + 1 < session.steps.count {
            shown += 1
        } else {
            guard session.next() != nil else { return false }
            shown = session.steps.count - 1
        }
        offset = 0
        return true
    }

    func page(_ columns: Int) -> ReplayPage {
        ReplayPage(scenario: session.scenario, language: language, width: min(fixedWidth ?? columns, columns), color: color, mode: mode)
    }

    func pageRows(_ size: (columns: Int, rows: Int)) -> Int { max(1, size.rows - 3) }

    func bodyLines(_ columns: Int) -> [String] {
        let p = page(columns)
        guard shown >= 0 else { return p.title(seed: session.runner.seed) }
        var lines = p.body(session.steps[shown], hostOrder: hostOrder)
        if shown == session.steps.count - 1 && session.isAtEnd {
            lines += ["", t("Fin du scénario.", "End of the scenario.")]
        }
        return lines
    }

    mutating func draw(_ size: (columns: Int, rows: Int)) {
        let columns = min(fixedWidth ?? size.columns, size.columns)
        let p = page(columns)
        let total = session.scenario.steps.count
        let title = shown >= 0 ? p.header(session.steps[shown]) : "[0/\(total)] " + session.scenario.title[language]
        let lines = bodyLines(columns)
        let rows = pageRows(size)
        offset = min(offset, max(0, lines.count - rows))
        let visible = lines.dropFirst(offset).prefix(rows)
        let more = lines.count > rows ? " · \(t("lignes", "lines")) \(offset + 1)–\(offset + visible.count)/\(lines.count)" : ""
        let state = (running ? t("▶ en marche", "▶ running") : t("‖ en pause", "‖ paused"))
            + " · " + (mode == .diagram ? t("diagramme", "diagram") : t("dialogue", "transcript")) + more
        let controls = [
            t("→/Entrée suivant · ← retour · ↓↑ espace défiler · r lancer · p pause · t dialogue/diagramme · l English · q quitter",
              "→/Enter next · ← back · ↓↑ space scroll · r run · p pause · t transcript/diagram · l français · q quit"),
            t("→ suiv. · ← ret. · ↓↑ · r · p · t vue · l EN · q fin", "→ next · ← back · ↓↑ · r · p · t view · l FR · q quit"),
        ].first { $0.count <= columns } ?? "→ ← r p t l q"
        var out = "\u{1B}[H\u{1B}[2J"
        out += (color ? "\u{1B}[1;7m" : "") + ReplayRenderer.clip(title, columns) + (color ? "\u{1B}[0m" : "") + "\r\n"
        out += ReplayRenderer.clip(state, columns) + "\r\n"
        for line in visible { out += line + "\r\n" }
        out += String(repeating: "\r\n", count: max(0, rows - visible.count))
        out += "\u{1B}[\(size.rows);1H" + (color ? "\u{1B}[7m" : "") + ReplayRenderer.clip(controls, columns) + (color ? "\u{1B}[0m" : "")
        Output.print(out)
    }
}
