import Foundation
import Testing
@testable import MailTutor

@Suite struct ReplTests {
    let core = Fixtures.core(library: Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)]))

    @Test(arguments: [
        ("\u{0}\u{1}\u{2}garbage", "control characters"),
        ("\u{7f}\u{1b}[A", "control characters"),
        ("frobnicate", "Unknown command 'frobnicate'"),
        ("hepl", "Did you mean 'help'?"),
        ("dig", "Usage: dig NAME [MX|A|TXT]"),
        ("connect mail.example.com notaport", "Usage: connect HOST PORT [--tls]"),
        ("advance 5x", "Usage: advance DURATION"),
        ("b64d !!!", "not valid base64"),
        ("lesson nope", "Unknown lesson 'nope'"),
        ("connect nowhere.test 25", "unknown host nowhere.test"),
        ("connect mail.example.com 25", "connection refused"),
    ])
    func badInputGetsAHelpfulAnswer(line: String, expected: String) {
        let out = core.evaluate(line).text
        #expect(out.contains(expected), "\(out)")
    }

    @Test func veryLongLineIsRefusedPolitely() {
        let out = core.evaluate(String(repeating: "A", count: 100_000)).text
        #expect(out.contains("Line too long (100000 bytes)"))
        let session = Fixtures.core(library: Fixtures.library([]))
        _ = session.evaluate("connect mail.example.com 587")
        #expect(session.evaluate(String(repeating: "x", count: 9000)).text.contains("Line too long"))
        #expect(session.prompt == "mail.example.com:587> ")
    }

    @Test func randomBytesNeverCrash() {
        var state: UInt64 = 20261126
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 56)
            for _ in 0..<length {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            let out = core.evaluate(String(decoding: bytes, as: UTF8.self))
            #expect(!out.exit, "seed=20261126 bytes=\(bytes)")
        }
    }

    @Test(arguments: [
        ("b64 \\0alice\\0mypassword", "AGFsaWNlAG15cGFzc3dvcmQ=\n"),
        ("b64d AGFsaWNlAG15cGFzc3dvcmQ=", "\\0alice\\0mypassword\n"),
        ("b64 alice", "YWxpY2U=\n"),
    ])
    func base64Helpers(line: String, expected: String) {
        #expect(core.evaluate(line).text == expected)
    }

    /// RFC 2195 section 2's example.
    @Test func cramMD5MatchesRFC2195() {
        let challenge = Data("<1896.697170952@postoffice.reston.mci.net>".utf8).base64EncodedString()
        let out = core.evaluate("cram-md5 tim tanstaaftanstaaf \(challenge)").text
        #expect(out.contains("HMAC-MD5: b913a602c7eda7a495b4e6e7334d3890"))
        #expect(out.contains("response: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"))
    }

    @Test func completionOfCommandsAndProtocolVerbs() {
        #expect(core.completions(for: "le") == ["lesson", "lessons"])
        #expect(core.completions(for: "lesson ") == ["submit-lesson"])
        #expect(core.completions(for: "dig example.com M") == ["MX"])
        #expect(core.completions(for: "connect mail.") == ["mail.example.com"])
        _ = core.evaluate("connect mail.example.com 587")
        #expect(core.completions(for: "ST") == ["STARTTLS"])
        #expect(core.completions(for: "ma") == ["MAIL FROM:"])
        #expect(core.completions(for: "EHLO ") == [])
    }

    @Test func digHostsAndLang() {
        let dig = core.evaluate("dig company.org MX").text
        #expect(dig.contains("company.org.\t3600\tIN\tMX\t10 mail1.company.org"))
        #expect(core.evaluate("dig nowhere.test").text.contains("NXDOMAIN"))
        #expect(core.evaluate("hosts").text.contains("mail.example.com  198.51.100.25  [up]  submission 587, smtps 465"))
        #expect(core.evaluate("lang fr").text == "Langue : français.\n")
        #expect(core.evaluate("down mail1.company.org").text == "fait : 1\n")
        #expect(core.evaluate("hosts").text.contains("mail1.company.org  203.0.113.10  [arrêtée]"))
    }

    @Test func sendComposesThroughTheWorldAndMailboxShowsIt() {
        let out = Fixtures.run(core, ["send alice@example.com bob@company.org Lunch at noon", "See you", ".", "mailbox bob"])
        #expect(out.contains("1  uid=1"))
        #expect(out.contains("alice@example.com  Lunch at noon"))
        let refused = Fixtures.run(core, ["send eve@evil.test bob@company.org Spam", "buy", "."])
        #expect(refused.contains("relay access denied"))
    }

    @Test func sniffShowsWireRecordsAndWhyExplains() {
        let out = Fixtures.run(core, ["sniff on", "connect mail.example.com 587", "NOPE", "!why"])
        #expect(out.contains("~ [0s] learner > mail.example.com: NOPE"))
        #expect(out.contains("S: 502 5.5.2 Error: command not recognized"))
        #expect(out.contains("502 5.5.2 Error: command not recognized\n» 502: command not recognised."))
    }

    @Test func sendFromADeviceComposesWithThatClient() throws {
        let driver = ScriptedDriver()
        let core = Fixtures.core(library: Fixtures.library([]), driver: driver)
        _ = Fixtures.run(core, ["send laptop bob@company.org,carol@company.org Lunch at noon", "See you", "."])
        let world = try #require(driver.made.last)
        #expect(world.performed.last == .send(SendAction(device: "laptop", from: "", to: ["bob@company.org", "carol@company.org"],
                                                         subject: "Lunch at noon", body: "See you")))
        #expect(core.evaluate("send laptop nobody Hi").text.contains("FROM|DEVICE TO[,TO] SUBJECT"))
        // `--from` is an option, never a device, and a bad one reads no body.
        #expect(core.evaluate("send --from x bob@company.org Hi").text.contains("--from expects an address"))
        #expect(core.prompt == "maillab> ")
        #expect(core.evaluate("send --frm alice@example.com bob@company.org Hi").text.contains("Unknown option '--frm'"))
        #expect(core.prompt == "maillab> ")
        _ = Fixtures.run(core, ["send --from alice@example.com bob@company.org Hi there", "x", "."])
        #expect(world.performed.last == .send(SendAction(device: nil, from: "alice@example.com", to: ["bob@company.org"],
                                                         subject: "Hi there", body: "x")))
    }

    @Test func worldUnavailableIsSaidPlainly() {
        let driver = ScriptedDriver()
        driver.failing = true
        let core = Fixtures.core(library: Fixtures.library([]), driver: driver)
        #expect(core.evaluate("hosts").text == "world unavailable\n")
    }

    @Test func welcomeOffersTheFirstLessonOnFirstStart() throws {
        let store = try ProgressStore()
        let core = Fixtures.core(library: Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)]), store: store)
        #expect(core.welcome().contains("type 'lesson submit-lesson'"))
        try store.startLesson(learner: "ana", lesson: "submit-lesson", at: Date(timeIntervalSince1970: 0))
        #expect(!core.welcome().contains("First time here"))
    }

    @Test func languageResolution() {
        #expect(Language.resolve(option: "fr", environment: ["LANG": "en_US.UTF-8"]) == .fr)
        #expect(Language.resolve(option: nil, environment: ["LC_ALL": "fr_FR.UTF-8", "LANG": "en_US"]) == .fr)
        #expect(Language.resolve(option: nil, environment: ["LANG": "fr_CA.UTF-8"]) == .fr)
        #expect(Language.resolve(option: nil, environment: ["LANG": "de_DE.UTF-8"]) == .en)
        #expect(Language.resolve(option: nil, environment: [:]) == .en)
    }

    @Test(arguments: [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)])
    func durations(text: String, seconds: Int) {
        #expect(DurationText.seconds(text) == seconds)
        #expect(DurationText.format(seconds) == text)
    }

    @Test(arguments: ["", "5", "m", "5x", "-5m", "999999999d", "1.5h"])
    func badDurations(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }
}
