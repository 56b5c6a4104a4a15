/// Why a command line could not be parsed; the server answers `tag BAD text` (or `* BAD` without a tag).
public struct IMAPParseError: Error, Hashable, Sendable {
    public var tag: String?
    public var text: String
    /// The command is well formed but an argument cannot be used (a mailbox name that is not
    /// valid modified UTF-7): the server answers `NO`, not `BAD`, as Dovecot does.
    public var answersNO: Bool
    public init(tag: String?, text: String, answersNO: Bool = false) {
        self.tag = tag; self.text = text; self.answersNO = answersNO
    }
}

/// Parses one complete command (its lines and literals as they arrived, without the final CRLF)
/// into a tag and an ``IMAPCommand`` (RFC 3501 §9 grammar).
public struct IMAPCommandParser {
    public var maxSearchDepth: Int

    public init(maxSearchDepth: Int = 16) { self.maxSearchDepth = maxSearchDepth }

    public func parse(_ bytes: [UInt8]) -> Result<(tag: String, command: IMAPCommand), IMAPParseError> {
        var c = IMAPCursor(bytes: bytes, depthLimit: maxSearchDepth)
        // tag = 1*<any ASTRING-CHAR except "+">
        let tagBytes = c.take { IMAPWire.isAStringChar($0) && $0 != UInt8(ascii: "+") }
        guard !tagBytes.isEmpty, tagBytes.count <= 64, c.peek == 0x20 else {
            return .failure(IMAPParseError(tag: nil, text: "Error in IMAP command received by server."))
        }
        let tag = String(decoding: tagBytes, as: UTF8.self)
        do {
            try c.space()
            let command = try c.command()
            guard c.atEnd else { throw c.error("Unexpected characters at the end of the command.") }
            return .success((tag, command))
        } catch let e as IMAPParseError {
            return .failure(IMAPParseError(tag: tag, text: e.text, answersNO: e.answersNO))
        } catch {
            return .failure(IMAPParseError(tag: tag, text: "Error in IMAP command received by server."))
        }
    }
}

struct IMAPCursor {
    let bytes: [UInt8]
    var i = 0
    let depthLimit: Int

    init(bytes: [UInt8], depthLimit: Int) { self.bytes = bytes; self.depthLimit = depthLimit }

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    func error(_ text: String) -> IMAPParseError { IMAPParseError(tag: nil, text: text) }

    mutating func take(while ok: (UInt8) -> Bool) -> [UInt8] {
        let start = i
        while i < bytes.count, ok(bytes[i]) { i += 1 }
        return Array(bytes[start..<i])
    }

    mutating func space() throws {
        guard peek == 0x20 else { throw error("Missing argument.") }
        i += 1
    }

    mutating func expect(_ b: UInt8) throws {
        guard peek == b else {
            // CR and LF by name: the text goes into a response line, which must not hold them.
            let name = b == 0x0D ? "CR" : b == 0x0A ? "LF" : "'\(Character(Unicode.Scalar(b)))'"
            throw error("Expected \(name).")
        }
        i += 1
    }

