import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 12 item 5: `also-solutions:` (other valid ways, replayed by `check` like the solution),
/// `check --counts`' tally, and issue 14 item 4's variant kinds `cram-md5` and `follow`, with the
/// course's own variant files (a per-learner base64 quiz answer, per-learner message counts).
@Suite(.serialized) struct AlternativeSolutionTests {
    static func scenario(_ alternatives: String, vars: String = "", password: String = "mypassword") -> String {
        """
        id: alt
        title: {fr: Autres solutions, en: Alternatives}
        covers: [smtp.auth]
        \(vars)
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [smtp, submission, smtps], mta: {domains: [example.com]}, mda: {domains: [example.com]}}
          users:
            - {address: alice@example.com, password: "\(password)", host: mail.example.com}
        steps:
          - task:
              id: t
              fr: Authentifiez-vous sous TLS.
              en: Authenticate under TLS.
              session: {host: mail.example.com, port: 587}
              goals:
                - {id: auth, fr: ok, en: ok, auth: {user: alice, tls: true}}
              solution: ["EHLO pc", "STARTTLS", "EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="]
              also-solutions:
        \(alternatives)
        """
    }

    static func library(_ text: String, seed: String = "") throws -> (ContentLibrary, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("alternatives-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: dir.appendingPathComponent("alt.yaml"), atomically: true, encoding: .utf8)
        let saved = ContentLibrary.variantSeed
        defer { ContentLibrary.variantSeed = saved }
        ContentLibrary.variantSeed = seed
        let library = ContentLibrary.load(paths: [dir.path])
        _ = library.scenarios
        return (library, dir)
    }

    @Test func bothFormsAreParsedWithTheirLines() throws {
        let (library, _) = try Self.library(Self.scenario("""
                    - ["ehlo pc", "starttls", "ehlo pc", "auth plain AGFsaWNlAG15cGFzc3dvcmQ="]
                    - {fr: Port 465, en: Port 465, lines: ["QUIT", "connect mail.example.com 465 --tls", "EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="]}
        """))
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        let task = try #require(library.scenarios.first?.tasks.first)
        #expect(task.alternatives.count == 2)
        #expect(task.alternatives[0].why == nil)
        #expect(task.alternatives[0].lines.first == "ehlo pc")
        #expect(task.alternatives[1].why?.en == "Port 465")
        #expect(task.alternatives[1].lines.count == 4)
        #expect(task.alternatives[1].line > task.alternatives[0].line)
    }

    @Test func anAlternativeWithoutLinesIsAnError() throws {
        let (library, _) = try Self.library(Self.scenario("""
                    - {fr: rien, en: nothing}
        """))
        #expect(library.diagnostics.contains { $0.message.en.contains("lines") }, "\(library.diagnostics)")
    }

    @Test func checkReplaysEveryAlternative() throws {
        let (good, _) = try Self.library(Self.scenario("""
                    - {fr: Minuscules, en: Lowercase, lines: ["ehlo pc", "starttls", "ehlo pc", "auth plain AGFsaWNlAG15cGFzc3dvcmQ="]}
                    - {fr: LOGIN, en: LOGIN, lines: ["EHLO pc", "STARTTLS", "EHLO pc", "AUTH LOGIN", "YWxpY2U=", "bXlwYXNzd29yZA=="]}
        """))
        #expect(SolutionCheck.run(library: good, driver: SimulatedWorldDriver()).isEmpty)
        // An "alternative" that sends AUTH in clear is refused (530): check names its line.
        let (bad, _) = try Self.library(Self.scenario("""
                    - {fr: Minuscules, en: Lowercase, lines: ["ehlo pc", "starttls", "ehlo pc", "auth plain AGFsaWNlAG15cGFzc3dvcmQ="]}
                    - {fr: En clair, en: In clear, lines: ["EHLO pc", "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="]}
        """))
        let task = try #require(bad.scenarios.first?.tasks.first)
        let diagnostics = SolutionCheck.run(library: bad, driver: SimulatedWorldDriver())
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.line == task.alternatives[1].line)
        #expect(diagnostics.first?.message.en.hasPrefix("task 't': this alternative solution does not complete the exercise (In clear)") == true)
    }

    @Test func tallyCountsWhatCheckReplays() throws {
        let (library, _) = try Self.library(Self.scenario("""
                    - ["ehlo pc", "starttls", "ehlo pc", "auth plain AGFsaWNlAG15cGFzc3dvcmQ="]
        """))
        let tally = try #require(SolutionCheck.tally(library: library).first)
        #expect((tally.tasks, tally.solutions, tally.alternatives, tally.counterExamples) == (1, 1, 1, 0))
    }

