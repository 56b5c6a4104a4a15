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
