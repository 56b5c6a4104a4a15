import Foundation

/// What one step did.
public struct StepOutcome: Sendable {
    public var index: Int
    public var step: Step
    /// Narration and notes from the world, in order.
    public var notes: [LocalizedText]
    /// Expectations that did not hold (empty when the step is not an `expect`, or all held).
    public var failures: [Goal]
    /// A world action that the world refused (unknown device, …).
    public var error: TutorError?

    public var passed: Bool { failures.isEmpty && error == nil }
}

/// Steps through a scenario: `next`, `back` (a deterministic re-run from the start up to the step
/// before), and `runToEnd`. The actions themselves are carried out by the world protocol.
public final class ScenarioRunner {
    public let scenario: Scenario
    public let seed: UInt64
    private let driver: WorldDriver
    public private(set) var world: TutorWorld
    /// How many steps have run; the next step is `scenario.steps[position]`.
    public private(set) var position = 0
    /// Called with every outcome, for transcript export and logging.
    public var onStep: ((StepOutcome) -> Void)?

    public init(scenario: Scenario, driver: WorldDriver, seed: UInt64? = nil) throws {
        self.scenario = scenario
        self.driver = driver
        self.seed = seed ?? scenario.seed
        world = try driver.makeWorld(scenario: scenario, seed: self.seed)
    }

    public var isAtEnd: Bool { position >= scenario.steps.count }

    /// Runs the next step; nil at the end.
    @discardableResult
    public func next() -> StepOutcome? {
        guard position < scenario.steps.count else { return nil }
        let step = scenario.steps[position]
        let outcome = Self.run(step, index: position, world: world)
        position += 1
        onStep?(outcome)
        return outcome
    }

    /// Goes back one step by rebuilding the world with the same seed and replaying the steps
    /// before it; the world is then exactly as it was before that step ran.
    public func back() throws {
        try rewind(to: max(0, position - 1))
    }

    /// Rebuilds the world and replays the first `count` steps silently.
    public func rewind(to count: Int) throws {
        world = try driver.makeWorld(scenario: scenario, seed: seed)
        position = 0
        while position < min(count, scenario.steps.count) {
            _ = Self.run(scenario.steps[position], index: position, world: world)
            position += 1
        }
    }

    /// Runs every remaining step. Learner tasks are not played; their goals are reported unmet.
    public func runToEnd() -> [StepOutcome] {
        var outcomes: [StepOutcome] = []
        while let outcome = next() { outcomes.append(outcome) }
        return outcomes
    }

    /// `--auto`: runs to the end; passes when every expectation held and every action ran.
    public func runAuto() -> (outcomes: [StepOutcome], passed: Bool) {
        let outcomes = runToEnd()
        return (outcomes, outcomes.allSatisfy(\.passed))
    }

    static func run(_ step: Step, index: Int, world: TutorWorld) -> StepOutcome {
        var outcome = StepOutcome(index: index, step: step, notes: [], failures: [], error: nil)
        switch step.action {
        case let .narrate(text):
            outcome.notes = [text]
        case let .world(action):
            let refusalExpected: Bool
            if case let .send(send) = action { refusalExpected = send.expectRefusal } else { refusalExpected = false }
            do {
                outcome.notes = try world.perform(action)
                if refusalExpected {
                    outcome.error = TutorError(fr: "le serveur devait refuser ce message, il l'a accepté",
                                               en: "the server was expected to refuse this message, but accepted it")
                }
            } catch let error as TutorError where refusalExpected {
                outcome.notes = [LocalizedText(fr: "Refusé, comme prévu : " + error.message.fr,
                                               en: "Refused, as expected: " + error.message.en)]
            } catch let error as TutorError {
                outcome.error = error
            } catch {
                outcome.error = TutorError(fr: "action refusée : \(error)", en: "action refused: \(error)")
            }
        case let .expect(goals):
            outcome.failures = goals.filter { !GoalEvaluator.expectation($0.predicate, world: world) }
        case let .task(task):
            outcome.notes = [task.instructions]
        }
        return outcome
    }
}

/// Plain-text transcript of the wire log: `[t] from > to: text`.
public enum TranscriptFormatter {
    public static func plain(_ records: [WireRecord]) -> String {
        records.map { line($0) }.joined(separator: "\n") + (records.isEmpty ? "" : "\n")
    }

    public static func line(_ record: WireRecord) -> String {
        let time = DurationText.format(record.time)
        return "[\(time)] \(record.from) > \(record.to): \(record.encrypted ? "(TLS) " : "")\(Printable.escape(record.text))"
    }
}

/// Shows any text safely in a terminal: control characters become escapes, length is capped.
public enum Printable {
    public static func escape(_ text: String, limit: Int = 2000) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            switch scalar {
            case "\0": out += "\\0"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\\": out += "\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value) {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return out
    }
}
