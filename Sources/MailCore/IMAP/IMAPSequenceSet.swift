/// A sequence set: `1:*`, `2,4:6`, `*` (RFC 3501 §9 `sequence-set`).
///
/// The same type carries message sequence numbers and UIDs; `*` stands for the largest number in
/// use, and a range may be written in either order (`6:4` is `4:6`).
public struct IMAPSequenceSet: Hashable, Sendable, CustomStringConvertible {
    public enum Bound: Hashable, Sendable {
        case number(UInt32)
        case star
    }

    public struct Range: Hashable, Sendable {
        public var first: Bound
        public var last: Bound
        public init(_ first: Bound, _ last: Bound) { self.first = first; self.last = last }
    }

    public var ranges: [Range]

    public init(ranges: [Range]) { self.ranges = ranges }

    /// A set of explicit numbers, compressed into ranges (`1,2,3,5` → `1:3,5`).
    public init<S: Sequence>(numbers: S) where S.Element == UInt32 {
        var result = [Range]()
        for n in Set(numbers).sorted() {
            if let last = result.last, case .number(let hi) = last.last, hi &+ 1 == n {
                result[result.count - 1].last = .number(n)
            } else {
                result.append(Range(.number(n), .number(n)))
            }
        }
        ranges = result
    }

    public static let all = IMAPSequenceSet(ranges: [Range(.number(1), .star)])

    /// Parses a set; `nil` for `0`, empty members, or anything else malformed.
    public init?(parsing text: Substring) {
        guard !text.isEmpty, text.count <= 10_000 else { return nil }
        var ranges = [Range]()
        for member in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = member.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            guard let a = IMAPSequenceSet.bound(ends[0]) else { return nil }
            if ends.count == 2 {
                guard let b = IMAPSequenceSet.bound(ends[1]) else { return nil }
                ranges.append(Range(a, b))
            } else {
                ranges.append(Range(a, a))
            }
        }
        self.ranges = ranges
    }

    private static func bound(_ text: Substring) -> Bound? {
        if text == "*" { return .star }
        guard !text.isEmpty, text.count <= 10, text.allSatisfy(\.imapIsDigit), text.first != "0",
              let v = UInt32(text) else { return nil }
        return .number(v)
    }

    /// Whether `n` is in the set, with `*` standing for `largest`.
    public func contains(_ n: UInt32, largest: UInt32) -> Bool {
        for r in ranges {
            let a = value(r.first, largest), b = value(r.last, largest)
            if n >= min(a, b) && n <= max(a, b) { return true }
        }
        return false
    }

    private func value(_ b: Bound, _ largest: UInt32) -> UInt32 {
        switch b {
        case .number(let v): return v
        case .star: return largest
        }
    }

    public var description: String {
        ranges.map { r in
            let a = r.first.text, b = r.last.text
            return r.first == r.last ? a : "\(a):\(b)"
        }.joined(separator: ",")
    }
}

extension IMAPSequenceSet.Bound {
    var text: String {
        switch self {
        case .number(let v): return String(v)
        case .star: return "*"
        }
    }
}
