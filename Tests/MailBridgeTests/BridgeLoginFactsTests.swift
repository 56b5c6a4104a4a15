import Foundation
import Testing
@testable import MailBridge
import MailAgents
import MailCore

/// The bridge learns that a real client logged in from the server engine's facts (the world's
/// journal), not by re-reading the dialogue: a logged-in connection keeps the engine's own
/// timeouts, one that never logged in is closed after the pre-login timeout.
@Suite(.serialized) struct BridgeLoginFactsTests {
    @Test func aLoginReportedByTheEngineKeepsTheConnectionOpen() throws {
        let fixture = try BridgeFixture { config in
            config.preLoginIdleTimeout = .milliseconds(600)
            config.housekeepingInterval = .milliseconds(100)
        }
        defer { fixture.stop() }
        // USER/PASS in clear on 110, as `serve --allow-plaintext-auth` allows.
        try fixture.bridge.withWorld { $0.allowPlaintextAuthentication() }
        let port = fixture.port(110, host: 1)
        guard let loggedIn = RawClient(port: port), let silent = RawClient(port: port) else {
            Issue.record("refused"); return
        }
        #expect(loggedIn.read(until: "\r\n").hasPrefix("+OK"))
        #expect(silent.read(until: "\r\n").hasPrefix("+OK"))
        loggedIn.send("USER bob\r\n")
        #expect(loggedIn.read(until: "\r\n").hasPrefix("+OK"))
        loggedIn.send("PASS secret123\r\n")
        let reply = loggedIn.read(until: "\r\n")
        #expect(reply.hasPrefix("+OK"), "\(reply)\n\(fixture.log.text)")
        #expect(silent.closedByPeer(timeout: 5))
        Thread.sleep(forTimeInterval: 0.5)
        loggedIn.send("STAT\r\n")
        #expect(loggedIn.read(until: "\r\n").hasPrefix("+OK"), "\(fixture.log.text)")
        loggedIn.send("QUIT\r\n")
        #expect(loggedIn.read(until: "\r\n").hasPrefix("+OK"))
        let facts = try fixture.bridge.withWorld { $0.world.journal.records }
        #expect(facts.contains { $0.fact == .session(.authSucceeded(mechanism: "USER", user: "bob")) })
    }
}
