import Dispatch
import Foundation
import MailAgents
import MailCore
import MailSim
import Testing
@testable import MailBridge

/// Real mail programs against the bridge, each configured as docs/real-clients.md tells a
/// teacher: swaks, fetchmail, mbsync (isync), mutt, and Python's imaplib/poplib. Each test runs
/// when its program is installed and is skipped, with the reason, when it is not (`.ci/run`
/// installs them all).
enum Programs {
    static let swaks = RealClient.find("swaks")
    /// swaks when it can do TLS: Debian installs it without Net::SSLeay when recommended packages
    /// are left out, and it then stops at STARTTLS ("TLS not available").
    static let swaksWithTLS: String? = swaks.flatMap { path in
        let support = try? run(path, ["--support"], timeout: 20)
        return support?.output.contains("=== TLS supported") == true ? path : nil
    }
    static let swaksReason = swaks == nil ? "swaks is not installed (apt-get install swaks)"
        : "swaks cannot do TLS here: Net::SSLeay is missing (apt-get install libnet-ssleay-perl)"
    static let fetchmail = RealClient.find("fetchmail")
    static let mbsync = RealClient.find("mbsync")
    static let mutt = RealClient.find("mutt")
    static let script = RealClient.find("script")
    static let python = RealClient.find("python3")

    /// Runs a program with extra environment variables; kills it after `timeout` seconds (its
    /// output then ends with a note), so a client waiting on a prompt cannot hang the suite.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Double = 90) throws -> RealClient.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let output = OutputBox()
        let reading = DispatchSemaphore(value: 0)
        try process.run()
        DispatchQueue.global().async {
            output.data = pipe.fileHandleForReading.readDataToEndOfFile()
            reading.signal()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var note = ""
        if process.isRunning {
            // SIGTERM first; a fetchmail daemon in IDLE may not end on it, so SIGKILL follows.
            process.terminate()
            let grace = Date().addingTimeInterval(3)
            while process.isRunning && Date() < grace { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            note = "\n(killed after \(Int(timeout)) s)"
        }
        process.waitUntilExit()
        _ = reading.wait(timeout: .now() + 5)
        return RealClient.Result(status: process.isRunning ? -1 : process.terminationStatus,
                                 output: String(decoding: output.data, as: UTF8.self) + note)
    }

    final class OutputBox: @unchecked Sendable { var data = Data() }

    static func write(_ text: String, to url: URL, mode: Int = 0o644) throws {
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    /// Submits one message from Alice to Bob with smtplib (587, STARTTLS, the world's CA).
    static func sendToBob(_ fixture: BridgeFixture, subject: String) throws -> Bool {
        let path = fixture.folder.appendingPathComponent("message.eml")
        if !FileManager.default.fileExists(atPath: path.path) {
            try Scripts.message.write(to: path, atomically: true, encoding: .utf8)
        }
        guard let result = try RealClient.python(Scripts.smtpStartTLS, ["\(fixture.port(587))", fixture.caPath, subject, path.path],
                                                 in: fixture.folder) else { return false }
        return result.status == 0
    }

    static func inbox(_ fixture: BridgeFixture, user: String = "bob", domain: String = "company.org",
                      mailbox: String = "INBOX") throws -> [StoredMessage] {
        try fixture.bridge.withWorld { world in
            (try? world.store(for: domain).messages(user: user, mailbox: mailbox)) ?? []
        }
    }

    static func subjects(_ messages: [StoredMessage]) -> [String] {
        messages.compactMap { m in
            String(decoding: m.raw, as: UTF8.self).components(separatedBy: "\r\n")
                .first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) }
        }
    }
}

@Suite(.serialized) struct RealClientProgramsTests {
    // MARK: swaks

