// IPv4 and IPv6 addresses and CIDR matching, as SPF (RFC 7208 §5.6) and DNSBL queries need them.

import enum MailCore.IPv4Text

/// An IPv4 address.
public struct IPv4Address: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Dotted-quad text (``IPv4Text/parse(_:)``); nil when malformed.
    public init?(_ text: String) {
        guard let value = IPv4Text.parse(text) else { return nil }
        self.value = value
    }

    public var octets: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
    public var description: String { IPv4Text.format(value) }

    /// True when the first `prefix` bits equal those of `network`.
    public func isIn(_ network: IPv4Address, prefix: Int) -> Bool {
        guard prefix > 0 else { return true }
        let mask: UInt32 = prefix >= 32 ? .max : ~(UInt32.max >> UInt32(prefix))
        return value & mask == network.value & mask
    }

    /// `4.3.2.1` for 1.2.3.4: the label order of in-addr.arpa and DNSBL queries.
    public var reversedDotted: String { IPv4Text.format(value, reversed: true) }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// An IPv6 address (RFC 4291 §2.2 text forms).
public struct IPv6Address: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init?(_ text: String) {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowV4, piece.contains("."), let v4 = IPv4Address(String(piece)) {
                    result.append(UInt16(v4.value >> 16))
                    result.append(UInt16(v4.value & 0xffff))
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let n = UInt16(piece, radix: 16) else { return nil }
                result.append(n)
            }
            return result
        }
        if halves.count == 2 {
            sawGap = true
            guard let h = groups(halves[0], allowV4: false), let t = groups(halves[1], allowV4: true) else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowV4: true) else { return nil }
            head = h
        }
        let total = head.count + tail.count
        guard sawGap ? total <= 7 : total == 8 else { return nil }
        let all = head + [UInt16](repeating: 0, count: 8 - total) + tail
        bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    public var description: String {
        stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// Dot-separated nibbles, most significant first (the form of SPF's `%{i}` for IPv6, RFC 7208 §7.3).
    public var nibbles: String {
        bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0f, radix: 16)] }.joined(separator: ".")
    }

    public func isIn(_ network: IPv6Address, prefix: Int) -> Bool {
        var remaining = max(0, min(128, prefix))
        for index in 0..<16 where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}

/// A client address of either family.
public enum IPAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: String) {
        if let v4 = IPv4Address(text) { self = .v4(v4) } else if let v6 = IPv6Address(text) { self = .v6(v6) } else { return nil }
    }

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }
}
