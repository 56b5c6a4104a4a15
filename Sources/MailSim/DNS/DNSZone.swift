import Foundation

/// The data of one DNS resource record (RFC 1035 §3.3).
public enum DNSRecordData: Hashable, Sendable {
    /// An IPv4 address (RFC 1035 §3.4.1).
    case a(IPv4Address)
    /// A mail exchanger with its preference, lower first (RFC 1035 §3.3.9, RFC 5321 §5.1).
    case mx(preference: UInt16, exchange: String)
    /// One or more character-strings (RFC 1035 §3.3.14; SPF and DKIM join them, RFC 7208 §3.3).
    case txt([String])

    public var type: DNSRecordType {
        switch self {
        case .a: return .a
        case .mx: return .mx
        case .txt: return .txt
        }
    }
}

/// The record types the simulated DNS serves.
public enum DNSRecordType: String, CaseIterable, Sendable {
    case a = "A", mx = "MX", txt = "TXT"

    /// Parses a type as typed by a learner (`mx`, `MX`, `Txt`).
    public init?(parsing text: String) { self.init(rawValue: text.uppercased()) }
}

/// One resource record. Names are stored lower-case without the trailing dot.
public struct DNSRecord: Hashable, Sendable {
    public let name: String
    public let ttl: UInt32
    public let data: DNSRecordData

    public init(name: String, ttl: UInt32 = DNSZone.defaultTTL, data: DNSRecordData) {
        self.name = DNSZone.normalize(name)
        self.ttl = ttl
        if case let .mx(preference, exchange) = data {
            self.data = .mx(preference: preference, exchange: DNSZone.normalize(exchange))
        } else {
            self.data = data
        }
    }

    /// Zone-file form used by `dig` output: `NAME.<TAB><TAB>TTL<TAB>IN<TAB>TYPE<TAB>DATA`, e.g.
    /// `company.org.		3600	IN	MX	10 mail1.company.org.`. TXT strings are quoted (with `"`
    /// and `\` escaped) and separated by one space.
    public var zoneFileLine: String {
        let rdata: String
        switch data {
        case let .a(address): rdata = address.description
        case let .mx(preference, exchange): rdata = "\(preference) \(exchange)."
        case let .txt(strings):
            rdata = strings.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
                .joined(separator: " ")
        }
        return "\(name).\t\t\(ttl)\tIN\t\(data.type.rawValue)\t\(rdata)"
    }
}

/// A mail exchanger from an MX answer.
public struct MXRecord: Hashable, Sendable {
    public let preference: UInt16
    public let exchange: String
}

/// The outcome of a query (RFC 2308 distinguishes the two negative answers; SPF, RFC 7208 §4.3
/// and §5, treats them differently).
public enum DNSAnswer<Value: Hashable & Sendable>: Hashable, Sendable {
    /// At least one record of the type.
    case answer([Value])
    /// The name exists but has no record of that type (NOERROR, empty answer).
    case noData
    /// The name does not exist at all (nor any name below it).
    case nxdomain

    /// The values, empty for both negative answers.
    public var values: [Value] {
        if case let .answer(values) = self { return values }
        return []
    }
}

/// The world's DNS: one flat set of records (every domain of the simulation lives here).
public final class DNSZone {
    public static let defaultTTL: UInt32 = 3600

    /// Records in insertion order.
    public private(set) var records: [DNSRecord] = []
    /// The same records by owner name, each list in insertion order (every delivery looks up
    /// an MX and an A record).
    private var recordsByName: [String: [DNSRecord]] = [:]
    /// Answers already given to ``Resolver/mx(_:)`` and ``Resolver/a(_:)``, by the name as asked;
    /// emptied by every change of the zone (every relayed message asks the same two questions).
    var mxAnswers: [String: DNSAnswer<MXRecord>] = [:]
    var aAnswers: [String: DNSAnswer<IPv4Address>] = [:]

    public init() {}

    /// Every owner name and every name above one (the empty non-terminals), made when first
    /// asked and dropped by every change of the zone: SPF and DMARC ask for names that do not
    /// exist with every message received.
    private var existingNames: Set<String>?

    private func zoneChanged() {
        if !mxAnswers.isEmpty { mxAnswers = [:] }
        if !aAnswers.isEmpty { aAnswers = [:] }
        existingNames = nil
    }

