import MailCore
import MailSim

/// One message in an MTA's queue: accepted with `250`, it stays here until every recipient is
/// delivered or bounced. Nothing accepted is ever dropped silently.
public struct QueueEntry: Sendable {
    public enum RecipientState: Hashable, Sendable {
        case pending
        case delivered(via: String, reply: String)
        case bounced(status: String, diagnostic: String, remoteMTA: String?)
    }

    public struct Recipient: Hashable, Sendable {
        public var address: String
        public var state: RecipientState
        /// The last temporary failure for this recipient, shown by `queue`.
        public var lastError: String?
    }

    public let id: QueueID
    /// The envelope sender; empty for a bounce (the null path `<>`).
    public let sender: String
    public internal(set) var recipients: [Recipient]
    /// The message with this MTA's trace headers.
    public let data: [UInt8]
    public let arrival: VirtualTime
    /// The folder local recipients get the message in: `INBOX`, or `Junk` for a message that
    /// DMARC quarantined.
    public let folder: String
    public internal(set) var attempts: Int = 0
    public internal(set) var nextAttempt: VirtualTime
    public internal(set) var lastError: String?
    public internal(set) var delayWarningSent = false

    public var pendingRecipients: [String] {
        recipients.filter { $0.state == .pending }.map(\.address)
    }

    public var isFinished: Bool { recipients.allSatisfy { $0.state != .pending } }
}

/// What happened to one recipient in one delivery attempt.
public enum DeliveryOutcome: Hashable, Sendable {
    case delivered(via: String, reply: String)
    case temporaryFailure(String)
    case permanentFailure(status: String, diagnostic: String, remoteMTA: String?)
}

/// An MTA's queue: entries by id, in arrival order, with the retry bookkeeping of a
/// ``RetrySchedule``.
public struct MailQueue: Sendable {
    public private(set) var entries: [QueueEntry] = []
    /// Every message that ever left the queue, with what became of it (for scenarios and tests).
    public private(set) var finished: [QueueEntry] = []
    public var schedule: RetrySchedule

    public init(schedule: RetrySchedule = .postfix) { self.schedule = schedule }

    public func entry(_ id: QueueID) -> QueueEntry? { entries.first { $0.id == id } }

    mutating func add(id: QueueID, sender: String, recipients: [String], data: [UInt8], now: VirtualTime,
                      folder: String = "INBOX") {
        let list = recipients.map { QueueEntry.Recipient(address: $0, state: .pending, lastError: nil) }
        entries.append(QueueEntry(id: id, sender: sender, recipients: list, data: data, arrival: now, folder: folder,
                                  nextAttempt: now))
    }

    /// A flush: every deferred entry becomes due at `now`.
    mutating func makeAllDue(at now: VirtualTime) {
        for index in entries.indices where entries[index].nextAttempt > now { entries[index].nextAttempt = now }
    }

    /// The ids whose next attempt is due at `now`, oldest first.
    func due(at now: VirtualTime) -> [QueueID] {
        entries.filter { $0.nextAttempt <= now && !$0.isFinished }.map(\.id)
    }

    /// The earliest next attempt of any entry.
    var nextWakeUp: VirtualTime? { entries.filter { !$0.isFinished }.map(\.nextAttempt).min() }

    /// What the MTA must do after an attempt has been recorded.
    struct Followup {
        var bounce: [QueueEntry.Recipient] = []
        var delayWarning: [QueueEntry.Recipient] = []
        var completed = false
    }

    /// Records the outcome of one attempt for some recipients of `id`, decides retries, expiry and
    /// warnings, and removes the entry once it is finished.
    mutating func record(_ outcomes: [(String, DeliveryOutcome)], for id: QueueID, now: VirtualTime) -> Followup {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return Followup() }
        var entry = entries[index]
        var followup = Followup()
        entry.attempts += 1
        for (address, outcome) in outcomes {
            guard let r = entry.recipients.firstIndex(where: { $0.address == address && $0.state == .pending }) else { continue }
            switch outcome {
            case .delivered(let via, let reply):
                entry.recipients[r].state = .delivered(via: via, reply: reply)
            case .temporaryFailure(let reason):
                entry.recipients[r].lastError = reason
                entry.lastError = reason
            case .permanentFailure(let status, let diagnostic, let remote):
                entry.recipients[r].state = .bounced(status: status, diagnostic: diagnostic, remoteMTA: remote)
                followup.bounce.append(entry.recipients[r])
            }
        }
        let age = now - entry.arrival
        if !entry.isFinished {
            if age.microseconds >= schedule.maximalLifetimeSeconds * 1_000_000 {
                for r in entry.recipients.indices where entry.recipients[r].state == .pending {
                    let reason = entry.recipients[r].lastError ?? "delivery time expired"
                    entry.recipients[r].state = .bounced(status: "4.4.7", diagnostic: reason, remoteMTA: nil)
                    followup.bounce.append(entry.recipients[r])
                }
            } else {
                if let warn = schedule.delayWarningSeconds, !entry.delayWarningSent,
                   age.microseconds >= warn * 1_000_000, !entry.sender.isEmpty {
                    entry.delayWarningSent = true
                    followup.delayWarning = entry.recipients.filter { $0.state == .pending }
                }
                let wait = schedule.backoff(afterFailedAttempts: entry.attempts)
                entry.nextAttempt = now + .seconds(wait)
            }
        }
        if entry.isFinished {
            followup.completed = true
            entries.remove(at: index)
            finished.append(entry)
        } else {
            entries[index] = entry
        }
        return followup
    }
}
