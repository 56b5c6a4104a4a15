import Foundation
import Testing

/// `maillab lessons` lists the course in its order (the files' numbers: 01-architecture.yaml,
/// 02-smtp.yaml…), not by id, in both languages.
@Suite struct LessonsOrderTests {
    /// The ids of Lessons/NN-*.yaml, in the order of their numbers.
    static func courseOrder() throws -> [String] {
        let folder = CommandLineTests.repository + "/Lessons"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
        let numbered = files.compactMap { name -> (Int, String)? in
            guard let number = Int(name.prefix { $0.isNumber }) else { return nil }
            return (number, name)
        }.sorted { $0.0 < $1.0 }
        return try numbered.map { _, name in
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("id: ") })
            return String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test(arguments: ["fr", "en"])
    func lessonsComeInCourseOrder(language: String) throws {
        let expected = try Self.courseOrder()
        try #require(expected.count > 5)
        #expect(expected != expected.sorted(), "the course order is not the alphabetical one, or this test proves nothing")
        let result = try CommandLineTests.run(["--lang", language, "lessons"], environment: ["MAILLAB_CONTENT": CommandLineTests.repository])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
        #expect(rows.map { $0.first ?? "" } == expected)
        #expect(rows.first?.last == (language == "fr" ? "L'architecture de la messagerie" : "The architecture of e-mail"))
    }
}
