import Testing
@testable import MailAgents
import MailCore
import MailSim

/// Safety with faults, then liveness without them (the TigerBeetle way): whatever crashes,
/// partitions, losses and delays a seed draws, every message an MTA accepted with 250 ends up
/// delivered or bounced exactly once.
@Suite struct RandomizedFaultTests {
    static let servers = ["mail.example.com", "mail1.company.org", "mail2.company.org", "mail-backup.example.net"]

    struct Outcome {
        var accepted: [String] = []
        var refused: [String] = []
    }

    struct Report {
        var violations: [String] = []
        var accepted = 0
        var deferrals = 0
        var bounces = 0
        /// Relay sessions (port 25) that carried more than one transaction.
        var sharedSessions = 0
    }

    /// Runs one seed; the report's violations are empty when all is well. With `sessionLimit`,
    /// every MTA opens at most that many sessions per MX and the messages come in bursts, so that
    /// queued messages wait for, and ride on, sessions already open (the connection cache).
    static func run(seed: UInt64, sessionLimit: Int? = nil) throws -> Report {
        let mail = try MailWorld.course(seed: seed)
        if let sessionLimit {
            for mta in mail.mtas.values { mta.setConnectionCache(true, destinationConcurrencyLimit: sessionLimit) }
        }
        let world = mail.world
        var random = SeededRandom(seed: seed).derive(label: "test-faults")
        try mail.addUser(address: "carol@company.org", login: "carol", password: "c")

        // Safety phase: two hours of virtual time with faults.
        let horizon: Int64 = 2 * 3600
        for _ in 0..<Int(random.next() % 6) + 2 {
            let at = VirtualTime.at(.seconds(Int64(random.next() % UInt64(horizon))))
            let host = servers[Int(random.next() % UInt64(servers.count))]
            let back = at + .seconds(Int64(random.next() % 1800) + 30)
            switch random.next() % 4 {
            case 0:
                try world.schedule(.crash(host), at: at)
                try world.schedule(.up(host), at: back)
            case 1:
                try world.schedule(.down(host), at: at)
                try world.schedule(.up(host), at: back)
            case 2:
                let other = servers[Int(random.next() % UInt64(servers.count))]
                if other != host {
                    try world.schedule(.partition(host, other), at: at)
                    try world.schedule(.heal(host, other), at: back)
                }
            default:
                let loss = Double(random.next() % 30) / 100
                try world.schedule(.setLink("mail.example.com", host, latency: .milliseconds(Int64(random.next() % 200) + 1),
                                            jitter: .milliseconds(5), lossRate: loss), at: at)
                try world.schedule(.setLink("mail.example.com", host, latency: .milliseconds(5), jitter: .zero, lossRate: 0),
                                   at: back)
            }
        }
        // Half the seeds also get a blackout of every company.org MX, so that queues must retry.
        if random.next() % 2 == 0 {
            let at = VirtualTime.at(.seconds(Int64(random.next() % 1800)))
            let back = at + .seconds(Int64(random.next() % 3600) + 600)
            for host in servers.dropFirst() {
                try world.schedule(random.next() % 2 == 0 ? .crash(host) : .down(host), at: at)
                try world.schedule(.up(host), at: back)
            }
        }
        var outcome = Outcome()
        let alice = mail.muas["alice"]!
        let recipients = ["bob@company.org", "carol@company.org", "nobody@company.org", "alice@example.com"]
        let count = Int(random.next() % 5) + 2 + (sessionLimit == nil ? 0 : 6)
        let burstStart = Int64(random.next() % 3600)
        for index in 0..<count {
            let at = sessionLimit == nil ? VirtualTime.at(.seconds(Int64(random.next() % 3600)))
                : VirtualTime.at(.seconds(burstStart) + .milliseconds(Int64(random.next() % 400)))
            let to = recipients[Int(random.next() % UInt64(recipients.count))]
            let subject = "m-\(seed)-\(index)"
            world.scheduler.schedule(at: at) {
                try? alice.send(Composition(to: [to], subject: subject, text: "message \(index)\n")) { result in
                    if result.succeeded { outcome.accepted.append(subject) } else { outcome.refused.append(subject) }
                }
            }
        }
        try world.run(until: .at(.seconds(horizon)), maxSteps: 5_000_000)

        // Liveness phase: everything healed and up; six days for the queues to drain.
        for host in servers {
            try world.apply(.up(host))
            for other in servers where other != host { try world.apply(.heal(host, other)) }
            try world.apply(.setLink("mail.example.com", host, latency: .milliseconds(5), jitter: .zero, lossRate: 0))
        }
        try world.run(until: world.now + .days(6), maxSteps: 5_000_000)

        var violations: [String] = []
        let logs = mail.mtas.values.flatMap(\.log)
        let deferrals = logs.filter { $0.contains("status=deferred") }.count
        let bounces = logs.filter { $0.contains("status=bounced") }.count
        for (name, mta) in mail.mtas where !mta.queue.entries.isEmpty {
            violations.append("\(name) still holds \(mta.queue.entries.map(\.id.text))")
        }
        let stores = ["company.org": ["bob", "carol"], "example.com": ["alice"]]
        var seen: [String: Int] = [:]
        for (domain, users) in stores {
            for user in users {
                for message in try mail.store(for: domain).messages(user: user) {
                    let text = String(decoding: message.raw, as: UTF8.self)
                    for subject in outcome.accepted where text.contains("Subject: \(subject)\r\n") {
                        seen[subject, default: 0] += 1
                    }
                }
            }
        }
        for subject in outcome.accepted where seen[subject] != 1 {
            violations.append("\(subject) delivered or bounced \(seen[subject] ?? 0) times")
        }
        let shared = world.tap.connections.filter { connection in
            connection.server.port == 25 && WireTap.transcript(of: connection, view: .inside)
                .split(separator: "\n").filter { $0.hasPrefix("C: MAIL FROM:") }.count > 1
        }.count
        return Report(violations: violations, accepted: outcome.accepted.count, deferrals: deferrals, bounces: bounces,
                      sharedSessions: shared)
    }

