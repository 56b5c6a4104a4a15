import MailCore

/// What one device remembers between its POP3 sessions: the unique ids (UIDL, RFC 1939 §7) of the
/// messages it has downloaded, each with the virtual time it first downloaded it.
///
/// A session goes: `plan(for:mode:now:)` from the UIDL/LIST listing (or `job(_:mode:now:)`, which
/// wires the plan into a `POP3ClientJob`), the client engine runs, then `record(_:now:)` with the
/// result.
public struct POP3DeviceState: Equatable, Sendable {
    /// Unique id → virtual time of the first download.
    public private(set) var firstSeen: [String: Duration]

    public init(firstSeen: [String: Duration] = [:]) {
        self.firstSeen = firstSeen
    }

    /// The unique ids this device has downloaded and still remembers, sorted.
    public var seenUniqueIDs: [String] { firstSeen.keys.sorted() }

    public func hasSeen(_ uniqueID: String) -> Bool { firstSeen[uniqueID] != nil }

    /// What to download and delete in this session.
    ///
    /// - `deleteAfterDownload`: download what was not downloaded before, delete every message
    ///   (those downloaded before too: an earlier session may have ended before QUIT). Without
    ///   UIDL every message is downloaded and deleted.
    /// - `leaveOnServer`: download only unique ids not seen before, delete nothing.
    /// - `leaveOnServerThenDelete(after:)`: as `leaveOnServer`, and delete the messages seen at
    ///   least `after` ago.
    ///
    /// In the two "leave" modes a message without a unique id (no UIDL) cannot be told apart from
    /// one already downloaded, so it is neither downloaded nor deleted.
    public func plan(for listing: POP3MaildropListing, mode: POP3RetentionMode, now: Duration) -> POP3RetrievalPlan {
        var plan = POP3RetrievalPlan()
        for entry in listing.entries {
            let seenAt = entry.uniqueID.flatMap { firstSeen[$0] }
            switch mode {
            case .deleteAfterDownload:
                if seenAt == nil { plan.retrieve.append(entry.message) }
                plan.delete.append(entry.message)
            case .leaveOnServer:
                if entry.uniqueID != nil && seenAt == nil { plan.retrieve.append(entry.message) }
            case .leaveOnServerThenDelete(let after):
                guard entry.uniqueID != nil else { continue }
                if let seenAt {
                    if now - seenAt >= after { plan.delete.append(entry.message) }
                } else {
                    plan.retrieve.append(entry.message)
                }
            }
        }
        return plan
    }

    /// Remembers what a session downloaded, and forgets messages that are gone from the server:
    /// the ones this session deleted (once QUIT succeeded) and, after a complete session with UIDL,
    /// those no longer listed (another device deleted them). Unique ids are never reused
    /// (RFC 1939 §7), so forgetting them cannot cause a duplicate.
    public mutating func record(_ result: POP3ClientResult, now: Duration) {
        for message in result.downloaded {
            guard let uniqueID = message.uniqueID, firstSeen[uniqueID] == nil else { continue }
            firstSeen[uniqueID] = now
        }
        for uniqueID in result.deletedUniqueIDs {
            firstSeen[uniqueID] = nil
        }
        if result.completed, let listing = result.listing, listing.uniqueIDsAvailable {
            let listed = Set(listing.entries.compactMap(\.uniqueID))
            for uniqueID in firstSeen.keys.sorted() where !listed.contains(uniqueID) {
                firstSeen[uniqueID] = nil
            }
        }
    }

    /// The job with its planner set to this state's plan for `mode` at `now`.
    public func job(_ base: POP3ClientJob, mode: POP3RetentionMode, now: Duration) -> POP3ClientJob {
        var job = base
        let snapshot = self
        job.planner = { listing in snapshot.plan(for: listing, mode: mode, now: now) }
        return job
    }
}
