/// Helpers on raw RFC 5322 bytes used by FETCH and SEARCH: header fields and section extraction.
public enum IMAPMessageText {
    /// The fields of a header block as (name, raw bytes of the whole field including CRLF).
    public static func fields(_ header: ArraySlice<UInt8>) -> [(name: String, raw: ArraySlice<UInt8>)] {
        var out = [(name: String, raw: ArraySlice<UInt8>)]()
        var i = header.startIndex
        var fieldStart: Int?
        while i < header.endIndex {
            var lineEnd = i
            while lineEnd < header.endIndex, header[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < header.endIndex ? lineEnd + 1 : lineEnd
            let isBlank = lineEnd == i || (lineEnd == i + 1 && header[i] == 0x0D)
            if isBlank { break }
            let continuation = header[i] == 0x20 || header[i] == 0x09
            if !continuation {
                if let s = fieldStart { out.append(field(header[s..<i])) }
                fieldStart = i
            }
            i = next
        }
        if let s = fieldStart { out.append(field(header[s..<i])) }
        return out
    }

    private static func field(_ raw: ArraySlice<UInt8>) -> (name: String, raw: ArraySlice<UInt8>) {
        let colon = raw.firstIndex(of: UInt8(ascii: ":")) ?? raw.endIndex
        let name = String(decoding: raw[raw.startIndex..<colon], as: UTF8.self).imapTrimmingSpaces.uppercased()
        return (name, raw)
    }

    /// Unfolded values of every field named `name` (case-insensitive).
    public static func values(_ header: ArraySlice<UInt8>, named name: String) -> [String] {
        let upper = name.uppercased()
        return fields(header).filter { $0.name == upper }.map { f in
            var bytes = Array(f.raw)
            if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) { bytes.removeFirst(colon + 1) }
            let unfolded = bytes.filter { $0 != 0x0D && $0 != 0x0A }
            return String(decoding: unfolded, as: UTF8.self).imapTrimmingSpaces
        }
    }

    /// Case-insensitive (ASCII) substring test on bytes.
    public static func contains<H: Collection, N: Collection>(_ haystack: H, _ needle: N) -> Bool
    where H.Element == UInt8, N.Element == UInt8 {
        let n = needle.map(lower)
        if n.isEmpty { return true }
        let h = haystack.map(lower)
        guard h.count >= n.count else { return false }
        for start in 0...(h.count - n.count) where h[start] == n[0] {
            var ok = true
            for k in 1..<n.count where h[start + k] != n[k] { ok = false; break }
            if ok { return true }
        }
        return false
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }

    /// The octets of `BODY[section]` (RFC 3501 §6.4.5), or nil when the section does not exist.
    public static func section(_ section: IMAPSection, raw: [UInt8], layout: IMAPPartLayout) -> [UInt8]? {
        func slice(_ r: Range<Int>) -> [UInt8]? {
            guard r.lowerBound >= 0, r.upperBound <= raw.count, r.lowerBound <= r.upperBound else { return nil }
            return Array(raw[r])
        }
        var node = layout
        var isMessage = true
        for n in section.part {
            if !isMessage, let inner = node.message.first { node = inner; isMessage = true }
            if node.isMultipart {
                guard n >= 1, n <= node.parts.count else { return nil }
                node = node.parts[n - 1]
            } else if isMessage {
                guard n == 1 else { return nil }
            } else {
                return nil
            }
            isMessage = false
        }
        guard let text = section.text else {
            if section.part.isEmpty { return slice(node.header.lowerBound..<node.body.upperBound) }
            return slice(node.body)
        }
        if case .mime = text {
            return slice(node.header)
        }
        var message = node
        if !section.part.isEmpty {
            guard let inner = node.message.first else { return nil }
            message = inner
        }
        switch text {
        case .header: return slice(message.header)
        case .text: return slice(message.body)
        case .mime: return slice(node.header)
        case .headerFields(let names), .headerFieldsNot(let names):
            guard let header = slice(message.header) else { return nil }
            let wanted = Set(names.map { $0.uppercased() })
            var keepIfListed = true
            if case .headerFieldsNot = text { keepIfListed = false }
            var out = [UInt8]()
            for f in fields(header[...]) where wanted.contains(f.name) == keepIfListed { out += f.raw }
            out += [0x0D, 0x0A]
            return out
        }
    }
}
