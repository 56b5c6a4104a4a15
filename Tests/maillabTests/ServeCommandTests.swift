import Dispatch
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

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

    /// Listening on a network address needs student accounts (no shared passwords on a network).
    @Test func listenOnANetworkNeedsAccounts() throws {
        let dir = try CommandLineTests.tempDir()
        let result = try CommandLineTests.run(["serve", "--listen", "0.0.0.0", "--data-dir", dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--class N or --roster FILE.csv"), "\(result.stderr)")
        let both = try CommandLineTests.run(["serve", "--class", "2", "--roster", "x.csv", "--data-dir", dir.path])
        #expect(both.status == 2)
        let badSize = try CommandLineTests.run(["serve", "--log-max", "lots", "--data-dir", dir.path])
        #expect(badSize.status == 2 && badSize.stderr.contains("--log-max"), "\(badSize.stderr)")
    }

    /// `--class 3` prints three accounts and writes the teacher's CSV; the autoconfig URL is
    /// printed; the session log rotates at `--log-max`, keeping `--log-keep` files.
    @Test func classAccountsAndLogRotation() throws {
        let dir = try CommandLineTests.tempDir()
        let csv = dir.appendingPathComponent("class.csv").path
        let logPath = dir.appendingPathComponent("serve.log").path
        guard let (process, output, text) = try Self.startServe([
            "--class", "3", "--accounts-file", csv, "--log", logPath, "--log-max", "2KB", "--log-keep", "2",
            "--expose", "mail.example.com", "mail1.company.org",
        ]) else { return }
        #expect(text.contains("Student accounts (3):"), "\(text)")
        #expect(text.contains("student01 / ") && text.contains("(student01@company.org, Student 01)"), "\(text)")
        #expect(text.contains("student02@example.com"), "\(text)")
        #expect(text.contains("Autoconfig (Thunderbird): http://127.0.0.1:"), "\(text)")
        let table = (try? String(contentsOfFile: csv, encoding: .utf8)) ?? ""
        let rows = table.split(separator: "\r\n")
        #expect(rows.count == 4, "\(table)")
        #expect(rows.first?.hasPrefix("name,login,address,password,server,smtp_submission_port") == true)
        let attributes = try? FileManager.default.attributesOfItem(atPath: csv)
        #expect((attributes?[.posixPermissions] as? Int) == 0o600)
        // Some traffic for the log: plain connections to mail1's port 25 (greeting, QUIT).
        let port = text.components(separatedBy: "\n").first { $0.hasPrefix("mail1.company.org  smtp ") }?
            .split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }
        if let port {
            for _ in 0..<40 { Self.greetAndQuit(port: port) }
        } else {
            Issue.record("no port 25 for mail1.company.org in \(text)")
        }
        Thread.sleep(forTimeInterval: 0.5)
        process.interrupt()
        _ = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let files = FileManager.default
        #expect(files.fileExists(atPath: logPath) && files.fileExists(atPath: logPath + ".1") && files.fileExists(atPath: logPath + ".2"))
        #expect(!files.fileExists(atPath: logPath + ".3"))
        for path in [logPath, logPath + ".1", logPath + ".2"] {
            let size = (try? files.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            // The log is written in batches (every 20 ms at most) but rotated between lines:
            // no file passes the limit.
            #expect((size ?? 0) <= 2_000, "\(path): \(size ?? -1) bytes")
        }
    }

    /// Connects to 127.0.0.1:`port`, reads the greeting, sends QUIT and reads to the end.
    static func greetAndQuit(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 1024)
        _ = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let quit = Array("QUIT\r\n".utf8)
        _ = quit.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
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
