import Foundation
import MailCore
import Yams

/// The course's default world (DESIGN.md), used by the sandbox and by exercises that name no
/// scenario: what lessons are checked against, its server names and its users' addresses and
/// logins, read from its one definition (`CourseWorld`, in MailCore). MailLabWorld builds and
/// describes the running world from the same table (`CourseWorldSpec.spec`).
public enum DefaultWorld {
    public static let hostNames = CourseWorld.servers.map(\.name)
    public static let users = CourseWorld.users.flatMap { [$0.address, $0.login] }
}

/// One lesson or scenario as the index knows it: what listing it needs, and its file.
public struct ContentEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case lesson, scenario }
    public var kind: Kind
    public var id: String
    public var title: LocalizedText
    public var file: String
}

/// All lessons and scenarios found under some paths, with the problems found while reading them.
///
/// Two ways to get one (DESIGN.md, "Content loading"):
/// - `load(paths:reference:)` parses every file and checks the references between them (`check`,
///   tests);
/// - `index(paths:)` reads each file but composes only its head (the top-level `id:` and `title:`),
///   which is all `lessonIndex`/`scenarioIndex` need; `lesson(_:)`/`scenario(_:)` parse that one
///   file the first time they are asked (and check its references). Reading `lessons` or
///   `scenarios`, or changing such a library, parses everything, exactly as `load` does.
public struct ContentLibrary: Sendable {
    private var storage: Storage

    public init() { storage = Storage(eager: Eager()) }

    private init(storage: Storage) { self.storage = storage }

    public var lessons: [Lesson] {
        get { storage.materialized().lessons }
        set { mutate { $0.lessons = newValue } }
    }

    public var scenarios: [Scenario] {
        get { storage.materialized().scenarios }
        set { mutate { $0.scenarios = newValue } }
    }

    /// The problems found so far: every file's for `load`; for `index`, the files whose head could
    /// not be read and the lessons and scenarios parsed since.
    public var diagnostics: [Diagnostic] {
        get { storage.currentDiagnostics() }
        set { mutate { $0.diagnostics = newValue } }
    }

    /// Every lesson's id and title, in file order, without parsing the lessons.
    public var lessonIndex: [ContentEntry] { storage.entries(.lesson) }
    /// Every scenario's id and title, in file order, without parsing the scenarios.
    public var scenarioIndex: [ContentEntry] { storage.entries(.scenario) }

    /// The seed learners' variants are drawn from (`vars:`, see `Variants`): the learner's name in
    /// the REPL; empty (every variable's first value) for `check` and tests unless they set it.
    nonisolated(unsafe) public static var variantSeed = ""

    public func lesson(_ id: String) -> Lesson? { storage.lesson(id) }
    public func scenario(_ id: String) -> Scenario? { storage.scenario(id) }

    private mutating func mutate(_ body: (inout Eager) -> Void) {
        if !isKnownUniquelyReferenced(&storage) || !storage.isEager {
            storage = Storage(eager: storage.materialized())
        }
        storage.modify(body)
    }

    /// Parses one file's text and adds what it defines.
    public mutating func add(text: String, file: String) {
        mutate { $0.add(text: text, file: file) }
    }

    /// Loads `.yaml`/`.yml` files from files or folders (folders are read in name order). A file
    /// whose top level has `world` or `steps` is a scenario; any other is a lesson.
    ///
    /// Files under `reference` are read too, so that cross-references resolve, but only the
    /// problems of files under `paths` are reported.
    public static func load(paths: [String], reference: [String] = []) -> ContentLibrary {
        let (files, reported, listing) = read(paths: paths, reference: reference)
        return ContentLibrary(storage: Storage(eager: Eager.parse(files, reported: reported, listing: listing)))
    }

