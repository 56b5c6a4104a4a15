/// A message flag: one of the RFC 3501 §2.3.2 system flags or a keyword (`$Forwarded`, `Junk`, …).
///
/// System flags are matched case-insensitively and kept in their canonical spelling; keywords keep
/// the spelling they were first given.
public struct IMAPFlag: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ raw: String) {
        if raw.first == "\\", let system = IMAPFlag.systemNames.first(where: { $0.lowercased() == raw.lowercased() }) {
            rawValue = system
        } else {
            rawValue = raw
        }
    }

    public static let answered = IMAPFlag("\\Answered")
    public static let flagged = IMAPFlag("\\Flagged")
    public static let deleted = IMAPFlag("\\Deleted")
    public static let seen = IMAPFlag("\\Seen")
    public static let draft = IMAPFlag("\\Draft")
    /// Session flag: never stored, computed per session (RFC 3501 §2.3.2).
    public static let recent = IMAPFlag("\\Recent")

    static let systemNames = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\Recent"]
    /// The flags a client may set, in the order servers usually list them.
    public static let permanentSystemFlags: [IMAPFlag] = [.answered, .flagged, .deleted, .seen, .draft]

    public var isSystem: Bool { rawValue.first == "\\" }
    public var description: String { rawValue }

    private var rank: Int { IMAPFlag.systemNames.firstIndex(of: rawValue).map { $0 == 5 ? 100 : $0 } ?? 50 }

    /// System flags first in the conventional order, then keywords alphabetically, `\Recent` last.
    public static func < (lhs: IMAPFlag, rhs: IMAPFlag) -> Bool {
        if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
        return lhs.rawValue < rhs.rawValue
    }

    /// `(\Seen \Recent)` — a parenthesised, deterministically ordered flag list.
    public static func encodeList<S: Sequence>(_ flags: S) -> String where S.Element == IMAPFlag {
        "(" + flags.sorted().map(\.rawValue).joined(separator: " ") + ")"
    }
}

/// How STORE changes flags (RFC 3501 §6.4.6).
public enum IMAPStoreOperation: Hashable, Sendable {
    case replace, add, remove
}
