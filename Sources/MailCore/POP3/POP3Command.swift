/// A POP3 command line as a client sends it (RFC 1939 §3–§7, RFC 2449 CAPA, RFC 2595 STLS,
/// RFC 5034 AUTH).
///
/// ```
/// C: USER bob            → .user("bob")
/// C: LIST 2              → .list(2)
/// C: TOP 1 10            → .top(message: 1, lines: 10)
/// ```
/// Keywords are case-insensitive; arguments are separated by single spaces.
public enum POP3Command: Equatable, Sendable {
    case user(String)
    case pass(String)
    /// `APOP name digest` (RFC 1939 §7): the digest is MD5(timestamp + secret) in lowercase hex.
    case apop(name: String, digest: String)
    /// `AUTH mechanism [initial-response]` (RFC 5034); `AUTH` alone asks for the mechanisms.
    case auth(mechanism: String?, initialResponse: String?)
    case stat
    case list(Int?)
    case retr(Int)
    case dele(Int)
    case noop
    case rset
    case top(message: Int, lines: Int)
    case uidl(Int?)
    case capa
    case stls
    case quit

    /// The command keyword in upper case.
    public var keyword: String {
        switch self {
        case .user: return "USER"
        case .pass: return "PASS"
        case .apop: return "APOP"
        case .auth: return "AUTH"
        case .stat: return "STAT"
        case .list: return "LIST"
        case .retr: return "RETR"
        case .dele: return "DELE"
        case .noop: return "NOOP"
        case .rset: return "RSET"
        case .top: return "TOP"
        case .uidl: return "UIDL"
        case .capa: return "CAPA"
        case .stls: return "STLS"
        case .quit: return "QUIT"
        }
    }

    /// The command line without its CRLF.
    public var line: String {
        switch self {
        case .user(let name): return "USER \(name)"
        case .pass(let password): return "PASS \(password)"
        case .apop(let name, let digest): return "APOP \(name) \(digest)"
        case .auth(let mechanism, let initial):
            guard let mechanism else { return "AUTH" }
            guard let initial else { return "AUTH \(mechanism)" }
            return "AUTH \(mechanism) \(initial)"
        case .stat, .noop, .rset, .capa, .stls, .quit: return keyword
        case .list(let n): return n.map { "LIST \($0)" } ?? "LIST"
        case .retr(let n): return "RETR \(n)"
        case .dele(let n): return "DELE \(n)"
        case .top(let n, let lines): return "TOP \(n) \(lines)"
        case .uidl(let n): return n.map { "UIDL \($0)" } ?? "UIDL"
        }
    }

    /// The command line as wire octets, CRLF included.
    public var encoded: [UInt8] { Array((line + "\r\n").utf8) }

    /// The line with secrets hidden, for logs and transcripts meant to be shared (PASS, APOP
    /// digest and SASL responses are redacted).
    public var redactedLine: String {
        switch self {
        case .pass: return "PASS ********"
        case .apop(let name, _): return "APOP \(name) ********"
        case .auth(let mechanism?, _?): return "AUTH \(mechanism) ********"
        default: return line
        }
    }
}

/// Why a command line could not be understood. The server answers each with `-ERR`.
public enum POP3CommandParseError: Error, Equatable, Sendable {
    case empty
    /// NUL, control or 8-bit octets in a command line.
    case invalidOctets
    case unknownCommand(keyword: String)
    case missingArgument(keyword: String)
    case tooManyArguments(keyword: String)
    case invalidArgument(keyword: String)
}

extension POP3Command {
    /// The most arguments a command may carry and the most octets one argument may hold
    /// (RFC 2449 §4: arguments up to 40 characters; RFC 5034 lets the AUTH initial response be longer).
    static let maximumArgumentLength = 40

