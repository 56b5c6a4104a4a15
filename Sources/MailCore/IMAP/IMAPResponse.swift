/// A server response as the client engine sees it (RFC 3501 §7).
public enum IMAPResponse: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable { case ok = "OK", no = "NO", bad = "BAD", bye = "BYE", preauth = "PREAUTH" }

    /// `* OK [code] text` and friends (also the greeting).
    case untaggedStatus(Status, code: String?, text: String)
    /// `tag OK [code] text`
    case tagged(tag: String, Status, code: String?, text: String)
    /// `+ text`
    case continuation(String)
    case capability([String])
    /// `* LIST (\HasNoChildren) "." INBOX` (or LSUB); the name is decoded from modified UTF-7.
    case list(attributes: [String], separator: String?, name: String, lsub: Bool)
    case flags([IMAPFlag])
    case exists(Int)
    case recent(Int)
    case expunge(Int)
    case search([UInt32])
    case status(mailbox: String, items: [String: UInt32])
    case fetch(seq: Int, IMAPFetchData)
    /// Anything else, kept as text.
    case other(String)
}

/// The data items of one `* n FETCH (…)` response.
public struct IMAPFetchData: Hashable, Sendable {
    public var uid: UInt32?
    public var flags: [IMAPFlag]?
    public var internalDate: IMAPDate?
    public var size: Int?
    public var envelope: IMAPEnvelope?
    /// `BODY[…]`, `RFC822`, `RFC822.HEADER`… keyed by the item name as sent (`BODY[HEADER]`).
    public var sections: [String: [UInt8]]
    public init(uid: UInt32? = nil, flags: [IMAPFlag]? = nil, internalDate: IMAPDate? = nil, size: Int? = nil,
                envelope: IMAPEnvelope? = nil, sections: [String: [UInt8]] = [:]) {
        self.uid = uid; self.flags = flags; self.internalDate = internalDate; self.size = size
        self.envelope = envelope; self.sections = sections
    }
}

/// A generic response value: atom, string, NIL or parenthesised list.
indirect enum IMAPValue: Hashable {
    case atom(String)
    case string([UInt8])
    case nil_
    case list([IMAPValue])

    var text: String? {
        switch self {
        case .atom(let a): return a
        case .string(let s): return String(decoding: s, as: UTF8.self)
        case .nil_, .list: return nil
        }
    }
}

/// Parses one complete response (lines plus literals, without the final CRLF).
public enum IMAPResponseParser {
    public static func parse(_ bytes: [UInt8]) -> IMAPResponse {
        var c = IMAPCursor(bytes: bytes, depthLimit: 64)
        if c.peek == UInt8(ascii: "+") {
            c.i += 1
            if c.peek == 0x20 { c.i += 1 }
            return .continuation(String(decoding: bytes[c.i...], as: UTF8.self))
        }
        let tag = String(decoding: c.take { $0 != 0x20 }, as: UTF8.self)
        guard c.peek == 0x20 else { return .other(String(decoding: bytes, as: UTF8.self)) }
        c.i += 1
        if tag != "*" {
            let word = String(decoding: c.take { $0 != 0x20 }, as: UTF8.self).uppercased()
            let status = IMAPResponse.Status(rawValue: word) ?? .bad
            let (code, text) = codeAndText(&c)
            return .tagged(tag: tag, status, code: code, text: text)
        }
        let first = String(decoding: c.take { $0 != 0x20 }, as: UTF8.self)
        if let n = Int(first) {
            if c.peek == 0x20 { c.i += 1 }
            let word = String(decoding: c.take { $0 != 0x20 }, as: UTF8.self).uppercased()
            switch word {
            case "EXISTS": return .exists(n)
            case "RECENT": return .recent(n)
            case "EXPUNGE": return .expunge(n)
            case "FETCH":
                if c.peek == 0x20 { c.i += 1 }
                if let value = try? parseValue(&c, depth: 0), case .list(let items) = value {
                    return .fetch(seq: n, fetchData(items))
                }
                return .other(String(decoding: bytes, as: UTF8.self))
            default: return .other(String(decoding: bytes, as: UTF8.self))
            }
        }
        if c.peek == 0x20 { c.i += 1 }
        switch first.uppercased() {
        case "OK", "NO", "BAD", "BYE", "PREAUTH":
            let (code, text) = codeAndText(&c)
            return .untaggedStatus(IMAPResponse.Status(rawValue: first.uppercased()) ?? .ok, code: code, text: text)
        case "CAPABILITY":
            return .capability(String(decoding: bytes[c.i...], as: UTF8.self).split(separator: " ").map(String.init))
        case "SEARCH":
            return .search(String(decoding: bytes[c.i...], as: UTF8.self).split(separator: " ").compactMap { UInt32($0) })
        case "FLAGS":
            if let v = try? parseValue(&c, depth: 0), case .list(let items) = v { return .flags(items.compactMap(\.text).map(IMAPFlag.init)) }
        case "LIST", "LSUB":
            if let attrs = try? parseValue(&c, depth: 0), case .list(let a) = attrs, c.peek == 0x20 {
                c.i += 1
                let sep = try? parseValue(&c, depth: 0)
                if c.peek == 0x20 { c.i += 1 }
                if let nameValue = try? parseValue(&c, depth: 0), let raw = nameValue.text {
                    let name = IMAPModifiedUTF7.decode(Array(raw.utf8)) ?? raw
                    return .list(attributes: a.compactMap(\.text), separator: sep?.text, name: name.uppercased() == "INBOX" ? "INBOX" : name,
                                 lsub: first.uppercased() == "LSUB")
                }
            }
        case "STATUS":
            if let nameValue = try? parseValue(&c, depth: 0), let raw = nameValue.text, c.peek == 0x20 {
                c.i += 1
                if let v = try? parseValue(&c, depth: 0), case .list(let items) = v {
                    var dict = [String: UInt32]()
                    var k = 0
                    while k + 1 < items.count {
                        if let key = items[k].text, let val = items[k + 1].text.flatMap({ UInt32($0) }) { dict[key.uppercased()] = val }
                        k += 2
                    }
                    return .status(mailbox: IMAPModifiedUTF7.decode(Array(raw.utf8)) ?? raw, items: dict)
                }
            }
        default: break
        }
        return .other(String(decoding: bytes, as: UTF8.self))
    }

