import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import MailCore

/// curl's POP3 client against the server engine over a loopback TCP socket: curl reads CAPA,
/// logs in with AUTH PLAIN, and downloads a message (RETR) or lists the maildrop (LIST).
@Suite struct POP3CurlInteropTests {
    static let curl = "/usr/bin/curl"

    /// Runs curl with `arguments` (the URL's port is appended by the test) against one session.
    func run(path: String, options: [String] = [], backend: POP3InMemoryMaildrop) throws -> (output: String, status: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        try #require(listen(listener, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.curl)
        process.arguments = ["-s", "--max-time", "30", "-u", "bob:secret123"] + options
            + ["pop3://127.0.0.1:\(port)/\(path)"]
        let output = Foundation.Pipe()
        process.standardOutput = output
        try process.run()

        let connection = accept(listener, nil, nil)
        try #require(connection >= 0)
        var server = POP3Server(configuration: .init(hostname: "mail1.company.org"), backend: backend, sessionID: 1)
        var closed = false
        func apply(_ actions: [POP3Action]) {
            for action in actions {
                switch action {
                case .send(let bytes): _ = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .close: closed = true
                case .startTLS: Issue.record("curl did not ask for TLS")
                }
            }
        }
        apply(server.start(now: .zero))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !closed {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            apply(server.receive(buffer[0..<count], now: .zero))
        }
        server.connectionClosed()
        close(connection)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (text, process.terminationStatus)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: curl), "curl is not installed"))
    func retrieveWithCurl() throws {
        let backend = courseMaildrop()
        let (output, status) = try run(path: "2", backend: backend)
        #expect(status == 0)
        #expect(Array(output.utf8) == backend.boxes["bob"]?[1].content)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: curl), "curl is not installed"))
    func listWithCurl() throws {
        let (output, status) = try run(path: "", backend: courseMaildrop())
        #expect(status == 0)
        #expect(output == "1 5000\r\n2 3500\r\n3 3845\r\n")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: curl), "curl is not installed"))
    func deleteWithCurl() throws {
        let backend = courseMaildrop()
        let (_, status) = try run(path: "1", options: ["-X", "DELE", "-I"], backend: backend)
        #expect(status == 0)
        #expect(backend.boxes["bob"]?.map(\.uniqueID) == ["ghi789jkl012", "mno345pqr678"])
    }
}
