import Foundation
import MailCore

/// Text normalisation for short answers.
///
/// `normalize` folds case, accents and width, reads typographic apostrophes and quotes as plain
/// ones and every kind of space (no-break, thin) as one space. `loose` also drops quotes and
/// guillemets around the answer, trailing `.:?!`, a leading article (le, la, les, l', un, une,
/// the, a, an) and the space in "user name" or the hyphen in "e-mail", so that « le nom
/// d'utilisateur » meets "nom d'utilisateur" and "user name" meets "username".
public enum AnswerNormalizer {
    public static func normalize(_ text: String) -> String {
        var folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        folded = String(folded.map { character -> Character in
            switch character {
            case "\u{2019}", "\u{2018}", "\u{02BC}", "`": return "'"
            case "\u{201C}", "\u{201D}": return "\""
            default: return character
            }
        })
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    static let articles = ["le ", "la ", "les ", "l'", "un ", "une ", "du ", "des ", "the ", "a ", "an "]

    public static func loose(_ text: String) -> String {
        var value = normalize(text)
        let wrappers: [(Character, Character)] = [("\"", "\""), ("'", "'"), ("«", "»"), ("<", ">")]
        var changed = true
        while changed {
            changed = false
            value = value.trimmingCharacters(in: .whitespaces)
            while let last = value.last, ".:?!".contains(last), value.count > 1, !value.hasSuffix("..") {
                value.removeLast()
                changed = true
            }
            for (open, close) in wrappers.dropLast() where value.count >= 2 && value.first == open && value.last == close {
                value = String(value.dropFirst().dropLast())
                changed = true
            }
            if value.first == "«" || value.first == "»" { value.removeFirst(); changed = true }
            if value.last == "»" || value.last == "«" { value.removeLast(); changed = true }
            for article in articles where value.hasPrefix(article) && value.count > article.count {
                value = String(value.dropFirst(article.count))
                changed = true
                break
            }
        }
        // "user name" = "username", "e-mail" = "email" (a hyphen between two letters only).
        var out = ""
        let characters = Array(value)
        for (index, character) in characters.enumerated() {
            if character == " " { continue }
            if character == "-", index > 0, index + 1 < characters.count, characters[index - 1].isLetter,
               characters[index + 1].isLetter { continue }
            out.append(character)
        }
        return out
    }

    /// A protocol command in canonical form: upper case, without its IMAP tag, `.SILENT` and
    /// parentheses, so `a1 STORE 5 -FLAGS.SILENT (\Flagged)` meets `STORE 5 -FLAGS \Flagged`.
    public static func command(_ text: String) -> [String] {
        var words = normalize(text).uppercased().replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
            .replacingOccurrences(of: ".SILENT", with: "")
            .split(separator: " ").map(String.init)
        if words.count > 1, isTag(words[0]) { words.removeFirst() }
        return words
    }

    /// An IMAP tag as learners write them: letters and at least one digit (`a1`, `A001`, `t2`).
    static func isTag(_ word: String) -> Bool {
        word.count <= 12 && word.contains(where: \.isNumber) && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." }
            && !word.allSatisfy(\.isNumber)
    }

    /// True when `text` is written like a protocol verb: one word of capitals (`TOP`, `STATUS`,
    /// `-FLAGS.SILENT`).
    static func isVerb(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return !trimmed.contains(" ") && trimmed.count >= 3 && trimmed.contains(where: \.isLetter)
            && trimmed == trimmed.uppercased() && trimmed.allSatisfy { $0.isLetter || "-+.\\".contains($0) }
    }

    /// The number written in `text`, ignoring a word before it ("port 465", "RFC 5321") and a
    /// unit after it ("5 days", « 5 jours », "638 o"), reading « 4 000 », "4 000" and "4,000"
    /// as four thousand and « 0,5 » as a half. Nil when there is no number or more than one.
    public static func number(_ text: String) -> Double? {
        var value = normalize(text)
        // Thousands written with a space: « 4 000 », "12 500 000".
        let spaced = try? NSRegularExpression(pattern: "(?<![0-9.,])([0-9]{1,3})((?: [0-9]{3})+)(?![0-9])")
        if let spaced {
            while let match = spaced.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)),
                  let range = Range(match.range, in: value) {
                value.replaceSubrange(range, with: value[range].replacingOccurrences(of: " ", with: ""))
            }
        }
        let tokens = value.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" || $0 == "/" }).map(String.init)
        var found: [Double] = []
        var otherWords = 0
        for token in tokens {
            var core = token
            while let last = core.last, ".,;:!?".contains(last) { core.removeLast() }
            if core.isEmpty { continue }
            if core.first!.isNumber || ((core.first == "-" || core.first == "+") && core.dropFirst().first?.isNumber == true) {
                // A unit glued to the number: "465/tcp" was split, "5j", "638o", "2h" are not.
                var digits = core
                while let last = digits.last, last.isLetter { digits.removeLast() }
                if digits.count < core.count { otherWords += 1 }
                guard let parsed = parseNumber(digits) else { return nil }
                found.append(parsed)
            } else if core.hasPrefix("rfc"), let parsed = parseNumber(String(core.dropFirst(3))) {
                found.append(parsed)
            } else {
                otherWords += 1
            }
        }
        guard found.count == 1, otherWords <= 2 else { return nil }
        return found[0]
    }

    static func parseNumber(_ text: String) -> Double? {
        var digits = text
        if let comma = digits.firstIndex(of: ",") {
            let after = digits[digits.index(after: comma)...]
            if after.count == 3, after.allSatisfy(\.isNumber), !digits.contains(".") {
                digits.remove(at: comma)
            } else {
                digits.replaceSubrange(comma...comma, with: ".")
            }
        }
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1 else { return nil }
        return Double(digits)
    }
}

