import MailCore
import MailMessage
import MailSim

extension VirtualTime {
    /// The instant as the `Duration` since world start that the protocol engines take as `now`.
    var engineTime: Duration { .microseconds(microseconds) }

    init(engineTime: Duration) {
        let (seconds, attoseconds) = engineTime.components
        self.init(microseconds: seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}

extension World {
    /// Seconds since the Unix epoch for the current virtual instant.
    public var unixSeconds: Int64 { epochUnixSeconds + now.microseconds / 1_000_000 }

    /// The current instant as a message date, written in the zone of `offsetMinutes`.
    public func mailDate(offsetMinutes: Int = 60) -> MailDate {
        MailDate(secondsSinceEpoch: unixSeconds, zoneOffsetMinutes: offsetMinutes)
    }

    /// The current instant as an IMAP internal date.
    public func imapDate(offsetMinutes: Int = 60) -> IMAPDate {
        IMAPDate(secondsSince1970: unixSeconds, utcOffsetMinutes: offsetMinutes)
    }
}
