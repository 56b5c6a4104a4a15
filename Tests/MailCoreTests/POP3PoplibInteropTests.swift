import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailCore

/// Python's `poplib` (a real client) talking to the server engine over a socket pair: the test
/// process plays the network, reading the client's octets and writing the engine's replies.
@Suite struct POP3PoplibInteropTests {
    static let python = "/usr/bin/python3"

    static let script = """
        import poplib, socket
        class Session(poplib.POP3):
            def __init__(self, sock):
                self.host = 'mail1.company.org'; self.port = 110; self._tls_established = False
                self.sock = sock; self.file = sock.makefile('rb'); self._debugging = 0
                self.welcome = self._getresp()
        p = Session(socket.socket(fileno=0))
        print(p.welcome.decode())
        print(' '.join(sorted(p.capa().keys())))
        print(p.user('bob').decode()); print(p.pass_('secret123').decode())
        print(p.stat())
        print(p.list()[1])
        print(p.uidl()[1])
        r = p.retr(1); print(r[0].decode(), r[2], r[1][0].decode())
        print(p.top(2, 0)[1])
        print(p.dele(1).decode())
        print(p.quit().decode())
        """

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python), "python3 is not installed"))
    func poplibSession() throws {
        let scriptURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("maillab-poplib-\(ProcessInfo.processInfo.processIdentifier).py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scriptURL) }

        var pair: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [scriptURL.path]
        process.standardInput = FileHandle(fileDescriptor: pair[1])
        let output = Foundation.Pipe()
        process.standardOutput = output
        try process.run()
        close(pair[1])

        let backend = courseMaildrop()
        var server = POP3Server(configuration: .init(hostname: "mail1.company.org"), backend: backend, sessionID: 1)
        var closed = false
        func apply(_ actions: [POP3Action]) {
            for action in actions {
                switch action {
                case .send(let bytes): _ = bytes.withUnsafeBytes { Glibc.send(pair[0], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .close: closed = true
                case .startTLS: Issue.record("poplib did not ask for TLS")
                }
            }
        }
        apply(server.start(now: .zero))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !closed {
            let count = read(pair[0], &buffer, buffer.count)
            if count <= 0 { break }
            apply(server.receive(buffer[0..<count], now: .zero))
        }
        server.connectionClosed()
        close(pair[0])
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.split(separator: "\n").map(String.init) == [
            "+OK POP3 server ready",
            "AUTH-RESP-CODE IMPLEMENTATION PIPELINING RESP-CODES SASL STLS TOP UIDL USER",
            "+OK User accepted",
            "+OK Logged in",
            "(3, 12345)",
            "[b'1 5000', b'2 3500', b'3 3845']",
            "[b'1 abc123def456', b'2 ghi789jkl012', b'3 mno345pqr678']",
            "+OK 5000 octets 5000 Return-Path: <alice@example.com>",
            "[b'From: Alice <alice@example.com>', b'Subject: Second', b'']",
            "+OK Message 1 deleted",
            "+OK POP3 server signing off (1 message deleted)",
        ])
        #expect(backend.boxes["bob"]?.map(\.uniqueID) == ["ghi789jkl012", "mno345pqr678"])
    }
}
