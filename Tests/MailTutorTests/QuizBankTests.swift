import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 15, the bank itself: `also-accept:` for predict and short answers, `why:` per wrong
/// choice, and a bank whose right answers are not given away by their length or place.
@Suite struct QuizBankTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let course: ContentLibrary = ContentLibrary.load(paths: [repository.appendingPathComponent("Lessons").path,
                                                                    repository.appendingPathComponent("Scenarios").path])

    static func question(_ lesson: String, _ id: String) throws -> Question {
        let found = try #require(course.lesson(lesson), "lesson \(lesson)")
        return try #require(found.quiz.first { $0.id == id }, "question \(lesson)/\(id)")
    }

    static func bank(_ quiz: String) -> String {
        """
        id: bank
        title: {fr: Banque, en: Bank}
        covers: [smtp.session]
        quiz:
        \(quiz)
        """
    }

    // MARK: also-accept

    /// Every accepted variant issue 15 names, on the real question of the course's bank.
    @Test(arguments: [
        ("smtp", "auth-login-prompt", "nom d'utilisateur"),
        ("smtp", "auth-login-prompt", "« nom d'utilisateur »"),
        ("smtp", "auth-login-prompt", "user name"),
        ("architecture", "mua-name", "client de messagerie"),
        ("architecture", "mua-name", "« client de messagerie »"),
        ("pop3", "top-command", "TOP 1 0"),
        ("imap", "commands-status", "a1 STATUS INBOX (UNSEEN)"),
        ("imap-folders", "flags-remove", "-FLAGS.SILENT (\\Flagged)"),
        ("imap-folders", "flags-remove", "a1 STORE 5 -FLAGS.SILENT (\\Flagged)"),
        ("smtp", "implicit-port", "port 465"),
        ("smtp-routing", "bounce-lifetime", "5 days"),
        ("smtp-routing", "bounce-lifetime", "5 jours"),
        ("message-format", "base64-size", "4 000"),
        ("message-format", "base64-size", "4\u{202F}000"),
        // Also accepted, from the audit of every short answer.
        ("architecture", "mua-name", "Message User Agent"),
        ("architecture", "mda-name", "Message Delivery Agent"),
        ("architecture", "msa-port", "Message Submission Agent"),
        ("security", "spf-record-type", "un enregistrement TXT"),
        ("capstone", "primary-mx", "10 mail.lycee.test"),
        ("troubleshooting", "phone-fix", "mail1.company.org:993"),
        ("comparison", "move-command", "a1 UID MOVE 3 Archive"),
    ])
    func issueVariantsPassOnTheRealQuestion(lesson: String, id: String, answer: String) throws {
        let question = try Self.question(lesson, id)
        for language in Language.allCases {
            #expect(QuizGrader.validate(question, answer: answer) == nil, "\(lesson)/\(id): '\(answer)' is asked again")
            #expect(QuizGrader.grade(question, answer: answer, language: language).correct, "\(lesson)/\(id): '\(answer)' refused")
        }
    }

    @Test(arguments: [
        ("imap-folders", "flags-remove", "a1 STORE 5 +FLAGS (\\Flagged)"),
        ("imap-folders", "flags-remove", "-FLAGS (\\Seen)"),
        ("pop3", "top-command", "RETR 1"),
        ("smtp", "implicit-port", "port 587"),
        ("architecture", "mua-name", "Mail Transfer Agent"),
        ("comparison", "move-command", "UID COPY 3 Archive"),
    ])
    func wrongAnswersStayWrong(lesson: String, id: String, answer: String) throws {
        #expect(!QuizGrader.grade(try Self.question(lesson, id), answer: answer, language: .en).correct, "'\(answer)' accepted")
    }

    /// The predict questions where another code is as right: the world's code and the listed one pass.
    @Test(arguments: [
        ("smtp", "predict-unknown-command", "502", "500"),
        ("smtp", "predict-auth-cleartext", "530", "538"),
        ("security", "predict-auth-login-clear", "530", "538"),
        ("imap", "predict-select-early", "BAD", "NO"),
        ("imap", "predict-fetch-unselected", "BAD", "NO"),
    ])
    func predictAcceptsTheCodeAsRightAsTheWorlds(lesson: String, id: String, world: String, other: String) throws {
        let question = try Self.question(lesson, id)
        guard case let .predict(scenarioID, target, prefix) = question.kind else { Issue.record("not predict"); return }
        let scenario = scenarioID.flatMap { Self.course.scenario($0) }
        let fresh = try SimulatedWorldDriver().makeWorld(scenario: scenario, seed: scenario?.seed ?? 1)
        let predicted = try ReplyPrediction.expectedCode(world: fresh, session: target, prefix: prefix)
        #expect(predicted == world, "the world answers \(predicted)")
        #expect(question.alsoAccept == [other])
        for given in [world, other, "\(other) 5.5.1 whatever"] {
            #expect(QuizGrader.grade(question, answer: given, predicted: predicted, language: .en).correct, "\(given)")
        }
        let wrong = world == "BAD" ? "OK" : "250"
        #expect(!QuizGrader.grade(question, answer: wrong, predicted: predicted, language: .en).correct)
        let grade = QuizGrader.grade(question, answer: wrong, predicted: predicted, language: .fr)
        #expect(grade.expected == "\(world) (ou \(other))")
    }

    @Test func alsoAcceptIsParsedForShortAndPredict() throws {
        let library = Fixtures.library([("Lessons/bank.yaml", Self.bank("""
          - id: prompt
            kind: short
            question: {fr: Que demande-t-il ?, en: What does it ask for?}
            accept: {fr: [identifiant], en: [username]}
            also-accept: {fr: ["nom d'usager"], en: [login name]}
            explanation: {fr: Le nom., en: The name.}
          - id: unknown
            kind: predict
            question: {fr: Code ?, en: Code?}
            session: {host: mail.example.com, port: 25}
            prefix: [HELLO x]
            also-accept: ["500"]
            explanation: {fr: 500 ou 502., en: 500 or 502.}
          - id: folder
            kind: short
            question: {fr: Commande ?, en: Command?}
            accept: {fr: [SELECT], en: [SELECT]}
            also-accept: EXAMINE
            explanation: {fr: SELECT., en: SELECT.}
        """))])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let quiz = try #require(library.lesson("bank")).quiz
        #expect(quiz[0].alsoAccept == ["nom d'usager", "login name"])
        #expect(quiz[1].alsoAccept == ["500"])
        #expect(quiz[2].alsoAccept == ["EXAMINE"])
        #expect(QuizGrader.grade(quiz[0], answer: "Login name", language: .fr).correct)
        #expect(QuizGrader.grade(quiz[0], answer: "le nom d'usager", language: .en).correct)
        #expect(QuizGrader.grade(quiz[0], answer: "username", language: .en).expected == "identifiant")
        #expect(QuizGrader.grade(quiz[2], answer: "a1 EXAMINE INBOX", language: .en).correct)
        // The LMS exports carry the extra answers.
        let gift = QuizExport.export([try #require(library.lesson("bank"))], format: .gift, language: .en) { _ in "502" }
        #expect(gift.contains("=login name"))
        #expect(gift.contains("{=502 =500####"))
    }

    @Test(arguments: [
        ("""
          - id: q
            kind: predict
            question: {fr: Code ?, en: Code?}
            session: {host: mail.example.com, port: 25}
            prefix: [HELLO x]
            also-accept: [refused]
            explanation: {fr: Non., en: No.}
        """, 10, "also-accept: 'refused' is not a reply code"),
        ("""
          - id: q
            kind: predict
            question: {fr: Code ?, en: Code?}
            session: {host: mail.example.com, port: 25}
            prefix: [HELLO x]
            also-accept: {fr: ["500"], en: ["500"]}
            explanation: {fr: Non., en: No.}
        """, 10, "also-accept: expected a list of codes"),
        ("""
          - id: q
            kind: short
            question: {fr: Mot ?, en: Word?}
            accept: {fr: [x], en: [x]}
            also-accept: [y, ""]
            explanation: {fr: Non., en: No.}
        """, 9, "also-accept: empty answer"),
        ("""
          - id: q
            kind: short
            question: {fr: Mot ?, en: Word?}
            accept: {fr: [x], en: [x]}
            also-accept: [y, "Y."]
            explanation: {fr: Non., en: No.}
        """, 9, "also-accept: duplicate 'Y.'"),
        ("""
          - id: q
            kind: short
            question: {fr: Mot ?, en: Word?}
            accept: {fr: [x], en: [x]}
            also-accept: {fr: [y], de: [z]}
            explanation: {fr: Non., en: No.}
        """, 9, "also-accept: unknown key 'de'"),
        ("""
          - id: q
            kind: single
            question: {fr: Lequel ?, en: Which?}
            choices: [{fr: a, en: a}, {fr: b, en: b}]
            answer: 1
            also-accept: [b]
            explanation: {fr: Non., en: No.}
        """, 10, "single question: 'also-accept' does not apply"),
        ("""
          - id: q
            kind: numeric
            question: {fr: Port ?, en: Port?}
            answer: 25
            also-accept: ["587"]
            explanation: {fr: Non., en: No.}
        """, 9, "numeric question: 'also-accept' does not apply"),
        ("""
          - id: q
            kind: single
            question: {fr: Lequel ?, en: Which?}
            choices:
              - {fr: a, en: a, why: {fr: parce que, en: because}}
              - {fr: b, en: b}
            answer: 1
            explanation: {fr: Non., en: No.}
        """, 9, "choice 1: 'why' explains a wrong choice"),
        ("""
          - id: q
            kind: single
            question: {fr: Lequel ?, en: Which?}
            choices:
              - {fr: a, en: a}
              - {fr: b, en: b, why: {fr: parce que}}
            answer: 1
            explanation: {fr: Non., en: No.}
        """, 10, "choice.why: missing English translation (en)"),
        ("""
          - id: q
            kind: single
            question: {fr: Lequel ?, en: Which?}
            choices:
              - {fr: a, en: a}
              - {fr: b, why: {fr: parce que, en: because}}
            answer: 1
            explanation: {fr: Non., en: No.}
        """, 10, "choice: missing key 'en'"),
    ])
    func badShapesAreFileLineErrors(quiz: String, line: Int, message: String) {
        let library = Fixtures.library([("Lessons/bank.yaml", Self.bank(quiz))])
        let rendered = library.diagnostics.map { $0.render(.en) }
        #expect(rendered.contains { $0.hasPrefix("Lessons/bank.yaml:\(line): ") && $0.contains(message) }, "\(rendered)")
    }

    // MARK: why per choice

    static let whyBank = bank("""
      - id: rset
        kind: single
        question: {fr: Que fait RSET ?, en: What does RSET do?}
        choices:
          - {fr: Il ferme la connexion, en: It closes the connection, why: {fr: "C'est QUIT qui ferme.", en: QUIT is what closes.}}
          - {fr: Il annule la transaction, en: It cancels the transaction}
          - {fr: Il redémarre le serveur, en: It restarts the server}
        answer: 2
        explanation: {fr: RSET annule., en: RSET cancels.}
      - id: ext
        kind: multiple
        question: {fr: Extensions ?, en: Extensions?}
        choices:
          - {fr: SIZE, en: SIZE}
          - {fr: RCPT, en: RCPT, why: {fr: RCPT est une commande de base., en: RCPT is a base command.}}
          - {fr: PIPELINING, en: PIPELINING}
        answer: [1, 3]
        explanation: {fr: SIZE et PIPELINING., en: SIZE and PIPELINING.}
    """)

    @Test func whyIsShownForTheWrongChoicePickedAndInTheReview() throws {
        let library = Fixtures.library([("Lessons/bank.yaml", Self.whyBank)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let quiz = try #require(library.lesson("bank")).quiz
        #expect(quiz[0].choiceWhy == [0: LocalizedText(fr: "C'est QUIT qui ferme.", en: "QUIT is what closes.")])
        let order = QuizGrader.choiceOrder(quiz[0], seed: "ana\u{0}0")
        let closes = order.firstIndex(of: 0)! + 1
        let grade = QuizGrader.grade(quiz[0], answer: "\(closes)", language: .fr, order: order)
        #expect(!grade.correct)
        #expect(QuizGrader.whyNot(quiz[0], grade, language: .fr, order: order) == ["Choix \(closes) : C'est QUIT qui ferme."])
        #expect(QuizGrader.whyNot(quiz[0], grade, language: .en, order: order) == ["Choice \(closes): QUIT is what closes."])
        // A wrong option without why:, or a right answer, shows nothing more.
        let restarts = order.firstIndex(of: 2)! + 1
        #expect(QuizGrader.whyNot(quiz[0], QuizGrader.grade(quiz[0], answer: "\(restarts)", language: .en, order: order),
                                  language: .en, order: order).isEmpty)
        #expect(QuizGrader.grade(quiz[1], answer: "SIZE, RCPT, PIPELINING", language: .en).wrongChoices == [1])

        for (language, now, review) in [(Language.en, "» Choice", "you: "), (.fr, "» Choix", "vous : ")] {
            let core = Fixtures.core(library: library, language: language)
            _ = core.evaluate("quiz bank")
            let answered = core.evaluate(language == .fr ? "Il ferme la connexion" : "It closes the connection").text
            #expect(answered.contains("\(now) "), "\(answered)")
            #expect(answered.contains(language == .fr ? "C'est QUIT qui ferme." : "QUIT is what closes."))
            _ = core.evaluate("SIZE, RCPT, PIPELINING")
            _ = core.evaluate(language == .fr ? "Il annule la transaction" : "It cancels the transaction")
            let end = core.evaluate("SIZE, PIPELINING").text
            #expect(end.contains(review + (language == .fr ? "Il ferme la connexion" : "It closes the connection")), "\(end)")
            #expect(end.contains(language == .fr ? "RCPT est une commande de base." : "RCPT is a base command."), "\(end)")
        }
    }

    @Test func exportsCarryWhyAsFeedback() throws {
        let lesson = try #require(Fixtures.library([("Lessons/bank.yaml", Self.whyBank)]).lesson("bank"))
        let gift = QuizExport.export([lesson], format: .gift, language: .fr) { _ in nil }
        #expect(gift.contains("~Il ferme la connexion#C'est QUIT qui ferme."), "\(gift)")
        let xml = QuizExport.export([lesson], format: .moodleXML, language: .en) { _ in nil }
        #expect(xml.contains("<text>It closes the connection</text><feedback><text>QUIT is what closes.</text></feedback>"))
    }

    /// The course: at least 15 questions explain their wrong options, in both languages.
    @Test func courseExplainsWrongOptions() {
        let questions = Self.course.lessonIndex.compactMap { Self.course.lesson($0.id) }.flatMap(\.quiz)
        let explained = questions.filter { !$0.choiceWhy.isEmpty }
        #expect(explained.count >= 15, "\(explained.count) questions with why:")
        for question in explained {
            for why in question.choiceWhy.values {
                #expect(!why.fr.isEmpty && !why.en.isEmpty && why.fr != why.en, "\(question.id)")
            }
        }
    }

    // MARK: balance

    /// The course's single-choice questions: the right answer is the longest option in at most
    /// 40 % of each lesson's bank, in each language, never by a wide margin, and check says nothing.
    @Test func courseBankIsNotGivenAwayByLength() throws {
        let lessons = Self.course.lessonIndex.compactMap { Self.course.lesson($0.id) }
        let all = QuizBalance.figures(lessons.flatMap(\.quiz))
        try #require(all.singles > 50)
        for language in Language.allCases {
            #expect(all.share(language) <= QuizBalance.bankShare, "\(language): \(all.share(language))")
            #expect(all.share(language) >= 0.2, "\(language): the right answer should still be the longest now and then")
        }
        #expect(all.byMargin == 0)
        let warnings = QuizBalance.warnings(library: Self.course)
        #expect(warnings.isEmpty, "\(warnings.map { $0.render(.en) })")
    }

    @Test func checkWarnsAboutALongestAnswerAndAGuessableBank() {
        var quiz = ""
        for index in 1...6 {
            quiz += """
              - id: q\(index)
                kind: single
                question: {fr: Question \(index) ?, en: Question \(index)?}
                choices:
                  - {fr: "la bonne réponse, longue et détaillée \(index)", en: "the right answer, long and detailed \(index)"}
                  - {fr: non, en: no}
                  - {fr: jamais, en: never}
                answer: 1
                explanation: {fr: Voilà., en: There.}

            """
        }
        let library = Fixtures.library([("Lessons/bank.yaml", Self.bank(quiz))])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let warnings = QuizBalance.warnings(library: library).map { $0.render(.en) }
        #expect(warnings.filter { $0.contains("is by far the longest choice") }.count == 6, "\(warnings)")
        #expect(warnings.contains { $0.contains("the longest choice in 6 of 6 single-choice questions (100 %, in French)") })
        #expect(warnings.contains { $0.contains("the longest choice in 6 of 6 single-choice questions (100 %, in English)") })
        #expect(warnings.contains { $0.contains("choice 1 in the file in 6 of 6") })
        #expect(QuizBalance.warnings(library: library).first?.render(.fr).contains("de loin le choix le plus long en français") == true)
        // The other way round: never the longest is a tell as well.
        let never = quiz.replacingOccurrences(of: "{fr: non, en: no}", with: "{fr: \"non, et de loin la plus longue des réponses proposées\", en: \"no, and by far the longest of the answers offered\"}")
        let other = QuizBalance.warnings(library: Fixtures.library([("Lessons/bank.yaml", Self.bank(never))])).map { $0.render(.en) }
        #expect(other.contains { $0.contains("hardly ever the longest choice (0 % of 6 single-choice questions, in English)") }, "\(other)")
    }
}
