import MailCore
import Testing
@testable import MailAgents

/// A maildrop in memory for the device scenarios.
final class ModeTestMaildrop: POP3Backend {
    var messages: [POP3MaildropMessage] = []
    private var locked = false
    private var nextID = 1

    func deliver(_ subject: String) {
        messages.append(POP3MaildropMessage(
            uniqueID: "uid\(nextID)", content: Array("Subject: \(subject)\r\n\r\nbody\r\n".utf8)))
        nextID += 1
    }

    func verifyPassword(user: String, password: String) -> Bool { user == "bob" && password == "secret123" }
    func apopSecret(user: String) -> String? { nil }
    func lockMaildrop(user: String) -> Result<[POP3MaildropMessage], POP3MaildropError> {
        if locked { return .failure(.inUse) }
        locked = true
        return .success(messages)
    }
    func removeMessages(user: String, uniqueIDs: [String]) -> Result<Void, POP3MaildropError> {
        messages.removeAll { uniqueIDs.contains($0.uniqueID) }
        return .success(())
    }
    func unlockMaildrop(user: String) { locked = false }
}

/// A device: its POP3 state, its mode, and the messages it has downloaded.
struct Device {
    var name: String
    var mode: POP3RetentionMode
    var state = POP3DeviceState()
    var inbox: [String] = []

    init(_ name: String, _ mode: POP3RetentionMode) {
        self.name = name
        self.mode = mode
    }

    /// Runs one whole POP3 session (client and server engines back to back) at `now`.
    @discardableResult
    mutating func check(_ maildrop: ModeTestMaildrop, now: Duration) -> POP3ClientResult? {
        let job = state.job(POP3ClientJob(user: "bob", password: "secret123"), mode: mode, now: now)
        var client = POP3Client(job: job)
        var server = POP3Server(configuration: .init(hostname: "mail1.company.org"), backend: maildrop, sessionID: 1)
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var result: POP3ClientResult?
        var closed = false
        func take(_ actions: [POP3Action]) {
            for case .send(let bytes) in actions { toClient += bytes }
        }
        func take(_ actions: [POP3ClientAction]) {
            for action in actions {
                switch action {
                case .send(let bytes): toServer += bytes
                case .event(.finished(let outcome)): result = outcome
                case .event(.transactionFinished): Issue.record("a POP3 session has one transaction")
                case .close: closed = true
                case .startTLS: break
                }
            }
        }
        take(server.start(now: now))
        take(client.start(now: now))
        for _ in 0..<10_000 where !closed {
            if !toClient.isEmpty {
                let bytes = toClient
                toClient = []
                take(client.receive(bytes, now: now))
            } else if !toServer.isEmpty {
                let bytes = toServer
                toServer = []
                take(server.receive(bytes, now: now))
            } else {
                break
            }
        }
        server.connectionClosed()
        if let result {
            state.record(result, now: now)
            inbox += result.downloaded.map { message in
                String(decoding: message.content, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
            }
        }
        return result
    }
}

let day = Duration.seconds(86_400)

@Suite struct POP3ModePlanTests {
    static let listing = POP3MaildropListing(messageCount: 3, totalSize: 30, entries: [
        POP3ListingEntry(message: 1, size: 10, uniqueID: "a"),
        POP3ListingEntry(message: 2, size: 10, uniqueID: "b"),
        POP3ListingEntry(message: 3, size: 10, uniqueID: "c"),
    ], uniqueIDsAvailable: true)
    /// "a" seen at day 0, "b" at day 2.
    static let state = POP3DeviceState(firstSeen: ["a": .zero, "b": day * 2])

