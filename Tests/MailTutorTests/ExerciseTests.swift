import Foundation
import Testing
@testable import MailTutor

@Suite struct ExerciseTests {
    let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])

    @Test func fixtureLessonIsValid() {
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        #expect(library.lesson("submit-lesson")?.exercises.first?.task.goals.count == 3)
    }

    @Test func authPlainSequenceCompletesTheExercise() {
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, [
            "lesson submit-lesson",
            "EHLO pc.example.com",
            "STARTTLS",
            "EHLO pc.example.com",
            "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=",
            "MAIL FROM:<alice@example.com>",
            "RCPT TO:<bob@company.org>",
            "DATA",
            "Subject: hello",
            "",
            "Hi Bob",
            ".",
        ])
        #expect(out.contains("S: 220 mail.example.com ESMTP"))
        #expect(out.contains("Goals 3/3"))
        #expect(out.contains("Exercise complete! (hints used: 0)"))
    }

    @Test func authLoginSequenceWithOtherOrderAlsoCompletes() {
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, [
            "lesson submit-lesson",
            "STARTTLS",
            "EHLO laptop",
            "!b64 alice",
            "AUTH LOGIN",
            "YWxpY2U=",
            "bXlwYXNzd29yZA==",
            "MAIL FROM:<alice@example.com>",
            "RCPT TO:<carol@example.com>",
            "RCPT TO:<bob@company.org>",
            "DATA",
            "Hi",
            ".",
        ])
        #expect(out.contains("YWxpY2U=\n"))
        #expect(out.contains("(authenticated: alice)"))
        #expect(out.contains("Exercise complete!"))
    }

    @Test func authBeforeStartTLSIsExplainedAndDoesNotComplete() {
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, [
            "lesson submit-lesson",
            "EHLO pc",
            "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=",
        ])
        #expect(out.contains("S: 530 5.7.0 Must issue a STARTTLS command first"))
        #expect(out.contains("» 530: the session must be encrypted (STARTTLS) before authenticating."))
        #expect(out.contains("» Type STARTTLS first."))
        #expect(!out.contains("Exercise complete"))
        // Going on after the mistake still completes, but AUTH after STARTTLS must come later.
        let later = Fixtures.run(core, ["STARTTLS", "EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=", "MAIL FROM:<alice@example.com>",
                                        "RCPT TO:<bob@company.org>", "DATA", "x", "."])
        #expect(later.contains("Exercise complete!"))
    }

    @Test func wrongPasswordGetsExplanationAndHintOffer() {
        let core = Fixtures.core(library: library)
        let out = Fixtures.run(core, ["lesson submit-lesson", "STARTTLS", "AUTH PLAIN AGJvYgB3cm9uZw=="])
        #expect(out.contains("» 535: credentials refused."))
        #expect(out.contains("» Need help? Type '!hint'."))
    }

    @Test func hintsAreProgressiveThenSolutionThenNone() {
        let core = Fixtures.core(library: library)
        _ = core.evaluate("lesson submit-lesson")
        #expect(core.evaluate("!hint").text == "Hint 1/2: Start with EHLO.\nGoals 0/3 [ ] [ ] [ ]\n")
        #expect(core.evaluate("!hint").text.hasPrefix("Hint 2/2: Then STARTTLS.\n"))
        #expect(core.evaluate("!hint").text.hasPrefix("Solution (the lines to type):\n  EHLO me\n  STARTTLS"))
        #expect(core.evaluate("!hint").text.hasPrefix("No more hints for this exercise.\n"))
    }

    @Test func hintsUsedAreRecorded() throws {
        let store = try ProgressStore()
        let core = Fixtures.core(library: library, store: store)
        _ = Fixtures.run(core, ["lesson submit-lesson", "!hint", "STARTTLS", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=",
                                "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@company.org>", "DATA", "."])
        let summary = try store.summary(learner: "ana")
        #expect(summary.first?.goalsMet == 3)
        // One hint shown counts once, whatever the number of goals met after it (issue 12 item 4).
        #expect(summary.first?.hintsUsed == 1)
        #expect(try store.goalsMet(learner: "ana", lesson: "submit-lesson", exercise: "submit") == ["auth", "sent", "tls"])
    }

    @Test func goalOnceMetStaysMet() {
        let core = Fixtures.core(library: library)
        let first = Fixtures.run(core, ["lesson submit-lesson", "STARTTLS"])
        #expect(first.contains("✓ Goal met: Session encrypted"))
        // Leaving the session does not undo the goal.
        let after = core.endOfInput().text
        #expect(after.contains("Connection closed."))
        #expect(core.evaluate("goals").text.contains("[x] Session encrypted"))
    }

    @Test func ctrlDLeavesSessionThenRepl() {
        let core = Fixtures.core(library: Fixtures.library([]))
        #expect(core.evaluate("connect mail.example.com 587").text.contains("S: 220"))
        #expect(core.prompt == "mail.example.com:587> ")
        let leave = core.endOfInput()
        #expect(!leave.exit)
        #expect(core.prompt == "maillab> ")
        #expect(core.endOfInput().exit)
    }

    @Test func frenchMessages() {
        let core = Fixtures.core(library: library, language: .fr)
        let out = Fixtures.run(core, ["lesson submit-lesson", "AUTH PLAIN x"])
        #expect(out.contains("» 530 : il faut chiffrer la session"))
        #expect(out.contains("» Tapez STARTTLS d'abord."))
        #expect(out.contains("Objectifs 0/3"))
    }
}
