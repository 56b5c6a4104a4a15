import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 14 (capstone): a learner who administers lycee.test publishes its records with `dns` and
/// configures its MTA with `mta`; the receiving MTA's checks are journalled as `checked` facts and
/// `dns:` state goals read the zone live.
@Suite struct AdminCommandsTests {
    static var library: ContentLibrary { Fixtures.course }

    static func world() throws -> TutorWorld {
        let scenario = try #require(library.scenario("capstone-setup"))
        return try SimulatedWorldDriver().makeWorld(scenario: scenario, seed: scenario.seed)
    }

    static func core(_ language: Language = .en) -> ReplCore {
        let core = ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil,
                                                              learner: "t", clock: { Date(timeIntervalSince1970: 0) }),
                            language: language)
        let index = library.lesson("capstone")?.exercises.firstIndex { $0.id == "setup" } ?? 0
        _ = core.openExercise(lesson: "capstone", index: index)
        return core
    }

    @Test func administrationComesFromTheScenario() throws {
        let world = try Self.world()
        #expect(world.administration.zones == ["lycee.test"])
        #expect(world.administration.hosts == ["mail.lycee.test"])
        #expect(world.administration.zone(of: "_dmarc.lycee.test.") == "lycee.test")
        #expect(world.administration.zone(of: "company.org") == nil)
    }

    @Test func dnsAddListRemoveAndTheStateGoal() throws {
        let world = try Self.world()
        let mx = GoalPredicate.dnsRecord(name: "lycee.test", type: .MX, value: "mail.lycee.test", present: true)
        let noMX = GoalPredicate.dnsRecord(name: "lycee.test", type: .MX, value: nil, present: false)
        #expect(GoalEvaluator.holds(noMX, world: world))
        #expect(!GoalEvaluator.holds(mx, world: world))
        _ = try world.change(dns: .add(name: "lycee.test", type: .MX, value: "mail.lycee.test", preference: 10))
        _ = try world.change(dns: .add(name: "lycee.test", type: .MX, value: "mx9.lycee.test", preference: 20))
        #expect(GoalEvaluator.holds(mx, world: world))
        #expect(!GoalEvaluator.holds(noMX, world: world))
        #expect(world.records(zone: "lycee.test").filter { $0.type == .MX }.count == 2)
        _ = try world.change(dns: .remove(name: "lycee.test", type: .MX, value: "mail.lycee.test"))
        #expect(!GoalEvaluator.holds(mx, world: world), "a state goal unticks when the record goes")
        #expect(world.records(zone: "lycee.test").filter { $0.type == .MX }.map(\.value) == ["mx9.lycee.test."])
        #expect(throws: TutorError.self) { try world.change(dns: .add(name: "company.org", type: .MX, value: "evil.test", preference: 1)) }
        #expect(throws: TutorError.self) { try world.change(dns: .add(name: "lycee.test", type: .MX, value: "192.0.2.40", preference: 1)) }
        #expect(throws: TutorError.self) { try world.change(dns: .remove(name: "lycee.test", type: .TXT, value: nil)) }
    }

    @Test func theReplRefusesWhatTheLearnerDoesNotAdminister() {
        let core = Self.core()
        #expect(core.evaluate("mta mail.example.com relay open").text.contains("You do not administer mail.example.com"))
        #expect(core.evaluate("dns add company.org MX 10 x.lycee.test").text.contains("not in your zones"))
        #expect(core.evaluate("mta mail.lycee.test colour blue").text.contains("Unknown setting"))
        let french = Self.core(.fr)
        #expect(french.evaluate("mta mail.example.com relay open").text.contains("Vous n'administrez pas mail.example.com"))
        #expect(french.evaluate("dns").text.contains("Zone lycee.test"))
    }

    /// The whole set-up through the REPL: SPF, DKIM and DMARC pass at company.org only once the
    /// key the MTA prints is published; the `checked` fact says so.
    @Test func publishedKeyMakesDKIMPass() throws {
        let core = Self.core()
        for line in ["dns add lycee.test MX 10 mail.lycee.test", "dns add lycee.test TXT \"v=spf1 mx -all\"",
                     "dns add _dmarc.lycee.test TXT \"v=DMARC1; p=quarantine\""] {
            #expect(core.evaluate(line).text.contains("Published"))
        }
        let signed = core.evaluate("mta mail.lycee.test dkim s1").text
        let record = try #require(signed.range(of: #"s1\._domainkey\.lycee\.test TXT "[^"]+""#, options: .regularExpression).map { String(signed[$0]) })
        func send(_ subject: String) {
            for line in ["send marie@lycee.test bob@company.org \(subject)", "text", ".", "advance 2m"] { _ = core.evaluate(line) }
        }
        send("before")
        #expect(core.evaluate("show bob INBOX 1").text.contains("dkim=permerror"))
        #expect(core.evaluate("dns add \(record)").text.contains("Published"))
        send("after")
        let shown = core.evaluate("show bob INBOX 2").text
        #expect(shown.contains("dkim=pass") && shown.contains("spf=pass") && shown.contains("dmarc=pass"), "\(shown)")
        #expect(shown.contains("s=s1"))
    }

    @Test func checkedFactCarriesTheResults() throws {
        let world = try Self.world()
        _ = try world.change(dns: .add(name: "lycee.test", type: .TXT, value: "v=spf1 ip4:192.0.2.40 -all", preference: nil))
        _ = try world.perform(.send(SendAction(device: nil, from: "marie@lycee.test", to: ["bob@company.org"], subject: "x", body: "x")))
        _ = try world.perform(.advance(seconds: 120))
        let views = world.facts(since: 0).map { FactView($0, earlier: []) }.filter { $0.kind == "checked" }
        let view = try #require(views.first)
        #expect(view.fields["spf"] == .one("pass"))
        #expect(view.fields["dkim"] == .many(["none"]))
        #expect(view.fields["dmarc"] == .one("none"))
        #expect(view.fields["from-domain"] == .one("lycee.test"))
        let pattern = FactPattern(kind: "checked", constraints: [FactConstraint(key: "spf", values: ["pass"]), FactConstraint(key: "dkim", values: ["pass"])])
        #expect(!view.matches(pattern, learnerHosts: []))
    }
}

