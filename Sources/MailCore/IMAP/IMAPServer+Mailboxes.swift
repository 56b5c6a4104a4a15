/// Mailbox-level commands: LIST/LSUB, SELECT/EXAMINE, and keeping the session's view in step with the store.
extension IMAPServer {
    // MARK: mailbox listing

    /// The RFC 6154 attributes a mailbox may carry (they come with the store's LIST attributes).
    static let specialUseAttributes: Set<String> = ["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"]

    mutating func list(reference: String, pattern: String, subscribedOnly: Bool, tag: String, user: String) {
        let word = subscribedOnly ? "LSUB" : "LIST"
        let sep = backend.hierarchySeparator
        if pattern.isEmpty && !subscribedOnly {
            line("* LIST (\\Noselect) \"\(sep)\" \"\"")
            line("\(tag) OK LIST completed")
            return
        }
        let full = reference + pattern
        let boxes = backend.mailboxes(user: user)
        var result = [String]()
        defer { report(.listed(reference: reference, pattern: pattern, subscribedOnly: subscribedOnly, result: result)) }
        let subscribed = boxes.filter(\.subscribed).map(\.name)
        for box in boxes {
            guard IMAPServer.matches(name: box.name, pattern: full, separator: sep) else { continue }
            if !subscribedOnly {
                result.append(box.name)
                line("* LIST (\(box.attributes.joined(separator: " "))) \"\(sep)\" \(text(IMAPWire.mailbox(box.name)))")
            } else if box.subscribed {
                result.append(box.name)
                let attrs = box.attributes.filter { $0 == "\\Noselect" }
                line("* LSUB (\(attrs.joined(separator: " "))) \"\(sep)\" \(text(IMAPWire.mailbox(box.name)))")
            } else if full.last == "%", subscribed.contains(where: { $0.hasPrefix(box.name + String(sep)) }) {
                // RFC 3501 §6.3.9: `%` stops at this level, a subscribed child lies below it, so
                // the level is listed as \Noselect although it is not itself subscribed.
                result.append(box.name)
                line("* LSUB (\\Noselect) \"\(sep)\" \(text(IMAPWire.mailbox(box.name)))")
            }
        }
        line("\(tag) OK \(word) completed")
    }

    /// `LIST (SPECIAL-USE) "" "*"`, `LIST "" (pat1 pat2) RETURN (SPECIAL-USE SUBSCRIBED CHILDREN)`:
    /// RFC 5258's syntax with RFC 6154's selection option. Special-use and child attributes are
    /// always shown (RFC 6154 §2 allows it), `\Subscribed` only when asked for.
    mutating func listExtended(_ options: IMAPListOptions, reference: String, patterns: [String], tag: String, user: String) {
        let sep = backend.hierarchySeparator
        if patterns == [""] {
            line("* LIST (\\Noselect) \"\(sep)\" \"\"")
            line("\(tag) OK LIST completed")
            return
        }
        var result = [String]()
        defer {
            report(.listed(reference: reference, pattern: patterns.joined(separator: " "), subscribedOnly: false, result: result))
        }
        let onlySpecial = options.selection.contains("SPECIAL-USE")
        let onlySubscribed = options.selection.contains("SUBSCRIBED")
        let showSubscribed = onlySubscribed || options.returns.contains("SUBSCRIBED")
        for box in backend.mailboxes(user: user) {
            guard patterns.contains(where: { IMAPServer.matches(name: box.name, pattern: reference + $0, separator: sep) }) else { continue }
            if onlySubscribed && !box.subscribed { continue }
            if onlySpecial && !box.attributes.contains(where: Self.specialUseAttributes.contains) { continue }
            result.append(box.name)
            var attrs = box.attributes
            if showSubscribed && box.subscribed { attrs.append("\\Subscribed") }
            line("* LIST (\(attrs.joined(separator: " "))) \"\(sep)\" \(text(IMAPWire.mailbox(box.name)))")
        }
        line("\(tag) OK LIST completed")
    }

