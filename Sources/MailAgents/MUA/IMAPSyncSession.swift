import MailCore
import MailSim

/// An IMAP connection of a mail client: it connects, secures the connection as the account says
/// (STARTTLS on 143, TLS on 993), logs in, then either keeps the device's view of a folder in step
/// with the server — waiting with IDLE when offered, else polling — or runs a list of commands
/// and logs out.
public final class IMAPSyncSession {
    public enum Status: Equatable, Sendable {
        case connecting
        /// Logged in; `idle` tells whether the session waits in IDLE or polls.
        case running(idle: Bool)
        case finished
        case failed(String)
    }

    enum Mode {
        case sync(pollInterval: VirtualDuration)
        case commands([IMAPCommand], completion: ([IMAPResponse]) -> Void)
    }

    public private(set) var status: Status = .connecting
    /// The device's view of the watched folder and the folder list.
    public private(set) var sync: IMAPSyncState
    /// Virtual time of the last change seen from the server.
    public private(set) var lastUpdate: VirtualTime
    /// Every response received, for the tutor and tests.
    public private(set) var responses: [IMAPResponse] = []
    /// How many NOOP polls were sent (zero while IDLE carries the news).
    public private(set) var polls = 0

    private let world: World
    private let account: MailAccountSettings
    private var mode: Mode
    private var client = IMAPClient()
    private var connection: Connection?
    private var phaseTag: String?
    private var commandQueue: [IMAPCommand] = []
    private var commandResponses: [IMAPResponse] = []
    private var pollTimer: ScheduledEvent?
    /// False: poll even when the server offers IDLE (a client setting).
    var usesIDLE = true

    init(world: World, account: MailAccountSettings, watching folder: String, mode: Mode) {
        self.world = world
        self.account = account
        self.mode = mode
        self.sync = IMAPSyncState(watching: folder)
        self.lastUpdate = world.now
    }

    func connect(from host: Host) {
        let implicit = account.incomingSecurity == .tls
        connection = world.connect(from: host, to: account.incomingHost, port: account.incomingPort) { [self] event in
            self.handle(event, implicit: implicit)
        }
    }

    /// Logs out and closes.
    public func stop() {
        guard case .running = status else { return }
        pollTimer?.cancel()
        if client.isIdling { perform(client.done()) }
        send(.logout)
    }

    public var view: IMAPSyncState.FolderView { sync.view }

    // MARK: events

    private func handle(_ event: ConnectionEvent, implicit: Bool) {
        switch event {
        case .connected:
            if implicit { connection?.startTLS(asClient: account.incomingHost) }
        case .connectFailed(let error):
            fail(error.description.capitalizedFirst)
        case .tlsEstablished:
            perform(client.tlsEstablished())
            // After STARTTLS, log in now; with implicit TLS the greeting comes first.
            if !implicit { login() }
        case .data(let bytes):
            perform(client.receive(bytes))
        case .endOfStream, .closed:
            finish()
        case .reset(let reason):
            if case .running = status { fail(reason.description.capitalizedFirst) } else if status == .connecting {
                fail(reason.description.capitalizedFirst)
            }
        }
    }

    private func perform(_ outputs: [IMAPClient.Output]) {
        if let connection {
            let facts = client.takeFacts()
            if !facts.isEmpty {
                let context = world.factContext(for: connection, role: .client)
                for fact in facts { world.record(fact, context: context) }
            }
        }
        for output in outputs {
            switch output {
            case .send(let bytes): connection?.write(bytes)
            case .startTLS: connection?.startTLS(asClient: account.incomingHost)
            case .close: connection?.close(); finish()
            case .event(let response): received(response)
            }
        }
    }

