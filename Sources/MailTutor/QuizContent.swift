import Foundation
import Yams

/// The quiz-only parts of a lesson file (`choices` with `why:`, `also-accept:`) and the checks
/// `maillab check` makes on a bank (an answer given away by its length or its place).
public enum QuizContent {
    /// A `choices:` list. A choice is `{fr: …, en: …}`, optionally with `why: {fr: …, en: …}`
    /// saying why that option is wrong (returned by the choice's index, with its node for errors).
    static func choices(_ node: Node?, reader r: NodeReader) -> ([LocalizedText], [Int: (Node, LocalizedText)]) {
        var choices: [LocalizedText] = []
        var whys: [Int: (Node, LocalizedText)] = [:]
        for item in node.flatMap({ r.sequence($0, what: "choices") }) ?? [] {
            let hasWhy = item.mapping?.contains { $0.key.scalar?.string == "why" } == true
            guard hasWhy else {
                if let text = r.text(item, what: "choice") { choices.append(text) }
                continue
            }
            guard let fields = r.mapping(item, what: "choice", allowed: ["fr", "en", "why"], required: ["fr", "en"]),
                  let text = r.inlineText(fields, what: "choice") else { continue }
            if let whyNode = fields["why"], let why = r.text(whyNode, what: "choice.why") {
                whys[choices.count] = (whyNode, why)
            }
            choices.append(text)
        }
        return (choices, whys)
    }

    /// The reply codes a predict question may list in `also-accept:`.
    static func isReplyCode(_ text: String) -> Bool {
        let upper = text.uppercased()
        return (upper.count == 3 && upper.allSatisfy(\.isNumber) && ("2"..."5").contains(upper.prefix(1)))
            || ["+OK", "-ERR", "OK", "NO", "BAD", "BYE", "PREAUTH"].contains(upper)
    }

    /// `also-accept:` — a list of texts (or one text), or `{fr: [...], en: [...]}` for a short
    /// answer; for a predict question (`codes`) each entry must be a reply code.
    static func alsoAccept(_ node: Node?, codes: Bool, reader r: NodeReader) -> [String] {
        guard let node else { return [] }
        var values: [(String, Node, String)] = []
        if node.mapping != nil {
            if codes {
                r.error(node, fr: "also-accept : une liste de codes est attendue (ex. [\"500\"])",
                        en: "also-accept: expected a list of codes (e.g. [\"500\"])")
                return []
            }
            guard let fields = r.mapping(node, what: "also-accept", allowed: ["fr", "en"]) else { return [] }
            if fields.entries.isEmpty { r.error(node, fr: "also-accept : vide", en: "also-accept: empty") }
            for language in ["fr", "en"] {
                guard let list = fields[language] else { continue }
                let items = list.sequence != nil ? (r.sequence(list, what: "also-accept.\(language)") ?? []) : [list]
                values += items.compactMap { item in r.string(item, what: "also-accept.\(language)").map { ($0, item, language) } }
            }
        } else {
            let items = node.sequence != nil ? (r.sequence(node, what: "also-accept") ?? []) : [node]
            if items.isEmpty { r.error(node, fr: "also-accept : liste vide", en: "also-accept: empty list") }
            values = items.compactMap { item in r.string(item, what: "also-accept").map { ($0, item, "") } }
        }
        var accepted: [String] = []
        var seen: [String: Set<String>] = [:]
        for (value, item, list) in values {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                r.error(item, fr: "also-accept : réponse vide", en: "also-accept: empty answer")
            } else if codes, !isReplyCode(trimmed) {
                r.error(item, fr: "also-accept : « \(trimmed) » n'est pas un code de réponse (trois chiffres, +OK/-ERR, OK/NO/BAD)",
                        en: "also-accept: '\(trimmed)' is not a reply code (three digits, +OK/-ERR, OK/NO/BAD)")
            } else if !seen[list, default: []].insert(AnswerNormalizer.loose(trimmed)).inserted {
                r.error(item, fr: "also-accept : « \(trimmed) » en double", en: "also-accept: duplicate '\(trimmed)'")
            } else if !accepted.contains(trimmed) {
                // The same answer in both languages' lists is kept once.
                accepted.append(trimmed)
            }
        }
        return accepted
    }
}

/// Whether a single-choice question gives its answer away by the options' lengths or by its
/// place in the file (an LMS that does not shuffle shows the file's order).
public enum QuizBalance {
    /// The right answer is longer than the longest wrong option by this share and this many characters.
    public static let marginShare = 0.30
    public static let marginCharacters = 10
    /// A bank warns when its right answer is the longest option in more than this share of its
    /// single-choice questions (in either language), from `minimumQuestions` questions.
    public static let bankShare = 0.40
    public static let minimumQuestions = 5
    /// ... and when it is the longest in less than this share (a uniform bank of three choices gives a third).
    public static let neverShare = 0.10

    /// True when the right answer is strictly longer than every other option in `language`.
    public static func isLongest(_ question: Question, _ language: Language) -> Bool {
        guard case let .single(choices, answer) = question.kind, choices.count > 1 else { return false }
        let right = choices[answer][language].count
        return choices.indices.allSatisfy { $0 == answer || choices[$0][language].count < right }
    }