/// The outcome of one answer.
public struct Grade: Equatable, Sendable {
    public var correct: Bool
    /// The right answer, written for the learner.
    public var expected: String
    public var explanation: LocalizedText
    /// The wrong options the answer picked (single, multiple), by their index in the file: the
    /// review shows their `why:`.
    public var wrongChoices: [Int] = []
}

/// An answer that cannot be graded: out of range, not a number, a helper. The quiz asks again.
public struct InvalidAnswer: Error, Equatable, Sendable {
    public var message: LocalizedText
}

/// The answer a "predict the reply" question expects, computed by the world.
public enum ReplyPrediction {
    /// Runs `prefix` in a fresh session and returns the last reply's code: the three digits for
    /// SMTP, `+OK`/`-ERR` for POP3, `OK`/`NO`/`BAD` (the tagged status) for IMAP.
    public static func expectedCode(world: TutorWorld, session target: SessionTarget, prefix: [String]) throws -> String {
        let session = try world.openSession(host: target.host, port: target.port, tls: target.tls)
        defer { session.close() }
        var last: String? = session.greeting.last
        for line in prefix {
            let exchange = session.send(line: line)
            if let reply = exchange.lines.last { last = reply }
        }
        guard let line = last, let code = code(of: line, protocolKind: session.protocolKind) else {
            throw TutorError(fr: "le serveur n'a rien répondu", en: "the server sent no reply")
        }
        return code
    }

    public static func code(of line: String, protocolKind: MailProtocol) -> String? {
        let words = line.split(separator: " ").map(String.init)
        switch protocolKind {
        case .smtp, .dns:
            let digits = line.prefix(3)
            return digits.count == 3 && digits.allSatisfy(\.isNumber) ? String(digits) : nil
        case .pop3:
            return words.first.flatMap { ["+OK", "-ERR"].contains($0.uppercased()) ? $0.uppercased() : nil }
        case .imap:
            guard words.count >= 2 else { return nil }
            let status = words[1].uppercased()
            return ["OK", "NO", "BAD", "PREAUTH", "BYE"].contains(status) ? status : nil
        }
    }
}

/// A reproducible permutation: SplitMix64 seeded with the FNV-1a hash of a text.
public struct SeededShuffle {
    private var state: UInt64