    static func normalize(_ name: String) -> String {
        // Most names are already lower case without a final dot: no copy for them.
        if name.utf8.last != UInt8(ascii: "."),
           !name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") || $0 >= 0x80 }) {
            return name
        }
        var n = name.lowercased()
        while n.hasSuffix(".") { n.removeLast() }
        return n
    }

    public func add(_ record: DNSRecord) {
        guard !(recordsByName[record.name]?.contains(record) ?? false) else { return }
        zoneChanged()
        records.append(record)
        recordsByName[record.name, default: []].append(record)
    }

    public func addA(_ name: String, _ address: IPv4Address, ttl: UInt32 = defaultTTL) {
        add(DNSRecord(name: name, ttl: ttl, data: .a(address)))
    }

    public func addMX(_ name: String, preference: UInt16, exchange: String, ttl: UInt32 = defaultTTL) {
        add(DNSRecord(name: name, ttl: ttl, data: .mx(preference: preference, exchange: exchange)))
    }

    /// Adds a TXT record with one or more character-strings.
    public func addTXT(_ name: String, _ strings: [String], ttl: UInt32 = defaultTTL) {
        add(DNSRecord(name: name, ttl: ttl, data: .txt(strings)))
    }

    public func addTXT(_ name: String, _ text: String, ttl: UInt32 = defaultTTL) {
        addTXT(name, [text], ttl: ttl)
    }

    /// Lists `address` in the DNS blocklist `zone` (RFC 5782 §2.1): an A record
    /// `d.c.b.a.zone → returnCode` (127.0.0.2 by convention) and, when given, a TXT reason.
    public func addBlocklistEntry(_ address: IPv4Address, zone: String, returnCode: IPv4Address = IPv4Address(127, 0, 0, 2), reason: String? = nil) {
        let name = address.reversedName(in: Self.normalize(zone))
        addA(name, returnCode)
        if let reason { addTXT(name, reason) }
    }

    /// Removes every record of `type` (or of every type) at `name`.
    public func remove(_ name: String, type: DNSRecordType? = nil) {
        let n = Self.normalize(name)
        zoneChanged()
        records.removeAll { $0.name == n && (type == nil || $0.data.type == type) }
        recordsByName[n]?.removeAll { type == nil || $0.data.type == type }
        if recordsByName[n]?.isEmpty == true { recordsByName[n] = nil }
    }

    /// True if `name` or any name below it owns a record (an empty non-terminal exists, RFC 8020).
    public func nameExists(_ name: String) -> Bool {
        let n = Self.normalize(name)
        if recordsByName[n] != nil { return true }
        if let existingNames { return existingNames.contains(n) }
        var names = Set<String>()
        for owner in recordsByName.keys {
            var rest = Substring(owner)
            names.insert(owner)
            while let dot = rest.firstIndex(of: ".") {
                rest = rest[rest.index(after: dot)...]
                names.insert(String(rest))
            }
        }
        existingNames = names
        return names.contains(n)
    }

    /// Records at `name` of `type`, in insertion order.
    public func lookup(_ name: String, type: DNSRecordType) -> DNSAnswer<DNSRecord> {
        let n = Self.normalize(name)
        let found = recordsByName[n]?.filter { $0.data.type == type } ?? []
        if !found.isEmpty { return .answer(found) }
        return nameExists(n) ? .noData : .nxdomain
    }
}

/// What agents (and the learner's `dig`) use to query the world's DNS. Answers are immediate
/// (no virtual delay) and sorted deterministically.
public struct Resolver {
    public let zone: DNSZone

    public init(zone: DNSZone) { self.zone = zone }

    /// MX records sorted by preference, then exchange name (RFC 5321 §5.1).
    public func mx(_ domain: String) -> DNSAnswer<MXRecord> {
        if let known = zone.mxAnswers[domain] { return known }
        let answer = lookupMX(domain)
        if zone.mxAnswers.count < 4096 { zone.mxAnswers[domain] = answer }
        return answer
    }

    private func lookupMX(_ domain: String) -> DNSAnswer<MXRecord> {
        map(zone.lookup(domain, type: .mx)) { records in
            records.compactMap { record -> MXRecord? in
                if case let .mx(preference, exchange) = record.data { return MXRecord(preference: preference, exchange: exchange) }
                return nil
            }.sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
        }
    }

    /// A records, sorted by address.
    public func a(_ name: String) -> DNSAnswer<IPv4Address> {
        if let known = zone.aAnswers[name] { return known }
        let answer = lookupA(name)
        if zone.aAnswers.count < 4096 { zone.aAnswers[name] = answer }
        return answer
    }

    private func lookupA(_ name: String) -> DNSAnswer<IPv4Address> {
        map(zone.lookup(name, type: .a)) { records in
            records.compactMap { record -> IPv4Address? in
                if case let .a(address) = record.data { return address }
                return nil
            }.sorted()
        }
    }

    /// TXT records, each as its list of character-strings, in zone order.
    public func txt(_ name: String) -> DNSAnswer<[String]> {
        map(zone.lookup(name, type: .txt)) { records in
            records.compactMap { record -> [String]? in
                if case let .txt(strings) = record.data { return strings }
                return nil
            }
        }
    }

    /// `dig NAME TYPE` in a short form: a status line, then the answer in zone-file form.
    ///
    /// ```
    /// ;; status: NOERROR, answers: 3
    /// company.org.		3600	IN	MX	10 mail1.company.org.
    /// company.org.		3600	IN	MX	20 mail2.company.org.
    /// company.org.		3600	IN	MX	30 mail-backup.example.net.
    /// ```
    /// A missing name gives `;; status: NXDOMAIN, answers: 0`; an existing name without records of
    /// the type gives `;; status: NOERROR, answers: 0`. Answers are sorted like the resolver's.
    public func dig(_ name: String, type: DNSRecordType = .a) -> String {
        switch zone.lookup(name, type: type) {
        case .nxdomain:
            return ";; status: NXDOMAIN, answers: 0\n"
        case .noData:
            return ";; status: NOERROR, answers: 0\n"
        case let .answer(records):
            let sorted: [DNSRecord]
            switch type {
            case .mx:
                sorted = records.sorted { a, b in
                    guard case let .mx(pa, ea) = a.data, case let .mx(pb, eb) = b.data else { return false }
                    return (pa, ea) < (pb, eb)
                }
            case .a:
                sorted = records.sorted { a, b in
                    guard case let .a(x) = a.data, case let .a(y) = b.data else { return false }
                    return x < y
                }
            case .txt:
                sorted = records
            }
            return ";; status: NOERROR, answers: \(sorted.count)\n" + sorted.map { $0.zoneFileLine + "\n" }.joined()
        }
    }

    private func map<T>(_ answer: DNSAnswer<DNSRecord>, _ transform: ([DNSRecord]) -> [T]) -> DNSAnswer<T> {
        switch answer {
        case let .answer(records): return .answer(transform(records))
        case .noData: return .noData
        case .nxdomain: return .nxdomain
        }
    }
}
