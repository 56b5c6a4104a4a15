// Content-Type and Content-Disposition values with parameters (RFC 2045 §5.1, RFC 2183, RFC 2231).

import Foundation

/// A parameter as written in the header (before RFC 2231 reassembly), e.g. `filename*0*`.
public struct RawParameter: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
}

/// A `type/subtype` or disposition value with parameters.
public struct MIMEHeaderValue: Sendable, Equatable, Hashable {
    /// Lower-cased main value: `text/plain` gives type "text" and subtype "plain"; a disposition has
    /// its kind in `type` ("attachment") and an empty subtype.
    public var type: String
    public var subtype: String
    /// Parameters with lower-cased names, RFC 2231 continuations joined and charsets decoded,
    /// in order of first appearance.
    public var parameters: [(name: String, value: String)]
    /// The parameters exactly as written (unquoted), for IMAP BODYSTRUCTURE.
    public var rawParameters: [RawParameter]

    public init(type: String, subtype: String, parameters: [(name: String, value: String)] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
        self.rawParameters = parameters.map { RawParameter(name: $0.name, value: $0.value) }
    }

    public static func == (lhs: MIMEHeaderValue, rhs: MIMEHeaderValue) -> Bool {
        lhs.type == rhs.type && lhs.subtype == rhs.subtype && lhs.rawParameters == rhs.rawParameters
            && lhs.parameters.map(\.name) == rhs.parameters.map(\.name) && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(subtype)
        hasher.combine(rawParameters)
    }

    /// A parameter's decoded value, by case-insensitive name.
    public func parameter(_ name: String) -> String? {
        let key = Bytes.lowercasedASCII(name)
        return parameters.first { $0.name == key }?.value
    }

    /// `type/subtype` (lower case).
    public var mimeType: String { subtype.isEmpty ? type : type + "/" + subtype }

