/// SEARCH (and its ESEARCH/SORT forms): evaluating criteria against the selected mailbox.
extension IMAPServer {
    // MARK: SEARCH

    struct SearchContext {
        let seq: Int
        let uid: UInt32
        let summary: IMAPMessageSummary
        let recent: Bool
        let largestSeq: UInt32
        let largestUID: UInt32
        var raw: [UInt8]?
        var structure: IMAPMessageStructure?
        var layout: IMAPPartLayout? { structure?.layout }
    }

    /// The messages of the session's view (announced ones only) that match `key`, in sequence
    /// order, with their summaries; nil when the mailbox is gone.
    func searchHits(_ key: IMAPSearchKey, user: String) -> [(seq: Int, uid: UInt32, summary: IMAPMessageSummary)]? {
        guard let v = view, let snap = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: false) else { return nil }
        var summaries = [UInt32: IMAPMessageSummary]()
        for m in snap.messages { summaries[m.uid] = m }
        var hits = [(seq: Int, uid: UInt32, summary: IMAPMessageSummary)]()
        for (index, u) in v.uids.enumerated() {
            guard let s = summaries[u] else { continue }
            var ctx = SearchContext(seq: index + 1, uid: u, summary: s, recent: v.recent.contains(u),
                                    largestSeq: UInt32(v.uids.count), largestUID: v.uids.last ?? 0)
            if matches(key, &ctx, user: user, mailbox: v.name) { hits.append((index + 1, u, s)) }
        }
        return hits
    }

    mutating func search(_ key: IMAPSearchKey, uid: Bool, tag: String, user: String) {
        guard let hits = searchHits(key, user: user) else {
            line("\(tag) NO Mailbox is gone.")
            return
        }
        report(.searched(mailbox: view?.name ?? "", criteria: Self.criteria(key), resultUIDs: hits.map(\.uid), byUID: uid))
        line("* SEARCH" + hits.map { " \(uid ? $0.uid : UInt32($0.seq))" }.joined())
        line("\(tag) OK \(uid ? "UID SEARCH" : "SEARCH") completed")
    }

    /// `SEARCH RETURN (MIN MAX COUNT ALL)` (RFC 4731 §3.1): one `* ESEARCH (TAG "t") [UID] …`;
    /// MIN, MAX and ALL are left out when nothing matched; `RETURN ()` means ALL.
    mutating func esearch(_ key: IMAPSearchKey, returns: [IMAPSearchReturn], uid: Bool, tag: String, user: String) {
        guard let hits = searchHits(key, user: user) else {
            line("\(tag) NO Mailbox is gone.")
            return
        }
        report(.searched(mailbox: view?.name ?? "", criteria: Self.criteria(key), resultUIDs: hits.map(\.uid), byUID: uid))
        let numbers = hits.map { uid ? $0.uid : UInt32($0.seq) }
        let wanted = returns.isEmpty ? [.all] : returns
        var out = "* ESEARCH (TAG " + text(IMAPWire.string(Array(tag.utf8))) + ")" + (uid ? " UID" : "")
        for r in IMAPSearchReturn.allCases where wanted.contains(r) {
            switch r {
            case .min: if let n = numbers.min() { out += " MIN \(n)" }
            case .max: if let n = numbers.max() { out += " MAX \(n)" }
            case .all: if !numbers.isEmpty { out += " ALL \(IMAPSequenceSet(numbers: numbers))" }
            case .count: out += " COUNT \(numbers.count)"
            }
        }
        line(out)
        line("\(tag) OK \(uid ? "UID SEARCH" : "SEARCH") completed")
    }

    /// `SORT (keys) charset criteria` (RFC 5256 §3): the matching messages ordered by the keys in
    /// turn, ties by sequence number; `* SORT n n n`.
    mutating func sort(_ keys: [IMAPSortKey], _ key: IMAPSearchKey, uid: Bool, tag: String, user: String) {
        guard let v = view, let hits = searchHits(key, user: user) else {
            line("\(tag) NO Mailbox is gone.")
            return
        }
        let fields = Set(keys.map(\.field))
        let needsStructure = !fields.isSubset(of: [.arrival, .size])
        let entries = hits.map { hit in
            SortEntry(seq: hit.seq, uid: hit.uid, summary: hit.summary,
                      structure: needsStructure ? backend.messageStructure(user: user, mailbox: v.name, uid: hit.uid) : nil,
                      keys: fields)
        }
        let sorted = entries.sorted { a, b in
            for k in keys {
                let order = IMAPSort.compare(a, b, k.field)
                if order != 0 { return k.reverse ? order > 0 : order < 0 }
            }
            return a.seq < b.seq
        }
        report(.searched(mailbox: v.name, criteria: Self.criteria(key), resultUIDs: sorted.map(\.uid), byUID: uid))
        line("* SORT" + sorted.map { " \(uid ? $0.uid : UInt32($0.seq))" }.joined())
        line("\(tag) OK \(uid ? "UID SORT" : "SORT") completed")
    }

    func load(_ ctx: inout SearchContext, user: String, mailbox: String) {
        if ctx.raw == nil {
            ctx.raw = backend.messageBytes(user: user, mailbox: mailbox, uid: ctx.uid) ?? []
            ctx.structure = backend.messageStructure(user: user, mailbox: mailbox, uid: ctx.uid)
        }
    }

    /// FROM/TO/CC/BCC: the needle is looked for in the header as written and in each address as
    /// ENVELOPE parses it (`name`, `mailbox@host`), so comments and odd spacing in the header
    /// (`<user (comment)@ (comment) domain.org>`) do not hide a match.
    func addressContains(_ ctx: inout SearchContext, _ field: String, _ needle: String, user: String, mailbox: String) -> Bool {
        if headerContains(&ctx, field, needle, user: user, mailbox: mailbox) { return true }
        load(&ctx, user: user, mailbox: mailbox)
        guard let envelope = ctx.structure?.envelope else { return false }
        let list: [IMAPAddress]
        switch field {
        case "From": list = envelope.from
        case "To": list = envelope.to
        case "Cc": list = envelope.cc
        default: list = envelope.bcc
        }
        let n = Array(needle.utf8)
        return list.contains { a in
            var forms = [String]()
            if let name = a.name { forms.append(name) }
            if let m = a.mailbox { forms.append(a.host.map { "\(m)@\($0)" } ?? m) }
            if let name = a.name, let m = a.mailbox, let h = a.host { forms.append("\(name) <\(m)@\(h)>") }
            return forms.contains { form in
                IMAPMessageText.contains(Array(form.utf8), n)
                    || (form.contains("=?") && backend.decodedHeaderText(form).lowercased().contains(needle.lowercased()))
            }
        }
    }

    func header(_ ctx: inout SearchContext, user: String, mailbox: String) -> ArraySlice<UInt8> {
        load(&ctx, user: user, mailbox: mailbox)
        let raw = ctx.raw ?? []
        guard let layout = ctx.layout else { return raw[...] }
        return raw[clamp(layout.header, raw.count)]
    }

    func body(_ ctx: inout SearchContext, user: String, mailbox: String) -> ArraySlice<UInt8> {
        load(&ctx, user: user, mailbox: mailbox)
        let raw = ctx.raw ?? []
        guard let layout = ctx.layout else { return raw[0..<0] }
        return raw[clamp(layout.body, raw.count)]
    }

    func headerContains(_ ctx: inout SearchContext, _ field: String, _ needle: String, user: String, mailbox: String) -> Bool {
        let values = IMAPMessageText.values(header(&ctx, user: user, mailbox: mailbox), named: field)
        if needle.isEmpty { return !values.isEmpty }
        return values.contains { value in
            if IMAPMessageText.contains(Array(value.utf8), Array(needle.utf8)) { return true }
            // Encoded words (RFC 2047) are matched decoded, case-insensitively beyond ASCII too.
            guard value.contains("=?") else { return false }
            return backend.decodedHeaderText(value).lowercased().contains(needle.lowercased())
        }
    }

    func sentDay(_ ctx: inout SearchContext, user: String, mailbox: String) -> Int64? {
        IMAPMessageText.values(header(&ctx, user: user, mailbox: mailbox), named: "Date").first.flatMap(IMAPDate.rfc5322Day)
    }

    func matches(_ key: IMAPSearchKey, _ ctx: inout SearchContext, user: String, mailbox: String) -> Bool {
        let f = ctx.summary.flags
        switch key {
        case .all: return true
        case .answered: return f.contains(.answered)
        case .deleted: return f.contains(.deleted)
        case .flagged: return f.contains(.flagged)
        case .seen: return f.contains(.seen)
        case .draft: return f.contains(.draft)
        case .unanswered: return !f.contains(.answered)
        case .undeleted: return !f.contains(.deleted)
        case .unflagged: return !f.contains(.flagged)
        case .unseen: return !f.contains(.seen)
        case .undraft: return !f.contains(.draft)
        case .recent: return ctx.recent
        case .new: return ctx.recent && !f.contains(.seen)
        case .old: return !ctx.recent
        case .keyword(let k): return f.contains { $0.rawValue.lowercased() == k.lowercased() }
        case .unkeyword(let k): return !f.contains { $0.rawValue.lowercased() == k.lowercased() }
        case .from(let s): return addressContains(&ctx, "From", s, user: user, mailbox: mailbox)
        case .to(let s): return addressContains(&ctx, "To", s, user: user, mailbox: mailbox)
        case .cc(let s): return addressContains(&ctx, "Cc", s, user: user, mailbox: mailbox)
        case .bcc(let s): return addressContains(&ctx, "Bcc", s, user: user, mailbox: mailbox)
        case .subject(let s): return headerContains(&ctx, "Subject", s, user: user, mailbox: mailbox)
        case .header(let field, let s): return headerContains(&ctx, field, s, user: user, mailbox: mailbox)
        case .body(let s): return IMAPMessageText.contains(body(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
        case .text(let s):
            return IMAPMessageText.contains(header(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
                || IMAPMessageText.contains(body(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
        case .since(let d): return ctx.summary.internalDate.localDay >= d.daysSince1970
        case .before(let d): return ctx.summary.internalDate.localDay < d.daysSince1970
        case .on(let d): return ctx.summary.internalDate.localDay == d.daysSince1970
        case .sentSince(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 >= d.daysSince1970 } ?? false
        case .sentBefore(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 < d.daysSince1970 } ?? false
        case .sentOn(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 == d.daysSince1970 } ?? false
        case .larger(let n): return ctx.summary.size > n
        case .smaller(let n): return ctx.summary.size < n
        case .uid(let set): return set.contains(ctx.uid, largest: ctx.largestUID)
        case .sequence(let set): return set.contains(UInt32(ctx.seq), largest: ctx.largestSeq)
        case .not(let k): return !matches(k, &ctx, user: user, mailbox: mailbox)
        case .or(let a, let b): return matches(a, &ctx, user: user, mailbox: mailbox) || matches(b, &ctx, user: user, mailbox: mailbox)
        case .and(let keys):
            for k in keys where !matches(k, &ctx, user: user, mailbox: mailbox) { return false }
            return true
        }
    }
}
