// Sender Policy Framework (RFC 7208): check_host() over a DNSLookup, with the lookup limits.

import MailMessage

/// The seven SPF results (RFC 7208 §2.6).
public enum SPFResult: String, Sendable, Equatable, CaseIterable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

/// What an SPF evaluation found, with the facts a learner needs to understand it.
public struct SPFEvaluation: Sendable, Equatable {
    public var result: SPFResult
    /// The domain whose policy decided (after include/redirect, the top-level domain is kept here).
    public var domain: String
    /// The directive that matched (`-all`, `ip4:198.51.100.0/24`, …), nil when none did.
    public var matchedMechanism: String?
    /// The expanded `exp=` text for a fail, when the domain published one.
    public var explanation: String?
    /// Why the result is an error (limit reached, syntax…), in English; nil otherwise.
    public var problem: String?
    /// DNS-querying terms evaluated (limit 10) and void lookups (limit 2).
    public var dnsLookups: Int
    public var voidLookups: Int
}

/// The inputs of check_host() (RFC 7208 §4.1).
public struct SPFRequest: Sendable, Equatable {
    public var clientIP: IPAddress
    /// MAIL FROM address; for the null reverse-path use `postmaster@<helo>` (RFC 7208 §2.4).
    public var mailFrom: String
    public var helo: String

    public init(clientIP: IPAddress, mailFrom: String, helo: String) {
        self.clientIP = clientIP
        self.mailFrom = mailFrom.isEmpty ? "postmaster@" + helo : mailFrom
        self.helo = helo
    }

    // The last `@`, found on the bytes (an ASCII byte is always where a character starts).
    public var senderDomain: String {
        guard let at = mailFrom.utf8.lastIndex(of: UInt8(ascii: "@")) else { return mailFrom }
        return String(mailFrom[mailFrom.utf8.index(after: at)...])
    }
    public var localPart: String {
        guard let at = mailFrom.utf8.lastIndex(of: UInt8(ascii: "@")) else { return "postmaster" }
        let local = String(mailFrom[..<at])
        return local.isEmpty ? "postmaster" : local
    }
}

/// Evaluates SPF policies.
///
/// ```swift
/// let spf = SPFEvaluator(dns: zone)
/// let outcome = spf.check(SPFRequest(clientIP: IPAddress("198.51.100.25")!, mailFrom: "alice@example.com",
///                                    helo: "mail.example.com"))
/// outcome.result   // .pass
/// ```
public struct SPFEvaluator {
    public let dns: any DNSLookup
    /// RFC 7208 §4.6.4 limits.
    public var lookupLimit = 10
    public var voidLookupLimit = 2
    public var mxLimit = 10

    public init(dns: any DNSLookup) { self.dns = dns }

    enum Stop: Error {
        case temperror(String)
        case permerror(String)
    }

    struct Counters {
        var lookups = 0
        var voids = 0
    }

    /// check_host() for the MAIL FROM domain.
    public func check(_ request: SPFRequest) -> SPFEvaluation {
        check(request, domain: request.senderDomain)
    }

    /// check_host() for an explicit domain (for example the HELO identity).
    public func check(_ request: SPFRequest, domain: String) -> SPFEvaluation {
        var counters = Counters()
        var matched: String?
        var explanation: String?
        do {
            let result = try checkHost(request, domain: domain, counters: &counters, depth: 0, matched: &matched, explanation: &explanation)
            return SPFEvaluation(result: result, domain: domain, matchedMechanism: matched, explanation: explanation,
                                 problem: nil, dnsLookups: counters.lookups, voidLookups: counters.voids)
        } catch Stop.temperror(let why) {
            return SPFEvaluation(result: .temperror, domain: domain, matchedMechanism: matched, explanation: nil,
                                 problem: why, dnsLookups: counters.lookups, voidLookups: counters.voids)
        } catch Stop.permerror(let why) {
            return SPFEvaluation(result: .permerror, domain: domain, matchedMechanism: matched, explanation: nil,
                                 problem: why, dnsLookups: counters.lookups, voidLookups: counters.voids)
        } catch {
            return SPFEvaluation(result: .permerror, domain: domain, matchedMechanism: nil, explanation: nil,
                                 problem: "\(error)", dnsLookups: counters.lookups, voidLookups: counters.voids)
        }
    }

    // MARK: Records

    /// A parsed record: directives in order and the two modifiers this library acts on.
    public struct Record: Sendable, Equatable {
        public struct Directive: Sendable, Equatable {
            public var qualifier: Character
            public var mechanism: String
            public var argument: String?
            public var text: String
        }
        public var directives: [Directive]
        public var redirect: String?
        public var exp: String?
    }

    static let mechanisms: Set<String> = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"]