    @Test(arguments: [
        (POP3RetentionMode.deleteAfterDownload, day * 3, POP3RetrievalPlan(retrieve: [3], delete: [1, 2, 3])),
        (.leaveOnServer, day * 3, POP3RetrievalPlan(retrieve: [3], delete: [])),
        (.leaveOnServerThenDelete(after: day * 3), day * 2, POP3RetrievalPlan(retrieve: [3], delete: [])),
        (.leaveOnServerThenDelete(after: day * 3), day * 3, POP3RetrievalPlan(retrieve: [3], delete: [1])),
        (.leaveOnServerThenDelete(after: day * 3), day * 5, POP3RetrievalPlan(retrieve: [3], delete: [1, 2])),
    ])
    func plans(mode: POP3RetentionMode, now: Duration, expected: POP3RetrievalPlan) {
        #expect(Self.state.plan(for: Self.listing, mode: mode, now: now) == expected)
    }

    @Test func withoutUIDL() {
        var listing = Self.listing
        listing.uniqueIDsAvailable = false
        listing.entries = listing.entries.map { POP3ListingEntry(message: $0.message, size: $0.size, uniqueID: nil) }
        #expect(Self.state.plan(for: listing, mode: .deleteAfterDownload, now: .zero)
                == POP3RetrievalPlan(retrieve: [1, 2, 3], delete: [1, 2, 3]))
        #expect(Self.state.plan(for: listing, mode: .leaveOnServer, now: .zero) == POP3RetrievalPlan())
        #expect(Self.state.plan(for: listing, mode: .leaveOnServerThenDelete(after: .zero), now: .zero) == POP3RetrievalPlan())
    }

    @Test func interruptedSessionDoesNotDownloadTwice() {
        // Delete mode: message "c" downloaded, then the connection dropped before QUIT.
        var state = Self.state
        var result = POP3ClientResult()
        result.listing = Self.listing
        result.downloaded = [POP3DownloadedMessage(message: 3, uniqueID: "c", content: [])]
        result.markedForDeletion = [1, 2, 3]
        state.record(result, now: day * 4)
        #expect(state.firstSeen["c"] == day * 4)
        #expect(state.seenUniqueIDs == ["a", "b", "c"])
        #expect(state.plan(for: Self.listing, mode: .deleteAfterDownload, now: day * 4)
                == POP3RetrievalPlan(retrieve: [], delete: [1, 2, 3]))
    }

    @Test func recordForgetsWhatIsGone() {
        var state = Self.state
        var result = POP3ClientResult()
        result.completed = true
        result.listing = POP3MaildropListing(messageCount: 1, totalSize: 10, entries: [
            POP3ListingEntry(message: 1, size: 10, uniqueID: "b"),
        ], uniqueIDsAvailable: true)
        state.record(result, now: day * 9)
        #expect(state.firstSeen == ["b": day * 2])
    }

    @Test(arguments: [
        ("delete", nil, POP3RetentionMode.deleteAfterDownload),
        ("leave", nil, .leaveOnServer),
        ("leave-then-delete", 7, .leaveOnServerThenDelete(after: day * 7)),
    ] as [(String, Int?, POP3RetentionMode)])
    func modeNames(name: String, days: Int?, mode: POP3RetentionMode) {
        #expect(POP3RetentionMode(name: name, days: days) == mode)
        #expect(mode.name == name)
    }

    @Test func badModeNames() {
        #expect(POP3RetentionMode(name: "keep") == nil)
        #expect(POP3RetentionMode(name: "leave-then-delete") == nil)
        #expect(POP3RetentionMode(name: "leave-then-delete", days: -1) == nil)
    }
}

