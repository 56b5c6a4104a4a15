import Foundation
import MailAgents
import MailSim
import Testing
@testable import MailBridge

extension BridgeFixture {
    /// Puts a message in bob's INBOX as local delivery would.
    func deliverToBob(subject: String) throws {
        let raw = Array(Scripts.message.replacingOccurrences(of: "SUBJECT", with: subject).utf8)
        try bridge.withWorld { world in
            _ = try world.store(for: "company.org").deliver(to: "bob", bytes: raw, internalDate: world.world.imapDate())
        }
    }
}

enum MDAScripts {
    /// imaplib with STARTTLS on 143: login, select, search, fetch, store, copy, expunge and IDLE
    /// (imaplib of Python 3.11 has no idle(): the command is sent by hand). `_create_socket`
    /// connects to 127.0.0.1 while `host` stays the certificate's name, which `starttls()` checks.
    /// During IDLE a second client submits a message to bob through mail1's submission port.
    static let imapStartTLS = #"""
        import imaplib, smtplib, socket, ssl, sys
        port, smtp_port, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(imaplib.IMAP4):
            def _create_socket(self, timeout):
                return socket.create_connection(('127.0.0.1', self.port), timeout)
        m = Bridged('mail1.company.org', port, timeout=20)
        print('greeting', m.welcome.decode())
        print('starttls', m.starttls(ssl_context=ctx)[0])
        print('tls', m.sock.version())
        print('login', m.login('bob', 'secret123')[0])
        typ, data = m.select('INBOX')
        print('select', typ, data[0].decode())
        typ, data = m.search(None, 'SUBJECT', '"from the bridge"')
        print('search', typ, data[0].decode())
        typ, data = m.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
        print('fetch', typ, data[0][1].decode().strip())
        typ, data = m.store('1', '+FLAGS', '(\\Flagged)')
        print('store', typ, data[0].decode())
        print('create', m.create('Archive')[0])
        print('copy', m.copy('1', 'Archive')[0])
        print('delete-flag', m.store('1', '+FLAGS', '(\\Deleted)')[0])
        typ, data = m.expunge()
        print('expunge', typ, data)
        # IDLE by hand (RFC 2177).
        tag = m._new_tag()
        m.send(tag + b' IDLE\r\n')
        print('idle', m.readline().decode().strip())
        s = smtplib.SMTP(local_hostname='client.example', timeout=20)
        s.connect('127.0.0.1', smtp_port)
        s._host = 'mail1.company.org'
        s.starttls(context=ctx)
        s.login('bob', 'secret123')
        s.sendmail('bob@company.org', ['bob@company.org'], 'Subject: pushed\r\n\r\nnew\r\n')
        s.quit()
        print('pushed', m.readline().decode().strip())
        m.send(b'DONE\r\n')
        while True:
            line = m.readline().decode().strip()
            if line.startswith(tag.decode()):
                print('done', line)
                break
        typ, data = m.select('Archive')
        print('archive', typ, data[0].decode())
        print('logout', m.logout()[0])
        """#

    /// IMAP4_SSL on 993, wrapping with the certificate's name.
    static let imapImplicit = #"""
        import imaplib, socket, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(imaplib.IMAP4_SSL):
            def _create_socket(self, timeout):
                raw = socket.create_connection(('127.0.0.1', self.port), timeout)
                return self.ssl_context.wrap_socket(raw, server_hostname=self.host)
        m = Bridged('mail1.company.org', port, ssl_context=ctx, timeout=20)
        print('tls', m.sock.version())
        print('login', m.login('bob', 'secret123')[0])
        typ, data = m.select('INBOX', readonly=True)
        print('select', typ, data[0].decode())
        typ, data = m.fetch('1', '(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
        print('fetch', typ, data[0][1].decode().strip())
        print('logout', m.logout()[0])
        """#

    /// poplib with STLS on 110: USER/PASS, STAT, UIDL, RETR, DELE, QUIT.
    static let pop3STLS = #"""
        import poplib, socket, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(poplib.POP3):
            def _create_socket(self, timeout):
                return socket.create_connection(('127.0.0.1', self.port), timeout)
        p = Bridged('mail1.company.org', port, timeout=20)
        print('greeting', p.getwelcome().decode())
        print('stls', p.stls(context=ctx).decode())
        print('tls', p.sock.version())
        print('user', p.user('bob').decode())
        print('pass', p.pass_('secret123').decode())
        print('stat', p.stat())
        print('uidl', [x.decode() for x in p.uidl()[1]])
        resp, lines, size = p.retr(1)
        print('retr', resp.decode(), [l.decode() for l in lines if l.startswith(b'Subject:')])
        print('dele', p.dele(1).decode())
        print('quit', p.quit().decode())
        """#

    /// POP3_SSL on 995.
    static let pop3Implicit = #"""
        import poplib, socket, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(poplib.POP3_SSL):
            def _create_socket(self, timeout):
                raw = socket.create_connection(('127.0.0.1', self.port), timeout)
                return self.context.wrap_socket(raw, server_hostname=self.host)
        p = Bridged('mail1.company.org', port, context=ctx, timeout=20)
        print('tls', p.sock.version())
        print('user', p.user('bob').decode())
        print('pass', p.pass_('secret123').decode())
        print('list', [x.decode() for x in p.list()[1]])
        resp, lines, size = p.retr(1)
        print('retr', resp.decode(), [l.decode() for l in lines if l.startswith(b'Subject:')])
        print('quit', p.quit().decode())
        """#
}

@Suite(.serialized) struct MDAClientTests {
    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func smtplibThenImaplibStartTLSFullSession() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let message = fixture.folder.appendingPathComponent("message.eml").path
        try Scripts.message.write(toFile: message, atomically: true, encoding: .utf8)
        // Alice sends through mail.example.com's submission port; the MTA relays to mail1.
        guard let sent = try RealClient.python(Scripts.smtpStartTLS,
                                               ["\(fixture.port(587))", fixture.caPath, "from the bridge", message],
                                               in: fixture.folder) else { return }
        #expect(sent.status == 0, "offset \(fixture.offset): \(sent.output)")
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        guard let result = try RealClient.python(MDAScripts.imapStartTLS,
                                                 ["\(fixture.port(143, host: 1))", "\(fixture.port(587, host: 1))",
                                                  fixture.caPath], in: fixture.folder) else { return }
        let out = result.output
        #expect(result.status == 0, "offset \(fixture.offset): \(out)\n\(fixture.log.text)")
        #expect(out.contains("starttls OK"), "\(out)")
        #expect(out.contains("login OK"))
        #expect(out.contains("select OK 1"))
        #expect(out.contains("search OK 1"))
        #expect(out.contains("fetch OK Subject: from the bridge"))
        #expect(out.contains("store OK 1 (FLAGS ("), "\(out)")
        #expect(out.contains("copy OK"))
        #expect(out.contains("expunge OK [b'1']"), "\(out)")
        #expect(out.contains("idle +"), "\(out)")
        #expect(out.contains("pushed * 1 EXISTS"), "\(out)")
        #expect(out.contains("OK IDLE terminated"))
        #expect(out.contains("archive OK 1"))
        #expect(out.contains("logout BYE"))
        let log = fixture.log.text
        #expect(log.contains("C: STARTTLS"))
        #expect(log.contains(" LOGIN bob ****"), "\(log)")
        #expect(!log.contains("secret123"))
        #expect(!log.contains("mypassword"))
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func imaplibImplicitTLS() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        try fixture.deliverToBob(subject: "over 993")
        guard let result = try RealClient.python(MDAScripts.imapImplicit, ["\(fixture.port(993, host: 1))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("login OK"))
        #expect(result.output.contains("select OK 1"))
        #expect(result.output.contains("fetch OK Subject: over 993"), "\(result.output)")
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func poplibSTLSRetrieveAndDelete() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        try fixture.deliverToBob(subject: "for pop")
        guard let result = try RealClient.python(MDAScripts.pop3STLS, ["\(fixture.port(110, host: 1))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        let out = result.output
        #expect(result.status == 0, "offset \(fixture.offset): \(out)\n\(fixture.log.text)")
        #expect(out.contains("greeting +OK"))
        #expect(out.contains("stls +OK"))
        #expect(out.contains("pass +OK"))
        #expect(out.contains("stat (1, "))
        #expect(out.contains("uidl ['1 "), "\(out)")
        #expect(out.contains("retr +OK") && out.contains("['Subject: for pop']"), "\(out)")
        #expect(out.contains("dele +OK"))
        #expect(out.contains("quit +OK"))
        // DELE then QUIT (UPDATE state, RFC 1939 §6) removed it from the store.
        #expect(try fixture.bobMessages().isEmpty)
        let log = fixture.log.text
        #expect(log.contains("C: PASS ****"), "\(log)")
        #expect(!log.contains("secret123"))
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func poplibImplicitTLS() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        try fixture.deliverToBob(subject: "over 995")
        guard let result = try RealClient.python(MDAScripts.pop3Implicit, ["\(fixture.port(995, host: 1))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("pass +OK"))
        #expect(result.output.contains("['Subject: over 995']"), "\(result.output)")
        #expect(try fixture.bobMessages().count == 1)
    }

    /// curl `imap://`, `imaps://`, `pop3://`, `pop3s://` fetching bob's message, TLS required.
    @Test(.enabled(if: RealClient.find("curl") != nil, "curl is not installed"),
          arguments: [("imap", 143, "/INBOX;UID=1"), ("imaps", 993, "/INBOX;UID=1"), ("pop3", 110, "/1"), ("pop3s", 995, "/1")])
    func curlFetches(scheme: String, port virtual: Int, path: String) throws {
        guard let curl = RealClient.find("curl") else {
            print("skipped: curl is not installed")
            return
        }
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        try fixture.deliverToBob(subject: "fetched by curl")
        let port = fixture.port(virtual, host: 1)
        let result = try RealClient.run(curl, [
            "-sS", "--max-time", "30", "--ssl-reqd", "--cacert", fixture.caPath,
            "--connect-to", "mail1.company.org:\(port):127.0.0.1:\(port)",
            "\(scheme)://mail1.company.org:\(port)\(path)", "-u", "bob:secret123",
        ])
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)\n\(fixture.log.text)")
        #expect(result.output.contains("Subject: fetched by curl"), "\(result.output)")
        #expect(!fixture.log.text.contains("secret123"))
    }
}

/// `openssl s_client` (STARTTLS and implicit TLS), which exits 1 on a TLS stream that ends
/// without close_notify: the simulated servers send it before their FIN.
@Suite(.serialized) struct OpenSSLClientTests {
    @Test(.enabled(if: RealClient.find("openssl") != nil, "openssl is not installed"),
          arguments: [
        ("smtp", 587, 0, "mail.example.com", "EHLO client.example\r\nQUIT\r\n", "221 2.0.0"),
        ("pop3", 110, 1, "mail1.company.org", "USER bob\r\nPASS secret123\r\nSTAT\r\nQUIT\r\n", "+OK 1 "),
        ("imap", 143, 1, "mail1.company.org", "a LOGIN bob secret123\r\nb SELECT INBOX\r\nc LOGOUT\r\n", "c OK"),
        ("", 993, 1, "mail1.company.org", "a LOGIN bob secret123\r\nb EXAMINE INBOX\r\nc LOGOUT\r\n", "* 1 EXISTS"),
        ("", 995, 1, "mail1.company.org", "USER bob\r\nPASS secret123\r\nLIST\r\nQUIT\r\n", "+OK POP3 server signing off"),
    ])
    func sClient(starttls: String, port virtual: Int, host: Int, name: String, input: String, expected: String) throws {
        guard let openssl = RealClient.find("openssl") else {
            print("skipped: openssl is not installed")
            return
        }
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        try fixture.deliverToBob(subject: "for s_client")
        var arguments = ["s_client", "-quiet", "-connect", "127.0.0.1:\(fixture.port(virtual, host: host))",
                         "-servername", name, "-verify_hostname", name, "-CAfile", fixture.caPath, "-verify_return_error"]
        if !starttls.isEmpty { arguments += ["-starttls", starttls] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = arguments
        let output = Pipe(), input_ = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input_
        try process.run()
        // -quiet implies -ign_eof: s_client sends the lines after TLS is up and waits for the server to close.
        input_.fileHandleForWriting.write(Data(input.utf8))
        try input_.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "offset \(fixture.offset): \(text)")
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("unexpected eof"), "\(text)")
    }
}

@Suite struct BridgeClockTests {
    /// Virtual time moves with the wall clock while nothing happens (ticks), so engine
    /// timeouts and queue retries come in real time.
    @Test func virtualTimeFollowsTheClock() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let start = try fixture.bridge.withWorld { $0.world.now }
        #expect(fixture.bridge.wait(timeout: .seconds(10)) { world in
            world.world.now >= start + .milliseconds(50)
        })
    }
}
