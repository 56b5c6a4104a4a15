import Testing
@testable import MailCore

/// A small relay policy like the course's Postfix: example.com is local, alice and bob have
/// passwords, mail to other domains needs authentication, and `%`, quoted `@` or source routes are
/// relay attempts.
struct SMTPTestPolicy: SMTPServerPolicy {
    var localDomains: Set<String> = ["example.com"]
    var users: [String: String] = ["alice": "mypassword", "bob": "secret123"]
    var localMailboxes: Set<String> = ["alice", "bob", "postmaster"]
    var tokens: [String: String] = ["alice@example.com": "ya29.token"]
    var queued: [(envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo)] = []
    var nextQueueID = 0x3F4A51234
    var connectionDecision: SMTPPolicyDecision = .accept
    var messageRefusal: SMTPReply?
    var temporaryRecipients: Set<String> = []
    var forwardedRecipients: [String: String] = [:]
    var movedRecipients: [String: String] = [:]

    mutating func connectionOpened(session: SMTPSessionInfo) -> SMTPPolicyDecision { connectionDecision }

    mutating func authenticate(_ credentials: SASLCredentials, session: SMTPSessionInfo) -> Bool {
        switch credentials {
        case .password(let user, let password, _): return users[user] == password
        case .bearerToken(let user, let token): return tokens[user] == token
        }
    }

    mutating func password(forUser user: String, session: SMTPSessionInfo) -> String? { users[user] }

    mutating func checkSender(_ path: SMTPPath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPPolicyDecision {
        if let user = session.authenticatedUser, let mailbox = path.mailbox,
           localDomains.contains(mailbox.normalizedDomain), mailbox.localPart != user {
            return .reject(SMTPReply(code: 553, "5.7.1", "<\(path.address)>: Sender address rejected: not owned by user \(user)"))
        }
        return .accept
    }

    mutating func checkRecipient(_ path: SMTPPath, parameters: SMTPRecipientParameters, envelope: SMTPEnvelope,
                                 session: SMTPSessionInfo) -> SMTPPolicyDecision {
        guard let mailbox = path.mailbox else { return .reject(SMTPReply(code: 501, "5.1.3", "Bad recipient address syntax")) }
        let address = path.address
        if temporaryRecipients.contains(address) {
            return .reject(SMTPReply(code: 450, "4.2.0", "<\(address)>: Recipient address rejected: Greylisted"))
        }
        if let target = forwardedRecipients[address] {
            return .acceptWith(SMTPReply(code: 251, "2.1.5", "User not local; will forward to <\(target)>"))
        }
        if let target = movedRecipients[address] {
            return .reject(SMTPReply(code: 551, "5.1.6", "User not local; please try <\(target)>"))
        }
        let local = mailbox.domain.isEmpty || localDomains.contains(mailbox.normalizedDomain)
        if local && !path.hasRoutingSyntax {
            if localMailboxes.contains(mailbox.localPart.lowercased()) { return .accept }
            return .reject(SMTPReply(code: 550, "5.1.1", "<\(address)>: Recipient address rejected: User unknown in local recipient table"))
        }
        if session.authenticatedUser != nil { return .accept }
        return .reject(SMTPReply(code: 554, "5.7.1", "<\(address)>: Relay access denied"))
    }

    mutating func acceptMessage(_ envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> SMTPMessageDecision {
        if let messageRefusal { return .reject(messageRefusal) }
        queued.append((envelope, data, session))
        let id = String(nextQueueID, radix: 16, uppercase: true)
        nextQueueID += 1
        return .queued(id: id)
    }
}

typealias TestServer = SMTPServer<SMTPTestPolicy>

func makeServer(_ configuration: SMTPServerConfiguration = .relay(hostname: "mail.example.com"),
                policy: SMTPTestPolicy = SMTPTestPolicy()) -> TestServer {
    SMTPServer(configuration: configuration, policy: policy, clientAddress: "203.0.113.7", clientHostname: "client.example.net")
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Everything the actions send, as text, plus flags for STARTTLS and close.
struct Collected: Equatable {
    var text = ""
    var startTLS = false
    var closed = false

    mutating func add(_ actions: [SMTPServerAction]) {
        for action in actions {
            switch action {
            case .send(let b): text += String(decoding: b, as: UTF8.self)
            case .startTLS: startTLS = true
            case .close: closed = true
            }
        }
    }

    var lines: [String] {
        var parts = text.components(separatedBy: "\r\n")
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}

/// Runs a transcript: `C:` lines are sent (with CRLF), `S:` lines expected in order; `TLS` calls
/// `tlsEstablished`. Returns the server for further checks.
@discardableResult
func runTranscript(_ script: String, server initial: TestServer = makeServer(),
                   sourceLocation: SourceLocation = #_sourceLocation) -> TestServer {
    var server = initial
    var collected = Collected()
    var expected: [String] = []
    var time = Duration.zero
    collected.add(server.start(now: time))
    for raw in script.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = String(raw)
        if line.hasPrefix("S: ") || line == "S:" {
            expected.append(String(line.dropFirst(3)))
        } else if line.hasPrefix("C: ") || line == "C:" {
            time += .seconds(1)
            collected.add(server.receive(bytes(String(line.dropFirst(3)) + "\r\n"), now: time))
            // A failed AUTH answers after its delay: the client waits for it.
            while let hold = server.holdUntil {
                time = hold
                collected.add(server.timerFired(now: time))
            }
        } else if line == "TLS" {
            collected.add(server.tlsEstablished(now: time))
        }
    }
    #expect(collected.lines == expected, sourceLocation: sourceLocation)
    return server
}

/// Feeds `input` in one go and returns what the server said after its greeting.
func exchange(_ input: String, server initial: TestServer = makeServer()) -> (Collected, TestServer) {
    var server = initial
    _ = server.start(now: .zero)
    var collected = Collected()
    collected.add(server.receive(bytes(input), now: .seconds(1)))
    while let hold = server.holdUntil { collected.add(server.timerFired(now: hold)) }
    return (collected, server)
}
