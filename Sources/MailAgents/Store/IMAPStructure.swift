import MailCore

/// Computes ENVELOPE, BODYSTRUCTURE and the part layout of a raw message (RFC 5322 header,
/// MIME RFC 2045/2046 structure) for the IMAP server.
///
/// This is a compact header and MIME walker of its own: it unfolds headers, reads address lists
/// with display names and groups, Content-Type with parameters, multipart boundaries and
/// `message/rfc822` encapsulation, nested to a bounded depth. It is the one entry point to re-point
/// to the MailMessage parser later.
public enum IMAPStructure {
    static let maxDepth = 20

    /// Analyses a whole message.
    public static func analyze(rawMessage raw: [UInt8]) -> IMAPMessageStructure {
        let (body, layout, envelope) = analyzeMessage(raw, range: 0..<raw.count, depth: 0)
        return IMAPMessageStructure(envelope: envelope, body: body, layout: layout)
    }

    // MARK: message and parts

    static func analyzeMessage(_ raw: [UInt8], range: Range<Int>, depth: Int) -> (IMAPBodyStructure, IMAPPartLayout, IMAPEnvelope) {
        let (header, body) = splitHeader(raw, range)
        let envelope = makeEnvelope(raw[header])
        let (structure, layout) = analyzePart(raw, header: header, body: body, defaultType: ("text", "plain"), depth: depth)
        return (structure, layout, envelope)
    }

    /// Splits at the first empty line: the header range includes the empty line.
    static func splitHeader(_ raw: [UInt8], _ range: Range<Int>) -> (Range<Int>, Range<Int>) {
        var i = range.lowerBound
        // A part that starts with an empty line has an empty header.
        if i < range.upperBound, raw[i] == 0x0A { return (i..<i + 1, i + 1..<range.upperBound) }
        if i + 1 < range.upperBound, raw[i] == 0x0D, raw[i + 1] == 0x0A { return (i..<i + 2, i + 2..<range.upperBound) }
        while i < range.upperBound {
            if raw[i] == 0x0A {
                let next = i + 1
                if next < range.upperBound, raw[next] == 0x0A { return (range.lowerBound..<next + 1, next + 1..<range.upperBound) }
                if next + 1 < range.upperBound, raw[next] == 0x0D, raw[next + 1] == 0x0A {
                    return (range.lowerBound..<next + 2, next + 2..<range.upperBound)
                }
            }
            i += 1
        }
        return (range, range.upperBound..<range.upperBound)
    }