    /// (right answer's length, longest wrong option's length) when the right answer is the
    /// longest by the margin in `language`.
    public static func longestByMargin(_ question: Question, _ language: Language) -> (Int, Int)? {
        guard case let .single(choices, answer) = question.kind, choices.count > 1 else { return nil }
        let right = choices[answer][language].count
        let other = choices.indices.filter { $0 != answer }.map { choices[$0][language].count }.max() ?? 0
        guard Double(right) >= Double(other) * (1 + marginShare), right - other >= marginCharacters else { return nil }
        return (right, other)
    }

    /// Figures for a set of questions: single-choice questions, and in how many the right
    /// answer is the longest option, in French and in English.
    public struct Figures: Equatable, Sendable {
        public var singles = 0
        public var longestFR = 0
        public var longestEN = 0
        public var byMargin = 0
        public func share(_ language: Language) -> Double {
            singles == 0 ? 0 : Double(language == .fr ? longestFR : longestEN) / Double(singles)
        }
    }

    public static func figures(_ questions: [Question]) -> Figures {
        var figures = Figures()
        for question in questions {
            guard case .single = question.kind else { continue }
            figures.singles += 1
            if isLongest(question, .fr) { figures.longestFR += 1 }
            if isLongest(question, .en) { figures.longestEN += 1 }
            if longestByMargin(question, .fr) != nil || longestByMargin(question, .en) != nil { figures.byMargin += 1 }
        }
        return figures
    }

    static func percent(_ share: Double) -> Int { Int((share * 100).rounded()) }

    /// The warnings `maillab check` prints (they do not fail it): a question whose right answer
    /// is the longest option by a margin; a lesson's bank where the right answer is the longest
    /// in more than 40 % of its single-choice questions, or sits at the same place in the file
    /// in more than two thirds of them.
    public static func warnings(library: ContentLibrary, including: (String) -> Bool = { _ in true }) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        for lesson in library.lessons where including(lesson.location.file) {
            let file = lesson.location.file
            for question in lesson.quiz {
                for language in Language.allCases {
                    guard let (right, other) = longestByMargin(question, language) else { continue }
                    let name = language == .fr ? "français" : "anglais"
                    warnings.append(Diagnostic(file: file, line: question.line, message: LocalizedText(
                        fr: "question « \(question.id) » : la bonne réponse est de loin le choix le plus long en \(name) (\(right) caractères contre \(other) au plus) ; allongez les autres choix",
                        en: "question '\(question.id)': the right answer is by far the longest choice in \(language == .fr ? "French" : "English") (\(right) characters, the others \(other) at most); make the other choices as long")))
                    break
                }
            }
            let figures = figures(lesson.quiz)
            guard figures.singles >= minimumQuestions else { continue }
            for language in Language.allCases where figures.share(language) > bankShare {
                let count = language == .fr ? figures.longestFR : figures.longestEN
                warnings.append(Diagnostic(file: file, line: lesson.location.line, message: LocalizedText(
                    fr: "quiz de « \(lesson.id) » : la bonne réponse est le choix le plus long dans \(count) questions à choix unique sur \(figures.singles) (\(percent(figures.share(language))) %, en \(language == .fr ? "français" : "anglais")) ; au-delà de \(percent(bankShare)) %, la longueur la trahit",
                    en: "quiz of '\(lesson.id)': the right answer is the longest choice in \(count) of \(figures.singles) single-choice questions (\(percent(figures.share(language))) %, in \(language == .fr ? "French" : "English")); over \(percent(bankShare)) %, length gives it away")))
            }
            // Never the longest is a tell too: "leave out the longest" then halves a three-way guess.
            for language in Language.allCases where figures.share(language) < neverShare {
                warnings.append(Diagnostic(file: file, line: lesson.location.line, message: LocalizedText(
                    fr: "quiz de « \(lesson.id) » : la bonne réponse n'est presque jamais le choix le plus long (\(percent(figures.share(language))) % des \(figures.singles) questions à choix unique, en \(language == .fr ? "français" : "anglais")) ; écarter le plus long devient une ruse",
                    en: "quiz of '\(lesson.id)': the right answer is hardly ever the longest choice (\(percent(figures.share(language))) % of \(figures.singles) single-choice questions, in \(language == .fr ? "French" : "English")); leaving out the longest becomes a trick")))
            }
            var positions: [Int: Int] = [:]
            for question in lesson.quiz {
                if case let .single(_, answer) = question.kind { positions[answer, default: 0] += 1 }
            }
            if let (position, count) = positions.max(by: { $0.value < $1.value }), count * 3 > figures.singles * 2 {
                warnings.append(Diagnostic(file: file, line: lesson.location.line, message: LocalizedText(
                    fr: "quiz de « \(lesson.id) » : la bonne réponse est le choix \(position + 1) du fichier dans \(count) questions à choix unique sur \(figures.singles) ; un LMS qui ne mélange pas les choix la trahit",
                    en: "quiz of '\(lesson.id)': the right answer is choice \(position + 1) in the file in \(count) of \(figures.singles) single-choice questions; an LMS that does not shuffle gives it away")))
            }
        }
        return warnings
    }
}
