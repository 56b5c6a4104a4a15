import Foundation
import MailAgents
import MailSim
import NIOCore
import Testing
@testable import MailBridge

/// Collects the bridge's log lines (written from the bridge's loop, read from the test).
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
    var text: String { all.joined(separator: "\n") }
}

/// A running bridge over the course world, on a random offset (printed, so a failure can be
/// reproduced), exposing mail.example.com and mail1.company.org.
struct BridgeFixture {
    let bridge: LoopbackBridge
    let log: LogCollector
    let offset: Int
    let caPath: String
    let folder: URL

    init(maxConnectionsPerPort: Int = 64, maxInputBytesPerTick: Int = 1 << 20,
         configure: (inout BridgeConfiguration) -> Void = { _ in }) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("maillab-bridge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
        var lastError: Error?
        for _ in 0..<8 {
            let offset = 20_000 + 1_000 * Int.random(in: 0..<40)
            let log = LogCollector()
            var config = BridgeConfiguration()
            config.portOffset = offset
            config.expose = ["mail.example.com", "mail1.company.org"]
            config.maxConnectionsPerPort = maxConnectionsPerPort
            config.maxInputBytesPerWindow = maxInputBytesPerTick
            configure(&config)
            let bridge = try LoopbackBridge(world: try MailWorld.course(seed: 7), configuration: config,
                                            log: { log.append($0) })
            do {
                try bridge.start()
            } catch {
                lastError = error
                continue
            }
            let caPath = folder.appendingPathComponent("maillab-ca.pem").path
            try bridge.certificateAuthorityPEM.write(toFile: caPath, atomically: true, encoding: .utf8)
            self.bridge = bridge
            self.log = log
            self.offset = offset
            self.caPath = caPath
            print("bridge test offset \(offset)")
            return
        }
        throw lastError ?? BridgeError(fr: "aucun port libre", en: "no free port")
    }

    /// Real port of a simulated port of mail.example.com (block 0) or mail1.company.org (block 1).
    func port(_ virtual: Int, host: Int = 0) -> Int { offset + 1_000 * host + virtual }

    func stop() {
        bridge.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Messages in bob's INBOX (company.org's store).
    func bobMessages() throws -> [String] {
        try bridge.withWorld { world in
            try world.store(for: "company.org").messages(user: "bob").map { String(decoding: $0.raw, as: UTF8.self) }
        }
    }

    func waitForBob(count: Int) -> Bool {
        bridge.wait(timeout: .seconds(30)) { world in
            ((try? world.store(for: "company.org").messages(user: "bob").count) ?? 0) >= count
        }
    }
}

