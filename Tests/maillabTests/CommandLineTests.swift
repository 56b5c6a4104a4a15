import Foundation
import Testing

/// Runs the built `maillab` executable as a learner or a teacher would.
@Suite struct CommandLineTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var executable: URL {
        Bundle.main.bundleURL.appendingPathComponent("maillab")
    }

    static func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["LANG"] = "C"
        env.removeValue(forKey: "LC_ALL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }

    static func tempDir() throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("maillab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A small fixed library (one lesson, one scenario) for tests that pin exact output.
    static var fixtures: String { repository + "/Tests/Fixtures/content" }

    /// The benchmark's output, not its speed (figures are measured by hand in a release build).
    @Test func benchCompareRunsThreeWorkloadsAndPrintsTheirFigures() throws {
        let result = try Self.run(["bench", "smtp", "--count", "300", "--compare"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("deliveries/s: ") }.count == 3)
        #expect(lines.filter { $0 == "delivered: 300" }.count == 3)
        #expect(lines.filter { $0.hasPrefix("ratio to the first run: ") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("peak memory: ") && $0.hasSuffix(" MB") }.count == 3)
        #expect(lines.filter { $0.hasPrefix("cpu seconds: ") && $0.hasSuffix(" (one thread)") }.count == 3)
        #expect(lines.contains("workload: 32 clients, 1024-octet messages, 1 per submission session, connection cache on"))
        #expect(lines.contains("workload: 32 clients, 1024-octet messages, 1 per submission session, connection cache off"))
        #expect(lines.contains("workload: 32 clients, 1024-octet messages, 10 per submission session, connection cache on"))
    }

    @Test func checkPassesOnShippedContent() throws {
        let result = try Self.run(["check"], environment: ["MAILLAB_CONTENT": Self.repository])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: "))
        let fixed = try Self.run(["check"], environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(fixed.stdout == "ok: 1 lesson(s), 1 scenario(s)\n")
    }

    @Test func checkReportsFileAndLineAndExitsTwo() throws {
        let dir = try Self.tempDir()
        let file = dir.appendingPathComponent("broken.yaml")
        try "id: broken\ntitle: {fr: Cassé}\ncovers: [smtp.basics]\nsurprise: 1\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try Self.run(["check", file.path], environment: ["MAILLAB_CONTENT": dir.path])
        #expect(result.status == 2)
        #expect(result.stdout == """
            \(file.path):2: title: missing English translation (en)
            \(file.path):4: lesson: unknown key 'surprise' (expected one of: id, title, covers, vars, sections, exercises, quiz)

            """)
        let french = try Self.run(["check", "--lang", "fr", file.path], environment: ["MAILLAB_CONTENT": dir.path])
        #expect(french.stdout.contains("\(file.path):2: title : traduction anglaise (en) manquante"))
    }

    @Test func coverageExitsOneWhenTopicsAreMissing() throws {
        let result = try Self.run(["check", "--coverage"], environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(result.status == 1)
        #expect(result.stdout.contains("smtp.session — A complete submission session"))
        #expect(result.stdout.contains("Uncovered ("))
    }

    /// The shipped course covers every syllabus id in both languages (issue 7).
    @Test func shippedCourseCoversTheWholeSyllabus() throws {
        let result = try Self.run(["check", "--coverage"], environment: ["MAILLAB_CONTENT": Self.repository])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("Uncovered (0)"))
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Self.run(["--lang", "de", "lessons"]).status == 2)
        #expect(try Self.run(["check", "--bogus"]).status == 2)
        #expect(try Self.run(["progress", "--export", "xml"]).status == 2)
        #expect(try Self.run(["--help"]).status == 0)
    }

    @Test func listsAreOnePerLineIdFirst() throws {
        let lessons = try Self.run(["lessons"], environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(lessons.stdout == "smtp-submission\tSubmitting a message with SMTP\n")
        let scenarios = try Self.run(["scenarios", "--lang", "fr"], environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(scenarios.stdout == "mx-failover\tBasculement MX\n")
    }

    @Test func scriptedReplFromStdin() throws {
        let data = try Self.tempDir()
        let result = try Self.run(["--data-dir", data.path, "--learner", "zoe"], stdin: "b64 \\0alice\\0mypassword\nlang fr\nfoo\n",
                                  environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(result.status == 0)
        #expect(result.stdout.contains("First time here? Start with the lesson 'Submitting a message with SMTP'"))
        #expect(result.stdout.contains("AGFsaWNlAG15cGFzc3dvcmQ=\nLangue : français.\nCommande inconnue « foo »"))
        #expect(result.stdout.hasSuffix("Au revoir.\n"))
    }

    @Test func quizFromStdinGradesAndRemembers() throws {
        let data = try Self.tempDir()
        let env = ["MAILLAB_CONTENT": Self.fixtures]
        // numeric, single, multiple, short, ordering (by names), then predict (run in the simulated world).
        // Choices are shuffled per learner: single and multiple answers are given by their text.
        let answers = "587\n220\nPLAIN, LOGIN\nBase 64\nEHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA, QUIT\n530\n"
        let quiz = try Self.run(["quiz", "smtp-submission", "--data-dir", data.path, "--learner", "zoe"], stdin: answers, environment: env)
        #expect(quiz.stdout.contains("Right!"))
        #expect(quiz.stdout.contains("Score: 6/6"), "\(quiz.stdout)")
        #expect(quiz.status == 0)
        let progress = try Self.run(["progress", "--data-dir", data.path, "--learner", "zoe"], environment: env)
        #expect(progress.stdout.contains("smtp-submission"))
        #expect(progress.stdout.contains("6/6"))
        let csv = try Self.run(["progress", "--export", "csv", "--data-dir", data.path], environment: env)
        #expect(csv.stdout.hasPrefix("learner,lesson,kind,item,status,hints_used,seconds,attempts,exercise,date,language,question,answer\n"))
        #expect(csv.stdout.contains("zoe,smtp-submission,question,port,correct,,,1,,20"))
        #expect(csv.stdout.contains(",en,On which port does a client submit its messages with STARTTLS?,587\n"))
    }

    @Test func corruptDatabaseGivesAClearMessage() throws {
        let data = try Self.tempDir()
        try Data(repeating: 0x5a, count: 2048).write(to: data.appendingPathComponent("progress.sqlite"))
        let result = try Self.run(["progress", "--data-dir", data.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("is corrupt (not a valid SQLite database)"))
        let repl = try Self.run(["--data-dir", data.path], stdin: "help\n", environment: ["MAILLAB_CONTENT": Self.repository])
        #expect(repl.status == 0)
        #expect(repl.stderr.contains("(progress will not be recorded)"))
    }
}