    /// In the variants check, each learner's alternatives are replayed in their own world too: an
    /// alternative that hard-codes one learner's password fails in the other learners' worlds.
    @Test func alternativesAreCheckedInEveryLearnersWorld() throws {
        let vars = """
        vars:
          password: {choose: [mypassword, kiwi-lune-27, cobalt-fern-31, petit-moulin-8, harbour-owl-56, tournesol-2049]}
          plain: {base64: "\\\\0alice\\\\0{{password}}"}
        """
        func text(_ alternative: String) -> String {
            Self.scenario(alternative, vars: vars, password: "{{password}}")
                .replacingOccurrences(of: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=\"]\n", with: "AUTH PLAIN {{plain}}\"]\n")
        }
        let (_, good) = try Self.library(text("""
                    - ["ehlo pc", "starttls", "ehlo pc", "auth plain {{plain}}"]
        """))
        #expect(SolutionCheck.variants(paths: [good.path], reference: [], driver: SimulatedWorldDriver(), including: { _ in true }).isEmpty)
        let (_, hardCoded) = try Self.library(text("""
                    - ["ehlo pc", "starttls", "ehlo pc", "auth plain AGFsaWNlAG15cGFzc3dvcmQ="]
        """))
        let found = SolutionCheck.variants(paths: [hardCoded.path], reference: [], driver: SimulatedWorldDriver(), including: { _ in true })
        #expect(found.contains { $0.message.en.contains("this alternative solution does not complete") }, "\(found)")
    }

