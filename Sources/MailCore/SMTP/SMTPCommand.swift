/// `BODY=` of MAIL (RFC 6152).
public enum SMTPBodyType: String, Hashable, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}

/// ESMTP parameters of MAIL FROM (RFC 1870 SIZE, RFC 6152 BODY, RFC 4954 AUTH, RFC 3461 RET/ENVID).
public struct SMTPMailParameters: Hashable, Sendable {
    /// `SIZE=n`: the size the client announces.
    public var size: Int?
    public var body: SMTPBodyType?
    /// `AUTH=` (xtext, `<>` when unknown).
    public var auth: String?
    /// `RET=FULL|HDRS`.
    public var ret: String?
    /// `ENVID=` (xtext).
    public var envelopeID: String?

    public init(size: Int? = nil, body: SMTPBodyType? = nil, auth: String? = nil, ret: String? = nil, envelopeID: String? = nil) {
        self.size = size
        self.body = body
        self.auth = auth
        self.ret = ret
        self.envelopeID = envelopeID
    }
}

/// ESMTP parameters of RCPT TO (RFC 3461 DSN).
public struct SMTPRecipientParameters: Hashable, Sendable {
    public enum Notify: String, Hashable, Sendable { case never = "NEVER", success = "SUCCESS", failure = "FAILURE", delay = "DELAY" }
    /// `NOTIFY=`; empty when absent.
    public var notify: [Notify]
    /// `ORCPT=addr-type;xtext`.
    public var originalRecipient: String?

    public init(notify: [Notify] = [], originalRecipient: String? = nil) {
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

/// A command from an SMTP client (RFC 5321 §4.1.1 and the extensions MailLab offers).
public enum SMTPCommand: Hashable, Sendable {
    case helo(String)
    case ehlo(String)
    case mail(SMTPPath, SMTPMailParameters)
    case rcpt(SMTPPath, SMTPRecipientParameters)
    case data
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help
    /// ETRN (RFC 1985): a domain, `@domain` or `#queue`.
    case etrn(String)
    case starttls
    /// AUTH mechanism [initial-response]; `initialResponse` is the base64 text as sent (`=` for empty).
    case auth(mechanism: String, initialResponse: [UInt8]?)

    /// The command's verb in upper case.
    public var verb: String {
        switch self {
        case .helo: return "HELO"
        case .ehlo: return "EHLO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .vrfy: return "VRFY"
        case .expn: return "EXPN"
        case .help: return "HELP"
        case .etrn: return "ETRN"
        case .starttls: return "STARTTLS"
        case .auth: return "AUTH"
        }
    }

    /// Encodes the command line, CRLF included (the client's side).
    public func encode(into bytes: inout [UInt8]) {
        func put(_ string: String) { bytes.append(contentsOf: string.utf8) }
        switch self {
        case .helo(let domain): put("HELO "); put(domain)
        case .ehlo(let domain): put("EHLO "); put(domain)
        case .mail(let path, let parameters):
            put("MAIL FROM:"); path.encode(into: &bytes)
            if let size = parameters.size { put(" SIZE="); SASLCRAMMD5.appendDecimal(UInt64(max(0, size)), to: &bytes) }
            if let body = parameters.body { put(" BODY="); put(body.rawValue) }
            if let ret = parameters.ret { put(" RET="); put(ret) }
            if let envid = parameters.envelopeID { put(" ENVID="); put(envid) }
            if let auth = parameters.auth { put(" AUTH="); put(auth) }
        case .rcpt(let path, let parameters):
            put("RCPT TO:"); path.encode(into: &bytes)
            if !parameters.notify.isEmpty { put(" NOTIFY="); put(parameters.notify.map(\.rawValue).joined(separator: ",")) }
            if let orcpt = parameters.originalRecipient { put(" ORCPT="); put(orcpt) }
        case .data: put("DATA")
        case .rset: put("RSET")
        case .noop: put("NOOP")
        case .quit: put("QUIT")
        case .vrfy(let argument): put("VRFY "); put(argument)
        case .expn(let argument): put("EXPN "); put(argument)
        case .help: put("HELP")
        case .etrn(let argument): put("ETRN "); put(argument)
        case .starttls: put("STARTTLS")
        case .auth(let mechanism, let initialResponse):
            put("AUTH "); put(mechanism)
            if let initialResponse { bytes.append(UInt8(ascii: " ")); bytes.append(contentsOf: initialResponse) }
        }
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
    }

    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }
}

/// Why a command line was refused; each case knows the reply Postfix-like servers give.
public enum SMTPCommandError: Error, Hashable, Sendable {
    /// Empty line, NUL, bare CR, other control characters or 8-bit bytes.
    case badSyntax
    /// A verb this server does not know.
    case unknownCommand
    /// A verb it knows but does not implement (EXPN, HELP, TURN).
    case notImplemented
    /// Wrong arguments for a known verb; carries the verb.
    case syntax(String)
    case badSenderAddress
    case badRecipientAddress
    case senderPathTooLong
    case recipientPathTooLong
    /// An ESMTP parameter this server does not know (RFC 5321 §4.1.1.11: 555).
    case unsupportedParameter(String)
    /// A known parameter with a bad value; carries the parameter name.
    case badParameter(String)

