import Foundation
import MailAgents
import MailCore
import MailSim
import NIOCore
import Testing
@testable import MailBridge

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client on 127.0.0.1 (no external program needed).
final class RawClient {
    let fd: Int32

    /// Connects, or returns nil when the connection is refused.
    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Reads until `marker` appears, the peer closes, or `timeout` seconds pass; returns the text read.
    func read(until marker: String, timeout: Double = 5) -> String {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 50)
            if ready <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if String(decoding: out, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// True when the peer closed (read returns 0 or an error) within `timeout` seconds.
    func closedByPeer(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 50) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }
}

@Suite struct ServeLimitsTests {
    /// 300 connections one after the other (greeting, QUIT) leave the world's tables, the tap
    /// and the bridge's sessions at a bounded size: finished connections are forgotten once
    /// logged, but a window of recent ones.
    @Test func longRunOfConnectionsKeepsTablesBounded() throws {
        let fixture = try BridgeFixture { $0.finishedConnectionsKept = 10 }
        defer { fixture.stop() }
        let port = fixture.port(25, host: 1)
        for index in 0..<300 {
            guard let client = RawClient(port: port) else {
                Issue.record("connection \(index) refused (offset \(fixture.offset))")
                return
            }
            let greeting = client.read(until: "\r\n")
            #expect(greeting.hasPrefix("220 "), "\(index): \(greeting)")
            client.send("QUIT\r\n")
            _ = client.read(until: "221")
            #expect(client.closedByPeer())
        }
        #expect(fixture.bridge.wait(timeout: .seconds(10)) { $0.world.openConnectionCount == 0 })
        _ = try fixture.bridge.withWorld { _ in 0 }
        let sizes = fixture.bridge.tableSizes()
        // At most 2·kept finished connections (trimmed by half-windows) plus the open ones.
        #expect(sizes.worldConnections <= 2 * 10 + sizes.openConnections, "\(sizes)")
        #expect(sizes.tapConnections <= sizes.worldConnections, "\(sizes)")
        #expect(sizes.sessions <= 1, "\(sizes)")
        // Without forgetting, the world would hold all 300.
        #expect(fixture.log.text.contains("-- session ended --"))
        #expect(try fixture.bridge.withWorld { $0.world.invariantViolations() } == [])
    }

