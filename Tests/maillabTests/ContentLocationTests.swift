import Foundation
import Testing

/// The built program, copied outside the repository and run from there with a clean environment:
/// with no content it says where it looked and exits 2; it finds content installed beside it
/// (`../share/maillab`), then through `MAILLAB_CONTENT`.
@Suite struct ContentLocationTests {
    /// A prefix holding `bin/maillab` (a copy of the built program) and nothing else.
    static func prefix() throws -> URL {
        let root = URL(fileURLWithPath: "/tmp").appendingPathComponent("maillab-location-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CommandLineTests.executable, to: root.appendingPathComponent("bin/maillab"))
        return root
    }

    /// Runs the copy from `root` with only PATH, HOME and LANG set (plus `environment`).
    static func run(_ root: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandLineTests.Result {
        var attempt = 0
        while true {
            let process = Process()
            process.executableURL = root.appendingPathComponent("bin/maillab")
            process.arguments = arguments
            process.currentDirectoryURL = root
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": root.path, "LANG": "C", "NO_COLOR": "1"]
                .merging(environment) { $1 }
            let output = Pipe(), errors = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = errors
            do {
                try process.run()
            } catch let failure where attempt < 50 && isTextFileBusy(failure) {
                // Tests run in parallel: a process another test forks in the instant the copy's
                // file is still open for writing holds that descriptor until it execs, and exec
                // of the copy then fails with ETXTBSY. The descriptor goes with that exec.
                attempt += 1
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            return finish(process, output, errors)
        }
    }

    static func isTextFileBusy(_ error: Error) -> Bool {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain && error.code == Int(ETXTBSY) { return true }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.domain == NSPOSIXErrorDomain && underlying.code == Int(ETXTBSY)
        }
        return false
    }

    static func finish(_ process: Process, _ output: Pipe, _ errors: Pipe) -> CommandLineTests.Result {
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                     stderr: String(decoding: err, as: UTF8.self))
    }

    static func install(_ content: String, into folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["Lessons", "Scenarios"] {
            try FileManager.default.copyItem(atPath: content + "/" + name, toPath: folder.appendingPathComponent(name).path)
        }
    }

    /// The race the retry is for, made on purpose: the copy is held open for writing (as a
    /// process forked meanwhile would hold it) and closed a moment later; the run waits for it.
    @Test func aCopyStillOpenForWritingRunsOnceClosed() throws {
        let root = try Self.prefix()
        let program = root.appendingPathComponent("bin/maillab")
        let handle = try FileHandle(forWritingTo: program)
        let busy = Process()
        busy.executableURL = program
        do {
            try busy.run()
            Issue.record("a program open for writing was run")
            busy.waitUntilExit()
        } catch {
            #expect(Self.isTextFileBusy(error), "\(error)")
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { try? handle.close() }
        let result = try Self.run(root, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.isEmpty)
    }

    @Test func withoutContentEveryCommandSaysWhereItLookedAndExitsTwo() throws {
        let root = try Self.prefix()
        let commands: [[String]] = [["lessons"], ["scenarios"], ["lesson", "smtp"], ["replay", "mx-failover", "--auto"],
                                    ["quiz"], ["check"], ["progress"], ["serve", "--scenario", "mx-failover"], []]
        for arguments in commands {
            let result = try Self.run(root, arguments + ["--data-dir", root.appendingPathComponent("data").path])
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            #expect(result.stderr.contains("the course content was not found"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(root.appendingPathComponent("share/maillab").path + " (beside the program "),
                    "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("MAILLAB_CONTENT: not set"), "\(arguments)")
            #expect(result.stderr.contains("at or above \(root.path): none"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("To fix it: "), "\(arguments)")
        }
        let french = try Self.run(root, ["lessons", "--lang", "fr"])
        #expect(french.status == 2)
        #expect(french.stderr.contains("contenu du cours introuvable"))
        let wrong = try Self.run(root, ["lessons"], environment: ["MAILLAB_CONTENT": root.path])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("MAILLAB_CONTENT=\(root.path): no Lessons/ or Scenarios/ in that folder"))
        // `check FILE` needs no installed content.
        let file = root.appendingPathComponent("one.yaml")
        try "id: one\ntitle: {fr: Un, en: One}\ncovers: [smtp.basics]\n".write(to: file, atomically: true, encoding: .utf8)
        let check = try Self.run(root, ["check", file.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func contentBesideTheProgramThenMaillabContent() throws {
        let root = try Self.prefix()
        let other = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: other.appendingPathComponent("Lessons"), withIntermediateDirectories: true)
        try "id: one\ntitle: {fr: Un, en: One}\ncovers: [smtp.basics]\n"
            .write(to: other.appendingPathComponent("Lessons/one.yaml"), atomically: true, encoding: .utf8)
        let viaEnvironment = try Self.run(root, ["lessons"], environment: ["MAILLAB_CONTENT": other.path])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        #expect(viaEnvironment.stdout == "one\tOne\n")

        // The fixtures (one lesson, one scenario) installed beside the program win.
        try Self.install(CommandLineTests.fixtures, into: root.appendingPathComponent("share/maillab"))
        let beside = try Self.run(root, ["lessons"], environment: ["MAILLAB_CONTENT": other.path])
        #expect(beside.status == 0, "\(beside.stderr)")
        #expect(beside.stdout == "smtp-submission\tSubmitting a message with SMTP\n")
        let replay = try Self.run(root, ["replay", "mx-failover", "--auto"])
        // Found and played (1 would be a failed expectation: the simulation's business, not this test's).
        #expect(replay.status != 2, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("End of the scenario"), "\(replay.stdout)")
        let check = try Self.run(root, ["check"])
        #expect(check.stdout == "ok: 1 lesson(s), 1 scenario(s)\n", "\(check.stdout)\(check.stderr)")
        let unknown = try Self.run(root, ["lesson", "no-such-lesson"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown lesson: no-such-lesson"))
    }
}
