import Foundation

/// One problem found in a content file, reported as `file:line: message`.
public struct Diagnostic: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: LocalizedText

    public init(file: String, line: Int, message: LocalizedText) {
        self.file = file
        self.line = line
        self.message = message
    }

    public func render(_ language: Language) -> String { "\(file):\(line): \(message[language])" }
    public var description: String { render(.en) }
}

/// A user-facing error with a text in both languages.
public struct TutorError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: LocalizedText
    public init(_ message: LocalizedText) { self.message = message }
    public init(fr: String, en: String) { self.message = LocalizedText(fr: fr, en: en) }
    public var description: String { message.en }
}
