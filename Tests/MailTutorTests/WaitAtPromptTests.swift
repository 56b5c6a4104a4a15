import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 13: while the learner waits at a session's prompt the REPL lets virtual time run
/// (`ReplCore.timePassed`, called by the line editor with the wall-clock seconds waited), and
/// what the server pushes meanwhile is returned at once. Outside a session time stands still.
@Suite struct WaitAtPromptTests {
    static func core() -> ReplCore {
        ReplCore(environment: ReplCore.Environment(library: IdlePushTests.library, driver: SimulatedWorldDriver(), store: nil,
                                                   learner: "t", clock: { Date(timeIntervalSince1970: 0) }),
                 language: .en)
    }

    @Test func waitingInIdleShowsTheDeliveryWhenTheBackupRetries() throws {
        let core = Self.core()
        for line in ["down mail1.company.org", "send alice@example.com bob@company.org Hi", "text", ".", "advance 1m",
                     "up mail1.company.org", "connect mail1.company.org 993 --tls", "a1 LOGIN bob secret123",
                     "a2 SELECT INBOX", "a3 IDLE"] {
            _ = core.evaluate(line)
        }
        // The message waits at the backup MX, which tries again minutes later: one second at a
        // time, as a terminal calls it, nothing shows until the retry delivers.
        var shown: [String] = []
        var waited = 0
        while waited < 600 {
            waited += 1
            if let text = core.timePassed(seconds: 1) {
                shown.append(text)
                break
            }
        }
        let push = try #require(shown.first, "nothing pushed in \(waited) s")
        #expect(waited > 60, "delivered after \(waited) s: the backup MX should wait for its retry")
        #expect(push.contains("S: * 1 EXISTS"), "\(push)")
        #expect(push.contains("S: * 0 RECENT") || push.contains("S: * 1 RECENT"), "\(push)")
        let done = core.evaluate("DONE").text
        #expect(done.contains("a3 OK"), "\(done)")
        #expect(!done.contains("EXISTS"), "the push was already shown: \(done)")
    }

    @Test func timeStandsStillOutsideASession() throws {
        let core = Self.core()
        _ = core.evaluate("down mail1.company.org")
        _ = core.evaluate("send alice@example.com bob@company.org Hi")
        _ = core.evaluate("text")
        _ = core.evaluate(".")
        #expect(core.timePassed(seconds: 30) == nil)
        // Nothing ran: the message is still in the first queue, untried.
        let queue = core.evaluate("queue").text
        #expect(queue.contains("mail.example.com") && queue.contains("attempts: 0"), "\(queue)")
    }

    @Test func aServerTimeoutWhileWaitingClosesTheSession() throws {
        let core = Self.core()
        _ = core.evaluate("connect mail.example.com 587")
        var text: String?
        var waited = 0
        while text == nil, waited < 900 {
            waited += 60
            text = core.timePassed(seconds: 60)
        }
        let shown = try #require(text, "no timeout in \(waited) s")
        #expect(shown.contains("S: 421"), "\(shown)")
        #expect(shown.contains("Connection closed by the server."), "\(shown)")
        #expect(core.prompt == "maillab> ")
        #expect(core.timePassed(seconds: 60) == nil)
    }
}

/// A client that starts TLS on a plaintext POP3 or IMAP port sends a ClientHello full of random
/// bytes (BoringSSL's client random, key shares): the server answers once and closes, so the
/// plaintext transcript is the same on every run whatever those bytes are.
@Suite struct ClientHelloOnPlaintextPortTests {
    static let scenario = """
    id: hello-on-plaintext
    title: {fr: "TLS sur un port en clair", en: "TLS on a plaintext port"}
    seed: 3
    covers: [client.config]
    world:
      hosts:
        - name: mail.example.com
          address: 198.51.100.25
          services: [smtp, submission, pop3, pop3s, imap, imaps]
          mta: {domains: [example.com]}
          mda: {domains: [example.com]}
      dns:
        - {name: example.com, type: MX, preference: 10, value: mail.example.com}
        - {name: mail.example.com, type: A, value: 198.51.100.25}
      users:
        - {address: alice@example.com, login: alice, password: mypassword, host: mail.example.com}
      devices:
        - name: phone
          user: alice@example.com
          incoming: {protocol: pop3, host: mail.example.com, port: 110, tls: implicit}
        - name: tablet
          user: alice@example.com
          incoming: {protocol: imap, host: mail.example.com, port: 143, tls: implicit}
    steps:
      - narrate: {fr: "Deux appareils mal réglés.", en: "Two misconfigured devices."}
      - fetch: phone
      - sync: tablet

    """

    static func load() throws -> Scenario {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("maillab-hello-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try scenario.write(to: folder.appendingPathComponent("hello-on-plaintext.yaml"), atomically: true, encoding: .utf8)
        let library = ContentLibrary.load(paths: [folder.path])
        #expect(library.diagnostics.isEmpty, "\(library.diagnostics)")
        return try #require(library.scenarios.first)
    }

    @Test func oneReplyAndTheCloseWhateverTheRandomBytes() throws {
        let scenario = try Self.load()
        for seed: UInt64 in [1, 7, 2026] {
            var transcripts: Set<String> = []
            for _ in 0..<3 {
                let transcript = try ScenarioDeterminismTests.play(scenario, seed: seed)
                transcripts.insert(transcript)
                let lines = transcript.split(separator: "\n").map(String.init)
                #expect(lines.filter { $0.hasPrefix("S: -ERR") } == ["S: -ERR This is not POP3 (a TLS handshake on a plaintext port?), closing the connection"],
                        "\(transcript)")
                #expect(lines.filter { $0.hasPrefix("S: * BYE") || $0.hasPrefix("S: * BAD") }
                        == ["S: * BYE This is not IMAP (a TLS handshake on a plaintext port?), closing the connection."], "\(transcript)")
            }
            #expect(transcripts.count == 1, "seed \(seed): \(transcripts.count) different transcripts in 3 runs")
        }
    }
}