    static func codeAndText(_ c: inout IMAPCursor) -> (String?, String) {
        if c.peek == 0x20 { c.i += 1 }
        var code: String?
        if c.peek == UInt8(ascii: "[") {
            c.i += 1
            let inner = c.take { $0 != UInt8(ascii: "]") }
            code = String(decoding: inner, as: UTF8.self)
            if c.peek == UInt8(ascii: "]") { c.i += 1 }
            if c.peek == 0x20 { c.i += 1 }
        }
        return (code, String(decoding: c.bytes[min(c.i, c.bytes.count)...], as: UTF8.self))
    }

    /// value = NIL / atom (with `[…]` sections kept whole) / quoted / literal / list
    static func parseValue(_ c: inout IMAPCursor, depth: Int) throws -> IMAPValue {
        guard depth < 64 else { throw c.error("too deep") }
        switch c.peek {
        case UInt8(ascii: "(")?:
            c.i += 1
            var items = [IMAPValue]()
            while let b = c.peek, b != UInt8(ascii: ")") {
                if b == 0x20 { c.i += 1; continue }
                items.append(try parseValue(&c, depth: depth + 1))
            }
            try c.expect(UInt8(ascii: ")"))
            return .list(items)
        case UInt8(ascii: "\"")?:
            return .string(try c.quoted())
        case UInt8(ascii: "{")?:
            return .string(try c.literal())
        case nil:
            throw c.error("end")
        default:
            var out = [UInt8]()
            var bracket = 0
            while let b = c.peek {
                if b == UInt8(ascii: "[") { bracket += 1 }
                if b == UInt8(ascii: "]") { bracket -= 1 }
                if bracket <= 0 && (b == 0x20 || b == UInt8(ascii: "(") || b == UInt8(ascii: ")")) {
                    if !(b == UInt8(ascii: "(") && bracket > 0) { break }
                }
                out.append(b); c.i += 1
            }
            guard !out.isEmpty else { throw c.error("empty") }
            let atom = String(decoding: out, as: UTF8.self)
            return atom.uppercased() == "NIL" ? .nil_ : .atom(atom)
        }
    }

    static func fetchData(_ items: [IMAPValue]) -> IMAPFetchData {
        var data = IMAPFetchData()
        var k = 0
        while k + 1 < items.count {
            guard let name = items[k].text else { k += 1; continue }
            let value = items[k + 1]
            switch name.uppercased() {
            case "UID": data.uid = value.text.flatMap { UInt32($0) }
            case "FLAGS": if case .list(let f) = value { data.flags = f.compactMap(\.text).map(IMAPFlag.init) }
            case "INTERNALDATE": data.internalDate = value.text.flatMap(IMAPDate.parseDateTime)
            case "RFC822.SIZE": data.size = value.text.flatMap { Int($0) }
            case "ENVELOPE": data.envelope = envelope(value)
            default:
                if case .string(let bytes) = value { data.sections[name.uppercased()] = bytes }
                else if case .nil_ = value { data.sections[name.uppercased()] = nil }
            }
            k += 2
        }
        return data
    }

    static func envelope(_ v: IMAPValue) -> IMAPEnvelope? {
        guard case .list(let f) = v, f.count >= 10 else { return nil }
        func addrs(_ v: IMAPValue) -> [IMAPAddress] {
            guard case .list(let list) = v else { return [] }
            return list.compactMap { a in
                guard case .list(let p) = a, p.count == 4 else { return nil }
                return IMAPAddress(name: p[0].text, adl: p[1].text, mailbox: p[2].text, host: p[3].text)
            }
        }
        return IMAPEnvelope(date: f[0].text, subject: f[1].text, from: addrs(f[2]), sender: addrs(f[3]), replyTo: addrs(f[4]),
                            to: addrs(f[5]), cc: addrs(f[6]), bcc: addrs(f[7]), inReplyTo: f[8].text, messageID: f[9].text)
    }
}
