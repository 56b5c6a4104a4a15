import Foundation

/// Text normalisation for short answers: case, accents and runs of spaces do not matter.
public enum AnswerNormalizer {
    public static func normalize(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// The outcome of one answer.
public struct Grade: Equatable, Sendable {
    public var correct: Bool
    /// The right answer, written for the learner.
    public var expected: String
    public var explanation: LocalizedText
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

    /// Renders a question for the learner (choices numbered from 1).
    public static func render(_ question: Question, language: Language) -> String {
        var out = question.prompt[language] + "\n"
        switch question.kind {
        case let .single(choices, _), let .multiple(choices, _):
            for (index, choice) in choices.enumerated() { out += "  \(index + 1). \(choice[language])\n" }
            if case .multiple = question.kind {
                out += language == .fr ? "(plusieurs réponses, séparées par des espaces)\n" : "(several answers, separated by spaces)\n"
            }
        case let .ordering(items):
            for (position, index) in shownOrder(question).enumerated() { out += "  \(position + 1). \(items[index])\n" }
            out += language == .fr ? "(donnez les numéros dans le bon ordre, ex. 3 1 2)\n" : "(give the numbers in the right order, e.g. 3 1 2)\n"
        case let .predict(_, session, prefix):
            out += "  \(session.host) \(session.port)\(session.tls ? " (TLS)" : "")\n"
            for line in prefix { out += "  C: \(line)\n" }
            out += language == .fr ? "(quel code le serveur répond-il à la dernière ligne ?)\n"
                : "(which code does the server answer to the last line?)\n"
        case .short, .numeric:
            break
        }
        return out
    }

    /// Grades `answer`. `predicted` is the code computed by the world for predict questions.
    public static func grade(_ question: Question, answer: String, predicted: String? = nil, language: Language) -> Grade {
        let trimmed = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        func numbers(_ text: String) -> [Int]? {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
            let values = parts.compactMap { Int($0) }
            return values.count == parts.count && !values.isEmpty ? values : nil
        }
        switch question.kind {
        case let .single(choices, answerIndex):
            let correct = numbers(trimmed) == [answerIndex + 1]
            return Grade(correct: correct, expected: "\(answerIndex + 1). \(choices[answerIndex][language])", explanation: question.explanation)
        case let .multiple(choices, answers):
            let given = numbers(trimmed).map { Array(Set($0.map { $0 - 1 })).sorted() }
            let expected = answers.map { "\($0 + 1). \(choices[$0][language])" }.joined(separator: "; ")
            return Grade(correct: given == answers, expected: expected, explanation: question.explanation)
        case let .short(accepted):
            let normalized = AnswerNormalizer.normalize(trimmed)
            let correct = !normalized.isEmpty && accepted.contains { AnswerNormalizer.normalize($0) == normalized }
            return Grade(correct: correct, expected: accepted.first ?? "", explanation: question.explanation)
        case let .numeric(value, tolerance):
            let given = Double(trimmed.replacingOccurrences(of: ",", with: "."))
            let correct = given.map { abs($0 - value) <= tolerance } ?? false
            let shown = value == value.rounded() ? String(Int(value)) : String(value)
            return Grade(correct: correct, expected: shown, explanation: question.explanation)
        case let .ordering(items):
            let shown = shownOrder(question)
            var given: [Int]?
            if let positions = numbers(trimmed) {
                given = positions.allSatisfy { (1...shown.count).contains($0) } ? positions.map { shown[$0 - 1] } : nil
            } else {
                let names = trimmed.split(separator: ",").map { AnswerNormalizer.normalize(String($0)) }
                let indices = names.compactMap { name in items.firstIndex { AnswerNormalizer.normalize($0) == name } }
                given = indices.count == names.count ? indices : nil
            }
            return Grade(correct: given == Array(items.indices), expected: items.joined(separator: ", "), explanation: question.explanation)
        case .predict:
            let expected = predicted ?? "?"
            let first = trimmed.split(separator: " ").first.map { String($0).uppercased() } ?? ""
            return Grade(correct: predicted != nil && first == expected.uppercased(), expected: expected, explanation: question.explanation)
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
    /// Total of first attempts, the denominator of the score.
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
