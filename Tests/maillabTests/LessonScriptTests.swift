import Foundation
import Testing

/// Issue 7: a scripted learner (stdin) works through every lesson — its sections, then each
/// exercise with one valid command sequence — and every exercise is completed.
/// The scripts are in Tests/Fixtures/lesson-scripts; their first line says how many exercises.
@Suite struct LessonScriptTests {
    static var scripts: [URL] {
        let folder = URL(fileURLWithPath: CommandLineTests.repository + "/Tests/Fixtures/lesson-scripts")
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "txt" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func everyLessonsExercisesCompleteFromAScript() throws {
        let scripts = Self.scripts
        #expect(scripts.count >= 8)
        for script in scripts {
            let text = try String(contentsOf: script, encoding: .utf8)
            var lines = text.components(separatedBy: "\n")
            let header = lines.removeFirst()
            let expected = Int(header.split(separator: " ").last ?? "") ?? -1
            let data = try CommandLineTests.tempDir()
            // One named learner, so the exercises with variants per learner (vars:) give the
            // scripts' passwords: lesson-script draws kiwi-lune-27 for alice, maple-stone-17 for bob.
            let result = try CommandLineTests.run(["--data-dir", data.path, "--lang", "en", "--no-color", "--learner", "lesson-script"],
                                                  stdin: lines.joined(separator: "\n"),
                                                  environment: ["MAILLAB_CONTENT": CommandLineTests.repository])
            let completed = result.stdout.components(separatedBy: "Exercise complete!").count - 1
            #expect(completed == expected, "\(script.lastPathComponent): \(completed)/\(expected)\n\(result.stdout.suffix(800))")
        }
    }
}
