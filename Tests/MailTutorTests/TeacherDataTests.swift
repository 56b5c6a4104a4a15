import Foundation
import Testing
@testable import MailTutor

/// Issue 15: what a teacher takes out of the learners' databases.
@Suite struct TeacherDataTests {
    let day = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aClassOfSeveralDatabasesIsSummarisedPerLearner() throws {
        let folder = NSTemporaryDirectory() + "maillab-class-\(UUID().uuidString)"
        var rows: [ProgressStore.ExportRow] = []
        for (learner, right) in [("ana", true), ("bob", false)] {
            let store = try ProgressStore(path: folder + "/\(learner)/progress.sqlite")
            try store.startLesson(learner: learner, lesson: "smtp", language: .fr, at: day)
            try store.completeLesson(learner: learner, lesson: "smtp", at: day)
            try store.recordHint(learner: learner, lesson: "smtp", exercise: "submit", number: 1, language: .fr, at: day)
            try store.recordExercise(learner: learner, lesson: "smtp", exercise: "submit", status: right ? "completed" : "skipped",
                                     hintsUsed: 1, seconds: 30, language: .fr, at: day)
            let attempt = try store.startQuiz(learner: learner, lesson: "smtp", at: day)
            try store.recordAnswer(attempt: attempt, learner: learner, lesson: "smtp", question: "port", answer: right ? "587" : "25",
                                   correct: right, questionText: "Port ?", language: .fr, at: day)
            rows += try ProgressStore(path: folder + "/\(learner)/progress.sqlite", readOnly: true).export()
        }
        let summary = ProgressStore.classSummary(rows, language: .en)
        #expect(summary.contains("ana                   1              1          0       1        1/1\n"), "\(summary)")
        #expect(summary.contains("bob                   1              0          1       1        0/1\n"), "\(summary)")
        #expect(summary.hasSuffix("2 learner(s)\n"))
        let csv = ProgressStore.csv(rows)
        #expect(csv.contains("ana,smtp,answer,port,right,,,1,,2027-01-15T08:00:00Z,fr,Port ?,587\n"), "\(csv)")
        #expect(csv.contains("bob,smtp,exercise,submit,skipped,1,30,,submit,2027-01-15T08:00:00Z,fr,,\n"))
        #expect(csv.contains("ana,smtp,lesson,smtp,completed,,,,,2027-01-15T08:00:00Z,fr,,\n"))
    }
}
