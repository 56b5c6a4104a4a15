/// An extended response code (RFC 2449 §8, RFC 3206), written in brackets after the status
/// indicator: `-ERR [IN-USE] Mailbox is locked by another session`.
public enum POP3ResponseCode: Equatable, Hashable, Sendable {
    /// RFC 2449 §8.1.1: the maildrop is locked by another session.
    case inUse
    /// RFC 2449 §8.1.2: the user logged in too recently.
    case loginDelay
    /// RFC 3206 §4: a temporary system problem.
    case sysTemp
    /// RFC 3206 §4: a permanent system problem.
    case sysPerm
    /// RFC 3206 §5: the failure is about the credentials.
    case auth
    /// Any other code, kept as written (upper case).
    case other(String)

    public init(_ text: String) {
        switch text.uppercased() {
        case "IN-USE": self = .inUse
        case "LOGIN-DELAY": self = .loginDelay
        case "SYS/TEMP": self = .sysTemp
        case "SYS/PERM": self = .sysPerm
        case "AUTH": self = .auth
        case let upper: self = .other(upper)
        }
    }

    public var text: String {
        switch self {
        case .inUse: return "IN-USE"
        case .loginDelay: return "LOGIN-DELAY"
        case .sysTemp: return "SYS/TEMP"
        case .sysPerm: return "SYS/PERM"
        case .auth: return "AUTH"
        case .other(let text): return text
        }
    }
}

/// A POP3 status line (RFC 1939 §3): `+OK text`, `-ERR [CODE] text`, or the SASL continuation
/// `+ base64` of RFC 5034 §4.
public struct POP3Response: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case ok
        case err
        /// `+ ` continuation during AUTH (RFC 5034).
        case continuation
    }

    public var status: Status
    public var code: POP3ResponseCode?
    public var text: String

    public init(_ status: Status, code: POP3ResponseCode? = nil, _ text: String = "") {
        self.status = status
        self.code = code
        self.text = text
    }

    public static func ok(_ text: String = "") -> POP3Response { POP3Response(.ok, text) }
    public static func err(_ text: String) -> POP3Response { POP3Response(.err, text) }
    public static func err(_ code: POP3ResponseCode, _ text: String) -> POP3Response {
        POP3Response(.err, code: code, text)
    }

    public var isOK: Bool { status == .ok }

    /// The status line without CRLF.
    public var line: String {
        var out: String
        switch status {
        case .ok: out = "+OK"
        case .err: out = "-ERR"
        case .continuation: return "+ " + text
        }
        if let code { out += " [\(code.text)]" }
        if !text.isEmpty { out += " " + text }
        return out
    }

    /// The status line as wire octets, CRLF included.
    public var encoded: [UInt8] { Array((line + "\r\n").utf8) }

    /// Parses a status line (without CRLF). Returns nil when it starts with neither `+OK`,
    /// `-ERR` nor `+ `.
    ///
    /// Grammar (RFC 2449 §9): `single-line = status [SP text] CRLF`,
    /// `resp-code = "[" resp-level *("/" resp-level) "]"`.
    public static func parse(line bytes: some Collection<UInt8>) -> POP3Response? {
        let text = String(decoding: bytes, as: UTF8.self)
        let status: Status
        var rest: Substring
        if text.hasPrefix("+OK") {
            status = .ok
            rest = text.dropFirst(3)
        } else if text.hasPrefix("-ERR") {
            status = .err
            rest = text.dropFirst(4)
        } else if text.hasPrefix("+ ") || text == "+" {
            return POP3Response(.continuation, String(text.dropFirst(2)))
        } else {
            return nil
        }
        // "+OKAY" is not a status indicator.
        if let first = rest.first, first != " " { return nil }
        rest = rest.drop(while: { $0 == " " })
        var code: POP3ResponseCode?
        if rest.first == "[", let close = rest.firstIndex(of: "]") {
            let inside = rest[rest.index(after: rest.startIndex)..<close]
            if !inside.isEmpty, !inside.contains(" ") {
                code = POP3ResponseCode(String(inside))
                rest = rest[rest.index(after: close)...].drop(while: { $0 == " " })
            }
        }
        return POP3Response(status, code: code, String(rest))
    }
}

/// One line of a `LIST` or `UIDL` listing: message number and size, or number and unique id.
public struct POP3ScanListing: Equatable, Sendable {
    public var message: Int
    public var size: Int
    public init(message: Int, size: Int) { self.message = message; self.size = size }

    /// `1 5000` (RFC 1939 §5 "scan listing").
    public var line: String { "\(message) \(size)" }

    public static func parse(_ line: String) -> POP3ScanListing? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 2, let n = Int(parts[0]), let size = Int(parts[1]), n > 0, size >= 0 else { return nil }
        return POP3ScanListing(message: n, size: size)
    }
}

/// One line of a `UIDL` listing (RFC 1939 §7): `1 abc123def456`.
public struct POP3UniqueIDListing: Equatable, Sendable {
    public var message: Int
    public var uniqueID: String
    public init(message: Int, uniqueID: String) { self.message = message; self.uniqueID = uniqueID }

    public var line: String { "\(message) \(uniqueID)" }

    /// A unique id is 1 to 70 characters in 0x21...0x7E (RFC 1939 §7).
    public static func isValid(uniqueID: String) -> Bool {
        let octets = Array(uniqueID.utf8)
        return (1...70).contains(octets.count) && octets.allSatisfy { (0x21...0x7E).contains($0) }
    }

    public static func parse(_ line: String) -> POP3UniqueIDListing? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let n = Int(parts[0]), n > 0, isValid(uniqueID: String(parts[1])) else { return nil }
        return POP3UniqueIDListing(message: n, uniqueID: String(parts[1]))
    }
}