/// Runs real programs found on PATH.
enum RealClient {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs `program` with `arguments`, feeding nothing, and returns its exit status and its
    /// standard output and error together.
    static func run(_ program: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Runs a Python script (written to a file in `folder`) with arguments.
    static func python(_ script: String, _ arguments: [String], in folder: URL) throws -> Result? {
        guard let python = find("python3") else {
            print("skipped: python3 is not installed")
            return nil
        }
        let file = folder.appendingPathComponent("client-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        return try run(python, [file.path] + arguments)
    }
}

enum Scripts {
    static let message = """
        From: Alice <alice@example.com>\r
        To: Bob <bob@company.org>\r
        Subject: SUBJECT\r
        \r
        Hello Bob,\r
        .a line that starts with a dot\r
        bye\r

        """

    /// smtplib: STARTTLS on submission, verifying the world CA for mail.example.com.
    /// smtplib takes the TLS server name from `self._host`, which `connect()` sets to the address
    /// it was given: it is set to the certificate's name after connecting to 127.0.0.1.
    static let smtpStartTLS = #"""
        import smtplib, ssl, sys
        port, ca, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        ctx = ssl.create_default_context(cafile=ca)
        s = smtplib.SMTP(local_hostname='client.example')
        code, banner = s.connect('127.0.0.1', port)
        print('connect', code, banner.decode())
        s._host = 'mail.example.com'
        print('ehlo', s.ehlo()[0])
        print('starttls', s.starttls(context=ctx)[0])
        print('tls', s.sock.version())
        print('ehlo', s.ehlo()[0], 'auth' in s.esmtp_features)
        print('login', s.login('alice', 'mypassword')[0])
        msg = open(sys.argv[4]).read().replace('SUBJECT', subject)
        print('refused', s.sendmail('alice@example.com', ['bob@company.org'], msg))
        print('quit', s.quit()[0])
        """#

    /// smtplib over implicit TLS (465): `_get_socket` connects to 127.0.0.1 but wraps with the
    /// certificate's name.
    static let smtpImplicitTLS = #"""
        import smtplib, socket, ssl, sys
        port, ca, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(smtplib.SMTP_SSL):
            def _get_socket(self, host, port, timeout):
                raw = socket.create_connection(('127.0.0.1', port), timeout)
                return self.context.wrap_socket(raw, server_hostname=host)
        s = Bridged('mail.example.com', port, local_hostname='client.example', context=ctx, timeout=20)
        print('tls', s.sock.version())
        print('login', s.login('alice', 'mypassword')[0])
        msg = open(sys.argv[4]).read().replace('SUBJECT', subject)
        print('refused', s.sendmail('alice@example.com', ['bob@company.org'], msg))
        print('quit', s.quit()[0])
        """#

    /// smtplib sending a large message (base64-like lines) over STARTTLS.
    static let smtpLarge = #"""
        import smtplib, ssl, sys
        port, ca, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        ctx = ssl.create_default_context(cafile=ca)
        s = smtplib.SMTP(local_hostname='client.example', timeout=60)
        s.connect('127.0.0.1', port)
        s._host = 'mail.example.com'
        s.starttls(context=ctx)
        s.login('alice', 'mypassword')
        line = ('0123456789' * 7 + 'abcdef\r\n')
        body = line * (size // len(line))
        msg = 'Subject: large\r\n\r\n' + body
        print('refused', s.sendmail('alice@example.com', ['bob@company.org'], msg))
        print('lines', size // len(line))
        s.quit()
        """#

    /// A raw socket: greeting, QUIT, half-close, then read to the end.
    static let halfClose = #"""
        import socket, sys
        s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 20)
        f = b''
        while b'\r\n' not in f: f += s.recv(4096)
        s.sendall(b'QUIT\r\n')
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            f += chunk
        print(f.decode().replace('\r\n', '|'))
        print('eof')
        """#

    /// A connection aborted with a RST (SO_LINGER 0) right after the greeting.
    static let reset = #"""
        import socket, struct, sys
        s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 20)
        print('greeting', s.recv(4096).decode().strip())
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()
        print('reset sent')
        """#

    /// Two connections on a port that admits one: the second is closed before any greeting.
    static let overLimit = #"""
        import socket, sys
        port = int(sys.argv[1])
        a = socket.create_connection(('127.0.0.1', port), 20)
        print('first', a.recv(4096).decode().strip())
        b = socket.create_connection(('127.0.0.1', port), 20)
        try:
            data = b.recv(4096)
        except ConnectionResetError:
            data = b''
        print('second', 'closed' if data == b'' else data.decode().strip())
        a.sendall(b'QUIT\r\n')
        print('first', a.recv(4096).decode().strip())
        """#
}

@Suite(.serialized) struct RealClientTests {
    func writeMessage(_ fixture: BridgeFixture) throws -> String {
        let path = fixture.folder.appendingPathComponent("message.eml").path
        try Scripts.message.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func pythonSmtplibStartTLSLoginSendmail() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let message = try writeMessage(fixture)
        guard let result = try RealClient.python(Scripts.smtpStartTLS,
                                                 ["\(fixture.port(587))", fixture.caPath, "via smtplib", message],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("connect 220 mail.example.com ESMTP"), "\(result.output)")
        #expect(result.output.contains("starttls 220"))
        #expect(result.output.contains("login 235"))
        #expect(result.output.contains("refused {}"))
        #expect(result.output.contains("quit 221"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        let stored = try fixture.bobMessages()
        #expect(stored.count == 1)
        #expect(stored.first?.contains("Subject: via smtplib") == true)
        #expect(stored.first?.contains("\r\n.a line that starts with a dot\r\n") == true)
        // The log shows the plaintext inside TLS with the credentials hidden.
        let log = fixture.log.text
        #expect(log.contains("C: STARTTLS"))
        #expect(log.contains("-- TLS started --"))
        // smtplib picks the strongest mechanism offered (CRAM-MD5 when listed, else PLAIN).
        #expect(log.contains("C: AUTH PLAIN ****") || log.contains("C: AUTH CRAM-MD5\n#1 S: 334 "), "\(log)")
        #expect(log.contains("S: 235 2.7.0"))
        #expect(log.contains("C: Subject: via smtplib"))
        #expect(!log.contains("mypassword"))
        #expect(!log.contains("AGFsaWNlAG15cGFzc3dvcmQ"))
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func pythonSmtplibImplicitTLS() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let message = try writeMessage(fixture)
        guard let result = try RealClient.python(Scripts.smtpImplicitTLS,
                                                 ["\(fixture.port(465))", fixture.caPath, "over 465", message],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("login 235"))
        #expect(result.output.contains("refused {}"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        #expect(try fixture.bobMessages().first?.contains("Subject: over 465") == true)
    }

    @Test(.enabled(if: RealClient.find("curl") != nil, "curl is not installed"))
    func curlSmtpWithSslReqd() throws {
        guard let curl = RealClient.find("curl") else {
            print("skipped: curl is not installed")
            return
        }
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let path = fixture.folder.appendingPathComponent("curl.eml").path
        try Scripts.message.replacingOccurrences(of: "SUBJECT", with: "via curl")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let port = fixture.port(587)
        let result = try RealClient.run(curl, [
            "-sS", "--max-time", "30", "--ssl-reqd", "--cacert", fixture.caPath,
            "--connect-to", "mail.example.com:\(port):127.0.0.1:\(port)",
            "smtp://mail.example.com:\(port)/client.example",
            "--mail-from", "alice@example.com", "--mail-rcpt", "bob@company.org",
            "--upload-file", path, "-u", "alice:mypassword",
        ])
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)\n\(fixture.log.text)")
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        #expect(try fixture.bobMessages().first?.contains("Subject: via curl") == true)
        #expect(!fixture.log.text.contains("mypassword"))
    }

    @Test(.enabled(if: RealClient.find("curl") != nil, "curl is not installed"))
    func curlRefusesAWrongCertificateName() throws {
        guard let curl = RealClient.find("curl") else {
            print("skipped: curl is not installed")
            return
        }
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        // mail1.company.org's block, but the client expects mail.example.com's certificate.
        let port = fixture.port(587, host: 1)
        let result = try RealClient.run(curl, [
            "-sS", "--max-time", "30", "--ssl-reqd", "--cacert", fixture.caPath,
            "--connect-to", "mail.example.com:\(port):127.0.0.1:\(port)",
            "smtp://mail.example.com:\(port)/client.example", "--mail-from", "alice@example.com",
            "--mail-rcpt", "bob@company.org", "--upload-file", "/dev/null",
        ])
        // curl exit 60: peer certificate cannot be authenticated with known CA certificates.
        #expect(result.status == 60, "\(result.output)")
    }

    /// 3 MB through a bridge that reads at most 64 KiB per tick from a client: reading pauses
    /// and resumes, and every byte arrives in order.
    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func largeMessageWithPausedReading() throws {
        let fixture = try BridgeFixture(maxInputBytesPerTick: 64 * 1024)
        defer { fixture.stop() }
        guard let result = try RealClient.python(Scripts.smtpLarge, ["\(fixture.port(587))", fixture.caPath, "3000000"],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("refused {}"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        let stored = try fixture.bobMessages().first ?? ""
        let lines = stored.components(separatedBy: "\r\n").filter { $0 == String(repeating: "0123456789", count: 7) + "abcdef" }
        #expect(lines.count == 3_000_000 / 78, "\(stored.prefix(300))")
        #expect(fixture.bridge.readPauseCount() > 0)
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func halfCloseAfterQuitEndsCleanly() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        guard let result = try RealClient.python(Scripts.halfClose, ["\(fixture.port(25, host: 1))"],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("220 mail1.company.org ESMTP"), "\(result.output)")
        #expect(result.output.contains("|221 2.0.0"), "\(result.output)")
        #expect(result.output.contains("eof"))
        #expect(fixture.log.text.contains("-- FIN from client --"), "\(fixture.log.text)")
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func clientResetResetsTheVirtualConnection() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        guard let result = try RealClient.python(Scripts.reset, ["\(fixture.port(110, host: 1))"], in: fixture.folder) else { return }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("greeting +OK"), "\(result.output)")
        // The simulated connection is reset from the bridge's side and both ends are gone.
        #expect(fixture.bridge.wait(timeout: .seconds(10)) { world in
            world.world.host("mail1.company.org")?.openConnections.isEmpty == true
        })
        #expect(fixture.log.text.contains("-- RST from client --"), "\(fixture.log.text)")
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func connectionsOverTheLimitAreClosed() throws {
        let fixture = try BridgeFixture(maxConnectionsPerPort: 1)
        defer { fixture.stop() }
        guard let result = try RealClient.python(Scripts.overLimit, ["\(fixture.port(25))"], in: fixture.folder) else { return }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("first 220"), "\(result.output)")
        #expect(result.output.contains("second closed"), "\(result.output)")
        #expect(result.output.contains("first 221"), "\(result.output)")
        #expect(fixture.log.text.contains("refused (1 connections already open on this port)"))
    }
}