    mutating func atom() throws -> String {
        let a = take(while: IMAPWire.isAtomChar)
        guard !a.isEmpty else { throw error("Expected an atom.") }
        return String(decoding: a, as: UTF8.self)
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE
    mutating func quoted() throws -> [UInt8] {
        try expect(UInt8(ascii: "\""))
        var out = [UInt8]()
        while let b = peek {
            i += 1
            switch b {
            case UInt8(ascii: "\""): return out
            case UInt8(ascii: "\\"):
                guard let n = peek, n == UInt8(ascii: "\"") || n == UInt8(ascii: "\\") else { throw error("Invalid escape in quoted string.") }
                out.append(n); i += 1
            case 0x0D, 0x0A, 0x00: throw error("Invalid character in quoted string.")
            default: out.append(b)
            }
        }
        throw error("Unterminated quoted string.")
    }

    /// literal = "{" number ["+"] "}" CRLF *CHAR8 (the framer has already gathered the octets)
    mutating func literal() throws -> [UInt8] {
        try expect(UInt8(ascii: "{"))
        let digits = take { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty, digits.count <= 10, let n = Int(String(decoding: digits, as: UTF8.self)) else { throw error("Invalid literal.") }
        if peek == UInt8(ascii: "+") { i += 1 }
        try expect(UInt8(ascii: "}"))
        try expect(0x0D); try expect(0x0A)
        guard bytes.count - i >= n else { throw error("Truncated literal.") }
        defer { i += n }
        return Array(bytes[i..<i + n])
    }

    mutating func string() throws -> [UInt8] {
        switch peek {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"): return try literal()
        default: throw error("Expected a string.")
        }
    }

    mutating func astring() throws -> [UInt8] {
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") { return try string() }
        let a = take(while: IMAPWire.isAStringChar)
        guard !a.isEmpty else { throw error("Expected an argument.") }
        return a
    }

    mutating func astringText() throws -> String { String(decoding: try astring(), as: UTF8.self) }

    /// mailbox = "INBOX" / astring, decoded from modified UTF-7.
    mutating func mailbox() throws -> String {
        let raw = try astring()
        guard let name = IMAPModifiedUTF7.decode(raw) else {
            throw IMAPParseError(tag: nil, text: "Mailbox name is not valid mUTF-7: \"\(IMAPWire.sanitized(raw))\"", answersNO: true)
        }
        return name.uppercased() == "INBOX" ? "INBOX" : name
    }

    /// list-mailbox = 1*list-char / string (list-char adds `%`, `*` and `]`).
    mutating func listMailbox() throws -> String {
        let raw: [UInt8]
        if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "{") {
            raw = try string()
        } else {
            raw = take { IMAPWire.isAStringChar($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "*") }
            guard !raw.isEmpty else { throw error("Expected a mailbox pattern.") }
        }
        guard let name = IMAPModifiedUTF7.decode(raw) else {
            throw IMAPParseError(tag: nil, text: "Mailbox pattern is not valid mUTF-7: \"\(IMAPWire.sanitized(raw))\"", answersNO: true)
        }
        return name
    }

    mutating func number() throws -> Int {
        let d = take { $0 >= 0x30 && $0 <= 0x39 }
        guard !d.isEmpty, d.count <= 10, let v = Int(String(decoding: d, as: UTF8.self)) else { throw error("Expected a number.") }
        return v
    }

    mutating func sequenceSet() throws -> IMAPSequenceSet {
        let raw = take { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ",") }
        guard let set = IMAPSequenceSet(parsing: Substring(String(decoding: raw, as: UTF8.self))) else {
            throw error("Invalid message set.")
        }
        return set
    }

    /// flag = "\Answered" / … / keyword / flag-extension
    mutating func flag() throws -> IMAPFlag {
        if peek == UInt8(ascii: "\\") {
            i += 1
            return IMAPFlag("\\" + (try atom()))
        }
        return IMAPFlag(try atom())
    }

    /// flag-list = "(" [flag *(SP flag)] ")"
    mutating func flagList() throws -> [IMAPFlag] {
        try expect(UInt8(ascii: "("))
        var flags = [IMAPFlag]()
        while peek != UInt8(ascii: ")") {
            if !flags.isEmpty { try space() }
            let f = try flag()
            guard f != .recent else { throw error("\\Recent cannot be set.") }
            flags.append(f)
        }
        i += 1
        return flags
    }

    mutating func keywordIs(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard bytes.count - i >= w.count else { return false }
        for (k, b) in w.enumerated() where uppercase(bytes[i + k]) != b { return false }
        let end = i + w.count
        if end < bytes.count, IMAPWire.isAtomChar(bytes[end]) && bytes[end] != UInt8(ascii: "[") && bytes[end] != UInt8(ascii: ".") { return false }
        i = end
        return true
    }

    private func uppercase(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b - 32 : b }

    // MARK: commands

