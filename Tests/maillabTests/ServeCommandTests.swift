import Dispatch
import Foundation
import Testing

/// `maillab serve` as a user runs it: start-up table, CA file, a real client, Ctrl-C.
@Suite struct ServeCommandTests {
    @Test func unknownScenarioIsAUsageError() throws {
        let result = try CommandLineTests.run(["serve", "--scenario", "no-such-scenario"],
                                              environment: ["MAILLAB_CONTENT": CommandLineTests.repository])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown scenario: no-such-scenario"), "\(result.stderr)")
    }

    /// A scenario's world comes from the tutor's world driver: with an offset too large the
    /// world is built and the port plan refuses it (exit 2, nothing served).
    @Test func scenarioWorldComesFromTheWorldDriver() throws {
        let result = try CommandLineTests.run(["serve", "--scenario", "mx-failover", "--port-offset", "63000"],
                                              environment: ["MAILLAB_CONTENT": CommandLineTests.repository])
        #expect(result.status == 2)
        #expect(result.stderr.contains("above 65535"), "\(result.stderr)")
    }

    @Test func servesAScenarioWorld() throws {
        guard let (process, output, text) = try Self.startServe(["--scenario", "mx-failover", "--expose",
                                                                  "mail1.company.org", "mail2.company.org"]) else { return }
        // mx-failover's servers in its order: mail1.company.org is the second, mail2 the third.
        #expect(text.contains("mail1.company.org  pop3"), "\(text)")
        #expect(text.contains("mail2.company.org  smtp"), "\(text)")
        #expect(!text.contains("mail.example.com  smtp"))
        process.interrupt()
        _ = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// Starts `maillab serve` on a free random offset with `arguments`; returns the process, its
    /// output pipe and the start-up text, or nil after recording an issue.
    static func startServe(_ arguments: [String]) throws -> (Process, Pipe, String)? {
        let dir = try CommandLineTests.tempDir()
        for _ in 0..<5 {
            let offset = 20_000 + 1_000 * Int.random(in: 0..<40)
            let process = Process()
            process.executableURL = CommandLineTests.executable
            process.arguments = ["serve", "--port-offset", "\(offset)", "--data-dir", dir.path] + arguments
            var env = ProcessInfo.processInfo.environment
            env["LANG"] = "C"
            env["MAILLAB_CONTENT"] = CommandLineTests.repository
            env.removeValue(forKey: "LC_ALL")
            process.environment = env
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Safety net: a serve that outlives the test is killed (the test then fails on its status).
            DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if process.isRunning { process.terminate() } }
            var text = ""
            while !text.contains("Ctrl-C to stop.") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            if text.contains("Ctrl-C to stop.") { return (process, output, text) }
            process.waitUntilExit()
            let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if err.contains("cannot listen") { continue }  // port taken: another offset
            Issue.record("serve did not start (offset \(offset)): \(text)\(err)")
            return nil
        }
        Issue.record("no free block of ports found in five tries")
        return nil
    }

    @Test func offsetTooLargeIsAUsageError() throws {
        let dir = try CommandLineTests.tempDir()
        let result = try CommandLineTests.run(["serve", "--port-offset", "63000", "--data-dir", dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("above 65535"), "\(result.stderr)")
    }

    @Test func servesPrintsTheTableAndStopsOnInterrupt() throws {
        let dir = try CommandLineTests.tempDir()
        for _ in 0..<5 {
            let offset = 20_000 + 1_000 * Int.random(in: 0..<40)
            let process = Process()
            process.executableURL = CommandLineTests.executable
            process.arguments = ["serve", "--port-offset", "\(offset)", "--expose", "mail.example.com", "--data-dir", dir.path]
            var env = ProcessInfo.processInfo.environment
            env["LANG"] = "C"
            env.removeValue(forKey: "LC_ALL")
            process.environment = env
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Safety net: a serve that outlives the test is killed (the test then fails on its status).
            DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if process.isRunning { process.terminate() } }
            var text = ""
            while !text.contains("Ctrl-C to stop.") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            if !text.contains("Ctrl-C to stop.") {
                process.waitUntilExit()
                let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                if err.contains("cannot listen") { continue }  // port taken: another offset
                Issue.record("serve did not start (offset \(offset)): \(text)\(err)")
                return
            }
            #expect(text.contains("mail.example.com  submission  587"), "\(text)")
            #expect(text.contains("127.0.0.1:\(offset + 587)"))
            #expect(text.contains("alice / mypassword"))
            #expect(!text.contains("mail1.company.org"))
            let caPath = dir.appendingPathComponent("maillab-ca.pem").path
            #expect(text.contains(caPath))
            let pem = try String(contentsOfFile: caPath, encoding: .utf8)
            #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))

            if let curl = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            }) {
                let mail = dir.appendingPathComponent("m.eml")
                try "Subject: cli\r\n\r\nhello\r\n".write(to: mail, atomically: true, encoding: .utf8)
                let port = offset + 587
                let client = Process()
                client.executableURL = URL(fileURLWithPath: curl)
                client.arguments = ["-sS", "--max-time", "30", "--ssl-reqd", "--cacert", caPath,
                                    "--connect-to", "mail.example.com:\(port):127.0.0.1:\(port)",
                                    "smtp://mail.example.com:\(port)/cli.example", "--mail-from", "alice@example.com",
                                    "--mail-rcpt", "bob@company.org", "--upload-file", mail.path, "-u", "alice:mypassword"]
                client.standardOutput = FileHandle.nullDevice
                client.standardError = FileHandle.nullDevice
                try client.run()
                client.waitUntilExit()
                #expect(client.terminationStatus == 0)
            } else {
                print("skipped the curl part: curl is not installed")
            }

            process.interrupt()  // SIGINT, as Ctrl-C
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            text += String(decoding: rest, as: UTF8.self)
            #expect(process.terminationStatus == 0)
            #expect(text.contains("maillab serve stopped."), "\(text)")
            if text.contains("C: MAIL FROM:<alice@example.com>") {
                // curl sends AUTH with the strongest mechanism offered (CRAM-MD5 when listed,
                // else PLAIN), then its response after `334`: the response is hidden.
                #expect(text.contains("C: AUTH PLAIN\n") || text.contains("C: AUTH CRAM-MD5\n"))
                #expect(text.contains("C: ****\n"))
                #expect(!text.contains("AGFsaWNlAG15cGFzc3dvcmQ"))
            }
            return
        }
        Issue.record("no free block of ports found in five tries")
    }
}
