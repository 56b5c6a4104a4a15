/// A span of virtual time, counted in microseconds.
///
/// Microseconds are the resolution of a classic pcap record, so every instant the simulation
/// produces can be written to a capture file without rounding.
public struct VirtualDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The length of the span in microseconds (may be negative for differences).
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static let zero = VirtualDuration(microseconds: 0)
    public static func microseconds(_ n: Int64) -> VirtualDuration { .init(microseconds: n) }
    public static func milliseconds(_ n: Int64) -> VirtualDuration { .init(microseconds: n * 1_000) }
    public static func seconds(_ n: Int64) -> VirtualDuration { .init(microseconds: n * 1_000_000) }
    public static func minutes(_ n: Int64) -> VirtualDuration { .seconds(n * 60) }
    public static func hours(_ n: Int64) -> VirtualDuration { .seconds(n * 3_600) }
    public static func days(_ n: Int64) -> VirtualDuration { .seconds(n * 86_400) }

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }
    public static func + (a: Self, b: Self) -> Self { .init(microseconds: a.microseconds + b.microseconds) }
    public static func - (a: Self, b: Self) -> Self { .init(microseconds: a.microseconds - b.microseconds) }
    public static func * (a: Self, n: Int64) -> Self { .init(microseconds: a.microseconds * n) }

    /// A compact human form: `1.250s` under a minute, else `5m00s`, `2h05m00s`, `3d04h00m00s`
    /// (milliseconds are appended to the seconds field only when they are not zero).
    public var description: String { VirtualTime.format(microseconds: microseconds) }
}

/// An instant of virtual time: microseconds elapsed since the world started.
///
/// Virtual time only moves when the ``Scheduler`` runs an event; nothing ever waits in real time.
/// ``World/epochUnixSeconds`` maps instant zero to a calendar date (used for pcap timestamps).
public struct VirtualTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the start of the world.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// The start of the world.
    public static let zero = VirtualTime(microseconds: 0)

    /// The instant `duration` after the start of the world.
    public static func at(_ duration: VirtualDuration) -> VirtualTime { .init(microseconds: duration.microseconds) }

    public static func < (a: Self, b: Self) -> Bool { a.microseconds < b.microseconds }
    public static func + (a: Self, d: VirtualDuration) -> Self { .init(microseconds: a.microseconds + d.microseconds) }
    public static func - (a: Self, d: VirtualDuration) -> Self { .init(microseconds: a.microseconds - d.microseconds) }
    public static func - (a: Self, b: Self) -> VirtualDuration { .init(microseconds: a.microseconds - b.microseconds) }

    /// The time since world start as a duration.
    public var sinceStart: VirtualDuration { .init(microseconds: microseconds) }

    /// Human form relative to world start: `+0.000s`, `+1.250s`, `+5m00s`, `+2h05m00.500s`, `+1d00h00m00s`.
    public var description: String { "+" + Self.format(microseconds: microseconds) }

    static func format(microseconds value: Int64) -> String {
        let sign = value < 0 ? "-" : ""
        let us = value.magnitude
        let totalMillis = us / 1_000
        let millis = totalMillis % 1_000
        let totalSeconds = totalMillis / 1_000
        func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        func three(_ n: UInt64) -> String { n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)" }
        if totalSeconds < 60 {
            return "\(sign)\(totalSeconds).\(three(millis))s"
        }
        let seconds = totalSeconds % 60
        let minutes = (totalSeconds / 60) % 60
        let hours = (totalSeconds / 3_600) % 24
        let days = totalSeconds / 86_400
        let secondsField = millis == 0 ? "\(two(seconds))s" : "\(two(seconds)).\(three(millis))s"
        if days > 0 { return "\(sign)\(days)d\(two(hours))h\(two(minutes))m" + secondsField }
        if hours > 0 { return "\(sign)\(hours)h\(two(minutes))m" + secondsField }
        return "\(sign)\(minutes)m" + secondsField
    }
}
