import Foundation
import Testing
@testable import MailTutor

/// Issue 15: quizzes that cannot be gamed and that take every right way of writing an answer.
@Suite struct QuizFairnessTests {
    static func question(_ kind: Question.Kind, id: String = "q", prompt: String = "?") -> Question {
        Question(id: id, covers: [], prompt: LocalizedText(fr: prompt, en: prompt), kind: kind,
                 explanation: LocalizedText(fr: "parce que", en: "because"), line: 1)
    }

    static func choices(_ count: Int) -> [LocalizedText] {
        (0..<count).map { LocalizedText(fr: "choix \($0)", en: "choice \($0)") }
    }

    /// Over 10,000 learners, the right answer sits at each position within ±10 % of a uniform
    /// share, for every number of choices the bank uses; the order is reproducible.
    @Test(arguments: [2, 3, 4, 5])
    func rightAnswerPositionIsUniform(count: Int) {
        let q = Self.question(.single(choices: Self.choices(count), answer: 0), id: "smtp-port")
        var positions = Array(repeating: 0, count: count)
        for learner in 0..<10_000 {
            let order = QuizGrader.choiceOrder(q, seed: "learner-\(learner)\u{0}0")
            #expect(Set(order) == Set(0..<count))
            positions[order.firstIndex(of: 0)!] += 1
        }
        let expected = 10_000.0 / Double(count)
        for (position, seen) in positions.enumerated() {
            #expect(abs(Double(seen) - expected) <= expected * 0.10, "position \(position + 1): \(seen) of 10000, expected \(expected)")
        }
        #expect(QuizGrader.choiceOrder(q, seed: "ana\u{0}0") == QuizGrader.choiceOrder(q, seed: "ana\u{0}0"))
    }

