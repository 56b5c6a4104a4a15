/// The dotted-quad text of an IPv4 address, read and written on its bytes. Shared by the
/// simulator's addresses (MailSim) and the sender policy's (MailPolicy), which keep types of
/// their own.
public enum IPv4Text {
    /// `a.b.c.d`: four decimal fields of one to three digits, each 0...255 (no sign, no empty
    /// field, leading zeros allowed); nil otherwise.
    public static func parse(_ text: String) -> UInt32? {
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
        return result << 8 | field
    }

    /// `a.b.c.d` for `value` (most significant octet first), or `d.c.b.a` when `reversed` (the
    /// label order of in-addr.arpa and DNSBL names), written straight into the string's storage
    /// (at most 15 bytes: no allocation).
    public static func format(_ value: UInt32, reversed: Bool = false) -> String {
        String(unsafeUninitializedCapacity: 15) { buffer in
            var count = 0
            for position in 0..<4 {
                let shift = UInt32(reversed ? position * 8 : 24 - position * 8)
                let octet = Int(value >> shift & 0xFF)
                if position > 0 { buffer[count] = UInt8(ascii: "."); count += 1 }
                if octet >= 100 { buffer[count] = UInt8(48 + octet / 100); count += 1 }
                if octet >= 10 { buffer[count] = UInt8(48 + octet / 10 % 10); count += 1 }
                buffer[count] = UInt8(48 + octet % 10); count += 1
            }
            return count
        }
    }
}
