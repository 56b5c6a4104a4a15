import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 15 item 4: every REPL command, walked in both languages on the course's own content and
/// world, quiz review and `why:` notes included; the test fails on a string left in the other
/// language (a French text in English mode, an English one in French mode).
@Suite struct TranslationWalkTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let course = ContentLibrary.load(paths: [repository.appendingPathComponent("Lessons").path,
                                                    repository.appendingPathComponent("Scenarios").path])

    /// Words that only one of the two languages writes (with spaces around them, so that
    /// "la" in "relay" or "the" in "other" do not count).
    static let markers: [Language: [String]] = [
        .fr: [" the ", " is ", " are ", " you ", " your ", " not ", " with ", " which ", " there ", " has ", " this ",
              "Usage:", "Type '", "Unknown", "No such", " and "],
        .en: [" le ", " la ", " les ", " est ", " vous ", " pas ", " avec ", " une ", " des ", " du ", " aucun", " dans ",
              "Usage :", "Tapez", "inconnu", " et "],
    ]

    /// Lines that are protocol or world data, the same in both languages: the server's replies
    /// and the client's lines, sniffed records, DNS answers, a message's headers and body.
    static func isData(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if ["S: ", "C: ", "~ ", "» S: ", ";;"].contains(where: { trimmed.hasPrefix($0) }) { return true }
        if trimmed.range(of: #"^([0-9]{3}[ -]|[a-z][0-9]+ (OK|NO|BAD)|\* |\+OK|-ERR|\+ )"#, options: .regularExpression) != nil { return true }
        if trimmed.range(of: #"^[A-Za-z0-9.-]+\.\t"#, options: .regularExpression) != nil { return true }
        // A stored message as `show` prints it (indented), a mailbox row (`1  uid=1  from  subject`).
        if line.hasPrefix("    ") || trimmed.range(of: #"^[0-9]+ +uid="#, options: .regularExpression) != nil { return true }
        return false
    }

    /// `line` without what it quotes (« … », "…", and '…' in English): a server's words in a
    /// French explanation are not an untranslated string.
    static func unquoted(_ line: String, _ language: Language) -> String {
        var out = line
        var patterns = [#"«[^»]*»"#, #""[^"]*""#]
        if language == .en { patterns.append(#"(?<![A-Za-z])'[^']*'(?![A-Za-z])"#) }
        for pattern in patterns { out = out.replacingOccurrences(of: pattern, with: " ", options: .regularExpression) }
        return out
    }

    /// The markers of the other language found in `text`, outside data lines and quotations.
    static func foreign(_ text: String, _ language: Language) -> [String] {
        var found: [String] = []
        for line in text.split(separator: "\n").map(String.init) where !isData(line) {
            let padded = (" " + unquoted(line, language).replacingOccurrences(of: "\u{00A0}", with: " ") + " ").lowercased()
            for marker in markers[language]! where padded.contains(marker.lowercased()) { found.append("'\(marker)' in: \(line)") }
        }
        return found
    }

    static let walk = [
        "help", "help connect", "lessons", "scenarios", "lesson architecture", "next", "back", "map", "lesson architecture 99",
        "hint", "goals", "reset", "skip", "resume", "progress", "hosts", "dig company.org MX", "dig", "dns", "dns list", "mta",
        "b64 ça", "b64d w6dh", "b64d ###", "cram-md5 alice pw PDEyMzQ1QGV4YW1wbGU+", "cram-md5", "mailbox bob", "show bob INBOX 1",
        "show", "queue", "queue nowhere.test", "down mail2.company.org", "up mail2.company.org", "down", "advance 5m", "advance x",
        "sniff on", "sniff off", "sniff", "why", "why 550", "why 5.7.1", "why -ERR [IN-USE]", "why NO [TRYCREATE]", "why 999",
        "codes", "codes pop3", "codes x400", "glossary", "glossary MX", "glossary nothing-like-it", "replay mx-failover", "next",
        "back", "run", "send alice@example.com bob@company.org Hello", "A short text.", ".", "mailbox bob", "show bob INBOX 1",
        "connect mail.example.com 25", "EHLO pc", "HELLO", "!why", "!hosts", "QUIT", "connect nowhere.test 25", "frobnicate",
        "quiz smpt", "lesson", "clear", "lang",
    ]

    /// Answers a quiz to its end, always wrongly or vaguely, so that every message of the
    /// quiz is met: re-asks, "not quite", the `why:` of a wrong choice, the review.
    static func takeQuiz(_ core: ReplCore, lesson: String, language: Language) -> [String] {
        var outputs = [core.evaluate("quiz \(lesson)").text]
        var question = outputs[0]
        for _ in 0..<400 where core.isQuizActive {
            let text = outputs.last!
            // A question is shown after a blank line; a re-ask is one line.
            if text.contains("\n\n") { question = text }
            let answer: String
            if text.contains(language == .fr ? "Un nombre est attendu" : "A number is expected") {
                answer = "1"
            } else if text.contains(language == .fr ? "Un code de réponse est attendu" : "A reply code is expected") {
                answer = "250"
            } else if question.contains(language == .fr ? "(plusieurs réponses" : "(several answers") {
                answer = "1 2"
            } else if question.contains(language == .fr ? "(donnez les numéros" : "(give the numbers") {
                let count = question.split(separator: "\n").filter { $0.range(of: #"^  [0-9]+\. "#, options: .regularExpression) != nil }.count
                answer = (1...max(count, 1)).reversed().map(String.init).joined(separator: " ")
            } else if question.contains(language == .fr ? "(quel code" : "(which code") {
                answer = "250"
            } else if question.contains("\n  1. ") {
                answer = "1"
            } else {
                answer = "zzz"
            }
            outputs.append(core.evaluate(answer).text)
        }
        return outputs
    }

    @Test func everyCommandSpeaksTheLearnersLanguage() throws {
        try #require(Self.course.diagnostics.isEmpty, "\(Self.course.diagnostics.prefix(3))")
        var outputs: [Language: [(String, String)]] = [:]
        for language in Language.allCases {
            let core = ReplCore(environment: ReplCore.Environment(library: Self.course, driver: SimulatedWorldDriver(),
                                                                  store: try ProgressStore(), learner: "walker",
                                                                  clock: { Date(timeIntervalSince1970: 1_800_000_000) }),
                                language: language)
            var seen: [(String, String)] = [("welcome", core.welcome())]
            for line in Self.walk { seen.append((line, core.evaluate(line).text)) }
            for lesson in ["smtp", "architecture", "imap"] {
                for (index, text) in Self.takeQuiz(core, lesson: lesson, language: language).enumerated() {
                    seen.append(("quiz \(lesson) #\(index)", text))
                }
                #expect(!core.isQuizActive, "quiz \(lesson) did not end")
            }
            outputs[language] = seen
            for (line, text) in seen {
                let foreign = Self.foreign(text, language)
                #expect(foreign.isEmpty, "\(language) '\(line)': \(foreign.prefix(3))")
            }
        }
        // The same command said the same thing in both languages: only data may be identical.
        for ((line, fr), (_, en)) in zip(outputs[.fr]!, outputs[.en]!) where fr == en {
            let words = en.split(separator: "\n").filter { !Self.isData(String($0)) }.joined(separator: " ")
            #expect(Self.markers[.fr]!.allSatisfy { !(" " + words + " ").contains($0) }, "'\(line)' is the same in French: \(en.prefix(200))")
        }
        // The walk met the quiz review and the why: notes in both languages.
        let french = outputs[.fr]!.map(\.1).joined()
        let english = outputs[.en]!.map(\.1).joined()
        #expect(french.contains("À revoir") && french.contains("vous : ") && french.contains("» Choix "), "French review")
        #expect(english.contains("To review") && english.contains("you: ") && english.contains("» Choice "), "English review")
    }

    /// The walk can fail: an English line in French mode, or a French one in English mode, is
    /// caught; protocol lines and quotations are not.
    @Test func theMarkersCatchAStringLeftInTheOtherLanguage() {
        #expect(!Self.foreign("Score : 3/5\nThe question still waits for your answer\n", .fr).isEmpty)
        #expect(!Self.foreign("Usage: show USER [FOLDER] N\n", .fr).isEmpty)
        #expect(!Self.foreign("Not quite.\n» Le serveur répond 502.\n", .en).isEmpty)
        #expect(Self.foreign("S: 502 5.5.2 Error: command not recognized\n« the server is not ready »\n", .fr).isEmpty)
        #expect(Self.foreign("» Choice 2: QUIT is what closes.\n", .en).isEmpty)
    }

    /// Every `why:` and explanation of the bank exists in both languages and differs between
    /// them (a French text pasted in the `en:` field would be the same).
    @Test func everyQuizTextIsWrittenTwice() {
        for lesson in Self.course.lessonIndex.compactMap({ Self.course.lesson($0.id) }) {
            for question in lesson.quiz {
                let written = [question.prompt, question.explanation] + question.choiceWhy.values
                var texts = written
                if case let .single(choices, _) = question.kind { texts += choices }
                if case let .multiple(choices, _) = question.kind { texts += choices }
                // A text of words (not a sum such as "10000 + 587 = 10587.") is written twice.
                for text in written where text.fr.range(of: #"[A-Za-zÀ-ÿ]{3}"#, options: .regularExpression) != nil {
                    #expect(text.fr != text.en, "\(lesson.id)/\(question.id): '\(text.fr)' in both languages")
                }
                // A choice may be protocol text, the same in both (`a1 FETCH 5 BODY.PEEK[HEADER]`).
                for text in texts {
                    #expect(Self.foreign(text.fr, .fr).isEmpty, "\(lesson.id)/\(question.id) fr: \(Self.foreign(text.fr, .fr))")
                    #expect(Self.foreign(text.en, .en).isEmpty, "\(lesson.id)/\(question.id) en: \(Self.foreign(text.en, .en))")
                }
            }
        }
    }
}
