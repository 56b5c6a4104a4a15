// The DNS access MailPolicy needs, as a small protocol the simulator's resolver can adopt.

/// The outcome of one DNS query (RFC 1035 §4.1.1 RCODE, simplified).
public enum DNSAnswer<Value: Sendable & Equatable>: Sendable, Equatable {
    /// NOERROR: the records (an empty list is "no data": the name exists, without records of that type).
    case answer(Value)
    /// NXDOMAIN: the name does not exist.
    case nxdomain
    /// SERVFAIL, timeout…: try again later.
    case temporaryFailure

    /// The records, or nil for NXDOMAIN and failures.
    public var records: Value? {
        if case .answer(let value) = self { return value }
        return nil
    }
}

/// An MX record (RFC 5321 §5.1): lower preference is tried first.
public struct MXRecord: Sendable, Equatable, Hashable {
    public var preference: Int
    public var host: String
    public init(preference: Int, host: String) {
        self.preference = preference
        self.host = host
    }
}

/// Synchronous DNS queries: the simulation answers from its zone inside its own event loop.
///
/// Names are absolute domain names without the trailing dot; implementations compare them
/// case-insensitively. A TXT record made of several strings is returned joined (RFC 7208 §3.3).
public protocol DNSLookup {
    func txt(_ name: String) -> DNSAnswer<[String]>
    func a(_ name: String) -> DNSAnswer<[IPv4Address]>
    func mx(_ name: String) -> DNSAnswer<[MXRecord]>
}

/// A DNS zone held in memory, for tests and small worlds.
public struct InMemoryDNS: DNSLookup, Sendable {
    public var txtRecords: [String: [String]] = [:]
    public var aRecords: [String: [IPv4Address]] = [:]
    public var mxRecords: [String: [MXRecord]] = [:]
    /// Names whose queries fail temporarily (SERVFAIL).
    public var failing: Set<String> = []

    public init() {}

    static func key(_ name: String) -> String {
        var lower = name.lowercased()
        if lower.hasSuffix(".") { lower.removeLast() }
        return lower
    }

    public mutating func addTXT(_ name: String, _ text: String) { txtRecords[Self.key(name), default: []].append(text) }
    public mutating func addA(_ name: String, _ address: String) {
        if let ip = IPv4Address(address) { aRecords[Self.key(name), default: []].append(ip) }
    }
    public mutating func addMX(_ name: String, preference: Int, host: String) {
        mxRecords[Self.key(name), default: []].append(MXRecord(preference: preference, host: host))
    }

    /// True when the name owns any record (so an empty answer is "no data", not NXDOMAIN).
    func exists(_ key: String) -> Bool {
        txtRecords[key] != nil || aRecords[key] != nil || mxRecords[key] != nil
            || (txtRecords.keys.contains { $0.hasSuffix("." + key) }) || (aRecords.keys.contains { $0.hasSuffix("." + key) })
    }

    func answer<T>(_ table: [String: [T]], _ name: String) -> DNSAnswer<[T]> {
        let key = Self.key(name)
        if failing.contains(key) { return .temporaryFailure }
        if let records = table[key] { return .answer(records) }
        return exists(key) ? .answer([]) : .nxdomain
    }

    public func txt(_ name: String) -> DNSAnswer<[String]> { answer(txtRecords, name) }
    public func a(_ name: String) -> DNSAnswer<[IPv4Address]> { answer(aRecords, name) }
    public func mx(_ name: String) -> DNSAnswer<[MXRecord]> {
        let result = answer(mxRecords, name)
        if case .answer(let records) = result {
            return .answer(records.sorted { ($0.preference, $0.host) < ($1.preference, $1.host) })
        }
        return result
    }
}