    /// Over 1,000 seeded shuffles of the course's own bank, the right answer of the
    /// single-choice questions sits at each position within ±10 % of a uniform share (grouped by
    /// number of choices), while in the files it is nearly always choice 1 or 2.
    @Test func rightAnswerPositionIsUniformOverTheCourseBank() throws {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Lessons").path
        let library = ContentLibrary.load(paths: [lessons])
        let questions = library.lessonIndex.compactMap { library.lesson($0.id) }.flatMap(\.quiz)
        var counts: [Int: [Int]] = [:]
        var total = 0
        for question in questions {
            guard case let .single(choices, _) = question.kind else { continue }
            total += 1
            counts[choices.count, default: Array(repeating: 0, count: choices.count)][0] += 0
        }
        try #require(total > 10, "the course bank has single-choice questions")
        for learner in 0..<1000 {
            for question in questions {
                guard case let .single(choices, answer) = question.kind else { continue }
                let order = QuizGrader.choiceOrder(question, seed: "learner-\(learner)\u{0}0")
                counts[choices.count]![order.firstIndex(of: answer)!] += 1
            }
        }
        for (size, positions) in counts.sorted(by: { $0.key < $1.key }) {
            let samples = positions.reduce(0, +)
            guard samples >= 5_000 else { continue }  // too few questions of this size to judge
            let expected = Double(samples) / Double(size)
            for (position, seen) in positions.enumerated() {
                #expect(abs(Double(seen) - expected) <= expected * 0.10,
                        "\(size) choices, position \(position + 1): \(seen) of \(samples)")
            }
        }
    }

    @Test func shownOrderIsGradedAndTheExpectedAnswerNamesTheShownNumber() {
        let q = Self.question(.single(choices: Self.choices(4), answer: 2))
        let order = QuizGrader.choiceOrder(q, seed: "zoe\u{0}3")
        let position = order.firstIndex(of: 2)! + 1
        #expect(QuizGrader.grade(q, answer: "\(position)", language: .en, order: order).correct)
        let wrong = (position % 4) + 1
        let grade = QuizGrader.grade(q, answer: "\(wrong)", language: .en, order: order)
        #expect(!grade.correct)
        #expect(grade.expected == "\(position). choice 2")
        #expect(QuizGrader.render(q, language: .fr, order: order).contains("  \(position). choix 2\n"))
        // The option's text, in either language, counts as well as its number.
        #expect(QuizGrader.grade(q, answer: "Choice 2", language: .fr, order: order).correct)
        #expect(QuizGrader.grade(q, answer: "choix 2", language: .en, order: order).correct)
    }

    @Test(arguments: [
        // (accepted answers, given, right?)
        (["Username:", "le nom d'utilisateur"], "nom d'utilisateur", true),
        (["Username:", "le nom d'utilisateur"], "Le nom d’utilisateur", true),
        (["Username:", "the user name"], "user name", true),
        (["Username:", "the user name"], "username", true),
        (["Username:"], "« Username: »", true),
        (["logiciel de messagerie", "le client de messagerie"], "client de messagerie", true),
        (["Mail User Agent"], "mail-user agent", true),
        (["Mail User Agent"], "mail agent", false),
        (["TOP"], "TOP 1 0", true),
        (["TOP"], "top 1 0", true),
        (["STATUS"], "a1 STATUS INBOX (UNSEEN)", true),
        (["STATUS"], "a1 SELECT INBOX", false),
        (["a1 STORE 5 -FLAGS (\\Flagged)"], "a1 STORE 5 -FLAGS.SILENT (\\Flagged)", true),
        (["a1 STORE 5 -FLAGS (\\Flagged)"], "b7 store 5 -flags \\Flagged", true),
        (["a1 STORE 5 -FLAGS (\\Flagged)"], "a1 STORE 5 +FLAGS (\\Flagged)", false),
        (["-FLAGS.SILENT"], "-FLAGS.SILENT (\\Flagged)", true),
        (["UIDL 3"], "uidl 3", true),
        (["UIDL 3"], "UIDL", false),
        (["_dmarc.example.com"], "dmarc.example.com", false),
        (["..net"], "..net", true),
        (["..net"], ".net", false),
        (["--SEP42--"], "--SEP42", false),
    ])
    func shortAnswerVariants(accepted: [String], given: String, right: Bool) {
        let q = Self.question(.short(accepted: accepted))
        #expect(QuizGrader.grade(q, answer: given, language: .fr).correct == right, "\(given) for \(accepted)")
    }

    @Test(arguments: [
        (465.0, "465", true), (465, "port 465", true), (465, "Port 465.", true), (465, "465/tcp", true),
        (5, "5 days", true), (5, "5 jours", true), (5, "5j", true), (5, "five", false), (5, "4 or 5", false),
        (4000, "4 000", true), (4000, "4\u{202F}000", true), (4000, "4\u{00A0}000", true), (4000, "4,000", true), (4000, "4000 caractères", true),
        (0.5, "0,5", true), (1939, "RFC 1939", true), (1939, "rfc1939", true),
    ])
    func numericAnswerVariants(value: Double, given: String, right: Bool) {
        let q = Self.question(.numeric(answer: value, tolerance: 0))
        #expect(QuizGrader.grade(q, answer: given, language: .en).correct == right, "\(given) for \(value)")
    }

    @Test func hostNameNamesItsChoice() {
        let choices = [LocalizedText(fr: "mail1 (10)", en: "mail1 (10)"), LocalizedText(fr: "mail-backup (30)", en: "mail-backup (30)"),
                       LocalizedText(fr: "Au hasard", en: "At random")]
        let q = Self.question(.single(choices: choices, answer: 0))
        #expect(QuizGrader.grade(q, answer: "mail1.company.org", language: .en).correct)
        #expect(QuizGrader.grade(q, answer: "mail1", language: .en).correct)
        #expect(!QuizGrader.grade(q, answer: "at random", language: .en).correct)
    }

    @Test func predictAcceptsListedAlternatives() {
        let q = Self.question(.predict(scenario: nil, session: SessionTarget(host: "h", port: 25, tls: false), prefix: ["X"]))
        #expect(QuizGrader.grade(q, answer: "500", predicted: "502", language: .en, alsoAccept: ["500"]).correct)
        #expect(!QuizGrader.grade(q, answer: "500", predicted: "502", language: .en).correct)
    }

    @Test(arguments: [
        ("X", "Type the number of a choice (1 to 3) or its text."),
        ("9", "There is no choice 9: type a number from 1 to 3."),
        ("1 2", "One answer only"),
    ])
    func invalidSingleAnswersAreAskedAgain(given: String, message: String) {
        let q = Self.question(.single(choices: Self.choices(3), answer: 0))
        #expect(QuizGrader.validate(q, answer: given)?.message.en.hasPrefix(message) == true)
        #expect(QuizGrader.validate(q, answer: "2") == nil)
        #expect(QuizGrader.validate(q, answer: "choice 1") == nil)
    }

    @Test func invalidAnswersOfOtherKindsAreAskedAgain() {
        #expect(QuizGrader.validate(Self.question(.numeric(answer: 25, tolerance: 0)), answer: "port") != nil)
        #expect(QuizGrader.validate(Self.question(.multiple(choices: Self.choices(3), answers: [0, 1])), answer: "1 7") != nil)
        let items = ["A", "B", "C"].map { LocalizedText(fr: $0, en: $0) }
        #expect(QuizGrader.validate(Self.question(.ordering(items: items)), answer: "1 2") != nil)
        #expect(QuizGrader.validate(Self.question(.ordering(items: items)), answer: "1 2 3") == nil)
        let predict = Self.question(.predict(scenario: nil, session: SessionTarget(host: "h", port: 25, tls: false), prefix: []))
        #expect(QuizGrader.validate(predict, answer: "it refuses") != nil)
        #expect(QuizGrader.validate(predict, answer: "530 5.7.0") == nil)
        #expect(QuizGrader.validate(Self.question(.short(accepted: ["x"])), answer: "anything") == nil)
    }

    @Test func orderingItemsInBothLanguages() throws {
        let yaml = """
        id: states
        title: {fr: États, en: States}
        covers: [smtp.session]
        quiz:
          - id: imap-states
            kind: ordering
            question: {fr: Ordre des états ?, en: Order of the states?}
            items: [{fr: non authentifié, en: not authenticated}, {fr: authentifié, en: authenticated}, LOGOUT]
            explanation: {fr: Dans cet ordre., en: In this order.}
        """
        let library = Fixtures.library([("Lessons/states.yaml", yaml)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let q = try #require(library.lesson("states")?.quiz.first)
        #expect(QuizGrader.render(q, language: .fr).contains("non authentifié"))
        #expect(!QuizGrader.render(q, language: .en).contains("non authentifié"))
        #expect(QuizGrader.grade(q, answer: "non authentifié, authentifié, logout", language: .fr).correct)
        #expect(QuizGrader.grade(q, answer: "not authenticated, authenticated, LOGOUT", language: .fr).correct)
    }

    @Test func quizAtTheReplReasksHelpsAndCountsOnlyAskedQuestions() throws {
        let store = try ProgressStore()
        let core = Fixtures.core(library: Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)]), store: store)
        _ = core.evaluate("quiz submit-lesson")
        #expect(core.evaluate("X").text.contains("A number is expected"))
        let helper = core.evaluate("!b64d VXNlcm5hbWU6").text
        #expect(helper.contains("Username:"))
        #expect(helper.contains("the question still waits for your answer"))
        #expect(core.evaluate("!lesson submit-lesson").text.contains("only the helpers work"))
        #expect(core.isQuizActive)
        #expect(core.evaluate("port 587").text.contains("Right!"))
        #expect(core.evaluate("7").text.contains("There is no choice 7: type a number from 1 to 2."))
        let stopped = core.endOfInput().text
        #expect(stopped.contains("Score: 1/1 (quiz stopped after 1 of 2 question(s); the others do not count)"), "\(stopped)")
        #expect(core.lastQuizScore?.total == 1)
        // Only the question answered is in the store; the invalid inputs were not graded.
        let answers = try store.export().filter { $0.kind == "answer" }
        #expect(answers.map(\.answer) == ["port 587"])
        #expect(answers.first?.question == "Submission port?")
        #expect(answers.first?.language == "en")
        #expect(answers.first?.date != nil)
    }

    @Test func choicesOfTwoLearnersAreShuffledDifferentlyButStably() throws {
        let lesson = try #require(Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)]).lesson("submit-lesson"))
        let reply = lesson.quiz[1]
        var orders = Set<[Int]>()
        for learner in ["ana", "bob", "carol", "dan", "eve", "fay", "gus", "hal"] {
            orders.insert(QuizGrader.choiceOrder(reply, seed: "\(learner)\u{0}0"))
        }
        #expect(orders.count == 2, "both orders of two choices appear among eight learners")
    }
}
