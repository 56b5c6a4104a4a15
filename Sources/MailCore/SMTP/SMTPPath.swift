/// A mailbox `local-part@domain` (RFC 5321 §4.1.2).
///
/// Its text (`description`) is made once, when the mailbox is: a mailbox is read far more often
/// than it is made (every fact, log line, `Received:` header and queue entry names it).
public struct SMTPMailbox: Hashable, Sendable, CustomStringConvertible {
    /// The local part with quoting removed (`"x@ext"` gives `x@ext`).
    public let localPart: String
    /// The domain or address literal (`[192.0.2.1]`); empty only for the bare `<postmaster>`.
    public let domain: String
    /// The local part was a quoted string on the wire.
    public let localPartWasQuoted: Bool
    /// `local@domain`, the local part quoted again when it needs it.
    public let description: String

    public init(localPart: String, domain: String, localPartWasQuoted: Bool = false) {
        self.localPart = localPart
        self.domain = domain
        self.localPartWasQuoted = localPartWasQuoted
        self.description = Self.text(localPart: localPart, domain: domain)
    }

    /// Parses `local@domain` (no angle brackets), e.g. for building a job; `nil` if invalid.
    public init?(_ address: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(address.utf8.count + 2)
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: address.utf8)
        bytes.append(UInt8(ascii: ">"))
        // The common case, `dot-string@domain`, is the address itself: the parser below would
        // give the same local part, domain and text. At most 64 octets with the brackets, it is
        // within every limit (local part 64, domain 255, path 256: RFC 5321 §4.5.3.1).
        if bytes.count <= SMTPLimits.localPart, let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 1,
           SMTPPathParser.isDotString(bytes[1..<at]), SMTPPathParser.isDomain(bytes[(at + 1)..<(bytes.count - 1)]) {
            self.init(localPart: String(decoding: bytes[1..<at], as: UTF8.self),
                      domain: String(decoding: bytes[(at + 1)..<(bytes.count - 1)], as: UTF8.self), text: address)
            return
        }
        guard case .success(let path) = SMTPPathParser.parse(bytes[...], allowNull: false, allowPostmaster: false),
              let mailbox = path.mailbox else { return nil }
        self = mailbox
    }

    /// A mailbox whose text is already known (the parser's unquoted `local@domain`).
    init(localPart: String, domain: String, text: String) {
        self.localPart = localPart
        self.domain = domain
        self.localPartWasQuoted = false
        self.description = text
    }

    public static func == (lhs: SMTPMailbox, rhs: SMTPMailbox) -> Bool {
        lhs.localPart == rhs.localPart && lhs.domain == rhs.domain && lhs.localPartWasQuoted == rhs.localPartWasQuoted
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(localPart)
        hasher.combine(domain)
        hasher.combine(localPartWasQuoted)
    }

    /// `local@domain`, quoting the local part again when it needs it.
    static func text(localPart: String, domain: String) -> String {
        var text = ""
        if SMTPPathParser.isDotString(localPart.utf8) {
            if domain.isEmpty { return localPart }
            // The common case, made in one go: `local@domain` (one allocation, no appends).
            var local = localPart, name = domain
            let count = local.utf8.count + 1 + name.utf8.count
            return String(unsafeUninitializedCapacity: count) { buffer in
                let at = local.withUTF8 { UnsafeMutableBufferPointer(rebasing: buffer[...]).initialize(from: $0).1 }
                buffer[at] = UInt8(ascii: "@")
                let end = name.withUTF8 { UnsafeMutableBufferPointer(rebasing: buffer[(at + 1)...]).initialize(from: $0).1 }
                return at + 1 + end
            }
        } else {
            text = "\""
            for character in localPart {
                if character == "\"" || character == "\\" { text.append("\\") }
                text.append(character)
            }
            text.append("\"")
        }
        if !domain.isEmpty {
            text += "@"
            text += domain
        }
        return text
    }

    /// Writes `local@domain`, quoting the local part when it needs it.
    public func encode(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: description.utf8)
    }

    /// The domain in lower case, for comparisons.
    public var normalizedDomain: String { domain.lowercased() }

    /// True when the local part carries routing of its own: `@` (only possible quoted), `%`
    /// (the "percent hack") or `!` (UUCP bang path). A relay policy must treat such an address as
    /// an attempt to relay through this server (RFC 5321 §3.6.1, Appendix C).
    public var localPartHasRouting: Bool {
        localPart.utf8.contains { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "!") }
    }
}

