import Foundation
import MailSim

/// A learner's connection to a simulated server, from the learner's machine.
///
/// Each typed line goes on the wire with CRLF; the session then steps the world until the reply
/// is complete for the protocol: SMTP a final `NNN ` line (RFC 5321 §4.2.1), POP3 the status line
/// and, after `+OK` to LIST/UIDL without argument, RETR, TOP or CAPA, the lines up to `.`
/// (RFC 1939 §3), IMAP the tagged response of the typed tag or a `+` continuation (RFC 3501 §7.5),
/// or until the server closes or nothing more happens.
///
/// It watches the dialogue for the facts goals need: STARTTLS/STLS accepted (then it really
/// starts TLS as the client and waits for the handshake, so the rest of the session is encrypted
/// on the wire), authentication succeeded (user decoded from the SASL exchange), a message
/// accepted (`250 … queued as ID`), the connection closed.
final class LearnerSession: TutorSession {
    let protocolKind: MailProtocol
    let host: String
    let port: Int
    private(set) var greeting: [String] = []
    private(set) var isClosed = false

    private let owner: SimulatedWorld
    private let target: MailSim.Host
    private var connection: Connection?
    private var buffer: [UInt8] = []
    private var received: [String] = []
    private var connected = false
    private var connectError: ConnectError?
    private var tlsUp = false
    private var closeReason: String?

    // Protocol state seen from the client side.
    private var inData = false
    private var mailFrom: String?
    private var recipients: [String] = []
    private var auth: (mechanism: String, responses: [String])?
    private var pop3User: String?
    private var imapTag: String?
    private var continuation = false

    /// Longest reply line kept; longer data is cut into pieces (a peer cannot exhaust memory).
    static let maximumLine = 64 * 1024
    /// How far one learner command may run virtual time while waiting for its reply (more than
    /// the stall timeout, so a vanished server shows as a reset).
    static let patience: VirtualDuration = .minutes(3)

    init(world: SimulatedWorld, target: MailSim.Host, port: Int, protocolKind: MailProtocol) {
        owner = world
        self.target = target
        host = target.name
        self.port = port
        self.protocolKind = protocolKind
    }

    // MARK: opening

    func open(implicitTLS: Bool) throws {
        let connection = owner.world.connect(from: owner.learnerHost, to: target.name, port: UInt16(port)) { [weak self] event in
            self?.handle(event)
        }
        self.connection = connection
        owner.run(until: { connected || connectError != nil || closeReason != nil })
        if let error = connectError {
            isClosed = true
            switch error {
            case .refused:
                throw TutorError(fr: "Connexion refusée : rien n'écoute sur \(host):\(port).",
                                 en: "Connection refused: nothing listens on \(host):\(port).")
            case .timedOut:
                throw TutorError(fr: "Délai dépassé : \(host) ne répond pas (machine arrêtée ou injoignable).",
                                 en: "Timed out: \(host) does not answer (host down or unreachable).")
            case .unknownHost, .localHostDown:
                throw TutorError(fr: "Connexion impossible : \(error)", en: "Cannot connect: \(error)")
            }
        }
        guard connected else {
            isClosed = true
            throw TutorError(fr: "Pas de réponse de \(host):\(port).", en: "No answer from \(host):\(port).")
        }
        if implicitTLS {
            connection.startTLS(asClient: target.name)
            owner.run(until: { tlsUp || closeReason != nil }, patience: Self.patience)
            guard tlsUp else {
                isClosed = true
                throw TutorError(fr: "Échec de la négociation TLS avec \(host):\(port) (\(closeReason ?? "pas de réponse")).",
                                 en: "TLS negotiation with \(host):\(port) failed (\(closeReason ?? "no answer")).")
            }
        }
        owner.run(until: { greetingComplete() || closeReason != nil }, patience: Self.patience)
        greeting = received
        received = []
        if closeReason != nil { isClosed = true }
    }

