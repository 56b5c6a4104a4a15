import Foundation

/// Wraps text to the terminal's width at word boundaries.
///
/// Lesson narration is written in the YAML files with line breaks; `reflow` joins the lines of a
/// paragraph again before wrapping, except lines that are laid out on purpose: indented lines
/// (samples of a session, tables), and list items (`- `, `* `, `1. `), which are wrapped with a
/// hanging indent. Blank lines stay paragraph breaks.
public enum TextLayout {
    /// Display columns of a text: one per character (the course has no double-width script),
    /// none for ANSI colour sequences.
    static func columns<S: StringProtocol>(_ text: S) -> Int {
        var count = 0
        var inEscape = false
        for character in text {
            if inEscape {
                if character.isLetter { inEscape = false }
            } else if character == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }

    /// The text without its ANSI colour sequences (to see which marker opens a line).
    static func visible(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }

    /// Wraps one line: words go to the next line when they would pass `width`; `indent` starts
    /// the continuation lines. A word longer than the line stays whole.
    public static func wrapLine(_ line: String, width: Int, indent: String = "") -> String {
        guard width > 10, columns(line) > width else { return line }
        let leading = String(line.prefix { $0 == " " })
        var out = ""
        var current = leading
        var currentHasWord = false
        for word in line.dropFirst(leading.count).split(separator: " ", omittingEmptySubsequences: true) {
            if currentHasWord, columns(current) + 1 + columns(word) > width {
                out += current + "\n"
                current = indent + word
            } else {
                current += (currentHasWord ? " " : "") + word
            }
            currentHasWord = true
        }
        return out + current
    }

    /// Wraps every line of `text` (explanations, hints, notes): continuation lines keep the
    /// line's own indentation, and lines opened by `» ` or `- ` hang under their text.
    public static func wrap(_ text: String, width: Int?) -> String {
        guard let width, width > 10 else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let string = String(line)
            let shown = visible(string)
            let leading = String(shown.prefix { $0 == " " })
            var hang = leading
            for marker in ["» ", "- ", "* ", "== ", "✓ "] where shown.dropFirst(leading.count).hasPrefix(marker) {
                hang = leading + String(repeating: " ", count: marker.count)
            }
            return wrapLine(string, width: width, indent: hang)
        }.joined(separator: "\n")
    }

    static func isListItem(_ line: Substring) -> Bool {
        if line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("• ") { return true }
        let digits = line.prefix { $0.isNumber }
        return !digits.isEmpty && digits.count <= 2 && line.dropFirst(digits.count).hasPrefix(". ")
    }

    /// Joins the lines of each paragraph of narration and wraps it to `width`; with no width the
    /// lines are joined and left long (the terminal or the reader wraps them).
    public static func reflow(_ text: String, width: Int?) -> String {
        var output: [String] = []
        var paragraph: [String] = []
        var hanging = ""
        func flush() {
            guard !paragraph.isEmpty else { return }
            let joined = paragraph.joined(separator: " ")
            output.append(width.map { wrapLine(joined, width: $0, indent: hanging) } ?? joined)
            paragraph = []
            hanging = ""
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.replacingOccurrences(of: "\t", with: "    ")
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
                output.append("")
            } else if line.hasPrefix(" ") {
                flush()
                output.append(line)
            } else if isListItem(Substring(line)) {
                flush()
                paragraph = [line]
                let marker = line.prefix { !$0.isWhitespace }
                hanging = String(repeating: " ", count: marker.count + 1)
            } else {
                paragraph.append(line)
            }
        }
        flush()
        while output.last == "" { output.removeLast() }
        return output.joined(separator: "\n")
    }
}

/// What the REPL keeps out of the history file, and when a secret just crossed the network.
public enum Secrets {
    static let mask = "****"

    /// The line as it may be written to the history file: passwords, AUTH payloads and SASL
    /// responses are replaced by `****`. `awaitingSASL` is true when the server's last reply
    /// asked for a SASL response (SMTP/POP3 `334`/`+ `, IMAP `+`).
    public static func redact(_ line: String, protocolKind: MailProtocol?, awaitingSASL: Bool) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return line }
        if protocolKind != nil, awaitingSASL, trimmed != "*" { return mask }
        var words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let upper = words.map { $0.uppercased() }
        func masked(from index: Int) -> String {
            guard words.count > index else { return trimmed }
            for i in index..<words.count { words[i] = mask }
            return words.joined(separator: " ")
        }
        guard let kind = protocolKind else {
            // Tutor commands: `cram-md5 USER PASSWORD CHALLENGE`, `b64 \0user\0password`.
            if upper.first == "CRAM-MD5" || upper.first == "!CRAM-MD5" {
                guard words.count >= 3 else { return trimmed }
                words[2] = mask
                return words.joined(separator: " ")
            }
            if ["B64", "!B64"].contains(upper.first ?? ""), trimmed.contains("\\0") { return words[0] + " " + mask }
            return line
        }
        if trimmed.hasPrefix("!") { return "!" + redact(String(trimmed.dropFirst()), protocolKind: nil, awaitingSASL: false) }
        switch kind {
        case .smtp, .dns:
            if upper.first == "AUTH" { return masked(from: 2) }
        case .pop3:
            if upper.first == "PASS" { return masked(from: 1) }
            if upper.first == "APOP" { return masked(from: 2) }
            if upper.first == "AUTH" { return masked(from: 2) }
        case .imap:
            guard upper.count >= 2 else { return line }
            if upper[1] == "LOGIN" { return masked(from: 3) }
            if upper[1] == "AUTHENTICATE" { return masked(from: 3) }
        }
        return line
    }

    /// The credential a line sends, when it sends one: "PASS …", "AUTH PLAIN <base64>",
    /// "a LOGIN user pass", or a SASL response.
    public static func sendsCredential(_ line: String, protocolKind: MailProtocol, awaitingSASL: Bool) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("!") { return false }
        if awaitingSASL { return trimmed != "*" }
        return redact(line, protocolKind: protocolKind, awaitingSASL: false) != line
    }
}

extension String {
    /// The text right-aligned in `width` columns (numbers in tables).
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