/// A reverse-path or forward-path: `<>`, `<mailbox>` or `<@a,@b:mailbox>` (RFC 5321 §4.1.2).
public struct SMTPPath: Hashable, Sendable, CustomStringConvertible {
    /// The domains of an obsolete source route (`<@relay1,@relay2:user@host>`), in order.
    public var sourceRoute: [String]
    /// The mailbox; `nil` for the null path `<>`.
    public var mailbox: SMTPMailbox?

    public init(mailbox: SMTPMailbox?, sourceRoute: [String] = []) {
        self.mailbox = mailbox
        self.sourceRoute = sourceRoute
    }

    /// The null reverse-path `<>` of bounces.
    public static let null = SMTPPath(mailbox: nil)

    public var isNull: Bool { mailbox == nil }

    /// True when the path asks this server to pass the message on somewhere else by syntax alone:
    /// a source route, or a local part with `@`, `%` or `!`. Relay policies must not treat such a
    /// path as local just because its final domain is local.
    public var hasRoutingSyntax: Bool {
        !sourceRoute.isEmpty || (mailbox?.localPartHasRouting ?? false)
    }

    /// The path with its angle brackets, as it is written in MAIL and RCPT.
    public var description: String {
        guard let mailbox else { return "<>" }
        if sourceRoute.isEmpty { return "<\(mailbox)>" }
        return "<" + sourceRoute.map { "@" + $0 }.joined(separator: ",") + ":\(mailbox)>"
    }

    /// Writes the path with its angle brackets.
    public func encode(into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "<"))
        if let mailbox {
            if !sourceRoute.isEmpty {
                for (index, domain) in sourceRoute.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes.append(UInt8(ascii: "@"))
                    bytes.append(contentsOf: domain.utf8)
                }
                bytes.append(UInt8(ascii: ":"))
            }
            mailbox.encode(into: &bytes)
        }
        bytes.append(UInt8(ascii: ">"))
    }

    /// The address without brackets (`""` for the null path).
    public var address: String { mailbox?.description ?? "" }
}

/// What is wrong with a path.
public enum SMTPPathError: Error, Hashable, Sendable {
    case syntax
    /// RFC 5321 §4.5.3.1: local part over 64, domain over 255 or path over 256 octets.
    case tooLong
}

/// Parser for paths, with the limits of RFC 5321 §4.5.3.1.
public enum SMTPPathParser {
    public static let maxLocalPartLength = SMTPLimits.localPart
    public static let maxDomainLength = SMTPLimits.domain
    public static let maxPathLength = SMTPLimits.path