    /// The reply for this error.
    public var reply: SMTPReply {
        switch self {
        case .badSyntax: return SMTPReply(code: 500, "5.5.2", "Error: bad syntax")
        case .unknownCommand: return SMTPReply(code: 502, "5.5.2", "Error: command not recognized")
        case .notImplemented: return SMTPReply(code: 502, "5.5.1", "Error: command not implemented")
        case .syntax(let verb):
            switch verb {
            case "HELO": return SMTPReply(code: 501, nil, "Syntax: HELO hostname")
            case "EHLO": return SMTPReply(code: 501, nil, "Syntax: EHLO hostname")
            case "MAIL": return SMTPReply(code: 501, "5.5.4", "Syntax: MAIL FROM:<address>")
            case "RCPT": return SMTPReply(code: 501, "5.5.4", "Syntax: RCPT TO:<address>")
            case "VRFY": return SMTPReply(code: 501, "5.5.4", "Syntax: VRFY address")
            case "ETRN": return SMTPReply(code: 501, "5.5.4", "Syntax: ETRN domain")
            case "AUTH": return SMTPReply(code: 501, "5.5.4", "Syntax: AUTH mechanism")
            default: return SMTPReply(code: 501, "5.5.4", "Syntax: \(verb)")
            }
        case .badSenderAddress: return SMTPReply(code: 501, "5.1.7", "Bad sender address syntax")
        case .badRecipientAddress: return SMTPReply(code: 501, "5.1.3", "Bad recipient address syntax")
        case .senderPathTooLong: return SMTPReply(code: 501, "5.1.7", "Path too long")
        case .recipientPathTooLong: return SMTPReply(code: 501, "5.1.3", "Path too long")
        case .unsupportedParameter(let name): return SMTPReply(code: 555, "5.5.4", "Unsupported option: \(name)")
        case .badParameter(let name): return SMTPReply(code: 501, "5.5.4", "Bad \(name) parameter syntax")
        }
    }
}

/// Parses command lines (without CRLF) into `SMTPCommand`s (RFC 5321 §4.1.1, §4.1.2).
/// Verbs are case-insensitive; the line must be 7-bit printable text.
public enum SMTPCommandParser {
    @inline(__always)
    static func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }

    /// Packs up to the first four upper-cased bytes of the verb for a quick switch.
    @inline(__always)
    static func verbKey(_ line: ArraySlice<UInt8>, _ end: Int) -> UInt32 {
        var key: UInt32 = 0
        var index = line.startIndex
        while index < end && index < line.startIndex + 4 {
            key = key << 8 | UInt32(upper(line[index]))
            index += 1
        }
        return key
    }

    static func key(_ s: StaticString) -> UInt32 {
        var key: UInt32 = 0
        s.withUTF8Buffer { for byte in $0 { key = key << 8 | UInt32(byte) } }
        return key
    }

    static let kHELO = key("HELO"), kEHLO = key("EHLO"), kMAIL = key("MAIL"), kRCPT = key("RCPT"), kDATA = key("DATA"),
        kRSET = key("RSET"), kNOOP = key("NOOP"), kQUIT = key("QUIT"), kVRFY = key("VRFY"), kEXPN = key("EXPN"),
        kHELP = key("HELP"), kETRN = key("ETRN"), kAUTH = key("AUTH"), kTURN = key("TURN"), kSTAR = key("STAR")

    /// True when every byte is printable US-ASCII or a space/tab (no NUL, CR, LF, DEL or 8-bit).
    @inline(__always)
    public static func isCleanText(_ line: ArraySlice<UInt8>) -> Bool {
        for byte in line where byte < 0x20 || byte >= 0x7F {
            if byte != 0x09 { return false }
        }
        return true
    }