    private func received(_ response: IMAPResponse) {
        responses.append(response)
        switch status {
        case .connecting:
            connectingResponse(response)
        case .running:
            switch mode {
            case .sync(let interval):
                let before = sync.view
                let step = sync.apply(response)
                if sync.view != before { lastUpdate = world.now }
                handle(step, pollInterval: interval)
            case .commands(_, let completion):
                commandResponses.append(response)
                if case .tagged(let tag, _, _, _) = response, tag == phaseTag {
                    if commandQueue.isEmpty {
                        phaseTag = nil
                        completion(commandResponses)
                        send(.logout)
                    } else {
                        phaseTag = send(commandQueue.removeFirst())
                    }
                }
            }
        case .finished, .failed:
            break
        }
    }

    private func connectingResponse(_ response: IMAPResponse) {
        switch response {
        case .untaggedStatus(let s, _, let text) where phaseTag == nil:
            guard s == .ok else { fail("server refused: \(text)"); return }
            if account.incomingSecurity == .startTLS {
                phaseTag = send(.startTLS)
            } else {
                login()
            }
        case .tagged(let tag, let s, _, let text) where tag == phaseTag:
            phaseTag = nil
            if s != .ok { fail("\(s.rawValue) \(text)"); return }
            if client.state == .authenticated { loggedIn() }
            // A STARTTLS OK: the handshake follows, then login() from tlsEstablished.
        default:
            break
        }
    }

    private var loginSent = false

    private func login() {
        guard !loginSent else { return }
        loginSent = true
        phaseTag = send(.login(user: account.login, password: account.password))
    }

    private func loggedIn() {
        status = .running(idle: false)
        switch mode {
        case .sync(let interval):
            let offered = usesIDLE ? client.capabilities : client.capabilities.subtracting(["IDLE"])
            let step = sync.start(capabilities: offered)
            status = .running(idle: offered.contains("IDLE"))
            handle(step, pollInterval: interval)
        case .commands(let commands, let completion):
            commandQueue = commands
            if commandQueue.isEmpty {
                completion([])
                send(.logout)
            } else {
                phaseTag = send(commandQueue.removeFirst())
            }
        }
    }

    private func handle(_ step: IMAPSyncState.Step, pollInterval: VirtualDuration) {
        switch step {
        case .send(let command):
            send(command)
        case .endIdle:
            perform(client.done())
        case .wait:
            break
        case .pollLater:
            pollTimer?.cancel()
            pollTimer = world.scheduler.schedule(after: pollInterval) { [weak self] in
                guard let self, case .running = self.status else { return }
                self.polls += 1
                self.handle(self.sync.poll(), pollInterval: pollInterval)
            }
        }
    }

    @discardableResult
    private func send(_ command: IMAPCommand) -> String {
        let (tag, outputs) = client.send(command)
        perform(outputs)
        return tag
    }

    private func fail(_ reason: String) {
        pollTimer?.cancel()
        if status == .connecting, case .commands(_, let completion) = mode { completion([]) }
        status = .failed(reason)
        connection?.close()
    }

    private func finish() {
        pollTimer?.cancel()
        if case .failed = status { return }
        status = .finished
    }
}

extension MUA {
    /// Starts (or restarts) the device's IMAP synchronisation of `folder`: the view follows the
    /// server, through IDLE when the server offers it, else by polling every `pollInterval`.
    @discardableResult
    public func startIMAPSync(folder: String = "INBOX", pollInterval: VirtualDuration = .minutes(5)) -> IMAPSyncSession {
        imapSync?.stop()
        let session = IMAPSyncSession(world: world, account: account, watching: folder,
                                      mode: .sync(pollInterval: pollInterval))
        session.usesIDLE = usesIDLE
        imapSync = session
        session.connect(from: host)
        return session
    }

    /// Runs IMAP commands in a short session of its own (as clients open a second connection for
    /// user actions) and hands the responses to `completion`.
    public func runIMAP(_ commands: [IMAPCommand], completion: (([IMAPResponse]) -> Void)? = nil) {
        let session = IMAPSyncSession(world: world, account: account, watching: "INBOX",
                                      mode: .commands(commands, completion: { completion?($0) }))
        session.connect(from: host)
    }
}