    /// Reads the files under `paths` (as `load` does) but parses a lesson or a scenario only when
    /// it is asked for; listing them composes only each file's head.
    ///
    /// With `cache` (a file in the data directory), the entries of the files whose bytes it has
    /// seen come from it (``IndexCache``: keyed by a digest of each file's bytes), without decoding
    /// or composing those files; the others are read as without a cache and the cache is updated.
    public static func index(paths: [String], cache cachePath: String? = nil) -> ContentLibrary {
        var (files, _, listing) = read(paths: paths, reference: [], decode: cachePath == nil)
        let cache = cachePath.map { IndexCache(path: $0) }
        var entries: [ContentEntry] = []
        var parsed: [String: Eager] = [:]
        for index in files.indices {
            var key: IndexCache.Key?
            if let cache, let data = files[index].data {
                let digest = IndexCache.digest(data)
                key = digest
                if let entry = cache.entry(digest, file: files[index].path) {
                    entries.append(entry)
                    continue
                }
                // Not seen: decoded now, with the problem `read` reports without a cache.
                guard let text = String(validating: data, as: UTF8.self) else {
                    listing.append(Diagnostic(file: files[index].path, line: 1, message: notUTF8))
                    continue
                }
                files[index].text = text
                files[index].data = nil
            }
            let file = files[index]
            guard let text = file.text else { continue }
            if let entry = Head.entry(text: text, file: file.path) {
                entries.append(entry)
                if let key { cache?.store(key, entry) }
                continue
            }
            // No readable head: parse the whole file, for its entry or its diagnostics.
            var one = Eager()
            one.add(text: text, file: file.path)
            for lesson in one.lessons {
                entries.append(ContentEntry(kind: .lesson, id: lesson.id, title: lesson.title, file: file.path))
            }
            for scenario in one.scenarios {
                entries.append(ContentEntry(kind: .scenario, id: scenario.id, title: scenario.title, file: file.path))
            }
            parsed[file.path] = one
        }
        cache?.save()
        return ContentLibrary(storage: Storage(files: files, entries: entries, diagnostics: listing, parsed: parsed))
    }

    /// One file found under the paths: its text, or its bytes not yet decoded (nil both when it
    /// could not be read).
    fileprivate struct File {
        var path: String
        var text: String?
        var data: Data?

        /// The text, decoded now if it was not (nil when the bytes are not UTF-8).
        var contents: String? { text ?? data.flatMap { String(validating: $0, as: UTF8.self) } }
    }

    private static let notUTF8 = LocalizedText(fr: "le fichier n'est pas en UTF-8", en: "the file is not UTF-8")