    /// Parses one command line (no CRLF).
    public static func parse(_ line: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        guard !line.isEmpty, isCleanText(line) else { return .failure(.badSyntax) }
        let verbEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let verbLength = verbEnd - line.startIndex
        var argument = line[verbEnd...]
        if !argument.isEmpty { argument = argument.dropFirst() }
        let key = verbKey(line, verbEnd)
        if verbLength == 4 {
            switch key {
            case kHELO, kEHLO:
                let domain = trimmed(argument)
                let name = "HELO"
                guard !domain.isEmpty else { return .failure(.syntax(key == kHELO ? name : "EHLO")) }
                // The first word only, limited like a domain (RFC 5321 §4.1.1.1).
                let word = domain.prefix(while: { $0 != UInt8(ascii: " ") && $0 != 0x09 }).prefix(SMTPPathParser.maxDomainLength)
                let text = String(decoding: word, as: UTF8.self)
                return .success(key == kHELO ? .helo(text) : .ehlo(text))
            case kMAIL: return parseMail(argument)
            case kRCPT: return parseRcpt(argument)
            case kDATA: return noArgument(argument, .data, "DATA")
            case kRSET: return noArgument(argument, .rset, "RSET")
            case kQUIT: return noArgument(argument, .quit, "QUIT")
            case kNOOP: return .success(.noop)  // NOOP may carry a string (RFC 5321 §4.1.1.9)
            case kHELP: return .success(.help)
            case kVRFY, kEXPN, kETRN:
                let value = trimmed(argument)
                let verb = key == kVRFY ? "VRFY" : key == kEXPN ? "EXPN" : "ETRN"
                guard !value.isEmpty else { return .failure(.syntax(verb)) }
                let text = String(decoding: value, as: UTF8.self)
                return .success(key == kVRFY ? .vrfy(text) : key == kEXPN ? .expn(text) : .etrn(text))
            case kAUTH: return parseAuth(argument)
            case kTURN: return .failure(.notImplemented)
            default: return .failure(.unknownCommand)
            }
        }
        if verbLength == 8 && key == kSTAR {
            let rest = line[(line.startIndex + 4)..<verbEnd].map(upper)
            if rest == Array("TTLS".utf8) { return noArgument(argument, .starttls, "STARTTLS") }
        }
        return .failure(.unknownCommand)
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    static func noArgument(_ argument: ArraySlice<UInt8>, _ command: SMTPCommand, _ verb: String) -> Result<SMTPCommand, SMTPCommandError> {
        trimmed(argument).isEmpty ? .success(command) : .failure(.syntax(verb))
    }

    /// Matches `keyword` (upper case) at the start of `bytes`, case-insensitively; returns the rest.
    static func dropPrefix(_ bytes: ArraySlice<UInt8>, _ keyword: StaticString) -> ArraySlice<UInt8>? {
        var index = bytes.startIndex
        var matched = true
        keyword.withUTF8Buffer { buffer in
            for byte in buffer {
                guard index < bytes.endIndex, upper(bytes[index]) == byte else { matched = false; return }
                index += 1
            }
        }
        return matched ? bytes[index...] : nil
    }

    /// Splits `FROM:<path> params` into the path (with brackets) and the parameter words.
    /// Tolerates a space after the colon, as many servers do.
    static func splitPath(_ rest: ArraySlice<UInt8>) -> (path: ArraySlice<UInt8>, parameters: ArraySlice<UInt8>)? {
        var rest = rest
        while rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
        guard rest.first == UInt8(ascii: "<") else { return nil }
        // The path ends at the first ">" outside a quoted string.
        var index = rest.startIndex
        var inQuotes = false
        while index < rest.endIndex {
            let byte = rest[index]
            if inQuotes && byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if byte == UInt8(ascii: ">") && !inQuotes {
                let path = rest[rest.startIndex...index]
                let parameters = rest[(index + 1)...]
                guard parameters.isEmpty || parameters.first == UInt8(ascii: " ") else { return nil }
                return (path, parameters)
            }
            index += 1
        }
        return nil
    }

    /// esmtp-param = esmtp-keyword ["=" esmtp-value]
    static func parameters(_ bytes: ArraySlice<UInt8>) -> [(keyword: String, value: ArraySlice<UInt8>?)]? {
        var result: [(keyword: String, value: ArraySlice<UInt8>?)] = []
        // The words between spaces, found in place (no array of slices).
        var next = bytes.startIndex
        while next < bytes.endIndex {
            if bytes[next] == UInt8(ascii: " ") { next += 1; continue }
            var wordEnd = next
            while wordEnd < bytes.endIndex && bytes[wordEnd] != UInt8(ascii: " ") { wordEnd += 1 }
            let word = bytes[next..<wordEnd]
            next = wordEnd
            let equals = word.firstIndex(of: UInt8(ascii: "="))
            let keyword = word[word.startIndex..<(equals ?? word.endIndex)]
            guard let first = keyword.first, SMTPPathParser.isLetDig(first),
                  keyword.allSatisfy({ SMTPPathParser.isLetDig($0) || $0 == UInt8(ascii: "-") }) else { return nil }
            var value: ArraySlice<UInt8>?
            if let equals {
                value = word[(equals + 1)...]
                // esmtp-value = 1*(%d33-60 / %d62-126)
                guard let value, !value.isEmpty, value.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: "=") }) else { return nil }
            }
            // Upper-cased straight into the string (a short keyword needs no allocation).
            let name = String(unsafeUninitializedCapacity: keyword.count) { buffer in
                var count = 0
                for byte in keyword { buffer[count] = upper(byte); count += 1 }
                return count
            }
            result.append((name, value))
        }
        return result
    }

    static func decimal(_ bytes: ArraySlice<UInt8>?) -> Int? {
        guard let bytes, !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// mail = "MAIL FROM:" Reverse-path [SP Mail-parameters]
    static func parseMail(_ argument: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        guard let rest = dropPrefix(argument, "FROM:"), let (pathBytes, parameterBytes) = splitPath(rest) else {
            return .failure(.syntax("MAIL"))
        }
        let path: SMTPPath
        switch SMTPPathParser.parse(pathBytes, allowNull: true, allowPostmaster: false) {
        case .success(let parsed): path = parsed
        case .failure(.syntax): return .failure(.badSenderAddress)
        case .failure(.tooLong): return .failure(.senderPathTooLong)
        }
        guard let list = parameters(parameterBytes) else { return .failure(.syntax("MAIL")) }
        var result = SMTPMailParameters()
        for (keyword, value) in list {
            switch keyword {
            case "SIZE":
                guard let size = decimal(value) else { return .failure(.badParameter("SIZE")) }
                result.size = size
            case "BODY":
                guard let value else { return .failure(.badParameter("BODY")) }
                switch String(decoding: value.map(upper), as: UTF8.self) {
                case "7BIT": result.body = .sevenBit
                case "8BITMIME": result.body = .eightBitMIME
                default: return .failure(.badParameter("BODY"))
                }
            case "AUTH":
                guard let value else { return .failure(.badParameter("AUTH")) }
                result.auth = String(decoding: value, as: UTF8.self)
            case "RET":
                guard let value else { return .failure(.badParameter("RET")) }
                let text = String(decoding: value.map(upper), as: UTF8.self)
                guard text == "FULL" || text == "HDRS" else { return .failure(.badParameter("RET")) }
                result.ret = text
            case "ENVID":
                guard let value, value.count <= 100 else { return .failure(.badParameter("ENVID")) }
                result.envelopeID = String(decoding: value, as: UTF8.self)
            default:
                return .failure(.unsupportedParameter(keyword))
            }
        }
        return .success(.mail(path, result))
    }

    /// rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]
    static func parseRcpt(_ argument: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        guard let rest = dropPrefix(argument, "TO:"), let (pathBytes, parameterBytes) = splitPath(rest) else {
            return .failure(.syntax("RCPT"))
        }
        let path: SMTPPath
        switch SMTPPathParser.parse(pathBytes, allowNull: false, allowPostmaster: true) {
        case .success(let parsed): path = parsed
        case .failure(.syntax): return .failure(.badRecipientAddress)
        case .failure(.tooLong): return .failure(.recipientPathTooLong)
        }
        guard let list = parameters(parameterBytes) else { return .failure(.syntax("RCPT")) }
        var result = SMTPRecipientParameters()
        for (keyword, value) in list {
            switch keyword {
            case "NOTIFY":
                guard let value else { return .failure(.badParameter("NOTIFY")) }
                var notify: [SMTPRecipientParameters.Notify] = []
                for item in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    guard let parsed = SMTPRecipientParameters.Notify(rawValue: String(decoding: item.map(upper), as: UTF8.self)),
                          !notify.contains(parsed) else { return .failure(.badParameter("NOTIFY")) }
                    notify.append(parsed)
                }
                // NEVER must stand alone (RFC 3461 §4.1).
                if notify.contains(.never) && notify.count > 1 { return .failure(.badParameter("NOTIFY")) }
                result.notify = notify
            case "ORCPT":
                guard let value, value.count <= 500, let semicolon = value.firstIndex(of: UInt8(ascii: ";")),
                      semicolon > value.startIndex, semicolon < value.endIndex - 1 else { return .failure(.badParameter("ORCPT")) }
                result.originalRecipient = String(decoding: value, as: UTF8.self)
            default:
                return .failure(.unsupportedParameter(keyword))
            }
        }
        return .success(.rcpt(path, result))
    }

    /// auth-command = "AUTH" SP sasl-mech [SP initial-response] (RFC 4954 §4)
    static func parseAuth(_ argument: ArraySlice<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        let words = trimmed(argument).split(separator: UInt8(ascii: " "))
        guard words.count == 1 || words.count == 2 else { return .failure(.syntax("AUTH")) }
        let mechanism = words[0]
        guard mechanism.count <= 20,
              mechanism.allSatisfy({ SMTPPathParser.isLetDig($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            return .failure(.syntax("AUTH"))
        }
        return .success(.auth(mechanism: String(decoding: mechanism.map(upper), as: UTF8.self),
                              initialResponse: words.count == 2 ? Array(words[1]) : nil))
    }
}
