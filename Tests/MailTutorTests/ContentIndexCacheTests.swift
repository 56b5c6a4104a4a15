import Foundation
import Testing
@testable import MailTutor

/// The index cache (`ContentLibrary.index(paths:cache:)`, `IndexCache`) gives what the index
/// without it gives, follows every change of a file's bytes, and survives a damaged cache file;
/// `Variants.varsEntry` cuts out the `vars:` entry with its lines where they were.
@Suite struct ContentIndexCacheTests {
    typealias Support = ContentLoadingTests

    static func entries(_ library: ContentLibrary) -> [ContentEntry] { library.lessonIndex + library.scenarioIndex }

    @Test func cachedIndexIsTheIndexWithoutCache() throws {
        let cache = try Support.tempDir().appendingPathComponent("cache/content-index").path
        let plain = ContentLibrary.index(paths: Support.shipped)
        let first = ContentLibrary.index(paths: Support.shipped, cache: cache)
        #expect(FileManager.default.fileExists(atPath: cache))
        let second = ContentLibrary.index(paths: Support.shipped, cache: cache)
        #expect(Self.entries(first) == Self.entries(plain))
        #expect(Self.entries(second) == Self.entries(plain))
        #expect(second.diagnostics.isEmpty, "\(second.diagnostics)")
        // A lesson or scenario parsed from a cached index is the one a full load parses.
        let full = ContentLibrary.load(paths: Support.shipped)
        let id = try #require(plain.scenarioIndex.first?.id)
        #expect(second.scenario(id) == full.scenario(id))
        // One line per file, after the header.
        let lines = try String(contentsOfFile: cache, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == Substring(IndexCache.header))
        #expect(lines.count == 1 + Self.entries(plain).count)
    }

    @Test func changedFileIsReadAgainAndDamagedCacheIsIgnored() throws {
        let dir = try Support.tempDir()
        let cache = dir.appendingPathComponent("data/cache/content-index").path
        let lesson = dir.appendingPathComponent("Lessons/a.yaml")
        try Support.write("id: a\ntitle: {fr: Un, en: One}\ncovers: [smtp.basics]\n", lesson)
        let paths = [dir.appendingPathComponent("Lessons").path]
        #expect(ContentLibrary.index(paths: paths, cache: cache).lessonIndex.map(\.title.en) == ["One"])
        // Same length, other bytes: the digest changes, the new title is read.
        try Support.write("id: a\ntitle: {fr: Un, en: Uno}\ncovers: [smtp.basics]\n", lesson)
        #expect(ContentLibrary.index(paths: paths, cache: cache).lessonIndex.map(\.title.en) == ["Uno"])
        // A file that is no longer UTF-8 is reported as without a cache.
        try Data([0x69, 0x64, 0x3A, 0x20, 0xFF, 0x0A]).write(to: lesson)
        let broken = ContentLibrary.index(paths: paths, cache: cache)
        #expect(broken.lessonIndex.isEmpty)
        #expect(broken.diagnostics.map(\.message.en) == ["the file is not UTF-8"])
        // A damaged cache is an empty one (and is written again).
        try Support.write("id: a\ntitle: {fr: Un, en: One}\ncovers: [smtp.basics]\n", lesson)
        try "maillab-content-index 1\nnot\ta\tline\n".write(toFile: cache, atomically: true, encoding: .utf8)
        #expect(ContentLibrary.index(paths: paths, cache: cache).lessonIndex.map(\.title.en) == ["One"])
        #expect(try String(contentsOfFile: cache, encoding: .utf8).split(separator: "\n").count == 2)
    }

    @Test func escapesAndDigests() {
        for text in ["plain", "tab\there", "line\nnext", "back\\slash\\t", "é\r\n"] {
            #expect(IndexCache.unescape(Substring(IndexCache.escape(text))) == text)
        }
        #expect(IndexCache.unescape("bad\\q") == nil)
        let one = IndexCache.digest(Data("abcdefghij".utf8)), two = IndexCache.digest(Data("abcdefghik".utf8))
        #expect(one != two)
        #expect(IndexCache.Key(text: Substring(one.text)) == one)
        #expect(IndexCache.digest(Data()) != IndexCache.digest(Data([0])))
    }

    @Test func varsEntryKeepsItsLinesAndGivesTheSameValues() throws {
        let text = """
            # a comment
            id: x
            vars:
              password: {choose: [a1, b2, c3]}
              # inside
              plain: {base64: "\\\\0bob\\\\0{{password}}"}
            title: {fr: "{{password}}", en: "{{password}}"}

            """
        let entry = try #require(Variants.varsEntry(text))
        #expect(entry.hasPrefix("\n\nvars:\n"))
        #expect(!entry.contains("title"))
        #expect(entry.split(separator: "\n", omittingEmptySubsequences: true).count == 4)
        // Two vars, directives or document markers: no cut (the whole file is composed).
        #expect(Variants.varsEntry("vars:\n  a: b\nvars:\n  c: d\n") == nil)
        #expect(Variants.varsEntry("---\nvars:\n  a: b\n") == nil)
        #expect(Variants.varsEntry("id: x\n") == nil)
        let expanded = Variants.expand(text, seed: "learner", file: "f.yaml")
        #expect(expanded.errors.isEmpty)
        #expect(expanded.values.keys.sorted() == ["password", "plain"])
        #expect(!expanded.text.contains("{{password}}"))
        // A bad entry is reported on the line it has when the whole file is composed.
        let badText = "id: x\nvars:\n  ok: {choose: [a]}\n  bad name: {choose: [b]}\n"
        let bad = Variants.expand(badText, seed: "", file: "f.yaml")
        // (A document marker makes `expand` compose the whole file; it moves every line down by one.)
        let whole = Variants.expand("---\n" + badText, seed: "", file: "f.yaml")
        #expect(bad.errors.count == 1)
        #expect(bad.errors.map(\.line) == whole.errors.map { $0.line - 1 })
    }
}
