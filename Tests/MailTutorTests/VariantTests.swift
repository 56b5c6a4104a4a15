import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 14 item 4: variants per learner. Two learners draw different values; each one's solution
/// passes in their own world and not in the other's; the same seed gives the same values.
@Suite(.serialized) struct VariantTests {
    static let text = """
    id: v
    title: {fr: Variantes, en: Variants}
    covers: [smtp.auth]
    vars:
      password: {choose: [mypassword, kiwi-lune-27, cobalt-fern-31, petit-moulin-8, harbour-owl-56, tournesol-2049]}
      plain: {base64: "\\\\0alice\\\\0{{password}}"}
      count: {number: [2, 9]}
    world:
      hosts:
        - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission], mta: {domains: [example.com]}, mda: {domains: [example.com]}}
      users:
        - {address: alice@example.com, password: "{{password}}", host: mail.example.com}
    steps:
      - narrate: {fr: "Mot de passe {{password}}, {{count}} messages", en: "Password {{password}}, {{count}} messages"}
      - task:
          id: t
          fr: "AUTH PLAIN {{plain}}"
          en: "AUTH PLAIN {{plain}}"
          session: {host: mail.example.com, port: 587}
          goals:
            - {id: auth, fr: ok, en: ok, auth: {user: alice}}
          solution: ["EHLO pc", "STARTTLS", "EHLO pc", "AUTH PLAIN {{plain}}"]
    """

    static func values(_ seed: String) -> [String: String] {
        Variants.expand(text, seed: seed, file: "v.yaml").values
    }

    @Test func sameSeedSameValuesOtherSeedsDiffer() {
        #expect(Self.values("ana") == Self.values("ana"))
        let seeds = ["ana", "ben", "chloé", "dev", "eli", "fatou", "gus", "hana"]
        #expect(Set(seeds.map { Self.values($0)["password"] ?? "" }).count >= 3)
        #expect(Self.values("")["password"] == "mypassword", "the empty seed gives the first choice")
        let plain = Self.values("ana")["plain"] ?? ""
        let decoded = Data(base64Encoded: plain).map { String(decoding: $0, as: UTF8.self) }
        #expect(decoded == "\u{0}alice\u{0}" + (Self.values("ana")["password"] ?? ""))
        let count = Int(Self.values("ben")["count"] ?? "") ?? 0
        #expect((2...9).contains(count))
    }

    @Test func eachLearnersSolutionPassesOnlyInTheirOwnWorld() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("variants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.text.write(to: dir.appendingPathComponent("v.yaml"), atomically: true, encoding: .utf8)
        // Two learners whose passwords differ.
        let seeds = ["ana", "ben", "chloé", "dev", "eli"].filter { Self.values($0)["password"] != Self.values("ana")["password"] }
        let other = try #require(seeds.first)
        func library(_ seed: String) -> ContentLibrary {
            let saved = ContentLibrary.variantSeed
            defer { ContentLibrary.variantSeed = saved }
            ContentLibrary.variantSeed = seed
            let library = ContentLibrary.load(paths: [dir.path])
            _ = library.scenarios
            return library
        }
        let mine = library("ana"), theirs = library(other)
        #expect(mine.diagnostics.isEmpty, "\(mine.diagnostics)")
        let myTask = try #require(mine.scenarios.first?.tasks.first)
        #expect(myTask.instructions.en == "AUTH PLAIN " + (Self.values("ana")["plain"] ?? ""))
        // My solution in my world, theirs in theirs: both pass.
        #expect(SolutionCheck.run(library: mine, driver: SimulatedWorldDriver()).isEmpty)
        #expect(SolutionCheck.run(library: theirs, driver: SimulatedWorldDriver()).isEmpty)
        // My solution in their world: it must not complete.
        let crossed = SolutionCheck.run(library: theirs, driver: SimulatedWorldDriver()) { _, task in
            var task = task
            task.counterExamples = [CounterExample(why: LocalizedText(fr: "autre", en: "other"), lines: myTask.solution ?? [], line: 1)]
            return task
        }
        #expect(crossed.isEmpty, "my solution must fail in the other learner's world: \(crossed)")
        // And the check of variants says the same through `maillab check`'s entry point.
        #expect(SolutionCheck.variants(paths: [dir.path], reference: [], driver: SimulatedWorldDriver(), including: { _ in true }).isEmpty)
    }
}
