import MailCore
import MailMessage
import MailSim

/// One SMTP client session's outcome, with the transport failure when there was one.
/// Where to send mail for a domain, or why nowhere.
enum ExchangeLookup {
    case hosts([String])
    case unusable(DeliveryOutcome)
}

struct SMTPAttempt {
    var result: SMTPDeliveryResult
    /// "Connection timed out", "connection refused", … when the session never got going or broke.
    var transportError: String?

    /// What went wrong, in the words of a mail log.
    var failureText: String? {
        if let transportError { return transportError }
        guard let failure = result.sessionFailure else { return nil }
        switch failure.reason {
        case .reply(let reply): return "\(reply.oneLine) (in reply to \(failure.stage.rawValue.uppercased()))"
        case .tlsNotOffered: return "TLS required but STARTTLS not offered"
        case .tlsHandshakeFailed: return "TLS handshake failed"
        case .authNotOffered: return "authentication not offered"
        case .connectionClosed: return "lost connection (\(failure.stage.rawValue))"
        case .timeout: return "conversation timed out (\(failure.stage.rawValue))"
        case .malformedReply: return "malformed reply (\(failure.stage.rawValue))"
        }
    }
}

/// A relay session that further messages may join, and who waits for each of its messages
/// (the current one first).
final class RelaySession {
    var session: ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>?
    var waiting: [(job: SMTPClientJob, completion: (SMTPAttempt) -> Void)] = []
}

extension MTA {
    // MARK: the queue manager

    /// Makes sure the queue is looked at no later than `time`.
    func scheduleRun(at time: VirtualTime) {
        let at = max(time, world.now)
        if let current = wakeUpEvent, current.isPending, current.time <= at { return }
        wakeUpEvent?.cancel()
        wakeUpEvent = world.scheduler.schedule(at: at) { [weak self] in self?.runQueue() }
    }

    /// ETRN, `postqueue -f`: try every deferred message now.
    public func flushQueue() {
        queue.makeAllDue(at: world.now)
        scheduleRun(at: world.now)
    }

    private func runQueue() {
        wakeUpEvent = nil
        guard host.isUp else {
            // A host that is down does nothing; it looks again when it comes back.
            if let next = queue.nextWakeUp { scheduleRun(at: max(next, world.now + .seconds(60))) }
            return
        }
        for id in queue.due(at: world.now) {
            attempt(id)
        }
        if let next = queue.nextWakeUp, next > world.now { scheduleRun(at: next) }
    }

    // MARK: one attempt

    private func attempt(_ id: QueueID) {
        guard let entry = queue.entry(id) else { return }
        queue.startAttempt(id)
        var byDomain: [String: [String]] = [:]
        var order: [String] = []
        var outcomes: [(String, DeliveryOutcome)] = []
        for recipient in entry.recipients where recipient.state == .pending {
            let address = recipient.address
            // Queued recipients passed RCPT: the domain follows the last "@".
            let domain = Self.lowercasedDomain(of: address)
            if isLocal(domain: domain) {
                outcomes.append((address, deliverLocally(address, entry: entry)))
            } else {
                if byDomain[domain] == nil { order.append(domain) }
                byDomain[domain, default: []].append(address)
            }
        }
        var remaining = order.count
        if remaining == 0 {
            finishAttempt(id, outcomes)
            return
        }
        for domain in order {
            relay(entry, to: byDomain[domain] ?? [], domain: domain) { [weak self] results in
                outcomes += results
                remaining -= 1
                if remaining == 0 { self?.finishAttempt(id, outcomes) }
            }
        }
    }

    /// The part after the last "@", in lower case ("" without one); found on the UTF-8 bytes, and
    /// copied as it is when it holds no upper-case or non-ASCII byte.
    static func lowercasedDomain(of address: String) -> String {
        let utf8 = address.utf8
        guard let at = utf8.lastIndex(of: UInt8(ascii: "@")) else { return "" }
        let domain = address[utf8.index(after: at)...]
        if domain.utf8.contains(where: { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 >= 0x80 }) {
            return domain.lowercased()
        }
        return String(domain)
    }

