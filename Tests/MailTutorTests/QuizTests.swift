import Foundation
import Testing
@testable import MailTutor

@Suite struct QuizTests {
    static func question(_ kind: Question.Kind, id: String = "q") -> Question {
        Question(id: id, covers: [], prompt: LocalizedText(fr: "?", en: "?"), kind: kind,
                 explanation: LocalizedText(fr: "parce que", en: "because"), line: 1)
    }

    static let choices = [LocalizedText(fr: "un", en: "one"), LocalizedText(fr: "deux", en: "two"), LocalizedText(fr: "trois", en: "three")]

    @Test(arguments: [
        ("2", true), (" 2 ", true), ("1", false), ("2 3", false), ("two", true), ("deux", true), ("Two.", true), ("three", false), ("", false),
    ])
    func singleChoice(answer: String, correct: Bool) {
        let q = Self.question(.single(choices: Self.choices, answer: 1))
        #expect(QuizGrader.grade(q, answer: answer, language: .en).correct == correct)
    }

    @Test(arguments: [
        ("1 3", true), ("3 1", true), ("3,1", true), ("1 3 3", true), ("1", false), ("1 2 3", false), ("x", false),
    ])
    func multipleChoice(answer: String, correct: Bool) {
        let q = Self.question(.multiple(choices: Self.choices, answers: [0, 2]))
        #expect(QuizGrader.grade(q, answer: answer, language: .en).correct == correct)
    }

    @Test(arguments: [
        ("base64", true), ("BASE64", true), ("  base   64 ", true), ("Base 64", true), ("bâse64", true),
        ("quoted-printable", false), ("", false),
    ])
    func shortAnswerNormalisesCaseAccentsAndSpaces(answer: String, correct: Bool) {
        let q = Self.question(.short(accepted: ["base64", "base 64"]))
        #expect(QuizGrader.grade(q, answer: answer, language: .en).correct == correct)
    }

    @Test(arguments: [("587", true), ("587.0", true), (" 587", true), ("25", false), ("port 587", true), ("587/tcp", true),
                      ("25 or 587", false), ("port", false)])
    func numeric(answer: String, correct: Bool) {
        let q = Self.question(.numeric(answer: 587, tolerance: 0))
        let grade = QuizGrader.grade(q, answer: answer, language: .en)
        #expect(grade.correct == correct)
        #expect(grade.expected == "587")
    }

    @Test func orderingByShownNumbersOrByNames() {
        let items = ["EHLO", "MAIL FROM", "RCPT TO", "DATA", "QUIT"]
        let q = Self.question(.ordering(items: items.map { LocalizedText(fr: $0, en: $0) }), id: "smtp-order")
        let shown = QuizGrader.shownOrder(q)
        #expect(shown != Array(items.indices))
        #expect(Set(shown) == Set(items.indices))
        // The learner gives the shown positions of the items in the right order.
        let positions = items.indices.map { index in shown.firstIndex(of: index)! + 1 }
        #expect(QuizGrader.grade(q, answer: positions.map(String.init).joined(separator: " "), language: .en).correct)
        #expect(QuizGrader.grade(q, answer: "ehlo, mail from, rcpt to, data, quit", language: .en).correct)
        #expect(!QuizGrader.grade(q, answer: "EHLO, RCPT TO, MAIL FROM, DATA, QUIT", language: .en).correct)
        #expect(!QuizGrader.grade(q, answer: "1 2 3 4 9", language: .en).correct)
        #expect(QuizGrader.render(q, language: .en).contains("  1. \(items[shown[0]])"))
        // One-word items may also be separated by spaces, as a learner types them.
        let states = ["AUTHORIZATION", "TRANSACTION", "UPDATE"]
        let pop3 = Self.question(.ordering(items: states.map { LocalizedText(fr: $0, en: $0) }), id: "pop3-states")
        #expect(QuizGrader.validate(pop3, answer: "AUTHORIZATION TRANSACTION UPDATE") == nil)
        #expect(QuizGrader.grade(pop3, answer: "authorization  transaction update", language: .en).correct)
        #expect(!QuizGrader.grade(pop3, answer: "AUTHORIZATION UPDATE TRANSACTION", language: .en).correct)
        #expect(QuizGrader.validate(pop3, answer: "AUTHORIZATION TRANSACTION") != nil)
    }

