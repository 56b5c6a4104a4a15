import Foundation
import Testing
@testable import MailTutor

@Suite struct ProgressTests {
    func tempDir() throws -> String {
        let path = NSTemporaryDirectory() + "maillab-progress-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    let day = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func progressSurvivesARestart() throws {
        let path = try tempDir() + "/data/progress.sqlite"
        do {
            let store = try ProgressStore(path: path)
            try store.startLesson(learner: "ana", lesson: "smtp", at: day)
            try store.recordGoal(learner: "ana", lesson: "smtp", exercise: "submit", goal: "auth", hintsUsed: 2, seconds: 40, at: day)
            // Hints count once each, whatever the number of goals; showing hint 2 again adds nothing.
            for number in [1, 2, 2] { try store.recordHint(learner: "ana", lesson: "smtp", exercise: "submit", number: number, at: day) }
            try store.recordExercise(learner: "ana", lesson: "smtp", exercise: "submit", status: "completed", hintsUsed: 2, seconds: 40, at: day)
            let attempt = try store.startQuiz(learner: "ana", lesson: "smtp", at: day)
            try store.recordAnswer(attempt: attempt, learner: "ana", lesson: "smtp", question: "port", answer: "25", correct: false)
            try store.recordAnswer(attempt: attempt, learner: "ana", lesson: "smtp", question: "tls", answer: "1", correct: true)
            try store.finishQuiz(attempt: attempt, score: 1, total: 2, at: day)
            try store.completeLesson(learner: "ana", lesson: "smtp", at: day)
        }
        let reopened = try ProgressStore(path: path)
        let summary = try reopened.summary(learner: "ana")
        #expect(summary == [ProgressStore.LessonSummary(lesson: "smtp", started: true, completed: true, goalsMet: 1, hintsUsed: 2,
                                                        seconds: 40, bestScore: 1, total: 2, missed: 1)])
        #expect(try reopened.missedQuestions(learner: "ana", lesson: "smtp") == ["port"])
        #expect(try reopened.summary(learner: "other") == [])
    }

    @Test func replProgressSurvivesARestart() throws {
        let path = try tempDir() + "/progress.sqlite"
        let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])
        _ = Fixtures.run(Fixtures.core(library: library, store: try ProgressStore(path: path)), ["quiz submit-lesson", "25", "250", "25", "250"])
        let core = Fixtures.core(library: library, store: try ProgressStore(path: path))
        let table = core.evaluate("progress").text
        #expect(table.contains("submit-lesson"))
        #expect(table.contains("0/2"))
        #expect(core.evaluate("quiz submit-lesson").text.contains("Questions missed last time come first."))
    }

    @Test func corruptDatabaseGivesAClearMessage() throws {
        let path = try tempDir() + "/progress.sqlite"
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect(throws: TutorError.self) { try ProgressStore(path: path) }
        do {
            _ = try ProgressStore(path: path)
        } catch let error as TutorError {
            #expect(error.message.en.contains("is corrupt (not a valid SQLite database)"))
            #expect(error.message.fr.contains("est corrompue"))
        }
        // The file is left as it was: nothing lost.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func readOnlyDatabaseGivesAClearMessageAndKeepsData() throws {
        let path = try tempDir() + "/progress.sqlite"
        try ProgressStore(path: path).startLesson(learner: "ana", lesson: "smtp", at: day)
        let readOnly = try ProgressStore(path: path, readOnly: true)
        #expect(try readOnly.summary(learner: "ana").map(\.lesson) == ["smtp"])
        do {
            try readOnly.completeLesson(learner: "ana", lesson: "smtp", at: day)
            Issue.record("writing a read-only database should fail")
        } catch let error as TutorError {
            #expect(error.message.en.contains("cannot be written (read-only or not permitted)"))
        }
        #expect(try ProgressStore(path: path).summary(learner: "ana").first?.completed == false)
    }

    @Test func unwritableFolderGivesAClearMessage() throws {
        let dir = try tempDir()
        let blocker = dir + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        do {
            _ = try ProgressStore(path: blocker + "/sub/progress.sqlite")
            Issue.record("opening under a plain file should fail")
        } catch let error as TutorError {
            #expect(error.message.en.contains("cannot create the data folder"))
        }
    }

    @Test func exportHasOneRowPerLearnerAndItem() throws {
        let store = try ProgressStore()
        try store.startLesson(learner: "bob", lesson: "imap", at: day)
        try store.recordGoal(learner: "ana", lesson: "smtp", exercise: "e", goal: "g", hintsUsed: 1, seconds: 5, at: day)
        let attempt = try store.startQuiz(learner: "ana", lesson: "smtp", at: day)
        try store.recordAnswer(attempt: attempt, learner: "ana", lesson: "smtp", question: "q1", answer: "a,\"b\"", correct: false)
        try store.recordAnswer(attempt: attempt, learner: "ana", lesson: "smtp", question: "q1", answer: "c", correct: true)
        let csv = ProgressStore.csv(try store.export())
        #expect(csv == """
            learner,lesson,kind,item,status,hints_used,seconds,attempts,exercise,date,language,question,answer
            bob,imap,lesson,imap,started,,,,,2027-01-15T08:00:00Z,,,
            ana,smtp,goal,e/g,met,1,5,,e,2027-01-15T08:00:00Z,,,
            ana,smtp,question,q1,correct,,,2,,,,,c
            ana,smtp,answer,q1,wrong,,,\(attempt),,,,,"a,""b""\"
            ana,smtp,answer,q1,right,,,\(attempt),,,,,c

            """)
        #expect(ProgressStore.json(try store.export()).contains("\"kind\" : \"goal\""))
    }
}