    /// Parses `text/plain; charset="utf-8"` (with `hasSubtype`) or `attachment; filename=a.pdf`.
    public static func parse(_ value: String, hasSubtype: Bool = true) -> MIMEHeaderValue? {
        var pieces = splitParameters(value)
        guard !pieces.isEmpty else { return nil }
        let head = Bytes.lowercasedASCII(Bytes.trimWSP(pieces.removeFirst()))
        var type = head
        var subtype = ""
        if hasSubtype {
            let parts = head.split(separator: "/", maxSplits: 1).map { Bytes.trimWSP(String($0)) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            type = parts[0]
            subtype = parts[1]
        } else if type.isEmpty {
            return nil
        }
        var raw: [RawParameter] = []
        for piece in pieces {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = Bytes.lowercasedASCII(Bytes.trimWSP(String(piece[..<equals])))
            var v = Bytes.trimWSP(String(piece[piece.index(after: equals)...]))
            if v.hasPrefix("\"") {
                v = unquote(v)
            }
            if !name.isEmpty { raw.append(RawParameter(name: name, value: v)) }
        }
        var result = MIMEHeaderValue(type: type, subtype: subtype)
        result.rawParameters = raw
        result.parameters = RFC2231.combine(raw)
        return result
    }

    /// Splits at semicolons outside quoted strings, comments removed.
    static func splitParameters(_ value: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inQuotes = false
        var depth = 0
        var escaped = false
        for c in value {
            if escaped { current.append(c); escaped = false; continue }
            if inQuotes {
                if c == "\\" { escaped = true }
                if c == "\"" { inQuotes = false }
                current.append(c)
                continue
            }
            if depth > 0 {
                if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                continue
            }
            switch c {
            case "\"": inQuotes = true; current.append(c)
            case "(": depth = 1
            case ";": pieces.append(current); current = ""
            default: current.append(c)
            }
        }
        pieces.append(current)
        return pieces.enumerated().filter { $0.offset == 0 || !Bytes.trimWSP($0.element).isEmpty }.map(\.element)
    }

    static func unquote(_ text: String) -> String {
        var out = ""
        var escaped = false
        for c in text.dropFirst() {
            if escaped { out.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "\"" { break }
            out.append(c)
        }
        return out
    }

    /// The header form, with values quoted when needed and non-ASCII values written with RFC 2231
    /// (`name*=utf-8''caf%C3%A9.pdf`); long values are split in continuations.
    public var headerFormat: String {
        var text = mimeType
        for (name, value) in parameters {
            text += "; " + RFC2231.format(name: name, value: value)
        }
        return text
    }
}

/// RFC 2231 parameter value continuations and charset/language encoding.
public enum RFC2231 {
    /// Joins `name*0`, `name*1*`, … and decodes `name*=charset'lang'%XX` values.
    static func combine(_ raw: [RawParameter]) -> [(name: String, value: String)] {
        var order: [String] = []
        var plain: [String: String] = [:]
        var sections: [String: [(index: Int, value: String, encoded: Bool)]] = [:]
        for parameter in raw {
            var name = parameter.name
            var encoded = false
            if name.hasSuffix("*") { encoded = true; name.removeLast() }
            var index: Int?
            if let star = name.lastIndex(of: "*"), let n = Int(name[name.index(after: star)...]) {
                index = n
                name = String(name[..<star])
            }
            if !order.contains(name) { order.append(name) }
            if index == nil && !encoded {
                if plain[name] == nil { plain[name] = parameter.value }
            } else {
                sections[name, default: []].append((index ?? 0, parameter.value, encoded))
            }
        }
        var result: [(name: String, value: String)] = []
        for name in order {
            if let parts = sections[name] {
                let sorted = parts.sorted { $0.index < $1.index }
                var charset: Charset? = .utf8
                var bytes: [UInt8] = []
                for (position, part) in sorted.enumerated() {
                    var value = Substring(part.value)
                    if part.encoded && position == 0 {
                        // charset'language'value
                        let fields = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                        if fields.count == 3 {
                            charset = Charset(name: String(fields[0])) ?? (fields[0].isEmpty ? .usASCII : nil)
                            value = fields[2]
                        }
                    }
                    if part.encoded { bytes += percentDecode(value) } else { bytes += Array(value.utf8) }
                }
                let text = (charset ?? .utf8).decode(bytes).text
                result.append((name, text))
            } else if let value = plain[name] {
                result.append((name, EncodedWord.decode(value).text))
            }
        }
        return result
    }

    static func percentDecode(_ text: Substring) -> [UInt8] {
        let raw = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "%"), i + 2 < raw.count,
               let high = QuotedPrintable.hexValue(raw[i + 1]), let low = QuotedPrintable.hexValue(raw[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return out
    }

    static let tokenSpecials: Set<UInt8> = Set("()<>@,;:\\\"/[]?= ".utf8)

    /// One parameter in header form.
    static func format(name: String, value: String) -> String {
        let ascii = value.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value < 127 }
        if ascii {
            let isToken = !value.isEmpty && value.utf8.allSatisfy { !tokenSpecials.contains($0) }
            let text = isToken ? value : "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            if name.count + text.count < 60 { return name + "=" + text }
        }
        // Percent-encode as UTF-8; split into 40-character sections so each fits on a line.
        var encoded = ""
        for byte in value.utf8 {
            let isAttr = (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                || "!#$&+-.^_`|~".utf8.contains(byte)
            encoded += isAttr ? String(UnicodeScalar(byte)) : "%" + String(UnicodeScalar(QuotedPrintable.hexDigits[Int(byte >> 4)]))
                + String(UnicodeScalar(QuotedPrintable.hexDigits[Int(byte & 0x0f)]))
        }
        let prefixed = "utf-8''" + encoded
        if prefixed.count <= 50 { return name + "*=" + prefixed }
        var sections: [String] = []
        var rest = Substring(prefixed)
        while !rest.isEmpty {
            var end = rest.index(rest.startIndex, offsetBy: min(40, rest.count))
            // Never split a %XX triplet.
            let window = rest[rest.startIndex..<end]
            if let percent = window.lastIndex(of: "%"), window.distance(from: percent, to: window.endIndex) < 3 {
                end = percent
            }
            sections.append(String(rest[rest.startIndex..<end]))
            rest = rest[end...]
        }
        return sections.enumerated().map { "\(name)*\($0.offset)*=\($0.element)" }.joined(separator: "; ")
    }
}