    @inline(__always)
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "?"),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"),
             UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isLetDig(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// Dot-string = Atom *("." Atom)
    static func isDotString<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var previousDot = true
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else if isAtext(byte) {
                previousDot = false
            } else {
                return false
            }
        }
        return !previousDot
    }

    /// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str] — or an address literal.
    static func isDomain(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "[") {
            guard bytes.count > 2, bytes.last == UInt8(ascii: "]") else { return false }
            // dcontent = %d33-90 / %d94-126
            return bytes.dropFirst().dropLast().allSatisfy { ($0 >= 33 && $0 <= 90) || ($0 >= 94 && $0 <= 126) }
        }
        var labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
            } else if isLetDig(byte) || (byte == UInt8(ascii: "-") && labelLength > 0) {
                labelLength += 1
                guard labelLength <= 63 else { return false }
            } else {
                return false
            }
            previous = byte
        }
        return labelLength > 0 && previous != UInt8(ascii: "-")
    }

    /// Parses a complete path `<…>` (the whole slice).
    ///
    ///     Path        = "<" [ A-d-l ":" ] Mailbox ">"
    ///     A-d-l       = At-domain *( "," At-domain )
    ///     Mailbox     = Local-part "@" ( Domain / address-literal )
    ///     Local-part  = Dot-string / Quoted-string
    public static func parse(_ bytes: ArraySlice<UInt8>, allowNull: Bool, allowPostmaster: Bool) -> Result<SMTPPath, SMTPPathError> {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "<"), bytes.last == UInt8(ascii: ">") else { return .failure(.syntax) }
        guard bytes.count <= maxPathLength else { return .failure(.tooLong) }
        var inner = bytes.dropFirst().dropLast()
        if inner.isEmpty {
            return allowNull ? .success(.null) : .failure(.syntax)
        }
        var route: [String] = []
        if inner.first == UInt8(ascii: "@") {
            // A source route, up to the first ":" (domains cannot contain ":").
            guard let colon = inner.firstIndex(of: UInt8(ascii: ":")) else { return .failure(.syntax) }
            for atDomain in inner[inner.startIndex..<colon].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard atDomain.first == UInt8(ascii: "@"), isDomain(atDomain.dropFirst()) else { return .failure(.syntax) }
                route.append(String(decoding: atDomain.dropFirst(), as: UTF8.self))
            }
            inner = inner[(colon + 1)...]
        }
        // Local part.
        var localPart: [UInt8] = []
        var quoted = false
        var index = inner.startIndex
        if inner.first == UInt8(ascii: "\"") {
            quoted = true
            index += 1
            var closed = false
            while index < inner.endIndex {
                let byte = inner[index]
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < inner.endIndex, inner[index] >= 32, inner[index] <= 126 else { return .failure(.syntax) }
                    localPart.append(inner[index])
                } else if byte == UInt8(ascii: "\"") {
                    closed = true
                    index += 1
                    break
                } else if byte >= 32 && byte <= 126 {
                    localPart.append(byte)
                } else {
                    return .failure(.syntax)
                }
                index += 1
            }
            guard closed else { return .failure(.syntax) }
        }
        let local: String
        if quoted {
            guard localPart.count <= maxLocalPartLength else { return .failure(.tooLong) }
            local = String(decoding: localPart, as: UTF8.self)
        } else {
            let start = index
            while index < inner.endIndex && inner[index] != UInt8(ascii: "@") { index += 1 }
            let dotString = inner[start..<index]
            guard isDotString(dotString) else { return .failure(.syntax) }
            guard dotString.count <= maxLocalPartLength else { return .failure(.tooLong) }
            local = String(decoding: dotString, as: UTF8.self)
        }
        if index == inner.endIndex {
            // "<Postmaster>" (RFC 5321 §4.1.1.3), only as a recipient, only unquoted.
            if allowPostmaster && !quoted && route.isEmpty && local.lowercased() == "postmaster" {
                return .success(SMTPPath(mailbox: SMTPMailbox(localPart: local, domain: "")))
            }
            return .failure(.syntax)
        }
        guard inner[index] == UInt8(ascii: "@") else { return .failure(.syntax) }
        let domain = inner[(index + 1)...]
        guard domain.count <= maxDomainLength else { return .failure(.tooLong) }
        guard isDomain(domain) else { return .failure(.syntax) }
        let domainText = String(decoding: domain, as: UTF8.self)
        let mailbox = quoted
            ? SMTPMailbox(localPart: local, domain: domainText, localPartWasQuoted: true)
            // Unquoted, the text is the bytes as they came: dot-string `@` domain.
            : SMTPMailbox(localPart: local, domain: domainText, text: String(decoding: inner[inner.startIndex...], as: UTF8.self))
        return .success(SMTPPath(mailbox: mailbox, sourceRoute: route))
    }
}
