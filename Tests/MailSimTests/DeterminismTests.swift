import Testing
@testable import MailSim

/// A small world with several line exchanges and faults drawn from the seed: link latency,
/// jitter and loss, and a crash of one server at a random moment.
func scriptedRun(seed: UInt64) throws -> (transcript: String, pcap: [UInt8]) {
    let world = try World.defaultWorld(seed: seed)
    var faults = world.random.derive(label: "test:faults")
    try world.apply(.setLink("alice-laptop", "mail.example.com",
                             latency: .milliseconds(Int64(faults.next() % 40) + 1),
                             jitter: .milliseconds(Int64(faults.next() % 20)),
                             lossRate: 0.1))
    try world.apply(.setLink("bob-pc", "mail1.company.org",
                             latency: .milliseconds(Int64(faults.next() % 40) + 1),
                             jitter: .milliseconds(Int64(faults.next() % 20)), lossRate: 0))
    for name in ["mail.example.com", "mail1.company.org", "mail2.company.org"] {
        _ = try EchoService(world: world, host: name, port: 25)
    }
    try world.schedule(.crash("mail2.company.org"), at: .at(.milliseconds(Int64(faults.next() % 60))))
    let lines = (1...8).map { "LINE \($0) from the script" } + ["QUIT"]
    _ = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25, script: lines)
    _ = try ScriptClient(world: world, from: "bob-pc", to: "mail1.company.org", port: 25, script: lines)
    _ = try ScriptClient(world: world, from: "mail.example.com", to: "mail2.company.org", port: 25, script: lines)
    try world.runUntilIdle(maxSteps: 100_000)
    return (world.transcript(), world.pcap())
}

@Suite("Determinism")
struct DeterminismTests {
    @Test("same seed gives byte-identical transcript and pcap; another seed differs", arguments: [UInt64(1), 99, 2026])
    func sameSeedSameBytes(seed: UInt64) throws {
        let first = try scriptedRun(seed: seed)
        let second = try scriptedRun(seed: seed)
        #expect(first.transcript == second.transcript, "seed=\(seed)")
        #expect(first.pcap == second.pcap, "seed=\(seed)")
        let other = try scriptedRun(seed: seed &+ 1)
        #expect(first.transcript != other.transcript, "seed=\(seed) vs \(seed &+ 1)")
        #expect(first.transcript.contains("== 192.0.2.10:49152 → 198.51.100.25:25 (mail.example.com) at +0.000s"))
    }
}

@Suite("Faults then quiet: everything settles")
struct SettlingTests {
    @Test("every connection ends, cleanly or with an error, whatever faults the seed draws", arguments: Array(UInt64(1)...UInt64(12)))
    func settles(seed: UInt64) throws {
        let world = try World.defaultWorld(seed: seed)
        var faults = world.random.derive(label: "test:settle")
        let servers = ["mail.example.com", "mail1.company.org", "mail2.company.org", "mail-backup.example.net"]
        for name in servers { _ = try EchoService(world: world, host: name, port: 25) }
        try world.apply(.setLink("alice-laptop", "mail.example.com", latency: .milliseconds(30),
                                 jitter: .milliseconds(20), lossRate: 0.2))
        // Random faults during the first minute.
        for _ in 0..<6 {
            let at = VirtualTime.at(.milliseconds(Int64(faults.next() % 60_000)))
            let a = servers[Int(faults.next() % 4)], b = servers[Int(faults.next() % 4)]
            switch faults.next() % 3 {
            case 0:
                try world.schedule(.partition(a, b), at: at)
                try world.schedule(.heal(a, b), at: at + .seconds(Int64(faults.next() % 200)))
            case 1:
                try world.schedule(.down(a), at: at)
                try world.schedule(.up(a), at: at + .seconds(Int64(faults.next() % 200)))
            default:
                try world.schedule(.crash(a), at: at)
            }
        }
        // Check the invariants every simulated second of the busy phase.
        var violations: [String] = []
        for second in 0..<300 {
            world.scheduler.schedule(at: .at(.seconds(Int64(second)))) { violations += world.invariantViolations() }
        }
        var clients: [ScriptClient] = []
        let lines = (1...5).map { "LINE \($0)" } + ["QUIT"]
        for index in 0..<8 {
            let from = index % 2 == 0 ? "alice-laptop" : servers[index % 4]
            let to = servers[(index + 1) % 4]
            let start = VirtualTime.at(.milliseconds(Int64(faults.next() % 90_000)))
            world.scheduler.schedule(at: start) {
                if let client = try? ScriptClient(world: world, from: from, to: to, port: 25, script: lines) {
                    clients.append(client)
                }
            }
        }
        try world.runUntilIdle(maxSteps: 200_000)
        #expect(world.openConnectionCount == 0, "seed=\(seed)")
        #expect(violations.isEmpty, "seed=\(seed): \(violations)")
        #expect(world.invariantViolations().isEmpty, "seed=\(seed)")
        #expect(clients.count == 8, "seed=\(seed)")
        for client in clients {
            let last = client.events.last ?? "none"
            let clean = client.replies.last == "221 bye"
            let failed = last.hasPrefix("connectFailed") || last.hasPrefix("reset")
            #expect(clean || failed, "seed=\(seed): \(client.events) \(client.replies)")
            #expect(client.connection.state == .closed, "seed=\(seed)")
        }
    }
}
