import Foundation
import Testing

/// Issue 12: `maillab check` replays every task's solution and counter-examples on its world.
/// Each fixture in Tests/Fixtures/bad-solutions breaks one rule; check must fail on it with exit 1
/// and the file:line of the fault, while the valid fixtures pass.
@Suite struct SolutionCheckTests {
    static let bad = CommandLineTests.repository + "/Tests/Fixtures/bad-solutions/"

    func check(_ file: String) throws -> (status: Int32, stdout: String) {
        let result = try CommandLineTests.run(["check", "--lang", "en", Self.bad + file],
                                              environment: ["MAILLAB_CONTENT": CommandLineTests.fixtures])
        return (result.status, result.stdout)
    }

    @Test func validFixturesReplayTheirSolutions() throws {
        let result = try CommandLineTests.run(["check"], environment: ["MAILLAB_CONTENT": CommandLineTests.fixtures])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test func aSolutionThatDoesNotCompleteFails() throws {
        let (status, out) = try check("solution-fails.yaml")
        #expect(status == 1)
        #expect(out.hasPrefix(Self.bad + "solution-fails.yaml:26: task 'submit': the solution does not complete the exercise"), "\(out)")
    }

    @Test func aCounterExampleThatCompletesFails() throws {
        let (status, out) = try check("counter-example-passes.yaml")
        #expect(status == 1)
        #expect(out.contains(Self.bad + "counter-example-passes.yaml:39: task 'submit': this counter-example completes the exercise"), "\(out)")
        #expect(!out.contains("the solution does not complete"))
    }

    @Test func anAlternativeSolutionThatDoesNotCompleteFails() throws {
        let (status, out) = try check("alternative-fails.yaml")
        #expect(status == 1)
        #expect(out.hasPrefix(Self.bad + "alternative-fails.yaml:41: task 'submit': this alternative solution does not complete the exercise (AUTH before STARTTLS)"),
                "\(out)")
        #expect(!out.contains("alternative-fails.yaml:40:"), "the lowercase alternative completes: \(out)")
        #expect(!out.contains("the solution does not complete"), "\(out)")
    }

    @Test func countsListsWhatIsReplayed() throws {
        let result = try CommandLineTests.run(["check", "--lang", "en", "--counts", Self.bad + "alternative-fails.yaml"],
                                              environment: ["MAILLAB_CONTENT": CommandLineTests.fixtures])
        #expect(result.stdout.contains("alternative-fails.yaml  1 task(s), 1 solution(s), 2 alternative(s), 1 counter-example(s)"), "\(result.stdout)")
        #expect(result.stdout.contains("total"), "\(result.stdout)")
    }

    @Test func aStateGoalHoldingAtTheStartFails() throws {
        let (status, out) = try check("goal-holds-at-start.yaml")
        #expect(status == 1)
        #expect(out.contains(Self.bad + "goal-holds-at-start.yaml:33: goal 'empty-queue': already holds when the exercise opens"), "\(out)")
    }

    @Test func aFirstHintGivingASolutionLineIsWarnedAbout() throws {
        let result = try CommandLineTests.run(["check", "--lang", "en", Self.bad + "hint-gives-answer.yaml"],
                                              environment: ["MAILLAB_CONTENT": CommandLineTests.fixtures])
        #expect(result.status == 0, "a warning does not fail the check: \(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("warning: " + Self.bad + "hint-gives-answer.yaml:26: task 'submit': hint 1 gives a line of the solution ('EHLO pc')"),
                "\(result.stderr)")
        let clean = try CommandLineTests.run(["check"], environment: ["MAILLAB_CONTENT": CommandLineTests.fixtures])
        #expect(!clean.stderr.contains("warning"), "\(clean.stderr)")
    }
}
