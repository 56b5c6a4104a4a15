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
    /// `including` picks the files whose tasks are replayed (all by default).
    public static func run(library: ContentLibrary, driver: WorldDriver, including: (String) -> Bool = { _ in true }) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for lesson in library.lessons where including(lesson.location.file) {
            for (index, exercise) in lesson.exercises.enumerated() {
                diagnostics += check(task: exercise.task, file: lesson.location.file, library: library, driver: driver) { core in
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
                diagnostics += check(task: task, file: scenario.location.file, library: library, driver: driver) { core in
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
        // Each counter-example fails.
        for counter in task.counterExamples where play(counter.lines).complete {
            report(counter.line, fr: "tâche « \(task.id) » : ce contre-exemple réussit l'exercice (\(counter.why.fr))",
                   en: "task '\(task.id)': this counter-example completes the exercise (\(counter.why.en))")
        }
        return diagnostics
    }
}
