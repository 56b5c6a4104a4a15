import enum MailCore.IPv4Text

/// An IPv4 address of a simulated host (dotted-quad text form).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a big-endian 32-bit number (`192.0.2.10` is `0xC000020A`).
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses `a.b.c.d` with four decimal fields 0...255 (``IPv4Text/parse(_:)``).
    public init?(_ text: String) {
        guard let value = IPv4Text.parse(text) else { return nil }
        self.value = value
    }

    /// The four octets, most significant first.
    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var description: String { IPv4Text.format(value) }

    /// The DNSBL query name for this address under `zone` (RFC 5782 §2.1): octets reversed,
    /// e.g. `192.0.2.99` under `zen.blocklist.test` is `99.2.0.192.zen.blocklist.test`.
    public func reversedName(in zone: String) -> String {
        IPv4Text.format(value, reversed: true) + "." + zone
    }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// An address and TCP port, as shown in transcripts (`192.0.2.10:49152`).
public struct SocketAddressV4: Hashable, Sendable, CustomStringConvertible {
    public let address: IPv4Address
    public let port: UInt16
    public init(_ address: IPv4Address, _ port: UInt16) { self.address = address; self.port = port }
    public var description: String { "\(address):\(port)" }
}