    static func analyzePart(_ raw: [UInt8], header: Range<Int>, body: Range<Int>, defaultType: (String, String),
                            depth: Int) -> (IMAPBodyStructure, IMAPPartLayout) {
        let fields = raw[header]
        let contentType = IMAPMessageText.values(fields, named: "Content-Type").first.map(parseContentType)
        var type = contentType?.type ?? defaultType.0
        var subtype = contentType?.subtype ?? defaultType.1
        var params = contentType?.parameters ?? []
        if contentType == nil && type == "text" { params = [IMAPParameter("CHARSET", "us-ascii")] }
        let disposition = IMAPMessageText.values(fields, named: "Content-Disposition").first.map(parseContentType).map {
            IMAPDisposition(kind: $0.type.uppercased(), parameters: $0.parameters.map { ($0.name.uppercased(), $0.value) })
        }
        let encoding = IMAPMessageText.values(fields, named: "Content-Transfer-Encoding").first?.uppercased() ?? "7BIT"
        let id = IMAPMessageText.values(fields, named: "Content-ID").first
        let description = IMAPMessageText.values(fields, named: "Content-Description").first

        if type == "multipart", depth < maxDepth,
           let boundary = params.first(where: { $0.name.lowercased() == "boundary" })?.value, !boundary.isEmpty {
            let ranges = splitMultipart(raw, body, boundary: Array(boundary.utf8))
            if !ranges.isEmpty {
                let childDefault = subtype.lowercased() == "digest" ? ("message", "rfc822") : ("text", "plain")
                var parts = [IMAPBodyStructure](), layouts = [IMAPPartLayout]()
                for r in ranges {
                    let (h, b) = splitHeader(raw, r)
                    let (s, l) = analyzePart(raw, header: h, body: b, defaultType: childDefault, depth: depth + 1)
                    parts.append(s); layouts.append(l)
                }
                return (.multipart(parts: parts, subtype: subtype, parameters: params, disposition: disposition),
                        IMAPPartLayout(header: header, body: body, parts: layouts, isMultipart: true))
            }
            // A multipart without any delimiter is shown as text/plain (RFC 2046 §5.1.7 fallback).
            type = "text"; subtype = "plain"; params = [IMAPParameter("CHARSET", "us-ascii")]
        } else if type == "multipart" {
            type = "text"; subtype = "plain"; params = [IMAPParameter("CHARSET", "us-ascii")]
        }
        let size = body.count
        if type == "message" && subtype.lowercased() == "rfc822" && depth < maxDepth {
            let (s, l, env) = analyzeMessage(raw, range: body, depth: depth + 1)
            let single = IMAPSinglePart(type: type, subtype: subtype, parameters: params, id: id, description: description,
                                        encoding: encoding, size: size, lines: lineCount(raw[body]),
                                        message: IMAPEncapsulatedMessage(envelope: env, body: s), disposition: disposition)
            return (.single(single), IMAPPartLayout(header: header, body: body, message: l))
        }
        let single = IMAPSinglePart(type: type, subtype: subtype, parameters: params, id: id, description: description,
                                    encoding: encoding, size: size, lines: type == "text" ? lineCount(raw[body]) : nil,
                                    disposition: disposition)
        return (.single(single), IMAPPartLayout(header: header, body: body))
    }

    static func lineCount(_ bytes: ArraySlice<UInt8>) -> Int {
        let n = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if let last = bytes.last, last != 0x0A { return n + 1 }
        return n
    }

    /// The ranges of each body part between `--boundary` delimiter lines (RFC 2046 §5.1.1). The CRLF
    /// before a delimiter belongs to the delimiter.
    static func splitMultipart(_ raw: [UInt8], _ body: Range<Int>, boundary: [UInt8]) -> [Range<Int>] {
        let dash = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts = [Range<Int>]()
        var partStart: Int?
        var lineStart = body.lowerBound
        while lineStart < body.upperBound {
            var lineEnd = lineStart
            while lineEnd < body.upperBound, raw[lineEnd] != 0x0A { lineEnd += 1 }
            let next = min(lineEnd + 1, body.upperBound)
            var content = raw[lineStart..<lineEnd]
            if content.last == 0x0D { content = content.dropLast() }
            while let l = content.last, l == 0x20 || l == 0x09 { content = content.dropLast() }
            if content.starts(with: dash) {
                let rest = content.dropFirst(dash.count)
                let closing = rest.elementsEqual([UInt8(ascii: "-"), UInt8(ascii: "-")])
                if rest.isEmpty || closing {
                    if let s = partStart {
                        var end = lineStart
                        if end > s, raw[end - 1] == 0x0A { end -= 1; if end > s, raw[end - 1] == 0x0D { end -= 1 } }
                        parts.append(s..<max(s, end))
                    }
                    if closing { return parts }
                    partStart = next
                }
            }
            lineStart = next
        }
        // No closing delimiter: the last part runs to the end.
        if let s = partStart { parts.append(s..<body.upperBound) }
        return parts
    }

    // MARK: header values

    struct ContentType {
        var type: String
        var subtype: String
        var parameters: [IMAPParameter]
    }

