// RFC 5322 §3.4 addresses: mailboxes with display names, address lists and groups.

import Foundation

/// A mailbox: an optional display name and an addr-spec `local@domain`.
public struct MailAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The decoded display name (RFC 2047 words decoded, quotes removed), if any.
    public var displayName: String?
    public var localPart: String
    public var domain: String

    public init(displayName: String? = nil, localPart: String, domain: String) {
        self.displayName = displayName
        self.localPart = localPart
        self.domain = domain
    }

    /// Parses `alice@example.com` or `Alice <alice@example.com>`; nil when it is not one mailbox.
    public init?(_ text: String) {
        let entries = AddressParser.parseList(text).entries
        guard entries.count == 1, case .mailbox(let mailbox) = entries[0] else { return nil }
        self = mailbox
    }

    /// `local@domain`.
    public var address: String { domain.isEmpty ? localPart : localPart + "@" + domain }

    /// The header form: `Name <local@domain>`, with the name quoted when it holds specials and
    /// RFC 2047-encoded when it is not ASCII (RFC 5322 §3.4, RFC 2047 §5).
    public var headerFormat: String {
        guard let name = displayName, !name.isEmpty else { return address }
        return AddressParser.formatPhrase(name) + " <" + address + ">"
    }

    public var description: String { headerFormat }
}

/// One entry of an address list (RFC 5322 §3.4 `address = mailbox / group`).
public enum AddressListEntry: Sendable, Equatable, Hashable {
    case mailbox(MailAddress)
    case group(name: String, members: [MailAddress])

    /// The mailboxes this entry stands for (a group's members).
    public var mailboxes: [MailAddress] {
        switch self {
        case .mailbox(let mailbox): return [mailbox]
        case .group(_, let members): return members
        }
    }

    public var headerFormat: String {
        switch self {
        case .mailbox(let mailbox): return mailbox.headerFormat
        case .group(let name, let members):
            return AddressParser.formatPhrase(name) + ":" + members.map { " " + $0.headerFormat }.joined(separator: ",") + ";"
        }
    }
}

/// An address as IMAP's ENVELOPE reports it (RFC 3501 §7.4.2): the display name as written (quotes
/// removed, RFC 2047 encoded words left encoded, a trailing comment used when there is no phrase),
/// and the obsolete source route (`@relay:`) kept.
public struct RawMailAddress: Sendable, Equatable, Hashable {
    public var name: String?
    /// The source route without its final colon, e.g. `@relay` (RFC 5322 §4.4 obs-route).
    public var route: String?
    public var localPart: String
    public var domain: String

    public init(name: String? = nil, route: String? = nil, localPart: String, domain: String) {
        self.name = name
        self.route = route
        self.localPart = localPart
        self.domain = domain
    }
}

/// One entry of an address list with raw display names (see ``RawMailAddress``).
public enum RawAddressListEntry: Sendable, Equatable, Hashable {
    case mailbox(RawMailAddress)
    case group(name: String, members: [RawMailAddress])
}

public enum AddressParser {
    /// Parses an address-list header value (To, Cc, From, …). Best effort: unparsable pieces are
    /// skipped and counted in `skipped`. Display names are decoded (RFC 2047 §6.2).
    public static func parseList(_ value: String) -> (entries: [AddressListEntry], skipped: Int) {
        let scanned = scan(value)
        func address(_ mailbox: ScannedMailbox) -> MailAddress {
            MailAddress(displayName: phraseText(mailbox.phrase), localPart: mailbox.localPart, domain: mailbox.domain)
        }
        let entries = scanned.entries.map { entry -> AddressListEntry in
            switch entry {
            case .mailbox(let mailbox): return .mailbox(address(mailbox))
            case .group(let phrase, let members): return .group(name: phraseText(phrase) ?? "", members: members.map(address))
            }
        }
        return (entries, scanned.skipped)
    }

    /// Parses an address list the way IMAP's ENVELOPE needs it: display names raw (encoded words kept,
    /// RFC 3501 §7.4.2), a comment after a bare addr-spec taken as the name, source routes kept.
    public static func parseRawList(_ value: String) -> [RawAddressListEntry] {
        func address(_ mailbox: ScannedMailbox) -> RawMailAddress {
            let phrase = rawPhraseText(mailbox.phrase)
            return RawMailAddress(name: phrase ?? mailbox.comment, route: mailbox.route,
                                  localPart: mailbox.localPart, domain: mailbox.domain)
        }
        return scan(value).entries.map { entry in
            switch entry {
            case .mailbox(let mailbox): return .mailbox(address(mailbox))
            case .group(let phrase, let members): return .group(name: rawPhraseText(phrase) ?? "", members: members.map(address))
            }
        }
    }

