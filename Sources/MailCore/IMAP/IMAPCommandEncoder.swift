/// Writes commands the way a client sends them (RFC 3501 §9).
///
/// The result is a list of chunks: with synchronising literals each chunk but the last ends with
/// `{N}CRLF` and the next one may only be sent after the server's `+`; with LITERAL+ (`{N+}`) there
/// is a single chunk.
public enum IMAPCommandEncoder {
    public static func encode(tag: String, _ command: IMAPCommand, literalPlus: Bool) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var cur: [UInt8] = Array("\(tag) ".utf8)
        func raw(_ s: String) { cur += Array(s.utf8) }
        func literal(_ bytes: [UInt8]) {
            if literalPlus {
                cur += Array("{\(bytes.count)+}\r\n".utf8) + bytes
            } else {
                cur += Array("{\(bytes.count)}\r\n".utf8)
                chunks.append(cur)
                cur = bytes
            }
        }
        func string(_ bytes: [UInt8]) {
            let enc = IMAPWire.string(bytes)
            if enc.first == UInt8(ascii: "{") { literal(bytes) } else { cur += enc }
        }
        func astring(_ text: String) {
            let enc = IMAPWire.astring(text)
            if enc.first == UInt8(ascii: "{") { literal(Array(text.utf8)) } else { cur += enc }
        }
        func mailbox(_ name: String) { astring(IMAPModifiedUTF7.encode(name)) }
        func flags(_ f: [IMAPFlag]) { raw("(" + f.map(\.rawValue).joined(separator: " ") + ")") }
        func search(_ key: IMAPSearchKey) {
            switch key {
            case .all: raw("ALL")
            case .answered: raw("ANSWERED")
            case .deleted: raw("DELETED")
            case .flagged: raw("FLAGGED")
            case .new: raw("NEW")
            case .old: raw("OLD")
            case .recent: raw("RECENT")
            case .seen: raw("SEEN")
            case .unseen: raw("UNSEEN")
            case .unanswered: raw("UNANSWERED")
            case .undeleted: raw("UNDELETED")
            case .unflagged: raw("UNFLAGGED")
            case .draft: raw("DRAFT")
            case .undraft: raw("UNDRAFT")
            case .keyword(let k): raw("KEYWORD \(k)")
            case .unkeyword(let k): raw("UNKEYWORD \(k)")
            case .from(let s): raw("FROM "); astring(s)
            case .to(let s): raw("TO "); astring(s)
            case .cc(let s): raw("CC "); astring(s)
            case .bcc(let s): raw("BCC "); astring(s)
            case .subject(let s): raw("SUBJECT "); astring(s)
            case .body(let s): raw("BODY "); astring(s)
            case .text(let s): raw("TEXT "); astring(s)
            case .header(let f, let s): raw("HEADER "); astring(f); raw(" "); astring(s)
            case .since(let d): raw("SINCE \(d)")
            case .before(let d): raw("BEFORE \(d)")
            case .on(let d): raw("ON \(d)")
            case .sentSince(let d): raw("SENTSINCE \(d)")
            case .sentBefore(let d): raw("SENTBEFORE \(d)")
            case .sentOn(let d): raw("SENTON \(d)")
            case .larger(let n): raw("LARGER \(n)")
            case .smaller(let n): raw("SMALLER \(n)")
            case .uid(let set): raw("UID \(set)")
            case .sequence(let set): raw("\(set)")
            case .not(let k): raw("NOT "); search(k)
            case .or(let a, let b): raw("OR "); search(a); raw(" "); search(b)
            case .and(let keys):
                raw("(")
                for (i, k) in keys.enumerated() { if i > 0 { raw(" ") }; search(k) }
                raw(")")
            }
        }
        switch command {
        case .capability, .noop, .logout, .startTLS, .check, .close, .unselect, .expunge, .namespace, .idle:
            raw(command.name)
        case .authenticate(let mech, let initial):
            raw("AUTHENTICATE \(mech)")
            if let initial { raw(" "); cur += initial }
        case .login(let u, let p): raw("LOGIN "); astring(u); raw(" "); astring(p)
        case .select(let m), .examine(let m), .create(let m), .delete(let m), .subscribe(let m), .unsubscribe(let m):
            raw(command.name + " "); mailbox(m)
        case .rename(let a, let b): raw("RENAME "); mailbox(a); raw(" "); mailbox(b)
        case .list(let r, let p), .lsub(let r, let p):
            raw(command.name + " "); mailbox(r); raw(" ")
            let enc = IMAPModifiedUTF7.encode(p)
            if !enc.isEmpty, enc.utf8.allSatisfy({ IMAPWire.isAStringChar($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "*") }) {
                raw(enc)
            } else {
                string(Array(enc.utf8))
            }
        case .status(let m, let items):
            raw("STATUS "); mailbox(m); raw(" (" + items.map(\.rawValue).joined(separator: " ") + ")")
        case .append(let m, let f, let date, let message):
            raw("APPEND "); mailbox(m); raw(" ")
            if !f.isEmpty { flags(f); raw(" ") }
            if let date { raw("\"\(date.imapDateTime)\" ") }
            literal(message)
        case .uidExpunge(let set): raw("UID EXPUNGE \(set)")
        case .search(let key, let charset, _):
            raw(command.name + " ")
            if let charset { raw("CHARSET \(charset) ") }
            if case .and(let keys) = key {
                for (i, k) in keys.enumerated() { if i > 0 { raw(" ") }; search(k) }
            } else {
                search(key)
            }
        case .fetch(let set, let attrs, _):
            raw(command.name + " \(set) ")
            raw(attrs.count == 1 ? attrs[0].text : "(" + attrs.map(\.text).joined(separator: " ") + ")")
        case .store(let set, let op, let silent, let f, _):
            let prefix: String
            switch op {
            case .replace: prefix = ""
            case .add: prefix = "+"
            case .remove: prefix = "-"
            }
            raw(command.name + " \(set) \(prefix)FLAGS\(silent ? ".SILENT" : "") "); flags(f)
        case .copy(let set, let m, _), .move(let set, let m, _):
            raw(command.name + " \(set) "); mailbox(m)
        case .id(let fields):
            raw("ID ")
            if let fields {
                raw("(")
                for (i, f) in fields.enumerated() {
                    if i > 0 { raw(" ") }
                    if let f { string(Array(f.utf8)) } else { raw("NIL") }
                }
                raw(")")
            } else {
                raw("NIL")
            }
        case .enable(let caps): raw("ENABLE " + caps.joined(separator: " "))
        case .esearch(let key, let charset, let returns, _):
            raw(command.name + " RETURN (" + returns.map(\.rawValue).joined(separator: " ") + ") ")
            if let charset { raw("CHARSET \(charset) ") }
            if case .and(let keys) = key {
                for (i, k) in keys.enumerated() { if i > 0 { raw(" ") }; search(k) }
            } else {
                search(key)
            }
        case .sort(let keys, let charset, let key, _):
            raw(command.name + " (" + keys.map(\.description).joined(separator: " ") + ") \(charset) ")
            if case .and(let keys) = key {
                for (i, k) in keys.enumerated() { if i > 0 { raw(" ") }; search(k) }
            } else {
                search(key)
            }
        case .listExtended(let options, let r, let patterns):
            raw("LIST ")
            if !options.selection.isEmpty { raw("(" + options.selection.joined(separator: " ") + ") ") }
            mailbox(r); raw(" (")
            for (i, p) in patterns.enumerated() { if i > 0 { raw(" ") }; string(Array(IMAPModifiedUTF7.encode(p).utf8)) }
            raw(")")
            if !options.returns.isEmpty { raw(" RETURN (" + options.returns.joined(separator: " ") + ")") }
        }
        cur += [0x0D, 0x0A]
        chunks.append(cur)
        return chunks
    }
}