    /// The files under the paths, which of them are reported, and the problems met listing and
    /// reading them (missing path, unreadable file, not UTF-8). With `decode` false the bytes are
    /// kept as they are and not checked (the caller decodes them).
    private static func read(paths: [String], reference: [String], decode: Bool = true) -> ([File], Set<String>, [Diagnostic]) {
        let fm = FileManager.default
        var files: [File] = []
        var reported = Set<String>()
        var seen = Set<String>()
        var diagnostics: [Diagnostic] = []
        for (index, path) in (paths + reference).enumerated() {
            let isReported = index < paths.count
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                if !isReported { continue }
                diagnostics.append(Diagnostic(file: path, line: 0, message: LocalizedText(
                    fr: "fichier ou dossier introuvable", en: "no such file or folder")))
                continue
            }
            var found: [String] = []
            if isDirectory.boolValue {
                let names = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
                found = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                found = [path]
            }
            for file in found {
                let key = canonicalPath(file)
                guard seen.insert(key).inserted else { continue }
                var entry = File(path: file, text: nil)
                if let data = fm.contents(atPath: file) {
                    if !decode {
                        entry.data = data
                    } else if let text = String(validating: data, as: UTF8.self) {
                        entry.text = text
                    } else if isReported {
                        diagnostics.append(Diagnostic(file: file, line: 1, message: notUTF8))
                    }
                } else if isReported {
                    diagnostics.append(Diagnostic(file: file, line: 0, message: LocalizedText(
                        fr: "lecture impossible", en: "cannot read the file")))
                }
                files.append(entry)
                if isReported { reported.insert(file) }
            }
        }
        return (files, reported, diagnostics)
    }

    /// The path with symbolic links, `.` and `..` resolved (`realpath`), to find a file named
    /// twice; the path as given when it cannot be resolved.
    private static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What a fully parsed library holds.
    fileprivate struct Eager {
        var lessons: [Lesson] = []
        var scenarios: [Scenario] = []
        var diagnostics: [Diagnostic] = []

        var library: ContentLibrary { ContentLibrary(storage: Storage(eager: self)) }

        mutating func add(text: String, file: String) {
            // Variants per learner: `{{name}}` gets this learner's values before parsing.
            let variant = Variants.expand(text, seed: ContentLibrary.variantSeed, file: file)
            diagnostics += variant.errors
            let text = variant.text
            let reader = NodeReader(file: file)
            guard let root = reader.compose(text) else {
                diagnostics += reader.diagnostics
                return
            }
            let keys = root.mapping?.keys.compactMap { $0.scalar?.string } ?? []
            if keys.contains("world") || keys.contains("steps") {
                if let scenario = ScenarioParser.parse(root, reader: reader), reader.diagnostics.isEmpty { scenarios.append(scenario) }
            } else {
                if let lesson = LessonParser.parse(root, reader: reader), reader.diagnostics.isEmpty { lessons.append(lesson) }
            }
            diagnostics += reader.diagnostics
        }

        /// Parses every file, checks references, keeps the reported files' problems, sorted.
        static func parse(_ files: [File], reported: Set<String>, listing: [Diagnostic]) -> Eager {
            var eager = Eager()
            eager.diagnostics = listing
            for file in files {
                guard let text = file.contents else { continue }
                eager.add(text: text, file: file.path)
            }
            eager.diagnostics += eager.library.crossReferenceDiagnostics()
            let paths = Set(files.map(\.path))
            eager.diagnostics = eager.diagnostics.filter { reported.contains($0.file) || !paths.contains($0.file) }
            eager.diagnostics.sort { ($0.file, $0.line) < ($1.file, $1.line) }
            return eager
        }
    }

    /// The shared state behind a library: either everything parsed (`eager`), or the files, the
    /// index of their heads and the lessons and scenarios parsed so far. Guarded by a lock, as
    /// parsing on demand changes it behind a value that may be shared between threads.
    private final class Storage: @unchecked Sendable {
        private let lock = NSRecursiveLock()
        private var eager: Eager?
        private let files: [File]
        private let index: [ContentEntry]
        /// Problems met listing and reading the files (missing folder, unreadable, not UTF-8).
        private let indexDiagnostics: [Diagnostic]
        /// Per file parsed on demand: what it defines and its own problems (references included).
        private var parsed: [String: Eager]

        init(eager: Eager) {
            self.eager = eager
            files = []
            index = []
            indexDiagnostics = []
            parsed = [:]
        }

        init(files: [File], entries: [ContentEntry], diagnostics: [Diagnostic], parsed: [String: Eager]) {
            eager = nil
            self.files = files
            index = entries
            indexDiagnostics = diagnostics
            self.parsed = parsed
        }

        var isEager: Bool { lock.withLock { eager != nil } }

        func modify(_ body: (inout Eager) -> Void) {
            lock.withLock {
                var value = eager ?? Eager()
                eager = nil
                body(&value)
                eager = value
            }
        }

        func materialized() -> Eager {
            lock.withLock {
                if let eager { return eager }
                let value = Eager.parse(files, reported: Set(files.map(\.path)), listing: indexDiagnostics)
                eager = value
                return value
            }
        }

        func currentDiagnostics() -> [Diagnostic] {
            lock.withLock {
                if let eager { return eager.diagnostics }
                var all = indexDiagnostics
                for file in files { all += parsed[file.path]?.diagnostics ?? [] }
                return all.sorted { ($0.file, $0.line) < ($1.file, $1.line) }
            }
        }

        func entries(_ kind: ContentEntry.Kind) -> [ContentEntry] {
            lock.withLock {
                if let eager {
                    switch kind {
                    case .lesson:
                        return eager.lessons.map { ContentEntry(kind: .lesson, id: $0.id, title: $0.title, file: $0.location.file) }
                    case .scenario:
                        return eager.scenarios.map { ContentEntry(kind: .scenario, id: $0.id, title: $0.title, file: $0.location.file) }
                    }
                }
                return index.filter { $0.kind == kind }
            }
        }

        func lesson(_ id: String) -> Lesson? {
            lock.withLock {
                if let eager { return eager.lessons.first { $0.id == id } }
                guard let entry = index.first(where: { $0.kind == .lesson && $0.id == id }) else { return nil }
                return parse(entry.file)?.lessons.first { $0.id == id }
            }
        }

        func scenario(_ id: String) -> Scenario? {
            lock.withLock {
                if let eager { return eager.scenarios.first { $0.id == id } }
                guard let entry = index.first(where: { $0.kind == .scenario && $0.id == id }) else { return nil }
                return parse(entry.file)?.scenarios.first { $0.id == id }
            }
        }

        /// Parses one file the first time, with the reference checks its lessons and scenarios
        /// need (a lesson's exercises and questions name scenarios: those are parsed too).
        private func parse(_ path: String) -> Eager? {
            if let done = parsed[path] { return done }
            guard let text = files.first(where: { $0.path == path })?.contents else { return nil }
            var one = Eager()
            one.add(text: text, file: path)
            parsed[path] = one  // before the references: a lesson naming its own file's scenario
            var context = one
            for lesson in one.lessons {
                let named = lesson.exercises.compactMap(\.scenario) + lesson.quiz.compactMap { question -> String? in
                    if case let .predict(scenario, _, _) = question.kind { return scenario }
                    return nil
                }
                for id in Set(named).sorted() where !context.scenarios.contains(where: { $0.id == id }) {
                    if let scenario = scenario(id) { context.scenarios.append(scenario) }
                }
            }
            one.diagnostics += context.library.crossReferenceDiagnostics().filter { $0.file == path }
            one.diagnostics.sort { ($0.file, $0.line) < ($1.file, $1.line) }
            parsed[path] = one
            return one
        }
    }

    /// The head of a content file: its top-level lines up to the first key after both `id:` and
    /// `title:` (content files start with them), composed alone. Any doubt (no such lines, a YAML
    /// error, a missing translation) gives nil, and the caller parses the whole file instead.
    enum Head {
        static func entry(text: String, file: String) -> ContentEntry? {
            var text = text
            // One pass over the bytes (lines found with memchr): the kind, and where the head ends.
            let (isScenario, cut, seenBoth) = text.withUTF8 { bytes -> (Bool, Int?, Bool) in
                var isScenario = false
                var cut: Int?
                var seenID = false, seenTitle = false
                guard let base = bytes.baseAddress else { return (false, nil, false) }
                var lineStart = 0
                while lineStart < bytes.count {
                    if let key = topLevelKey(bytes, at: lineStart) {
                        let name = bytes[key]
                        if name.elementsEqual("world".utf8) || name.elementsEqual("steps".utf8) { isScenario = true }
                        if cut == nil {
                            if name.elementsEqual("id".utf8) {
                                seenID = true
                            } else if name.elementsEqual("title".utf8) {
                                seenTitle = true
                            } else if seenID && seenTitle {
                                cut = lineStart
                            }
                        }
                    }
                    guard let newline = memchr(base + lineStart, 0x0A, bytes.count - lineStart) else { break }
                    lineStart = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                }
                return (isScenario, cut, seenID && seenTitle)
            }
            guard seenBoth else { return nil }
            let head = cut.map { cut in text.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[..<cut]), as: UTF8.self) } } ?? text
            let reader = NodeReader(file: file)
            guard let root = reader.compose(head), case let .mapping(mapping) = root else { return nil }
            var idNode: Node?, titleNode: Node?
            for (key, value) in mapping {
                switch key.scalar?.string {
                case "id": idNode = value
                case "title": titleNode = value
                default: break
                }
            }
            guard let idNode, let titleNode, let id = ContentID.read(idNode, what: "id", reader: reader),
                  let title = reader.text(titleNode, what: "title"), reader.diagnostics.isEmpty else { return nil }
            return ContentEntry(kind: isScenario ? .scenario : .lesson, id: id, title: title, file: file)
        }

        /// The key of a line `key:` starting at column 0 (letters, digits, `-`, `_`, `.`), as the
        /// range of its bytes, or nil.
        static func topLevelKey(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                let isKeyByte = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                if isKeyByte { index += 1; continue }
                guard byte == UInt8(ascii: ":"), index > start else { return nil }
                let after = index + 1
                if after < bytes.count {
                    switch bytes[after] {
                    case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): break
                    default: return nil
                    }
                }
                return start..<index
            }
            return nil
        }
    }

    /// Problems between files: duplicate ids, unknown syllabus ids, hosts, users, devices and
    /// scenarios named but not defined.
    public func crossReferenceDiagnostics() -> [Diagnostic] {
        var out: [Diagnostic] = []
        func err(_ file: String, _ line: Int, _ fr: String, _ en: String) {
            out.append(Diagnostic(file: file, line: line, message: LocalizedText(fr: fr, en: en)))
        }
        var seenLessons: [String: SourceLocation] = [:]
        for lesson in lessons {
            if let first = seenLessons[lesson.id] {
                err(lesson.location.file, lesson.location.line, "leçon « \(lesson.id) » déjà définie dans \(first.file):\(first.line)",
                    "duplicate lesson id '\(lesson.id)' (first defined at \(first.file):\(first.line))")
            } else {
                seenLessons[lesson.id] = lesson.location
            }
        }
        var seenScenarios: [String: SourceLocation] = [:]
        for scenario in scenarios {
            if let first = seenScenarios[scenario.id] {
                err(scenario.location.file, scenario.location.line, "scénario « \(scenario.id) » déjà défini dans \(first.file):\(first.line)",
                    "duplicate scenario id '\(scenario.id)' (first defined at \(first.file):\(first.line))")
            } else {
                seenScenarios[scenario.id] = scenario.location
            }
        }
        func checkCovers(_ ids: [String], _ file: String, _ line: Int) {
            for id in ids where !Syllabus.ids.contains(id) {
                err(file, line, "identifiant de programme inconnu « \(id) »", "unknown syllabus id '\(id)'")
            }
        }
        func checkTask(_ task: LearnerTask, hosts: [String], users: [String], file: String) {
            if let session = task.session, !hosts.contains(session.host) {
                err(file, task.line, "tâche « \(task.id) » : hôte inconnu « \(session.host) »",
                    "task '\(task.id)': unknown host '\(session.host)'")
            }
            for goal in task.goals { checkGoal(goal, hosts: hosts, users: users, file: file) }
            checkCovers(task.covers, file, task.line)
        }
        func checkGoal(_ goal: Goal, hosts: [String], users: [String], file: String) {
            for host in goal.predicate.hostsNamed where !hosts.contains(host) {
                err(file, goal.line, "but « \(goal.id) » : hôte inconnu « \(host) »", "goal '\(goal.id)': unknown host '\(host)'")
            }
            for user in goal.predicate.usersNamed where !users.contains(user) {
                err(file, goal.line, "but « \(goal.id) » : utilisateur inconnu « \(user) »", "goal '\(goal.id)': unknown user '\(user)'")
            }
        }
        for scenario in scenarios {
            let file = scenario.location.file
            let world = scenario.world
            let hosts = world.hosts.map(\.name)
            let users = world.users.flatMap { [$0.address, $0.login] }
            let devices = world.devices.map(\.name)
            checkCovers(scenario.covers, file, scenario.location.line)
            var seenHosts = Set<String>()
            for host in world.hosts where !seenHosts.insert(host.name).inserted {
                err(file, host.line, "hôte « \(host.name) » en double", "duplicate host '\(host.name)'")
            }
            for user in world.users where !hosts.contains(user.host) {
                err(file, user.line, "utilisateur « \(user.address) » : hôte inconnu « \(user.host) »",
                    "user '\(user.address)': unknown host '\(user.host)'")
            }
            for record in world.dns where record.type == .MX && !hosts.contains(record.value) {
                err(file, record.line, "MX de \(record.name) : hôte inconnu « \(record.value) »",
                    "MX of \(record.name): unknown host '\(record.value)'")
            }
            for device in world.devices {
                if !users.contains(device.user) {
                    err(file, device.line, "appareil « \(device.name) » : utilisateur inconnu « \(device.user) »",
                        "device '\(device.name)': unknown user '\(device.user)'")
                }
                for host in [device.incoming?.host, device.outgoing?.host].compactMap({ $0 }) where !hosts.contains(host) {
                    err(file, device.line, "appareil « \(device.name) » : hôte inconnu « \(host) »",
                        "device '\(device.name)': unknown host '\(host)'")
                }
            }
            var taskIDs = Set<String>()
            for step in scenario.steps {
                func needHost(_ name: String) {
                    if !hosts.contains(name) { err(file, step.line, "hôte inconnu « \(name) »", "unknown host '\(name)'") }
                }
                func needDevice(_ name: String) {
                    if !devices.contains(name) { err(file, step.line, "appareil inconnu « \(name) »", "unknown device '\(name)'") }
                }
                switch step.action {
                case .narrate: break
                case let .world(action):
                    switch action {
                    case let .send(send): if let device = send.device { needDevice(device) }
                    case let .fetch(device), let .sync(device): needDevice(device)
                    case let .configure(configure):
                        switch configure.target {
                        case let .host(host): needHost(host)
                        case let .device(device): needDevice(device)
                        }
                    case let .fault(fault):
                        switch fault {
                        case let .down(h), let .up(h), let .crash(h): needHost(h)
                        case let .partition(a, b), let .heal(a, b): needHost(a); needHost(b)
                        }
                    case .advance: break
                    }
                case let .expect(goals):
                    for goal in goals { checkGoal(goal, hosts: hosts, users: users, file: file) }
                case let .task(task):
                    if !taskIDs.insert(task.id).inserted {
                        err(file, task.line, "tâche « \(task.id) » en double", "duplicate task id '\(task.id)'")
                    }
                    checkTask(task, hosts: hosts, users: users, file: file)
                }
            }
        }
        for lesson in lessons {
            let file = lesson.location.file
            checkCovers(lesson.covers, file, lesson.location.line)
            for section in lesson.sections { checkCovers(section.covers, file, section.line) }
            for question in lesson.quiz {
                checkCovers(question.covers, file, question.line)
                if case let .predict(scenarioID, session, _) = question.kind {
                    let world = scenarioID.flatMap { scenario($0) }
                    if let scenarioID, world == nil {
                        err(file, question.line, "question « \(question.id) » : scénario inconnu « \(scenarioID) »",
                            "question '\(question.id)': unknown scenario '\(scenarioID)'")
                    } else {
                        let hosts = world?.world.hosts.map(\.name) ?? DefaultWorld.hostNames
                        if !hosts.contains(session.host) {
                            err(file, question.line, "question « \(question.id) » : hôte inconnu « \(session.host) »",
                                "question '\(question.id)': unknown host '\(session.host)'")
                        }
                    }
                }
            }
            for exercise in lesson.exercises {
                checkCovers(exercise.covers, file, exercise.line)
                if let scenarioID = exercise.scenario {
                    guard let scenario = scenario(scenarioID) else {
                        err(file, exercise.line, "exercice « \(exercise.id) » : scénario inconnu « \(scenarioID) »",
                            "exercise '\(exercise.id)': unknown scenario '\(scenarioID)'")
                        continue
                    }
                    checkTask(exercise.task, hosts: scenario.world.hosts.map(\.name),
                              users: scenario.world.users.flatMap { [$0.address, $0.login] }, file: file)
                } else {
                    checkTask(exercise.task, hosts: DefaultWorld.hostNames, users: DefaultWorld.users, file: file)
                }
            }
        }
        return out
    }
}

