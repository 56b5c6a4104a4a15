import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MailTutor

/// Issue 15: the course's quiz bank as Moodle XML and GIFT, each lesson, both languages.
@Suite struct QuizExportTests {
    static func courseLessons() -> [Lesson] {
        let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Lessons").path
        let library = ContentLibrary.load(paths: [lessons])
        return library.lessonIndex.compactMap { library.lesson($0.id) }
    }

    /// Every lesson's bank is well-formed XML in the structure Moodle's importer reads: one
    /// `<question>` per entry (plus the category), each with a name, a text and its right answers.
    @Test(arguments: Language.allCases)
    func moodleXMLOfEveryLessonParses(language: Language) throws {
        let lessons = Self.courseLessons()
        try #require(!lessons.isEmpty)
        for lesson in lessons {
            let text = QuizExport.export([lesson], format: .moodleXML, language: language, predicted: { _ in "250" })
            let document = try XMLDocument(data: Data(text.utf8))
            let root = try #require(document.rootElement())
            #expect(root.name == "quiz")
            let questions = root.elements(forName: "question").filter { $0.attribute(forName: "type")?.stringValue != "category" }
            #expect(questions.count == lesson.quiz.count, "\(lesson.id)")
            for (element, question) in zip(questions, lesson.quiz) {
                #expect(element.elements(forName: "name").first?.stringValue == "\(lesson.id)/\(question.id)")
                let prompt = element.elements(forName: "questiontext").first?.stringValue ?? ""
                #expect(prompt.hasPrefix(question.prompt[language]), "\(question.id)")
                let type = element.attribute(forName: "type")?.stringValue
                let answers = element.elements(forName: "answer")
                switch question.kind {
                case let .single(choices, _):
                    #expect(type == "multichoice")
                    #expect(answers.count == choices.count)
                    #expect(answers.filter { $0.attribute(forName: "fraction")?.stringValue == "100" }.count == 1)
                case let .multiple(choices, rights):
                    #expect(type == "multichoice")
                    let positive = answers.compactMap { $0.attribute(forName: "fraction")?.stringValue.flatMap(Double.init) }.filter { $0 > 0 }
                    #expect(answers.count == choices.count)
                    #expect(positive.count == rights.count)
                    #expect(abs(positive.reduce(0, +) - 100) < 0.01, "\(question.id)")
                case .short, .predict:
                    #expect(type == "shortanswer")
                    #expect(!answers.isEmpty && answers.allSatisfy { $0.attribute(forName: "fraction")?.stringValue == "100" })
                case .numeric:
                    #expect(type == "numerical")
                    #expect(answers.count == 1)
                case let .ordering(items):
                    #expect(type == "matching")
                    #expect(element.elements(forName: "subquestion").count == items.count)
                }
            }
        }
    }

    @Test(arguments: Language.allCases)
    func giftOfEveryLessonHasOneBlockPerQuestion(language: Language) throws {
        for lesson in Self.courseLessons() {
            let text = QuizExport.export([lesson], format: .gift, language: language, predicted: { _ in "250" })
            let blocks = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("// ") }
            #expect(blocks.count == lesson.quiz.count, "\(lesson.id)")
            for (block, question) in zip(blocks, lesson.quiz) {
                #expect(block.contains("::\(QuizExport.gift(lesson.id + "/" + question.id))::"))
                // One answer block: unescaped braces open once and close once.
                var opens = 0, closes = 0, escaped = false
                for character in block {
                    if escaped { escaped = false; continue }
                    if character == "\\" { escaped = true } else if character == "{" { opens += 1 } else if character == "}" { closes += 1 }
                }
                #expect(opens == 1 && closes == 1, "\(question.id): \(block)")
                if case .single = question.kind { #expect(block.contains("{=") || block.contains(" ="), "\(question.id): a right choice") }
            }
        }
    }

    @Test func giftEscapesItsSpecialCharacters() {
        #expect(QuizExport.gift("a=b {c} ~d #e :f \\g") == "a\\=b \\{c\\} \\~d \\#e \\:f \\\\g")
        #expect(QuizExport.xml("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;")
    }
}
