import Foundation
import Testing
@testable import MailTutor

/// Issue 15 (the reference at hand, layout, secrets, sessions) and issue 12 item 4 (the learner's
/// way through a lesson: notices, reset, skip, back, jumps, map, resume).
@Suite struct ReplFlowTests {
    static let sectioned = """
    id: flow-lesson
    title: {fr: Parcours, en: Walkthrough}
    covers: [smtp.session]
    sections:
      - id: one
        title: {fr: Première, en: First}
        text:
          fr: |
            Le texte de la première section est écrit sur
            deux lignes dans le fichier.

              C: EHLO exemple
          en: |
            The first section's text is written on
            two lines in the file.

              C: EHLO example
      - id: two
        title: {fr: Deuxième, en: Second}
        text: {fr: Deuxième section., en: Second section.}
    exercises:
      - id: submit
        task:
          id: submit
          fr: Envoyez un message authentifié.
          en: Send an authenticated message.
          session: {host: mail.example.com, port: 587}
          goals:
            - {id: tls, fr: Session chiffrée, en: Session encrypted, tls: {host: mail.example.com}}
          hints:
            - {fr: Commencez par EHLO., en: Start with EHLO.}
            - {fr: Puis STARTTLS., en: Then STARTTLS.}
          solution: ["EHLO me", "STARTTLS"]
    """

    static func library() -> ContentLibrary {
        Fixtures.library([("Lessons/flow.yaml", sectioned), ("Lessons/submit.yaml", Fixtures.lesson)])
    }

    @Test func sectionsExercisesBackJumpMapSkipAndResume() throws {
        let library = Self.library()
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let path = NSTemporaryDirectory() + "maillab-flow-\(UUID().uuidString)/progress.sqlite"
        let store = try ProgressStore(path: path)
        let core = Fixtures.core(library: library, store: store)
        let first = core.evaluate("lesson flow-lesson").text
        // The paragraph is joined again; the indented sample stays as it is.
        #expect(first.contains("The first section's text is written on two lines in the file.\n\n  C: EHLO example"), "\(first)")
        #expect(first.contains("(section 1/2)"))
        #expect(core.evaluate("next").text.contains("Second section."))
        #expect(core.evaluate("back").text.contains("The first section's text"))
        #expect(core.evaluate("back").text.contains("You are at the start of the lesson."))
        #expect(core.evaluate("lesson flow-lesson 2").text.contains("Second section."))
        let exercise = core.evaluate("next").text
        #expect(exercise.contains("Exercise 1/1 (This exercise starts from a fresh network: what you did before is not there.)"), "\(exercise)")
        let map = core.evaluate("!map").text
        #expect(map.contains("   1  First"))
        #expect(map.contains("→  3  [ ] exercise submit — Send an authenticated message."), "\(map)")
        #expect(core.evaluate("!next").text.contains("'skip' to skip it, 'reset' to restart it"))
        // A restart: the position is saved.
        let later = Fixtures.core(library: library, store: try ProgressStore(path: path))
        #expect(later.welcome().contains("Welcome back! You were at step 3 of the lesson 'Walkthrough': type 'resume'"))
        let resumed = later.evaluate("resume").text
        #expect(resumed.contains("(resuming at step 3;"))
        #expect(resumed.contains("Send an authenticated message."))
        let skipped = later.evaluate("!skip").text
        #expect(skipped.contains("Exercise skipped.\nLesson complete."), "\(skipped)")
        #expect(try store.exerciseStatus(learner: "ana", lesson: "flow-lesson") == ["submit": "skipped"])
        #expect(try store.export().contains { $0.kind == "exercise" && $0.status == "skipped" && $0.language == "en" })
    }

    @Test func resetRestartsTheExerciseOnAFreshWorldAndHintsCountOnce() throws {
        let store = try ProgressStore()
        let driver = ScriptedDriver()
        let core = Fixtures.core(library: Self.library(), driver: driver, store: store)
        _ = core.evaluate("lesson submit-lesson")
        let worlds = driver.made.count
        _ = core.evaluate("!hint")
        _ = core.evaluate("!hint")
        let reset = core.evaluate("!reset").text
        #expect(reset.contains("Restarting the exercise."))
        #expect(reset.contains("starts from a fresh network"))
        #expect(driver.made.count == worlds + 1)
        #expect(core.prompt == "mail.example.com:587> ")
        // Two hints shown for an exercise of three goals: two hints, not six.
        #expect(try store.summary(learner: "ana").first { $0.lesson == "submit-lesson" }?.hintsUsed == 2)
        #expect(try store.export().filter { $0.kind == "hint" }.map(\.item) == ["submit/hint-1", "submit/hint-2"])
    }