    private func greetingComplete() -> Bool {
        switch protocolKind {
        case .smtp, .dns: return received.contains(where: Self.isFinalSMTPLine)
        case .pop3, .imap: return !received.isEmpty
        }
    }

    // MARK: events from the virtual socket

    private func handle(_ event: ConnectionEvent) {
        switch event {
        case .connected:
            connected = true
        case let .connectFailed(error):
            connectError = error
        case let .data(bytes):
            for byte in bytes {
                buffer.append(byte)
                if byte == 0x0A || buffer.count >= Self.maximumLine {
                    var line = buffer[...]
                    if line.last == 0x0A { line = line.dropLast() }
                    if line.last == 0x0D { line = line.dropLast() }
                    received.append(String(decoding: line, as: UTF8.self))
                    buffer = []
                }
            }
        case .tlsEstablished:
            tlsUp = true
        case .endOfStream:
            closeReason = "closed by the server"
            connection?.close()
        case .closed:
            closeReason = closeReason ?? "closed"
        case let .reset(reason):
            closeReason = reason.description
        }
    }

    // MARK: TutorSession

    func send(line: String) -> SessionExchange {
        guard !isClosed, let connection else { return SessionExchange(lines: [], events: [.closed]) }
        // Lines that arrived since the last command (an IMAP push during IDLE, a 421 after an
        // idle timeout while time was advanced) come first.
        let early = received
        received = []
        connection.write(Array(line.utf8) + [0x0D, 0x0A])
        var exchange: SessionExchange
        if inData && protocolKind == .smtp {
            if line == "." {
                inData = false
                exchange = self.exchange(line: line, verb: ".")
            } else {
                try? owner.settle()
                exchange = finish(lines: [], events: [])
            }
        } else {
            exchange = self.exchange(line: line, verb: SessionRecord.verb(of: line, protocolKind: protocolKind))
        }
        exchange.lines = early + exchange.lines
        return exchange
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        connection?.close()
        try? owner.settle()
    }

    // MARK: one command and its reply

    private func exchange(line: String, verb: String) -> SessionExchange {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        // A line answering a continuation belongs to the command that asked for it.
        let answering = continuation
        continuation = false
        if protocolKind == .imap && !answering {
            imapTag = words.first
        }
        let multiline = protocolKind == .pop3 && !answering && Self.pop3MultiLine(words)
        owner.run(until: { replyComplete(multiline: multiline) || closeReason != nil }, patience: Self.patience)
        var lines = received
        received = []
        var events: [SessionEvent] = []
        let last = lines.last ?? ""

        switch protocolKind {
        case .smtp, .dns:
            smtpFacts(verb: answering ? "" : verb, words: words, line: line, reply: last, events: &events)
            if last.hasPrefix("334") { continuation = true }
        case .pop3:
            let status = lines.first ?? ""
            pop3Facts(verb: answering ? "" : verb, words: words, line: line, status: status, events: &events)
            if status == "+" || status.hasPrefix("+ ") { continuation = true }
        case .imap:
            imapFacts(verb: answering ? "" : verb, words: words, line: line, lines: lines, events: &events)
            if last == "+" || last.hasPrefix("+ ") { continuation = true }
        }

        if let positive = startTLSAccepted(verb: answering ? "" : verb, lines: lines), positive, let connection {
            connection.startTLS(asClient: target.name)
            owner.run(until: { tlsUp || closeReason != nil }, patience: Self.patience)
            if tlsUp {
                events.insert(.tlsEstablished("\(target.name), certificate verified against the MailLab CA"), at: 0)
            }
        }
        if ["QUIT", "LOGOUT"].contains(verb), !answering {
            owner.run(until: { closeReason != nil }, patience: Self.patience)
        }
        lines += received
        received = []
        return finish(lines: lines, events: events)
    }

    private func finish(lines: [String], events: [SessionEvent]) -> SessionExchange {
        var events = events
        if closeReason != nil && !isClosed {
            isClosed = true
            events.append(.closed)
        }
        return SessionExchange(lines: lines, events: events)
    }

