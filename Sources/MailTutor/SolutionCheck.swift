import Foundation

/// `maillab check`'s proof that every exercise can be done and cannot be done wrong: it replays
/// each task's `solution:` at a real REPL on the task's world and requires the task to complete;
/// it replays each `counter-examples:` entry and requires the task NOT to complete; and it requires
/// that the task is not complete (and no goal to reach already holds) before any input.
///
/// Lesson exercises that continue the previous one's world are reached by replaying the previous
/// exercises' solutions first; a scenario's tasks by replaying the scenario up to them, earlier
/// tasks solved by their solutions.
public enum SolutionCheck {
    /// `including` picks the files whose tasks are replayed (all by default); `adjust` may change a
    /// task before it is checked (the variants check swaps in another learner's solution).
    public static func run(library: ContentLibrary, driver: WorldDriver, including: (String) -> Bool = { _ in true },
                           adjust: (String, LearnerTask) -> LearnerTask = { $1 }) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for lesson in library.lessons where including(lesson.location.file) {
            for (index, exercise) in lesson.exercises.enumerated() {
                diagnostics += check(task: adjust(lesson.location.file, exercise.task), file: lesson.location.file,
                                     library: library, driver: driver) { core in
                    var first = index
                    while first > 0, lesson.exercises[first].continues { first -= 1 }
                    var out = core.openExercise(lesson: lesson.id, index: first)
                    for previous in first..<index {
                        for line in lesson.exercises[previous].task.solution ?? [] { out += core.evaluate(line).text }
                        out += core.evaluate("next").text
                    }
                    return out
                }
            }
        }
        for scenario in library.scenarios where including(scenario.location.file) {
            let tasks = scenario.tasks
            for (index, task) in tasks.enumerated() {
                diagnostics += check(task: adjust(scenario.location.file, task), file: scenario.location.file,
                                     library: library, driver: driver) { core in
                    var out = core.evaluate("replay \(scenario.id)").text
                    var reached = -1
                    var guardSteps = 0
                    while reached < index, guardSteps <= scenario.steps.count {
                        guardSteps += 1
                        out += core.evaluate("next").text
                        if let status = core.attemptStatus, !status.complete {
                            reached += 1
                            if reached < index {
                                for line in tasks[reached].solution ?? [] { out += core.evaluate(line).text }
                            }
                        }
                    }
                    return out
                }
            }
        }
        return diagnostics
    }

    /// Files with `vars:` (variants per learner): two learners' values are drawn; each learner's
    /// solution must complete the task in their own world, and must NOT complete it in the other
    /// learner's world where the two solutions differ (the answer does not travel across the room).
    public static func variants(paths: [String], reference: [String], driver: WorldDriver,
                                including: @escaping (String) -> Bool) -> [Diagnostic] {
        let saved = ContentLibrary.variantSeed
        defer { ContentLibrary.variantSeed = saved }
        func load(_ seed: String) -> ContentLibrary {
            ContentLibrary.variantSeed = seed
            let library = ContentLibrary.load(paths: paths, reference: reference)
            _ = (library.lessons, library.scenarios)  // parse now, under this seed
            return library
        }
        let first = load("check-a"), second = load("check-b")
        func hasVariants(_ file: String) -> Bool {
            guard including(file), let text = try? String(contentsOfFile: file, encoding: .utf8) else { return false }
            return text.hasPrefix("vars:") || text.contains("\nvars:")
        }
        // Each task's solution and alternatives in the first learner's world.
        var solutions: [String: [[String]]] = [:]
        func ways(_ task: LearnerTask) -> [[String]] { (task.solution.map { [$0] } ?? []) + task.alternatives.map(\.lines) }
        for lesson in first.lessons where hasVariants(lesson.location.file) {
            for exercise in lesson.exercises { solutions[lesson.location.file + "#" + exercise.task.id] = ways(exercise.task) }
        }
        for scenario in first.scenarios where hasVariants(scenario.location.file) {
            for task in scenario.tasks { solutions[scenario.location.file + "#" + task.id] = ways(task) }
        }
        guard !solutions.isEmpty else { return [] }
        var diagnostics = run(library: first, driver: driver, including: hasVariants)
        diagnostics += run(library: second, driver: driver, including: hasVariants) { file, task in
            var task = task
            // The first learner's ways that differ from every way of the second learner are
            // counter-examples here; the second learner's own ways must still pass.
            let own = Set(ways(task))
            task.counterExamples = (solutions[file + "#" + task.id] ?? []).filter { !own.contains($0) }.map {
                CounterExample(why: LocalizedText(fr: "la solution d'un autre apprenant", en: "another learner's solution"), lines: $0, line: task.line)
            }
            return task
        }
        return diagnostics
    }

    /// What `check` replays, per file: tasks, solutions, alternative solutions, counter-examples.
    public struct Tally: Equatable, Sendable {
        public var file: String
        public var tasks = 0, solutions = 0, alternatives = 0, counterExamples = 0
        public init(file: String) { self.file = file }
    }

    /// The replays of `run` counted per file (files without tasks are left out), in library order.
    public static func tally(library: ContentLibrary, including: (String) -> Bool = { _ in true }) -> [Tally] {
        var tallies: [Tally] = []
        func count(_ file: String, _ tasks: [LearnerTask]) {
            guard including(file), !tasks.isEmpty else { return }
            var tally = Tally(file: file)
            for task in tasks {
                tally.tasks += 1
                tally.solutions += task.solution == nil ? 0 : 1
                tally.alternatives += task.alternatives.count
                tally.counterExamples += task.counterExamples.count
            }
            tallies.append(tally)
        }
        for lesson in library.lessons { count(lesson.location.file, lesson.exercises.map(\.task)) }
        for scenario in library.scenarios { count(scenario.location.file, scenario.tasks) }
        return tallies
    }

    /// Hint 1 is the concept, never a command line (docs/authoring.md): a task whose first hint
    /// quotes one of its solution's lines gets a warning (it does not fail the check).
    public static func hintWarnings(library: ContentLibrary, including: (String) -> Bool = { _ in true }) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        func look(_ task: LearnerTask, _ file: String) {
            guard let first = task.hints.first, let solution = task.solution else { return }
            let lines = solution.filter { $0.count >= 6 && $0.contains(" ") }
            for text in [first.fr, first.en] {
                if let line = lines.first(where: { text.contains($0) }) {
                    warnings.append(Diagnostic(file: file, line: task.line, message: LocalizedText(
                        fr: "tâche « \(task.id) » : l'indice 1 donne une ligne de la solution (« \(line) ») ; il devrait donner l'idée",
                        en: "task '\(task.id)': hint 1 gives a line of the solution ('\(line)'); it should give the idea")))
                    return
                }
            }
        }
        for lesson in library.lessons where including(lesson.location.file) {
            for exercise in lesson.exercises { look(exercise.task, lesson.location.file) }
        }
        for scenario in library.scenarios where including(scenario.location.file) {
            for task in scenario.tasks { look(task, scenario.location.file) }
        }
        return warnings
    }

    /// One task: `open` brings a fresh REPL to the start of the task.
    static func check(task: LearnerTask, file: String, library: ContentLibrary, driver: WorldDriver,
                      open: (ReplCore) -> String) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        func report(_ line: Int, fr: String, en: String) {
            diagnostics.append(Diagnostic(file: file, line: line, message: LocalizedText(fr: fr, en: en)))
        }
        func fresh() -> (ReplCore, String) {
            let core = ReplCore(environment: ReplCore.Environment(library: library, driver: driver, store: nil, learner: "check",
                                                                  clock: { Date(timeIntervalSince1970: 0) }),
                                language: .en)
            let out = open(core)
            return (core, out)
        }
        func play(_ lines: [String]) -> (complete: Bool, violated: Bool, transcript: String) {
            let (core, opened) = fresh()
            var out = opened
            guard core.attemptStatus != nil else { return (false, false, out) }
            for line in lines {
                out += core.evaluate(line).text
                if core.attemptStatus?.violated == true { break }
            }
            let status = core.attemptStatus
            return (status?.complete ?? false, status?.violated ?? false, out)
        }
        // Before any input.
        let (core, opened) = fresh()
        guard let start = core.attemptStatus else {
            report(task.line, fr: "tâche « \(task.id) » : impossible de l'ouvrir pour la vérifier\n\(opened.suffix(400))",
                   en: "task '\(task.id)': could not be opened to check it\n\(opened.suffix(400))")
            return diagnostics
        }
        if start.complete {
            report(task.line, fr: "tâche « \(task.id) » : déjà réussie avant toute saisie", en: "task '\(task.id)': already complete before any input")
        }
        for goal in start.holdingStateGoals {
            report(goal.line, fr: "but « \(goal.id) » : vrai dès l'ouverture de l'exercice (à mettre dans keep: s'il doit le rester)",
                   en: "goal '\(goal.id)': already holds when the exercise opens (put it under keep: if it must stay true)")
        }
        // The solution completes the task.
        guard let solution = task.solution, !solution.isEmpty else {
            report(task.line, fr: "tâche « \(task.id) » : pas de solution: (les lignes qu'un apprenant tape)",
                   en: "task '\(task.id)': no solution: (the lines a learner types)")
            return diagnostics
        }
        let played = play(solution)
        if !played.complete {
            report(task.line, fr: "tâche « \(task.id) » : la solution ne réussit pas l'exercice\n\(played.transcript.suffix(1200))",
                   en: "task '\(task.id)': the solution does not complete the exercise\n\(played.transcript.suffix(1200))")
        }
        // Each other valid way completes it too.
        for alternative in task.alternatives {
            let other = play(alternative.lines)
            if !other.complete {
                let why = alternative.why.map { (" (\($0.fr))", " (\($0.en))") } ?? ("", "")
                report(alternative.line, fr: "tâche « \(task.id) » : cette autre solution ne réussit pas l'exercice\(why.0)\n\(other.transcript.suffix(1200))",
                       en: "task '\(task.id)': this alternative solution does not complete the exercise\(why.1)\n\(other.transcript.suffix(1200))")
            }
        }
        // Each counter-example fails.
        for counter in task.counterExamples where play(counter.lines).complete {
            report(counter.line, fr: "tâche « \(task.id) » : ce contre-exemple réussit l'exercice (\(counter.why.fr))",
                   en: "task '\(task.id)': this counter-example completes the exercise (\(counter.why.en))")
        }
        return diagnostics
    }
}