    /// `text/plain; charset="utf-8"; format=flowed` (RFC 2045 §5.1). Also used for Content-Disposition.
    static func parseContentType(_ value: String) -> ContentType {
        let segments = splitOutsideQuotes(stripComments(value), separator: ";")
        let main = (segments.first ?? "").imapTrimmed
        let typeParts = main.split(separator: "/", maxSplits: 1).map { String($0).imapTrimmed.lowercased() }
        var params = [IMAPParameter]()
        for seg in segments.dropFirst() {
            guard let eq = seg.firstIndex(of: "=") else { continue }
            let name = String(seg[seg.startIndex..<eq]).imapTrimmed
            var val = String(seg[seg.index(after: eq)...]).imapTrimmed
            if val.count >= 2, val.first == "\"", val.last == "\"" {
                var out = "", escaped = false
                for ch in val.dropFirst().dropLast() {
                    if escaped { out.append(ch); escaped = false } else if ch == "\\" { escaped = true } else { out.append(ch) }
                }
                val = out
            }
            if !name.isEmpty { params.append(IMAPParameter(name.uppercased(), val)) }
        }
        if typeParts.count == 2, !typeParts[0].isEmpty, !typeParts[1].isEmpty {
            return ContentType(type: typeParts[0], subtype: typeParts[1], parameters: params)
        }
        return ContentType(type: typeParts.first ?? "", subtype: "", parameters: params)
    }

    static func stripComments(_ s: String) -> String {
        var out = "", depth = 0, inQuote = false, escaped = false
        for ch in s {
            if escaped { if depth == 0 { out.append(ch) }; escaped = false; continue }
            if ch == "\\" { escaped = true; if depth == 0 { out.append(ch) }; continue }
            if inQuote { if ch == "\"" { inQuote = false }; out.append(ch); continue }
            if ch == "\"" && depth == 0 { inQuote = true; out.append(ch); continue }
            if ch == "(" { depth += 1; continue }
            if ch == ")" && depth > 0 { depth -= 1; continue }
            if depth == 0 { out.append(ch) }
        }
        return out
    }

    static func splitOutsideQuotes(_ s: String, separator: Character) -> [String] {
        var out = [String](), cur = "", inQuote = false, escaped = false
        for ch in s {
            if escaped { cur.append(ch); escaped = false; continue }
            if ch == "\\" && inQuote { escaped = true; cur.append(ch); continue }
            if ch == "\"" { inQuote.toggle() }
            if ch == separator && !inQuote { out.append(cur); cur = ""; continue }
            cur.append(ch)
        }
        out.append(cur)
        return out
    }

    static func makeEnvelope(_ header: ArraySlice<UInt8>) -> IMAPEnvelope {
        func one(_ name: String) -> String? { IMAPMessageText.values(header, named: name).first }
        func addresses(_ name: String) -> [IMAPAddress] {
            IMAPMessageText.values(header, named: name).flatMap(parseAddressList)
        }
        return IMAPEnvelope(date: one("Date"), subject: one("Subject"), from: addresses("From"), sender: addresses("Sender"),
                            replyTo: addresses("Reply-To"), to: addresses("To"), cc: addresses("Cc"), bcc: addresses("Bcc"),
                            inReplyTo: one("In-Reply-To"), messageID: one("Message-ID"))
    }