    private func replyComplete(multiline: Bool) -> Bool {
        switch protocolKind {
        case .smtp, .dns:
            return received.contains(where: Self.isFinalSMTPLine)
        case .pop3:
            guard let first = received.first else { return false }
            if multiline && first.uppercased().hasPrefix("+OK") { return received.dropFirst().contains(".") }
            return true
        case .imap:
            let tag = (imapTag ?? "").uppercased()
            return received.contains { reply in
                reply == "+" || reply.hasPrefix("+ ") || (!tag.isEmpty && reply.uppercased().hasPrefix(tag + " "))
            }
        }
    }

    static func isFinalSMTPLine(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return bytes.count == 3 || bytes[3] == 0x20
    }

    /// RFC 1939 §5 and RFC 2449 §5: replies that go on until a line holding only `.` (also a bare
    /// `AUTH`, which servers answer with the list of mechanisms).
    static func pop3MultiLine(_ words: [String]) -> Bool {
        guard let verb = words.first?.uppercased() else { return false }
        switch verb {
        case "LIST", "UIDL", "AUTH": return words.count == 1
        case "RETR", "TOP", "CAPA": return true
        default: return false
        }
    }

    /// True when the reply accepts STARTTLS (SMTP 220, POP3 `+OK` to STLS, IMAP tagged OK), false
    /// when it refuses it, nil when the command was something else.
    private func startTLSAccepted(verb: String, lines: [String]) -> Bool? {
        guard !tlsUp else { return nil }
        switch protocolKind {
        case .smtp, .dns:
            guard verb == "STARTTLS", let last = lines.last else { return nil }
            return last.hasPrefix("220")
        case .pop3:
            guard verb == "STLS", let first = lines.first else { return nil }
            return first.uppercased().hasPrefix("+OK")
        case .imap:
            guard verb == "STARTTLS", let tag = imapTag else { return nil }
            return lines.contains { $0.uppercased().hasPrefix(tag.uppercased() + " OK") }
        }
    }

    // MARK: facts

    private func smtpFacts(verb: String, words: [String], line: String, reply: String, events: inout [SessionEvent]) {
        let code = Int(reply.prefix(3)) ?? 0
        switch verb {
        case "EHLO", "HELO", "RSET":
            if code == 250 { resetTransaction() }
        case "MAIL":
            if code == 250 {
                mailFrom = Self.pathArgument(line) ?? ""
                recipients = []
            }
        case "RCPT":
            if code == 250 || code == 251, let address = Self.pathArgument(line) { recipients.append(address) }
        case "DATA":
            if code == 354 { inData = true }
        case "AUTH":
            auth = words.count >= 2 ? (words[1].uppercased(), Array(words.dropFirst(2).prefix(1))) : nil
        case "":
            if auth != nil, !line.isEmpty { auth?.responses.append(line) }
        default:
            break
        }
        if verb == "." || (verb == "BDAT" && words.last?.uppercased() == "LAST") {
            if code == 250 {
                events.append(.accepted(from: mailFrom ?? "", to: recipients, queueID: Self.queueID(reply)))
            }
            resetTransaction()
        }
        if code == 235, let (mechanism, responses) = auth {
            events.append(.authenticated(user: Self.saslUser(mechanism: mechanism, responses: responses) ?? "?"))
            auth = nil
        } else if code >= 400 {
            auth = nil
        }
    }

    private func resetTransaction() {
        mailFrom = nil
        recipients = []
    }