    /// Parses `v=spf1 …` (RFC 7208 §4.6, §12); nil when the text is not an SPF record at all.
    public static func parseRecord(_ text: String) throws -> Record? {
        let terms = text.split(whereSeparator: { $0 == " " }).map(String.init)
        guard let version = terms.first, version.lowercased() == "v=spf1" else { return nil }
        var record = Record(directives: [], redirect: nil, exp: nil)
        for term in terms.dropFirst() {
            // A modifier is name=value with a name that is not a mechanism (mechanisms use ':' or '/').
            if let equals = term.firstIndex(of: "="), !term[..<equals].contains(":"), !term[..<equals].contains("/") {
                let name = term[..<equals].lowercased()
                let value = String(term[term.index(after: equals)...])
                guard name.first?.isLetter == true else { throw Stop.permerror("invalid modifier '\(term)'") }
                if name == "redirect" {
                    if record.redirect != nil { throw Stop.permerror("two redirect= modifiers") }
                    record.redirect = value
                } else if name == "exp" {
                    if record.exp != nil { throw Stop.permerror("two exp= modifiers") }
                    record.exp = value
                }
                continue
            }
            var body = Substring(term)
            var qualifier: Character = "+"
            if let first = body.first, "+-~?".contains(first) { qualifier = first; body = body.dropFirst() }
            var name = body
            var argument: String?
            if let separator = body.firstIndex(where: { $0 == ":" || $0 == "/" }) {
                name = body[..<separator]
                argument = body[separator] == ":" ? String(body[body.index(after: separator)...]) : String(body[separator...])
            }
            let mechanism = name.lowercased()
            guard mechanisms.contains(mechanism) else { throw Stop.permerror("unknown mechanism '\(term)'") }
            record.directives.append(.init(qualifier: qualifier, mechanism: mechanism, argument: argument, text: term))
        }
        return record
    }

    func fetchRecord(_ domain: String, counters: inout Counters) throws -> Record? {
        guard SPFEvaluator.isValidDomain(domain) else { return nil }
        switch dns.txt(domain) {
        case .temporaryFailure: throw Stop.temperror("DNS failure looking up TXT \(domain)")
        case .nxdomain: return nil
        case .answer(let texts):
            let candidates = texts.filter { $0.lowercased() == "v=spf1" || $0.lowercased().hasPrefix("v=spf1 ") }
            if candidates.count > 1 { throw Stop.permerror("\(domain) publishes more than one SPF record") }
            guard let text = candidates.first else { return nil }
            return try SPFEvaluator.parseRecord(text)
        }
    }