    @Test func cramMD5AndFollowVariants() {
        let text = """
        vars:
          password: {choose: [mypassword, other-pass-1, other-pass-2]}
          cram: {cram-md5: "alice {{password}} PDc4Mzk4NjAwOTQ3Nzk4NDc5NjYuMEBtYWlsLmV4YW1wbGUuY29tPg=="}
          box: {choose: ["[a, b]", "[a, b, c]", "[a, b, c, d]"]}
          size: {follow: [box, ["2", "3", "4"]]}
          broken: {follow: [nothing, ["1"]]}
        id: x
        """
        // The RFC 2195 answer the REPL's cram-md5 helper gives for this challenge and password.
        let first = Variants.expand(text, seed: "", file: "x.yaml")
        #expect(first.values["cram"] == "YWxpY2UgM2U2ZWIxN2FjMTRjZjBmMjFjYzM3YTA4OGFjYTA4N2Y=")
        #expect(first.errors.count == 1, "follow naming no choose variable is an error: \(first.errors)")
        for seed in ["ana", "ben", "chloé", "dev", "eli", "fatou"] {
            let values = Variants.expand(text, seed: seed, file: "x.yaml").values
            let items = (values["box"] ?? "").split(separator: ",").count
            #expect(String(items) == values["size"], "seed \(seed): \(values)")
            let password = values["password"] ?? ""
            #expect(values["cram"] == ReplCore.cramMD5Response(user: "alice", password: password,
                                                               challenge: Array(Data(base64Encoded: "PDc4Mzk4NjAwOTQ3Nzk4NDc5NjYuMEBtYWlsLmV4YW1wbGUuY29tPg==")!)).response)
        }
    }

    // MARK: The course's variants

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func course(_ seed: String) -> ContentLibrary {
        let saved = ContentLibrary.variantSeed
        defer { ContentLibrary.variantSeed = saved }
        ContentLibrary.variantSeed = seed
        let library = ContentLibrary.load(paths: ["Lessons", "Scenarios"].map { repository.appendingPathComponent($0).path })
        _ = (library.lessons, library.scenarios)
        return library
    }

    /// Lesson 2's base64 question: each learner's answer is the base64 of their own password, and
    /// the grader takes it; another learner's answer is wrong.
    @Test func theBase64QuizAnswerDiffersPerLearner() throws {
        func question(_ library: ContentLibrary) throws -> Question {
            let lesson = try #require(library.lessons.first { $0.id == "smtp" })
            return try #require(lesson.quiz.first { $0.id == "your-plain-string" })
        }
        func accepted(_ question: Question) -> String? {
            if case let .short(accepted) = question.kind { return accepted.first }
            return nil
        }
        var answers: [String: String] = [:]
        for seed in ["ana", "ben", "chloé", "dev", "eli", "fatou"] {
            let q = try question(Self.course(seed))
            let answer = try #require(accepted(q))
            let decoded = Data(base64Encoded: answer).map { String(decoding: $0, as: UTF8.self) } ?? ""
            #expect(decoded.hasPrefix("\u{0}alice\u{0}"), "\(seed): \(answer)")
            #expect(q.prompt.en.contains("'" + decoded.dropFirst(7) + "'"), "the question names the learner's password: \(q.prompt.en)")
            answers[seed] = answer
        }
        #expect(Set(answers.values).count >= 3, "\(answers)")
        let ana = try question(Self.course("ana"))
        let other = try #require(answers.first { $0.value != answers["ana"] }?.value)
        #expect(QuizGrader.grade(ana, answer: answers["ana"]!, language: .en).correct)
        #expect(!QuizGrader.grade(ana, answer: other, language: .en).correct, "another learner's string is not this learner's answer")
    }

    /// Alice's message count in the POP3/IMAP world follows her message list, and the lesson 4
    /// exercise's solution downloads and deletes exactly that many.
    @Test func thePOP3MessageCountDiffersPerLearner() throws {
        var counts: Set<Int> = []
        for seed in ["ana", "ben", "chloé", "dev", "eli", "fatou", "gus"] {
            let library = Self.course(seed)
            #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
            let world = try #require(library.scenarios.first { $0.id == "pop3-vs-imap" }?.world)
            let count = try #require(world.users.first { $0.address == "alice@example.com" }?.messages.count)
            let lesson = try #require(library.lessons.first { $0.id == "pop3" })
            let task = try #require(lesson.exercises.first { $0.task.id == "delete-mode" }?.task)
            #expect(task.solution?.filter { $0.hasPrefix("RETR ") }.count == count)
            #expect(task.solution?.filter { $0.hasPrefix("DELE ") }.count == count)
            counts.insert(count)
        }
        #expect(counts.count >= 2, "\(counts)")
    }

    /// Lesson 2's CRAM-MD5 exercise (issue 14 item 7) runs in Scenarios/cram-md5.yaml, whose
    /// password and world seed are drawn per learner: two learners see different passwords,
    /// challenges (read from the server's 334) and expected answers, and each one's solution
    /// completes the exercise only in their own world.
    @Test func theCRAMMD5ExerciseDiffersPerLearnerAndItsAnswerDoesNotTravel() throws {
        struct Learner {
            var library: ContentLibrary
            var index: Int
            var solution: [String]
            var password: String
            var worldSeed: UInt64
            var challenge: String
            var answer: String
        }
        func core(_ library: ContentLibrary, _ index: Int) -> (ReplCore, String) {
            let core = ReplCore(environment: ReplCore.Environment(library: library, driver: SimulatedWorldDriver(), store: nil, learner: "t",
                                                                  clock: { Date(timeIntervalSince1970: 0) }), language: .en)
            return (core, core.openExercise(lesson: "smtp", index: index))
        }
        func learner(_ seed: String) throws -> Learner {
            let library = Self.course(seed)
            #expect(library.diagnostics.isEmpty, "\(library.diagnostics.map { $0.render(.en) })")
            let lesson = try #require(library.lessons.first { $0.id == "smtp" })
            let index = try #require(lesson.exercises.firstIndex { $0.task.id == "cram-md5" })
            let exercise = lesson.exercises[index]
            #expect(exercise.scenario == "cram-md5")
            let scenario = try #require(library.scenarios.first { $0.id == "cram-md5" })
            let password = try #require(scenario.world.users.first { $0.address == "alice@example.com" }?.password)
            #expect(exercise.task.instructions.en.contains("'\(password)'"), "the task names the learner's password")
            // The challenge the server really sends in this learner's world.
            let (repl, _) = core(library, index)
            var out = ""
            for line in ["EHLO pc", "STARTTLS", "EHLO pc", "AUTH CRAM-MD5"] { out += repl.evaluate(line).text }
            let line = try #require(out.split(separator: "\n").last { $0.contains("334 ") }, "\(out)")
            let challenge = String(try #require(line.split(separator: " ").last))
            let bytes = try #require(Data(base64Encoded: challenge))
            let answer = ReplCore.cramMD5Response(user: "alice", password: password, challenge: Array(bytes)).response
            let solution = try #require(exercise.task.solution)
            #expect(solution.contains(answer), "the solution sends the answer to this world's challenge: \(solution)")
            #expect(solution.contains("!cram-md5 alice \(password) \(challenge)"))
            return Learner(library: library, index: index, solution: solution, password: password, worldSeed: scenario.seed,
                           challenge: challenge, answer: answer)
        }
        func completes(_ lines: [String], in learner: Learner) -> Bool {
            let (repl, _) = core(learner.library, learner.index)
            for line in lines { _ = repl.evaluate(line) }
            return repl.attemptStatus?.complete == true
        }
        let ana = try learner("ana")
        // The same seed gives the same values and the same challenge.
        let again = try learner("ana")
        #expect(again.password == ana.password && again.challenge == ana.challenge && again.answer == ana.answer)
        // Another learner whose password and world seed both differ from ana's.
        var other: Learner?
        for seed in ["ben", "chloé", "dev", "eli", "fatou", "gus", "hana", "ines", "jo"] {
            let candidate = try learner(seed)
            if candidate.password != ana.password, candidate.worldSeed != ana.worldSeed { other = candidate; break }
        }
        let ben = try #require(other)
        #expect(ben.challenge != ana.challenge, "the challenge follows the world's seed")
        #expect(ben.answer != ana.answer)
        #expect(completes(ana.solution, in: ana))
        #expect(completes(ben.solution, in: ben))
        #expect(!completes(ana.solution, in: ben), "ana's answer must be refused in ben's world")
        #expect(!completes(ben.solution, in: ana), "ben's answer must be refused in ana's world")
    }

    @Test func theCourseUsesVariantsInManyFiles() throws {
        let files = try ["Lessons", "Scenarios"].flatMap { folder -> [String] in
            let dir = Self.repository.appendingPathComponent(folder)
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).map { dir.appendingPathComponent($0).path }
        }
        let withVars = files.filter { (try? String(contentsOfFile: $0, encoding: .utf8))?.contains("\nvars:") == true }
        #expect(withVars.count >= 5, "\(withVars)")
    }
}
