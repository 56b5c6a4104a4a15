import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// A tutor command typed at a server's prompt goes to the server (the learner is inside a
/// protocol session); when the server refuses it, the REPL says how to reach the tutor from there.
/// Lines the protocol knows are not flagged.
@Suite struct TutorCommandInSessionTests {
    static func core(_ language: Language = .en) -> ReplCore {
        ReplCore(environment: ReplCore.Environment(library: Fixtures.course, driver: SimulatedWorldDriver(), store: nil,
                                                          learner: "t", clock: { Date(timeIntervalSince1970: 0) }),
                        language: language)
    }

    @Test func smtpAndPOP3() {
        let core = Self.core()
        _ = core.evaluate("connect mail.example.com 587")
        let next = core.evaluate("next").text
        #expect(next.contains("'next' is a tutor command") && next.contains("'!next'"), "\(next)")
        let help = core.evaluate("HELP").text
        #expect(!help.contains("tutor command"), "\(help)")
        let rcpt = core.evaluate("RCPT TO:<bob@company.org>").text
        #expect(rcpt.contains("503") && !rcpt.contains("tutor command"), "\(rcpt)")
        _ = core.evaluate("QUIT")
        _ = core.evaluate("connect mail1.company.org 995 --tls")
        let list = core.evaluate("list").text
        #expect(!list.contains("tutor command"), "\(list)")
        let goals = core.evaluate("goals").text
        #expect(goals.contains("-ERR") && goals.contains("'!goals'"), "\(goals)")
    }

    @Test func imapInFrench() {
        let core = Self.core(.fr)
        _ = core.evaluate("connect mail1.company.org 993 --tls")
        let hint = core.evaluate("hint").text
        #expect(hint.contains("BAD") && hint.contains("« hint » est une commande du tuteur") && hint.contains("« !hint »"), "\(hint)")
        let tagged = core.evaluate("a1 list").text
        #expect(tagged.contains("BAD") && !tagged.contains("commande du tuteur"), "\(tagged)")
    }
}
