/// One message as SORT sees it, with its sort keys worked out once (not at every comparison).
struct SortEntry {
    let seq: Int
    let uid: UInt32
    let summary: IMAPMessageSummary
    let structure: IMAPMessageStructure?
    let sentDate: Int64
    let baseSubject: String
    let from: String, to: String, cc: String

    init(seq: Int, uid: UInt32, summary: IMAPMessageSummary, structure: IMAPMessageStructure?, keys: Set<IMAPSortKey.Field>) {
        self.seq = seq; self.uid = uid; self.summary = summary; self.structure = structure
        let envelope = structure?.envelope
        var date = summary.internalDate.secondsSince1970
        if keys.contains(.date), let text = envelope?.date, let s = IMAPDate.rfc5322Seconds(text) { date = s }
        sentDate = date
        baseSubject = keys.contains(.subject)
            ? IMAPSort.baseSubject(structure?.decodedSubject ?? envelope?.subject ?? "") : ""
        from = keys.contains(.from) ? IMAPSort.firstMailbox(envelope?.from) : ""
        to = keys.contains(.to) ? IMAPSort.firstMailbox(envelope?.to) : ""
        cc = keys.contains(.cc) ? IMAPSort.firstMailbox(envelope?.cc) : ""
    }
}

/// The orderings of SORT (RFC 5256 §3) and the base subject of §2.1.
enum IMAPSort {
    /// -1, 0 or 1: how `a` and `b` compare on one field (before REVERSE).
    static func compare(_ a: SortEntry, _ b: SortEntry, _ field: IMAPSortKey.Field) -> Int {
        switch field {
        case .arrival: return order(a.summary.internalDate.secondsSince1970, b.summary.internalDate.secondsSince1970)
        case .size: return order(a.summary.size, b.summary.size)
        case .date: return order(a.sentDate, b.sentDate)
        case .from: return caseMapped(a.from, b.from)
        case .to: return caseMapped(a.to, b.to)
        case .cc: return caseMapped(a.cc, b.cc)
        case .subject: return caseMapped(a.baseSubject, b.baseSubject)
        }
    }

    private static func order<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    /// `i;ascii-casemap` (RFC 4790 §9.2): octets compared after mapping a–z to A–Z.
    static func caseMapped(_ a: String, _ b: String) -> Int {
        func up(_ c: UInt8) -> UInt8 { c >= 0x61 && c <= 0x7A ? c - 32 : c }
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?):
                if up(x) != up(y) { return up(x) < up(y) ? -1 : 1 }
            }
        }
    }

    /// The local part of the first address (RFC 5256: "addr-mailbox"), empty when there is none.
    static func firstMailbox(_ list: [IMAPAddress]?) -> String {
        list?.first(where: { $0.host != nil })?.mailbox ?? ""
    }

    /// RFC 5256 §2.1: the subject without `Re:`, `Fwd:`, `[list]` blobs, `(fwd)` trailers and
    /// `[fwd: …]` wrappers, white space collapsed.
    static func baseSubject(_ subject: String) -> String {
        // (1) white space: tabs and line breaks become spaces, runs become one space.
        var s = [Character]()
        for c in subject {
            let isSpace = c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n"
            if isSpace {
                if s.last != " " { s.append(" ") }
            } else {
                s.append(c)
            }
        }
        while true {
            // (2) trailers: "(fwd)" and white space at the end.
            var trimmed = true
            while trimmed {
                trimmed = false
                if s.last == " " { s.removeLast(); trimmed = true }
                if s.count >= 5, String(s.suffix(5)).lowercased() == "(fwd)" { s.removeLast(5); trimmed = true }
            }
            // (3)–(5) leaders and blobs, until nothing changes.
            var changed = true
            while changed {
                changed = false
                if let rest = dropLeader(s) { s = rest; changed = true }
                if let rest = dropBlob(s, from: 0), !rest.isEmpty, rest != s {
                    s = rest
                    changed = true
                }
            }
            // (6) "[fwd: … ]" wrapper.
            if s.count >= 6, String(s.prefix(5)).lowercased() == "[fwd:", s.last == "]" {
                s = Array(s[5..<(s.count - 1)])
                continue
            }
            return String(s)
        }
    }

    /// Removes one subj-leader (`*subj-blob subj-refwd` or a leading space); nil when there is none.
    private static func dropLeader(_ s: [Character]) -> [Character]? {
        if s.first == " " { return Array(s.dropFirst()) }
        // Any blobs, then "re" / "fw" / "fwd", optional space, optional blob, ":".
        var i = 0
        while let next = blobEnd(s, from: i) { i = next }
        var j = i
        while j < s.count, s[j] == " " { j += 1 }
        let lower = String(s[j..<min(s.count, j + 3)]).lowercased()
        if lower.hasPrefix("re") { j += 2 } else if lower == "fwd" { j += 3 } else if lower.hasPrefix("fw") { j += 2 } else { return nil }
        while j < s.count, s[j] == " " { j += 1 }
        if let next = blobEnd(s, from: j) { j = next }
        guard j < s.count, s[j] == ":" else { return nil }
        return Array(s[(j + 1)...])
    }

    /// The index after `[…]` and its trailing spaces starting at `from`, or nil.
    private static func blobEnd(_ s: [Character], from: Int) -> Int? {
        guard from < s.count, s[from] == "[" else { return nil }
        var k = from + 1
        while k < s.count, s[k] != "]" {
            if s[k] == "[" { return nil }
            k += 1
        }
        guard k < s.count else { return nil }
        k += 1
        while k < s.count, s[k] == " " { k += 1 }
        return k
    }

    private static func dropBlob(_ s: [Character], from: Int) -> [Character]? {
        guard let end = blobEnd(s, from: from) else { return nil }
        return Array(s[end...])
    }
}

extension IMAPDate {
    /// An RFC 5322 `date-time` (`Wed, 06 Dec 2024 14:30:00 +0100`, seconds and day name optional,
    /// obsolete zones `UT`, `GMT`, `EST`… accepted) as seconds since 1970 UTC; nil if unreadable.
    public static func rfc5322Seconds(_ text: String) -> Int64? {
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        if let first = words.first, Int(first) == nil { words.removeFirst() }
        guard words.count >= 4, let d = Int(words[0]), let m = month(named: Substring(words[1])),
              var y = Int(words[2]) else { return nil }
        if y < 50 { y += 2000 } else if y < 1000 { y += 1900 }
        let hms = words[3].split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(hms.count), let h = Int(hms[0]), let mi = Int(hms[1]),
              (0...23).contains(h), (0...59).contains(mi) else { return nil }
        let sec = hms.count == 3 ? Int(hms[2]) : 0
        guard let sec, (0...60).contains(sec), (1...9999).contains(y), d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        var offset = 0
        if words.count >= 5 {
            let zone = Substring(words[4])
            if let z = parseZone(zone) {
                offset = z
            } else {
                let named: [String: Int] = ["UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -300, "EDT": -240, "CST": -360,
                                            "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420]
                offset = named[zone.uppercased()] ?? 0
            }
        }
        let days = daysFromCivil(year: y, month: m, day: d)
        return days * 86400 + Int64(h * 3600 + mi * 60 + sec) - Int64(offset * 60)
    }
}
