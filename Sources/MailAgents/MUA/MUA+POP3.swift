import MailCore
import MailSim

/// A message kept on a device after a POP3 download.
public struct DownloadedMessage: Sendable {
    public var uniqueID: String?
    public var bytes: [UInt8]
    public var downloadedAt: VirtualTime
}

/// The outcome of one POP3 check, as the client shows it.
public struct FetchResult: Sendable {
    public var result: POP3ClientResult
    /// Connection refused, timed out, TLS failure…
    public var transportError: String?
    /// Messages new on this device.
    public var newMessages: Int

    public var succeeded: Bool { transportError == nil && result.completed && result.errors.isEmpty }

    public var summary: String {
        if let transportError { return transportError }
        if let error = result.errors.first {
            return [error.command, error.reply?.line].compactMap { $0 }.joined(separator: " → ")
        }
        return "\(newMessages) new, \(result.deletedCount) deleted on the server"
    }
}

extension MUA {
    /// Checks the account's POP3 maildrop following the device's retention mode: downloads what
    /// this device has not seen, deletes what the mode says, and remembers UIDLs between runs.
    public func fetchPOP3(completion: ((FetchResult) -> Void)? = nil) {
        let tls: POP3ClientJob.TLSMode
        switch account.incomingSecurity {
        case .none: tls = .none
        case .startTLS: tls = .starttls(required: true)
        case .tls: tls = .implicit
        }
        let now = world.now.engineTime
        let job = pop3State.job(POP3ClientJob(user: account.login, password: account.password, tls: tls),
                                mode: pop3Mode, now: now)
        let session = ClientSession<POP3Client, POP3ClientResult, FetchResult>(
            engine: POP3Client(job: job), world: world, serverName: account.incomingHost,
            hooks: POP3Client.sessionHooks) { [weak self] outcome in
            guard let self else { return }
            var outcome = outcome
            self.pop3State.record(outcome.result, now: self.world.now.engineTime)
            for message in outcome.result.downloaded {
                if let id = message.uniqueID, self.downloaded.contains(where: { $0.uniqueID == id }) { continue }
                self.downloaded.append(DownloadedMessage(uniqueID: message.uniqueID, bytes: message.content,
                                                         downloadedAt: self.world.now))
                outcome.newMessages += 1
            }
            self.fetches.append(outcome)
            completion?(outcome)
        }
        // On port 995 the POP3 engine itself asks for the handshake before the greeting.
        session.connect(from: host, to: account.incomingHost, port: account.incomingPort, implicitTLS: false)
    }
}

extension POP3Client {
    static let sessionHooks = ClientSession<POP3Client, POP3ClientResult, FetchResult>.Hooks(
        result: { FetchResult(result: $0, transportError: nil, newMessages: 0) },
        failed: { engine, failure in
            let text: String
            switch failure {
            case .connect(let error): text = error.description.capitalizedFirst
            case .reset(let why): text = why.description.capitalizedFirst
            case .tls(let message): text = "TLS handshake failed: \(message)"
            }
            return FetchResult(result: engine.result, transportError: text, newMessages: 0)
        })
}
