// DMARC (RFC 7489): policy records, discovery, identifier alignment and disposition.

import Foundation

import MailMessage

/// A requested policy (RFC 7489 §6.3 `p=`).
public enum DMARCPolicy: String, Sendable, Equatable {
    case none, quarantine, reject
}

/// Alignment mode (RFC 7489 §3.1): relaxed compares organisational domains, strict the exact names.
public enum DMARCAlignment: String, Sendable, Equatable {
    case relaxed = "r"
    case strict = "s"
}

/// A parsed `v=DMARC1` record.
public struct DMARCRecord: Sendable, Equatable {
    public var policy: DMARCPolicy
    public var subdomainPolicy: DMARCPolicy?
    public var percentage: Int
    public var aggregateReportURIs: [String]
    public var failureReportURIs: [String]
    public var dkimAlignment: DMARCAlignment
    public var spfAlignment: DMARCAlignment
    public var failureOptions: String

    /// Parses a record (RFC 7489 §6.3, §6.4); nil when it is not a valid DMARC record.
    public init?(_ text: String) {
        guard let tags = DKIMTagList.parse(text), tags.first?.name == "v", tags.first?.value == "DMARC1" else { return nil }
        let value = { (name: String) in DKIMTagList.value(tags, name) }
        guard let p = value("p").flatMap({ DMARCPolicy(rawValue: $0.lowercased()) }) else { return nil }
        policy = p
        subdomainPolicy = value("sp").flatMap { DMARCPolicy(rawValue: $0.lowercased()) }
        if let pct = value("pct") {
            guard let n = Int(pct), (0...100).contains(n) else { return nil }
            percentage = n
        } else {
            percentage = 100
        }
        func uris(_ v: String?) -> [String] {
            (v ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        aggregateReportURIs = uris(value("rua"))
        failureReportURIs = uris(value("ruf"))
        dkimAlignment = value("adkim").flatMap { DMARCAlignment(rawValue: $0.lowercased()) } ?? .relaxed
        spfAlignment = value("aspf").flatMap { DMARCAlignment(rawValue: $0.lowercased()) } ?? .relaxed
        failureOptions = value("fo") ?? "0"
    }
}

extension Substring {
    func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}

/// The organisational domain, "public suffix lite": the last two labels, or the last three when the
/// last two form a known two-level public suffix (co.uk, com.au, …). A full Public Suffix List is
/// out of scope for the simulated world; this is the documented simplification.
public enum OrganizationalDomain {
    public static let twoLevelSuffixes: Set<String> = [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au",
        "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.za", "com.br", "com.cn", "com.mx",
        "co.in", "co.kr", "com.tw", "com.sg", "gouv.fr", "asso.fr",
    ]

    public static func of(_ domain: String) -> String {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        // The labels are the non-empty runs between dots, found on the bytes (dots are ASCII).
        let labels = name.utf8.split(separator: UInt8(ascii: "."))
        guard labels.count > 2 else { return name }
        func joined(_ count: Int) -> String { labels.suffix(count).map { String(Substring($0)) }.joined(separator: ".") }
        let lastTwo = joined(2)
        if twoLevelSuffixes.contains(lastTwo) { return joined(3) }
        return lastTwo
    }

    /// Identifier alignment (RFC 7489 §3.1).
    public static func aligned(_ a: String, _ b: String, mode: DMARCAlignment) -> Bool {
        switch mode {
        case .strict: return a.lowercased() == b.lowercased()
        case .relaxed: return of(a) == of(b)
        }
    }
}

/// The DMARC result (RFC 7489 §11.2 / RFC 8601).
public enum DMARCResult: String, Sendable, Equatable {
    case pass, fail, none, temperror, permerror
}

/// What to do with the message (RFC 7489 §6.6.4, after pct sampling).
public struct DMARCOutcome: Sendable, Equatable {
    public var result: DMARCResult
    /// The RFC5322.From domain evaluated.
    public var fromDomain: String
    /// Where the record was found (`_dmarc.` + this), nil when none.
    public var policyDomain: String?
    public var record: DMARCRecord?
    /// The policy that applies to this From domain (p=, or sp= for a subdomain).
    public var requestedPolicy: DMARCPolicy
    /// The action after the pct= draw: `none` for a pass.
    public var disposition: DMARCPolicy
    public var spfAligned: Bool
    public var dkimAligned: Bool
    /// True when pct= excluded this message from the policy.
    public var sampledOut: Bool
}

/// The DMARC evaluator.
///
/// ```swift
/// let dmarc = DMARCEvaluator(dns: zone)
/// let outcome = dmarc.evaluate(fromDomain: "example.com",
///                              spf: (.pass, "example.com"), dkim: [(.pass, "example.com")], draw: 0.42)
/// outcome.result       // .pass
/// ```
public struct DMARCEvaluator {
    public let dns: any DNSLookup

    public init(dns: any DNSLookup) { self.dns = dns }

    enum Discovery {
        case found(DMARCRecord, String)
        case none
        case temperror
    }

    func fetch(_ domain: String) -> Discovery? {
        switch dns.txt("_dmarc." + domain) {
        case .temporaryFailure: return .temperror
        case .nxdomain: return nil
        case .answer(let texts):
            let candidates = texts.filter { $0.hasPrefix("v=DMARC1") }
            guard candidates.count == 1, let record = DMARCRecord(candidates[0]) else { return nil }
            return .found(record, domain)
        }
    }

    /// Policy discovery (RFC 7489 §6.6.3): `_dmarc.<from-domain>`, then the organisational domain.
    func discover(_ fromDomain: String) -> Discovery {
        if let found = fetch(fromDomain) { return found }
        let org = OrganizationalDomain.of(fromDomain)
        if org != fromDomain.lowercased(), let found = fetch(org) { return found }
        return .none
    }

    /// Evaluates DMARC for a message.
    /// - Parameters:
    ///   - spf: the SPF result and the domain it was evaluated for (MAIL FROM domain).
    ///   - dkim: every DKIM signature's result and `d=` domain.
    ///   - draw: a caller-supplied number in 0..<1 (from the world's seeded generator) for `pct=`.
    public func evaluate(fromDomain: String, spf: (result: SPFResult, domain: String),
                         dkim: [(result: DKIMResult, domain: String)], draw: Double) -> DMARCOutcome {
        var outcome = DMARCOutcome(result: .none, fromDomain: fromDomain, policyDomain: nil, record: nil,
                                   requestedPolicy: .none, disposition: .none, spfAligned: false, dkimAligned: false,
                                   sampledOut: false)
        let record: DMARCRecord
        switch discover(fromDomain) {
        case .temperror: outcome.result = .temperror; return outcome
        case .none: return outcome
        case .found(let found, let domain):
            record = found
            outcome.record = found
            outcome.policyDomain = domain
            let isSubdomain = domain.lowercased() != fromDomain.lowercased()
            outcome.requestedPolicy = isSubdomain ? (found.subdomainPolicy ?? found.policy) : found.policy
        }
        outcome.spfAligned = spf.result == .pass && OrganizationalDomain.aligned(spf.domain, fromDomain, mode: record.spfAlignment)
        outcome.dkimAligned = dkim.contains { $0.result == .pass && OrganizationalDomain.aligned($0.domain, fromDomain, mode: record.dkimAlignment) }
        if outcome.spfAligned || outcome.dkimAligned {
            outcome.result = .pass
            return outcome
        }
        outcome.result = .fail
        // pct= (RFC 7489 §6.6.4): outside the sample, apply the next weaker policy.
        if Double(record.percentage) / 100.0 > draw {
            outcome.disposition = outcome.requestedPolicy
        } else {
            outcome.sampledOut = true
            switch outcome.requestedPolicy {
            case .reject: outcome.disposition = .quarantine
            case .quarantine, .none: outcome.disposition = .none
            }
        }
        return outcome
    }
}

/// An `Authentication-Results:` field (RFC 8601).
///
/// `Authentication-Results: mx.company.org; spf=pass smtp.mailfrom=example.com;
///  dkim=pass header.d=example.com header.s=sel1; dmarc=pass header.from=example.com`
public struct AuthenticationResults: Sendable, Equatable {
    /// One method result: `method=result (reason) ptype.property=value …`.
    public struct Entry: Sendable, Equatable {
        public var method: String
        public var result: String
        public var reason: String?
        public var properties: [(name: String, value: String)]

        public init(method: String, result: String, reason: String? = nil, properties: [(name: String, value: String)] = []) {
            self.method = method
            self.result = result
            self.reason = reason
            self.properties = properties
        }

        public static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.method == rhs.method && lhs.result == rhs.result && lhs.reason == rhs.reason
                && lhs.properties.map(\.name) == rhs.properties.map(\.name) && lhs.properties.map(\.value) == rhs.properties.map(\.value)
        }

        var text: String {
            var text = "\(method)=\(result)"
            if let reason { text += " reason=\"\(reason.replacingOccurrences(of: "\"", with: "'"))\"" }
            for property in properties { text += " \(property.name)=\(property.value)" }
            return text
        }
    }

    public var authservID: String
    public var entries: [Entry]

    public init(authservID: String, entries: [Entry] = []) {
        self.authservID = authservID
        self.entries = entries
    }

    public mutating func addSPF(_ evaluation: SPFEvaluation, mailFrom: String) {
        let domain = AuthenticationResults.lastPiece(of: mailFrom, after: UInt8(ascii: "@")).map(String.init) ?? mailFrom
        entries.append(Entry(method: "spf", result: evaluation.result.rawValue, properties: [("smtp.mailfrom", domain)]))
    }

    public mutating func addDKIM(_ verification: DKIMVerification) {
        var properties: [(name: String, value: String)] = []
        if let d = verification.domain { properties.append(("header.d", d)) }
        if let s = verification.selector { properties.append(("header.s", s)) }
        entries.append(Entry(method: "dkim", result: verification.result.keyword, reason: verification.result.reason, properties: properties))
    }

    public mutating func addDMARC(_ outcome: DMARCOutcome) {
        entries.append(Entry(method: "dmarc", result: outcome.result.rawValue, properties: [("header.from", outcome.fromDomain)]))
    }

    /// The last non-empty run of `text` between `separator` bytes (what
    /// `split(separator:).last` gives for an ASCII separator), found from the end; nil when
    /// there is none.
    static func lastPiece(of text: String, after separator: UInt8) -> Substring? {
        let bytes = text.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == separator { end = bytes.index(before: end) }
        guard end > bytes.startIndex else { return nil }
        var start = end
        while start > bytes.startIndex, bytes[bytes.index(before: start)] != separator { start = bytes.index(before: start) }
        return text[start..<end]
    }

    /// The value on one line (`none` when there is no result, RFC 8601 §2.2).
    public var value: String {
        entries.isEmpty ? "\(authservID); none" : ([authservID] + entries.map(\.text)).joined(separator: "; ")
    }

    /// The field, folded at spaces to stay within 78 characters where possible.
    public var field: HeaderField { HeaderField(name: "Authentication-Results", value: value) }
}
