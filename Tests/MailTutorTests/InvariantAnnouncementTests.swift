import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// An invariant (`keep:`) that already holds when the exercise opens is not announced as a goal
/// met (the learner has done nothing yet); once broken it says "No longer true", and it is
/// announced when it holds again. An error reply that meets a goal gets no offer of a hint.
@Suite struct InvariantAnnouncementTests {
    static let lesson = """
    id: keep-lesson
    title: {fr: Invariant, en: Invariant}
    covers: [smtp.queue]
    exercises:
      - id: drain
        task:
          id: drain
          fr: Envoyez un message à Bob.
          en: Send a message to Bob.
          goals:
            - {id: delivered, fr: Livré, en: Delivered to Bob, delivered: {to: bob@company.org}}
          keep:
            - {id: drained, fr: File vide, en: Queue of mail.example.com empty, queue-empty: {host: mail.example.com}}
          hints:
            - {fr: Envoyez., en: Send.}
          solution: ["send alice@example.com bob@company.org Hi", "x", ".", "advance 1m"]
    """

    /// The tutor on the real simulation, with one lesson.
    static func core(_ lesson: String) -> ReplCore {
        let library = Fixtures.library([("Lessons/lesson.yaml", lesson)])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        return ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil,
                                                          learner: "ana", clock: StepClock().now), language: .en)
    }

    @Test func anInvariantHoldingAtTheStartIsNotAnnouncedAsMet() {
        let core = Self.core(Self.lesson)
        let opening = core.evaluate("lesson keep-lesson").text
        #expect(opening.contains("Queue of mail.example.com empty"), "\(opening)")
        #expect(!opening.contains("Goal met: Queue of mail.example.com empty"), "\(opening)")
        var out = ""
        for line in ["send alice@example.com bob@company.org Hi", "x", "."] { out += core.evaluate(line).text }
        #expect(out.contains("No longer true: Queue of mail.example.com empty"), "\(out)")
        out = core.evaluate("advance 1m").text
        #expect(out.contains("Goal met: Queue of mail.example.com empty"), "\(out)")
        #expect(out.contains("Exercise complete!"), "\(out)")
    }

    static let sequenceError = """
    id: error-lesson
    title: {fr: Erreur voulue, en: Wanted error}
    covers: [smtp.commands]
    exercises:
      - id: sequence
        task:
          id: sequence
          fr: Provoquez une erreur de séquence.
          en: Cause a sequence error.
          session: {host: mail1.company.org, port: 25}
          goals:
            - {id: sequence, fr: 503, en: The 503 of RCPT before MAIL, refused: {command: RCPT, status: "503"}}
            - {id: quit, fr: Fin, en: Session ended, closed: {host: mail1.company.org}}
          hints:
            - {fr: L'ordre compte., en: The order matters.}
          solution: ["EHLO x", "RCPT TO:<bob@company.org>", "QUIT"]
    """

    @Test func anErrorThatMeetsAGoalGetsNoHintOfferAnotherDoes() {
        let core = Self.core(Self.sequenceError)
        _ = core.evaluate("lesson error-lesson")
        _ = core.evaluate("EHLO x")
        let wanted = core.evaluate("RCPT TO:<bob@company.org>").text
        #expect(wanted.contains("S: 503") && wanted.contains("Goal met: The 503 of RCPT before MAIL"), "\(wanted)")
        #expect(!wanted.contains("Need help?"), "\(wanted)")
        let unwanted = core.evaluate("DATA").text
        #expect(unwanted.contains("S: 503") && unwanted.contains("» Need help? Type '!hint'."), "\(unwanted)")
    }
}