    @Test(.enabled(if: Programs.swaksWithTLS != nil, Comment(rawValue: Programs.swaksReason)))
    func swaksSubmissionWithEveryMechanismAndImplicitTLS() throws {
        let swaks = try #require(Programs.swaksWithTLS)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        func swaksArgs(port: Int, tls: String, mechanism: String) -> [String] {
            ["--server", "127.0.0.1:\(port)", tls, "--tls-verify", "--tls-ca-path", fixture.caPath,
             "--tls-sni", "mail.example.com", "--auth", mechanism, "--auth-user", "alice",
             "--auth-password", "mypassword", "--from", "alice@example.com", "--to", "bob@company.org",
             "--helo", "client.example", "--header", "Subject: swaks \(mechanism) \(port % 1000)"]
        }
        for mechanism in ["PLAIN", "LOGIN", "CRAM-MD5"] {
            let result = try Programs.run(swaks, swaksArgs(port: fixture.port(587), tls: "--tls", mechanism: mechanism))
            #expect(result.status == 0, "swaks \(mechanism) on 587, offset \(fixture.offset): \(result.output)")
            #expect(result.output.contains("<~  235 2.7.0"), "\(result.output)")
            // AUTH appears only inside TLS (smtpd_tls_auth_only).
            #expect(result.output.contains("<~  250-AUTH PLAIN LOGIN CRAM-MD5"), "\(result.output)")
            #expect(!result.output.contains("<-  250-AUTH"), "\(result.output)")
        }
        let implicit = try Programs.run(swaks, swaksArgs(port: fixture.port(465), tls: "--tls-on-connect", mechanism: "CRAM-MD5"))
        #expect(implicit.status == 0, "swaks on 465: \(implicit.output)")
        #expect(implicit.output.contains("=== TLS started"), "\(implicit.output)")
        // Port 25 offers no AUTH in clear: swaks stops before MAIL.
        let relay = try Programs.run(swaks, ["--server", "127.0.0.1:\(fixture.port(25))", "--auth", "PLAIN",
                                             "--auth-user", "alice", "--auth-password", "mypassword",
                                             "--from", "alice@example.com", "--to", "bob@company.org"])
        #expect(relay.status != 0)
        #expect(relay.output.contains("Host did not advertise authentication"), "\(relay.output)")
        // A wrong password is refused (535) and swaks fails.
        var wrong = swaksArgs(port: fixture.port(587), tls: "--tls", mechanism: "PLAIN")
        wrong[wrong.firstIndex(of: "mypassword")!] = "not-it"
        let refused = try Programs.run(swaks, wrong)
        #expect(refused.status != 0)
        #expect(refused.output.contains("535 5.7.8"), "\(refused.output)")
        #expect(fixture.waitForBob(count: 4), "offset \(fixture.offset)")
        let subjects = Set(Programs.subjects(try Programs.inbox(fixture)))
        #expect(subjects == ["swaks PLAIN 587", "swaks LOGIN 587", "swaks CRAM-MD5 587", "swaks CRAM-MD5 465"], "\(subjects)")
        #expect(!fixture.log.text.contains("mypassword"))
    }

    // MARK: fetchmail

    func fetchmailConfig(_ fixture: BridgeFixture, protocolName: String, port: Int, keep: Bool, mda: String) throws -> URL {
        let rc = fixture.folder.appendingPathComponent("fetchmailrc-\(protocolName)")
        try Programs.write("""
            set no syslog
            poll 127.0.0.1 service \(port) protocol \(protocolName) timeout 30
              user bob there with password "secret123" is root here
              sslproto tls1.2+ sslcertck sslcertfile \(fixture.caPath) sslcommonname mail1.company.org
              \(keep ? "keep" : "nokeep")
              mda "\(mda)"

            """, to: rc, mode: 0o600)
        return rc
    }

    @Test(.enabled(if: Programs.fetchmail != nil && Programs.python != nil, "fetchmail or python3 is not installed (apt-get install fetchmail)"))
    func fetchmailPOP3WithSTLSKeepThenNoKeep() throws {
        let fetchmail = try #require(Programs.fetchmail)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        for subject in ["pop one", "pop two"] { #expect(try Programs.sendToBob(fixture, subject: subject)) }
        #expect(fixture.waitForBob(count: 2), "offset \(fixture.offset)")
        let mbox = fixture.folder.appendingPathComponent("pop.mbox").path
        let env = ["FETCHMAILHOME": fixture.folder.path]
        let keep = try fetchmailConfig(fixture, protocolName: "pop3", port: fixture.port(110, host: 1), keep: true,
                                       mda: "/bin/sh -c 'cat >> \(mbox)'")
        let first = try Programs.run(fetchmail, ["-f", keep.path, "-v", "--nosyslog", "-d0"], environment: env)
        #expect(first.status == 0, "fetchmail keep, offset \(fixture.offset): \(first.output)")
        #expect(first.output.contains("POP3> STLS"), "\(first.output)")
        #expect(first.output.contains("upgrade to TLS succeeded"), "\(first.output)")
        #expect(first.output.contains("2 messages for bob"), "\(first.output)")
        #expect(try Programs.inbox(fixture).count == 2, "keep leaves the messages on the server")
        // Its UIDL memory (.fetchids) means the second run finds nothing new (exit 1).
        let again = try Programs.run(fetchmail, ["-f", keep.path, "--nosyslog", "-d0"], environment: env)
        #expect(again.status == 1, "\(again.output)")
        #expect(again.output.contains("2 messages (2 seen)") || again.output.contains("No mail"), "\(again.output)")
        let noKeep = try fetchmailConfig(fixture, protocolName: "pop3", port: fixture.port(110, host: 1), keep: false,
                                         mda: "/bin/sh -c 'cat >> \(mbox)'")
        let flush = try Programs.run(fetchmail, ["-f", noKeep.path, "-a", "-v", "--nosyslog", "-d0"], environment: env)
        #expect(flush.status == 0, "fetchmail nokeep: \(flush.output)")
        #expect(flush.output.contains("POP3> DELE 2"), "\(flush.output)")
        #expect(try Programs.inbox(fixture).isEmpty, "nokeep deletes on the server")
        let fetched = try String(contentsOfFile: mbox, encoding: .utf8)
        #expect(fetched.components(separatedBy: "Subject: pop one").count == 3, "fetched twice: keep, then -a nokeep")
        #expect(!fixture.log.text.contains("secret123"))
    }

    /// fetchmail over IMAP with STARTTLS while a message arrives in the middle of its session:
    /// the server's `* 3 EXISTS` comes after the command's own responses (as Dovecot sends it),
    /// fetchmail takes the newcomer in the same poll, and nokeep expunges everything.
    @Test(.enabled(if: Programs.fetchmail != nil && Programs.python != nil, "fetchmail or python3 is not installed (apt-get install fetchmail)"))
    func fetchmailIMAPWithMailArrivingMidSession() throws {
        let fetchmail = try #require(Programs.fetchmail)
        let python = try #require(Programs.python)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        for subject in ["imap one", "imap two"] { #expect(try Programs.sendToBob(fixture, subject: subject)) }
        #expect(fixture.waitForBob(count: 2), "offset \(fixture.offset)")
        let mbox = fixture.folder.appendingPathComponent("imap.mbox").path
        let flag = fixture.folder.appendingPathComponent("mid.sent").path
        let sender = fixture.folder.appendingPathComponent("send.py")
        try Programs.write(Scripts.smtpStartTLS, to: sender)
        let message = fixture.folder.appendingPathComponent("message.eml")
        try Scripts.message.write(to: message, atomically: true, encoding: .utf8)
        // The delivery agent: stores the message; the first time, has Alice send another one
        // and gives it time to reach Bob's INBOX while fetchmail's session is open.
        let mda = fixture.folder.appendingPathComponent("mda.sh")
        try Programs.write("""
            #!/bin/sh
            cat >> \(mbox)
            if [ ! -e \(flag) ]; then
              touch \(flag)
              \(python) \(sender.path) \(fixture.port(587)) \(fixture.caPath) "arrived mid-session" \(message.path) >/dev/null 2>&1
              sleep 3
            fi

            """, to: mda, mode: 0o755)
        let rc = try fetchmailConfig(fixture, protocolName: "imap", port: fixture.port(143, host: 1), keep: false, mda: mda.path)
        let result = try Programs.run(fetchmail, ["-f", rc.path, "-v", "--nosyslog", "-d0"],
                                      environment: ["FETCHMAILHOME": fixture.folder.path])
        #expect(result.status == 0, "fetchmail imap, offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("IMAP> A0001 STARTTLS"), "\(result.output)")
        #expect(result.output.contains("IMAP< * 3 EXISTS"), "\(result.output)")
        #expect(!result.output.contains("Incorrect"), "\(result.output)")
        let fetched = try String(contentsOfFile: mbox, encoding: .utf8)
        for subject in ["imap one", "imap two", "arrived mid-session"] {
            #expect(fetched.contains("Subject: \(subject)"), "\(subject) missing from \(fetched.prefix(400))")
        }
        #expect(try Programs.inbox(fixture).isEmpty, "nokeep expunged all three")
    }

    /// fetchmail as a daemon with `idle`: it waits in IMAP IDLE, the server pushes `* 2 EXISTS`
    /// when a message arrives, fetchmail sends DONE and fetches it without polling.
    @Test(.enabled(if: Programs.fetchmail != nil && Programs.python != nil, "fetchmail or python3 is not installed (apt-get install fetchmail)"))
    func fetchmailIdleGetsTheNewMailPushed() throws {
        let fetchmail = try #require(Programs.fetchmail)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        #expect(try Programs.sendToBob(fixture, subject: "before idle"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        let mbox = fixture.folder.appendingPathComponent("idle.mbox").path
        let rc = try fetchmailConfig(fixture, protocolName: "imap", port: fixture.port(143, host: 1), keep: true,
                                     mda: "/bin/sh -c 'cat >> \(mbox)'")
        try Programs.write(try String(contentsOf: rc, encoding: .utf8).replacingOccurrences(of: "  keep\n", with: "  keep\n  idle\n"),
                           to: rc, mode: 0o600)
        let sent = SentFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 6) {
            sent.ok = (try? Programs.sendToBob(fixture, subject: "pushed during idle")) ?? false
        }
        // A daemon does not end by itself: it is stopped after 16 s, by then it fetched both.
        let result = try Programs.run(fetchmail, ["-f", rc.path, "-d", "300", "-N", "-v", "--nosyslog"],
                                      environment: ["FETCHMAILHOME": fixture.folder.path], timeout: 16)
        #expect(sent.ok)
        let log = result.output
        #expect(log.contains("IMAP< + idling"), "\(log)")
        let afterIdle = log.components(separatedBy: "IMAP< + idling").dropFirst().first ?? ""
        #expect(afterIdle.contains("IMAP< * 2 EXISTS") && afterIdle.contains("IMAP> DONE"), "\(log)")
        let fetched = (try? String(contentsOfFile: mbox, encoding: .utf8)) ?? ""
        #expect(fetched.contains("Subject: before idle") && fetched.contains("Subject: pushed during idle"), "\(log)")
    }

    final class SentFlag: @unchecked Sendable { var ok = false }

    // MARK: mbsync

    @Test(.enabled(if: Programs.mbsync != nil && Programs.python != nil, "mbsync or python3 is not installed (apt-get install isync)"))
    func mbsyncSyncsFoldersFlagsAndDeletionsBothWays() throws {
        let mbsync = try #require(Programs.mbsync)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        for subject in ["sync one", "sync two"] { #expect(try Programs.sendToBob(fixture, subject: subject)) }
        #expect(fixture.waitForBob(count: 2), "offset \(fixture.offset)")
        // mbsync checks the certificate's name against Host; without /etc/hosts, pin the
        // server's own certificate (isync trusts a certificate listed in CertificateFile as is).
        let certificate = fixture.folder.appendingPathComponent("mail1.pem")
        let pem = try fixture.bridge.withWorld { world in
            try world.world.certificateAuthority.serverIdentity(for: "mail1.company.org").certificatePEM
        }
        try pem.write(to: certificate, atomically: true, encoding: .utf8)
        let local = fixture.folder.appendingPathComponent("Mail")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        let rc = fixture.folder.appendingPathComponent("mbsyncrc")
        try Programs.write("""
            IMAPAccount bob
            Host 127.0.0.1
            Port \(fixture.port(993, host: 1))
            User bob
            Pass secret123
            SSLType IMAPS
            CertificateFile \(certificate.path)

            IMAPStore bob-remote
            Account bob

            MaildirStore bob-local
            Path \(local.path)/
            Inbox \(local.path)/INBOX
            SubFolders Verbatim

            Channel bob
            Far :bob-remote:
            Near :bob-local:
            Patterns *
            Create Both
            Expunge Both
            SyncState *

            """, to: rc, mode: 0o600)
        func sync() throws -> RealClient.Result {
            let r = try Programs.run(mbsync, ["-c", rc.path, "-V", "bob"])
            #expect(r.status == 0, "mbsync, offset \(fixture.offset): \(r.output)")
            return r
        }
        func files(_ folder: String) -> [URL] {
            ["cur", "new"].flatMap { sub in
                (try? FileManager.default.contentsOfDirectory(at: local.appendingPathComponent(folder).appendingPathComponent(sub),
                                                              includingPropertiesForKeys: nil)) ?? []
            }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
        _ = try sync()
        var inbox = files("INBOX")
        #expect(inbox.count == 2)
        // Near side: flag the first (Maildir info ":2,F"), delete the second, a new folder with one message.
        let first = try #require(inbox.first), second = try #require(inbox.last)
        let base = first.lastPathComponent.components(separatedBy: ":2,").first!
        let flagged = local.appendingPathComponent("INBOX/cur/\(base):2,F")
        try FileManager.default.moveItem(at: first, to: flagged)
        try FileManager.default.removeItem(at: second)
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(at: local.appendingPathComponent("Projects/\(sub)"), withIntermediateDirectories: true)
        }
        try "From: bob@company.org\r\nTo: bob@company.org\r\nSubject: written offline\r\n\r\nhello\r\n"
            .write(to: local.appendingPathComponent("Projects/new/1700000000.1.near"), atomically: true, encoding: .utf8)
        _ = try sync()
        let server = try Programs.inbox(fixture)
        #expect(server.count == 1, "the deletion reached the server")
        #expect(server.first?.flags.contains(.flagged) == true, "\(server.map(\.flags))")
        #expect(Programs.subjects(try Programs.inbox(fixture, mailbox: "Projects")) == ["written offline"])
        // Far side: a flag set by another client, a folder with a message, and new mail.
        let uid = try #require(server.first?.uid)
        try fixture.bridge.withWorld { world in
            let store = try world.store(for: "company.org")
            _ = try store.storeFlags(user: "bob", mailbox: "INBOX", uids: [uid], operation: .add, flags: [.answered])
            try store.createMailbox(user: "bob", name: "Archive")
            _ = try store.append(user: "bob", mailbox: "Archive", bytes: Array("Subject: archived\r\n\r\nold\r\n".utf8),
                                 flags: [.seen], internalDate: IMAPDate(year: 2026, month: 1, day: 5, hour: 9)!)
        }
        #expect(try Programs.sendToBob(fixture, subject: "sync three"))
        #expect(fixture.waitForBob(count: 2))
        _ = try sync()
        inbox = files("INBOX")
        #expect(inbox.count == 2, "\(inbox)")
        #expect(inbox.contains { $0.lastPathComponent.hasSuffix(":2,FR") }, "\(inbox.map(\.lastPathComponent))")
        let archive = files("Archive")
        #expect(archive.count == 1 && archive.first?.lastPathComponent.hasSuffix(":2,S") == true, "\(archive)")
        #expect(!fixture.log.text.contains("secret123"))
    }

    // MARK: mutt

    func muttConfig(_ fixture: BridgeFixture) throws -> URL {
        let rc = fixture.folder.appendingPathComponent("muttrc")
        try Programs.write("""
            set from = "alice@example.com"
            set realname = "Alice"
            set folder = "imaps://alice@127.0.0.1:\(fixture.port(993))/"
            set spoolfile = "+INBOX"
            set record = ""
            set imap_pass = "mypassword"
            set smtp_url = "smtp://alice@127.0.0.1:\(fixture.port(587))/"
            set smtp_pass = "mypassword"
            set ssl_starttls = yes
            set ssl_force_tls = yes
            set ssl_ca_certificates_file = "\(fixture.caPath)"
            set ssl_verify_host = no
            set certificate_file = "\(fixture.folder.path)/mutt-certificates"
            set header_cache = ""
            set message_cachedir = ""
            set quit = yes
            set delete = yes
            set confirmappend = no
            set mark_old = no
            set wait_key = no

            """, to: rc, mode: 0o600)
        return rc
    }

    @Test(.enabled(if: Programs.mutt != nil && Programs.script != nil, "mutt or script (bsdutils) is not installed (apt-get install mutt)"))
    func muttSendsOverSubmissionAndReadsOverIMAPS() throws {
        let mutt = try #require(Programs.mutt)
        let script = try #require(Programs.script)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        let rc = try muttConfig(fixture)
        let body = fixture.folder.appendingPathComponent("body.txt")
        try "sent by mutt over submission\n".write(to: body, atomically: true, encoding: .utf8)
        // Batch send: mutt reads the body from standard input (here through sh).
        let sent = try Programs.run("/bin/sh", ["-c", "'\(mutt)' -F '\(rc.path)' -n -s 'from mutt' -- alice@example.com bob@company.org < '\(body.path)'"],
                                    environment: ["HOME": fixture.folder.path])
        #expect(sent.status == 0, "mutt send, offset \(fixture.offset): \(sent.output)")
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        #expect(fixture.bridge.wait(timeout: .seconds(30)) { world in
            ((try? world.store(for: "example.com").messages(user: "alice").count) ?? 0) >= 1
        })
        try fixture.bridge.withWorld { world in try world.store(for: "example.com").createMailbox(user: "alice", name: "Archive") }
        // Reading needs a terminal: script(1) gives mutt one; the keys are pushed.
        let keys = "<display-message><exit><save-message>=Archive<enter><sync-mailbox><quit>"
        let read = try Programs.run(script, ["-qfec", "'\(mutt)' -F '\(rc.path)' -n -e 'push \"\(keys)\"'", "/dev/null"],
                                    environment: ["HOME": fixture.folder.path, "TERM": "xterm"], timeout: 60)
        #expect(read.status == 0, "mutt read, offset \(fixture.offset): \(read.output.suffix(600))")
        let archived = try Programs.inbox(fixture, user: "alice", domain: "example.com", mailbox: "Archive")
        #expect(Programs.subjects(archived) == ["from mutt"])
        #expect(archived.first?.flags.contains(.seen) == true, "reading set \\Seen before the copy")
        #expect(try Programs.inbox(fixture, user: "alice", domain: "example.com").isEmpty, "saved, deleted and expunged")
        #expect(!fixture.log.text.contains("mypassword"))
    }

    // MARK: Python imaplib and poplib

    static let imapFeatures = #"""
        import socket, ssl, sys, time, re, subprocess
        port, ca, sendcmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
        ctx = ssl.create_default_context(cafile=ca)
        class Conn:
            def __init__(self):
                raw = socket.create_connection(('127.0.0.1', port), 20)
                self.s = ctx.wrap_socket(raw, server_hostname='mail1.company.org'); self.buf = b''
                self.line()
            def line(self):
                while b'\r\n' not in self.buf:
                    d = self.s.recv(65536)
                    if not d: raise EOFError(self.buf)
                    self.buf += d
                l, self.buf = self.buf.split(b'\r\n', 1)
                m = re.search(rb'\{(\d+)\}$', l)
                if m:
                    n = int(m.group(1))
                    while len(self.buf) < n + 2: self.buf += self.s.recv(65536)
                    l += b'\r\n' + self.buf[:n]; self.buf = self.buf[n:]
                    rest = self.line(); l += rest
                return l
            def cmd(self, tag, text):
                self.s.sendall(tag + b' ' + text + b'\r\n')
                out = []
                while True:
                    l = self.line(); out.append(l)
                    if l.startswith(tag + b' '): return out
        def check(name, cond, detail):
            print(('ok ' if cond else 'FAIL ') + name + ('' if cond else ' ' + repr(detail)))
        a, b = Conn(), Conn()
        for c in (a, b): c.cmd(b'l', b'LOGIN bob secret123')
        r = a.cmd(b'a1', b'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)')
        check('status', re.match(rb'\* STATUS INBOX \(MESSAGES 1 UIDNEXT \d+ UIDVALIDITY \d+ UNSEEN 1\)', r[0]) is not None, r)
        msg = b'From: Probe <probe@company.org>\r\nTo: bob@company.org\r\nSubject: =?utf-8?q?caf=C3=A9?= latte\r\n\r\nun caf\xc3\xa9\r\n'
        r = a.cmd(b'a2', b'APPEND INBOX (\\Flagged $Work) {%d+}\r\n' % len(msg) + msg)
        check('append literal+', re.match(rb'a2 OK \[APPENDUID \d+ \d+\]', r[-1]) is not None and len(r) == 1, r)
        a.cmd(b'a3', b'SELECT INBOX'); b.cmd(b'b0', b'SELECT INBOX')
        r = a.cmd(b'a4', b'SEARCH CHARSET UTF-8 SUBJECT {5+}\r\ncaf\xc3\xa9')
        check('search charset subject', r[0] == b'* SEARCH 2', r)
        r = a.cmd(b'a5', b'SEARCH CHARSET UTF-8 BODY {5+}\r\ncaf\xc3\xa9')
        check('search charset body', r[0] == b'* SEARCH 2', r)
        r = a.cmd(b'a6', b'SEARCH CHARSET KOI8-R SUBJECT x')
        check('badcharset', r[-1].startswith(b'a6 NO [BADCHARSET'), r)
        r = a.cmd(b'a7', b'UID SEARCH KEYWORD $Work')
        uid = r[0].split()[-1]
        r = a.cmd(b'a8', b'UID FETCH ' + uid + b' (FLAGS RFC822.SIZE)')
        check('uid fetch', b'$Work' in r[0] and b'UID ' + uid in r[0], r)
        a.cmd(b'a9', b'CREATE Moved')
        r = a.cmd(b'a10', b'UID MOVE ' + uid + b' Moved')
        check('uid move', r[0].startswith(b'* OK [COPYUID ') and r[1] == b'* 2 EXPUNGE' and r[-1].startswith(b'a10 OK'), r)
        r = a.cmd(b'a11', b'STATUS Moved (MESSAGES)')
        check('status moved', r[0] == b'* STATUS Moved (MESSAGES 1)', r)
        # IDLE: a delivery, another session's flag change and expunge arrive before DONE.
        a.s.sendall(b'i IDLE\r\n'); check('idle', a.line() == b'+ idling', '')
        a.s.settimeout(15)
        started = time.time()
        subprocess.run(sendcmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        news = [a.line(), a.line()]
        check('idle exists', news == [b'* 2 EXISTS', b'* 2 RECENT'], news)
        b.cmd(b'b1', b'STORE 1 +FLAGS (\\Answered)')
        l = a.line(); check('idle flags', l.startswith(b'* 1 FETCH (FLAGS (\\Answered'), l)
        b.cmd(b'b2', b'STORE 1 +FLAGS (\\Deleted)'); b.cmd(b'b3', b'EXPUNGE')
        l = [a.line(), a.line()]; check('idle expunge', l[-1] == b'* 1 EXPUNGE', l)
        a.s.sendall(b'DONE\r\n'); l = a.line(); check('done', l == b'i OK IDLE terminated', l)
        r = a.cmd(b'a12', b'UNSELECT'); check('unselect', r == [b'a12 OK UNSELECT completed'], r)
        r = a.cmd(b'a13', b'LOGOUT'); check('logout', r[0].startswith(b'* BYE'), r)
        """#

    @Test(.enabled(if: Programs.python != nil, "python3 is not installed"))
    func pythonIMAPIdleMoveUIDAppendSearchStatus() throws {
        let python = try #require(Programs.python)
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        #expect(try Programs.sendToBob(fixture, subject: "first"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        let message = fixture.folder.appendingPathComponent("message.eml")
        let sender = fixture.folder.appendingPathComponent("send.py")
        try Programs.write(Scripts.smtpStartTLS, to: sender)
        guard let result = try RealClient.python(Self.imapFeatures,
                                                 ["\(fixture.port(993, host: 1))", fixture.caPath, python, sender.path,
                                                  "\(fixture.port(587))", fixture.caPath, "during idle", message.path],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(!result.output.contains("FAIL"), "\(result.output)")
        #expect(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("ok ") }.count == 15, "\(result.output)")
    }

    static let pop3 = #"""
        import poplib, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=ca)
        p = poplib.POP3('127.0.0.1', port, timeout=20)
        print('capa before', sorted(p.capa()))
        try:
            p.user('bob'); print('user accepted in clear')
        except poplib.error_proto as e:
            print('refused', e.args[0].decode())
        p.host = 'mail1.company.org'
        print('stls', p.stls(context=ctx).decode())
        print('capa after', sorted(p.capa()))
        print('login', p.user('bob').decode(), p.pass_('secret123').decode())
        print('stat', p.stat())
        print('uidl', len(p.uidl()[1]))
        print('top', b'Subject: via poplib' in p.top(1, 0)[1])
        print('dele', p.dele(1).decode())
        print('quit', p.quit().decode())
        """#

    @Test(.enabled(if: Programs.python != nil, "python3 is not installed"))
    func pythonPoplibSTLSUidlTopDele() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        #expect(try Programs.sendToBob(fixture, subject: "via poplib"))
        #expect(fixture.waitForBob(count: 1), "offset \(fixture.offset)")
        guard let result = try RealClient.python(Self.pop3, ["\(fixture.port(110, host: 1))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("refused -ERR [AUTH] Plaintext authentication disallowed"), "\(result.output)")
        #expect(result.output.contains("'STLS'") && result.output.contains("'USER'"), "\(result.output)")
        #expect(result.output.contains("login +OK"), "\(result.output)")
        #expect(result.output.contains("top True"), "\(result.output)")
        #expect(result.output.contains("dele +OK"), "\(result.output)")
        #expect(try Programs.inbox(fixture).isEmpty, "DELE then QUIT removed it")
    }
}
