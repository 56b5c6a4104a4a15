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
        #expect(out.contains("[2/9] down mail1.company.org · +0.000s\nmail1.company.org is down.\n"))
        #expect(out.contains("#1 laptop → mail.example.com:587  +0.000s\n  S: 220 mail.example.com ESMTP Postfix\n  C: EHLO laptop.local\n"))
        #expect(out.contains("  C: STARTTLS\n  S: 220 2.0.0 Ready to start TLS\n  -- TLS starts --\n  C~ EHLO laptop.local\n"))
        // The diagram: a column per host, arrows for the connection, commands and replies.
        #expect(out.contains("mail.example.com"))
        #expect(out.contains("+0.030s              │────────STARTTLS────────▶│\n"), "\(out)")
        #expect(out.contains("Legend: C client, S server"))
        // The relay of step 3's message runs during step 4 (advance): shown whole there, with the
        // attempt to the down primary MX.
        let step4 = try #require(out.components(separatedBy: "[4/9] advance 1m").last?.components(separatedBy: "[5/9]").first)
        #expect(step4.contains("#2 mail.example.com → mail1.company.org:25"))
        #expect(step4.contains("  -- no answer (timed out) --"))
        #expect(step4.contains("SYN… × no answer"), "\(step4)")
        #expect(!out.components(separatedBy: "[4/9]").first!.contains("mail2.company.org ESMTP"))
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
        #expect(first.stderr.contains("[1/9] narrate"), "with --transcript - the steps go to standard error: \(first.stderr)")
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
        // Enter three times, back (shows step 2 again), Enter (step 3 again), quit.
        let result = try Self.replay([], stdin: "\n\n\nb\n\nq\n")
        #expect(result.status == 0)
        let out = result.stdout
        #expect(out.components(separatedBy: "[2/9] down mail1.company.org").count == 3, "step 2 shown twice: \(out)")
        #expect(out.components(separatedBy: "[3/9] send laptop").count == 3, "step 3 shown twice")
        #expect(!out.contains("[4/9]"))
        // t: diagram only, then transcript only; l: French.
        let views = try Self.replay([], stdin: "\n\n\nt\nt\nl\nq\n")
        let parts = views.stdout.components(separatedBy: "[3/9] send laptop")
        #expect(parts.count == 4, "\(views.stdout)")
        #expect(parts[2].contains("Legend:") && !parts[2].contains("  C: EHLO"), "diagram only")
        #expect(!parts[3].contains("Legend:") && parts[3].contains("  C: EHLO"), "transcript only")
        #expect(views.stdout.contains("[3/9] envoi laptop → bob@company.org"), "l switches to French")
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

    /// Issue 16: the replay fits 80, 120 and 200 columns; `--pace` spaces the steps out.
    @Test(arguments: [80, 120, 200])
    func replayFitsTheWidth(width: Int) throws {
        for language in ["en", "fr"] {
            let result = try Self.replay(["--auto", "--width", "\(width)", "--lang", language])
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let long = lines.filter { $0.count > width }
            #expect(long.isEmpty, "\(long.count) lines longer than \(width): \(long.prefix(3))")
            for host in ["laptop", "mail.example.com", "mail1.company.org", "mail2.company.org"] {
                #expect(result.stdout.contains(host), "\(host) at \(width)")
            }
            #expect(result.stdout.contains(language == "fr" ? "Légende :" : "Legend:"))
        }
        let bad = try Self.replay(["--auto", "--width", "10"])
        #expect(bad.status != 0 && bad.stderr.contains("--width"))
    }

    @Test func paceSpacesTheStepsOut() throws {
        let start = Date()
        let result = try Self.replay(["--auto", "--pace", "100ms"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 0)
        #expect(elapsed >= 0.8, "8 pauses of 100 ms between 9 steps: \(elapsed) s")
        let bad = try Self.replay(["--auto", "--pace", "soon"])
        #expect(bad.status != 0 && bad.stderr.contains("--pace"))
    }

    @Test func htmlExportIsOneSelfContainedFile() throws {
        let dir = try CommandLineTests.tempDir()
        let file = dir.appendingPathComponent("replay.html").path
        let result = try Self.replay(["--html", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Page written: \(file) (9 steps)."))
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(html.range(of: #"(src|href)\s*=\s*["']?\s*(https?:)?//"#, options: .regularExpression) == nil)
        #expect(!html.contains("http:") && !html.contains("https:"))
        for step in 1...9 { #expect(html.contains("id=\"step-\(step)\"")) }
        #expect(html.contains("The primary MX fails") && html.contains("Le MX principal tombe"))
    }

    static let tshark: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `--keylog` beside `--pcap`: with the key log, tshark decrypts the STARTTLS sessions and
    /// shows the AUTH and DATA lines that were inside TLS; without it, it does not.
    @Test(.enabled(if: tshark != nil, "needs tshark (apt-get install tshark); skipped"))
    func keylogLetsTsharkDecryptTheTLSSessions() throws {
        let dir = try CommandLineTests.tempDir()
        let pcap = dir.appendingPathComponent("c.pcap").path
        let keys = dir.appendingPathComponent("k.log").path
        let result = try Self.replay(["--auto", "--pcap", pcap, "--keylog", keys])
        #expect(result.status == 0, "\(result.stderr)")
        let keylog = try String(contentsOfFile: keys, encoding: .utf8)
        #expect(keylog.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET ") || keylog.contains("CLIENT_RANDOM "), "\(keylog.prefix(300))")
        func tshark(_ extra: [String], filter: String = "smtp", fields: [String] = ["smtp.req.command", "smtp.req.parameter"]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.tshark!)
            process.arguments = ["-r", pcap] + extra + ["-Y", filter, "-T", "fields"] + fields.flatMap { ["-e", $0] }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let clear = try tshark([])
        let decrypted = try tshark(["-o", "tls.keylog_file:" + keys])
        // tshark splits STARTTLS into "STAR" and "TLS"; pipelined commands come as MAIL,RCPT,DATA.
        #expect(clear.contains("EHLO") && clear.contains("STAR") && !clear.contains("AUTH"), "without keys only the clear part: \(clear)")
        #expect(decrypted.contains("AUTH\tPLAIN AGFsaWNlAG15cGFzc3dvcmQ="), "\(decrypted)")
        #expect(decrypted.contains("MAIL,RCPT,DATA\tFROM:<alice@example.com>"), "\(decrypted)")
        #expect(decrypted.contains("TO:<bob@company.org>"))
        // The message itself (DATA's content) is dissected only with the keys.
        let fields = ["imf.subject", "imf.from"]
        #expect(try tshark([], filter: "imf", fields: fields).isEmpty)
        #expect(try tshark(["-o", "tls.keylog_file:" + keys], filter: "imf", fields: fields).contains("=?UTF-8?Q?R=C3=A9union?=\talice@example.com"))
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
        // The REPL may warn about the secret sent in clear before it explains the code.
        #expect(out.contains("S: 530 5.7.0 Must issue a STARTTLS command first\n» "))
        #expect(out.contains("» 530 — "))
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