    static func isValidDomain(_ domain: String) -> Bool {
        // Limits in octets (RFC 1035 §2.3.4), labels found on the bytes.
        let bytes = domain.utf8
        guard bytes.count <= 253 else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.count <= 63 }
    }

    // MARK: check_host

    func checkHost(_ request: SPFRequest, domain: String, counters: inout Counters, depth: Int,
                   matched: inout String?, explanation: inout String?) throws -> SPFResult {
        guard depth < 20 else { throw Stop.permerror("include/redirect loop") }
        guard let record = try fetchRecord(domain, counters: &counters) else { return .none }
        for directive in record.directives {
            if try matches(directive, request: request, domain: domain, counters: &counters, depth: depth) {
                if depth == 0 || matched == nil { matched = directive.text }
                let result: SPFResult
                switch directive.qualifier {
                case "-": result = .fail
                case "~": result = .softfail
                case "?": result = .neutral
                default: result = .pass
                }
                if result == .fail, let exp = record.exp {
                    explanation = explain(exp, request: request, domain: domain)
                }
                return result
            }
        }
        if let redirect = record.redirect {
            try countLookup(&counters)
            let target = try expand(redirect, request: request, domain: domain)
            let result = try checkHost(request, domain: target, counters: &counters, depth: depth + 1, matched: &matched, explanation: &explanation)
            if result == .none { throw Stop.permerror("redirect=\(target) has no SPF record") }
            return result
        }
        return .neutral
    }

    func countLookup(_ counters: inout Counters) throws {
        counters.lookups += 1
        if counters.lookups > lookupLimit { throw Stop.permerror("more than \(lookupLimit) DNS lookups") }
    }

    func countVoid(_ counters: inout Counters) throws {
        counters.voids += 1
        if counters.voids > voidLookupLimit { throw Stop.permerror("more than \(voidLookupLimit) void lookups") }
    }

    /// Splits `domain/cidr4//cidr6` (RFC 7208 §5.6 dual-cidr-length).
    func targetAndPrefixes(_ argument: String?, request: SPFRequest, domain: String) throws -> (String, Int, Int) {
        var target = domain
        var v4 = 32
        var v6 = 128
        guard var text = argument else { return (target, v4, v6) }
        if let range = text.range(of: "//") {
            guard let n = Int(text[range.upperBound...]), (0...128).contains(n) else { throw Stop.permerror("bad ip6 cidr length") }
            v6 = n
            text = String(text[..<range.lowerBound])
        }
        if let slash = text.lastIndex(of: "/") {
            guard let n = Int(text[text.index(after: slash)...]), (0...32).contains(n) else { throw Stop.permerror("bad ip4 cidr length") }
            v4 = n
            text = String(text[..<slash])
        }
        if !text.isEmpty { target = try expand(text, request: request, domain: domain) }
        return (target, v4, v6)
    }

    func addressesMatch(_ addresses: [IPv4Address], request: SPFRequest, v4: Int) -> Bool {
        guard case .v4(let client) = request.clientIP else { return false }
        return addresses.contains { client.isIn($0, prefix: v4) }
    }

    func lookupA(_ name: String, counters: inout Counters) throws -> [IPv4Address] {
        switch dns.a(name) {
        case .temporaryFailure: throw Stop.temperror("DNS failure looking up A \(name)")
        case .nxdomain: try countVoid(&counters); return []
        case .answer(let list): if list.isEmpty { try countVoid(&counters) }; return list
        }
    }

    func matches(_ directive: Record.Directive, request: SPFRequest, domain: String, counters: inout Counters, depth: Int) throws -> Bool {
        switch directive.mechanism {
        case "all":
            return true
        case "ip4":
            guard var text = directive.argument else { throw Stop.permerror("ip4 without an address") }
            var prefix = 32
            if let slash = text.firstIndex(of: "/") {
                guard let n = Int(text[text.index(after: slash)...]), (0...32).contains(n) else { throw Stop.permerror("bad cidr in \(directive.text)") }
                prefix = n
                text = String(text[..<slash])
            }
            guard let network = IPv4Address(text) else { throw Stop.permerror("bad address in \(directive.text)") }
            guard case .v4(let client) = request.clientIP else { return false }
            return client.isIn(network, prefix: prefix)
        case "ip6":
            guard var text = directive.argument else { throw Stop.permerror("ip6 without an address") }
            var prefix = 128
            if let slash = text.lastIndex(of: "/") {
                guard let n = Int(text[text.index(after: slash)...]), (0...128).contains(n) else { throw Stop.permerror("bad cidr in \(directive.text)") }
                prefix = n
                text = String(text[..<slash])
            }
            guard let network = IPv6Address(text) else { throw Stop.permerror("bad address in \(directive.text)") }
            guard case .v6(let client) = request.clientIP else { return false }
            return client.isIn(network, prefix: prefix)
        case "a":
            try countLookup(&counters)
            let (target, v4, _) = try targetAndPrefixes(directive.argument, request: request, domain: domain)
            return addressesMatch(try lookupA(target, counters: &counters), request: request, v4: v4)
        case "mx":
            try countLookup(&counters)
            let (target, v4, _) = try targetAndPrefixes(directive.argument, request: request, domain: domain)
            let hosts: [MXRecord]
            switch dns.mx(target) {
            case .temporaryFailure: throw Stop.temperror("DNS failure looking up MX \(target)")
            case .nxdomain: try countVoid(&counters); hosts = []
            case .answer(let list): if list.isEmpty { try countVoid(&counters) }; hosts = list
            }
            if hosts.count > mxLimit { throw Stop.permerror("more than \(mxLimit) MX records for \(target)") }
            for host in hosts {
                let addresses = try lookupA(host.host, counters: &counters)
                if addressesMatch(addresses, request: request, v4: v4) { return true }
            }
            return false
        case "ptr":
            // Deprecated (RFC 7208 §5.5); counted as a lookup but never matches here.
            try countLookup(&counters)
            return false
        case "exists":
            try countLookup(&counters)
            guard let argument = directive.argument else { throw Stop.permerror("exists without a domain") }
            let target = try expand(argument, request: request, domain: domain)
            return !(try lookupA(target, counters: &counters)).isEmpty
        case "include":
            try countLookup(&counters)
            guard let argument = directive.argument else { throw Stop.permerror("include without a domain") }
            let target = try expand(argument, request: request, domain: domain)
            var innerMatched: String?
            var innerExplanation: String?
            let result = try checkHost(request, domain: target, counters: &counters, depth: depth + 1,
                                       matched: &innerMatched, explanation: &innerExplanation)
            switch result {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            case .temperror: throw Stop.temperror("include:\(target) gave temperror")
            case .permerror: throw Stop.permerror("include:\(target) gave permerror")
            case .none: throw Stop.permerror("include:\(target) has no SPF record")
            }
        default:
            throw Stop.permerror("unknown mechanism \(directive.mechanism)")
        }
    }

    func explain(_ exp: String, request: SPFRequest, domain: String) -> String? {
        guard let name = try? expand(exp, request: request, domain: domain),
              case .answer(let texts) = dns.txt(name), texts.count == 1,
              let text = try? expand(texts[0], request: request, domain: domain, explanation: true) else { return nil }
        return text
    }

    // MARK: Macros (RFC 7208 §7)

    /// Expands `%{s}`, `%{l}`, `%{o}`, `%{d}`, `%{i}`, `%{h}`, `%{v}`, `%{p}` (and in explanations
    /// `%{c}`, `%{r}`, `%{t}`), with digit and `r` transformers and custom delimiters.
    public func expand(_ text: String, request: SPFRequest, domain: String, explanation: Bool = false) throws -> String {
        var out = ""
        var chars = Substring(text)
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "%" else { out.append(c); continue }
            guard let next = chars.first else { throw Stop.permerror("'%' at the end of a macro string") }
            chars = chars.dropFirst()
            switch next {
            case "%": out += "%"
            case "_": out += " "
            case "-": out += "%20"
            case "{":
                guard let close = chars.firstIndex(of: "}") else { throw Stop.permerror("unterminated macro") }
                let spec = chars[..<close]
                chars = chars[chars.index(after: close)...]
                guard let letter = spec.first else { throw Stop.permerror("empty macro") }
                var value: String
                switch letter.lowercased() {
                case "s": value = request.mailFrom
                case "l": value = request.localPart
                case "o": value = request.senderDomain
                case "d": value = domain
                case "h": value = request.helo
                case "i", "c":
                    switch request.clientIP {
                    case .v4(let v4): value = v4.description
                    case .v6(let v6): value = letter.lowercased() == "c" ? v6.description : v6.nibbles
                    }
                case "v":
                    if case .v4 = request.clientIP { value = "in-addr" } else { value = "ip6" }
                case "p": value = "unknown"
                case "r" where explanation: value = "unknown"
                case "t" where explanation: value = "0"
                default: throw Stop.permerror("unknown macro letter '\(letter)'")
                }
                var rest = spec.dropFirst()
                var digits = ""
                while let d = rest.first, d.isNumber { digits.append(d); rest = rest.dropFirst() }
                var reverse = false
                if let r = rest.first, r == "r" || r == "R" { reverse = true; rest = rest.dropFirst() }
                let delimiters = rest.isEmpty ? ["."] : rest.map { $0 }
                guard rest.allSatisfy({ ".-+,/_=".contains($0) }) else { throw Stop.permerror("bad macro delimiter") }
                var parts = value.split(whereSeparator: { delimiters.contains($0) }).map(String.init)
                if reverse { parts.reverse() }
                if let n = Int(digits) {
                    guard n > 0 else { throw Stop.permerror("macro keeps zero labels") }
                    parts = Array(parts.suffix(n))
                }
                value = parts.joined(separator: ".")
                if letter.isUppercase {
                    value = value.utf8.map { byte -> String in
                        let unreserved = (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || "-._~".utf8.contains(byte)
                        return unreserved ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true)
                    }.joined()
                }
                out += value
            default:
                throw Stop.permerror("bad macro '%\(next)'")
            }
        }
        return out
    }

    // MARK: Received-SPF (RFC 7208 §9.1)

    /// A `Received-SPF:` field for the receiving host `receiver`.
    public static func receivedSPF(_ evaluation: SPFEvaluation, request: SPFRequest, receiver: String) -> HeaderField {
        let comment: String
        switch evaluation.result {
        case .pass: comment = "\(receiver): domain of \(request.mailFrom) designates \(request.clientIP) as permitted sender"
        case .fail: comment = "\(receiver): domain of \(request.mailFrom) does not designate \(request.clientIP) as permitted sender"
        case .softfail: comment = "\(receiver): domain of transitioning \(request.mailFrom) does not designate \(request.clientIP) as permitted sender"
        case .neutral: comment = "\(receiver): \(request.clientIP) is neither permitted nor denied by domain of \(request.mailFrom)"
        case .none: comment = "\(receiver): domain of \(request.mailFrom) does not publish an SPF record"
        case .temperror: comment = "\(receiver): temporary DNS error looking up the SPF record of \(evaluation.domain)"
        case .permerror: comment = "\(receiver): permanent error in the SPF record of \(evaluation.domain)\(evaluation.problem.map { ": " + $0 } ?? "")"
        }
        let value = "\(evaluation.result.rawValue) (\(comment)) client-ip=\(request.clientIP); envelope-from=\"\(request.mailFrom)\"; helo=\(request.helo);"
        return HeaderField(name: "Received-SPF", value: value)
    }
}
