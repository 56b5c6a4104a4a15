import MailCore

/// Hides credentials in a session log, line by line, following the dialogue.
///
/// What it hides:
/// - SMTP (RFC 4954) and POP3 (RFC 5034): the initial response of `AUTH mech initial`, and every
///   client line while the server awaits a SASL response (after `334 …`, `+ …`);
/// - POP3 (RFC 1939 §7): the argument of `PASS`, the digest of `APOP`;
/// - IMAP (RFC 9051 §6.2.2–6.2.3): the password of `tag LOGIN user password`, the initial
///   response of `tag AUTHENTICATE mech initial`, and every client line until the command's
///   final reply when it continues over lines (SASL responses, literals).
///
/// Hidden text becomes `****`; everything else stays as typed.
///
/// It reads the client's lines to know which of their bytes to hide. What the server waits for
/// (a SASL response, a literal, the message after `354`, a command again) it does not read from
/// the server's lines: the server's engine reports it with the end of each reply
/// (``serverReplied(_:)``, from the world's reply journal). What the session *did* (a login, a
/// message accepted) comes from the engines' facts (`LoopbackBridge.noteLogins()`).
public struct CredentialRedactor: Sendable {
    public static let mask = "****"

    enum State: Equatable, Sendable {
        case normal
        /// SMTP/POP3: client lines are SASL responses while the server awaits one.
        case saslExchange
        /// IMAP: client lines belong to a command carrying secrets until its final reply.
        case secretUntilReply
        /// SMTP: the server awaits the message (after DATA's 354): lines are the message until `.`.
        case messageBody
    }

    public let mailProtocol: MailProtocol?
    private(set) var state: State = .normal

    public init(mailProtocol: MailProtocol?) { self.mailProtocol = mailProtocol }

    /// The client line as it may be logged.
    public mutating func clientLine(_ line: String) -> String {
        guard let mailProtocol else { return line }
        switch state {
        case .saslExchange:
            return line == "*" ? line : Self.mask
        case .secretUntilReply:
            return Self.mask
        case .messageBody:
            if line == "." { state = .normal }
            return line
        case .normal:
            break
        }
        // Fast path (every line of a message passes here): only AUTH, PASS, APOP and IMAP's
        // LOGIN and AUTHENTICATE carry secrets.
        if !Self.mayCarrySecret(line, mailProtocol) { return line }
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
                if continues { state = .secretUntilReply }
                guard let user = Self.firstArgument(rest) else { return "\(tag) \(words[1]) \(Self.mask)" }
                return "\(tag) \(words[1]) \(user) \(Self.mask)"
            case "AUTHENTICATE":
                let parts = rest.split(separator: " ", maxSplits: 1).map(String.init)
                guard let mechanism = parts.first else { return line }
                // Without an initial response (or with one that is not the whole exchange) the
                // client's next lines are SASL responses until the final reply.
                state = .secretUntilReply
                return parts.count == 2 ? "\(tag) \(words[1]) \(mechanism) \(Self.mask)" : line
            default:
                return line
            }
        }
    }

    /// The fast path of ``clientLine(_:)`` for a line of printable ASCII, on its bytes: true when
    /// the line is logged as it is (with the same change of state ``clientLine(_:)`` would make);
    /// false, with nothing changed, when the line must go through ``clientLine(_:)``.
    public mutating func passesUnchanged(_ line: ArraySlice<UInt8>) -> Bool {
        guard let mailProtocol else { return true }
        switch state {
        case .saslExchange, .secretUntilReply:
            return false
        case .messageBody:
            if line.count == 1 && line.first == 0x2E { state = .normal }
            return true
        case .normal:
            return !Self.mayCarrySecret(line, mailProtocol)
        }
    }

    /// Follows the end of a server reply, as the server's engine reported it: what the server
    /// awaits now says whether the client's next lines are a SASL response, the rest of a command
    /// (a literal), the message, or commands again.
    public mutating func serverReplied(_ reply: ServerReply) {
        guard reply.status != .update else { return }
        switch reply.awaiting {
        case .messageData:
            state = .messageBody
        case .saslResponse:
            if state == .normal { state = .saslExchange }
        case .literal:
            break  // the command goes on with its literal: it stays as secret as it was
        case .command, .idleDone, .tlsHandshake, .nothing:
            state = .normal
        }
    }

    /// Whether a client line may be a command carrying a secret: SMTP/POP3 lines starting with
    /// A or P, IMAP lines whose second word starts with L or A (checked on bytes, no copy).
    static func mayCarrySecret(_ line: String, _ mailProtocol: MailProtocol) -> Bool {
        mayCarrySecret(line.utf8, mailProtocol)
    }

    static func mayCarrySecret<Bytes: Sequence<UInt8>>(_ line: Bytes, _ mailProtocol: MailProtocol) -> Bool {
        var bytes = line.makeIterator()
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
