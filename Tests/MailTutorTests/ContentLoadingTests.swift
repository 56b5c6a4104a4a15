import Foundation
import Testing
@testable import MailTutor

/// `ContentLibrary.index` (heads only, one file parsed when asked) gives what `load` gives, and
/// `ContentLocation` looks where DESIGN.md says, in that order.
@Suite struct ContentLoadingTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var shipped: [String] { ["Lessons", "Scenarios"].map { repository.appendingPathComponent($0).path } }

    static func tempDir() throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("maillab-content-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, _ path: URL) throws {
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: path, atomically: true, encoding: .utf8)
    }

    static var fixtures: [String] {
        ["Lessons", "Scenarios"].map { repository.appendingPathComponent("Tests/Fixtures/content/" + $0).path }
    }

    /// On the fixtures, which validate: the index lists exactly what a full load parses, and
    /// asking for one gives the same lesson or scenario.
    @Test func indexListsWhatAFullLoadParses() {
        let full = ContentLibrary.load(paths: Self.fixtures)
        let index = ContentLibrary.index(paths: Self.fixtures)
        #expect(full.diagnostics.isEmpty, "\(full.diagnostics)")
        #expect(index.lessonIndex.map(\.id) == full.lessons.map(\.id))
        #expect(index.lessonIndex.map(\.title) == full.lessons.map(\.title))
        #expect(index.scenarioIndex.map(\.id) == full.scenarios.map(\.id))
        #expect(index.scenarioIndex.map(\.title) == full.scenarios.map(\.title))
        #expect(index.lessonIndex.map(\.file) == full.lessons.map(\.location.file))
        // The index of an eager library is derived from what it parsed.
        #expect(full.lessonIndex.map(\.id) == full.lessons.map(\.id))
        for entry in full.scenarioIndex { #expect(index.scenario(entry.id) == full.scenario(entry.id)) }
        for entry in full.lessonIndex { #expect(index.lesson(entry.id) == full.lesson(entry.id)) }
        #expect(index.diagnostics.isEmpty, "\(index.diagnostics)")
        #expect(index.lesson("no-such-lesson") == nil)
        #expect(index.scenario("no-such-scenario") == nil)
        // Reading every lesson parses everything, as `load` does.
        #expect(index.lessons == full.lessons)
        #expect(index.scenarios == full.scenarios)
    }

    /// On the shipped course: every lesson and scenario a full load accepts is in the index with
    /// the same id, title and file, and asking for it alone gives the same one; a file the full
    /// load refuses is refused alone too, with the same problems.
    @Test func theShippedCourseLoadsTheSameEitherWay() {
        let full = ContentLibrary.load(paths: Self.shipped)
        let index = ContentLibrary.index(paths: Self.shipped)
        #expect(index.lessonIndex.count >= 8)
        #expect(index.scenarioIndex.count >= 11)
        for lesson in full.lessons {
            #expect(index.lessonIndex.contains(ContentEntry(kind: .lesson, id: lesson.id, title: lesson.title, file: lesson.location.file)))
            #expect(index.lesson(lesson.id) == lesson, "\(lesson.id)")
        }
        for scenario in full.scenarios {
            #expect(index.scenarioIndex.contains(ContentEntry(kind: .scenario, id: scenario.id, title: scenario.title,
                                                              file: scenario.location.file)))
            #expect(index.scenario(scenario.id) == scenario, "\(scenario.id)")
        }
        for entry in index.scenarioIndex where full.scenario(entry.id) == nil {
            #expect(index.scenario(entry.id) == nil)
            let problems = { (library: ContentLibrary) in library.diagnostics.filter { $0.file == entry.file }.map(\.description) }
            #expect(problems(index) == problems(full), "\(entry.file)")
        }
        for entry in index.lessonIndex where full.lesson(entry.id) == nil {
            #expect(index.lesson(entry.id) == nil)
        }
    }

    /// A file whose body is wrong is listed (its head is fine), and its problems, with file:line,
    /// appear when it is asked for; a file whose head is wrong is parsed whole at once.
    @Test func problemsAppearWithFileAndLineWhenTheFileIsParsed() throws {
        let dir = try Self.tempDir()
        let lessons = dir.appendingPathComponent("Lessons")
        try Self.write("id: good\ntitle: {fr: Bon, en: Good}\ncovers: [smtp.basics]\n", lessons.appendingPathComponent("a.yaml"))
        try Self.write("id: body\ntitle: {fr: Corps, en: Body}\ncovers: [smtp.basics]\nsections:\n  - id: s\n    id: t\n",
                       lessons.appendingPathComponent("b.yaml"))
        try Self.write("id: head\ntitle: {fr: Tête}\ncovers: [smtp.basics]\n", lessons.appendingPathComponent("c.yaml"))
        let library = ContentLibrary.index(paths: [lessons.path])
        #expect(library.lessonIndex.map(\.id) == ["good", "body"])
        let headProblem = lessons.appendingPathComponent("c.yaml").path + ":2: title: missing English translation (en)"
        #expect(library.diagnostics.map(\.description) == [headProblem])
        #expect(library.lesson("body") == nil)
        #expect(library.diagnostics.map(\.description)
                == [lessons.appendingPathComponent("b.yaml").path + ":6: duplicate key 'id'", headProblem])
        #expect(library.lesson("good")?.covers == ["smtp.basics"])
        // The full load reports the same problems.
        #expect(ContentLibrary.load(paths: [lessons.path]).diagnostics == library.diagnostics)
    }

    /// A scenario's own references (hosts, users, devices) are checked when it is parsed alone.
    @Test func aScenarioParsedAloneHasItsReferencesChecked() throws {
        let dir = try Self.tempDir()
        let scenarios = dir.appendingPathComponent("Scenarios")
        try Self.write("""
            id: s
            title: {fr: S, en: S}
            world:
              hosts:
                - {name: a.test, address: 192.0.2.1, services: [smtp]}
            steps:
              - down: b.test

            """, scenarios.appendingPathComponent("s.yaml"))
        let library = ContentLibrary.index(paths: [scenarios.path])
        #expect(library.scenarioIndex.map(\.id) == ["s"])
        #expect(library.diagnostics.isEmpty)
        _ = library.scenario("s")
        #expect(library.diagnostics.map(\.description) == ContentLibrary.load(paths: [scenarios.path]).diagnostics.map(\.description))
        #expect(library.diagnostics.contains { $0.description.hasSuffix(":7: unknown host 'b.test'") }, "\(library.diagnostics)")
    }

    @Test func headStopsAtTheFirstKeyAfterIdAndTitle() {
        let text = "# comment\nid: x\ntitle:\n  fr: Un\n  en: One\ncovers: [a]\nworld: {}\n"
        let entry = ContentLibrary.Head.entry(text: text, file: "f.yaml")
        #expect(entry == ContentEntry(kind: .scenario, id: "x", title: LocalizedText(fr: "Un", en: "One"), file: "f.yaml"))
        #expect(ContentLibrary.Head.entry(text: "title: {fr: a, en: b}\ncovers: []\n", file: "f.yaml") == nil)
        // A broken body does not matter to the head; a broken head gives nil (the file is then parsed whole).
        #expect(ContentLibrary.Head.entry(text: "id: x\ntitle: {fr: a, en: b}\nsections: [\n", file: "f.yaml")?.id == "x")
        #expect(ContentLibrary.Head.entry(text: "id: [x\ntitle: {fr: a, en: b}\n", file: "f.yaml") == nil)
    }

    @Test func mutatingAnIndexedLibraryParsesItFirst() {
        var library = ContentLibrary.index(paths: Self.fixtures)
        let copy = library
        library.add(text: "id: extra\ntitle: {fr: E, en: E}\ncovers: [smtp.basics]\n", file: "extra.yaml")
        #expect(library.lessonIndex.last?.id == "extra")
        #expect(library.lessons.count == copy.lessons.count + 1)
        #expect(copy.lesson("extra") == nil)
    }

    // MARK: Location

    @Test func besideTheProgramComesFirstThenTheEnvironmentThenTheRepository() throws {
        let dir = try Self.tempDir()
        let program = dir.appendingPathComponent("prefix/bin/maillab").path
        let share = dir.appendingPathComponent("prefix/share/maillab")
        let explicit = dir.appendingPathComponent("explicit")
        let repo = dir.appendingPathComponent("repo")
        try Self.write("", repo.appendingPathComponent("Package.swift"))
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("Lessons/inner"), withIntermediateDirectories: true)
        let inner = repo.appendingPathComponent("Lessons/inner").path

        // Nothing anywhere (the walk from the temporary folder finds no repository).
        var found = ContentLocation.locate(environment: [:], executablePath: program, currentDirectory: dir.path)
        #expect(found.base == nil)
        #expect(found.looked.map(\.origin) == [.besideProgram, .environment, .repository, .repository])
        let message = found.notFoundMessage(.en)
        #expect(message.contains(share.path + " (beside the program \(program)): not there"))
        #expect(message.contains("MAILLAB_CONTENT: not set"))
        #expect(message.contains("at or above \(dir.path): none"))
        #expect(message.contains("To fix it: "))
        #expect(found.notFoundMessage(.fr).contains("MAILLAB_CONTENT : non défini"))

        // The repository, from the current directory.
        found = ContentLocation.locate(environment: [:], executablePath: program, currentDirectory: inner)
        #expect(found.origin == .repository)
        #expect(found.base == repo.path)
        #expect(found.folders == [repo.appendingPathComponent("Lessons").path])

        // MAILLAB_CONTENT before the repository; a folder without content is said so.
        let environment = ["MAILLAB_CONTENT": explicit.path]
        found = ContentLocation.locate(environment: environment, executablePath: program, currentDirectory: dir.path)
        #expect(found.base == nil)
        #expect(found.notFoundMessage(.en).contains("MAILLAB_CONTENT=\(explicit.path): no Lessons/ or Scenarios/ in that folder"))
        try FileManager.default.createDirectory(at: explicit.appendingPathComponent("Scenarios"), withIntermediateDirectories: true)
        found = ContentLocation.locate(environment: environment, executablePath: program, currentDirectory: inner)
        #expect(found.origin == .environment)
        #expect(found.base == explicit.path)

        // Beside the program before everything else.
        try FileManager.default.createDirectory(at: share.appendingPathComponent("Lessons"), withIntermediateDirectories: true)
        found = ContentLocation.locate(environment: environment, executablePath: program, currentDirectory: inner)
        #expect(found.origin == .besideProgram)
        #expect(found.base == share.path)
    }
}