    @Test(arguments: [
        ("why 550", "SMTP 550 — "), ("why 5.7.1", "SMTP 5.7.1 — "), ("why -ERR [IN-USE]", "POP3 IN-USE — "),
        ("why NO [PRIVACYREQUIRED]", "IMAP PRIVACYREQUIRED — "), ("why a1 NO [TRYCREATE] no such folder", "IMAP TRYCREATE — "),
        ("why 554 5.7.1 Relay access denied", "SMTP 5.7.1 — "),
    ])
    func whyExplainsAnyCode(line: String, expected: String) {
        for language in Language.allCases {
            let core = Fixtures.core(library: Self.library(), language: language)
            let out = core.evaluate(line).text
            #expect(out.contains(expected), "\(language): \(out)")
        }
    }

    @Test func referenceInBothLanguages() {
        let fr = Fixtures.core(library: Self.library(), language: .fr)
        let en = Fixtures.core(library: Self.library(), language: .en)
        #expect(fr.evaluate("why 999").text.contains("n'est pas dans le catalogue"))
        #expect(en.evaluate("why 999").text.contains("is not in the reply catalogue"))
        #expect(en.evaluate("codes pop3").text.hasPrefix("POP3\n"))
        #expect(en.evaluate("codes pop3").text.contains("IN-USE"))
        #expect(en.evaluate("codes x400").text.contains("Usage: codes [smtp|pop3|imap]"))
        #expect(fr.evaluate("glossary MX").text.contains("Enregistrement DNS MX"))
        #expect(en.evaluate("glossary mx").text.contains("DNS MX record"))
        #expect(en.evaluate("glossary dkim selector").text.contains("_domainkey"))
        #expect(en.evaluate("glossary UIDVALIDTY").text.contains("Did you mean 'UIDVALIDITY'?"))
        #expect(fr.evaluate("glossary").text.hasPrefix("Glossaire : MUA, MSA, MTA, MDA, MX"))
        let frenchList = fr.evaluate("glossary").text
        #expect(frenchList.contains("enveloppe") && frenchList.contains("relais ouvert") && frenchList.contains("file d'attente"))
        #expect(!frenchList.contains(" envelope,") && !frenchList.contains(" open relay,"), "\(frenchList)")
        #expect(en.evaluate("glossary").text.contains("envelope, bounce, open relay"))
        for term in Reference.glossary {
            #expect(!term.definition.fr.isEmpty && !term.definition.en.isEmpty && term.definition.fr != term.definition.en, "\(term.names)")
        }
        #expect(Reference.codesMarkdown(language: .fr).contains("| `550` |"))
        #expect(Reference.glossaryMarkdown(language: .en).contains("**SASL**"))
    }

    @Test func quizDidYouMean() {
        let core = Fixtures.core(library: Self.library())
        #expect(core.evaluate("quiz submit-lessn").text.contains("Did you mean 'quiz submit-lesson'?"))
        #expect(core.evaluate("lesson flow-leson").text.contains("Did you mean 'lesson flow-lesson'?"))
    }

    @Test func helpIsFrenchInFrenchModeAndCoversEveryDispatchedCommand() {
        let fr = Fixtures.core(library: Self.library(), language: .fr)
        let help = fr.evaluate("help").text
        for english in ["HOST", "PASSWORD", "CHALLENGE", "SUBJECT", "DURATION", "DEVICE", "FOLDER", "[TERM]"] {
            #expect(!help.contains(english), "French help still says \(english)")
        }
        #expect(help.contains("connect HÔTE PORT [--tls]"))
        #expect(fr.evaluate("dig").text == "Usage : dig NOM [MX|A|TXT]\n")
        // Every name in the table is dispatched (none answers "unknown command").
        for name in ReplCommands.names where name != "quit" {
            let out = Fixtures.core(library: Self.library()).evaluate(name).text
            #expect(!out.contains("Unknown command"), "\(name): \(out)")
        }
    }

