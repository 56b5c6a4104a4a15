// Charset decoding for text parts and encoded words (RFC 2046 §4.1.2, RFC 2047).

/// The charsets MailLab decodes: UTF-8, US-ASCII, ISO-8859-1 and windows-1252.
public enum Charset: String, Sendable, Equatable, CaseIterable {
    case utf8 = "utf-8"
    case usASCII = "us-ascii"
    case iso88591 = "iso-8859-1"
    case windows1252 = "windows-1252"

    /// Recognises the usual names and aliases, case-insensitively; nil for anything else.
    public init?(name: String) {
        switch Bytes.lowercasedASCII(Bytes.trimWSP(name)) {
        case "utf-8", "utf8": self = .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968": self = .usASCII
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1": self = .iso88591
        case "windows-1252", "cp1252": self = .windows1252
        default: return nil
        }
    }

    /// windows-1252 characters for bytes 0x80...0x9F (0 where the code page leaves a hole).
    static let windows1252High: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// Decodes bytes. `valid` is false when bytes do not belong to the charset (they become U+FFFD,
    /// or, for US-ASCII, are read as ISO-8859-1).
    public func decode(_ input: some Collection<UInt8>) -> (text: String, valid: Bool) {
        let bytes = Array(input)
        switch self {
        case .utf8:
            if let text = String(validating: bytes, as: UTF8.self) { return (text, true) }
            return (String(decoding: bytes, as: UTF8.self), false)
        case .usASCII:
            let valid = bytes.allSatisfy { $0 < 0x80 }
            return (Bytes.string(bytes), valid)
        case .iso88591:
            return (String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })), true)
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            var valid = true
            for byte in bytes {
                if (0x80...0x9F).contains(byte) {
                    let code = Charset.windows1252High[Int(byte - 0x80)]
                    if code == 0 { valid = false; scalars.append("\u{FFFD}") } else if let s = Unicode.Scalar(code) { scalars.append(s) }
                } else {
                    scalars.append(Unicode.Scalar(byte))
                }
            }
            return (String(scalars), valid)
        }
    }
}
