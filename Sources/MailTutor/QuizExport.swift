import Foundation

/// A lesson's quiz bank for an LMS: Moodle XML and GIFT, one language per file.
///
/// single → multichoice (one right), multiple → multichoice (fractions sharing 100 among the right
/// choices, wrong ones negative), short → shortanswer, numeric → numerical (with its tolerance),
/// ordering → matching (position → item), predict → shortanswer whose answer is the code the
/// simulated world gives (`predicted`).
public enum QuizExport {
    public enum Format: String, CaseIterable, Sendable {
        case moodleXML = "moodle-xml"
        case gift
    }

    public static func export(_ lessons: [Lesson], format: Format, language: Language,
                              predicted: (Question) -> String?) -> String {
        switch format {
        case .moodleXML: return moodleXML(lessons, language: language, predicted: predicted)
        case .gift: return gift(lessons, language: language, predicted: predicted)
        }
    }

    // MARK: Moodle XML

    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 forbids most control characters.
                if scalar.value < 0x20, scalar != "\n", scalar != "\t" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The fractions Moodle accepts for a share of 100 among `count` answers.
    static func share(_ count: Int) -> String {
        switch count {
        case ...1: return "100"
        case 2: return "50"
        case 3: return "33.33333"
        case 4: return "25"
        case 5: return "20"
        case 6: return "16.66667"
        default: return "10"
        }
    }

    static func prompt(_ question: Question, _ language: Language) -> String {
        var text = question.prompt[language]
        if case let .predict(_, session, prefix) = question.kind {
            text += "\n\(session.host) \(session.port)\(session.tls ? " (TLS)" : "")\n" + prefix.map { "C: \($0)" }.joined(separator: "\n")
            text += language == .fr ? "\n(quel code le serveur renvoie-t-il à la dernière ligne ?)" : "\n(which code does the server send back to the last line?)"
        }
        if case .ordering = question.kind {
            text += language == .fr ? "\n(associez chaque rang à son élément)" : "\n(match each position with its item)"
        }
        return text
    }