    /// Four silent sockets fill a port of four; a fifth client still gets its greeting: the
    /// longest idle connection that never logged in makes room once it is idle for
    /// `busyIdleTimeout`, and the silent ones are closed by the busy-port timeout.
    @Test func silentClientsDoNotKeepANewClientFromItsGreeting() throws {
        let fixture = try BridgeFixture(maxConnectionsPerPort: 4) { config in
            config.busyIdleTimeout = .milliseconds(300)
            config.preLoginIdleTimeout = .seconds(2)
            config.housekeepingInterval = .milliseconds(100)
        }
        defer { fixture.stop() }
        let port = fixture.port(110, host: 1)
        var silent: [RawClient] = []
        for _ in 0..<4 {
            guard let client = RawClient(port: port) else { Issue.record("refused"); return }
            #expect(client.read(until: "\r\n").hasPrefix("+OK"))
            silent.append(client)
        }
        Thread.sleep(forTimeInterval: 0.5)
        guard let newcomer = RawClient(port: port) else { Issue.record("newcomer refused"); return }
        let greeting = newcomer.read(until: "\r\n", timeout: 5)
        #expect(greeting.hasPrefix("+OK"), "offset \(fixture.offset): \(greeting)\n\(fixture.log.text)")
        // The silent sockets are closed (reset) by the bridge: while the port is busy after the
        // busy-port timeout, the last one after the pre-login timeout.
        for client in silent { #expect(client.closedByPeer(timeout: 5)) }
        #expect(fixture.bridge.closedByLimitsCount() >= 4)
        #expect(fixture.log.text.contains("closed: idle before login"), "\(fixture.log.text)")
        // The newcomer is still served.
        newcomer.send("QUIT\r\n")
        #expect(newcomer.read(until: "\r\n").hasPrefix("+OK"))
    }

    /// The redactor follows what the server awaits (as its engine reports it with each reply)
    /// only to hide secrets: SASL exchanges end, and a message's lines are shown as sent.
    /// (Logins come from the engines' facts: see `BridgeLoginFactsTests`.)
    @Test func redactorFollowsExchangesAndMessages() {
        var smtp = CredentialRedactor(mailProtocol: .smtp)
        _ = smtp.clientLine("AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=")
        smtp.serverReplied(.awaiting(.command))  // 535 5.7.8 Authentication credentials invalid
        #expect(smtp.clientLine("AUTH LOGIN") == "AUTH LOGIN")
        smtp.serverReplied(.awaiting(.saslResponse))  // 334 VXNlcm5hbWU6
        #expect(smtp.clientLine("YWxpY2U=") == CredentialRedactor.mask)
        smtp.serverReplied(.awaiting(.saslResponse))  // 334 UGFzc3dvcmQ6
        #expect(smtp.clientLine("bXlwYXNzd29yZA==") == CredentialRedactor.mask)
        smtp.serverReplied(.awaiting(.command))  // 235 2.7.0 Authentication successful
        #expect(smtp.clientLine("MAIL FROM:<alice@example.com>") == "MAIL FROM:<alice@example.com>")
        // A message's lines are the message: shown as sent, up to the final dot.
        #expect(smtp.clientLine("DATA") == "DATA")
        smtp.serverReplied(.awaiting(.messageData))  // 354 End data with <CR><LF>.<CR><LF>
        #expect(smtp.clientLine("AUTH PLAIN is a mechanism") == "AUTH PLAIN is a mechanism")
        #expect(smtp.clientLine(".") == ".")
        smtp.serverReplied(.awaiting(.command))  // 250 2.0.0 Ok: queued
        #expect(smtp.clientLine("AUTH PLAIN AGFsaWNl") == "AUTH PLAIN ****")

        var pop = CredentialRedactor(mailProtocol: .pop3)
        #expect(pop.clientLine("USER bob") == "USER bob")
        pop.serverReplied(.awaiting(.command))  // +OK
        #expect(pop.clientLine("PASS secret123") == "PASS ****")

        var imap = CredentialRedactor(mailProtocol: .imap)
        #expect(imap.clientLine("a2 LOGIN bob secret123") == "a2 LOGIN bob ****")
        imap.serverReplied(.awaiting(.command))  // a2 OK [CAPABILITY IMAP4rev2] Logged in
        #expect(imap.clientLine("a3 SELECT INBOX") == "a3 SELECT INBOX")
    }

    /// One client address gets at most `maxConnectionsPerClientAddress` connections on a port.
    @Test func perAddressLimit() throws {
        let fixture = try BridgeFixture { $0.maxConnectionsPerClientAddress = 2 }
        defer { fixture.stop() }
        let port = fixture.port(25, host: 1)
        let first = RawClient(port: port), second = RawClient(port: port)
        #expect(first?.read(until: "\r\n").hasPrefix("220") == true)
        #expect(second?.read(until: "\r\n").hasPrefix("220") == true)
        guard let third = RawClient(port: port) else { return }
        #expect(third.closedByPeer(timeout: 5))
        #expect(fixture.log.text.contains("refused (2 connections already open from 127.0.0.1 on this port)"), "\(fixture.log.text)")
        // Another port is counted apart.
        let pop = RawClient(port: fixture.port(110, host: 1))
        #expect(pop?.read(until: "\r\n").hasPrefix("+OK") == true)
    }

    /// A client that does not read what the server sends is reset once the limit is passed.
    @Test func unreadOutputIsBounded() throws {
        let fixture = try BridgeFixture { $0.maxPendingOutputBytes = 1 }
        defer { fixture.stop() }
        guard let client = RawClient(port: fixture.port(25, host: 1)) else { Issue.record("refused"); return }
        #expect(client.closedByPeer(timeout: 5))
        #expect(fixture.log.text.contains("reset: the client does not read"), "\(fixture.log.text)")
    }
}
