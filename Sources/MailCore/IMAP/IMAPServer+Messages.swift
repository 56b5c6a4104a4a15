/// Message-level commands: EXPUNGE, STORE, COPY/MOVE and FETCH.
extension IMAPServer {
    // MARK: EXPUNGE, STORE, COPY/MOVE

    mutating func expunge(tag: String, user: String, uids: Set<UInt32>?, name: String) {
        guard let v = view else { return }
        guard !v.readOnly else {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            let removed = try backend.expunge(user: user, mailbox: v.name, uids: uids)
            report(.expunged(mailbox: v.name, uids: removed))
            sync(allowExpunge: true, push: false)
            line("\(tag) OK \(name) completed")
        } catch {
            no(tag, error, name: v.name)
        }
    }

    mutating func store(_ set: IMAPSequenceSet, _ op: IMAPStoreOperation, silent: Bool, flags: [IMAPFlag],
                                uid: Bool, tag: String, user: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard var v = view else { return }
        guard !v.readOnly else {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            let updated = try backend.storeFlags(user: user, mailbox: v.name, uids: targets.map(\.1), operation: op,
                                                 flags: Set(flags))
            // A new keyword changes the mailbox's FLAGS: say so before the FETCH that shows it.
            let newKeywords = Set(flags.filter { !$0.isSystem }).subtracting(v.keywords)
            if !newKeywords.isEmpty {
                v.keywords.formUnion(newKeywords)
                announceFlags(v.keywords, readOnly: v.readOnly)
            }
            for (seq, u) in targets {
                guard let f = updated[u] else { continue }
                v.flags[u] = f
                if !silent {
                    let uidPart = uid ? "UID \(u) " : ""
                    line("* \(seq) FETCH (\(uidPart)FLAGS \(flagText(f, recent: v.recent.contains(u))))")
                }
            }
            report(.stored(mailbox: v.name, uids: targets.map(\.1).filter { updated[$0] != nil }, operation: op,
                           flags: flags.map(\.rawValue), silent: silent, byUID: uid))
            // The change counter is left as it was: the sync after the command finds the flags
            // already in the view and reports only what other sessions changed.
            view = v
            line("\(tag) OK \(uid ? "UID STORE" : "STORE") completed")
        } catch {
            no(tag, error, name: v.name)
        }
    }

    mutating func copy(_ set: IMAPSequenceSet, to target: String, uid: Bool, move: Bool, tag: String,
                               user: String, name: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard let v = view else { return }
        if move && v.readOnly {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            let uids = targets.map(\.1)
            let result = move ? try backend.move(user: user, from: v.name, uids: uids, to: target)
                : try backend.copy(user: user, from: v.name, uids: uids, to: target)
            report(.copied(source: v.name, destination: target, sourceUIDs: result.mapping.map(\.0),
                           destinationUIDs: result.mapping.map(\.1), moved: move, byUID: uid))
            var code = ""
            if !result.mapping.isEmpty {
                let src = IMAPSequenceSet(numbers: result.mapping.map(\.0)), dst = IMAPSequenceSet(numbers: result.mapping.map(\.1))
                // Keep the pairing order: list explicit UIDs when compression would reorder them.
                let srcText = result.mapping.count == 1 ? "\(result.mapping[0].0)" : src.description
                let dstText = result.mapping.count == 1 ? "\(result.mapping[0].1)" : dst.description
                code = "[COPYUID \(result.uidValidity) \(srcText) \(dstText)] "
            }
            if move {
                if !code.isEmpty { line("* OK \(code)Moved UIDs.") }
                sync(allowExpunge: true, push: false)
                line("\(tag) OK \(name) completed")
            } else {
                sync(allowExpunge: true)
                line("\(tag) OK \(code)\(name) completed")
            }
        } catch {
            no(tag, error, name: target, tryCreate: true)
        }
    }

    // MARK: FETCH

