import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// `maillab check`: broken files give `file:line: message`.
@Suite struct CheckTests {
    static let scenarioHead = """
    id: s1
    title: {fr: T, en: T}
    world:
      hosts:
        - {name: a.test, address: 192.0.2.1, services: [smtp]}
      users:
        - {address: u@a.test, password: p, host: a.test}

    """

    static let lessonHead = """
    id: l1
    title: {fr: T, en: T}
    covers: [smtp.basics]

    """

    @Test(arguments: [
        // YAML syntax
        ("id: x\ntitle: [unclosed\n", "f.yaml:3: invalid YAML"),
        // unknown key, with its own line
        (scenarioHead + "steps:\n  - narrate: {fr: a, en: b}\n  - advance: 5m\n    colour: red\n",
         "f.yaml:11: step: unknown key 'colour'"),
        // missing translation
        (scenarioHead + "steps:\n  - narrate: {fr: Bonjour}\n", "f.yaml:9: narrate: missing English translation (en)"),
        // unknown host in a fault
        (scenarioHead + "steps:\n  - down: b.test\n", "f.yaml:9: unknown host 'b.test'"),
        // unknown host in a goal
        (scenarioHead + "steps:\n  - expect:\n      - {queue-empty: {host: nope.test}}\n", "f.yaml:10: goal 'queue-empty-1': unknown host 'nope.test'"),
        // unknown goal predicate
        (scenarioHead + "steps:\n  - expect:\n      - {teleported: true}\n", "f.yaml:10: goal: unknown key 'teleported'"),
        // two actions in a step
        (scenarioHead + "steps:\n  - {down: a.test, up: a.test}\n", "f.yaml:9: step: exactly one action per step"),
        // bad duration
        (scenarioHead + "steps:\n  - advance: soon\n", "f.yaml:9: advance: invalid duration 'soon'"),
        // bad IPv4 address
        ("id: s\ntitle: {fr: T, en: T}\nworld:\n  hosts:\n    - {name: a, address: 300.1.1.1}\nsteps: []\n",
         "f.yaml:5: invalid IPv4 address '300.1.1.1'"),
        // MX to an unknown host
        ("id: s\ntitle: {fr: T, en: T}\nworld:\n  hosts: []\n  dns:\n    - {name: x.test, type: MX, preference: 10, value: mx.test}\nsteps: []\n",
         "f.yaml:6: MX of x.test: unknown host 'mx.test'"),
        // duplicate key, nested
        (scenarioHead + "steps:\n  - narrate:\n      fr: a\n      en: b\n      fr: c\n", "f.yaml:12: duplicate key 'fr'"),
        // duplicate key
        ("id: s\nid: t\ntitle: {fr: T, en: T}\ncovers: []\n", "f.yaml:2: duplicate key 'id'"),
        // lesson naming a missing scenario
        (lessonHead + "exercises:\n  - id: e\n    scenario: ghost\n    task:\n      id: t\n      fr: a\n      en: b\n      goals:\n        - {id: g, fr: a, en: b, rcpt-accepted: {to: u@a.test}}\n",
         "f.yaml:5: exercise 'e': unknown scenario 'ghost'"),
        // the removed text predicates are unknown keys now (goals read facts, not replies)
        (scenarioHead + "steps:\n  - expect:\n      - {reply: '250'}\n", "f.yaml:10: goal: unknown key 'reply'"),
        // a field the fact kind does not have
        (scenarioHead + "steps:\n  - expect:\n      - {auth: {mechanism: PLAIN, colour: red}}\n", "f.yaml:10: auth: unknown key 'colour'"),
        // a solution that is not machine-readable
        (scenarioHead + "steps:\n  - task:\n      id: t\n      fr: a\n      en: b\n      goals:\n        - {id: g, fr: a, en: b, tls: true}\n      solution: {fr: a, en: b}\n",
         "f.yaml:15: solution: the list of lines a learner types"),
        // unknown syllabus id
        ("id: l\ntitle: {fr: T, en: T}\ncovers: [smtp.teleport]\n", "f.yaml:1: unknown syllabus id 'smtp.teleport'"),
        // question: unknown kind
        (lessonHead + "quiz:\n  - {id: q, kind: essay, question: {fr: a, en: b}, explanation: {fr: a, en: b}}\n",
         "f.yaml:5: kind: unknown value 'essay'"),
        // question: answer out of range
        (lessonHead + "quiz:\n  - id: q\n    kind: single\n    question: {fr: a, en: b}\n    choices: [{fr: a, en: a}, {fr: b, en: b}]\n    answer: 3\n    explanation: {fr: a, en: b}\n",
         "f.yaml:9: answer 3: there are only 2 choices"),
        // question: key that does not apply
        (lessonHead + "quiz:\n  - id: q\n    kind: numeric\n    question: {fr: a, en: b}\n    answer: 25\n    items: [a, b]\n    explanation: {fr: a, en: b}\n",
         "f.yaml:9: numeric question: 'items' does not apply"),
        // duplicate question id
        (lessonHead + "quiz:\n  - {id: q, kind: numeric, question: {fr: a, en: b}, answer: 1, explanation: {fr: a, en: b}}\n  - {id: q, kind: numeric, question: {fr: a, en: b}, answer: 2, explanation: {fr: a, en: b}}\n",
         "f.yaml:6: duplicate question id 'q'"),
        // task goal without its learner text
        (scenarioHead + "steps:\n  - task:\n      id: t\n      fr: a\n      en: b\n      goals:\n        - {id: g, tls: true}\n",
         "f.yaml:14: goal: missing French translation (fr)"),
        // a missing required key
        ("id: l\ncovers: []\n", "f.yaml:1: lesson: missing key 'title'"),
        // bad id
        ("id: Bad Id\ntitle: {fr: T, en: T}\ncovers: []\n", "f.yaml:1: id 'Bad Id': only lower-case letters"),
    ])
    func brokenFileGivesLineAndMessage(text: String, expected: String) {
        var library = ContentLibrary()
        library.add(text: text, file: "f.yaml")
        library.diagnostics += library.crossReferenceDiagnostics()
        let rendered = library.diagnostics.map(\.description)
        #expect(rendered.contains { $0.hasPrefix(expected) }, "got: \(rendered)")
    }

