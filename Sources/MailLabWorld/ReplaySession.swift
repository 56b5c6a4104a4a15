import MailTutor
import Foundation
import MailSim

/// One step of a replay as it was played: its outcome, the wire events shown with it, the tap
/// records they come from, and the state of the network afterwards.
public struct ReplayStep: Sendable {
    public var outcome: StepOutcome
    /// Wire events shown with this step, in time order.
    public var events: [WireEvent]
    /// For each connection shown in this step, the range of its tap events (``TapConnection/events``).
    public var tapRanges: [TapRange]
    /// Hosts (up or down) after the step.
    public var hosts: [HostInfo]
    /// Pairs of hosts partitioned from each other after the step.
    public var partitions: [[String]]
    /// Virtual time after the step, in microseconds.
    public var time: Int64

    public struct TapRange: Equatable, Sendable {
        public var connection: Int
        public var range: Range<Int>
    }
}

/// Plays a scenario for `maillab replay`, keeping every step played so that going back shows a
/// step again without running the world twice, and so that the HTML export has every step.
///
/// Step boundaries: the world settles at the instant a step ends, so a connection opened by a
/// `send` is usually still under way when the step is over. Its lines are held back and shown
/// whole with the step that lets time pass (`advance`), or with the next step that acts on the
/// world (`down`, `send`, …) when the scenario puts one in the middle of the connection: a
/// connection is split across steps only where the scenario puts a step.
public final class ReplaySession {
    public let runner: ScenarioRunner
    public private(set) var steps: [ReplayStep] = []
    /// Events seen but not shown yet (their connection is still open).
    private var pending: [WireEvent] = []
    private var wireCursor = 0
    /// Connection id → tap events already assigned to a step.
    private var tapShown: [Int: Int] = [:]
    /// Connections whose end was seen: each side sent FIN or RST, both ends closed (the tap's
    /// ``TapConnection/isFinished``), refused, timed out or aborted. (A last RST answering a
    /// segment that arrived after the close may still come later: it shows with the next step.)
    private var ended: Set<Int> = []
    /// Connection id → the sides (client: true) that sent FIN or RST.
    private var closedSides: [Int: Set<Bool>] = [:]
    private var partitions: [[String]] = []
    /// Most steps kept (a scenario has at most a few hundred).
    public static let maximumSteps = 10_000

    public init(runner: ScenarioRunner) {
        self.runner = runner
        wireCursor = world?.wireEvents().count ?? 0
    }

    public var world: SimulatedWorld? { runner.world as? SimulatedWorld }
    public var scenario: Scenario { runner.scenario }
    public var isAtEnd: Bool { runner.isAtEnd }

    /// Runs the next step of the scenario; nil at the end.
    @discardableResult
    public func next() -> ReplayStep? {
        guard steps.count < Self.maximumSteps, let outcome = runner.next() else { return nil }
        if outcome.error == nil, case let .world(.fault(fault)) = outcome.step.action {
            switch fault {
            case let .partition(a, b):
                if !partitions.contains([a, b]) && !partitions.contains([b, a]) { partitions.append([a, b]) }
            case let .heal(a, b):
                partitions.removeAll { $0 == [a, b] || $0 == [b, a] }
            default: break
            }
        }
        var step = ReplayStep(outcome: outcome, events: [], tapRanges: [], hosts: runner.world.hosts(),
                              partitions: partitions, time: 0)
        guard let world else {
            steps.append(step)
            return step
        }
        step.time = world.world.now.microseconds
        let all = world.wireEvents()
        let fresh = wireCursor < all.count ? Array(all[wireCursor...]) : []
        wireCursor = all.count
        for event in fresh {
            switch event.kind {
            case .refused, .timedOut, .aborted: ended.insert(event.connection)
            case let .fin(client), let .rst(client):
                closedSides[event.connection, default: []].insert(client)
                if closedSides[event.connection]?.count == 2 { ended.insert(event.connection) }
            default: break
            }
        }
        for connection in world.world.tap.connections where connection.isFinished { ended.insert(connection.id) }
        let candidates = pending + fresh
        let nextIndex = outcome.index + 1
        let holdOpen = nextIndex < scenario.steps.count && Self.letsConnectionsRun(scenario.steps[nextIndex].action)
        var shown: [WireEvent] = []
        pending = []
        for event in candidates {
            if holdOpen && !ended.contains(event.connection) { pending.append(event) } else { shown.append(event) }
        }
        step.events = shown
        var ids: [Int] = []
        for event in shown where !ids.contains(event.connection) { ids.append(event.connection) }
        for connection in world.world.tap.connections where ids.contains(connection.id) {
            let start = tapShown[connection.id] ?? 0
            let end = connection.events.count
            tapShown[connection.id] = end
            if start < end { step.tapRanges.append(.init(connection: connection.id, range: start..<end)) }
        }
        steps.append(step)
        return step
    }

    /// Runs every remaining step.
    public func runToEnd() {
        while next() != nil {}
    }

    /// True for steps during which an open connection simply goes on (time passes, text is
    /// shown, the world is checked): its lines wait to be shown with the step that finishes it.
    static func letsConnectionsRun(_ action: StepAction) -> Bool {
        switch action {
        case .narrate, .expect, .task, .world(.advance): return true
        case .world: return false
        }
    }
}

