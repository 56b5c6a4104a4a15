import Crypto

/// The SASL mechanisms MailLab speaks (RFC 4422 framework, RFC 4954 for SMTP AUTH).
public enum SASLMechanism: String, CaseIterable, Sendable, Hashable {
    /// RFC 4616: `[authzid] NUL authcid NUL passwd`, in one message.
    case plain = "PLAIN"
    /// The de-facto LOGIN mechanism: user name and password, each after its own prompt.
    case login = "LOGIN"
    /// RFC 2195: challenge `<seq.time@host>`, response `user HMAC-MD5(password, challenge)` in hex.
    case cramMD5 = "CRAM-MD5"
    /// Google's XOAUTH2: `user=… ^A auth=Bearer … ^A ^A`.
    case xoauth2 = "XOAUTH2"

    /// The mechanism named by `name`, compared case-insensitively (RFC 4422 §3.1: names are upper case).
    public init?<C: Collection>(name: C) where C.Element == UInt8 {
        let upper = name.lazy.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        for mechanism in SASLMechanism.allCases where mechanism.rawValue.utf8.elementsEqual(upper) {
            self = mechanism
            return
        }
        return nil
    }
}

/// What a client proved during an exchange, handed to the credentials check.
public enum SASLCredentials: Equatable, Sendable {
    /// PLAIN or LOGIN: the password itself. `authorizationIdentity` is PLAIN's optional authzid.
    case password(user: String, password: String, authorizationIdentity: String?)
    /// XOAUTH2: a bearer token.
    case bearerToken(user: String, token: String)

    /// The authentication identity.
    public var user: String {
        switch self {
        case .password(let user, _, _): return user
        case .bearerToken(let user, _): return user
        }
    }
}

/// SASL PLAIN (RFC 4616).
public enum SASLPlain {
    /// The message `authzid NUL authcid NUL passwd` (before base64).
    public static func message(user: String, password: String, authorizationIdentity: String? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        if let authorizationIdentity { bytes.append(contentsOf: authorizationIdentity.utf8) }
        bytes.append(0)
        bytes.append(contentsOf: user.utf8)
        bytes.append(0)
        bytes.append(contentsOf: password.utf8)
        return bytes
    }

    /// Parses a decoded PLAIN message; `nil` unless it has exactly two NULs, a non-empty user,
    /// and every identity fits RFC 4616's 255-octet limit.
    public static func parse(_ message: [UInt8]) -> SASLCredentials? {
        let parts = message.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].contains(0) else { return nil }
        guard parts[0].count <= 255, parts[1].count <= 255, parts[2].count <= 255 else { return nil }
        let authzid = parts[0].isEmpty ? nil : String(decoding: parts[0], as: UTF8.self)
        return .password(user: String(decoding: parts[1], as: UTF8.self),
                         password: String(decoding: parts[2], as: UTF8.self),
                         authorizationIdentity: authzid)
    }
}

/// The LOGIN mechanism: the server prompts `Username:` then `Password:` (each base64 encoded).
public enum SASLLogin {
    public static let usernamePrompt: [UInt8] = Array("Username:".utf8)
    public static let passwordPrompt: [UInt8] = Array("Password:".utf8)
}

/// CRAM-MD5 (RFC 2195).
public enum SASLCRAMMD5 {
    /// A challenge in the RFC's msg-id form `<sequence.time@hostname>`. Deterministic: the caller
    /// supplies every part (in MailLab, a per-session counter and the virtual time).
    public static func challenge(sequence: UInt64, time: UInt64, hostname: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "<")]
        appendDecimal(sequence, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDecimal(time, to: &bytes)
        bytes.append(UInt8(ascii: "@"))
        bytes.append(contentsOf: hostname.utf8)
        bytes.append(UInt8(ascii: ">"))
        return bytes
    }

    /// HMAC-MD5(key: password, message: challenge), as 32 lower-case hex digits.
    public static func digest<C: Collection>(password: String, challenge: C) -> [UInt8] where C.Element == UInt8 {
        let key = SymmetricKey(data: Array(password.utf8))
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: Array(challenge), using: key)
        return Base16.lowercase(mac)
    }

    /// The client's response `user SP digest` (before base64).
    public static func response<C: Collection>(user: String, password: String, challenge: C) -> [UInt8] where C.Element == UInt8 {
        var bytes = Array(user.utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: digest(password: password, challenge: challenge))
        return bytes
    }

    /// Splits a decoded response at its last space: the user name and the hex digest.
    public static func parse(_ response: [UInt8]) -> (user: String, digest: [UInt8])? {
        guard let space = response.lastIndex(of: UInt8(ascii: " ")), space > 0 else { return nil }
        let digest = Array(response[(space + 1)...])
        guard digest.count == 32 else { return nil }
        var lower: [UInt8] = []
        for byte in digest {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lower.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lower.append(byte + 0x20)
            default: return nil
            }
        }
        return (String(decoding: response[..<space], as: UTF8.self), lower)
    }

    /// Checks a decoded response against the challenge and the user's password.
    public static func verify(response: [UInt8], challenge: [UInt8], password: String) -> Bool {
        guard let parsed = parse(response) else { return false }
        let expected = digest(password: password, challenge: challenge)
        // Constant-time comparison.
        var difference: UInt8 = 0
        for (a, b) in zip(expected, parsed.digest) { difference |= a ^ b }
        return difference == 0
    }

    static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

/// XOAUTH2 (Google's SASL mechanism for OAuth 2.0 bearer tokens).
public enum SASLXOAuth2 {
    /// `user=USER ^A auth=Bearer TOKEN ^A ^A` (before base64).
    public static func message(user: String, token: String) -> [UInt8] {
        var bytes = Array("user=".utf8)
        bytes.append(contentsOf: user.utf8)
        bytes.append(0x01)
        bytes.append(contentsOf: "auth=Bearer ".utf8)
        bytes.append(contentsOf: token.utf8)
        bytes.append(0x01)
        bytes.append(0x01)
        return bytes
    }

    /// Parses a decoded XOAUTH2 message.
    public static func parse(_ message: [UInt8]) -> SASLCredentials? {
        guard message.count >= 2, message[message.count - 1] == 0x01, message[message.count - 2] == 0x01 else { return nil }
        var user: String?
        var token: String?
        for field in message.dropLast(2).split(separator: 0x01, omittingEmptySubsequences: false) {
            if field.starts(with: "user=".utf8) {
                user = String(decoding: field.dropFirst(5), as: UTF8.self)
            } else if field.starts(with: "auth=".utf8) {
                let value = field.dropFirst(5)
                let scheme = Array("bearer ".utf8)
                guard value.count > scheme.count,
                      zip(value.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 }) else { return nil }
                token = String(decoding: value.dropFirst(scheme.count), as: UTF8.self)
            } else {
                return nil
            }
        }
        guard let user, !user.isEmpty, let token else { return nil }
        return .bearerToken(user: user, token: token)
    }

    /// The JSON error a server sends in its 334 challenge after a refused token.
    public static let errorChallenge: [UInt8] = Array(#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#.utf8)
}
