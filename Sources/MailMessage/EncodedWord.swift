// RFC 2047 encoded words: `=?charset?B?...?=` and `=?charset?Q?...?=` in Subject and display names.

import Foundation

public enum EncodedWord {
    /// Decodes every encoded word in an unstructured header value (RFC 2047 §6). White space between two
    /// adjacent encoded words is dropped (§6.2). Returns the text and whether every word was well formed;
    /// a malformed word is kept as it is.
    public static func decode(_ value: String) -> (text: String, valid: Bool) {
        var result = ""
        var valid = true
        var rest = Substring(value)
        var previousWasEncoded = false
        while !rest.isEmpty {
            if let range = rest.range(of: "=?") {
                let before = rest[rest.startIndex..<range.lowerBound]
                if let (decoded, ok, consumed) = decodeOne(rest[range.lowerBound...]) {
                    let onlySpace = before.allSatisfy { $0.isWhitespace }
                    if !(previousWasEncoded && onlySpace) { result += before }
                    result += decoded
                    if !ok { valid = false }
                    previousWasEncoded = true
                    rest = rest[consumed...]
                } else {
                    result += rest[rest.startIndex..<rest.index(range.lowerBound, offsetBy: 2)]
                    rest = rest[rest.index(range.lowerBound, offsetBy: 2)...]
                    previousWasEncoded = false
                }
            } else {
                result += rest
                rest = rest[rest.endIndex...]
            }
        }
        return (result, valid)
    }

    /// Decodes one encoded word at the start of `text`; nil when it is not one.
    static func decodeOne(_ text: Substring) -> (String, Bool, Substring.Index)? {
        // =?charset?enc?payload?=
        let body = text.dropFirst(2)
        guard let q1 = body.firstIndex(of: "?") else { return nil }
        let charsetName = body[body.startIndex..<q1]
        let afterCharset = body[body.index(after: q1)...]
        guard let q2 = afterCharset.firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[afterCharset.startIndex..<q2]
        let payloadStart = afterCharset.index(after: q2)
        guard let end = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<end.lowerBound]
        if payload.contains(" ") || charsetName.isEmpty || charsetName.contains(" ") { return nil }
        // RFC 2231 §5 allows a language suffix: charset*lang.
        let charsetOnly = charsetName.split(separator: "*", maxSplits: 1).first.map(String.init) ?? ""
        var bytes: [UInt8]
        var ok = true
        switch encoding {
        case "B", "b":
            let decoded = Base64.decode(Array(payload.utf8))
            bytes = decoded.bytes
            ok = decoded.valid
        case "Q", "q":
            bytes = []
            let raw = Array(payload.utf8)
            var i = 0
            while i < raw.count {
                if raw[i] == UInt8(ascii: "_") { bytes.append(Bytes.space); i += 1; continue }
                if raw[i] == UInt8(ascii: "="), i + 2 < raw.count,
                   let high = QuotedPrintable.hexValue(raw[i + 1]), let low = QuotedPrintable.hexValue(raw[i + 2]) {
                    bytes.append(high << 4 | low)
                    i += 3
                    continue
                }
                if raw[i] == UInt8(ascii: "=") { ok = false }
                bytes.append(raw[i])
                i += 1
            }
        default:
            return nil
        }
        guard let charset = Charset(name: charsetOnly) else {
            return (Bytes.string(bytes), false, end.upperBound)
        }
        let decoded = charset.decode(bytes)
        return (decoded.text, ok && decoded.valid, end.upperBound)
    }

    /// True when `text` needs encoding in a header (non-ASCII, or control characters).
    public static func needsEncoding(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value > 126 || ($0.value < 32 && $0 != "\t") }
            || text.contains("=?")
    }

    /// Encodes text as UTF-8 "Q" encoded words of at most 75 characters each, separated by a space,
    /// never splitting a character (RFC 2047 §2, §5). `phrase` restricts the literal characters to
    /// those allowed in a display name (§5 rule 3).
    public static func encode(_ text: String, phrase: Bool = false) -> String {
        let prefix = "=?UTF-8?Q?"
        let suffix = "?="
        // 60 characters per word leaves room for "Subject: " on the first line (RFC 2047 §2: at most 75).
        let budget = 60 - prefix.count - suffix.count
        var words: [String] = []
        var current = ""
        for character in text {
            var chunk = ""
            for byte in String(character).utf8 {
                let isAlnum = (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                let safe = isAlnum || (phrase ? "!*+-/".utf8.contains(byte) : (33...126).contains(byte)
                    && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "?") && byte != UInt8(ascii: "_"))
                if byte == Bytes.space {
                    chunk += "_"
                } else if safe {
                    chunk += String(UnicodeScalar(byte))
                } else {
                    chunk += "=" + String(UnicodeScalar(QuotedPrintable.hexDigits[Int(byte >> 4)]))
                        + String(UnicodeScalar(QuotedPrintable.hexDigits[Int(byte & 0x0f)]))
                }
            }
            if current.count + chunk.count > budget && !current.isEmpty {
                words.append(prefix + current + suffix)
                current = ""
            }
            current += chunk
        }
        if !current.isEmpty || words.isEmpty { words.append(prefix + current + suffix) }
        return words.joined(separator: " ")
    }
}
