import Foundation

/// The two languages every learner-facing text exists in.
public enum Language: String, CaseIterable, Sendable, Codable {
    case fr
    case en

    /// `--lang` wins; else `LC_ALL`, then `LANG` starting with `fr` gives French; else English.
    public static func resolve(option: String?, environment: [String: String]) -> Language {
        if let option, let lang = Language(rawValue: option.lowercased()) { return lang }
        for key in ["LC_ALL", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                return value.lowercased().hasPrefix("fr") ? .fr : .en
            }
        }
        return .en
    }
}

/// A text a learner may see, in French and English.
public struct LocalizedText: Equatable, Sendable, Codable {
    public var fr: String
    public var en: String

    public init(fr: String, en: String) {
        self.fr = fr
        self.en = en
    }

    public subscript(_ language: Language) -> String {
        switch language {
        case .fr: return fr
        case .en: return en
        }
    }
}