    /// Parses one command line (without its CRLF).
    ///
    /// Grammar (RFC 2449 §4): `command = keyword *(SP param) CRLF`, `keyword = 3*4VCHAR`,
    /// `param = 1*VCHAR`. PASS takes the rest of the line as its argument, since RFC 1939 §7
    /// allows spaces in passwords.
    public static func parse(line bytes: some Collection<UInt8>) -> Result<POP3Command, POP3CommandParseError> {
        let octets = Array(bytes)
        if octets.isEmpty { return .failure(.empty) }
        for octet in octets where octet < 0x20 || octet > 0x7E {
            // A tab is tolerated as a separator by nobody here: POP3 uses single spaces.
            return .failure(.invalidOctets)
        }
        let text = String(decoding: octets, as: UTF8.self)
        let keywordEnd = text.firstIndex(of: " ") ?? text.endIndex
        let keyword = text[..<keywordEnd].uppercased()
        let rest = keywordEnd < text.endIndex ? String(text[text.index(after: keywordEnd)...]) : ""
        let arguments = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if keyword.isEmpty { return .failure(.empty) }

        func none(_ command: POP3Command) -> Result<POP3Command, POP3CommandParseError> {
            arguments.isEmpty ? .success(command) : .failure(.tooManyArguments(keyword: keyword))
        }
        func number(_ text: String) -> Int? {
            guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(text)
        }
        func messageNumber(_ text: String) -> Int? {
            guard let n = number(text), n > 0 else { return nil }
            return n
        }
        func optionalNumber(_ make: (Int?) -> POP3Command) -> Result<POP3Command, POP3CommandParseError> {
            switch arguments.count {
            case 0: return .success(make(nil))
            case 1:
                guard let n = messageNumber(arguments[0]) else { return .failure(.invalidArgument(keyword: keyword)) }
                return .success(make(n))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        }
        func requiredNumber(_ make: (Int) -> POP3Command) -> Result<POP3Command, POP3CommandParseError> {
            switch arguments.count {
            case 0: return .failure(.missingArgument(keyword: keyword))
            case 1:
                guard let n = messageNumber(arguments[0]) else { return .failure(.invalidArgument(keyword: keyword)) }
                return .success(make(n))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        }

        switch keyword {
        case "USER":
            switch arguments.count {
            case 0: return .failure(.missingArgument(keyword: keyword))
            case 1:
                guard arguments[0].utf8.count <= maximumArgumentLength else {
                    return .failure(.invalidArgument(keyword: keyword))
                }
                return .success(.user(arguments[0]))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        case "PASS":
            // RFC 1939 §7: "the server may treat the remainder of the line as the password".
            if rest.isEmpty { return .failure(.missingArgument(keyword: keyword)) }
            return .success(.pass(rest))
        case "APOP":
            switch arguments.count {
            case 0, 1: return .failure(.missingArgument(keyword: keyword))
            case 2:
                let digest = arguments[1]
                guard digest.utf8.count == 32, digest.allSatisfy(\.isHexDigit) else {
                    return .failure(.invalidArgument(keyword: keyword))
                }
                return .success(.apop(name: arguments[0], digest: digest.lowercased()))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        case "AUTH":
            switch arguments.count {
            case 0: return .success(.auth(mechanism: nil, initialResponse: nil))
            case 1: return .success(.auth(mechanism: arguments[0].uppercased(), initialResponse: nil))
            case 2: return .success(.auth(mechanism: arguments[0].uppercased(), initialResponse: arguments[1]))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        case "STAT": return none(.stat)
        case "NOOP": return none(.noop)
        case "RSET": return none(.rset)
        case "CAPA": return none(.capa)
        case "STLS": return none(.stls)
        case "QUIT": return none(.quit)
        case "LIST": return optionalNumber { .list($0) }
        case "UIDL": return optionalNumber { .uidl($0) }
        case "RETR": return requiredNumber { .retr($0) }
        case "DELE": return requiredNumber { .dele($0) }
        case "TOP":
            switch arguments.count {
            case 0, 1: return .failure(.missingArgument(keyword: keyword))
            case 2:
                guard let n = messageNumber(arguments[0]), let lines = number(arguments[1]) else {
                    return .failure(.invalidArgument(keyword: keyword))
                }
                return .success(.top(message: n, lines: lines))
            default: return .failure(.tooManyArguments(keyword: keyword))
            }
        default:
            // Keep only a short, printable keyword for the error: never echo a whole line.
            return .failure(.unknownCommand(keyword: String(keyword.prefix(8))))
        }
    }
}
