import Foundation
import MailCore
import Yams

/// Variants per learner (`vars:`): a lesson or scenario file declares values that differ from one
/// learner to the next — user names, passwords, subjects, counts, and base64 strings built from
/// them — and uses them as `{{name}}` anywhere in the file: task texts, the world's users, goals,
/// hints, solutions, quiz questions and answers. Each learner draws the values from a seed (their
/// learner name); the same seed always gives the same values, so a replay stays byte-identical,
/// and the empty seed gives every variable its first value (what `check` and the tests replay).
///
/// ```yaml
/// vars:
///   password: {choose: [secret123, blue-kite-7, sunflower42, mint-tea-19]}
///   messages: {number: [2, 5]}
///   plain: {base64: "\\0bob\\0{{password}}"}     # `\0` is a NUL octet
///   cram: {cram-md5: "bob {{password}} PDEyMzQ1QGhvc3Q+"}   # the CRAM-MD5 answer to that challenge
///   box: {choose: ["[{…}, {…}]", "[{…}, {…}, {…}]"]}
///   box-size: {follow: [box, [2, 3]]}                # the item at the index `box` drew
/// ```
public enum Variants {
    /// The top-level `vars:` line and the lines under it (indented, blank or comments), after as
    /// many empty lines as the file has before it, so that the nodes keep their lines. Nil when
    /// there is no such line or more than one, or the file has YAML directives or document markers.
    static func varsEntry(_ text: String) -> String? {
        var text = text
        let found = text.withUTF8 { bytes -> (lines: Int, block: Range<Int>)? in
            guard let base = bytes.baseAddress else { return nil }
            func starts(_ prefix: String.UTF8View, at index: Int) -> Bool {
                bytes.count - index >= prefix.count && bytes[index..<index + prefix.count].elementsEqual(prefix)
            }
            var lineStart = 0, line = 0
            var block: (line: Int, start: Int, end: Int?)?
            while lineStart < bytes.count {
                let first = bytes[lineStart]
                if block != nil, block?.end == nil,
                   ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(first) {
                    block?.end = lineStart
                }
                if starts("vars:".utf8, at: lineStart) {
                    let after = lineStart + 5
                    if after == bytes.count || [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[after]) {
                        if block != nil { return nil }
                        block = (line, lineStart, nil)
                    }
                } else if first == UInt8(ascii: "%") || starts("---".utf8, at: lineStart) || starts("...".utf8, at: lineStart) {
                    return nil
                }
                guard let newline = memchr(base + lineStart, 0x0A, bytes.count - lineStart) else { break }
                lineStart = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                line += 1
            }
            guard let block else { return nil }
            return (block.line, block.start..<(block.end ?? bytes.count))
        }
        guard let found else { return nil }
        return text.withUTF8 { bytes in
            String(repeating: "\n", count: found.lines) + String(decoding: UnsafeBufferPointer(rebasing: bytes[found.block]), as: UTF8.self)
        }
    }

