// RFC 5322 §3.3 dates, computed from a virtual time (seconds since 1970-01-01T00:00:00Z) and a zone
// offset: this library never reads the machine's clock.

import Foundation

/// A point in time plus the zone it is written in, e.g. `Thu, 26 Nov 2026 16:30:22 +0100`.
public struct MailDate: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Seconds since the Unix epoch, UTC.
    public var secondsSinceEpoch: Int64
    /// Offset of the written zone from UTC, in minutes (+60 for +0100).
    public var zoneOffsetMinutes: Int

    public init(secondsSinceEpoch: Int64, zoneOffsetMinutes: Int = 0) {
        self.secondsSinceEpoch = secondsSinceEpoch
        self.zoneOffsetMinutes = zoneOffsetMinutes
    }

    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Civil date from days since the epoch (proleptic Gregorian calendar).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Days since the epoch from a civil date.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The RFC 5322 date-time text.
    public var rfc5322: String {
        let local = secondsSinceEpoch + Int64(zoneOffsetMinutes) * 60
        var days = local / 86_400
        var seconds = local % 86_400
        if seconds < 0 { seconds += 86_400; days -= 1 }
        let (year, month, day) = MailDate.civil(fromDays: days)
        let weekday = Int(((days % 7) + 7 + 3) % 7) // 1970-01-01 was a Thursday (index 3)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let sign = zoneOffsetMinutes < 0 ? "-" : "+"
        let offset = abs(zoneOffsetMinutes)
        let zone = sign + two(Int64(offset / 60)) + two(Int64(offset % 60))
        return "\(MailDate.dayNames[weekday]), \(day) \(MailDate.monthNames[month - 1]) \(year) "
            + "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)) \(zone)"
    }

    public var description: String { rfc5322 }

    /// Parses an RFC 5322 date (with the obsolete forms of §4.3: two-digit years, zone names,
    /// comments, missing seconds). Nil when the text is not a date.
    public init?(rfc5322 text: String) {
        // Drop comments such as "(PDT)" and the optional day name.
        var cleaned = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1; continue }
            if c == ")" { depth = max(0, depth - 1); continue }
            if depth == 0 { cleaned.append(c) }
        }
        var words = cleaned.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).map(String.init)
        if let first = words.first, let c = first.first, c.isLetter {
            // "Thu," or "Thu" or "Thu,26"
            if let comma = first.firstIndex(of: ","), first.index(after: comma) < first.endIndex {
                words[0] = String(first[first.index(after: comma)...])
            } else {
                words.removeFirst()
            }
        }
        guard words.count >= 4 else { return nil }
        guard let day = Int(words[0]), (1...31).contains(day),
              let month = MailDate.monthNames.firstIndex(where: { $0.lowercased() == words[1].prefix(3).lowercased() }),
              var year = Int64(words[2]) else { return nil }
        if words[2].count <= 2 { year += year < 50 ? 2000 : 1900 } else if words[2].count == 3 { year += 1900 }
        let timeParts = words[3].split(separator: ":").map { Int($0) }
        guard timeParts.count >= 2, timeParts.count <= 3, timeParts.allSatisfy({ $0 != nil }) else { return nil }
        let hour = timeParts[0]!, minute = timeParts[1]!, second = timeParts.count == 3 ? timeParts[2]! : 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        var offset = 0
        if words.count >= 5 {
            let zone = words[4]
            if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let value = Int(zone.dropFirst()) {
                offset = (value / 100) * 60 + value % 100
                if sign == "-" { offset = -offset }
            } else {
                switch zone.uppercased() {
                case "UT", "GMT", "Z": offset = 0
                case "EST": offset = -300
                case "EDT": offset = -240
                case "CST": offset = -360
                case "CDT": offset = -300
                case "MST": offset = -420
                case "MDT": offset = -360
                case "PST": offset = -480
                case "PDT": offset = -420
                default: offset = 0 // military and unknown zones mean "unknown": -0000 (RFC 5322 §4.3)
                }
            }
        }
        let days = MailDate.days(year: year, month: month + 1, day: day)
        let local = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(secondsSinceEpoch: local - Int64(offset) * 60, zoneOffsetMinutes: offset)
    }
}
