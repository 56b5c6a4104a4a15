import Testing
@testable import MailCore

/// Seeded random input: the server never crashes, every reply is well formed, memory stays bounded.
@Suite struct SMTPServerFuzzTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
    }

    static let fragments: [String] = [
        "EHLO a.test\r\n", "HELO b\r\n", "MAIL FROM:<a@b.test>\r\n", "MAIL FROM:<>\r\n", "RCPT TO:<bob@example.com>\r\n",
        "RCPT TO:<x%y@example.com>\r\n", "DATA\r\n", ".\r\n", "\r\n.\r\n", "\n.\n", "RSET\r\n", "NOOP\r\n", "AUTH PLAIN\r\n",
        "AUTH LOGIN\r\n", "*\r\n", "=\r\n", "AGFsaWNlAG15cGFzc3dvcmQ=\r\n", "STARTTLS\r\n", "VRFY bob\r\n", "\u{0}", "\u{FF}", "\r", "\n",
        "FOO\r\n", "AUTH CRAM-MD5\r\n", "ETRN x\r\n", String(repeating: "Z", count: 700),
    ]

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomSessions(seed: UInt64) {
        var random = Generator(state: seed)
        var server = makeServer()
        var collected = Collected()
        collected.add(server.start(now: .zero))
        var time = Duration.zero
        for _ in 0..<400 {
            var chunk: [UInt8] = []
            for _ in 0..<(1 + Int(random.next() % 4)) {
                chunk += bytes(Self.fragments[Int(random.next() % UInt64(Self.fragments.count))])
            }
            if random.next() % 5 == 0 { chunk.append(UInt8(truncatingIfNeeded: random.next())) }
            time += .seconds(1)
            let actions = server.receive(chunk, now: time)
            collected.add(actions)
            if actions.contains(.startTLS) { collected.add(server.tlsEstablished(now: time)) }
            #expect(server.framer.bufferedCount <= 12_288 + 4096, "seed=\(seed)")
            if server.isClosed { break }
        }
        for line in collected.lines {
            let codeOK = line.utf8.count >= 4 && line.utf8.prefix(3).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            #expect(codeOK, "seed=\(seed): \(line)")
            #expect(!line.utf8.contains { $0 < 0x20 }, "seed=\(seed): \(line)")
        }
    }
}
