/// A `BODY[section]` specifier (RFC 3501 §6.4.5): a part path and an optional text part.
public struct IMAPSection: Hashable, Sendable, CustomStringConvertible {
    public enum Text: Hashable, Sendable {
        case header
        case headerFields([String])
        case headerFieldsNot([String])
        case text
        case mime
    }
    /// `[1, 2]` for `1.2`; empty for the whole message.
    public var part: [Int]
    public var text: Text?
    public init(part: [Int] = [], text: Text? = nil) { self.part = part; self.text = text }

    public var description: String {
        var out = part.map(String.init).joined(separator: ".")
        if let text {
            if !out.isEmpty { out += "." }
            switch text {
            case .header: out += "HEADER"
            case .text: out += "TEXT"
            case .mime: out += "MIME"
            case .headerFields(let f): out += "HEADER.FIELDS (" + f.joined(separator: " ") + ")"
            case .headerFieldsNot(let f): out += "HEADER.FIELDS.NOT (" + f.joined(separator: " ") + ")"
            }
        }
        return out
    }
}

/// One data item of FETCH (RFC 3501 §6.4.5).
public enum IMAPFetchAttribute: Hashable, Sendable {
    case envelope, flags, internalDate, uid
    case rfc822, rfc822Header, rfc822Size, rfc822Text
    /// `BODY` without a section: the non-extensible structure.
    case bodyStructure(extensible: Bool)
    /// `BODY[section]<origin.count>` or `BODY.PEEK[…]`.
    case section(IMAPSection, partial: IMAPPartial?, peek: Bool)

    /// Expands the ALL, FAST and FULL macros.
    public static let macroAll: [IMAPFetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope]
    public static let macroFast: [IMAPFetchAttribute] = [.flags, .internalDate, .rfc822Size]
    public static let macroFull: [IMAPFetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope, .bodyStructure(extensible: false)]

    public var text: String {
        switch self {
        case .envelope: return "ENVELOPE"
        case .flags: return "FLAGS"
        case .internalDate: return "INTERNALDATE"
        case .uid: return "UID"
        case .rfc822: return "RFC822"
        case .rfc822Header: return "RFC822.HEADER"
        case .rfc822Size: return "RFC822.SIZE"
        case .rfc822Text: return "RFC822.TEXT"
        case .bodyStructure(let ext): return ext ? "BODYSTRUCTURE" : "BODY"
        case .section(let s, let partial, let peek):
            return (peek ? "BODY.PEEK[" : "BODY[") + s.description + "]" + (partial.map { "<\($0.origin).\($0.count)>" } ?? "")
        }
    }
}

/// `<origin.count>` of a partial fetch.
public struct IMAPPartial: Hashable, Sendable {
    public var origin: Int
    public var count: Int
    public init(origin: Int, count: Int) { self.origin = origin; self.count = count }
}

/// A calendar day for SEARCH date keys, as days since 1970-01-01.
public struct IMAPDay: Hashable, Sendable, CustomStringConvertible {
    public var daysSince1970: Int64
    public init(daysSince1970: Int64) { self.daysSince1970 = daysSince1970 }
    public init?(year: Int, month: Int, day: Int) {
        guard let d = IMAPDate(year: year, month: month, day: day) else { return nil }
        daysSince1970 = d.localDay
    }
    /// `6-Dec-2024`.
    public var description: String {
        let (y, m, d) = IMAPDate.civilFromDays(daysSince1970)
        return "\(d)-\(IMAPDate.monthNames[m - 1])-\(y)"
    }
}

/// A SEARCH criterion (RFC 3501 §6.4.4).
public indirect enum IMAPSearchKey: Hashable, Sendable {
    case all, answered, deleted, flagged, new, old, recent, seen, unseen
    case unanswered, undeleted, unflagged, draft, undraft
    case keyword(String), unkeyword(String)
    case from(String), to(String), cc(String), bcc(String), subject(String), body(String), text(String)
    case header(String, String)
    case since(IMAPDay), before(IMAPDay), on(IMAPDay)
    case sentSince(IMAPDay), sentBefore(IMAPDay), sentOn(IMAPDay)
    case larger(Int), smaller(Int)
    case uid(IMAPSequenceSet)
    case sequence(IMAPSequenceSet)
    case not(IMAPSearchKey)
    case or(IMAPSearchKey, IMAPSearchKey)
    /// A parenthesised group or the implicit AND of the top-level keys.
    case and([IMAPSearchKey])
}

/// A result option of `SEARCH RETURN (…)` (RFC 4731 ESEARCH).
public enum IMAPSearchReturn: String, Hashable, Sendable, CaseIterable {
    case min = "MIN", max = "MAX", all = "ALL", count = "COUNT"
}