    /// Runs `seeds`, sums their reports; each violation is prefixed with its seed.
    static func runAll(_ seeds: ClosedRange<UInt64>, sessionLimit: Int? = nil) throws -> (failures: [String], total: Report) {
        var failures: [String] = []
        var total = Report()
        for seed in seeds {
            let report = try run(seed: seed, sessionLimit: sessionLimit)
            total.accepted += report.accepted
            total.deferrals += report.deferrals
            total.bounces += report.bounces
            total.sharedSessions += report.sharedSessions
            if !report.violations.isEmpty { failures.append("seed=\(seed): " + report.violations.joined(separator: "; ")) }
        }
        return (failures, total)
    }

    @Test func everyAcceptedMessageIsDeliveredOrBouncedExactlyOnce() throws {
        let (failures, total) = try Self.runAll(1...200)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // The faults must bite: many messages waited in a queue, some bounced, most were accepted.
        #expect(total.accepted > 400)
        #expect(total.deferrals > 50)
        #expect(total.bounces > 50)
        print("randomized faults: 200 seeds, \(total.accepted) accepted, \(total.deferrals) deferrals, \(total.bounces) bounces")
    }

    /// The same with one session per MX at most: bursts of messages queue behind the open session,
    /// and a session that breaks must leave its waiting messages to go again, never lost or doubled.
    @Test func queuedBehindAnOpenSessionNothingIsLostEither() throws {
        let (failures, total) = try Self.runAll(1...100, sessionLimit: 1)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(total.accepted > 500)
        #expect(total.sharedSessions > 50)
        print("randomized faults, one session per MX: 100 seeds, \(total.accepted) accepted, \(total.sharedSessions) sessions carrying several messages")
    }
}
