// The world's DNS seen through MailPolicy's `DNSLookup`, for SPF, DKIM, DMARC and DNSBL checks.

import MailPolicy
import MailSim

/// Answers MailPolicy's queries from the simulated world's zone.
///
/// The two modules model a DNS answer differently, so the adapter maps them:
///
/// | MailSim `Resolver` | MailPolicy `DNSLookup` |
/// |---|---|
/// | `.answer(records)` | `.answer(records)` |
/// | `.noData` (the name exists, RFC 2308 NODATA) | `.answer([])` |
/// | `.nxdomain` | `.nxdomain` |
///
/// The simulated zone never fails, so `.temporaryFailure` is never returned. A TXT record made of
/// several character-strings is returned as one string, the strings joined without separator
/// (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
public struct PolicyDNS: MailPolicy.DNSLookup {
    public let resolver: Resolver

    public init(resolver: Resolver) { self.resolver = resolver }

    public func txt(_ name: String) -> MailPolicy.DNSAnswer<[String]> {
        Self.convert(resolver.txt(name)) { $0.joined() }
    }

    public func a(_ name: String) -> MailPolicy.DNSAnswer<[MailPolicy.IPv4Address]> {
        Self.convert(resolver.a(name)) { MailPolicy.IPv4Address(value: $0.value) }
    }

    public func mx(_ name: String) -> MailPolicy.DNSAnswer<[MailPolicy.MXRecord]> {
        Self.convert(resolver.mx(name)) { MailPolicy.MXRecord(preference: Int($0.preference), host: $0.exchange) }
    }

    static func convert<Source: Hashable & Sendable, Target: Sendable & Equatable>(
        _ answer: MailSim.DNSAnswer<Source>, _ transform: (Source) -> Target
    ) -> MailPolicy.DNSAnswer<[Target]> {
        switch answer {
        case .answer(let records): return .answer(records.map(transform))
        case .noData: return .answer([])
        case .nxdomain: return .nxdomain
        }
    }
}

extension World {
    /// The zone of this world as MailPolicy's `DNSLookup` (SPF, DKIM, DMARC, DNSBL).
    public var policyDNS: PolicyDNS { PolicyDNS(resolver: resolver) }
}
