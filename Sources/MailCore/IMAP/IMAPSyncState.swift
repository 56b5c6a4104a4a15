/// A device's local copy of one account, kept in step with the server by a small sync loop:
/// LIST the folders, SELECT the watched folder, fetch every UID's flags once, then wait with IDLE
/// (RFC 2177) when the server offers it, else poll with NOOP. During IDLE, `EXISTS`/`EXPUNGE`
/// end the IDLE and new messages are fetched by UID from the highest UID known.
///
/// Pure: feed it the client's responses, it answers with the next step.
public struct IMAPSyncState: Hashable, Sendable {
    /// The local view of one folder.
    public struct FolderView: Hashable, Sendable {
        public var uidValidity: UInt32?
        public var uidNext: UInt32?
        /// UIDs in sequence-number order.
        public var uids: [UInt32] = []
        public var flags: [UInt32: Set<IMAPFlag>] = [:]
        public init() {}
    }

    /// What the host should do next.
    public enum Step: Hashable, Sendable {
        case send(IMAPCommand)
        /// End IDLE (`DONE`), news is waiting.
        case endIdle
        /// Nothing to do until a response arrives (IDLE running, or a command in flight).
        case wait
        /// Poll later: call ``poll()`` after the device's polling interval.
        case pollLater
    }

    private enum Phase: Hashable, Sendable {
        case start, listing, selecting, fullFetch, idling, polling, fetchingNew, waitingToPoll
    }

    public var watched: String
    /// Folder names seen in the last LIST, in server order.
    public private(set) var folderNames: [String] = []
    public private(set) var folders: [String: FolderView] = [:]
    private var phase = Phase.start
    private var useIdle = false
    private var news = false
    private var highestUID: UInt32 = 0

    public init(watching mailbox: String = "INBOX") { watched = mailbox }

    /// The watched folder's view.
    public var view: FolderView { folders[watched] ?? FolderView() }

    /// Starts a sync pass once logged in.
    public mutating func start(capabilities: Set<String>) -> Step {
        useIdle = capabilities.contains("IDLE")
        phase = .listing
        return .send(.list(reference: "", pattern: "*"))
    }

    /// The polling timer fired.
    public mutating func poll() -> Step {
        guard phase == .waitingToPoll else { return .wait }
        phase = .polling
        return .send(.noop)
    }

    /// Feeds one response; returns the next step.
    public mutating func apply(_ response: IMAPResponse) -> Step {
        var v = folders[watched] ?? FolderView()
        defer { folders[watched] = v }
        switch response {
        case .list(_, _, let name, let lsub):
            if !lsub && phase == .listing && !folderNames.contains(name) { folderNames.append(name) }
        case .untaggedStatus(_, let code?, _):
            let parts = code.split(separator: " ")
            if parts.count == 2, let n = UInt32(parts[1]) {
                if parts[0].uppercased() == "UIDVALIDITY" {
                    if v.uidValidity != n { v = FolderView(); v.uidValidity = n; highestUID = 0 }
                } else if parts[0].uppercased() == "UIDNEXT" {
                    v.uidNext = n
                }
            }
        case .exists(let n):
            if n > v.uids.count { news = true }
            if phase == .idling && news { return .endIdle }
        case .expunge(let seq):
            if seq >= 1 && seq <= v.uids.count {
                let uid = v.uids.remove(at: seq - 1)
                v.flags[uid] = nil
            }
        case .fetch(let seq, let data):
            var uid = data.uid
            if uid == nil, seq >= 1, seq <= v.uids.count { uid = v.uids[seq - 1] }
            guard let u = uid else { break }
            if let f = data.flags { v.flags[u] = Set(f.filter { $0 != .recent }) }
            if !v.uids.contains(u) {
                v.uids.append(u)
                v.uids.sort()
            }
            highestUID = max(highestUID, u)
        case .tagged(_, let status, _, _):
            return completed(status, &v)
        case .untaggedStatus, .continuation, .capability, .flags, .recent, .search, .status, .other:
            break
        }
        return .wait
    }

    private mutating func completed(_ status: IMAPResponse.Status, _ v: inout FolderView) -> Step {
        switch phase {
        case .start:
            return .wait
        case .listing:
            phase = .selecting
            return .send(.select(watched))
        case .selecting:
            guard status == .ok else { phase = .start; return .wait }
            phase = .fullFetch
            v.uids = []
            v.flags = [:]
            news = false
            return .send(.fetch(.all, [.uid, .flags], uid: true))
        case .fullFetch, .fetchingNew:
            return waitForNews()
        case .idling, .polling:
            if news {
                news = false
                phase = .fetchingNew
                return .send(.fetch(IMAPSequenceSet(ranges: [.init(.number(highestUID + 1), .star)]), [.uid, .flags], uid: true))
            }
            return waitForNews()
        case .waitingToPoll:
            return .pollLater
        }
    }

    private mutating func waitForNews() -> Step {
        if useIdle {
            phase = .idling
            return .send(.idle)
        }
        phase = .waitingToPoll
        return .pollLater
    }
}