    @Test func predictTheReplyRunsTheWorld() throws {
        let target = SessionTarget(host: "mail.example.com", port: 587, tls: false)
        let q = Self.question(.predict(scenario: nil, session: target, prefix: ["EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="]))
        let predicted = try ReplyPrediction.expectedCode(world: ScriptedWorld(), session: target, prefix: ["EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="])
        #expect(predicted == "530")
        #expect(QuizGrader.grade(q, answer: "530", predicted: predicted, language: .en).correct)
        #expect(QuizGrader.grade(q, answer: "530 5.7.0", predicted: predicted, language: .en).correct)
        #expect(!QuizGrader.grade(q, answer: "235", predicted: predicted, language: .en).correct)
        #expect(!QuizGrader.grade(q, answer: "530", predicted: nil, language: .en).correct)
        let afterTLS = try ReplyPrediction.expectedCode(world: ScriptedWorld(), session: target,
                                                        prefix: ["EHLO pc", "STARTTLS", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="])
        #expect(afterTLS == "235")
    }

    @Test(arguments: [
        ("+OK Dovecot ready.", MailProtocol.pop3, "+OK"), ("-ERR [AUTH] failed", .pop3, "-ERR"),
        ("a1 NO [AUTHENTICATIONFAILED] x", .imap, "NO"), ("a2 BAD parse", .imap, "BAD"), ("554 5.7.1 Relay access denied", .smtp, "554"),
    ])
    func replyCodes(line: String, kind: MailProtocol, code: String) {
        #expect(ReplyPrediction.code(of: line, protocolKind: kind) == code)
    }

    @Test func missedQuestionsComeBackAtTheEndAndScoreCountsFirstAttempts() throws {
        let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])
        let lesson = try #require(library.lesson("submit-lesson"))
        var run = QuizRun(lesson: lesson, previouslyMissed: [])
        #expect(run.current?.id == "port")
        run.record(Grade(correct: false, expected: "", explanation: lesson.quiz[0].explanation))
        #expect(run.current?.id == "reply")
        run.record(Grade(correct: true, expected: "", explanation: lesson.quiz[1].explanation))
        #expect(run.current?.id == "port")
        run.record(Grade(correct: true, expected: "", explanation: lesson.quiz[0].explanation))
        #expect(run.isFinished)
        #expect(run.score == 1)
        #expect(run.total == 2)
        #expect(run.missed == ["port"])
        // In the next quiz the missed question comes first.
        #expect(QuizRun(lesson: lesson, previouslyMissed: ["reply"]).current?.id == "reply")
    }

    @Test func quizAtTheReplWithFeedbackAndStoredMissedQuestions() throws {
        let store = try ProgressStore()
        let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])
        let core = Fixtures.core(library: library, store: store)
        let out = Fixtures.run(core, ["quiz submit-lesson", "25", "220", "587"])
        #expect(out.contains("Submission port?"))
        #expect(out.contains("Not quite. Answer: 587\n» It is 587."))
        #expect(out.contains("Right!\n» 220."))
        #expect(out.contains("Score: 1/2"))
        #expect(out.contains("To review (missed the first time; they come first in the next quiz):\n  - Submission port?"))
        #expect(!core.isQuizActive)
        // Right only on the retry: it stays missed and comes first next time.
        #expect(try store.missedQuestions(learner: "ana", lesson: "submit-lesson") == ["port"])
        let second = Fixtures.run(core, ["quiz submit-lesson", "587", "250", "220"])
        #expect(second.contains("Questions missed last time come first.\n\nSubmission port?"))
        #expect(try store.missedQuestions(learner: "ana", lesson: "submit-lesson") == ["reply"])
        let next = core.evaluate("quiz submit-lesson").text
        #expect(next.contains("Questions missed last time come first."))
        #expect(next.contains("Reply to STARTTLS?"))
        #expect(core.endOfInput().text.contains("(quiz stopped after 0 of 2 question(s); the others do not count)"))
    }
}