    private func finishAttempt(_ id: QueueID, _ outcomes: [(String, DeliveryOutcome)]) {
        guard let folder = queue.folder(of: id) else { return }
        let context = FactContext(time: world.now.engineTime, origin: agentFactOrigin, tls: false)
        for (address, outcome) in outcomes {
            switch outcome {
            case .delivered(let via, let reply):
                note("\(id): to=<\(address)>, relay=\(via), status=sent (\(reply))")
                if via == "local" {
                    let user = localAccount(address) ?? address
                    world.record(.mta(.delivered(queueID: "\(id)", recipient: address, user: user, folder: folder, uid: 0)), context: context)
                } else {
                    world.record(.mta(.relayed(queueID: "\(id)", nextHop: via, recipients: [address])), context: context)
                }
            case .temporaryFailure(let reason):
                note("\(id): to=<\(address)>, status=deferred (\(reason))")
                world.record(.mta(.deferred(queueID: "\(id)", recipients: [address], reason: reason)), context: context)
            case .permanentFailure(_, let diagnostic, _):
                note("\(id): to=<\(address)>, status=bounced (\(diagnostic))")
                world.record(.mta(.bounced(queueID: "\(id)", recipients: [address], reason: diagnostic)), context: context)
            }
        }
        let followup = queue.record(outcomes, for: id, now: world.now)
        if let entry = followup.entry, !followup.bounce.isEmpty { sendReport(.failure, for: entry, recipients: followup.bounce) }
        if let entry = followup.entry, !followup.delayWarning.isEmpty {
            sendReport(.delay, for: entry, recipients: followup.delayWarning)
        }
        if followup.completed { note("\(id): removed") }
        // Entries with an attempt under way need no run of the queue: their attempts end with this call.
        if let next = queue.nextWakeUp { scheduleRun(at: next) }
    }

    // MARK: local delivery

    private func deliverLocally(_ address: String, entry: QueueEntry) -> DeliveryOutcome {
        guard let store, let account = localAccount(address) else {
            return .permanentFailure(status: "5.1.1", diagnostic: "550 5.1.1 <\(address)>: User unknown", remoteMTA: nil)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.data.count + entry.sender.utf8.count + address.utf8.count + 32)
        bytes += "Return-Path: <".utf8
        bytes += entry.sender.utf8
        bytes += ">\r\nDelivered-To: ".utf8
        bytes += address.utf8
        bytes += "\r\n".utf8
        bytes += entry.data
        do {
            let date = world.imapDate(offsetMinutes: configuration.zoneOffsetMinutes)
            do {
                try store.deliver(to: account, folder: entry.folder, bytes: bytes, internalDate: date)
            } catch MailStoreError.noSuchMailbox where entry.folder != "INBOX" {
                // A quarantined message goes into Junk, made on first use (as a server-side filter does).
                try store.createMailbox(user: account, name: entry.folder)
                note("\(entry.id): created folder \(entry.folder) for \(account)")
                try store.deliver(to: account, folder: entry.folder, bytes: bytes, internalDate: date)
            }
            if entry.folder != "INBOX" {
                return .delivered(via: "local", reply: "delivered to mailbox \(entry.folder)")
            }
            return .delivered(via: "local", reply: "delivered to mailbox")
        } catch let error as MailStoreError {
            let reply = error.smtpReply
            let text = "\(reply.code) \(reply.enhanced) \(reply.text)"
            if reply.code >= 500 {
                return .permanentFailure(status: reply.enhanced, diagnostic: text, remoteMTA: nil)
            }
            return .temporaryFailure(text)
        } catch {
            return .temporaryFailure("451 4.3.0 local delivery failed")
        }
    }

    // MARK: remote delivery

    /// The hosts to try for `domain`, best first: its MX records by preference (only those better
    /// than this host when it is itself one of them), else its A record (RFC 5321 §5.1).
    func exchanges(for domain: String) -> ExchangeLookup {
        switch world.resolver.mx(domain) {
        case .answer(let records):
            let me = configuration.hostname.lowercased()  // exchanges come from the zone in lower case
            let mine = records.first { $0.exchange == me }
            let usable = mine == nil ? records : records.filter { $0.preference < mine!.preference }
            if usable.isEmpty {
                return .unusable(.temporaryFailure("mail for \(domain) loops back to myself"))
            }
            return .hosts(usable.map(\.exchange))
        case .noData:
            if case .answer = world.resolver.a(domain) { return .hosts([domain]) }
            return .unusable(.permanentFailure(status: "5.4.4", diagnostic: "Host or domain name not found. Name service error for name=\(domain) type=A: Host found but no data record of requested type", remoteMTA: nil))
        case .nxdomain:
            return .unusable(.permanentFailure(status: "5.4.4", diagnostic: "Host or domain name not found. Name service error for name=\(domain) type=MX: Host not found", remoteMTA: nil))
        }
    }