/// Three devices (phone, laptop, tablet) reading bob's maildrop by POP3, as in the course.
@Suite struct POP3ThreeDeviceTests {
    @Test func deleteModeFirstDeviceTakesEverything() throws {
        let maildrop = ModeTestMaildrop()
        ["one", "two", "three"].forEach(maildrop.deliver)
        var devices = [Device("phone", .deleteAfterDownload), Device("laptop", .deleteAfterDownload),
                       Device("tablet", .deleteAfterDownload)]
        for i in devices.indices { devices[i].check(maildrop, now: .seconds(60 * i)) }
        #expect(devices[0].inbox == ["Subject: one", "Subject: two", "Subject: three"])
        #expect(devices[1].inbox.isEmpty)
        #expect(devices[2].inbox.isEmpty)
        #expect(maildrop.messages.isEmpty)
        maildrop.deliver("four")
        devices[1].check(maildrop, now: day)
        devices[0].check(maildrop, now: day)
        #expect(devices[1].inbox == ["Subject: four"])
        #expect(devices[0].inbox.count == 3)
        #expect(devices.allSatisfy { $0.state.firstSeen.isEmpty })
    }

    @Test func leaveModeEachDeviceGetsEachMessageOnce() throws {
        let maildrop = ModeTestMaildrop()
        ["one", "two", "three"].forEach(maildrop.deliver)
        var devices = [Device("phone", .leaveOnServer), Device("laptop", .leaveOnServer), Device("tablet", .leaveOnServer)]
        for session in 0..<3 {
            if session == 1 { maildrop.deliver("four") }
            for i in devices.indices {
                let outcome = devices[i].check(maildrop, now: day * session + .seconds(i))
                let result = try #require(outcome)
                #expect(result.completed)
                #expect(result.markedForDeletion.isEmpty)
            }
        }
        for (i, device) in devices.enumerated() {
            #expect(device.inbox == ["Subject: one", "Subject: two", "Subject: three", "Subject: four"], "\(device.name)")
            let first = Duration.seconds(i)
            #expect(device.state.firstSeen == ["uid1": first, "uid2": first, "uid3": first, "uid4": day + first])
        }
        #expect(maildrop.messages.count == 4)
    }

    @Test func leaveThenDeleteAfterThreeDays() throws {
        let maildrop = ModeTestMaildrop()
        ["one", "two"].forEach(maildrop.deliver)
        var phone = Device("phone", .leaveOnServerThenDelete(after: day * 3))
        var laptop = Device("laptop", .leaveOnServer)
        phone.check(maildrop, now: .zero)
        laptop.check(maildrop, now: .zero)
        maildrop.deliver("three")
        // Day 2: the phone downloads "three"; nothing is old enough to delete.
        phone.check(maildrop, now: day * 2)
        #expect(maildrop.messages.map(\.uniqueID) == ["uid1", "uid2", "uid3"])
        // Day 3: "one" and "two" were downloaded three days ago: deleted.
        let outcome = phone.check(maildrop, now: day * 3)
        let result = try #require(outcome)
        #expect(result.deletedUniqueIDs == ["uid1", "uid2"])
        #expect(maildrop.messages.map(\.uniqueID) == ["uid3"])
        #expect(phone.state.firstSeen == ["uid3": day * 2])
        // The laptop catches up on "three" only, and forgets what is gone.
        laptop.check(maildrop, now: day * 4)
        #expect(laptop.inbox == ["Subject: one", "Subject: two", "Subject: three"])
        #expect(laptop.state.seenUniqueIDs == ["uid3"])
        // Day 4.9: "three" is not yet three days old for the phone; day 5 it is.
        phone.check(maildrop, now: day * 4 + .seconds(80_000))
        #expect(maildrop.messages.count == 1)
        phone.check(maildrop, now: day * 5)
        #expect(maildrop.messages.isEmpty)
        #expect(phone.inbox == ["Subject: one", "Subject: two", "Subject: three"])
    }
}

@Suite struct POP3ModeTextTests {
    @Test func summaries() {
        let modes: [POP3RetentionMode] = [.deleteAfterDownload, .leaveOnServer, .leaveOnServerThenDelete(after: day * 14)]
        #expect(Set(modes.map(\.summary.english)).count == 3)
        #expect(Set(modes.map(\.summary.french)).count == 3)
        #expect(modes[2].summary.english.contains("14 day"))
        #expect(modes[2].summary.french.contains("14 jour"))
    }
}
