/// A point in (virtual) time with the UTC offset it should be shown in.
///
/// IMAP shows dates in two forms: `date-time` for INTERNALDATE and APPEND
/// (`"06-Dec-2024 14:30:00 +0100"`, RFC 3501 §9) and `date` for SEARCH keys
/// (`6-Dec-2024`). The engines never read the system clock: callers pass the
/// virtual time in.
public struct IMAPDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64
    /// Offset from UTC, in minutes, used when showing the date.
    public var utcOffsetMinutes: Int

    public init(secondsSince1970: Int64, utcOffsetMinutes: Int = 0) {
        self.secondsSince1970 = secondsSince1970
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// Builds a date from civil fields given in the zone `utcOffsetMinutes`.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0,
                 utcOffsetMinutes: Int = 0) {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...60).contains(second), (1...9999).contains(year),
              day <= IMAPDate.daysIn(month: month, year: year) else { return nil }
        let days = IMAPDate.daysFromCivil(year: year, month: month, day: day)
        let local = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(secondsSince1970: local - Int64(utcOffsetMinutes * 60), utcOffsetMinutes: utcOffsetMinutes)
    }

    public static func < (lhs: IMAPDate, rhs: IMAPDate) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    public static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Civil fields in the date's own offset.
    public var civil: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let local = secondsSince1970 + Int64(utcOffsetMinutes * 60)
        var days = local / 86_400
        var rest = local % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (y, m, d) = IMAPDate.civilFromDays(days)
        return (y, m, d, Int(rest / 3600), Int(rest % 3600 / 60), Int(rest % 60))
    }

    /// Days since the epoch of the civil day (in the date's own offset); SEARCH compares these.
    public var localDay: Int64 {
        let c = civil
        return IMAPDate.daysFromCivil(year: c.year, month: c.month, day: c.day)
    }

    /// `dd-Mon-yyyy hh:mm:ss +zzzz` without quotes (RFC 3501 `date-time`).
    public var imapDateTime: String {
        let c = civil
        let sign = utcOffsetMinutes < 0 ? "-" : "+"
        let off = abs(utcOffsetMinutes)
        return "\(pad(c.day))-\(IMAPDate.monthNames[c.month - 1])-\(c.year) \(pad(c.hour)):\(pad(c.minute)):\(pad(c.second)) \(sign)\(pad(off / 60))\(pad(off % 60))"
    }

    public var description: String { imapDateTime }

    private func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    static func month(named name: Substring) -> Int? {
        let lower = name.lowercased()
        return monthNames.firstIndex { $0.lowercased() == lower }.map { $0 + 1 }
    }

    /// Parses RFC 3501 `date-time` (`"17-Jul-1996 02:44:25 -0700"`, day may be ` 7` or `7`).
    public static func parseDateTime(_ text: String) -> IMAPDate? {
        let parts = text.imapTrimmingSpaces.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        guard let (y, m, d) = parseDay(parts[0]) else { return nil }
        let hms = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 }),
              let h = Int(hms[0]), let mi = Int(hms[1]), let s = Int(hms[2]) else { return nil }
        guard let off = parseZone(parts[2]) else { return nil }
        return IMAPDate(year: y, month: m, day: d, hour: h, minute: mi, second: s, utcOffsetMinutes: off)
    }

    /// Parses RFC 3501 `date` (`1-Feb-1994`), returning the civil day number.
    public static func parseDay(_ text: Substring) -> (Int, Int, Int)? {
        let f = text.split(separator: "-", omittingEmptySubsequences: false)
        guard f.count == 3, (1...2).contains(f[0].count), f[2].count == 4,
              f[0].allSatisfy(\.imapIsDigit), f[2].allSatisfy(\.imapIsDigit),
              let d = Int(f[0]), let m = month(named: f[1]), let y = Int(f[2]),
              d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        return (y, m, d)
    }

    static func parseZone(_ z: Substring) -> Int? {
        guard z.count == 5, let first = z.first, first == "+" || first == "-",
              z.dropFirst().allSatisfy(\.imapIsDigit), let v = Int(z.dropFirst()) else { return nil }
        let minutes = (v / 100) * 60 + v % 100
        return first == "-" ? -minutes : minutes
    }

    /// Extracts the civil day of an RFC 5322 `Date:` header (`Wed, 06 Dec 2024 14:30:00 +0100`),
    /// used by SENTSINCE/SENTBEFORE/SENTON. Returns the day number in the header's own zone.
    public static func rfc5322Day(_ text: String) -> Int64? {
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        if let first = words.first, first.count == 3, Int(first) == nil { words.removeFirst() }
        guard words.count >= 3, let d = Int(words[0]), let m = month(named: Substring(words[1])),
              var y = Int(words[2]) else { return nil }
        if y < 50 { y += 2000 } else if y < 1000 { y += 1900 }
        guard (1...9999).contains(y), d >= 1, d <= daysIn(month: m, year: y) else { return nil }
        return daysFromCivil(year: y, month: m, day: d)
    }
}

extension Character {
    var imapIsDigit: Bool { asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
}

extension String {
    var imapTrimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