    public init(seed text: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        state = hash
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform permutation of `0..<count` (Fisher–Yates; the modulo bias is below 2^-50).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        guard count > 1 else { return order }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }
}

/// Grades answers to the six kinds of question.
public enum QuizGrader {
    /// The order ordering items are shown in: a fixed permutation drawn from the question id, never
    /// the right order itself.
    public static func shownOrder(_ question: Question) -> [Int] {
        guard case let .ordering(items) = question.kind, items.count > 1 else { return [] }
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in question.id.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var order = Array(items.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let j = Int((state >> 33) % UInt64(i + 1))
            order.swapAt(i, j)
        }
        if order == Array(items.indices) { order.reverse() }
        return order
    }

    /// The order the choices of a single or multiple question are shown in for `seed` (the
    /// learner, the question and the attempt): `order[k]` is the file's index of choice k+1.
    /// Identity for other kinds and for an empty seed.
    public static func choiceOrder(_ question: Question, seed: String) -> [Int] {
        switch question.kind {
        case let .single(choices, _), let .multiple(choices, _):
            if seed.isEmpty { return Array(choices.indices) }
            var shuffle = SeededShuffle(seed: seed + "\u{0}" + question.id)
            return shuffle.permutation(choices.count)
        default:
            return []
        }
    }

    /// Renders a question for the learner (choices numbered from 1, in `order` when given).
    public static func render(_ question: Question, language: Language, order: [Int]? = nil) -> String {
        var out = question.prompt[language] + "\n"
        switch question.kind {
        case let .single(choices, _), let .multiple(choices, _):
            let shown = order ?? Array(choices.indices)
            for (position, index) in shown.enumerated() { out += "  \(position + 1). \(choices[index][language])\n" }
            if case .multiple = question.kind {
                out += language == .fr ? "(plusieurs réponses, séparées par des espaces)\n" : "(several answers, separated by spaces)\n"
            }
        case let .ordering(items):
            for (position, index) in shownOrder(question).enumerated() { out += "  \(position + 1). \(items[index][language])\n" }
            out += language == .fr ? "(donnez les numéros dans le bon ordre, ex. 3 1 2)\n" : "(give the numbers in the right order, e.g. 3 1 2)\n"
        case let .predict(_, session, prefix):
            out += "  \(session.host) \(session.port)\(session.tls ? " (TLS)" : "")\n"
            for line in prefix { out += "  C: \(line)\n" }
            out += language == .fr ? "(quel code le serveur renvoie-t-il à la dernière ligne ?)\n"
                : "(which code does the server send back to the last line?)\n"
        case .short, .numeric:
            break
        }
        return out
    }