/// One SORT criterion (RFC 5256 §3); `reverse` flips the order of this key only.
public struct IMAPSortKey: Hashable, Sendable, CustomStringConvertible {
    public enum Field: String, Hashable, Sendable, CaseIterable {
        case arrival = "ARRIVAL", cc = "CC", date = "DATE", from = "FROM", size = "SIZE", subject = "SUBJECT", to = "TO"
    }
    public var field: Field
    public var reverse: Bool
    public init(_ field: Field, reverse: Bool = false) { self.field = field; self.reverse = reverse }
    public var description: String { (reverse ? "REVERSE " : "") + field.rawValue }
}

/// The options of an extended LIST (RFC 5258 syntax, used by RFC 6154): selection options
/// before the reference, return options after the patterns.
public struct IMAPListOptions: Hashable, Sendable {
    /// `SPECIAL-USE` (RFC 6154 §3), `SUBSCRIBED` (RFC 5258).
    public var selection: [String]
    /// `SPECIAL-USE`, `SUBSCRIBED`, `CHILDREN`.
    public var returns: [String]
    public init(selection: [String] = [], returns: [String] = []) { self.selection = selection; self.returns = returns }
}

/// A STATUS data item (RFC 3501 §6.3.10).
public enum IMAPStatusItem: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES", recent = "RECENT", uidNext = "UIDNEXT", uidValidity = "UIDVALIDITY", unseen = "UNSEEN"
}

/// A client command (RFC 3501 §6 and the extensions MailLab speaks).
///
/// ```
/// C: a001 LOGIN bob secret123        → .login(user: "bob", password: "secret123")
/// C: a002 UID FETCH 1:* (FLAGS)      → .fetch(1:*, [.flags], uid: true)
/// ```
public enum IMAPCommand: Hashable, Sendable {
    case capability, noop, logout, startTLS
    case authenticate(mechanism: String, initialResponse: [UInt8]?)
    case login(user: String, password: String)
    case select(String), examine(String), create(String), delete(String)
    case rename(String, String)
    case subscribe(String), unsubscribe(String)
    case list(reference: String, pattern: String)
    case lsub(reference: String, pattern: String)
    case status(String, [IMAPStatusItem])
    case append(mailbox: String, flags: [IMAPFlag], date: IMAPDate?, message: [UInt8])
    case check, close, unselect, expunge, namespace, idle
    case uidExpunge(IMAPSequenceSet)
    case search(IMAPSearchKey, charset: String?, uid: Bool)
    case fetch(IMAPSequenceSet, [IMAPFetchAttribute], uid: Bool)
    case store(IMAPSequenceSet, IMAPStoreOperation, silent: Bool, [IMAPFlag], uid: Bool)
    case copy(IMAPSequenceSet, String, uid: Bool)
    case move(IMAPSequenceSet, String, uid: Bool)
    /// RFC 2971: field/value pairs in order (a nil value is NIL), or nil for `ID NIL`.
    case id([String?]?)
    /// RFC 5161: the capability names asked for.
    case enable([String])
    /// RFC 4731: `SEARCH RETURN (…) criteria`; an empty `returns` means ALL.
    case esearch(IMAPSearchKey, charset: String?, returns: [IMAPSearchReturn], uid: Bool)
    /// RFC 5256: `SORT (criteria) charset search-criteria`.
    case sort([IMAPSortKey], charset: String, IMAPSearchKey, uid: Bool)
    /// `LIST (selection) reference (patterns) RETURN (options)` (RFC 5258 syntax, RFC 6154 options).
    case listExtended(IMAPListOptions, reference: String, patterns: [String])

    /// The command's name as written on the wire (used in replies such as `SELECT completed`).
    public var name: String {
        switch self {
        case .capability: return "CAPABILITY"
        case .noop: return "NOOP"
        case .logout: return "LOGOUT"
        case .startTLS: return "STARTTLS"
        case .authenticate: return "AUTHENTICATE"
        case .login: return "LOGIN"
        case .select: return "SELECT"
        case .examine: return "EXAMINE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .rename: return "RENAME"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .list: return "LIST"
        case .lsub: return "LSUB"
        case .status: return "STATUS"
        case .append: return "APPEND"
        case .check: return "CHECK"
        case .close: return "CLOSE"
        case .unselect: return "UNSELECT"
        case .expunge: return "EXPUNGE"
        case .namespace: return "NAMESPACE"
        case .idle: return "IDLE"
        case .uidExpunge: return "UID EXPUNGE"
        case .search(_, _, let uid): return uid ? "UID SEARCH" : "SEARCH"
        case .fetch(_, _, let uid): return uid ? "UID FETCH" : "FETCH"
        case .store(_, _, _, _, let uid): return uid ? "UID STORE" : "STORE"
        case .copy(_, _, let uid): return uid ? "UID COPY" : "COPY"
        case .move(_, _, let uid): return uid ? "UID MOVE" : "MOVE"
        case .id: return "ID"
        case .enable: return "ENABLE"
        case .esearch(_, _, _, let uid): return uid ? "UID SEARCH" : "SEARCH"
        case .sort(_, _, _, let uid): return uid ? "UID SORT" : "SORT"
        case .listExtended: return "LIST"
        }
    }
}
