import Foundation
import MailAgents
import MailCore
import MailSim
import Testing
@testable import MailBridge

enum StudentScripts {
    /// Each line of argv[2:] is `login password address host smtp_port`: that student sends one
    /// message, over submission with STARTTLS and AUTH, to the addresses after `->`.
    static let send = #"""
        import smtplib, ssl, sys
        ca = sys.argv[1]
        ctx = ssl.create_default_context(cafile=ca)
        for spec in sys.argv[2:]:
            me, targets = spec.split('->')
            login, password, address, host, port = me.split()
            s = smtplib.SMTP(local_hostname='lab-pc.example', timeout=20)
            s.connect('127.0.0.1', int(port))
            s._host = host
            s.starttls(context=ctx)
            print('login', login, s.login(login, password)[0])
            to = targets.split()
            msg = 'From: %s\r\nTo: %s\r\nSubject: from %s\r\n\r\nhello\r\n' % (address, ', '.join(to), login)
            print('refused', login, s.sendmail(address, to, msg))
            s.quit()
        """#

    /// Each argument `login password host imap_port`: IMAP STARTTLS, LOGIN, the INBOX's subjects.
    /// A last argument `wrong:login:password:host:port` tries a login that must fail.
    static let read = #"""
        import imaplib, socket, ssl, sys
        ca = sys.argv[1]
        ctx = ssl.create_default_context(cafile=ca)
        class Bridged(imaplib.IMAP4):
            def _create_socket(self, timeout):
                return socket.create_connection(('127.0.0.1', self.port), timeout)
        for spec in sys.argv[2:]:
            wrong = spec.startswith('wrong:')
            login, password, host, port = (spec[6:].split(':') if wrong else spec.split())
            m = Bridged(host, int(port), timeout=20)
            m.starttls(ssl_context=ctx)
            try:
                m.login(login, password)
            except imaplib.IMAP4.error as e:
                print('refused', login)
                continue
            typ, data = m.select('INBOX')
            typ, data = m.search(None, 'ALL')
            subjects = []
            for num in data[0].split():
                typ, got = m.fetch(num, '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
                subjects.append(got[0][1].decode().strip().replace('Subject: ', ''))
            print('inbox', login, len(subjects), '|'.join(sorted(subjects)))
            m.logout()
        """#
}

@Suite struct StudentAccountTests {
    /// `--class 30`'s accounts: three students log in with smtplib and imaplib, send to each
    /// other, and each INBOX holds only that student's mail; one student's password does not
    /// open another's mailbox.
    @Test func threeStudentsOfAClassOfThirty() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let domains = try fixture.bridge.withWorld { world in
            ClassRoster.domains(of: world).filter { d in fixture.bridge.ports.contains { $0.hostName == d.mailboxHost } }
        }
        #expect(domains.map(\.name) == ["company.org", "example.com"])
        var random = SeededRandom(seed: 17)
        let students = try ClassRoster.numbered(count: 30, domains: domains, taken: ["alice", "bob"], using: &random)
        #expect(students.count == 30)
        #expect(Set(students.map(\.password)).count == 30)
        #expect(students[0].address == "student01@company.org" && students[1].address == "student02@example.com")
        try fixture.bridge.addAccounts(students.map { ($0.address, $0.login, $0.password) })
        #expect(fixture.bridge.accounts.filter { $0.login.hasPrefix("student") }.count == 30)

        func port(_ host: String, _ virtual: UInt16) -> Int {
            fixture.bridge.ports.first { $0.hostName == host && $0.virtualPort == virtual }?.realPort ?? 0
        }
        let (a, b, c) = (students[0], students[1], students[2])
        func me(_ s: StudentAccount) -> String {
            "\(s.login) \(s.password) \(s.address) \(s.submissionHost) \(port(s.submissionHost, 587))"
        }
        guard let sent = try RealClient.python(StudentScripts.send, [
            fixture.caPath, "\(me(a))->\(b.address) \(c.address)", "\(me(b))->\(a.address)",
        ], in: fixture.folder) else { return }
        #expect(sent.status == 0, "offset \(fixture.offset): \(sent.output)")
        #expect(sent.output.contains("refused student01 {}") && sent.output.contains("refused student02 {}"), "\(sent.output)")
        #expect(fixture.bridge.wait(timeout: .seconds(30)) { world in
            func count(_ s: StudentAccount) -> Int {
                (try? world.store(for: String(s.address.split(separator: "@")[1])).messages(user: s.login).count) ?? 0
            }
            return count(a) == 1 && count(b) == 1 && count(c) == 1
        }, "offset \(fixture.offset)")

        func reader(_ s: StudentAccount) -> String { "\(s.login) \(s.password) \(s.mailboxHost) \(port(s.mailboxHost, 143))" }
        guard let read = try RealClient.python(StudentScripts.read, [
            fixture.caPath, reader(a), reader(b), reader(c),
            "wrong:\(b.login):\(a.password):\(b.mailboxHost):\(port(b.mailboxHost, 143))",
        ], in: fixture.folder) else { return }
        #expect(read.status == 0, "offset \(fixture.offset): \(read.output)")
        #expect(read.output.contains("inbox student01 1 from student02"), "\(read.output)")
        #expect(read.output.contains("inbox student02 1 from student01"), "\(read.output)")
        #expect(read.output.contains("inbox student03 1 from student01"), "\(read.output)")
        #expect(read.output.contains("refused student02"), "\(read.output)")
        // The log hides the students' passwords.
        #expect(!fixture.log.text.contains(a.password), "password of student01 in the log")
    }

    @Test func rosterLinesMakeLoginsAndErrorsNameTheLine() throws {
        let domains = [ClassRoster.Domain(name: "example.com", mailboxHost: "mail.example.com", submissionHost: "mail.example.com")]
        var random = SeededRandom(seed: 3)
        let roster = "name,login\r\nÉmile Zola\r\n\"Curie, Marie\",mcurie\r\n# a comment\r\n\r\nJean-Paul O'Neil\r\n"
        let students = try ClassRoster.parse(roster: roster, file: "class.csv", domains: domains, taken: ["alice"], using: &random)
        #expect(students.map(\.login) == ["emile.zola", "mcurie", "jean.paul.o.neil"])
        #expect(students[1].name == "Curie, Marie")
        #expect(students.allSatisfy { $0.password.count == ClassRoster.passwordLength })
        let table = ClassRoster.csv(students, ports: [], host: "192.0.2.1")
        #expect(table.contains("\"Curie, Marie\",mcurie,mcurie@example.com,"))
        #expect(throws: BridgeError.self) {
            try ClassRoster.parse(roster: "Ann\nAnn\n", file: "c.csv", domains: domains, taken: [], using: &random)
        }
        do {
            _ = try ClassRoster.parse(roster: "Ann\n\"Bob\n", file: "c.csv", domains: domains, taken: [], using: &random)
            Issue.record("an unclosed quote was accepted")
        } catch let error as BridgeError {
            #expect(error.message.en == "c.csv:2: unclosed quote")
            #expect(error.message.fr == "c.csv:2 : guillemet non fermé")
        }
        do {
            _ = try ClassRoster.parse(roster: "x,alice\n", file: "c.csv", domains: domains, taken: ["alice"], using: &random)
            Issue.record("a taken login was accepted")
        } catch let error as BridgeError {
            #expect(error.message.en == "c.csv:1: the login alice is already taken")
        }
        #expect(throws: BridgeError.self) {
            try ClassRoster.numbered(count: 0, domains: domains, taken: [], using: &random)
        }
    }

    /// The autoconfig server over real HTTP/1.1: two pipelined requests on one connection
    /// (keep-alive), the domain from `emailaddress=` or from `Host`, 404 and 400.
    @Test func autoconfigOverHTTP() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let domains = try fixture.bridge.withWorld { world in
            ClassRoster.domains(of: world).filter { d in fixture.bridge.ports.contains { $0.hostName == d.mailboxHost } }
        }
        let server = AutoconfigServer(entries: AutoconfigServer.entries(domains: domains, ports: fixture.bridge.ports),
                                      group: fixture.bridge.eventLoop)
        let httpPort = fixture.offset + 80
        try server.start(host: "127.0.0.1", port: httpPort)
        defer { server.stop() }
        guard let client = RawClient(port: httpPort) else { Issue.record("refused"); return }
        client.send("GET /mail/config-v1.1.xml?emailaddress=student02%40example.com HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /.well-known/autoconfig/mail/config-v1.1.xml HTTP/1.1\r\nHost: autoconfig.company.org\r\n\r\n")
        let text = client.read(until: "<domain>company.org</domain>", timeout: 5)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
        #expect(text.contains("<hostname>mail.example.com</hostname>\n      <port>\(fixture.port(993))</port>\n      <socketType>SSL</socketType>"), "\(text)")
        #expect(text.contains("<port>\(fixture.port(587))</port>"))
        #expect(text.contains("<hostname>mail1.company.org</hostname>"), "\(text)")
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        client.send("GET /mail/config-v1.1.xml?emailaddress=a%40nowhere.test HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let missing = client.read(until: "matches", timeout: 5)
        #expect(missing.contains("HTTP/1.1 404 Not Found"), "\(missing)")
        #expect(client.closedByPeer())
        guard let bad = RawClient(port: httpPort) else { return }
        bad.send("GARBAGE\r\n\r\n")
        #expect(bad.read(until: "Bad Request").hasPrefix("HTTP/1.1 400 Bad Request"))
    }

    @Test func httpParserLimits() {
        var parser = HTTPRequestParser()
        #expect(parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)) == [])
        let done = parser.feed(Array("\r\n".utf8))
        guard case let .request(request)? = done.first else { Issue.record("\(done)"); return }
        #expect(request.path == "/" && request.field("host") == "a" && request.keepAlive)
        var big = HTTPRequestParser()
        #expect(big.feed([UInt8](repeating: 0x41, count: HTTPRequestParser.maxHeaderBytes + 1)) == [.error(431)])
        var body = HTTPRequestParser()
        #expect(body.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n".utf8)) == [.error(413)])
        var old = HTTPRequestParser()
        #expect(old.feed(Array("GET / HTTP/2.0\r\n\r\n".utf8)) == [.error(505)])
        var noHost = HTTPRequestParser()
        #expect(noHost.feed(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == [.error(400)])
    }
}
