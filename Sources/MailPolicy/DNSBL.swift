// DNS blocklists (RFC 5782): `4.3.2.1.zone` A records in 127.0.0.0/8 mean "listed".

/// The answer of one or more blocklist zones about a client address.
public enum DNSBLResult: Sendable, Equatable {
    case notListed
    /// Listed by `zone` with these return codes and the zone's TXT reason, if any.
    case listed(zone: String, codes: [IPv4Address], reason: String?)
    /// A zone could not be queried; nothing was concluded from it.
    case temporaryFailure(zone: String)
}

/// Blocklist queries.
///
/// ```swift
/// let result = DNSBL.check(IPv4Address("192.0.2.99")!, zones: ["zen.example.net"], dns: zone)
/// DNSBL.rejection(client: ip, result: result)  // "554 5.7.1 Service unavailable; Client host [192.0.2.99] blocked using zen.example.net"
/// ```
public enum DNSBL {
    /// The query name: reversed octets + zone (RFC 5782 §2.1).
    public static func queryName(_ ip: IPv4Address, zone: String) -> String {
        ip.reversedDotted + "." + zone
    }

    /// Asks each zone in order; the first listing wins. A temporary failure is reported only when no
    /// zone lists the address.
    public static func check(_ ip: IPv4Address, zones: [String], dns: any DNSLookup) -> DNSBLResult {
        var failure: DNSBLResult?
        let loopback = IPv4Address(127, 0, 0, 0)
        for zone in zones {
            let name = queryName(ip, zone: zone)
            switch dns.a(name) {
            case .temporaryFailure:
                if failure == nil { failure = .temporaryFailure(zone: zone) }
            case .nxdomain:
                continue
            case .answer(let addresses):
                let codes = addresses.filter { $0.isIn(loopback, prefix: 8) }
                guard !codes.isEmpty else { continue }
                let reason = dns.txt(name).records?.first
                return .listed(zone: zone, codes: codes.sorted(), reason: reason)
            }
        }
        return failure ?? .notListed
    }

    /// The SMTP reply an MTA sends to a listed client (Postfix's wording); nil when not listed.
    public static func rejection(client: IPv4Address, result: DNSBLResult) -> String? {
        guard case .listed(let zone, _, let reason) = result else { return nil }
        var text = "554 5.7.1 Service unavailable; Client host [\(client)] blocked using \(zone)"
        if let reason, !reason.isEmpty {
            let clean = String(reason.unicodeScalars.filter { $0.value >= 32 && $0.value < 127 })
            text += "; " + clean
        }
        return text
    }
}
