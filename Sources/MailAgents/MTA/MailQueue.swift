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
    /// Arrival rank in its queue: entries are kept sorted by it, so an id is found by bisection.
    var serial = 0

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
    /// Messages that left the queue, with what became of them (the most recent ``finishedLimit``
    /// to ``finishedLimit``·2 of them), for scenarios and tests.
    public private(set) var finished: [QueueEntry] = []
    /// How many finished entries are kept (the most recent ones), so that a long run stays bounded.
    public var finishedLimit = 1000
    public var schedule: RetrySchedule

    public init(schedule: RetrySchedule = .postfix) { self.schedule = schedule }

    /// The arrival rank of each entry still queued.
    private var serials: [QueueID: Int] = [:]
    private var nextSerial = 0

    public func entry(_ id: QueueID) -> QueueEntry? { index(of: id).map { entries[$0] } }

    /// Whether `id` is still queued.
    public func contains(_ id: QueueID) -> Bool { serials[id] != nil }

    /// Where `id` sits in ``entries``, found by bisection on the arrival rank.
    private func index(of id: QueueID) -> Int? {
        guard let serial = serials[id] else { return nil }
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].serial < serial { low = middle + 1 } else { high = middle }
        }
        return low < entries.count && entries[low].id == id ? low : nil
    }

    mutating func add(id: QueueID, sender: String, recipients: [String], data: [UInt8], now: VirtualTime,
                      folder: String = "INBOX") {
        let list = recipients.map { QueueEntry.Recipient(address: $0, state: .pending, lastError: nil) }
        var entry = QueueEntry(id: id, sender: sender, recipients: list, data: data, arrival: now, folder: folder,
                               nextAttempt: now)
        entry.serial = nextSerial
        serials[id] = nextSerial
        nextSerial += 1
        entries.append(entry)
    }

    /// A flush: every deferred entry becomes due at `now`.
    mutating func makeAllDue(at now: VirtualTime) {
        for index in entries.indices where entries[index].nextAttempt > now { entries[index].nextAttempt = now }
    }

    /// The ids whose next attempt is due at `now`, oldest first.
    func due(at now: VirtualTime) -> [QueueID] { due(at: now, excluding: []) }

    /// ``due(at:)`` without the ids in `busy` (attempts under way). Reads the entries in place:
    /// the queue of a busy MTA is long and looked at after every message.
    func due(at now: VirtualTime, excluding busy: Set<QueueID>) -> [QueueID] {
        var ids: [QueueID] = []
        guard busy.count < entries.count else { return ids }  // all busy
        for index in entries.indices where entries[index].nextAttempt <= now {
            let id = entries[index].id
            if !busy.contains(id) && !entries[index].isFinished { ids.append(id) }
        }
        return ids
    }

    /// The earliest next attempt of any entry.
    var nextWakeUp: VirtualTime? { nextWakeUp(excluding: []) }

    /// The earliest next attempt of any entry not in `busy` (entries with an attempt under way
    /// are looked at again when it ends). `busy` holds ids of entries still in the queue.
    func nextWakeUp(excluding busy: Set<QueueID>) -> VirtualTime? {
        guard busy.count < entries.count else { return nil }  // all busy: nothing to wait for
        var earliest: VirtualTime?
        for entry in entries where !entry.isFinished && !busy.contains(entry.id) {
            if earliest.map({ entry.nextAttempt < $0 }) ?? true { earliest = entry.nextAttempt }
        }
        return earliest
    }

    /// What the MTA must do after an attempt has been recorded.
    struct Followup {
        var bounce: [QueueEntry.Recipient] = []
        var delayWarning: [QueueEntry.Recipient] = []
        var completed = false
    }

    /// Records the outcome of one attempt for some recipients of `id`, decides retries, expiry and
    /// warnings, and removes the entry once it is finished.
    mutating func record(_ outcomes: [(String, DeliveryOutcome)], for id: QueueID, now: VirtualTime) -> Followup {
        guard let index = index(of: id) else { return Followup() }
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
            serials[id] = nil
            finished.append(entry)
            if finished.count > 2 * finishedLimit { finished.removeFirst(finished.count - finishedLimit) }
        } else {
            entries[index] = entry
        }
        return followup
    }
}
