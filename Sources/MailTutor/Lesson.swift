import Foundation

/// A lesson file: explanations, live exercises and a quiz bank.
public struct Lesson: Equatable, Sendable {
    public var id: String
    public var title: LocalizedText
    public var covers: [String]
    public var sections: [Section]
    public var exercises: [Exercise]
    public var quiz: [Question]
    public var location: SourceLocation

    public struct Section: Equatable, Sendable {
        public var id: String
        public var title: LocalizedText
        public var text: LocalizedText
        public var covers: [String]
        public var line: Int
    }

    /// A live exercise: a task played in a scenario's world (or the default world).
    public struct Exercise: Equatable, Sendable {
        public var id: String
        /// Scenario whose world the exercise uses; nil means the course's default world.
        public var scenario: String?
        public var task: LearnerTask
        public var covers: [String]
        public var line: Int
        /// The exercise goes on in the previous exercise's world (same scenario) instead of a
        /// fresh one: "now collect the mail you just sent".
        public var continues = false
    }
}

/// One quiz question.
public struct Question: Equatable, Sendable {
    public var id: String
    public var covers: [String]
    public var prompt: LocalizedText
    public var kind: Kind
    public var explanation: LocalizedText
    public var line: Int
    /// `also-accept:` of a short or predict question: other right answers, accepted but never
    /// shown as "the" answer (a second code as right as the world's, « nom d'utilisateur »).
    public var alsoAccept: [String] = []
    /// `why:` of a choice (single, multiple), by its index in the file: why this wrong option is
    /// wrong, shown when a learner picks it and in the review.
    public var choiceWhy: [Int: LocalizedText] = [:]

    public enum Kind: Equatable, Sendable {
        /// One right choice (index from 0 in the file, shown from 1).
        case single(choices: [LocalizedText], answer: Int)
        /// Every right choice and nothing else.
        case multiple(choices: [LocalizedText], answers: [Int])
        /// A text compared after normalising case, accents and spaces; several accepted answers.
        case short(accepted: [String])
        /// A number within `tolerance` (ports, codes).
        case numeric(answer: Double, tolerance: Double)
        /// Items written in the right order (each in both languages; a protocol word is the same
        /// in both); shown in a fixed shuffled order.
        case ordering(items: [LocalizedText])
        /// The learner predicts the code of the last reply to a session prefix; the right answer
        /// is computed by running the prefix in a fresh world.
        case predict(scenario: String?, session: SessionTarget, prefix: [String])
    }

    public var kindName: String {
        switch kind {
        case .single: return "single"
        case .multiple: return "multiple"
        case .short: return "short"
        case .numeric: return "numeric"
        case .ordering: return "ordering"
        case .predict: return "predict"
        }
    }
}
