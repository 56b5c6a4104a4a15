import MailCore

/// Hides credentials in a session log, line by line, following the dialogue.
///
/// What it hides:
/// - SMTP (RFC 4954) and POP3 (RFC 5034): the initial response of `AUTH mech initial`, and every
///   client line while the server keeps answering with a continuation (`334 …`, `+ …`);
/// - POP3 (RFC 1939 §7): the argument of `PASS`, the digest of `APOP`;
/// - IMAP (RFC 9051 §6.2.2–6.2.3): the password of `tag LOGIN user password`, the initial
///   response of `tag AUTHENTICATE mech initial`, and every client line until the tagged reply
///   when the command continues over lines (SASL responses, literals).
///
/// Hidden text becomes `****`; everything else stays as typed.
///
/// It reads the dialogue only to know which bytes of the log to hide (a byte log has no facts in
/// it). What the session *did* (a login, a message accepted) comes from the engines' facts: the
/// bridge learns logins from the world's journal (`LoopbackBridge.noteLogins()`).
public struct CredentialRedactor: Sendable {
    public static let mask = "****"

    enum State: Equatable, Sendable {
        case normal
        /// SMTP/POP3: client lines are SASL responses until a reply that is no continuation.
        case saslExchange
        /// IMAP: client lines belong to a command carrying secrets until the reply tagged so.
        case secretUntilTagged(String)
        /// SMTP: the client sent DATA and the server answered 354: lines are the message until `.`.
        case messageBody
    }

    public let mailProtocol: MailProtocol?
    private(set) var state: State = .normal
    /// SMTP: DATA was sent; a `354` reply starts the message.
    private var dataSent = false

    public init(mailProtocol: MailProtocol?) { self.mailProtocol = mailProtocol }

    /// The client line as it may be logged.
    public mutating func clientLine(_ line: String) -> String {
        guard let mailProtocol else { return line }
        switch state {
        case .saslExchange:
            return line == "*" ? line : Self.mask
        case .secretUntilTagged:
            return Self.mask
        case .messageBody:
            if line == "." { state = .normal }
            return line
        case .normal:
            break
        }
        // Fast path (every line of a message passes here): only AUTH, PASS, APOP and IMAP's
        // LOGIN and AUTHENTICATE carry secrets.
        if !Self.mayCarrySecret(line, mailProtocol) {
            if mailProtocol == .smtp && line.utf8.count == 4 && line.uppercased() == "DATA" { dataSent = true }
            return line
        }
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        switch mailProtocol {
        case .smtp, .pop3:
            let verb = words.first?.uppercased() ?? ""
            if verb == "AUTH" && words.count >= 2 {
                state = .saslExchange
                return words.count == 3 ? "\(words[0]) \(words[1]) \(Self.mask)" : line
            }
            if mailProtocol == .pop3 && verb == "PASS" && words.count >= 2 {
                return "\(words[0]) \(Self.mask)"
            }
            if mailProtocol == .pop3 && verb == "APOP" && words.count == 3 {
                return "\(words[0]) \(words[1]) \(Self.mask)"
            }
            return line
        case .imap:
            guard words.count >= 2 else { return line }
            let tag = words[0], command = words[1].uppercased()
            let rest = words.count == 3 ? words[2] : ""
            let continues = Self.endsWithLiteral(line)
            switch command {
            case "LOGIN":
                if continues { state = .secretUntilTagged(tag) }
                guard let user = Self.firstArgument(rest) else { return "\(tag) \(words[1]) \(Self.mask)" }
                return "\(tag) \(words[1]) \(user) \(Self.mask)"
            case "AUTHENTICATE":
                let parts = rest.split(separator: " ", maxSplits: 1).map(String.init)
                guard let mechanism = parts.first else { return line }
                // Without an initial response (or with one that is not the whole exchange) the
                // client's next lines are SASL responses until the tagged reply.
                state = .secretUntilTagged(tag)
                return parts.count == 2 ? "\(tag) \(words[1]) \(mechanism) \(Self.mask)" : line
            default:
                return line
            }
        }
    }

    /// Follows a server line (ends secret exchanges).
    public mutating func serverLine(_ line: String) {
        if dataSent {
            dataSent = false
            if line.hasPrefix("354") { state = .messageBody }
        }
        switch state {
        case .normal, .messageBody:
            return
        case .saslExchange:
            let continuation = mailProtocol == .smtp ? line.hasPrefix("334") : (line == "+" || line.hasPrefix("+ "))
            if !continuation { state = .normal }
        case let .secretUntilTagged(tag):
            if line.hasPrefix(tag + " ") { state = .normal }
        }
    }

    /// Whether a client line may be a command carrying a secret: SMTP/POP3 lines starting with
    /// A or P, IMAP lines whose second word starts with L or A (checked on bytes, no copy).
    static func mayCarrySecret(_ line: String, _ mailProtocol: MailProtocol) -> Bool {
        var bytes = line.utf8.makeIterator()
        func isAL(_ b: UInt8?) -> Bool { b == 0x41 || b == 0x61 || b == 0x4C || b == 0x6C }
        switch mailProtocol {
        case .smtp, .pop3:
            let first = bytes.next()
            return first == 0x41 || first == 0x61 || first == 0x50 || first == 0x70
        case .imap:
            while let b = bytes.next() {
                if b == 0x20 { return isAL(bytes.next()) }
            }
            return false
        }
    }

    /// The first IMAP argument when it is an atom or a quoted string (a literal is hidden).
    static func firstArgument(_ text: String) -> String? {
        guard let first = text.first else { return nil }
        if first == "{" { return nil }
        if first == "\"" {
            var escaped = false
            var index = text.index(after: text.startIndex)
            while index < text.endIndex {
                let c = text[index]
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" {
                    return String(text[...index])
                }
                index = text.index(after: index)
            }
            return nil
        }
        return text.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    /// True when the line ends with a literal's announcement `{n}` or `{n+}` (RFC 9051 §4.3, RFC 7888).
    static func endsWithLiteral(_ line: String) -> Bool {
        guard line.hasSuffix("}"), let open = line.lastIndex(of: "{") else { return false }
        var inner = line[line.index(after: open)..<line.index(before: line.endIndex)]
        if inner.hasSuffix("+") { inner = inner.dropLast() }
        return !inner.isEmpty && inner.allSatisfy(\.isNumber)
    }
}