    /// `{{name}}` markers are replaced in the whole file before it is parsed; a marker naming no
    /// variable is left as it is (the parser then reports the text as written).
    public static func expand(_ text: String, seed: String, file: String) -> (text: String, values: [String: String], errors: [Diagnostic]) {
        guard text.hasPrefix("vars:") || text.contains("\nvars:") else { return (text, [:], []) }
        var errors: [Diagnostic] = []
        func fail(_ line: Int, _ fr: String, _ en: String) {
            errors.append(Diagnostic(file: file, line: line, message: LocalizedText(fr: fr, en: en)))
        }
        // Only the `vars:` entry is composed (the rest of the file is parsed after the expansion);
        // the whole file when that entry cannot be cut out on its own.
        let document = varsEntry(text).flatMap { try? Yams.compose(yaml: $0, .basic, .default, .utf8) }
            ?? (try? Yams.compose(yaml: text, .basic, .default, .utf8))
        guard let root = document, let top = root.mapping,
              let vars = top.first(where: { $0.key.scalar?.string == "vars" })?.value else {
            return (text, [:], [])
        }
        guard let entries = vars.mapping else {
            fail((vars.mark?.line ?? 0) + 1, "vars : une table nom → valeur attendue", "vars: expected a mapping name → value")
            return (text, [:], errors)
        }
        var values: [String: String] = [:]
        var order: [String] = []
        /// The index each `choose` drew, for `follow`.
        var chosen: [String: Int] = [:]
        for (keyNode, spec) in entries {
            let line = (keyNode.mark?.line ?? 0) + 1
            guard let name = keyNode.scalar?.string, !name.isEmpty,
                  name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }) else {
                fail(line, "vars : nom de variable invalide", "vars: invalid variable name")
                continue
            }
            // The same name and choices give the same value in every file (a lesson and the scenario
            // whose world it uses agree).
            var random = SplitMix64(seed: SeededRandom.stableHash("\(seed)/\(name)"))
            let first = seed.isEmpty
            let value: String?
            if let scalar = spec.scalar?.string {
                value = scalar
            } else if let m = spec.mapping, m.count == 1, let kind = m.first?.key.scalar?.string, let argument = m.first?.value {
                switch kind {
                case "choose":
                    let choices = argument.sequence?.compactMap { $0.scalar?.string } ?? []
                    if choices.isEmpty { fail(line, "vars.\(name) : choose attend une liste non vide", "vars.\(name): choose expects a non-empty list") }
                    let index = choices.isEmpty ? 0 : (first ? 0 : Int(random.next() % UInt64(choices.count)))
                    value = choices.isEmpty ? nil : choices[index]
                    chosen[name] = index
                case "number":
                    let bounds = argument.sequence?.compactMap { $0.scalar.flatMap { Int($0.string) } } ?? []
                    if bounds.count == 2, bounds[0] <= bounds[1] {
                        let span = UInt64(bounds[1] - bounds[0] + 1)
                        value = String(bounds[0] + (first ? 0 : Int(random.next() % span)))
                    } else {
                        fail(line, "vars.\(name) : number attend [min, max]", "vars.\(name): number expects [min, max]")
                        value = nil
                    }
                case "base64":
                    if let template = argument.scalar?.string {
                        let expanded = substitute(template, values).replacingOccurrences(of: "\\0", with: "\u{0}")
                        value = Data(expanded.utf8).base64EncodedString()
                    } else {
                        fail(line, "vars.\(name) : base64 attend un texte", "vars.\(name): base64 expects a text")
                        value = nil
                    }
                case "cram-md5":
                    // `{cram-md5: "USER PASSWORD CHALLENGE-BASE64"}`: the answer to a server's CRAM-MD5
                    // challenge (RFC 2195), for a world whose challenge is fixed by its seed.
                    let words = argument.scalar.map { substitute($0.string, values).split(separator: " ").map(String.init) } ?? []
                    if words.count == 3, let challenge = Data(base64Encoded: words[2]) {
                        value = ReplCore.cramMD5Response(user: words[0], password: words[1], challenge: Array(challenge)).response
                    } else {
                        fail(line, "vars.\(name) : cram-md5 attend « UTILISATEUR MOT-DE-PASSE DÉFI-BASE64 »",
                             "vars.\(name): cram-md5 expects 'USER PASSWORD CHALLENGE-BASE64'")
                        value = nil
                    }
                case "follow":
                    // `{follow: [VAR, [a, b, c]]}`: the item at the index VAR's `choose` drew (a message list
                    // and its count, drawn together).
                    let parts = argument.sequence.map(Array.init) ?? []
                    let other = parts.first?.scalar?.string ?? ""
                    let items = parts.count == 2 ? (parts[1].sequence?.compactMap { $0.scalar?.string } ?? []) : []
                    if let index = chosen[other], index < items.count {
                        value = items[index]
                    } else {
                        fail(line, "vars.\(name) : follow attend [VARIABLE-choose-DÉFINIE-AVANT, [valeurs, une par choix]]",
                             "vars.\(name): follow expects [CHOOSE-VARIABLE-DEFINED-BEFORE, [values, one per choice]]")
                        value = nil
                    }
                default:
                    fail(line, "vars.\(name) : « \(kind) » inconnu (choose, number, base64, cram-md5, follow)",
                         "vars.\(name): unknown '\(kind)' (choose, number, base64, cram-md5, follow)")
                    value = nil
                }
            } else {
                fail(line, "vars.\(name) : une valeur, ou {choose|number|base64: …}", "vars.\(name): a value, or {choose|number|base64: …}")
                value = nil
            }
            if let value {
                values[name] = value
                order.append(name)
            }
        }
        return (substitute(text, values), values, errors)
    }

    /// Replaces `{{name}}` by its value.
    static func substitute(_ text: String, _ values: [String: String]) -> String {
        guard !values.isEmpty, text.contains("{{") else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else { out += rest[open.lowerBound...]; return out }
            let name = String(after[..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            if let value = values[name] {
                out += value
            } else {
                out += rest[open.lowerBound..<close.upperBound]
            }
            rest = after[close.upperBound...]
        }
        out += rest
        return out
    }
}