    /// A mailbox as the grammar found it, before the caller decides how to present its display name.
    struct ScannedMailbox {
        /// Display-name words of a `phrase <addr-spec>` mailbox (empty for a bare addr-spec).
        var phrase: [Token]
        /// The last comment seen outside the angle brackets, e.g. `bob@x.org (Bob)`.
        var comment: String?
        var route: String?
        var localPart: String
        var domain: String
    }

    enum ScannedEntry {
        case mailbox(ScannedMailbox)
        case group(phrase: [Token], members: [ScannedMailbox])
    }

    /// The RFC 5322 §3.4 address-list grammar, shared by the decoded and the raw views.
    static func scan(_ value: String) -> (entries: [ScannedEntry], skipped: Int) {
        var tokens = tokenize(value)[...]
        var entries: [ScannedEntry] = []
        var skipped = 0
        var groupPhrase: [Token]?
        var groupMembers: [ScannedMailbox] = []
        var phrase: [Token] = []
        var addrSpec: [Token] = []
        var comment: String?
        var inAngle = false
        var angleAddress: [Token]?

        func flushMailbox() {
            defer { phrase = []; addrSpec = []; angleAddress = nil; comment = nil }
            var mailbox: ScannedMailbox?
            if let angle = angleAddress {
                mailbox = makeMailbox(angle, phrase: phrase)
            } else if !phrase.isEmpty {
                mailbox = makeMailbox(phrase, phrase: nil)
            }
            if phrase.isEmpty && angleAddress == nil { return }
            guard var parsed = mailbox else { skipped += 1; return }
            parsed.comment = comment
            if groupPhrase != nil { groupMembers.append(parsed) } else { entries.append(.mailbox(parsed)) }
        }

        while let token = tokens.popFirst() {
            if inAngle {
                if case .special(">") = token { inAngle = false; angleAddress = addrSpec; addrSpec = [] }
                else if case .comment = token {} else { addrSpec.append(token) }
                continue
            }
            switch token {
            case .comment(let text):
                comment = text
            case .special("<"):
                inAngle = true
                addrSpec = []
            case .special(","):
                flushMailbox()
            case .special(":") where groupPhrase == nil && angleAddress == nil && !phrase.contains(where: { $0 == .special("@") }):
                groupPhrase = phrase
                phrase = []
                comment = nil
            case .special(";") where groupPhrase != nil:
                flushMailbox()
                entries.append(.group(phrase: groupPhrase ?? [], members: groupMembers))
                groupPhrase = nil
                groupMembers = []
            default:
                phrase.append(token)
            }
        }
        if inAngle { angleAddress = addrSpec }
        flushMailbox()
        if let name = groupPhrase { entries.append(.group(phrase: name, members: groupMembers)); skipped += 1 }
        return (entries, skipped)
    }

    /// All mailboxes of an address list, groups flattened.
    public static func mailboxes(_ value: String) -> [MailAddress] {
        parseList(value).entries.flatMap(\.mailboxes)
    }

    enum Token: Equatable {
        case atom(String)
        case quoted(String)
        case special(Character)
        /// A comment's text without its outer parentheses (RFC 5322 §3.2.2).
        case comment(String)
    }

    /// Splits a header value into atoms, quoted strings, specials and comments. Works on the UTF-8
    /// bytes: every delimiter is ASCII, and a multi-byte character only ever sits inside a token.
    static func tokenize(_ value: String) -> [Token] {
        var value = value
        return value.withUTF8 { tokenize(bytes: $0) }
    }