    private func relay(_ entry: QueueEntry, to recipients: [String], domain: String,
                       completion: @escaping ([(String, DeliveryOutcome)]) -> Void) {
        switch exchanges(for: domain) {
        case .unusable(let outcome):
            completion(recipients.map { ($0, outcome) })
        case .hosts(let hosts):
            tryExchange(hosts, index: 0, entry: entry, recipients: recipients, lastError: nil, completion: completion)
        }
    }

    private func tryExchange(_ hosts: [String], index: Int, entry: QueueEntry, recipients: [String],
                             lastError: String?, completion: @escaping ([(String, DeliveryOutcome)]) -> Void) {
        guard index < hosts.count else {
            let reason = lastError ?? "no mail exchanger could be reached"
            completion(recipients.map { ($0, .temporaryFailure(reason)) })
            return
        }
        let exchange = hosts[index]
        let address = world.resolver.a(exchange).values.first
        guard let address else {
            tryExchange(hosts, index: index + 1, entry: entry, recipients: recipients,
                        lastError: "Host or domain name not found: \(exchange)", completion: completion)
            return
        }
        let label = "\(exchange)[\(address)]:25"
        let job = SMTPClientJob(from: entry.sender, to: recipients, data: entry.data,
                                ehloName: configuration.hostname, tls: .startTLSOpportunistic)
        guard let job else {
            completion(recipients.map { ($0, .permanentFailure(status: "5.1.3", diagnostic: "bad address syntax", remoteMTA: nil)) })
            return
        }
        relayClient(job, address: address, exchange: exchange) { [weak self] attempt in
            guard let self else { return }
            let result = attempt.result
            if let failureText = attempt.failureText {
                // Refused, timed out, reset, a 4xx or a 5xx greeting: the next MX may do better.
                if attempt.transportError == nil, let failure = result.sessionFailure, failure.isPermanent,
                   failure.stage != .greeting, failure.stage != .ehlo, failure.stage != .helo {
                    let status: String
                    if case .reply(let reply) = failure.reason, let code = reply.enhancedCode { status = code.description } else { status = "5.0.0" }
                    completion(recipients.map { ($0, .permanentFailure(status: status, diagnostic: "host \(label) said: \(failureText)", remoteMTA: exchange)) })
                    return
                }
                let text = attempt.transportError != nil ? "connect to \(label): \(failureText)" : "host \(label) said: \(failureText)"
                self.tryExchange(hosts, index: index + 1, entry: entry, recipients: recipients,
                                 lastError: text, completion: completion)
                return
            }
            var outcomes: [(String, DeliveryOutcome)] = []
            for recipient in result.recipients {
                let address = recipient.path.address
                switch recipient.outcome {
                case .accepted(let reply):
                    outcomes.append((address, .delivered(via: label, reply: reply.oneLine)))
                case .temporaryFailure(let reply):
                    outcomes.append((address, .temporaryFailure("host \(label) said: \(reply.map(\.oneLine) ?? "temporary failure")")))
                case .permanentFailure(let reply):
                    let status = reply?.enhancedCode?.description ?? "5.0.0"
                    let diagnostic = reply.map(\.oneLine) ?? "permanent failure"
                    outcomes.append((address, .permanentFailure(status: status, diagnostic: diagnostic, remoteMTA: exchange)))
                }
            }
            completion(outcomes)
        }
    }

