@testable import MailCore

/// A maildrop kept in memory, shared by the sessions of one test.
final class POP3InMemoryMaildrop: POP3Backend {
    var passwords: [String: String]
    var boxes: [String: [POP3MaildropMessage]]
    private(set) var locked: Set<String> = []
    private(set) var removals: [[String]] = []

    init(passwords: [String: String], boxes: [String: [POP3MaildropMessage]]) {
        self.passwords = passwords
        self.boxes = boxes
    }

    func verifyPassword(user: String, password: String) -> Bool {
        passwords[user] == password
    }

    func apopSecret(user: String) -> String? { passwords[user] }

    func lockMaildrop(user: String) -> Result<[POP3MaildropMessage], POP3MaildropError> {
        if locked.contains(user) { return .failure(.inUse) }
        locked.insert(user)
        return .success(boxes[user] ?? [])
    }

    func removeMessages(user: String, uniqueIDs: [String]) -> Result<Void, POP3MaildropError> {
        removals.append(uniqueIDs)
        boxes[user]?.removeAll { uniqueIDs.contains($0.uniqueID) }
        return .success(())
    }

    func unlockMaildrop(user: String) { locked.remove(user) }
}

/// Drives a `POP3Server` as a test client would: text in, text out.
struct POP3ServerHarness {
    var server: POP3Server
    var now: Duration = .zero
    private(set) var closed = false
    private(set) var tlsRequested = 0

    init(_ backend: POP3InMemoryMaildrop, configuration: POP3ServerConfiguration = .init(hostname: "mail1.company.org"),
         sessionID: UInt64 = 1) {
        server = POP3Server(configuration: configuration, backend: backend, sessionID: sessionID)
    }

    mutating func collect(_ actions: [POP3Action]) -> String {
        var out: [UInt8] = []
        for action in actions {
            switch action {
            case .send(let bytes): out += bytes
            case .startTLS: tlsRequested += 1
            case .close: closed = true
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func start() -> String { collect(server.start(now: now)) }
    mutating func send(_ text: String) -> String {
        var out = collect(server.receive(Array(text.utf8), now: now))
        // A failed login answers after its delay: the client waits for it.
        while let hold = server.holdUntil {
            now = hold
            out += collect(server.timerFired(now: now))
        }
        return out
    }
    mutating func sendLine(_ line: String) -> String { send(line + "\r\n") }
    mutating func tls() -> String { collect(server.tlsEstablished(now: now)) }
    mutating func timer() -> String { collect(server.timerFired(now: now)) }

    /// Logs in with USER/PASS and returns the last reply.
    mutating func login(_ user: String, _ password: String) -> String {
        _ = sendLine("USER \(user)")
        return sendLine("PASS \(password)")
    }
}

/// Builds a message of exactly `size` octets (CRLF line ends) starting with these lines.
func pop3Message(_ lines: [String], size: Int) -> [UInt8] {
    var out = Array(lines.map { $0 + "\r\n" }.joined().utf8)
    var remaining = size - out.count
    while remaining > 80 {
        out += Array(String(repeating: "a", count: 76).utf8) + [13, 10]
        remaining -= 78
    }
    if remaining >= 2 {
        out += Array(String(repeating: "b", count: remaining - 2).utf8) + [13, 10]
    }
    return out
}

func crlf(_ lines: [String]) -> String { lines.map { $0 + "\r\n" }.joined() }