/// The text of a replay step for a terminal of a given width: a header line (step number and
/// title) and the body (narration, checks, dialogue and/or diagram), every line at most `width`
/// columns.
public struct ReplayPage {
    public enum Mode: String, Sendable, CaseIterable {
        case diagram, transcript, both
    }

    public var scenario: Scenario
    public var language: Language
    public var width: Int
    public var color: Bool
    public var mode: Mode

    public init(scenario: Scenario, language: Language, width: Int, color: Bool, mode: Mode) {
        self.scenario = scenario
        self.language = language
        self.width = min(max(width, ReplayRenderer.minimumWidth), ReplayRenderer.maximumWidth)
        self.color = color
        self.mode = mode
    }

    private func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }
    private func t(_ text: LocalizedText) -> String { text[language] }
    private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    /// `[3/24] send laptop → bob@company.org · +1m00s`, clipped to the width.
    public func header(_ step: ReplayStep) -> String {
        let text = "[\(step.outcome.index + 1)/\(scenario.steps.count)] \(Self.label(step.outcome.step.action, language))"
            + " · \(VirtualTime(microseconds: step.time))"
        return ReplayRenderer.clip(text, width)
    }

    /// The scenario's title, summary and size, folded to the width.
    public func title(seed: UInt64) -> [String] {
        var lines = ReplayRenderer.wrap("# " + t(scenario.title), width: width, indent: "  ").map { paint($0, "1") }
        if let summary = scenario.summary { lines += ReplayRenderer.reflow(t(summary), width: width).components(separatedBy: "\n") }
        lines.append(t("\(scenario.steps.count) étapes, graine \(seed).", "\(scenario.steps.count) steps, seed \(seed)."))
        return lines
    }

    /// The lines under the header.
    public func body(_ step: ReplayStep, hostOrder: [String]) -> [String] {
        var lines: [String] = []
        let outcome = step.outcome
        func add(_ text: String, indent: String = "") {
            lines += ReplayRenderer.reflow(text, width: width, indent: indent).components(separatedBy: "\n")
        }
        for note in outcome.notes { add(t(note)) }
        if case let .task(task) = outcome.step.action {
            for goal in task.goals {
                lines += ReplayRenderer.wrap("  [ ] \(goal.description.map(t) ?? goal.id)", width: width, indent: "      ")
            }
            add(t("(Tâche de l'apprenant : dans le tuteur « maillab », tapez « replay \(scenario.id) » pour la faire vous-même ; "
                    + "cette relecture passe à la suite sans elle.)",
                  "(A learner task: in the tutor 'maillab', type 'replay \(scenario.id)' to do it yourself; "
                    + "this replay goes on without it.)"))
        }
        if let error = outcome.error {
            lines += ReplayRenderer.wrap("! " + t(error.message), width: width, indent: "  ").map { paint($0, "31") }
        }
        if case let .expect(goals) = outcome.step.action {
            for goal in goals {
                let failed = outcome.failures.contains(goal)
                let mark = failed ? paint("✗", "31") : paint("✓", "32")
                let text = ReplayRenderer.wrap("  ✓ \(goal.description.map(t) ?? goal.id)", width: width, indent: "    ")
                lines += text.enumerated().map { $0.offset == 0 ? "  \(mark)" + String($0.element.dropFirst(3)) : $0.element }
            }
        }
        guard !step.events.isEmpty else { return lines }
        let renderer = ReplayRenderer(color: color, language: language, hostOrder: hostOrder, width: width)
        if mode != .diagram {
            lines += renderer.dialogue(step.events).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
        }
        if mode != .transcript {
            let diagram = renderer.diagram(step.events)
            if !diagram.isEmpty {
                lines.append("")
                lines += renderer.legend().split(separator: "\n").map(String.init)
                lines += diagram.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
            }
        }
        return lines
    }

    /// A short name for the step: `send`, `down mail1.company.org`, `advance 1m`, `expect`, … (in
    /// French: `envoi`, `arrêt`, `attente`, `vérification`, …).
    public static func label(_ action: StepAction, _ language: Language = .en) -> String {
        let fr = language == .fr
        switch action {
        case .narrate: return fr ? "récit" : "narrate"
        case let .expect(goals): return (fr ? "vérification" : "expect") + " (\(goals.count))"
        case let .task(task): return (fr ? "tâche " : "task ") + task.id
        case let .world(world):
            switch world {
            case let .send(send): return (fr ? "envoi " : "send ") + "\(send.device ?? send.from) → \(send.to.joined(separator: ", "))"
            case let .fetch(device): return (fr ? "relève " : "fetch ") + device
            case let .sync(device): return (fr ? "synchronisation " : "sync ") + device
            case let .configure(configure):
                switch configure.target {
                case let .host(name), let .device(name): return (fr ? "réglage " : "configure ") + name
                }
            case let .fault(fault):
                switch fault {
                case let .down(name): return (fr ? "arrêt " : "down ") + name
                case let .up(name): return (fr ? "remise en marche " : "up ") + name
                case let .crash(name): return (fr ? "plantage " : "crash ") + name
                case let .partition(a, b): return (fr ? "coupure " : "partition ") + "\(a) \(b)"
                case let .heal(a, b): return (fr ? "réparation " : "heal ") + "\(a) \(b)"
                }
            case let .advance(seconds): return (fr ? "attente " : "advance ") + DurationText.format(seconds)
            }
        }
    }
}
