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

public enum AddressParser {
    /// Parses an address-list header value (To, Cc, From, …). Best effort: unparsable pieces are
    /// skipped and counted in `skipped`.
    public static func parseList(_ value: String) -> (entries: [AddressListEntry], skipped: Int) {
        var tokens = tokenize(value)
        var entries: [AddressListEntry] = []
        var skipped = 0
        var groupName: String?
        var groupMembers: [MailAddress] = []
        var phrase: [Token] = []
        var addrSpec: [Token] = []
        var inAngle = false
        var angleAddress: [Token]?

        func flushMailbox() {
            defer { phrase = []; addrSpec = []; angleAddress = nil }
            var mailbox: MailAddress?
            if let angle = angleAddress {
                mailbox = makeAddress(angle, name: phraseText(phrase))
            } else if !phrase.isEmpty {
                mailbox = makeAddress(phrase, name: nil)
            }
            if phrase.isEmpty && angleAddress == nil { return }
            guard let parsed = mailbox else { skipped += 1; return }
            if groupName != nil { groupMembers.append(parsed) } else { entries.append(.mailbox(parsed)) }
        }

        while !tokens.isEmpty {
            let token = tokens.removeFirst()
            if inAngle {
                if case .special(">") = token { inAngle = false; angleAddress = addrSpec; addrSpec = [] } else { addrSpec.append(token) }
                continue
            }
            switch token {
            case .special("<"):
                inAngle = true
                addrSpec = []
            case .special(","):
                flushMailbox()
            case .special(":") where groupName == nil && angleAddress == nil && !phrase.contains(where: { $0 == .special("@") }):
                groupName = phraseText(phrase) ?? ""
                phrase = []
            case .special(";") where groupName != nil:
                flushMailbox()
                entries.append(.group(name: groupName ?? "", members: groupMembers))
                groupName = nil
                groupMembers = []
            default:
                phrase.append(token)
            }
        }
        if inAngle { angleAddress = addrSpec }
        flushMailbox()
        if let name = groupName { entries.append(.group(name: name, members: groupMembers)); skipped += 1 }
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
    }

    static func tokenize(_ value: String) -> [Token] {
        var tokens: [Token] = []
        var chars = Array(value)
        var i = 0
        var atom = ""
        func flushAtom() { if !atom.isEmpty { tokens.append(.atom(atom)); atom = "" } }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case " ", "\t", "\r", "\n":
                flushAtom()
                i += 1
            case "(":
                flushAtom()
                var depth = 0
                while i < chars.count {
                    if chars[i] == "\\" { i += 2; continue }
                    if chars[i] == "(" { depth += 1 }
                    if chars[i] == ")" { depth -= 1; if depth == 0 { i += 1; break } }
                    i += 1
                }
            case "\"":
                flushAtom()
                var text = ""
                i += 1
                while i < chars.count && chars[i] != "\"" {
                    if chars[i] == "\\" && i + 1 < chars.count { i += 1 }
                    if chars[i] != "\r" && chars[i] != "\n" { text.append(chars[i]) }
                    i += 1
                }
                i += 1
                tokens.append(.quoted(text))
            case "<", ">", ",", ":", ";", "@":
                flushAtom()
                tokens.append(.special(c))
                i += 1
            default:
                atom.append(c)
                i += 1
            }
        }
        flushAtom()
        chars = []
        return tokens
    }

    /// Display-name text: words joined by spaces, encoded words decoded (RFC 2047 §6.2).
    static func phraseText(_ tokens: [Token]) -> String? {
        guard !tokens.isEmpty else { return nil }
        var words: [String] = []
        for token in tokens {
            switch token {
            case .atom(let text): words.append(text)
            case .quoted(let text): words.append(text)
            case .special(let c): words.append(String(c))
            }
        }
        let joined = words.joined(separator: " ")
        return EncodedWord.decode(joined).text
    }

    static func makeAddress(_ tokens: [Token], name: String?) -> MailAddress? {
        // addr-spec = local-part "@" domain; an obsolete route (@a,@b:) before it is dropped.
        var parts = tokens
        if let colon = parts.lastIndex(of: .special(":")) { parts = Array(parts[(colon + 1)...]) }
        guard let at = parts.lastIndex(of: .special("@")) else {
            if parts.isEmpty { return name.map { _ in MailAddress(displayName: name, localPart: "", domain: "") } }
            let local = parts.map(tokenText).joined()
            return MailAddress(displayName: name, localPart: local, domain: "")
        }
        let local = parts[..<at].map(tokenText).joined()
        let domain = parts[(at + 1)...].map(tokenText).joined()
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        return MailAddress(displayName: name, localPart: local, domain: domain)
    }

    static func tokenText(_ token: Token) -> String {
        switch token {
        case .atom(let text): return text
        case .quoted(let text):
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .special(let c): return String(c)
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
