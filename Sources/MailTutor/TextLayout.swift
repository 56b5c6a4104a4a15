import Foundation

/// Wraps text to the terminal's width at word boundaries.
///
/// Lesson narration is written in the YAML files with line breaks; `reflow` joins the lines of a
/// paragraph again before wrapping, except lines that are laid out on purpose: indented lines
/// (samples of a session, tables), which keep their layout and, only when wider than the terminal,
/// wrap under their second column; and list items (`- `, `* `, `1. `), which are wrapped with a
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
    /// the continuation lines. A word longer than the line stays whole. The spaces between the
    /// words of the first line are kept (a table's padding); a line laid out in two columns (a
    /// run of two or more spaces within the first two thirds of the width, as in `help`) hangs its
    /// continuation lines under the second column. French guillemets and the high punctuation
    /// that takes a space before it (« mot », « : », « ? ») never start or end a line alone.
    public static func wrapLine(_ line: String, width: Int, indent: String = "") -> String {
        guard width > 10, columns(line) > width else { return line }
        let leading = String(line.prefix { $0 == " " })
        // Each word with the spaces in front of it.
        var words: [(gap: Int, text: String)] = []
        var gap = 0
        var word = ""
        for character in line.dropFirst(leading.count) {
            if character == " " {
                if !word.isEmpty { words.append((gap, word)); gap = 0; word = "" }
                gap += 1
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { words.append((gap, word)) }
        // « goes with the next word; », :, ;, ? and ! with the previous one.
        var glued: [(gap: Int, text: String)] = []
        for entry in words {
            if let last = glued.last, last.text == "«" {
                glued[glued.count - 1] = (last.gap, last.text + String(repeating: " ", count: entry.gap) + entry.text)
            } else if let last = glued.last, ["»", ":", ";", "?", "!"].contains(entry.text) || entry.text.hasPrefix("»") {
                glued[glued.count - 1] = (last.gap, last.text + String(repeating: " ", count: entry.gap) + entry.text)
            } else {
                glued.append(entry)
            }
        }
        var hang = indent
        if !leading.isEmpty, indent == leading, let column = hangColumn(of: line, width: width) {
            hang = String(repeating: " ", count: column)
        }
        var out = ""
        var current = leading
        var currentHasWord = false
        var firstLine = true
        for entry in glued {
            if currentHasWord, columns(current) + 1 + columns(entry.text) > width {
                out += current + "\n"
                current = hang + entry.text
                firstLine = false
            } else {
                let spaces = !currentHasWord ? 0 : (firstLine ? entry.gap : 1)
                current += String(repeating: " ", count: spaces) + entry.text
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
        // An indented row being laid out: when it is wider than the terminal, the lines that
        // continue its text column in the YAML are joined to it before it is wrapped.
        var row: String?
        func flush() {
            if let pending = row {
                output.append(width.map { wrapLine(pending, width: $0, indent: String(pending.prefix { $0 == " " })) } ?? pending)
                row = nil
            }
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
                // Laid out on purpose: kept as written, and wrapped only when wider than the
                // terminal, under its second column (a table's text, a sample's comment).
                if let pending = row, let width, columns(pending) > width,
                   line.prefix(while: { $0 == " " }).count == hangColumn(of: pending, width: width) {
                    row = pending + " " + line.drop { $0 == " " }
                    continue
                }
                flush()
                row = line
            } else if isListItem(Substring(line)) {
                flush()
                paragraph = [line]
                let marker = line.prefix { !$0.isWhitespace }
                hanging = String(repeating: " ", count: marker.count + 1)
            } else {
                if row != nil { flush() }
                paragraph.append(line)
            }
        }
        flush()
        while output.last == "" { output.removeLast() }
        return output.joined(separator: "\n")
    }

    /// Where the continuation lines of an indented row go: under the text of a list item
    /// (`1. `, `- `), else under the last column that starts after a run of two or more spaces
    /// within two thirds of the width (a table's text column, a sample's comment); nil when the
    /// row has neither.
    static func hangColumn(of line: String, width: Int) -> Int? {
        let characters = Array(line)
        let leading = characters.prefix { $0 == " " }.count
        let body = String(characters[leading...])
        if isListItem(Substring(body)) { return leading + body.prefix { !$0.isWhitespace }.count + 1 }
        var found: Int?
        var index = leading
        while index < characters.count {
            if characters[index] == " " {
                var end = index
                while end < characters.count, characters[end] == " " { end += 1 }
                if end - index >= 2, end < characters.count, end <= width * 2 / 3 { found = end }
                index = end
            } else {
                index += 1
            }
        }
        return found
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