    static func tokenize(bytes chars: UnsafeBufferPointer<UInt8>) -> [Token] {
        var tokens: [Token] = []
        let count = chars.count
        var i = 0
        var atomStart = -1
        func flushAtom(_ end: Int) {
            if atomStart >= 0 {
                tokens.append(.atom(String(decoding: UnsafeBufferPointer(rebasing: chars[atomStart..<end]), as: UTF8.self)))
                atomStart = -1
            }
        }
        while i < count {
            let c = chars[i]
            switch c {
            case UInt8(ascii: " "), 0x09, 0x0D, 0x0A:
                flushAtom(i)
                i += 1
            case UInt8(ascii: "("):
                flushAtom(i)
                var depth = 0
                var text: [UInt8] = []
                while i < count {
                    if chars[i] == UInt8(ascii: "\\") {
                        if i + 1 < count { text.append(chars[i + 1]) }
                        i += 2
                        continue
                    }
                    if chars[i] == UInt8(ascii: "(") { depth += 1; if depth == 1 { i += 1; continue } }
                    if chars[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                    if chars[i] != 0x0D && chars[i] != 0x0A { text.append(chars[i]) }
                    i += 1
                }
                let trimmed = Bytes.trimWSP(String(decoding: text, as: UTF8.self))
                if !trimmed.isEmpty { tokens.append(.comment(trimmed)) }
            case UInt8(ascii: "\""):
                flushAtom(i)
                var text: [UInt8] = []
                i += 1
                while i < count && chars[i] != UInt8(ascii: "\"") {
                    if chars[i] == UInt8(ascii: "\\") && i + 1 < count { i += 1 }
                    if chars[i] != 0x0D && chars[i] != 0x0A { text.append(chars[i]) }
                    i += 1
                }
                i += 1
                tokens.append(.quoted(String(decoding: text, as: UTF8.self)))
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"):
                flushAtom(i)
                tokens.append(.special(Character(Unicode.Scalar(c))))
                i += 1
            default:
                if atomStart < 0 { atomStart = i }
                i += 1
            }
        }
        flushAtom(count)
        return tokens
    }

    /// Display-name text: words joined by spaces, encoded words decoded (RFC 2047 §6.2).
    static func phraseText(_ tokens: [Token]) -> String? {
        rawPhraseText(tokens).map { EncodedWord.decode($0).text }
    }

    /// Display-name text as written: words joined by spaces, quotes removed, encoded words kept.
    static func rawPhraseText(_ tokens: [Token]) -> String? {
        var words: [String] = []
        for token in tokens {
            switch token {
            case .atom(let text): words.append(text)
            case .quoted(let text): words.append(text)
            case .special(let c): words.append(String(c))
            case .comment: continue
            }
        }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    /// An addr-spec `local-part "@" domain`, after an optional obsolete route `@a,@b:`. `phrase` is
    /// the display name of an angle-bracket form (nil for a bare addr-spec): with one, an empty `<>`
    /// still makes an (empty) mailbox.
    static func makeMailbox(_ tokens: [Token], phrase: [Token]?) -> ScannedMailbox? {
        var parts = tokens
        var route: String?
        if let colon = parts.lastIndex(of: .special(":")) {
            route = parts[..<colon].map(tokenText).joined()
            parts = Array(parts[(colon + 1)...])
        }
        func mailbox(_ local: String, _ domain: String) -> ScannedMailbox {
            ScannedMailbox(phrase: phrase ?? [], comment: nil, route: route, localPart: local, domain: domain)
        }
        guard let at = parts.lastIndex(of: .special("@")) else {
            if parts.isEmpty { return (phrase ?? []).isEmpty ? nil : mailbox("", "") }
            return mailbox(parts.map(tokenText).joined(), "")
        }
        let local = at == 1 ? tokenText(parts[0]) : parts[..<at].map(tokenText).joined()
        let domain = at == parts.count - 2 ? tokenText(parts[at + 1]) : parts[(at + 1)...].map(tokenText).joined()
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        return mailbox(local, domain)
    }

    static func tokenText(_ token: Token) -> String {
        switch token {
        case .atom(let text): return text
        case .quoted(let text):
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .special(let c): return String(c)
        case .comment: return ""
        }
    }

    /// A display name ready for a header: as is when it is a run of atoms, quoted when it holds
    /// specials, RFC 2047-encoded when it is not ASCII.
    public static func formatPhrase(_ name: String) -> String {
        if EncodedWord.needsEncoding(name) { return EncodedWord.encode(name, phrase: true) }
        let specials: Set<Character> = ["(", ")", "<", ">", "[", "]", ":", ";", "@", "\\", ",", ".", "\""]
        if name.contains(where: { specials.contains($0) }) || name.hasPrefix(" ") || name.hasSuffix(" ") {
            return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return name
    }

    /// Message identifiers of In-Reply-To / References (`<id@host>` tokens), in order.
    public static func messageIDs(_ value: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            ids.append(String(rest[open...close]))
            rest = rest[rest.index(after: close)...]
        }
        return ids
    }
}