/// Issue 14: a lesson ends with a summary and a score (hints cost points).
@Suite struct LessonSummaryTests {
    @Test func pointsRule() {
        #expect(ReplCore.points(status: "completed", hints: 0) == 10)
        #expect(ReplCore.points(status: "completed", hints: 2) == 6)
        #expect(ReplCore.points(status: "completed", hints: 9) == 4)
        #expect(ReplCore.points(status: "skipped", hints: 0) == 0)
        #expect(ReplCore.points(status: nil, hints: 0) == 0)
    }

    /// Issue 15: `progress` lists the lessons in course order, as `maillab lessons` does.
    @Test func progressTableInCourseOrder() {
        let library = AdminCommandsTests.library
        let table = ProgressTable.render([], library: library, language: .en)
        let ids = table.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) }
        #expect(ids == library.lessonIndex.map(\.id))
        #expect(ids.first == "architecture" && ids.last == "capstone", "\(ids)")
    }

    @Test func summaryAtTheEndOfALesson() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("maillab-summary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ProgressStore(path: dir.appendingPathComponent("p.sqlite").path)
        let library = AdminCommandsTests.library
        let lesson = try #require(library.lesson("capstone"))
        let core = ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: store,
                                                              learner: "t", clock: { Date(timeIntervalSince1970: 0) }),
                            language: .en)
        var out = core.evaluate("lesson capstone").text
        for _ in 0..<(2 * (lesson.sections.count + lesson.exercises.count) + 2) {
            if out.contains("Lesson complete") { break }
            out = core.evaluate(out.contains("Exercise ") ? "skip" : "next").text
        }
        #expect(out.contains("Lesson complete"), "\(out)")
        #expect(out.contains("Summary: 0/\(lesson.exercises.count) exercises done"), "\(out)")
        #expect(out.contains("Score: 0/\(lesson.exercises.count * 10)"), "\(out)")
    }
}