    static func numbers(_ text: String) -> [Int]? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
        let values = parts.compactMap { Int($0) }
        return values.count == parts.count && !values.isEmpty ? values : nil
    }

    /// The choice a text names, in either language: its whole text, the text without a
    /// parenthesis ("mail1" for "mail1 (10)"), or a host name whose first label it is.
    static func choiceNamed(_ text: String, choices: [LocalizedText]) -> Int? {
        let given = AnswerNormalizer.loose(text)
        guard !given.isEmpty else { return nil }
        func forms(_ choice: LocalizedText) -> [String] {
            [choice.fr, choice.en].flatMap { value -> [String] in
                let bare = value.replacingOccurrences(of: "\\s*\\([^)]*\\)", with: "", options: .regularExpression)
                return [AnswerNormalizer.loose(value), AnswerNormalizer.loose(bare)]
            }.filter { !$0.isEmpty }
        }
        let exact = choices.indices.filter { forms(choices[$0]).contains(given) }
        if exact.count == 1 { return exact[0] }
        if given.contains("."), let label = given.split(separator: ".").first.map(String.init) {
            let byLabel = choices.indices.filter { forms(choices[$0]).contains(label) }
            if byLabel.count == 1 { return byLabel[0] }
        }
        return nil
    }

    static func invalid(_ fr: String, _ en: String) -> InvalidAnswer { InvalidAnswer(message: LocalizedText(fr: fr, en: en)) }

    /// Checks that `answer` can be graded; the quiz asks again with the message otherwise.
    public static func validate(_ question: Question, answer: String, order: [Int]? = nil) -> InvalidAnswer? {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return invalid("Tapez votre réponse (Ctrl-D arrête le quiz).", "Type your answer (Ctrl-D stops the quiz).") }
        switch question.kind {
        case let .single(choices, _):
            if let values = numbers(trimmed), !(values.count == 1 && choiceNamed(trimmed, choices: choices) != nil
                                                  && !(1...choices.count).contains(values[0])) {
                if values.count != 1 { return invalid("Une seule réponse : un numéro de 1 à \(choices.count).", "One answer only: a number from 1 to \(choices.count).") }
                if !(1...choices.count).contains(values[0]) {
                    return invalid("Il n'y a pas de choix \(values[0]) : tapez un numéro de 1 à \(choices.count).",
                                   "There is no choice \(values[0]): type a number from 1 to \(choices.count).")
                }
                return nil
            }
            if choiceNamed(trimmed, choices: choices) != nil { return nil }
            return invalid("Tapez le numéro d'un choix (1 à \(choices.count)) ou son texte.",
                           "Type the number of a choice (1 to \(choices.count)) or its text.")
        case let .multiple(choices, _):
            let parts = trimmed.split(whereSeparator: { $0 == "," || $0 == ";" }).map(String.init)
            if parts.allSatisfy({ choiceNamed($0, choices: choices) != nil }) { return nil }
            if let values = numbers(trimmed) {
                if let bad = values.first(where: { !(1...choices.count).contains($0) }) {
                    return invalid("Il n'y a pas de choix \(bad) : des numéros de 1 à \(choices.count).",
                                   "There is no choice \(bad): numbers from 1 to \(choices.count).")
                }
                return nil
            }
            return invalid("Tapez les numéros des choix, séparés par des espaces (ex. 1 3).",
                           "Type the numbers of the choices, separated by spaces (e.g. 1 3).")
        case let .ordering(items):
            if let values = numbers(trimmed) {
                if values.count != items.count || Set(values) != Set(1...items.count) {
                    return invalid("Donnez chacun des numéros 1 à \(items.count) une fois, dans le bon ordre.",
                                   "Give each of the numbers 1 to \(items.count) once, in the right order.")
                }
                return nil
            }
            if let names = orderingNames(trimmed, items: items), orderingIndices(names, items: items) != nil { return nil }
            return invalid("Donnez les \(items.count) numéros dans le bon ordre (ex. 3 1 2), ou les éléments séparés par des virgules.",
                           "Give the \(items.count) numbers in the right order (e.g. 3 1 2), or the items separated by commas.")
        case .numeric:
            if AnswerNormalizer.number(trimmed) == nil {
                return invalid("Un nombre est attendu (ex. 25).", "A number is expected (e.g. 25).")
            }
            return nil
        case .predict:
            let first = trimmed.split(separator: " ").first.map { String($0).uppercased() } ?? ""
            let looksLikeCode = (first.count == 3 && first.allSatisfy(\.isNumber))
                || ["+OK", "-ERR", "OK", "NO", "BAD", "BYE", "PREAUTH", "+"].contains(first)
            if !looksLikeCode {
                return invalid("Un code de réponse est attendu : trois chiffres (SMTP), +OK/-ERR (POP3) ou OK/NO/BAD (IMAP).",
                               "A reply code is expected: three digits (SMTP), +OK/-ERR (POP3) or OK/NO/BAD (IMAP).")
            }
            return nil
        case .short:
            return nil
        }
    }

    /// The items an ordering answer names: separated by commas, or by spaces when that gives
    /// exactly the items ("AUTHORIZATION TRANSACTION UPDATE").
    static func orderingNames(_ answer: String, items: [LocalizedText]) -> [String]? {
        let byComma = answer.split(separator: ",").map(String.init)
        if byComma.count == items.count { return byComma }
        let bySpace = answer.split(whereSeparator: \.isWhitespace).map(String.init)
        if bySpace.count == items.count, orderingIndices(bySpace, items: items) != nil { return bySpace }
        return nil
    }

    static func orderingIndices(_ names: [String], items: [LocalizedText]) -> [Int]? {
        let indices = names.compactMap { name -> Int? in
            let given = AnswerNormalizer.loose(name)
            return items.firstIndex { AnswerNormalizer.loose($0.fr) == given || AnswerNormalizer.loose($0.en) == given }
        }
        return indices.count == names.count ? indices : nil
    }

    /// The `why:` of each wrong option the answer picked, numbered as the learner saw it:
    /// "Choice 2: …". Empty when the answer was right or the options have no `why:`.
    public static func whyNot(_ question: Question, _ grade: Grade, language: Language, order: [Int]? = nil) -> [String] {
        guard !grade.correct else { return [] }
        let shown: [Int]
        switch question.kind {
        case let .single(choices, _), let .multiple(choices, _): shown = order ?? Array(choices.indices)
        default: return []
        }
        return grade.wrongChoices.compactMap { index -> (Int, String)? in
            guard let why = question.choiceWhy[index] else { return nil }
            return ((shown.firstIndex(of: index) ?? index) + 1, why[language])
        }.sorted { $0.0 < $1.0 }.map { position, why in
            language == .fr ? "Choix \(position) : \(why)" : "Choice \(position): \(why)"
        }
    }

    /// True when `given` is one of `accepted`, written loosely, or the full command whose verb
    /// is the accepted answer (`TOP 1 0` for TOP, `a1 STATUS INBOX (UNSEEN)` for STATUS).
    static func shortAnswerMatches(_ given: String, accepted: [String]) -> Bool {
        let loose = AnswerNormalizer.loose(given)
        guard !loose.isEmpty else { return false }
        if accepted.contains(where: { AnswerNormalizer.loose($0) == loose }) { return true }
        let givenCommand = AnswerNormalizer.command(given)
        guard let givenVerb = givenCommand.first else { return false }
        for answer in accepted {
            let command = AnswerNormalizer.command(answer)
            if command.count > 1, command == givenCommand { return true }
            if AnswerNormalizer.isVerb(answer), command.count == 1, command[0] == givenVerb, givenCommand.count > 1 { return true }
            // A verb of several words (`UID MOVE`, `UID FETCH`) followed by its arguments.
            let words = answer.split(separator: " ").map(String.init)
            if words.count > 1, words.allSatisfy(AnswerNormalizer.isVerb), givenCommand.count > command.count,
               Array(givenCommand.prefix(command.count)) == command { return true }
        }
        return false
    }

    /// Grades `answer`. `predicted` is the code computed by the world for predict questions;
    /// `order` is the order the choices were shown in (see `choiceOrder`).
    public static func grade(_ question: Question, answer: String, predicted: String? = nil, language: Language,
                             order: [Int]? = nil, alsoAccept: [String] = []) -> Grade {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        switch question.kind {
        case let .single(choices, answerIndex):
            let shown = order ?? Array(choices.indices)
            let position = (shown.firstIndex(of: answerIndex) ?? answerIndex) + 1
            // A number in range is a position; otherwise the text of a choice ("220" among 220, 250, 354).
            let chosen: Int?
            if let values = numbers(trimmed), values.count == 1, (1...shown.count).contains(values[0]) {
                chosen = shown[values[0] - 1]
            } else {
                chosen = choiceNamed(trimmed, choices: choices)
            }
            return Grade(correct: chosen == answerIndex, expected: "\(position). \(choices[answerIndex][language])",
                         explanation: question.explanation, wrongChoices: chosen.map { $0 == answerIndex ? [] : [$0] } ?? [])
        case let .multiple(choices, answers):
            let shown = order ?? Array(choices.indices)
            var given: [Int]?
            if let values = numbers(trimmed), values.allSatisfy({ (1...shown.count).contains($0) }) {
                given = Array(Set(values.map { shown[$0 - 1] })).sorted()
            } else {
                let named = trimmed.split(whereSeparator: { $0 == "," || $0 == ";" }).map { choiceNamed(String($0), choices: choices) }
                given = named.contains(nil) ? nil : Array(Set(named.compactMap { $0 })).sorted()
            }
            let expected = answers.map { index in ((shown.firstIndex(of: index) ?? index) + 1, index) }.sorted { $0.0 < $1.0 }
                .map { "\($0.0). \(choices[$0.1][language])" }.joined(separator: "; ")
            return Grade(correct: given == answers.sorted(), expected: expected, explanation: question.explanation,
                         wrongChoices: (given ?? []).filter { !answers.contains($0) })
        case let .short(accepted):
            let correct = shortAnswerMatches(trimmed, accepted: accepted + question.alsoAccept + alsoAccept)
            return Grade(correct: correct, expected: accepted.first ?? "", explanation: question.explanation)
        case let .numeric(value, tolerance):
            let given = AnswerNormalizer.number(trimmed)
            let correct = given.map { abs($0 - value) <= tolerance } ?? false
            let shown = value == value.rounded() ? String(Int(value)) : String(value)
            return Grade(correct: correct, expected: shown, explanation: question.explanation)
        case let .ordering(items):
            let shown = shownOrder(question)
            var given: [Int]?
            if let positions = numbers(trimmed) {
                given = positions.allSatisfy { (1...shown.count).contains($0) } ? positions.map { shown[$0 - 1] } : nil
            } else {
                given = orderingNames(trimmed, items: items).flatMap { orderingIndices($0, items: items) }
            }
            return Grade(correct: given == Array(items.indices), expected: items.map { $0[language] }.joined(separator: ", "),
                         explanation: question.explanation)
        case .predict:
            let expected = predicted ?? "?"
            let first = trimmed.split(separator: " ").first.map { String($0).uppercased() } ?? ""
            let others = (question.alsoAccept + alsoAccept).filter { $0.uppercased() != expected.uppercased() }
            let right = predicted != nil && (first == expected.uppercased() || others.contains { $0.uppercased() == first })
            let shown = others.isEmpty ? expected : expected + (language == .fr ? " (ou " : " (or ") + others.joined(separator: ", ") + ")"
            return Grade(correct: right, expected: shown, explanation: question.explanation)
        }
    }
}

