import Foundation
import Yams

/// Reads a composed YAML tree strictly, collecting `file:line` diagnostics instead of throwing.
///
/// Every reader call names the node it looks at, so every error carries that node's line
/// (Yams gives it through `Node.mark`).
final class NodeReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func line(_ node: Node?) -> Int { node?.mark?.line ?? 1 }

    func error(_ node: Node?, fr: String, en: String) {
        diagnostics.append(Diagnostic(file: file, line: line(node), message: LocalizedText(fr: fr, en: en)))
    }

    func error(line: Int, fr: String, en: String) {
        diagnostics.append(Diagnostic(file: file, line: line, message: LocalizedText(fr: fr, en: en)))
    }

    /// Composes the text; a syntax error becomes a diagnostic on the line Yams reports.
    ///
    /// With Yams' basic resolver every scalar is a string (no regular expression runs per
    /// scalar to guess a type): the reader converts numbers, booleans and durations itself. Yams
    /// still rejects a mapping's repeated key (hashing the keys once); the error names its line.
    /// The encoding is given (UTF-8): Yams' default reads the process environment for every
    /// parser it makes, which was a tenth of `maillab lessons`' time.
    func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text, .basic, .default, .utf8) else {
                error(line: 1, fr: "fichier vide", en: "empty file")
                return nil
            }
            return node
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            // Yams marks the first key; the error belongs to the repeated one below it.
            for key in duplicates {
                let line = Self.repeatedKeyLine(key, in: text, after: context.mark) ?? context.mark.line
                error(line: line, fr: "clé « \(key) » en double", en: "duplicate key '\(key)'")
            }
            return nil
        } catch let yamlError as YamlError {
            let (line, problem) = Self.describe(yamlError)
            error(line: line, fr: "YAML invalide : \(problem)", en: "invalid YAML: \(problem)")
            return nil
        } catch {
            self.error(line: 1, fr: "YAML invalide", en: "invalid YAML")
            return nil
        }
    }

    /// The line of the next `key:` at the same column as the first one.
    static func repeatedKeyLine(_ key: String, in text: String, after mark: Mark) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line < lines.count else { return nil }
        for index in mark.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let column = mark.column - 1
            guard column >= 0, column <= scalars.count else { continue }
            let rest = String(String.UnicodeScalarView(scalars[column...]))
            if rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") { return index + 1 }
        }
        return nil
    }

    private static func describe(_ error: YamlError) -> (Int, String) {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return (mark.line, problem)
        case let .reader(problem, _, _, _):
            return (1, problem)
        default:
            return (1, "\(error)")
        }
    }

    // MARK: Mappings

    /// A mapping's fields, after checking keys against the allowed set.
    struct Fields {
        let node: Node
        var entries: [(key: String, keyNode: Node, value: Node)]
        /// The keys read so far, for the duplicate check (linear, not quadratic, in the keys).
        var seen = Set<String>()

        subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        func has(_ key: String) -> Bool { seen.contains(key) }
        var keys: [String] { entries.map(\.key) }
    }

    /// Reads a mapping whose keys must be among `allowed` and include `required`.
    /// Unknown and duplicate keys are errors on their own line.
    func mapping(_ node: Node?, what: String, allowed: [String], required: [String] = []) -> Fields? {
        guard let node else { return nil }
        guard case let .mapping(mapping) = node else {
            error(node, fr: "\(what) : une table (clé: valeur) est attendue", en: "\(what): expected a mapping (key: value)")
            return nil
        }
        var fields = Fields(node: node, entries: [])
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error(keyNode, fr: "\(what) : clé non textuelle", en: "\(what): key is not a plain text")
                continue
            }
            if fields.has(key) {
                error(keyNode, fr: "\(what) : clé « \(key) » en double", en: "\(what): duplicate key '\(key)'")
                continue
            }
            if !allowed.contains(key) {
                error(keyNode,
                      fr: "\(what) : clé inconnue « \(key) » (attendu : \(allowed.joined(separator: ", ")))",
                      en: "\(what): unknown key '\(key)' (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            fields.entries.append((key, keyNode, value))
            fields.seen.insert(key)
        }
        for key in required where !fields.has(key) {
            error(node, fr: "\(what) : clé « \(key) » manquante", en: "\(what): missing key '\(key)'")
        }
        return fields
    }

    // MARK: Scalars

    func string(_ node: Node?, what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            error(node, fr: "\(what) : un texte est attendu", en: "\(what): expected a text")
            return nil
        }
        return scalar.string
    }

    func nonEmptyString(_ node: Node?, what: String) -> String? {
        guard let value = string(node, what: what) else { return nil }
        if Self.isBlank(value) {
            error(node, fr: "\(what) : texte vide", en: "\(what): empty text")
            return nil
        }
        return value
    }

    /// Spaces and tabs only (what `CharacterSet.whitespaces` would trim in content files), without
    /// Foundation's character sets.
    static func isBlank(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    static func trimmingBlanks(_ text: String) -> Substring {
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return text[first...last]
    }

    func int(_ node: Node?, what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Int(Self.trimmingBlanks(text)) else {
            error(node, fr: "\(what) : un nombre entier est attendu", en: "\(what): expected an integer")
            return nil
        }
        if let range, !range.contains(value) {
            error(node, fr: "\(what) : \(value) hors de \(range.lowerBound)…\(range.upperBound)",
                  en: "\(what): \(value) is outside \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    func bool(_ node: Node?, what: String) -> Bool? {
        guard let node else { return nil }
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, fr: "\(what) : true ou false attendu", en: "\(what): expected true or false")
            return nil
        }
    }

    func duration(_ node: Node?, what: String) -> Int? {
        guard let text = string(node, what: what) else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            error(node, fr: "\(what) : durée invalide « \(text) » (exemples : 30s, 5m, 2h, 1d)",
                  en: "\(what): invalid duration '\(text)' (examples: 30s, 5m, 2h, 1d)")
            return nil
        }
        return seconds
    }

    func choice<T: RawRepresentable>(_ node: Node?, what: String, as: T.Type) -> T? where T: CaseIterable, T.RawValue == String {
        guard let text = string(node, what: what) else { return nil }
        if let value = T(rawValue: text) { return value }
        let options = T.allCases.map(\.rawValue).joined(separator: ", ")
        error(node, fr: "\(what) : « \(text) » inconnu (attendu : \(options))",
              en: "\(what): unknown value '\(text)' (expected one of: \(options))")
        return nil
    }

    func sequence(_ node: Node?, what: String) -> [Node]? {
        guard let node else { return nil }
        guard case let .sequence(sequence) = node else {
            error(node, fr: "\(what) : une liste est attendue", en: "\(what): expected a list")
            return nil
        }
        return Array(sequence)
    }

    /// A list of texts; a single text is accepted as a one-element list.
    func strings(_ node: Node?, what: String) -> [String]? {
        guard let node else { return nil }
        if node.scalar != nil { return string(node, what: what).map { [$0] } }
        guard let items = sequence(node, what: what) else { return nil }
        return items.compactMap { string($0, what: what) }
    }

    /// A `{fr: …, en: …}` text; a missing language is an error naming it.
    func text(_ node: Node?, what: String) -> LocalizedText? {
        guard let fields = mapping(node, what: what, allowed: ["fr", "en"]) else { return nil }
        let fr = fields["fr"].flatMap { nonEmptyString($0, what: "\(what).fr") }
        let en = fields["en"].flatMap { nonEmptyString($0, what: "\(what).en") }
        if !fields.has("fr") {
            error(fields.node, fr: "\(what) : traduction française (fr) manquante", en: "\(what): missing French translation (fr)")
        }
        if !fields.has("en") {
            error(fields.node, fr: "\(what) : traduction anglaise (en) manquante", en: "\(what): missing English translation (en)")
        }
        guard let fr, let en else { return nil }
        return LocalizedText(fr: fr, en: en)
    }

    /// Reads `fr:`/`en:` keys held directly in a larger mapping (goals, hints with extra keys).
    func inlineText(_ fields: Fields, what: String) -> LocalizedText? {
        let fr = fields["fr"].flatMap { nonEmptyString($0, what: "\(what).fr") }
        let en = fields["en"].flatMap { nonEmptyString($0, what: "\(what).en") }
        if !fields.has("fr") {
            error(fields.node, fr: "\(what) : traduction française (fr) manquante", en: "\(what): missing French translation (fr)")
        }
        if !fields.has("en") {
            error(fields.node, fr: "\(what) : traduction anglaise (en) manquante", en: "\(what): missing English translation (en)")
        }
        guard let fr, let en else { return nil }
        return LocalizedText(fr: fr, en: en)
    }
}