    @Test func diagnosticsAreBilingual() {
        var library = ContentLibrary()
        library.add(text: Self.scenarioHead + "steps:\n  - down: b.test\n", file: "f.yaml")
        library.diagnostics += library.crossReferenceDiagnostics()
        #expect(library.diagnostics.first?.render(.fr) == "f.yaml:9: hôte inconnu « b.test »")
    }

    @Test func validFilesHaveNoDiagnostics() {
        var library = ContentLibrary()
        library.add(text: Self.scenarioHead + "steps:\n  - down: a.test\n  - advance: 1h\n  - up: a.test\n  - expect: {queue-empty: true}\n", file: "s.yaml")
        library.add(text: Self.lessonHead + "sections:\n  - {id: s, title: {fr: a, en: b}, text: {fr: a, en: b}}\n", file: "l.yaml")
        library.diagnostics += library.crossReferenceDiagnostics()
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        #expect(library.scenario("s1")?.steps.count == 4)
    }

    /// The course shipped in Lessons/ and Scenarios/ validates, and so do the test fixtures.
    @Test func shippedSamplesValidate() {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = ContentLibrary.load(paths: [repository.appendingPathComponent("Lessons").path, repository.appendingPathComponent("Scenarios").path])
        #expect(shipped.diagnostics.isEmpty, "\(shipped.diagnostics)")
        #expect(shipped.lessons.count >= 8)
        #expect(shipped.scenarios.count >= 11)
        let root = repository.appendingPathComponent("Tests/Fixtures/content")
        let library = ContentLibrary.load(paths: [root.appendingPathComponent("Lessons").path, root.appendingPathComponent("Scenarios").path])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        #expect(library.lessons.map(\.id) == ["smtp-submission"])
        #expect(library.scenarios.map(\.id) == ["mx-failover"])
        #expect(library.lessons.first?.quiz.map(\.kindName) == ["numeric", "single", "multiple", "short", "ordering", "predict"])
    }

    @Test func coverageCountsSectionsExercisesAndQuestions() {
        let library = Fixtures.library([("Lessons/submit.yaml", Fixtures.lesson)])
        let report = CoverageReport(library: library)
        let session = report.entries.first { $0.topic.id == "smtp.session" }
        #expect(session?.exercises == ["submit-lesson/submit"])
        #expect(session?.questions == ["submit-lesson/port", "submit-lesson/reply"])
        #expect(session?.isComplete == false)
        #expect(!report.isComplete)
        #expect(report.render(.en).contains("Uncovered (40):"))
    }
}

@Suite struct DefaultWorldTests {
    @Test func defaultWorldMatchesTheDesign() {
        let spec = CourseWorldSpec.spec
        #expect(DefaultWorld.hostNames == ["mail.example.com", "mail1.company.org", "mail2.company.org", "mail-backup.example.net"])
        #expect(spec.hosts.map(\.address) == ["198.51.100.25", "203.0.113.10", "203.0.113.11", "198.51.100.50"])
        let mx = spec.dns.filter { $0.name == "company.org" && $0.type == .MX }.map { "\($0.preference ?? 0) \($0.value)" }
        #expect(mx == ["10 mail1.company.org", "20 mail2.company.org", "30 mail-backup.example.net"])
        #expect(spec.user("alice")?.password == "mypassword")
        #expect(spec.user("bob@company.org")?.host == "mail1.company.org")
        #expect(spec.host(named: "mail.example.com")?.service(port: 465)?.tls == .implicit)
        // What the tutor checks lessons against (MailTutor, from MailCore's table) is the running
        // world's description (MailLabWorld, from the simulation).
        #expect(DefaultWorld.hostNames == spec.hosts.map(\.name))
        #expect(DefaultWorld.users == spec.users.flatMap { [$0.address, $0.login] })
    }
}
