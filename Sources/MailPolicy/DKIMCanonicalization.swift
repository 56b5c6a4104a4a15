// DKIM canonicalization (RFC 6376 §3.4): simple and relaxed, for header fields and bodies.

import MailMessage

/// A canonicalization algorithm (RFC 6376 §3.4).
public enum DKIMCanonicalization: String, Sendable, Equatable {
    case simple, relaxed

    /// One header field: `simple` keeps it byte for byte; `relaxed` lower-cases the name, unfolds,
    /// turns runs of white space into one space and trims around the colon and at the end (§3.4.2).
    /// The result ends with CR LF.
    public func canonicalize(header field: HeaderField) -> [UInt8] {
        switch self {
        case .simple:
            return Array((field.name + ":" + field.rawValue + "\r\n").utf8)
        case .relaxed:
            let name = field.name.lowercased().trimmingWhitespace()
            var value = ""
            var pendingSpace = false
            for scalar in field.rawValue.unicodeScalars {
                if scalar == "\r" || scalar == "\n" { continue }
                if scalar == " " || scalar == "\t" { pendingSpace = true; continue }
                if pendingSpace && !value.isEmpty { value += " " }
                pendingSpace = false
                value.unicodeScalars.append(scalar)
            }
            return Array((name + ":" + value + "\r\n").utf8)
        }
    }

    /// A body (RFC 6376 §3.4.3, §3.4.4): trailing empty lines removed; `relaxed` also drops white
    /// space at line ends and shortens runs of white space. An empty body is `CRLF` for simple and
    /// empty for relaxed. Bare LF line endings are read as CR LF.
    public func canonicalize(body: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(body)
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 10 {
                if current.last == 13 { current.removeLast() }
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
            i += 1
        }
        if !current.isEmpty { lines.append(current) }
        if self == .relaxed {
            lines = lines.map { line in
                var out: [UInt8] = []
                var space = false
                for byte in line {
                    if byte == 32 || byte == 9 { space = true; continue }
                    if space { out.append(32); space = false }
                    out.append(byte)
                }
                return out
            }
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        if lines.isEmpty { return self == .simple ? [13, 10] : [] }
        var out: [UInt8] = []
        for line in lines { out += line + [13, 10] }
        return out
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
