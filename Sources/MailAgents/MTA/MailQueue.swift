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
    /// Arrival rank in its queue (entries are listed, and attempted, oldest first).
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
///
/// An entry is *idle* between attempts and *busy* while one is under way (from
/// ``startAttempt(_:)`` to ``record(_:for:now:)``). The queue manager only looks at idle entries,
/// so a long queue of messages being sent costs nothing per message.
public struct MailQueue: Sendable {
    /// Entries still queued, by id.
    private var byID: [QueueID: QueueEntry] = [:]
    /// The entries with no attempt under way, with their next attempt and arrival rank (what the
    /// queue manager looks at, without reading the entries).
    private var idle: [QueueID: (nextAttempt: VirtualTime, serial: Int)] = [:]
    /// Messages that left the queue, with what became of them (the most recent ``finishedLimit``
    /// to ``finishedLimit``·2 of them), for scenarios and tests.
    public private(set) var finished: [QueueEntry] = []
    /// How many finished entries are kept (the most recent ones), so that a long run stays bounded.
    public var finishedLimit = 1000
    public var schedule: RetrySchedule
    private var nextSerial = 0

    public init(schedule: RetrySchedule = .postfix) { self.schedule = schedule }

    /// The entries still queued, oldest first.
    public var entries: [QueueEntry] { byID.values.sorted { $0.serial < $1.serial } }

    public func entry(_ id: QueueID) -> QueueEntry? { byID[id] }

    /// Whether `id` is still queued.
    public func contains(_ id: QueueID) -> Bool { byID.index(forKey: id) != nil }

    /// The folder of a queued entry (`nil` once it left the queue), in one lookup.
    func folder(of id: QueueID) -> String? {
        guard let index = byID.index(forKey: id) else { return nil }
        return byID.values[index].folder
    }

    mutating func add(id: QueueID, sender: String, recipients: [String], data: [UInt8], now: VirtualTime,
                      folder: String = "INBOX") {
        let list = recipients.map { QueueEntry.Recipient(address: $0, state: .pending, lastError: nil) }
        var entry = QueueEntry(id: id, sender: sender, recipients: list, data: data, arrival: now, folder: folder,
                               nextAttempt: now)
        entry.serial = nextSerial
        nextSerial += 1
        byID[id] = entry
        idle[id] = (now, entry.serial)
    }

    /// A flush: every deferred entry becomes due at `now`.
    mutating func makeAllDue(at now: VirtualTime) {
        for (id, state) in idle where state.nextAttempt > now {
            idle[id] = (now, state.serial)
            byID[id]?.nextAttempt = now
        }
    }

    /// The idle entries whose next attempt is due at `now`, oldest first.
    func due(at now: VirtualTime) -> [QueueID] {
        idle.filter { $0.value.nextAttempt <= now }.sorted { $0.value.serial < $1.value.serial }.map(\.key)
    }

    /// The earliest next attempt of an idle entry (busy entries are looked at again when their
    /// attempt ends).
    var nextWakeUp: VirtualTime? { idle.values.lazy.map(\.nextAttempt).min() }

    /// An attempt for `id` begins: the entry is busy until its outcome is recorded.
    mutating func startAttempt(_ id: QueueID) {
        idle[id] = nil
    }

    /// What the MTA must do after an attempt has been recorded.
    struct Followup {
        var bounce: [QueueEntry.Recipient] = []
        var delayWarning: [QueueEntry.Recipient] = []
        var completed = false
        /// The entry as recorded, when a report must be sent about it.
        var entry: QueueEntry?
    }

    /// Records the outcome of one attempt for some recipients of `id`, decides retries, expiry and
    /// warnings, and removes the entry once it is finished.
    mutating func record(_ outcomes: [(String, DeliveryOutcome)], for id: QueueID, now: VirtualTime) -> Followup {
        // Taken out while it changes, so that its recipient list is not copied.
        guard var entry = byID.removeValue(forKey: id) else { return Followup() }
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
        if !followup.bounce.isEmpty || !followup.delayWarning.isEmpty { followup.entry = entry }
        if entry.isFinished {
            followup.completed = true
            idle[id] = nil
            finished.append(entry)
            if finished.count > 2 * finishedLimit { finished.removeFirst(finished.count - finishedLimit) }
        } else {
            idle[id] = (entry.nextAttempt, entry.serial)
            byID[id] = entry
        }
        return followup
    }
}
