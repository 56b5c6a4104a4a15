/// An IPv4 address of a simulated host (dotted-quad text form).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a big-endian 32-bit number (`192.0.2.10` is `0xC000020A`).
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses `a.b.c.d` with four decimal fields 0...255 (no leading `+`, no empty field).
    public init?(_ text: String) {
        var result: UInt32 = 0
        var fields = 0
        var field: UInt32 = 0
        var digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                guard digits <= 3 else { return nil }
                field = field * 10 + UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "."):
                guard digits > 0, field <= 255, fields < 3 else { return nil }
                result = result << 8 | field
                fields += 1
                field = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, field <= 255, fields == 3 else { return nil }
        value = result << 8 | field
    }

    /// The four octets, most significant first.
    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// `a.b.c.d`, written straight into the string's storage (at most 15 bytes: no allocation).
    public var description: String {
        String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            for position in 0..<4 {
                let octet = Int(value >> UInt32(24 - position * 8) & 0xFF)
                if position > 0 { buffer[count] = UInt8(ascii: "."); count += 1 }
                if octet >= 100 { buffer[count] = UInt8(48 + octet / 100); count += 1 }
                if octet >= 10 { buffer[count] = UInt8(48 + octet / 10 % 10); count += 1 }
                buffer[count] = UInt8(48 + octet % 10); count += 1
            }
            return count
        }
    }

    /// The DNSBL query name for this address under `zone` (RFC 5782 §2.1): octets reversed,
    /// e.g. `192.0.2.99` under `zen.blocklist.test` is `99.2.0.192.zen.blocklist.test`.
    public func reversedName(in zone: String) -> String {
        octets.reversed().map(String.init).joined(separator: ".") + "." + zone
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