    /// LIST wildcard matching: `*` matches anything, `%` anything but the separator (RFC 3501 §6.3.8).
    /// INBOX matches case-insensitively.
    public static func matches(name: String, pattern: String, separator: Character) -> Bool {
        var n = Array(name), p = Array(pattern)
        if name == "INBOX" || name.uppercased().hasPrefix("INBOX" + String(separator)) {
            let prefixCount = min(5, p.count)
            if String(p[0..<prefixCount]).uppercased() == String("INBOX".prefix(prefixCount)) {
                p = Array("INBOX".prefix(prefixCount)) + p[prefixCount...]
            }
            n = Array("INBOX") + n[5...]
        }
        var memo = [Int: Bool]()
        func go(_ i: Int, _ j: Int) -> Bool {
            let key = i * (p.count + 1) + j
            if let m = memo[key] { return m }
            var r: Bool
            if j == p.count { r = i == n.count }
            else if p[j] == "*" { r = go(i, j + 1) || (i < n.count && go(i + 1, j)) }
            else if p[j] == "%" { r = go(i, j + 1) || (i < n.count && n[i] != separator && go(i + 1, j)) }
            else { r = i < n.count && n[i] == p[j] && go(i + 1, j + 1) }
            memo[key] = r
            return r
        }
        return go(0, 0)
    }

    // MARK: SELECT and change tracking

    mutating func select(_ name: String, readOnly: Bool, tag: String, commandName: String) {
        let user = self.user ?? ""
        // RFC 3501 §6.3.1: a SELECT closes the mailbox selected before, without expunging it.
        if let previous = view { report(.closedMailbox(mailbox: previous.name, expunged: false, command: commandName)) }
        let snap: IMAPMailboxSnapshot
        do {
            snap = try backend.snapshot(user: user, mailbox: name, claimRecent: !readOnly)
        } catch {
            enter(.authenticated(user: user))
            no(tag, error, name: name)
            return
        }
        var flags = [UInt32: Set<IMAPFlag>]()
        for m in snap.messages { flags[m.uid] = m.flags }
        let v = View(name: name, readOnly: readOnly, uidValidity: snap.uidValidity, uids: snap.messages.map(\.uid),
                     flags: flags, recent: snap.recent, highestUID: max(snap.messages.last?.uid ?? 0, snap.uidNext &- 1),
                     changeCounter: snap.changeCounter, reportedRecent: snap.recent.count, expungePending: false,
                     keywords: snap.keywords)
        announceFlags(snap.keywords, readOnly: readOnly)
        line("* \(v.uids.count) EXISTS")
        line("* \(v.recent.count) RECENT")
        if let first = snap.messages.firstIndex(where: { !$0.flags.contains(.seen) }) {
            line("* OK [UNSEEN \(first + 1)] First unseen message")
        }
        line("* OK [UIDVALIDITY \(snap.uidValidity)] UIDs valid")
        line("* OK [UIDNEXT \(snap.uidNext)] Predicted next UID")
        enter(.selected(user: user, view: v))
        report(.selected(mailbox: name, readOnly: readOnly, exists: v.uids.count))
        line("\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] \(commandName) completed")
    }

    /// `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]`: at SELECT, and again whenever a keyword
    /// appears in the mailbox (RFC 3501 §7.2.6).
    mutating func announceFlags(_ keywords: Set<IMAPFlag>, readOnly: Bool, push: Bool = false) {
        let listed = (IMAPFlag.permanentSystemFlags.map(\.rawValue) + keywords.sorted().map(\.rawValue)).joined(separator: " ")
        if push { pushed("FLAGS (\(listed))") }
        line("* FLAGS (\(listed))")
        if readOnly {
            line("* OK [PERMANENTFLAGS ()] Read-only mailbox.")
        } else {
            line("* OK [PERMANENTFLAGS (\(listed) \\*)] Flags permitted.")
        }
    }

