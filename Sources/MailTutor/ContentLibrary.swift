import Foundation
import Yams

/// The course's default world (DESIGN.md), used by the sandbox and by exercises that name no
/// scenario. `WorldDriver.makeWorld(scenario: nil, …)` should build exactly `DefaultWorld.spec`.
public enum DefaultWorld {
    public static let hostNames = spec.hosts.map(\.name)
    public static let users = spec.users.flatMap { [$0.address, $0.login] }

    /// The same world as `MailWorld.course(seed:)`, which the simulation runs: Postfix's retry
    /// defaults, mail1 and mail2 both final MX for company.org (they share its mail store),
    /// mail-backup.example.net a backup MX that forwards to them.
    public static let spec: WorldSpec = {
        func services(_ kinds: [ServiceKind]) -> [ServiceSpec] {
            kinds.map { ServiceSpec(kind: $0, port: $0.standardPort, tls: $0.defaultTLS) }
        }
        var world = WorldSpec()
        var sender = MTASpec()
        sender.domains = ["example.com"]
        var primary = MTASpec()
        primary.domains = ["company.org"]
        var backup = MTASpec()
        backup.domains = ["example.net"]
        backup.backupFor = ["company.org"]
        let smtpOnly: [ServiceKind] = [.smtp, .submission, .smtps]
        let full: [ServiceKind] = smtpOnly + [.pop3, .pop3s, .imap, .imaps]
        world.hosts = [
            HostSpec(name: "mail.example.com", address: "198.51.100.25", services: services(full),
                     mta: sender, mda: MDASpec(domains: ["example.com"]), up: true, line: 0),
            HostSpec(name: "mail1.company.org", address: "203.0.113.10", services: services(full),
                     mta: primary, mda: MDASpec(domains: ["company.org"]), up: true, line: 0),
            HostSpec(name: "mail2.company.org", address: "203.0.113.11", services: services(smtpOnly),
                     mta: primary, mda: nil, up: true, line: 0),
            HostSpec(name: "mail-backup.example.net", address: "198.51.100.50", services: services(smtpOnly),
                     mta: backup, mda: nil, up: true, line: 0),
        ]
        world.dns = [
            DNSRecordSpec(name: "example.com", type: .MX, value: "mail.example.com", preference: 10, line: 0),
            DNSRecordSpec(name: "company.org", type: .MX, value: "mail1.company.org", preference: 10, line: 0),
            DNSRecordSpec(name: "company.org", type: .MX, value: "mail2.company.org", preference: 20, line: 0),
            DNSRecordSpec(name: "company.org", type: .MX, value: "mail-backup.example.net", preference: 30, line: 0),
            DNSRecordSpec(name: "example.net", type: .MX, value: "mail-backup.example.net", preference: 10, line: 0),
            DNSRecordSpec(name: "example.com", type: .TXT, value: "v=spf1 ip4:198.51.100.25 -all", preference: nil, line: 0),
            DNSRecordSpec(name: "company.org", type: .TXT, value: "v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 -all", preference: nil, line: 0),
            DNSRecordSpec(name: "example.net", type: .TXT, value: "v=spf1 ip4:198.51.100.50 -all", preference: nil, line: 0),
        ] + world.hosts.map { DNSRecordSpec(name: $0.name, type: .A, value: $0.address, preference: nil, line: 0) }
        world.users = [
            UserSpec(address: "alice@example.com", login: "alice", password: "mypassword", host: "mail.example.com",
                     folders: [], messages: [], line: 0),
            UserSpec(address: "bob@company.org", login: "bob", password: "secret123", host: "mail1.company.org",
                     folders: [], messages: [], line: 0),
        ]
        return world
    }()
}

/// All lessons and scenarios found under some paths, with the problems found while reading them.
public struct ContentLibrary: Sendable {
    public var lessons: [Lesson] = []
    public var scenarios: [Scenario] = []
    public var diagnostics: [Diagnostic] = []

    public init() {}

    public func lesson(_ id: String) -> Lesson? { lessons.first { $0.id == id } }
    public func scenario(_ id: String) -> Scenario? { scenarios.first { $0.id == id } }

    /// Loads `.yaml`/`.yml` files from files or folders (folders are read in name order). A file
    /// whose top level has `world` or `steps` is a scenario; any other is a lesson.
    ///
    /// Files under `reference` are read too, so that cross-references resolve, but only the
    /// problems of files under `paths` are reported.
    public static func load(paths: [String], reference: [String] = []) -> ContentLibrary {
        var library = ContentLibrary()
        let fm = FileManager.default
        var files: [String] = []
        var reported = Set<String>()
        var seen = Set<String>()
        for (index, path) in (paths + reference).enumerated() {
            let isReported = index < paths.count
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                if !isReported { continue }
                library.diagnostics.append(Diagnostic(file: path, line: 0, message: LocalizedText(
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
                let key = URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path
                guard seen.insert(key).inserted else { continue }
                files.append(file)
                if isReported { reported.insert(file) }
            }
        }
        for file in files {
            guard let data = fm.contents(atPath: file) else {
                library.diagnostics.append(Diagnostic(file: file, line: 0, message: LocalizedText(
                    fr: "lecture impossible", en: "cannot read the file")))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                library.diagnostics.append(Diagnostic(file: file, line: 1, message: LocalizedText(
                    fr: "le fichier n'est pas en UTF-8", en: "the file is not UTF-8")))
                continue
            }
            library.add(text: text, file: file)
        }
        library.diagnostics += library.crossReferenceDiagnostics()
        library.diagnostics = library.diagnostics.filter { reported.contains($0.file) || !files.contains($0.file) }
        library.diagnostics.sort { ($0.file, $0.line) < ($1.file, $1.line) }
        return library
    }

    /// Parses one file's text and adds what it defines.
    public mutating func add(text: String, file: String) {
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
