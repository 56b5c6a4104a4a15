/// Low-level IMAP output syntax (RFC 3501 §4): NIL, quoted strings, literals, atoms.
public enum IMAPWire {
    /// ATOM-CHAR: any CHAR except `(){ %*"\]` and controls.
    public static func isAtomChar(_ b: UInt8) -> Bool {
        guard b > 0x20 && b < 0x7F else { return false }
        switch b {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: " "), UInt8(ascii: "%"),
             UInt8(ascii: "*"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default:
            return true
        }
    }

    /// ASTRING-CHAR: ATOM-CHAR or `]`.
    public static func isAStringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == UInt8(ascii: "]") }

    /// `string`: a quoted string when possible, else a literal (CR, LF, NUL, 8-bit, or very long).
    public static func string(_ bytes: [UInt8]) -> [UInt8] {
        let needsLiteral = bytes.count > 1000 || bytes.contains { $0 == 0 || $0 == 0x0D || $0 == 0x0A || $0 > 0x7F }
        if needsLiteral { return literal(bytes) }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in bytes {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    public static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// `nstring`: NIL or a string.
    public static func nstring(_ text: String?) -> [UInt8] {
        guard let text else { return Array("NIL".utf8) }
        return string(text)
    }

    /// `{N}CRLF` followed by the octets.
    public static func literal(_ bytes: [UInt8]) -> [UInt8] {
        Array("{\(bytes.count)}\r\n".utf8) + bytes
    }

    /// `astring`: an atom when every byte allows it (and it is not `NIL`), else a string.
    public static func astring(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        if !bytes.isEmpty, bytes.allSatisfy(isAStringChar), text.uppercased() != "NIL" { return bytes }
        return string(bytes)
    }

    /// A mailbox name as sent by a server: modified UTF-7, then astring.
    public static func mailbox(_ name: String) -> [UInt8] { astring(IMAPModifiedUTF7.encode(name)) }

    /// Text made safe to echo in a response line: controls and 8-bit bytes become `?`, length capped.
    public static func sanitized(_ bytes: [UInt8], limit: Int = 80) -> String {
        var out = bytes.prefix(limit).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
        if bytes.count > limit { out += Array("...".utf8) }
        return String(decoding: out, as: UTF8.self)
    }
}
