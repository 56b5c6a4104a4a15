/// The three protocols whose replies the catalogue explains.
public enum MailProtocol: String, CaseIterable, Hashable, Sendable {
    case smtp = "SMTP"
    case pop3 = "POP3"
    case imap = "IMAP"
}

/// A text in both languages MailLab speaks.
public struct BilingualText: Hashable, Sendable {
    public let fr: String
    public let en: String

    public init(fr: String, en: String) {
        self.fr = fr
        self.en = en
    }

    /// The French text when `french` is true, the English one otherwise.
    public func text(french: Bool) -> String { french ? fr : en }
}

extension BilingualText {
    /// The argument order the POP3 client texts were written with.
    public init(english: String, french: String) { self.init(fr: french, en: english) }
    public var english: String { en }
    public var french: String { fr }
}

/// What a reply code (or response code) means and what usually causes it.
public struct ReplyCatalogueEntry: Hashable, Sendable {
    public let mailProtocol: MailProtocol
    /// The code as written on the wire: `550`, `5.1.1`, `-ERR`, `IN-USE`, `NO`, `TRYCREATE`.
    public let key: String
    /// A short name.
    public let title: BilingualText
    /// What the code says.
    public let meaning: BilingualText
    /// What usually makes a server send it, and what to do.
    public let usualCauses: BilingualText
}

/// Explanations of SMTP reply codes (RFC 5321 §4.2), enhanced status codes (RFC 3463), POP3
/// status indicators and response codes (RFC 1939, 2449, 3206) and IMAP status responses and
/// response codes (RFC 3501, 4315, 5530, 7889), in French and English — for the tutor's `why`.
public enum ReplyCatalogue {
    /// A basic SMTP reply code.
    public static func smtp(_ code: Int) -> ReplyCatalogueEntry? {
        smtpByCode[code]
    }

    /// An enhanced status code: the exact entry when there is one, otherwise one built from the
    /// meaning of its class and subject (RFC 3463 §3.1–3.2).
    public static func smtpEnhanced(_ code: EnhancedStatusCode) -> ReplyCatalogueEntry? {
        if let exact = enhancedByCode[code] { return exact }
        guard let statusClass = enhancedClasses[code.statusClass], let subject = enhancedSubjects[code.subject] else { return nil }
        return ReplyCatalogueEntry(
            mailProtocol: .smtp, key: code.description,
            title: BilingualText(fr: subject.fr, en: subject.en),
            meaning: BilingualText(fr: statusClass.fr + " " + subject.fr.lowercasedFirst + ".",
                                   en: statusClass.en + " " + subject.en.lowercasedFirst + "."),
            usualCauses: BilingualText(fr: "Le détail \(code.detail) n'est pas dans le catalogue ; lisez le texte de la réponse, qui précise la cause.",
                                       en: "Detail \(code.detail) is not in the catalogue; read the reply's text, which names the cause."))
    }

    /// Everything the catalogue knows about one SMTP reply: its basic code, then its enhanced code.
    public static func explain(_ reply: SMTPReply) -> [ReplyCatalogueEntry] {
        var entries: [ReplyCatalogueEntry] = []
        if let basic = smtp(reply.code) { entries.append(basic) }
        if let enhanced = reply.enhancedCode, let entry = smtpEnhanced(enhanced) { entries.append(entry) }
        return entries
    }

    /// A POP3 status (`+OK`, `-ERR`) or response code (`IN-USE`, `[SYS/TEMP]`, …).
    public static func pop3(_ key: String) -> ReplyCatalogueEntry? {
        pop3ByKey[normalize(key)]
    }

    /// An IMAP status response (`OK`, `NO`, `BAD`, `BYE`, `PREAUTH`, `+`) or response code (`TRYCREATE`, `[ALERT]`, …).
    public static func imap(_ key: String) -> ReplyCatalogueEntry? {
        imapByKey[normalize(key)]
    }

    /// Looks up any key for a protocol: `550`, `5.7.1`, `-ERR`, `[IN-USE]`, `no`, `TryCreate`.
    public static func lookup(_ mailProtocol: MailProtocol, _ key: String) -> ReplyCatalogueEntry? {
        let trimmed = key.catalogueTrimmed
        switch mailProtocol {
        case .smtp:
            if trimmed.utf8.count == 3, let code = Int(trimmed) { return smtp(code) }
            if let enhanced = EnhancedStatusCode(trimmed) { return smtpEnhanced(enhanced) }
            return nil
        case .pop3: return pop3(trimmed)
        case .imap: return imap(trimmed)
        }
    }

    /// Every entry, SMTP codes first, then enhanced codes, POP3 and IMAP, each in key order.
    public static var allEntries: [ReplyCatalogueEntry] {
        smtpByCode.keys.sorted().compactMap { smtpByCode[$0] }
            + enhancedByCode.keys.sorted().compactMap { enhancedByCode[$0] }
            + pop3Entries + imapEntries
    }

    static func normalize(_ key: String) -> String {
        var text = key.catalogueTrimmed.uppercased()
        if text.hasPrefix("[") { text.removeFirst() }
        if text.hasSuffix("]") { text.removeLast() }
        return text
    }

    static let smtpByCode: [Int: ReplyCatalogueEntry] = {
        var table: [Int: ReplyCatalogueEntry] = [:]
        for entry in smtpEntries { table[Int(entry.key) ?? 0] = entry }
        return table
    }()

    static let enhancedByCode: [EnhancedStatusCode: ReplyCatalogueEntry] = {
        var table: [EnhancedStatusCode: ReplyCatalogueEntry] = [:]
        for entry in enhancedEntries { if let code = EnhancedStatusCode(entry.key) { table[code] = entry } }
        return table
    }()

    static let pop3ByKey: [String: ReplyCatalogueEntry] = {
        var table: [String: ReplyCatalogueEntry] = [:]
        for entry in pop3Entries { table[entry.key] = entry }
        return table
    }()

    static let imapByKey: [String: ReplyCatalogueEntry] = {
        var table: [String: ReplyCatalogueEntry] = [:]
        for entry in imapEntries { table[entry.key] = entry }
        return table
    }()
}

fileprivate extension String {
    var catalogueTrimmed: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }

    var lowercasedFirst: String {
        guard let first else { return self }
        return first.lowercased() + dropFirst()
    }
}

/// Builds an entry; arguments in the order title, meaning, causes, French before English.
func entry(_ mailProtocol: MailProtocol, _ key: String, _ titleFR: String, _ titleEN: String,
           _ meaningFR: String, _ meaningEN: String, _ causesFR: String, _ causesEN: String) -> ReplyCatalogueEntry {
    ReplyCatalogueEntry(mailProtocol: mailProtocol, key: key,
                        title: BilingualText(fr: titleFR, en: titleEN),
                        meaning: BilingualText(fr: meaningFR, en: meaningEN),
                        usualCauses: BilingualText(fr: causesFR, en: causesEN))
}