    mutating func command() throws -> IMAPCommand {
        let name = try atom().uppercased()
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .startTLS
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "AUTHENTICATE":
            try space()
            let mech = try atom().uppercased()
            var initial: [UInt8]?
            if peek == 0x20 {
                i += 1
                let r = take { $0 > 0x20 && $0 < 0x7F }
                guard !r.isEmpty else { throw error("Invalid initial response.") }
                initial = r
            }
            return .authenticate(mechanism: mech, initialResponse: initial)
        case "LOGIN":
            try space(); let u = try astringText(); try space(); let p = try astringText()
            return .login(user: u, password: p)
        case "SELECT": try space(); return .select(try mailbox())
        case "EXAMINE": try space(); return .examine(try mailbox())
        case "CREATE": try space(); return .create(try mailbox())
        case "DELETE": try space(); return .delete(try mailbox())
        case "SUBSCRIBE": try space(); return .subscribe(try mailbox())
        case "UNSUBSCRIBE": try space(); return .unsubscribe(try mailbox())
        case "RENAME":
            try space(); let a = try mailbox(); try space(); let b = try mailbox()
            return .rename(a, b)
        case "LSUB":
            try space(); let ref = try mailbox(); try space(); let pat = try listMailbox()
            return .lsub(reference: ref, pattern: pat)
        case "LIST": return try listCommand()
        case "ID": return try idCommand()
        case "ENABLE":
            var caps = [String]()
            while peek == 0x20 {
                i += 1
                caps.append(try atom().uppercased())
                guard caps.count <= 32 else { throw error("Too many capabilities.") }
            }
            guard !caps.isEmpty else { throw error("ENABLE needs at least one capability.") }
            return .enable(caps)
        case "SORT": return try sortCommand(uid: false)
        case "STATUS":
            try space(); let mb = try mailbox(); try space(); try expect(UInt8(ascii: "("))
            var items = [IMAPStatusItem]()
            while peek != UInt8(ascii: ")") {
                if !items.isEmpty { try space() }
                guard let item = IMAPStatusItem(rawValue: try atom().uppercased()) else { throw error("Unknown STATUS item.") }
                items.append(item)
            }
            i += 1
            guard !items.isEmpty else { throw error("Empty STATUS item list.") }
            return .status(mb, items)
        case "APPEND":
            try space(); let mb = try mailbox(); try space()
            var flags = [IMAPFlag]()
            var date: IMAPDate?
            if peek == UInt8(ascii: "(") { flags = try flagList(); try space() }
            if peek == UInt8(ascii: "\"") {
                let text = String(decoding: try quoted(), as: UTF8.self)
                guard let d = IMAPDate.parseDateTime(text) else { throw error("Invalid date-time.") }
                date = d
                try space()
            }
            guard peek == UInt8(ascii: "{") else { throw error("APPEND needs a literal message.") }
            return .append(mailbox: mb, flags: flags, date: date, message: try literal())
        case "SEARCH": return try searchCommand(uid: false)
        case "FETCH": return try fetchCommand(uid: false)
        case "STORE": return try storeCommand(uid: false)
        case "COPY", "MOVE":
            try space(); let set = try sequenceSet(); try space(); let mb = try mailbox()
            return name == "COPY" ? .copy(set, mb, uid: false) : .move(set, mb, uid: false)
        case "UID":
            try space()
            let sub = try atom().uppercased()
            switch sub {
            case "FETCH": return try fetchCommand(uid: true)
            case "STORE": return try storeCommand(uid: true)
            case "SEARCH": return try searchCommand(uid: true)
            case "SORT": return try sortCommand(uid: true)
            case "COPY", "MOVE":
                try space(); let set = try sequenceSet(); try space(); let mb = try mailbox()
                return sub == "COPY" ? .copy(set, mb, uid: true) : .move(set, mb, uid: true)
            case "EXPUNGE":
                try space(); return .uidExpunge(try sequenceSet())
            default: throw error("Unknown UID command.")
            }
        default:
            throw error("Unknown command.")
        }
    }

    mutating func fetchCommand(uid: Bool) throws -> IMAPCommand {
        try space()
        let set = try sequenceSet()
        try space()
        var attrs = [IMAPFetchAttribute]()
        if keywordIs("ALL") { attrs = IMAPFetchAttribute.macroAll }
        else if keywordIs("FAST") { attrs = IMAPFetchAttribute.macroFast }
        else if keywordIs("FULL") { attrs = IMAPFetchAttribute.macroFull }
        else if peek == UInt8(ascii: "(") {
            i += 1
            while peek != UInt8(ascii: ")") {
                if !attrs.isEmpty { try space() }
                attrs.append(try fetchAttribute())
            }
            i += 1
            guard !attrs.isEmpty else { throw error("Empty FETCH item list.") }
        } else {
            attrs = [try fetchAttribute()]
        }
        return .fetch(set, attrs, uid: uid)
    }

    mutating func fetchAttribute() throws -> IMAPFetchAttribute {
        if keywordIs("ENVELOPE") { return .envelope }
        if keywordIs("FLAGS") { return .flags }
        if keywordIs("INTERNALDATE") { return .internalDate }
        if keywordIs("UID") { return .uid }
        if keywordIs("RFC822.HEADER") { return .rfc822Header }
        if keywordIs("RFC822.SIZE") { return .rfc822Size }
        if keywordIs("RFC822.TEXT") { return .rfc822Text }
        if keywordIs("RFC822") { return .rfc822 }
        if keywordIs("BODYSTRUCTURE") { return .bodyStructure(extensible: true) }
        var peekFlag = false
        if keywordIs("BODY.PEEK") { peekFlag = true }
        else if keywordIs("BODY") {
            if peek != UInt8(ascii: "[") { return .bodyStructure(extensible: false) }
        } else {
            throw error("Unknown FETCH item.")
        }
        try expect(UInt8(ascii: "["))
        let section = try sectionSpec()
        try expect(UInt8(ascii: "]"))
        var partial: IMAPPartial?
        if peek == UInt8(ascii: "<") {
            i += 1
            let origin = try number()
            try expect(UInt8(ascii: "."))
            let count = try number()
            guard count > 0 else { throw error("Invalid partial range.") }
            try expect(UInt8(ascii: ">"))
            partial = IMAPPartial(origin: origin, count: count)
        }
        return .section(section, partial: partial, peek: peekFlag)
    }

    /// section-spec = section-msgtext / (section-part ["." section-text])
    mutating func sectionSpec() throws -> IMAPSection {
        var part = [Int]()
        while let b = peek, b >= 0x31 && b <= 0x39 {
            let n = try number()
            guard part.count < 32 else { throw error("Section path too deep.") }
            part.append(n)
            if peek == UInt8(ascii: ".") { i += 1 } else { break }
        }
        if peek == UInt8(ascii: "]") {
            return IMAPSection(part: part)
        }
        if keywordIs("HEADER.FIELDS.NOT") { try space(); return IMAPSection(part: part, text: .headerFieldsNot(try headerList())) }
        if keywordIs("HEADER.FIELDS") { try space(); return IMAPSection(part: part, text: .headerFields(try headerList())) }
        if keywordIs("HEADER") { return IMAPSection(part: part, text: .header) }
        if keywordIs("TEXT") { return IMAPSection(part: part, text: .text) }
        if !part.isEmpty, keywordIs("MIME") { return IMAPSection(part: part, text: .mime) }
        throw error("Invalid section.")
    }

    mutating func headerList() throws -> [String] {
        try expect(UInt8(ascii: "("))
        var names = [String]()
        while peek != UInt8(ascii: ")") {
            if !names.isEmpty { try space() }
            names.append(try astringText().uppercased())
            guard names.count <= 100 else { throw error("Too many header names.") }
        }
        i += 1
        guard !names.isEmpty else { throw error("Empty header list.") }
        return names
    }

    mutating func storeCommand(uid: Bool) throws -> IMAPCommand {
        try space()
        let set = try sequenceSet()
        try space()
        var op = IMAPStoreOperation.replace
        if peek == UInt8(ascii: "+") { op = .add; i += 1 } else if peek == UInt8(ascii: "-") { op = .remove; i += 1 }
        var silent = false
        if keywordIs("FLAGS.SILENT") { silent = true } else if !keywordIs("FLAGS") { throw error("Invalid STORE item.") }
        try space()
        let flags: [IMAPFlag]
        if peek == UInt8(ascii: "(") { flags = try flagList() } else {
            var list = [try flag()]
            while peek == 0x20 { i += 1; list.append(try flag()) }
            guard !list.contains(.recent) else { throw error("\\Recent cannot be set.") }
            flags = list
        }
        return .store(set, op, silent: silent, flags, uid: uid)
    }

    /// `LIST ref pattern`, or the extended form `LIST [(sel-opts)] ref (patterns) [RETURN (opts)]`
    /// (RFC 5258 §6 syntax) with the options of RFC 6154 and RFC 5258 that MailLab knows.
    mutating func listCommand() throws -> IMAPCommand {
        try space()
        var selection = [String]()
        var extended = false
        if peek == UInt8(ascii: "(") {
            extended = true
            selection = try optionList(allowed: ["SPECIAL-USE", "SUBSCRIBED"])
            try space()
        }
        let ref = try mailbox()
        try space()
        var patterns = [String]()
        if peek == UInt8(ascii: "(") {
            extended = true
            i += 1
            while peek != UInt8(ascii: ")") {
                if !patterns.isEmpty { try space() }
                patterns.append(try listMailbox())
                guard patterns.count <= 32 else { throw error("Too many patterns.") }
            }
            i += 1
            guard !patterns.isEmpty else { throw error("Empty pattern list.") }
        } else {
            patterns = [try listMailbox()]
        }
        var returns = [String]()
        if peek == 0x20 {
            i += 1
            guard keywordIs("RETURN") else { throw error("Expected RETURN.") }
            try space()
            extended = true
            returns = try optionList(allowed: ["SPECIAL-USE", "SUBSCRIBED", "CHILDREN"])
        }
        if !extended { return .list(reference: ref, pattern: patterns[0]) }
        return .listExtended(IMAPListOptions(selection: selection, returns: returns), reference: ref, patterns: patterns)
    }

    /// `(OPT OPT …)`, upper-cased; an option outside `allowed` is an error.
    mutating func optionList(allowed: Set<String>) throws -> [String] {
        try expect(UInt8(ascii: "("))
        var out = [String]()
        while peek != UInt8(ascii: ")") {
            if !out.isEmpty { try space() }
            let word = try atom().uppercased()
            guard allowed.contains(word) else { throw error("Unsupported LIST option \(word).") }
            if !out.contains(word) { out.append(word) }
            guard out.count <= 8 else { throw error("Too many options.") }
        }
        i += 1
        return out
    }

    /// `ID NIL` or `ID ("field" "value" …)` (RFC 2971 §3.1); values may be NIL.
    mutating func idCommand() throws -> IMAPCommand {
        try space()
        if keywordIs("NIL") { return .id(nil) }
        try expect(UInt8(ascii: "("))
        var items = [String?]()
        while peek != UInt8(ascii: ")") {
            if !items.isEmpty { try space() }
            if items.count % 2 == 1, keywordIs("NIL") {
                items.append(nil)
            } else {
                items.append(String(decoding: try string(), as: UTF8.self))
            }
            // RFC 2971 §3.3 asks clients for at most 30 pairs; a few more are tolerated, the line
            // length bounds the rest.
            guard items.count <= 2 * 64 else { throw error("Too many ID fields.") }
        }
        i += 1
        guard items.count % 2 == 0 else { throw error("ID field without a value.") }
        return .id(items)
    }

    /// `SORT (REVERSE DATE …) charset criteria` (RFC 5256 §3).
    mutating func sortCommand(uid: Bool) throws -> IMAPCommand {
        try space()
        try expect(UInt8(ascii: "("))
        var keys = [IMAPSortKey]()
        while peek != UInt8(ascii: ")") {
            if !keys.isEmpty { try space() }
            var reverse = false
            if keywordIs("REVERSE") { reverse = true; try space() }
            guard let field = IMAPSortKey.Field(rawValue: try atom().uppercased()) else { throw error("Unknown sort criterion.") }
            keys.append(IMAPSortKey(field, reverse: reverse))
            guard keys.count <= 16 else { throw error("Too many sort criteria.") }
        }
        i += 1
        guard !keys.isEmpty else { throw error("Empty sort criteria.") }
        try space()
        let charset = try astringText().uppercased()
        guard charset == "US-ASCII" || charset == "UTF-8" else {
            throw IMAPParseError(tag: nil, text: "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset.", answersNO: true)
        }
        try space()
        return .sort(keys, charset: charset, try searchKeys(), uid: uid)
    }

    mutating func searchKeys() throws -> IMAPSearchKey {
        var keys = [try searchKey(depth: 0)]
        while peek == 0x20 {
            i += 1
            keys.append(try searchKey(depth: 0))
            guard keys.count <= 100 else { throw error("Too many search keys.") }
        }
        return keys.count == 1 ? keys[0] : .and(keys)
    }

    mutating func searchCommand(uid: Bool) throws -> IMAPCommand {
        try space()
        var returns: [IMAPSearchReturn]?
        if keywordIs("RETURN") {
            try space()
            try expect(UInt8(ascii: "("))
            var list = [IMAPSearchReturn]()
            while peek != UInt8(ascii: ")") {
                if !list.isEmpty { try space() }
                guard let r = IMAPSearchReturn(rawValue: try atom().uppercased()) else { throw error("Unknown SEARCH RETURN option.") }
                if !list.contains(r) { list.append(r) }
            }
            i += 1
            try space()
            returns = list
        }
        var charset: String?
        if keywordIs("CHARSET") {
            try space()
            charset = try astringText().uppercased()
            guard charset == "US-ASCII" || charset == "UTF-8" else {
                throw IMAPParseError(tag: nil, text: "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset.", answersNO: true)
            }
            try space()
        }
        let key = try searchKeys()
        if let returns { return .esearch(key, charset: charset, returns: returns, uid: uid) }
        return .search(key, charset: charset, uid: uid)
    }

    mutating func searchDay() throws -> IMAPDay {
        let raw: [UInt8] = peek == UInt8(ascii: "\"") ? try quoted() : take { IMAPWire.isAtomChar($0) }
        guard let (y, m, d) = IMAPDate.parseDay(Substring(String(decoding: raw, as: UTF8.self))),
              let day = IMAPDay(year: y, month: m, day: d) else { throw error("Invalid date.") }
        return day
    }

    mutating func searchString() throws -> String {
        try space()
        return String(decoding: try astring(), as: UTF8.self)
    }

    mutating func searchKey(depth: Int) throws -> IMAPSearchKey {
        guard depth < depthLimit else { throw error("Search query too deeply nested.") }
        if peek == UInt8(ascii: "(") {
            i += 1
            var keys = [try searchKey(depth: depth + 1)]
            while peek == 0x20 { i += 1; keys.append(try searchKey(depth: depth + 1)) }
            try expect(UInt8(ascii: ")"))
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let b = peek, (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "*") { return .sequence(try sequenceSet()) }
        let word = try atom().uppercased()
        switch word {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "FLAGGED": return .flagged
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "SEEN": return .seen
        case "UNSEEN": return .unseen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNFLAGGED": return .unflagged
        case "DRAFT": return .draft
        case "UNDRAFT": return .undraft
        case "KEYWORD": try space(); return .keyword(try atom())
        case "UNKEYWORD": try space(); return .unkeyword(try atom())
        case "FROM": return .from(try searchString())
        case "TO": return .to(try searchString())
        case "CC": return .cc(try searchString())
        case "BCC": return .bcc(try searchString())
        case "SUBJECT": return .subject(try searchString())
        case "BODY": return .body(try searchString())
        case "TEXT": return .text(try searchString())
        case "HEADER":
            let field = try searchString()
            return .header(field, try searchString())
        case "SINCE": try space(); return .since(try searchDay())
        case "BEFORE": try space(); return .before(try searchDay())
        case "ON": try space(); return .on(try searchDay())
        case "SENTSINCE": try space(); return .sentSince(try searchDay())
        case "SENTBEFORE": try space(); return .sentBefore(try searchDay())
        case "SENTON": try space(); return .sentOn(try searchDay())
        case "LARGER": try space(); return .larger(try number())
        case "SMALLER": try space(); return .smaller(try number())
        case "UID": try space(); return .uid(try sequenceSet())
        case "NOT": try space(); return .not(try searchKey(depth: depth + 1))
        case "OR":
            try space(); let a = try searchKey(depth: depth + 1)
            try space(); let b = try searchKey(depth: depth + 1)
            return .or(a, b)
        default: throw error("Unknown search key.")
        }
    }
}
