/// A Postfix-style queue id such as `3F4A51234`: nine upper-case hexadecimal digits drawn from
/// the receiving host's seeded generator, so the same scenario and seed give the same ids.
public struct QueueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let text: String

    public init(text: String) { self.text = text }

    public init<G: RandomNumberGenerator>(using generator: inout G) {
        let value = generator.next() & 0xF_FFFF_FFFF
        // Nine digits fit in a small string: no allocation at all.
        text = String(unsafeUninitializedCapacity: 9) { digits in
            var rest = value
            for index in stride(from: 8, through: 0, by: -1) {
                let digit = UInt8(truncatingIfNeeded: rest & 0xF)
                digits[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "A") + digit - 10
                rest >>= 4
            }
            return 9
        }
    }

    public var description: String { text }
    public static func < (lhs: QueueID, rhs: QueueID) -> Bool { lhs.text < rhs.text }
}
