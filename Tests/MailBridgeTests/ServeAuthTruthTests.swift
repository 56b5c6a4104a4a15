import Foundation
import Testing
@testable import MailBridge
import MailAgents

/// Issue 13 through `serve`, with a real client (Python's smtplib and poplib): no AUTH before
/// STARTTLS, CRAM-MD5 computed by the client's own HMAC-MD5, no POP3 plaintext login before STLS.
@Suite struct ServeAuthTruthTests {
    static let cramMD5 = #"""
        import smtplib, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=ca)
        s = smtplib.SMTP(local_hostname='client.example')
        s.connect('127.0.0.1', port)
        s._host = 'mail.example.com'
        s.ehlo()
        print('auth before tls', s.has_extn('auth'))
        s.starttls(context=ctx)
        s.ehlo()
        print('mechanisms', s.esmtp_features.get('auth', '').strip())
        s.user, s.password = 'alice', 'mypassword'
        code, text = s.auth('CRAM-MD5', s.auth_cram_md5)
        print('cram', code)
        print('quit', s.quit()[0])
        """#

    static let pop3Plain = #"""
        import poplib, ssl, sys
        port, ca = int(sys.argv[1]), sys.argv[2]
        p = poplib.POP3('127.0.0.1', port)
        print('user offered before', 'USER' in p.capa())
        try:
            p.user('bob')
            print('user accepted')
        except poplib.error_proto as e:
            print('user refused', e.args[0].decode())
        ctx = ssl.create_default_context(cafile=ca)
        p.host = 'mail1.company.org'
        p.stls(context=ctx)
        print('user offered after', 'USER' in p.capa())
        p.user('bob')
        print('pass', p.pass_('secret123').decode())
        p.quit()
        """#

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func smtplibAuthenticatesWithCramMD5AfterSTARTTLS() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        guard let result = try RealClient.python(Self.cramMD5, ["\(fixture.port(587))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("auth before tls False"), "\(result.output)")
        #expect(result.output.contains("mechanisms PLAIN LOGIN CRAM-MD5"), "\(result.output)")
        #expect(result.output.contains("cram 235"), "\(result.output)")
        #expect(fixture.log.text.contains("C: AUTH CRAM-MD5"))
    }

    @Test(.enabled(if: RealClient.find("python3") != nil, "python3 is not installed"))
    func poplibIsRefusedInClearThenLogsInAfterSTLS() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        guard let result = try RealClient.python(Self.pop3Plain, ["\(fixture.port(110, host: 1))", fixture.caPath],
                                                 in: fixture.folder) else { return }
        #expect(result.status == 0, "offset \(fixture.offset): \(result.output)")
        #expect(result.output.contains("user refused -ERR [AUTH] Plaintext authentication disallowed"), "\(result.output)")
        #expect(result.output.contains("user offered before False"), "\(result.output)")
        #expect(result.output.contains("user offered after True"), "\(result.output)")
        #expect(result.output.contains("pass +OK Logged in"), "\(result.output)")
    }

    @Test(.enabled(if: Programs.swaksWithTLS != nil, Comment(rawValue: Programs.swaksReason)))
    func swaksAuthCramMD5SendsThroughServe() throws {
        let fixture = try BridgeFixture()
        defer { fixture.stop() }
        guard let swaks = Programs.swaksWithTLS else { return }
        let result = try RealClient.run(swaks, [
            "--server", "127.0.0.1", "--port", "\(fixture.port(587))", "--tls", "--ehlo", "pc.example.com",
            "--from", "alice@example.com", "--to", "bob@company.org", "--auth", "CRAM-MD5",
            "--auth-user", "alice", "--auth-password", "mypassword", "--header", "Subject: swaks CRAM-MD5",
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("<~  250-AUTH PLAIN LOGIN CRAM-MD5"), "\(result.output)")
        #expect(result.output.contains("<~  235 2.7.0 Authentication successful"), "\(result.output)")
        #expect(fixture.waitForBob(count: 1))
        #expect(try fixture.bobMessages().first?.contains("Subject: swaks CRAM-MD5") == true)
    }
}