    /// Parses an RFC 5322 address list: `Alice <alice@example.com>`, `"Doe, J." <j@x>`,
    /// `bob@company.org (Bob)`, groups `team: a@x, b@y;`.
    public static func parseAddressList(_ value: String) -> [IMAPAddress] {
        var result = [IMAPAddress]()
        // Split at top-level commas, keeping groups (between ':' and ';') together.
        var items = [String](), cur = "", inQuote = false, angle = 0, escaped = false, depth = 0
        for ch in value {
            if escaped { cur.append(ch); escaped = false; continue }
            if ch == "\\" && (inQuote || depth > 0) { escaped = true; cur.append(ch); continue }
            if inQuote { if ch == "\"" { inQuote = false }; cur.append(ch); continue }
            switch ch {
            case "\"": inQuote = true
            case "(": depth += 1
            case ")": if depth > 0 { depth -= 1 }
            case "<": if depth == 0 { angle += 1 }
            case ">": if depth == 0 && angle > 0 { angle -= 1 }
            case ":" where depth == 0 && angle == 0:
                // group: name ':' members ';'
                let name = cur.imapTrimmed
                cur = ""
                result += flush(&items)
                // Group start: (NIL NIL "name" NIL); the members follow, the ';' ends it.
                result.append(IMAPAddress(name: nil, mailbox: unquote(name), host: nil))
                continue
            case ";" where depth == 0 && angle == 0:
                items.append(cur); cur = ""
                result += flush(&items)
                result.append(IMAPAddress(name: nil, mailbox: nil, host: nil))
                continue
            case "," where depth == 0 && angle == 0:
                items.append(cur); cur = ""
                continue
            default: break
            }
            cur.append(ch)
        }
        items.append(cur)
        result += flush(&items)
        return result
    }

    private static func flush(_ items: inout [String]) -> [IMAPAddress] {
        defer { items.removeAll() }
        return items.compactMap(parseMailbox)
    }

    /// One mailbox: `Name <local@domain>` or `local@domain (comment)`.
    static func parseMailbox(_ text: String) -> IMAPAddress? {
        let t = text.imapTrimmed
        guard !t.isEmpty else { return nil }
        if let lt = lastIndexOutsideQuotes(t, "<"), let gt = t[lt...].firstIndex(of: ">") {
            var name = stripComments(String(t[t.startIndex..<lt])).imapTrimmed
            name = unquote(name)
            var spec = String(t[t.index(after: lt)..<gt]).imapTrimmed
            var adl: String?
            if spec.hasPrefix("@"), let colon = spec.firstIndex(of: ":") {
                adl = String(spec[spec.startIndex..<colon])
                spec = String(spec[spec.index(after: colon)...])
            }
            let (local, host) = splitAddrSpec(spec)
            return IMAPAddress(name: name.isEmpty ? nil : name, adl: adl, mailbox: local, host: host)
        }
        var name: String?
        if let open = t.firstIndex(of: "("), let close = t.lastIndex(of: ")"), open < close {
            let comment = String(t[t.index(after: open)..<close]).imapTrimmed
            if !comment.isEmpty { name = comment }
        }
        let spec = stripComments(t).imapTrimmed
        let (local, host) = splitAddrSpec(spec)
        return IMAPAddress(name: name, mailbox: local, host: host)
    }

    static func splitAddrSpec(_ spec: String) -> (String?, String?) {
        guard let at = lastIndexOutsideQuotes(spec, "@") else { return (spec.isEmpty ? nil : unquoteLocal(spec), nil) }
        let local = String(spec[spec.startIndex..<at]).imapTrimmed
        let host = String(spec[spec.index(after: at)...]).imapTrimmed
        return (local.isEmpty ? nil : unquoteLocal(local), host.isEmpty ? nil : host)
    }

    /// Keeps a quoted local part quoted as written, minus surrounding spaces.
    static func unquoteLocal(_ s: String) -> String { s }

    static func unquote(_ s: String) -> String {
        guard s.count >= 2, s.first == "\"", s.last == "\"" else { return s }
        var out = "", escaped = false
        for ch in s.dropFirst().dropLast() {
            if escaped { out.append(ch); escaped = false } else if ch == "\\" { escaped = true } else { out.append(ch) }
        }
        return out
    }

    static func lastIndexOutsideQuotes(_ s: String, _ target: Character) -> String.Index? {
        var found: String.Index?
        var inQuote = false, escaped = false
        var i = s.startIndex
        while i < s.endIndex {
            let ch = s[i]
            if escaped { escaped = false } else if ch == "\\" && inQuote { escaped = true } else if ch == "\"" { inQuote.toggle() }
            else if ch == target && !inQuote { found = i }
            i = s.index(after: i)
        }
        return found
    }
}

extension String {
    var imapTrimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