/// One run through a quiz: questions in order, missed ones asked again at the end (once).
public struct QuizRun: Sendable {
    public let lessonID: String
    public private(set) var queue: [Question]
    public private(set) var score = 0
    public private(set) var asked = 0
    /// Questions answered wrongly at least once in this run.
    public private(set) var missed: [String] = []
    private var retried: Set<String> = []
    /// Number of questions in the bank.
    public let total: Int

    /// `previouslyMissed` questions (from the progress store) come first.
    public init(lesson: Lesson, previouslyMissed: [String]) {
        lessonID = lesson.id
        let first = lesson.quiz.filter { previouslyMissed.contains($0.id) }
        let rest = lesson.quiz.filter { !previouslyMissed.contains($0.id) }
        queue = first + rest
        total = lesson.quiz.count
    }

    public var current: Question? { queue.first }
    /// True when `id` was already answered wrongly in this run and is asked again.
    public func isRetry(_ id: String) -> Bool { retried.contains(id) }
    public var isFinished: Bool { queue.isEmpty }

    /// Records a grade for the current question and moves on. A first wrong answer sends the
    /// question to the end of the queue; only first attempts count in the score.
    public mutating func record(_ grade: Grade) {
        guard let question = queue.first else { return }
        queue.removeFirst()
        let firstAttempt = !retried.contains(question.id)
        if firstAttempt {
            asked += 1
            if grade.correct { score += 1 }
        }
        if !grade.correct, firstAttempt {
            missed.append(question.id)
            retried.insert(question.id)
            queue.append(question)
        }
    }
}