    private func pop3Facts(verb: String, words: [String], line: String, status: String, events: inout [SessionEvent]) {
        let ok = status.uppercased().hasPrefix("+OK")
        switch verb {
        case "USER":
            pop3User = ok && words.count >= 2 ? words[1] : nil
        case "PASS":
            if ok, let user = pop3User { events.append(.authenticated(user: user)) }
        case "APOP":
            if ok, words.count >= 2 { events.append(.authenticated(user: words[1])) }
        case "AUTH":
            auth = words.count >= 2 ? (words[1].uppercased(), Array(words.dropFirst(2).prefix(1))) : nil
        case "":
            if auth != nil { auth?.responses.append(line) }
        default:
            break
        }
        if verb == "AUTH" || verb == "" {
            if ok, let (mechanism, responses) = auth {
                events.append(.authenticated(user: Self.saslUser(mechanism: mechanism, responses: responses) ?? "?"))
                auth = nil
            } else if status.uppercased().hasPrefix("-ERR") {
                auth = nil
            }
        }
    }

    private func imapFacts(verb: String, words: [String], line: String, lines: [String], events: inout [SessionEvent]) {
        let tag = (imapTag ?? "").uppercased()
        let tagged = lines.last { line in !tag.isEmpty && line.uppercased().hasPrefix(tag + " ") }
        let ok = tagged.map { $0.uppercased().hasPrefix(tag + " OK") } ?? false
        switch verb {
        case "LOGIN":
            if ok, words.count >= 3 { events.append(.authenticated(user: Self.unquote(words[2]))) }
        case "AUTHENTICATE":
            auth = words.count >= 3 ? (words[2].uppercased(), Array(words.dropFirst(3).prefix(1))) : nil
        case "":
            if auth != nil { auth?.responses.append(line) }
        default:
            break
        }
        if verb == "AUTHENTICATE" || verb == "", tagged != nil {
            if ok, let (mechanism, responses) = auth {
                events.append(.authenticated(user: Self.saslUser(mechanism: mechanism, responses: responses) ?? "?"))
            }
            auth = nil
        }
    }

    // MARK: parsing helpers

    /// The address inside `<…>` of `MAIL FROM:<a@b> SIZE=…` or `RCPT TO:<a@b>`.
    static func pathArgument(_ line: String) -> String? {
        guard let open = line.firstIndex(of: "<"), let close = line[open...].firstIndex(of: ">") else {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return line[line.index(after: colon)...].split(separator: " ").first.map(String.init)
        }
        return String(line[line.index(after: open)..<close])
    }

    /// `250 2.0.0 Ok: queued as 3F4A51234` → `3F4A51234`.
    static func queueID(_ reply: String) -> String? {
        guard let range = reply.range(of: "queued as ", options: .caseInsensitive) else { return nil }
        return reply[range.upperBound...].split(separator: " ").first.map(String.init)
    }

    static func unquote(_ text: String) -> String {
        text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") ? String(text.dropFirst().dropLast()) : text
    }

    /// The user a SASL exchange authenticated as: PLAIN's authcid (RFC 4616), LOGIN's first
    /// answer, CRAM-MD5's name (RFC 2195), XOAUTH2's `user=` and OAUTHBEARER's `a=` (RFC 7628).
    static func saslUser(mechanism: String, responses: [String]) -> String? {
        let decoded = responses.compactMap { Data(base64Encoded: $0.trimmingCharacters(in: .whitespaces)).map { Array($0) } }
        guard let first = decoded.first else { return nil }
        switch mechanism {
        case "PLAIN":
            let parts = first.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            return parts.count >= 3 ? parts[1] : parts.first
        case "LOGIN":
            return String(decoding: first, as: UTF8.self)
        case "CRAM-MD5":
            return String(decoding: first, as: UTF8.self).split(separator: " ").first.map(String.init)
        case "XOAUTH2":
            let text = String(decoding: first, as: UTF8.self)
            return text.split(separator: "\u{01}").first { $0.hasPrefix("user=") }.map { String($0.dropFirst(5)) }
        case "OAUTHBEARER":
            let text = String(decoding: first, as: UTF8.self)
            return text.split(separator: ",").first { $0.hasPrefix("a=") }.map { String($0.dropFirst(2)) }
        default:
            return nil
        }
    }
}
