import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// An exercise marked `continues:` goes on in the network its predecessor leaves. When the learner
/// skipped that predecessor, jumped past it, or restarts the continuing exercise with `reset`, the
/// REPL plays the predecessor's solution on a fresh world first, so the exercise can still be done
/// (the capstone's two-devices needs the message across-domains sends).
@Suite struct ContinuingExerciseTests {
    static var library: ContentLibrary { Fixtures.course }

    static func core() -> ReplCore {
        ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil,
                                                   learner: "", clock: { Date(timeIntervalSince1970: 0) }),
                 language: .en)
    }

    static func exercise(_ id: String) throws -> (index: Int, solution: [String]) {
        let lesson = try #require(library.lesson("capstone"))
        let index = try #require(lesson.exercises.firstIndex { $0.id == id })
        #expect(lesson.exercises[index].continues == (id == "two-devices"))
        return (index, try #require(lesson.exercises[index].task.solution))
    }

    @Test func afterSkippingThePreviousExerciseItsSolutionIsPlayedFirst() throws {
        let previous = try Self.exercise("across-domains")
        let next = try Self.exercise("two-devices")
        #expect(next.index == previous.index + 1)
        let core = Self.core()
        _ = core.openExercise(lesson: "capstone", index: previous.index)
        let skipped = core.evaluate("skip").text
        #expect(skipped.contains("its solution was played for you"))
        #expect(core.attemptStatus?.complete == false)
        for line in next.solution { _ = core.evaluate(line) }
        #expect(core.attemptStatus?.complete == true)
    }

    @Test func completingThePreviousExerciseKeepsTheLearnersOwnNetwork() throws {
        let previous = try Self.exercise("across-domains")
        let next = try Self.exercise("two-devices")
        let core = Self.core()
        _ = core.openExercise(lesson: "capstone", index: previous.index)
        for line in previous.solution { _ = core.evaluate(line) }
        #expect(core.attemptStatus?.complete == true)
        let opened = core.evaluate("next").text
        #expect(opened.contains("continues in the network of the previous exercise"))
        for line in next.solution { _ = core.evaluate(line) }
        #expect(core.attemptStatus?.complete == true)
    }

    @Test func jumpingToTheContinuingExerciseAndResetBothReplayThePredecessor() throws {
        let next = try Self.exercise("two-devices")
        let jumped = Self.core()
        let text = jumped.openExercise(lesson: "capstone", index: next.index)
        #expect(text.contains("its solution was played for you"))
        for line in next.solution { _ = jumped.evaluate(line) }
        #expect(jumped.attemptStatus?.complete == true)

        let restarted = Self.core()
        _ = restarted.openExercise(lesson: "capstone", index: next.index)
        _ = restarted.evaluate("connect mail1.company.org 995")
        _ = restarted.evaluate("QUIT")
        let reset = restarted.evaluate("reset").text
        #expect(reset.contains("replayed from the start"))
        for line in next.solution { _ = restarted.evaluate(line) }
        #expect(restarted.attemptStatus?.complete == true)
    }
}
