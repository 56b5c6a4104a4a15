import MailCore

/// Explains a server reply line with MailCore's `ReplyCatalogue`, in both languages.
///
/// SMTP: the basic code, then the enhanced status code (RFC 3463) when the text starts with one.
/// POP3: `+OK` / `-ERR` and a response code in brackets (RFC 2449 §8). IMAP: after the tag, the
/// status (`OK`, `NO`, `BAD`, `BYE`, `PREAUTH`, `+`) and a response code in brackets.
public enum ReplyExplainer {
    public static func explain(_ line: String, protocolKind: MailProtocol) -> LocalizedText? {
        let entries = self.entries(line, protocolKind: protocolKind)
        guard !entries.isEmpty else { return nil }
        func render(_ french: Bool) -> String {
            entries.map { entry in
                "\(entry.key) — \(entry.title.text(french: french))\(french ? " : " : ": ")"
                    + "\(entry.meaning.text(french: french)) \(entry.usualCauses.text(french: french))"
            }.joined(separator: "\n» ")
        }
        return LocalizedText(fr: render(true), en: render(false))
    }

    static func entries(_ line: String, protocolKind: MailProtocol) -> [ReplyCatalogueEntry] {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch protocolKind {
        case .smtp, .dns:
            let digits = line.prefix(3)
            guard digits.count == 3, digits.allSatisfy(\.isASCII), let code = Int(digits) else { return [] }
            var found: [ReplyCatalogueEntry] = []
            if let basic = ReplyCatalogue.smtp(code) { found.append(basic) }
            let rest = line.dropFirst(4).split(separator: " ").first.map(String.init) ?? ""
            if let enhanced = EnhancedStatusCode(rest), let entry = ReplyCatalogue.smtpEnhanced(enhanced) { found.append(entry) }
            return found
        case .pop3:
            guard let status = words.first else { return [] }
            var found: [ReplyCatalogueEntry] = []
            if let entry = ReplyCatalogue.pop3(status) { found.append(entry) }
            if words.count > 1, let code = bracketed(words[1]),
               let entry = ReplyCatalogue.pop3(code) ?? code.split(separator: "/").first.flatMap({ ReplyCatalogue.pop3(String($0)) }) {
                found.append(entry)
            }
            return found
        case .imap:
            let statusIndex = words.first == "+" ? 0 : 1
            guard words.count > statusIndex else { return [] }
            var found: [ReplyCatalogueEntry] = []
            if let entry = ReplyCatalogue.imap(words[statusIndex]) { found.append(entry) }
            if words.count > statusIndex + 1, let code = bracketed(words[statusIndex + 1]), let entry = ReplyCatalogue.imap(code) {
                found.append(entry)
            }
            return found
        }
    }

    /// `[IN-USE]` → `IN-USE`; `[TRYCREATE]` → `TRYCREATE`; a code with arguments (`[UIDNEXT`) keeps its name.
    static func bracketed(_ word: String) -> String? {
        guard word.hasPrefix("[") else { return nil }
        var text = word.dropFirst()
        if text.hasSuffix("]") { text = text.dropLast() }
        return String(text)
    }
}
