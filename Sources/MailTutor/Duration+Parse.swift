/// Virtual durations written like `30s`, `5m`, `2h`, `1d` or `1h30m`, in seconds.
public enum DurationText {
    /// Parses a duration; `nil` when the text is not one. Bounded to 366 days.
    public static func seconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !trimmed.isEmpty, trimmed.count <= 32 else { return nil }
        var total = 0
        var number = 0
        var haveDigits = false
        for character in trimmed {
            if let digit = character.wholeNumberValue, character.isASCII {
                number = number * 10 + digit
                haveDigits = true
                if number > 10_000_000 { return nil }
                continue
            }
            guard haveDigits else { return nil }
            switch character {
            case "s": total += number
            case "m": total += number * 60
            case "h": total += number * 3600
            case "d": total += number * 86400
            default: return nil
            }
            number = 0
            haveDigits = false
        }
        if haveDigits { return nil }
        guard total > 0, total <= 366 * 86400 else { return nil }
        return total
    }

    /// Writes seconds back in the largest exact units (`90m` → `1h30m`).
    public static func format(_ seconds: Int) -> String {
        if seconds <= 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

import Foundation
