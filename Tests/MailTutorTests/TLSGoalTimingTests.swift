import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// A goal on the server's TLS fact ticks with the STARTTLS/STLS line itself. The client's side of
/// the handshake ends first (TLS 1.3: its Finished is still on the way to the server), so the
/// tutor waits for the server's report before grading; it used to tick one command late.
@Suite struct TLSGoalTimingTests {
    static func lesson(host: String, port: Int, hello: String, startTLS: String) -> String {
        """
        id: tls-lesson
        title: {fr: TLS, en: TLS}
        covers: [smtp.session]
        exercises:
          - id: encrypt
            task:
              id: encrypt
              fr: Chiffrez la session.
              en: Encrypt the session.
              session: {host: \(host), port: \(port)}
              goals:
                - {id: tls, fr: Session chiffrée, en: Encrypted session, tls: {host: \(host), port: \(port)}}
              hints:
                - {fr: STARTTLS., en: STARTTLS.}
              solution: [\(hello.isEmpty ? "" : "\"\(hello)\", ")"\(startTLS)"]
        """
    }

    @Test(arguments: [("mail.example.com", 587, "EHLO pc", "STARTTLS"),
                      ("mail.example.com", 110, "", "STLS"),
                      ("mail.example.com", 143, "", "a1 STARTTLS")])
    func theTLSGoalTicksWithTheStartTLSLine(host: String, port: Int, hello: String, startTLS: String) {
        let library = Fixtures.library([("Lessons/lesson.yaml", Self.lesson(host: host, port: port, hello: hello, startTLS: startTLS))])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let core = ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil,
                                                              learner: "ana", clock: StepClock().now), language: .en)
        var out = core.evaluate("lesson tls-lesson").text
        if !hello.isEmpty { out += core.evaluate(hello).text }
        #expect(!out.contains("Goal met: Encrypted session"), "\(out)")
        let answer = core.evaluate(startTLS).text
        #expect(answer.contains("Goal met: Encrypted session"), "\(startTLS) on \(port): \(answer)")
    }
}
