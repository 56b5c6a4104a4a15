import MailCore
import Testing
@testable import MailSim

@Suite("Scheduler and virtual time")
struct SchedulerTests {
    @Test("events at the same instant run in the order they were scheduled")
    func tiesBySequence() throws {
        let scheduler = Scheduler()
        var order: [String] = []
        scheduler.schedule(at: .at(.seconds(2))) { order.append("b1") }
        scheduler.schedule(at: .at(.seconds(1))) { order.append("a") }
        scheduler.schedule(at: .at(.seconds(2))) { order.append("b2") }
        scheduler.schedule(at: .at(.seconds(2))) {
            order.append("b3")
            scheduler.schedule(after: .zero) { order.append("b3-child") }
        }
        scheduler.schedule(at: .at(.seconds(2))) { order.append("b4") }
        try scheduler.runUntilIdle()
        #expect(order == ["a", "b1", "b2", "b3", "b4", "b3-child"])
        #expect(scheduler.now == .at(.seconds(2)))
    }

    @Test("a cancelled event does not run")
    func cancel() throws {
        let scheduler = Scheduler()
        var ran: [Int] = []
        let token = scheduler.schedule(after: .milliseconds(10)) { ran.append(1) }
        scheduler.schedule(after: .milliseconds(20)) { ran.append(2) }
        #expect(token.isPending)
        token.cancel()
        #expect(!token.isPending)
        try scheduler.runUntilIdle()
        #expect(ran == [2])
    }

    @Test("run(until:) stops at the target and moves the clock there")
    func runUntil() throws {
        let scheduler = Scheduler()
        var ran: [Int] = []
        scheduler.schedule(after: .seconds(1)) { ran.append(1) }
        scheduler.schedule(after: .seconds(5)) { ran.append(5) }
        try scheduler.run(until: .at(.seconds(3)))
        #expect(ran == [1])
        #expect(scheduler.now == .at(.seconds(3)))
        try scheduler.run(for: .seconds(2))
        #expect(ran == [1, 5])
    }

    @Test("the step budget stops a runaway loop with a clear error")
    func stepBudget() throws {
        let scheduler = Scheduler()
        func again() { scheduler.schedule(after: .milliseconds(1)) { again() } }
        again()
        #expect(throws: SchedulerError.stepBudgetExceeded(steps: 100, at: .at(.milliseconds(100)))) {
            try scheduler.runUntilIdle(maxSteps: 100)
        }
        let message = String(describing: SchedulerError.stepBudgetExceeded(steps: 100, at: .at(.milliseconds(100))))
        #expect(message == "step budget of 100 events exhausted at +0.100s: the simulation did not settle (runaway loop?)")
    }

    @Test("step() runs one event and reports when nothing is left")
    func stepByStep() {
        let scheduler = Scheduler()
        var count = 0
        scheduler.schedule(after: .seconds(1)) { count += 1 }
        #expect(scheduler.step())
        #expect(count == 1)
        #expect(!scheduler.step())
        #expect(scheduler.isIdle)
    }

    @Test("time formatting", arguments: [
        (VirtualDuration.zero, "+0.000s"),
        (.milliseconds(1_250), "+1.250s"),
        (.seconds(59), "+59.000s"),
        (.minutes(5), "+5m00s"),
        (.minutes(5) + .milliseconds(250), "+5m00.250s"),
        (.hours(2) + .minutes(5), "+2h05m00s"),
        (.days(1) + .hours(4), "+1d04h00m00s"),
    ])
    func formatting(duration: VirtualDuration, text: String) {
        #expect(VirtualTime.at(duration).description == text)
    }
}

@Suite("Seeded randomness")
struct RandomTests {
    @Test("FNV-1a 64 is the stable label hash")
    func stableHash() {
        #expect(SeededRandom.stableHash("") == 0xCBF2_9CE4_8422_2325)
        #expect(SeededRandom.stableHash("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test("SplitMix64 matches the reference output for seed 1234567")
    func splitMixReference() {
        var mix = SplitMix64(seed: 1_234_567)
        #expect(mix.next() == 6_457_827_717_110_365_317)
        #expect(mix.next() == 3_203_168_211_198_807_973)
    }

    @Test("same seed, same stream; derived children depend only on the label")
    func derivation() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42)
        #expect((0..<8).map { _ in a.next() } == (0..<8).map { _ in b.next() })
        let root = SeededRandom(seed: 42)
        var drained = root
        _ = drained.next()
        var c1 = root.derive(label: "host:mail.example.com")
        var c2 = drained.derive(label: "host:mail.example.com")
        #expect(c1.next() == c2.next())
        var other = root.derive(label: "host:mail1.company.org")
        var c3 = root.derive(label: "host:mail.example.com")
        #expect(other.next() != c3.next())
        var seed43 = SeededRandom(seed: 43).derive(label: "host:mail.example.com")
        var seed42 = SeededRandom(seed: 42).derive(label: "host:mail.example.com")
        #expect(seed43.next() != seed42.next())
    }
}
