import Foundation
import Testing

/// `maillab replay` and the REPL against the real simulated world, run as a learner would.
@Suite struct ReplayCommandTests {
    /// A folder with `Scenarios/mx-failover.yaml`, whose expectations hold without a learner.
    static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }

    static func replay(_ arguments: [String], stdin: String = "") throws -> CommandLineTests.Result {
        try CommandLineTests.run(["replay", "mx-failover"] + arguments, stdin: stdin,
                                 environment: ["MAILLAB_CONTENT": fixtures])
    }

    @Test func autoReplayPassesAndShowsDialogueAndDiagram() throws {
        let result = try Self.replay(["--auto"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let out = result.stdout
        #expect(out.hasPrefix("# MX failover (test)\n"))
        #expect(out.contains("[2/9] down mail1.company.org\nmail1.company.org is down.\n"))
        #expect(out.contains("#1 laptop → mail.example.com:587  +0.000s\n  S: 220 mail.example.com ESMTP Postfix\n  C: EHLO laptop.local\n"))
        #expect(out.contains("  C: STARTTLS\n  S: 220 2.0.0 Ready to start TLS\n  -- TLS starts --\n  C~ EHLO laptop.local\n"))
        // The diagram: a column per host, arrows for the connection, commands and replies.
        #expect(out.contains("mail.example.com"))
        #expect(out.contains("   +0.030s           │◀───────────────STARTTLS─────────────────│\n"), "\(out)")
        #expect(out.contains("  +30.085s           │───────SYN… ×──────▶│                    │\n"), "\(out)")
        #expect(out.contains("  ✓ The message waits at mail2\n"))
        #expect(out.contains("  ✓ No queue left\n"))
        #expect(!out.contains("✗"))
        #expect(!out.contains("\u{1B}["), "NO_COLOR is set: no escape sequences")
    }

    @Test func sameSeedGivesByteIdenticalTranscripts() throws {
        let first = try Self.replay(["--auto", "--transcript", "-"])
        let second = try Self.replay(["--auto", "--transcript", "-"])
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("== 192.0.2.10:49152 → 198.51.100.25:587 (mail.example.com) at +0.000s\nS: 220 "))
        #expect(first.stdout.contains("C: AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ="))
        #expect(first.stdout == second.stdout)
        #expect(first.stderr.contains("[1/9] narrate"), "with --transcript - the steps go to standard error")
        let reseeded = try Self.replay(["--auto", "--seed", "8", "--transcript", "-"])
        #expect(reseeded.status == 0)
        #expect(reseeded.stdout != first.stdout, "queue ids come from the seed")
    }

    @Test func transcriptAndPcapFiles() throws {
        let dir = try CommandLineTests.tempDir()
        let transcript = dir.appendingPathComponent("t.txt").path
        let pcap = dir.appendingPathComponent("c.pcap").path
        let result = try Self.replay(["--auto", "--transcript", transcript, "--pcap", pcap])
        #expect(result.status == 0)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pcap)))
        #expect(Array(bytes.prefix(4)) == [0xD4, 0xC3, 0xB2, 0xA1], "classic pcap magic, little-endian")
        #expect(bytes.count > 1000)
        let text = try String(contentsOfFile: transcript, encoding: .utf8)
        #expect(text.contains("S: 250 2.0.0 Ok: queued as "))
        let unwritable = try Self.replay(["--auto", "--pcap", "/nonexistent-dir/x.pcap"])
        #expect(unwritable.status == 2)
        #expect(unwritable.stderr.contains("cannot write /nonexistent-dir/x.pcap"))
    }

    @Test func interactiveStepsBackAndQuits() throws {
        // Enter twice, back, Enter, quit.
        let result = try Self.replay([], stdin: "\n\nb\n\nq\n")
        #expect(result.status == 0)
        let out = result.stdout
        #expect(out.components(separatedBy: "[2/9] down mail1.company.org").count == 3, "step 2 shown twice: \(out)")
        #expect(out.contains("Back before step 2 (world replayed from the start)."))
        #expect(!out.contains("[3/9]"))
        let run = try Self.replay([], stdin: "r\n")
        #expect(run.stdout.contains("[9/9] expect (2)"))
        #expect(run.stdout.contains("End of the scenario."))
    }

    @Test func failingExpectationExitsOne() throws {
        let dir = try CommandLineTests.tempDir()
        let scenarios = dir.appendingPathComponent("Scenarios")
        try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
        try """
        id: wrong
        title: {fr: Faux, en: Wrong}
        seed: 1
        world:
          hosts:
            - {name: mail.example.com, address: 198.51.100.25, services: [smtp], mta: {domains: [example.com]}}
          users:
            - {address: alice@example.com, login: alice, password: pw, host: mail.example.com}
        steps:
          - expect:
              - {fr: Un message, en: A message, mailbox-count: {user: alice, count: 1}}
        """.write(to: scenarios.appendingPathComponent("wrong.yaml"), atomically: true, encoding: .utf8)
        let result = try CommandLineTests.run(["replay", "wrong", "--auto"], environment: ["MAILLAB_CONTENT": dir.path])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("  ✗ A message"))
        let unknown = try CommandLineTests.run(["replay", "nope", "--auto"], environment: ["MAILLAB_CONTENT": dir.path])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown scenario: nope"))
    }

    @Test func scriptedREPLAgainstTheDefaultWorld() throws {
        let script = """
        dig company.org MX
        connect mail.example.com 587
        EHLO pc.example.com
        AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=
        STARTTLS
        EHLO pc.example.com
        AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=
        MAIL FROM:<alice@example.com>
        RCPT TO:<bob@company.org>
        DATA
        Subject: Lunch

        At noon?
        .
        QUIT
        advance 1m
        mailbox bob

        """
        let dir = try CommandLineTests.tempDir()
        let result = try CommandLineTests.run(["--data-dir", dir.path], stdin: script,
                                              environment: ["MAILLAB_CONTENT": Self.fixtures])
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("""
            ;; status: NOERROR
            company.org.\t3600\tIN\tMX\t10 mail1.company.org.
            company.org.\t3600\tIN\tMX\t20 mail2.company.org.
            company.org.\t3600\tIN\tMX\t30 mail-backup.example.net.

            """), "\(out)")
        #expect(out.contains("S: 530 5.7.0 Must issue a STARTTLS command first\n» 530 — "))
        #expect(out.contains("(TLS established: mail.example.com"))
        #expect(out.contains("(authenticated: alice)"))
        #expect(out.contains("Lunch"))
    }
}

/// Issue 7: every shipped scenario replays to its end, every expectation holding, in both languages.
@Suite struct ShippedScenarioReplayTests {
    static var scenarioIDs: [String] {
        let folder = CommandLineTests.repository + "/Scenarios"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func everyScenarioReplaysWithAutoInFrenchAndEnglish() throws {
        let ids = Self.scenarioIDs
        #expect(ids.count >= 11)
        for id in ids {
            for language in ["fr", "en"] {
                let result = try CommandLineTests.run(["replay", id, "--auto", "--lang", language, "--no-color"],
                                                      environment: ["MAILLAB_CONTENT": CommandLineTests.repository])
                #expect(result.status == 0, "replay \(id) --lang \(language): \(result.stdout.suffix(600))\(result.stderr.suffix(300))")
            }
        }
    }
}