/// Per syllabus id: what explains it, what exercises it, which quiz questions ask about it.
public struct CoverageReport: Sendable {
    public struct Entry: Sendable {
        public var topic: Syllabus.Topic
        public var sections: [String] = []
        public var exercises: [String] = []
        public var questions: [String] = []
        public var isComplete: Bool { !sections.isEmpty && !exercises.isEmpty && questions.count >= 3 }
    }

    public var entries: [Entry]
    public var isComplete: Bool { entries.allSatisfy(\.isComplete) }

    /// Sections, exercises and questions cover their own `covers:` ids, or the lesson's when they
    /// name none. Scenario tasks count as exercises for the scenario's and the task's ids.
    public init(library: ContentLibrary) {
        var byID: [String: Entry] = [:]
        for topic in Syllabus.topics { byID[topic.id] = Entry(topic: topic) }
        for lesson in library.lessons {
            for section in lesson.sections {
                for id in section.covers.isEmpty ? lesson.covers : section.covers { byID[id]?.sections.append("\(lesson.id)/\(section.id)") }
            }
            for exercise in lesson.exercises {
                let ids = Set(exercise.covers + exercise.task.covers)
                for id in (ids.isEmpty ? lesson.covers : ids.sorted()) { byID[id]?.exercises.append("\(lesson.id)/\(exercise.id)") }
            }
            for question in lesson.quiz {
                for id in question.covers.isEmpty ? lesson.covers : question.covers { byID[id]?.questions.append("\(lesson.id)/\(question.id)") }
            }
        }
        for scenario in library.scenarios {
            for task in scenario.tasks {
                for id in Set(scenario.covers + task.covers).sorted() { byID[id]?.exercises.append("\(scenario.id)/\(task.id)") }
            }
        }
        entries = Syllabus.topics.compactMap { byID[$0.id] }
    }

    public func render(_ language: Language) -> String {
        let words: (String, String, String, String, String) = language == .fr
            ? ("explications", "exercices", "questions", "Non couverts", "aucun")
            : ("explanations", "exercises", "questions", "Uncovered", "none")
        var out = ""
        for entry in entries {
            let mark = entry.isComplete ? "ok " : "-- "
            out += "\(mark)\(entry.topic.id) — \(entry.topic.title[language])\n"
            out += "    \(words.0): \(entry.sections.isEmpty ? words.4 : entry.sections.joined(separator: ", "))\n"
            out += "    \(words.1): \(entry.exercises.isEmpty ? words.4 : entry.exercises.joined(separator: ", "))\n"
            out += "    \(words.2) (\(entry.questions.count)): \(entry.questions.isEmpty ? words.4 : entry.questions.joined(separator: ", "))\n"
        }
        let missing = entries.filter { !$0.isComplete }.map(\.topic.id)
        out += "\(words.3) (\(missing.count)): \(missing.isEmpty ? words.4 : missing.joined(separator: " "))\n"
        return out
    }
}
