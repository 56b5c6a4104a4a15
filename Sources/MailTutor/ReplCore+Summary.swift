// The summary a learner gets at the end of a lesson (the capstone's "score and summary"): what
// was done, what hints cost, and the quiz if taken. The same figures are in `progress` and in the
// teacher's exports; the score is computed here from them, with a rule the summary states.

import Foundation

extension ReplCore {
    /// Points of an exercise: 10 when done, 2 fewer per hint used, never below 4 for a done
    /// exercise; 0 when skipped or not done.
    static func points(status: String?, hints: Int) -> Int {
        guard status == "completed" else { return 0 }
        return max(4, 10 - 2 * max(0, hints))
    }

    func lessonSummary(_ lesson: Lesson) -> String {
        guard let store = env.store, !lesson.exercises.isEmpty else { return "" }
        let results = (try? store.exerciseResults(learner: env.learner, lesson: lesson.id)) ?? []
        let byID = Dictionary(results.map { ($0.exercise, $0) }, uniquingKeysWith: { a, _ in a })
        var out = ""
        var score = 0, done = 0, skipped = 0, hints = 0, seconds = 0
        for exercise in lesson.exercises {
            let result = byID[exercise.id]
            let points = Self.points(status: result?.status, hints: result?.hintsUsed ?? 0)
            score += points
            hints += result?.hintsUsed ?? 0
            seconds += result?.seconds ?? 0
            let state: String
            switch result?.status {
            case "completed": done += 1; state = t("réussi", "done")
            case "skipped": skipped += 1; state = t("passé", "skipped")
            default: state = t("non fait", "not done")
            }
            let used = result?.hintsUsed ?? 0
            out += "  \(exercise.id.padding(toLength: 20, withPad: " ", startingAt: 0)) \(state.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                + t("indices : \(used)", "hints: \(used)") + "  \(points)/10\n"
        }
        let total = lesson.exercises.count * 10
        var head = t("Bilan : \(done)/\(lesson.exercises.count) exercices réussis", "Summary: \(done)/\(lesson.exercises.count) exercises done")
        if skipped > 0 { head += t(", \(skipped) passé(s)", ", \(skipped) skipped") }
        head += t(", \(hints) indice(s), \(max(1, (seconds + 59) / 60)) min. Score : \(score)/\(total)",
                  ", \(hints) hint(s), \(max(1, (seconds + 59) / 60)) min. Score: \(score)/\(total)")
        var tail = t("  (10 points par exercice réussi, 2 de moins par indice, au moins 4 ; 0 pour un exercice passé)\n",
                     "  (10 points per exercise done, 2 fewer per hint, at least 4; 0 for a skipped exercise)\n")
        if let row = (try? store.summary(learner: env.learner))?.first(where: { $0.lesson == lesson.id }),
           let best = row.bestScore, let questions = row.total {
            tail += t("  Meilleur score au quiz : \(best)/\(questions)\n", "  Best quiz score: \(best)/\(questions)\n")
        }
        return head + "\n" + out + tail
    }
}