    /// Brings the session's view up to date with the store and writes the untagged news:
    /// `EXPUNGE` (highest sequence number first), `FETCH (FLAGS …)`, `EXISTS`, `RECENT`.
    /// An untagged update (`EXISTS 3`) written outside the command's own responses: reported as
    /// pushed, then written.
    mutating func pushed(_ update: String) {
        report(.pushed(update, duringIdle: isIdling))
    }

    mutating func sync(allowExpunge: Bool, push: Bool = true) {
        guard var v = view, let user else { return }
        if let counter = backend.changeCounter(user: user, mailbox: v.name), counter == v.changeCounter,
           !(allowExpunge && v.expungePending) {
            return
        }
        guard let snap = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: !v.readOnly),
              snap.uidValidity == v.uidValidity else {
            line("* BYE Selected mailbox was deleted or renamed, have to disconnect.")
            close()
            return
        }
        var current = [UInt32: IMAPMessageSummary]()
        for m in snap.messages { current[m.uid] = m }
        if allowExpunge {
            for index in v.uids.indices.reversed() where current[v.uids[index]] == nil {
                let uid = v.uids.remove(at: index)
                v.flags[uid] = nil
                v.recent.remove(uid)
                if push { pushed("EXPUNGE \(index + 1)") }
                line("* \(index + 1) EXPUNGE")
            }
            v.expungePending = false
        } else if v.uids.contains(where: { current[$0] == nil }) {
            v.expungePending = true
        }
        if !snap.keywords.isSubset(of: v.keywords) {
            v.keywords.formUnion(snap.keywords)
            announceFlags(v.keywords, readOnly: v.readOnly, push: push)
        }
        for (index, uid) in v.uids.enumerated() {
            guard let m = current[uid], m.flags != v.flags[uid] else { continue }
            v.flags[uid] = m.flags
            let flags = flagText(m.flags, recent: v.recent.contains(uid))
            if push { pushed("FETCH \(index + 1) (FLAGS \(flags))") }
            line("* \(index + 1) FETCH (FLAGS \(flags))")
        }
        var added = false
        for m in snap.messages where m.uid > v.highestUID {
            v.uids.append(m.uid)
            v.flags[m.uid] = m.flags
            v.highestUID = m.uid
            added = true
        }
        v.recent.formUnion(snap.recent)
        v.recent.formIntersection(v.uids)
        if !added { v.reportedRecent = v.recent.count }
        // RECENT accompanies new messages (RFC 3501 §7.3.2); after EXPUNGE the client recounts.
        if added {
            if push { pushed("EXISTS \(v.uids.count)"); pushed("RECENT \(v.recent.count)") }
            line("* \(v.uids.count) EXISTS")
            line("* \(v.recent.count) RECENT")
            v.reportedRecent = v.recent.count
        }
        v.changeCounter = snap.changeCounter
        view = v
    }

    func flagText(_ flags: Set<IMAPFlag>, recent: Bool) -> String {
        var all = flags
        if recent { all.insert(.recent) }
        return IMAPFlag.encodeList(all)
    }

    /// Resolves a set to (sequence number, UID) pairs; nil when a sequence set is out of range.
    func resolve(_ set: IMAPSequenceSet, uid: Bool) -> [(Int, UInt32)]? {
        guard let v = view else { return [] }
        if uid {
            let largest = v.uids.last ?? 0
            return v.uids.enumerated().filter { set.contains($0.element, largest: largest) }.map { ($0.offset + 1, $0.element) }
        }
        let count = UInt32(v.uids.count)
        for r in set.ranges {
            for b in [r.first, r.last] {
                switch b {
                case .star: if count == 0 { return nil }
                case .number(let n): if n > count { return nil }
                }
            }
        }
        return v.uids.enumerated().filter { set.contains(UInt32($0.offset + 1), largest: count) }.map { ($0.offset + 1, $0.element) }
    }

}
