/// A Postfix-style queue id such as `3F4A51234`: nine upper-case hexadecimal digits drawn from
/// the receiving host's seeded generator, so the same scenario and seed give the same ids.
public struct QueueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let text: String

    public init(text: String) { self.text = text }

    public init<G: RandomNumberGenerator>(using generator: inout G) {
        let value = generator.next() & 0xF_FFFF_FFFF
        var digits = [UInt8](repeating: 0, count: 9)
        let alphabet = Array("0123456789ABCDEF".utf8)
        var rest = value
        for index in stride(from: 8, through: 0, by: -1) {
            digits[index] = alphabet[Int(rest & 0xF)]
            rest >>= 4
        }
        text = String(decoding: digits, as: UTF8.self)
    }

    public var description: String { text }
    public static func < (lhs: QueueID, rhs: QueueID) -> Bool { lhs.text < rhs.text }
}
