import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 13: during IDLE the learner sees the server's push as it happens — here, right after the
/// `!advance` that lets the backup MX hand the message over — before typing DONE.
@Suite struct IdlePushTests {
    static var library: ContentLibrary { Fixtures.course }

    @Test func existsIsShownBeforeDone() throws {
        let core = ReplCore(environment: ReplCore.Environment(library: Self.library, driver: SimulatedWorldDriver(), store: nil,
                                                              learner: "t", clock: { Date(timeIntervalSince1970: 0) }),
                            language: .en)
        for line in ["down mail1.company.org", "send alice@example.com bob@company.org Hi", "text", ".", "up mail1.company.org",
                     "connect mail1.company.org 993 --tls", "a1 LOGIN bob secret123", "a2 SELECT INBOX", "a3 IDLE"] {
            _ = core.evaluate(line)
        }
        let advanced = core.evaluate("!advance 10m").text
        #expect(advanced.range(of: #"S: \* [0-9]+ EXISTS"#, options: .regularExpression) != nil, "\(advanced)")
        let done = core.evaluate("DONE").text
        #expect(done.contains("a3 OK"), "\(done)")
        #expect(!done.contains("EXISTS"), "the push was already shown: \(done)")
    }
}