    @Test func sessionsIgnoreEmptyLinesAndCtrlCAndWarnAboutClearSecrets() {
        let core = Fixtures.core(library: Self.library())
        _ = core.evaluate("connect mail.example.com 587")
        #expect(core.evaluate("").text == "")
        #expect(core.evaluate("   ").text == "")
        #expect(core.interrupt().text.contains("nothing sent"))
        _ = core.evaluate("EHLO pc")
        #expect(core.historyEntry(for: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=") == "AUTH PLAIN ****")
        let clear = core.evaluate("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").text
        #expect(clear.contains("this secret just crossed the network in clear"), "\(clear)")
        _ = core.evaluate("STARTTLS")
        _ = core.evaluate("EHLO pc")
        let safe = core.evaluate("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=").text
        #expect(!safe.contains("in clear"), "\(safe)")
    }

    @Test func sendInsideASessionComesBackToIt() {
        let core = Fixtures.core(library: Self.library())
        _ = core.evaluate("connect mail.example.com 587")
        #expect(core.evaluate("!send alice@example.com bob@company.org Hi").text.contains("a line holding only . sends it"))
        #expect(core.prompt == "body> ")
        _ = core.evaluate("hello")
        #expect(core.evaluate(".").text.contains("(back to the session with mail.example.com:587)"))
        #expect(core.prompt == "mail.example.com:587> ")
    }

    @Test(arguments: [
        ("PASS secret123", MailProtocol.pop3, false, "PASS ****"),
        ("APOP bob 6a8b", .pop3, false, "APOP bob ****"),
        ("USER bob", .pop3, false, "USER bob"),
        ("a1 LOGIN bob secret", .imap, false, "a1 LOGIN bob ****"),
        ("a1 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=", .imap, false, "a1 AUTHENTICATE PLAIN ****"),
        ("AUTH LOGIN", .smtp, false, "AUTH LOGIN"),
        ("YWxpY2U=", .smtp, true, "****"),
        ("bXlwYXNzd29yZA==", .imap, true, "****"),
        ("MAIL FROM:<a@b>", .smtp, false, "MAIL FROM:<a@b>"),
        ("!b64 \\0alice\\0pw", .smtp, false, "!b64 ****"),
    ])
    func historyRedaction(line: String, kind: MailProtocol, sasl: Bool, stored: String) {
        #expect(Secrets.redact(line, protocolKind: kind, awaitingSASL: sasl) == stored)
    }

    @Test func historyRedactionAtTheTopPrompt() {
        #expect(Secrets.redact("cram-md5 tim tanstaaftanstaaf PDE4OTY=", protocolKind: nil, awaitingSASL: false)
                == "cram-md5 tim **** PDE4OTY=")
        #expect(Secrets.redact("b64 \\0alice\\0mypassword", protocolKind: nil, awaitingSASL: false) == "b64 ****")
        #expect(Secrets.redact("dig company.org MX", protocolKind: nil, awaitingSASL: false) == "dig company.org MX")
    }

    @Test func wrappingAtWordBoundaries() {
        let text = "» 530 — Authentication required: the server wants you to authenticate before sending mail through it."
        let wrapped = TextLayout.wrap(text, width: 40)
        for line in wrapped.split(separator: "\n") { #expect(line.count <= 40, "\(line)") }
        #expect(wrapped.replacingOccurrences(of: "\n  ", with: " ") == text)
        #expect(wrapped.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("  ") })
        #expect(TextLayout.reflow("one\ntwo\n\n- item a\n  continued", width: nil) == "one two\n\n- item a\n  continued")
        #expect(TextLayout.wrapLine("short", width: 40) == "short")
        // The REPL wraps its explanations to the width it is given; protocol lines stay whole.
        let core = Fixtures.core(library: Self.library())
        core.width = 30
        let out = core.evaluate("why 5.7.1").text
        #expect(out.split(separator: "\n").allSatisfy { $0.count <= 30 || !$0.contains(" ") }, "\(out)")
    }

    @Test func languageIsRemembered() throws {
        let store = try ProgressStore()
        let core = Fixtures.core(library: Self.library(), store: store)
        _ = core.evaluate("lang fr")
        let next = Fixtures.core(library: Self.library(), store: store)
        #expect(next.language == .en)
        next.useSavedLanguage()
        #expect(next.language == .fr)
    }

    @Test func mailboxSizesUseTheLanguagesUnit() {
        let core = Fixtures.core(library: Self.library())
        let out = Fixtures.run(core, ["send alice@example.com bob@company.org Lunch", "See you", ".", "mailbox bob"])
        #expect(out.contains(" bytes)"))
        #expect(!out.contains(" o)"))
    }
}