    /// Sends `job` to an MX on port 25: on a session of its own, or, with
    /// ``MTAConfiguration/reusesConnections``, on a new session while fewer than
    /// ``MTAConfiguration/destinationConcurrencyLimit`` are open to that MX, else after the
    /// messages of the least busy one. `completion` gets this job's attempt either way.
    func relayClient(_ job: SMTPClientJob, address: IPv4Address, exchange: String,
                     completion: @escaping (SMTPAttempt) -> Void) {
        guard configuration.reusesConnections else {
            runClient(job, to: address.description, serverName: exchange, port: 25, implicitTLS: false, completion: completion)
            return
        }
        let key = "\(exchange)[\(address)]"
        let open = relaySessions[key] ?? []
        if open.count >= configuration.destinationConcurrencyLimit {
            // The least busy session first; the oldest among equals (deterministic).
            let byLoad = open.indices.sorted { (open[$0].waiting.count, $0) < (open[$1].waiting.count, $1) }
            for index in byLoad {
                let cached = open[index]
                if let session = cached.session, session.withEngine({ $0.enqueue(job) }) {
                    cached.waiting.append((job, completion))
                    return
                }
            }
        }
        let relay = RelaySession()
        relay.waiting = [(job, completion)]
        let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
            engine: SMTPClient(job: job), world: world, serverName: exchange,
            hooks: SMTPClient.sessionHooks) { [weak self] attempt in
            self?.relaySessionEnded(relay, key: key, attempt: attempt, address: address, exchange: exchange)
        }
        session.onTransaction = { attempt in
            guard !relay.waiting.isEmpty else { return }
            relay.waiting.removeFirst().completion(attempt)
        }
        relay.session = session
        relaySessions[key, default: []].append(relay)
        session.connect(from: host, to: address.description, port: 25, implicitTLS: false)
    }

    private func relaySessionEnded(_ relay: RelaySession, key: String, attempt: SMTPAttempt,
                                   address: IPv4Address, exchange: String) {
        relaySessions[key]?.removeAll { $0 === relay }
        if relaySessions[key]?.isEmpty == true { relaySessions[key] = nil }
        relay.session = nil
        let waiting = relay.waiting
        relay.waiting = []
        guard let current = waiting.first else { return }
        current.completion(attempt)
        // Messages queued behind a session that ended never went out: they go again.
        for (job, completion) in waiting.dropFirst() {
            relayClient(job, address: address, exchange: exchange, completion: completion)
        }
    }

    /// Runs one SMTP client session from this host.
    func runClient(_ job: SMTPClientJob, to target: String, serverName: String, port: UInt16, implicitTLS: Bool,
                   completion: @escaping (SMTPAttempt) -> Void) {
        let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
            engine: SMTPClient(job: job), world: world, serverName: serverName,
            hooks: SMTPClient.sessionHooks, completion: completion)
        session.connect(from: host, to: target, port: port, implicitTLS: implicitTLS)
    }

    // MARK: reports to the sender

    private func sendReport(_ kind: DeliveryStatusReport.Kind, for entry: QueueEntry, recipients: [QueueEntry.Recipient]) {
        guard !entry.sender.isEmpty else {
            note("\(entry.id): a report about a report is never sent (null sender)")
            return
        }
        let reportID = newQueueID()
        let report = DeliveryStatusReport(
            kind: kind, reportingHost: configuration.hostname, queueID: entry.id, originalSender: entry.sender,
            arrivalDate: arrivalDate(entry), date: world.mailDate(offsetMinutes: configuration.zoneOffsetMinutes).description,
            messageID: "<\(world.unixSeconds).\(reportID)@\(configuration.hostname)>",
            recipients: recipients.map { recipient in
                switch recipient.state {
                case .bounced(let status, let diagnostic, let remote):
                    return .init(address: recipient.address, status: status, remoteMTA: remote, diagnostic: diagnostic)
                default:
                    return .init(address: recipient.address, status: "4.4.1", diagnostic: recipient.lastError)
                }
            },
            originalHeader: entry.data,
            giveUpAfter: "\(configuration.retry.maximalLifetimeSeconds / 86_400) days")
        var data = Array("Received: by \(configuration.hostname) (Postfix) id \(reportID); \(world.mailDate(offsetMinutes: configuration.zoneOffsetMinutes))\r\n".utf8)
        // Signed like the domain's other mail (From: MAILER-DAEMON@host is under the signing
        // domain), so that a receiver applying DMARC does not refuse the report.
        data += dkimSign(report.render(), id: reportID)
        queue.add(id: reportID, sender: "", recipients: [entry.sender], data: data, now: world.now)
        note("\(reportID): sender \(kind == .failure ? "non-delivery" : "delay") notification: \(entry.id)")
        scheduleRun(at: world.now)
    }

    private func arrivalDate(_ entry: QueueEntry) -> String {
        let seconds = world.epochUnixSeconds + entry.arrival.microseconds / 1_000_000
        return MailDate(secondsSinceEpoch: seconds, zoneOffsetMinutes: configuration.zoneOffsetMinutes).description
    }
}

extension SMTPClient {
    static let sessionHooks = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>.Hooks(
        result: { SMTPAttempt(result: $0, transportError: nil) },
        failed: { engine, failure in
            switch failure {
            case .connect(let error): return SMTPAttempt(result: engine.result, transportError: error.description.capitalizedFirst)
            case .reset(let why): return SMTPAttempt(result: engine.result, transportError: why.description.capitalizedFirst)
            case .tls(let message): return SMTPAttempt(result: engine.result, transportError: "TLS handshake failed: \(message)")
            }
        })
}

extension String {
    /// "connection refused" → "Connection refused", as mail logs write it.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

extension SMTPReply {
    /// `550 5.1.1 <x@y>: Recipient address rejected: …` on one line, as logs and reports write it.
    var oneLine: String {
        var line = String(code)
        if let enhancedCode {
            line += " "
            line += enhancedCode.description
        }
        line += " "
        line += text
        return line
    }
}
