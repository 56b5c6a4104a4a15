import Foundation
import Testing
@testable import MailTutor

@Suite struct RunnerTests {
    static let scenarioText = CheckTests.scenarioHead + """
    steps:
      - narrate: {fr: Début, en: Start}
      - down: a.test
      - advance: 5m
      - expect:
          - {fr: Rien en file, en: Queue empty, queue-empty: true}
      - expect:
          - {fr: Un message, en: One message, mailbox-count: {user: u@a.test, count: 1}}
    """

    func scenario() throws -> Scenario {
        let (scenario, diagnostics) = ScenarioParser.parse(Self.scenarioText, file: "s.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return try #require(scenario)
    }

    @Test func nextRunsStepsThroughTheWorld() throws {
        let driver = ScriptedDriver()
        let runner = try ScenarioRunner(scenario: try scenario(), driver: driver)
        #expect(runner.next()?.notes == [LocalizedText(fr: "Début", en: "Start")])
        _ = runner.next()
        _ = runner.next()
        #expect(driver.made.last?.performed == [.fault(.down("a.test")), .advance(seconds: 300)])
        #expect(runner.world.now == 300)
    }

    @Test func backReplaysDeterministicallyFromTheStart() throws {
        let driver = ScriptedDriver()
        let runner = try ScenarioRunner(scenario: try scenario(), driver: driver)
        _ = runner.next()
        _ = runner.next()
        _ = runner.next()
        try runner.back()
        #expect(runner.position == 2)
        #expect(driver.made.count == 2)
        #expect(driver.made.last?.performed == [.fault(.down("a.test"))])
        #expect(runner.world.now == 0)
        #expect(runner.next()?.step.action == .world(.advance(seconds: 300)))
    }

    @Test func autoFailsWhenAnExpectationFails() throws {
        let runner = try ScenarioRunner(scenario: try scenario(), driver: ScriptedDriver())
        let (outcomes, passed) = runner.runAuto()
        #expect(!passed)
        #expect(outcomes.count == 5)
        #expect(outcomes[3].passed)
        #expect(outcomes[4].failures.map(\.id) == ["mailbox-count-1"])
    }

    @Test func replayAtTheRepl() throws {
        let library = Fixtures.library([("Scenarios/s.yaml", Self.scenarioText)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, ["replay s1", "next", "next", "back", "run"])
        #expect(out.contains("5 steps: next, back, run."))
        #expect(out.contains("[1/5] Start"))
        #expect(out.contains("Back before step 2 (world replayed from the start)."))
        #expect(out.contains("[4/5] \n✓ checked"))
        #expect(out.contains("! expected but false: One message"))
        #expect(out.contains("End of the scenario."))
    }

    @Test func messagePredicateLooksIntoTheMailbox() throws {
        let world = ScriptedWorld()
        world.deliver(to: "bob@company.org", from: "alice@example.com", subject: "Réunion de 15 h")
        let yes = GoalPredicate.message(user: "bob", folder: "INBOX", from: "alice@example.com", subject: "reunion")
        let no = GoalPredicate.message(user: "bob", folder: "INBOX", from: "eve@evil.test", subject: nil)
        #expect(GoalEvaluator.holds(yes, world: world))
        #expect(!GoalEvaluator.holds(no, world: world))
        let (scenario, diagnostics) = ScenarioParser.parse(CheckTests.scenarioHead + "steps:\n  - expect: {message: {user: u@a.test, subject: Hi}}\n", file: "s.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(scenario?.steps.first?.action == .expect([Goal(id: "message-1", description: nil,
            predicate: .message(user: "u@a.test", folder: "INBOX", from: nil, subject: "Hi"), line: 9)]))
    }

    @Test func replayStopsAtATaskUntilItsGoalsAreMet() throws {
        let text = """
        id: tls-task
        title: {fr: T, en: T}
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [submission]}
        steps:
          - narrate: {fr: Allons-y, en: Here we go}
          - task:
              id: encrypt
              fr: Chiffrez la session.
              en: Encrypt the session.
              session: {host: mail.example.com, port: 587}
              goals:
                - {id: tls, fr: Chiffré, en: Encrypted, tls: {host: mail.example.com, port: 587}}
          - narrate: {fr: Fin, en: The end}
        """
        let library = Fixtures.library([("Scenarios/t.yaml", text)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, ["replay tls-task", "next", "next"])
        #expect(out.contains("[2/3]\n== Encrypt the session.\n  [ ] Encrypted\nConnected to mail.example.com:587."))
        // `next` during an unfinished task skips it.
        #expect(core.evaluate("!next").text == "Task skipped.\n[3/3] The end\n")
        let done = Fixtures.run(Fixtures.core(library: library), ["replay tls-task", "next", "next", "STARTTLS", "!next"])
        #expect(done.contains("✓ Goal met: Encrypted"))
        #expect(done.contains("Exercise complete!"))
        #expect(done.contains("[3/3] The end"))
    }

    @Test func transcriptFormat() {
        let records = [WireRecord(time: 90, from: "a", to: "b", text: "EHLO x\r", encrypted: false),
                       WireRecord(time: 3600, from: "b", to: "a", text: "250 ok", encrypted: true)]
        #expect(TranscriptFormatter.plain(records) == "[1m30s] a > b: EHLO x\\r\n[1h] b > a: (TLS) 250 ok\n")
    }
}

@Suite struct ExpectedRefusalTests {
    @Test func aSendMarkedRefusedParsesAndDefaultsToFalse() throws {
        let library = Fixtures.library([("Scenarios/r.yaml", """
            id: r
            title: {fr: R, en: R}
            world:
              hosts:
                - {name: mail.example.com, address: 198.51.100.25, services: [smtp]}
            steps:
              - send: {from: a@example.com, to: b@example.com, refused: true}
              - send: {from: a@example.com, to: b@example.com}
            """)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let steps = try #require(library.scenario("r")).steps
        guard case let .world(.send(first)) = steps[0].action, case let .world(.send(second)) = steps[1].action else {
            Issue.record("not two sends")
            return
        }
        #expect(first.expectRefusal)
        #expect(!second.expectRefusal)
    }
}