    static func moodleXML(_ lessons: [Lesson], language: Language, predicted: (Question) -> String?) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n"
        for lesson in lessons {
            out += "  <question type=\"category\">\n    <category><text>$course$/MailLab/\(xml(lesson.title[language]))</text></category>\n  </question>\n"
            for question in lesson.quiz {
                out += moodleQuestion(question, lessonID: lesson.id, language: language, predicted: predicted)
            }
        }
        return out + "</quiz>\n"
    }

    static func moodleQuestion(_ question: Question, lessonID: String, language: Language, predicted: (Question) -> String?) -> String {
        func answer(_ fraction: String, _ text: String, feedback: String = "") -> String {
            "    <answer fraction=\"\(fraction)\" format=\"plain_text\"><text>\(xml(text))</text><feedback><text>\(xml(feedback))</text></feedback></answer>\n"
        }
        func why(_ index: Int) -> String { question.choiceWhy[index]?[language] ?? "" }
        let type: String
        var body = ""
        switch question.kind {
        case let .single(choices, right):
            type = "multichoice"
            body += "    <single>true</single>\n    <shuffleanswers>1</shuffleanswers>\n    <answernumbering>123</answernumbering>\n"
            for (index, choice) in choices.enumerated() { body += answer(index == right ? "100" : "0", choice[language], feedback: why(index)) }
        case let .multiple(choices, rights):
            type = "multichoice"
            body += "    <single>false</single>\n    <shuffleanswers>1</shuffleanswers>\n    <answernumbering>123</answernumbering>\n"
            let wrong = choices.count - rights.count
            for (index, choice) in choices.enumerated() {
                body += answer(rights.contains(index) ? share(rights.count) : "-" + share(wrong), choice[language], feedback: why(index))
            }
        case let .short(accepted):
            type = "shortanswer"
            body += "    <usecase>0</usecase>\n"
            for text in Array(NSOrderedSet(array: accepted + question.alsoAccept)).compactMap({ $0 as? String }) { body += answer("100", text) }
        case let .numeric(value, tolerance):
            type = "numerical"
            let shown = value == value.rounded() ? String(Int(value)) : String(value)
            body += "    <answer fraction=\"100\" format=\"plain_text\"><text>\(shown)</text><tolerance>\(tolerance)</tolerance>"
                + "<feedback><text></text></feedback></answer>\n"
        case let .ordering(items):
            type = "matching"
            body += "    <shuffleanswers>1</shuffleanswers>\n"
            for (index, item) in items.enumerated() {
                body += "    <subquestion format=\"plain_text\"><text>\(index + 1)</text><answer><text>\(xml(item[language]))</text></answer></subquestion>\n"
            }
        case .predict:
            type = "shortanswer"
            let code = predicted(question) ?? "?"
            body += "    <usecase>0</usecase>\n" + answer("100", code)
            for other in question.alsoAccept where other.uppercased() != code.uppercased() { body += answer("100", other) }
        }
        return "  <question type=\"\(type)\">\n"
            + "    <name><text>\(xml(lessonID))/\(xml(question.id))</text></name>\n"
            + "    <questiontext format=\"plain_text\"><text>\(xml(prompt(question, language)))</text></questiontext>\n"
            + "    <generalfeedback format=\"plain_text\"><text>\(xml(question.explanation[language]))</text></generalfeedback>\n"
            + "    <defaultgrade>1</defaultgrade>\n"
            + body + "  </question>\n"
    }

    // MARK: GIFT

    /// GIFT's special characters `~ = # { } :` and the backslash are escaped with a backslash;
    /// a line break is written `\n`.
    static func gift(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "~", "=", "#", "{", "}", ":", "\\": out += "\\" + String(character)
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func gift(_ lessons: [Lesson], language: Language, predicted: (Question) -> String?) -> String {
        var out = ""
        for lesson in lessons {
            out += "$CATEGORY: $course$/MailLab/\(lesson.title[language].replacingOccurrences(of: "\n", with: " "))\n\n"
            for question in lesson.quiz {
                func feedback(_ index: Int) -> String { question.choiceWhy[index].map { "#" + gift($0[language]) } ?? "" }
                let head = "// \(lesson.id)/\(question.id)\n::\(gift(lesson.id + "/" + question.id))::[plain]\(gift(prompt(question, language)))"
                let answers: String
                switch question.kind {
                case let .single(choices, right):
                    answers = choices.enumerated().map { ($0.offset == right ? "=" : "~") + gift($0.element[language]) + feedback($0.offset) }
                        .joined(separator: " ")
                case let .multiple(choices, rights):
                    let wrong = choices.count - rights.count
                    answers = choices.enumerated().map { index, choice in
                        (rights.contains(index) ? "~%\(share(rights.count))%" : "~%-\(share(wrong))%") + gift(choice[language]) + feedback(index)
                    }.joined(separator: " ")
                case let .short(accepted):
                    answers = Array(NSOrderedSet(array: accepted + question.alsoAccept)).compactMap { $0 as? String }.map { "=" + gift($0) }
                        .joined(separator: " ")
                case let .numeric(value, tolerance):
                    let shown = value == value.rounded() ? String(Int(value)) : String(value)
                    answers = "#\(shown):\(tolerance == tolerance.rounded() ? String(Int(tolerance)) : String(tolerance))"
                case let .ordering(items):
                    answers = items.enumerated().map { "=\($0.offset + 1) -> \(gift($0.element[language]))" }.joined(separator: " ")
                case .predict:
                    let code = predicted(question) ?? "?"
                    answers = ([code] + question.alsoAccept.filter { $0.uppercased() != code.uppercased() }).map { "=" + gift($0) }
                        .joined(separator: " ")
                }
                out += head + " {\(answers)####\(gift(question.explanation[language]))}\n\n"
            }
        }
        return out
    }
}