    mutating func fetch(_ set: IMAPSequenceSet, _ attrs: [IMAPFetchAttribute], uid: Bool, tag: String, user: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard var v = view else { return }
        var items = attrs
        if uid && !items.contains(.uid) { items.insert(.uid, at: 0) }
        let setsSeen = !v.readOnly && items.contains { a in
            switch a {
            case .rfc822, .rfc822Text: return true
            case .section(_, _, let peek): return !peek
            default: return false
            }
        }
        let needsBytes = items.contains { a in
            switch a {
            case .rfc822, .rfc822Text, .rfc822Header, .section: return true
            default: return false
            }
        }
        let needsStructure = items.contains { a in
            switch a {
            case .envelope, .bodyStructure, .section, .rfc822Header, .rfc822Text: return true
            default: return false
            }
        }
        let snapshot = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: false)
        var summaries = [UInt32: IMAPMessageSummary]()
        for m in snapshot?.messages ?? [] { summaries[m.uid] = m }
        var returned = [UInt32](), seenSet = [UInt32]()
        var expungeIssued = false
        for (seq, u) in targets {
            guard let summary = summaries[u] else {
                // Expunged by another session and not announced yet (no EXPUNGE during FETCH,
                // §7.4.1): what the session's view knows is still answered, as Dovecot does;
                // anything else ends in NO [EXPUNGEISSUED] (RFC 5530).
                let known = items.allSatisfy { $0 == .uid || ($0 == .flags && v.flags[u] != nil) }
                if known {
                    let parts = items.map { $0 == .uid ? "UID \(u)" : "FLAGS \(flagText(v.flags[u] ?? [], recent: v.recent.contains(u)))" }
                    output += Array("* \(seq) FETCH (\(parts.joined(separator: " ")))\r\n".utf8)
                } else {
                    expungeIssued = true
                }
                continue
            }
            returned.append(u)
            var flags = summary.flags
            var addFlags = false
            if setsSeen && !flags.contains(.seen) {
                if let updated = try? backend.storeFlags(user: user, mailbox: v.name, uids: [u], operation: .add, flags: [.seen]),
                   let f = updated[u] {
                    flags = f
                    addFlags = !items.contains(.flags)
                    seenSet.append(u)
                }
            }
            // The view learns the flags only when this response shows them; otherwise the sync
            // after the command reports what another session changed.
            if items.contains(.flags) || addFlags { v.flags[u] = flags }
            let raw = needsBytes ? backend.messageBytes(user: user, mailbox: v.name, uid: u) ?? [] : []
            let structure = needsStructure ? backend.messageStructure(user: user, mailbox: v.name, uid: u) : nil
            var out: [UInt8] = Array("* \(seq) FETCH (".utf8)
            var first = true
            func add(_ bytes: [UInt8]) {
                if !first { out.append(0x20) }
                first = false
                out += bytes
            }
            for item in items + (addFlags ? [.flags] : []) {
                switch item {
                case .uid: add(Array("UID \(u)".utf8))
                case .flags: add(Array("FLAGS \(flagText(flags, recent: v.recent.contains(u)))".utf8))
                case .internalDate: add(Array("INTERNALDATE \"\(summary.internalDate.imapDateTime)\"".utf8))
                case .rfc822Size: add(Array("RFC822.SIZE \(summary.size)".utf8))
                case .envelope:
                    add(Array("ENVELOPE ".utf8) + (structure?.envelope.encoded ?? IMAPEnvelope().encoded))
                case .bodyStructure(let ext):
                    let body = structure?.body ?? .single(IMAPSinglePart(type: "TEXT", subtype: "PLAIN", size: summary.size, lines: 0))
                    add(Array((ext ? "BODYSTRUCTURE " : "BODY ").utf8) + body.encoded(extensible: ext))
                case .rfc822: add(Array("RFC822 ".utf8) + IMAPWire.literal(raw))
                case .rfc822Header:
                    let layout = structure?.layout
                    let header = layout.map { Array(raw[clamp($0.header, raw.count)]) } ?? raw
                    add(Array("RFC822.HEADER ".utf8) + IMAPWire.literal(header))
                case .rfc822Text:
                    let layout = structure?.layout
                    let body = layout.map { Array(raw[clamp($0.body, raw.count)]) } ?? []
                    add(Array("RFC822.TEXT ".utf8) + IMAPWire.literal(body))
                case .section(let section, let partial, _):
                    var data: [UInt8]? = nil
                    if let layout = structure?.layout { data = IMAPMessageText.section(section, raw: raw, layout: layout) }
                    var label = "BODY[\(section)]"
                    if var bytes = data {
                        if let partial {
                            label += "<\(partial.origin)>"
                            let lo = min(partial.origin, bytes.count), hi = min(bytes.count, lo + partial.count)
                            bytes = Array(bytes[lo..<hi])
                        }
                        add(Array("\(label) ".utf8) + IMAPWire.literal(bytes))
                    } else {
                        if let partial { label += "<\(partial.origin)>" }
                        add(Array("\(label) NIL".utf8))
                    }
                }
            }
            out += Array(")\r\n".utf8)
            output += out
        }
        view = v
        let peek = !items.contains { a in
            switch a {
            case .rfc822, .rfc822Text: return true
            case .section(_, _, let peek): return !peek
            default: return false
            }
        }
        report(.fetched(mailbox: v.name, uids: returned, items: items.map(\.text), peek: peek, seenSet: seenSet, byUID: uid))
        if expungeIssued {
            line("\(tag) NO [EXPUNGEISSUED] Some of the requested messages no longer exist.")
        } else {
            line("\(tag) OK \(uid ? "UID FETCH" : "FETCH") completed")
        }
    }

    func clamp(_ r: Range<Int>, _ count: Int) -> Range<Int> {
        let lo = min(max(0, r.lowerBound), count), hi = min(max(lo, r.upperBound), count)
        return lo..<hi
    }

}
