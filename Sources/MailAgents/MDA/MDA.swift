import MailCore
import MailSim

/// The POP3 and IMAP listeners of a mail delivery agent.
public struct MDAConfiguration: Sendable {
    public var hostname: String
    /// Ports: 110 (POP3 + STLS), 995 (POP3S), 143 (IMAP + STARTTLS), 993 (IMAPS). Set a port to
    /// `nil` to close it.
    public var pop3Port: UInt16?
    public var pop3sPort: UInt16?
    public var imapPort: UInt16?
    public var imapsPort: UInt16?
    /// Refuse USER/PASS and LOGIN until TLS is active (Dovecot's `disable_plaintext_auth`).
    public var plaintextLoginRequiresTLS: Bool
    public var pop3Greeting: String
    public var imapGreeting: String

    public init(hostname: String, pop3Port: UInt16? = 110, pop3sPort: UInt16? = 995, imapPort: UInt16? = 143,
                imapsPort: UInt16? = 993, plaintextLoginRequiresTLS: Bool = false,
                pop3Greeting: String = "POP3 server ready", imapGreeting: String = "Dovecot ready.") {
        self.hostname = hostname
        self.pop3Port = pop3Port
        self.pop3sPort = pop3sPort
        self.imapPort = imapPort
        self.imapsPort = imapsPort
        self.plaintextLoginRequiresTLS = plaintextLoginRequiresTLS
        self.pop3Greeting = pop3Greeting
        self.imapGreeting = imapGreeting
    }
}

/// A mail delivery agent on a simulated host: serves a mail store over POP3 and IMAP, like the
/// Dovecot of the course, and pushes changes to IMAP sessions waiting in IDLE.
public final class MDA {
    public let world: World
    public let host: Host
    public let store: MailStore
    public private(set) var configuration: MDAConfiguration

    private typealias IMAPSession = ServerSession<IMAPServer>
    private typealias POP3Session = ServerSession<POP3Server>
    /// Open sessions by a counter, so that notifications go out in a reproducible order.
    private var imapSessions: [UInt64: IMAPSession] = [:]
    private var pop3Sessions: [UInt64: POP3Session] = [:]
    private var observer: UInt64?
    private var notifyScheduled = false
    private var sessionCounter: UInt64 = 0

    public init(world: World, host: Host, store: MailStore, configuration: MDAConfiguration) {
        self.world = world
        self.host = host
        self.store = store
        self.configuration = configuration
    }

    deinit {
        if let observer { store.removeObserver(observer) }
        for session in imapSessions.values { session.detach() }
        for session in pop3Sessions.values { session.detach() }
    }

    /// Opens the listeners, and again each time the host comes back up after a crash.
    public func start() {
        listen()
        host.onBoot { [weak self] in self?.listen() }
        if observer == nil {
            observer = store.addObserver { [weak self] _ in self?.storeChanged() }
        }
    }

    private func listen() {
        let c = configuration
        if let port = c.pop3Port { host.listen(port: port) { [weak self] in self?.acceptPOP3($0, implicitTLS: false) } }
        if let port = c.pop3sPort { host.listen(port: port) { [weak self] in self?.acceptPOP3($0, implicitTLS: true) } }
        if let port = c.imapPort { host.listen(port: port) { [weak self] in self?.acceptIMAP($0, implicitTLS: false) } }
        if let port = c.imapsPort { host.listen(port: port) { [weak self] in self?.acceptIMAP($0, implicitTLS: true) } }
    }

    public func setPlaintextLoginRequiresTLS(_ value: Bool) { configuration.plaintextLoginRequiresTLS = value }

    private var tlsIdentity: () -> TLSServerIdentity? {
        { [weak self] in self.flatMap { try? $0.world.certificateAuthority.serverIdentity(for: $0.configuration.hostname) } }
    }

    // MARK: POP3

    private func acceptPOP3(_ connection: Connection, implicitTLS: Bool) {
        sessionCounter += 1
        let config = POP3ServerConfiguration(
            hostname: configuration.hostname, greeting: configuration.pop3Greeting,
            tls: implicitTLS ? .implicit : .starttls,
            plaintextLoginRequiresTLS: configuration.plaintextLoginRequiresTLS, apop: true)
        let engine = POP3Server(configuration: config, backend: store,
                                sessionID: UInt64(world.unixSeconds) &* 1000 &+ sessionCounter)
        let session = POP3Session(engine: engine, connection: connection, world: world,
                                  tlsIdentity: tlsIdentity)
        let key = sessionCounter
        pop3Sessions[key] = session
        session.onFinish = { [weak self] in self?.pop3Sessions[key] = nil }
        // The POP3 engine itself asks for TLS first on an implicit port (its `start` returns `.startTLS`).
        session.start(implicitTLS: false)
    }

    // MARK: IMAP

    private func acceptIMAP(_ connection: Connection, implicitTLS: Bool) {
        let config = IMAPServerConfiguration(
            greeting: configuration.imapGreeting, tlsAvailable: true, implicitTLS: implicitTLS,
            requireTLSForAuthentication: configuration.plaintextLoginRequiresTLS,
            origin: IMAPDate(secondsSince1970: world.epochUnixSeconds, utcOffsetMinutes: 60))
        let engine = IMAPServer(backend: store, configuration: config)
        let session = IMAPSession(engine: engine, connection: connection, world: world, tlsIdentity: tlsIdentity)
        // The store seeds new UIDVALIDITY values from its clock, which follows the IMAP sessions.
        let (world, store) = (self.world, self.store)
        session.willDrive = { store.now = world.imapDate() }
        sessionCounter += 1
        let key = sessionCounter
        imapSessions[key] = session
        session.onFinish = { [weak self] in self?.imapSessions[key] = nil }
        session.start(implicitTLS: implicitTLS)
    }

    /// A change in the store: sessions in IDLE hear about it at once (RFC 2177); the others at
    /// their next command. Deferred to the scheduler so no engine is re-entered.
    private func storeChanged() {
        guard !notifyScheduled else { return }
        notifyScheduled = true
        world.scheduler.schedule(after: .zero) { [weak self] in
            guard let self else { return }
            self.notifyScheduled = false
            for key in self.imapSessions.keys.sorted() {
                guard let session = self.imapSessions[key], session.engine.isIdling else { continue }
                session.drive { engine, now, out in
                    engine.mailboxChanged(now: now, into: &out)
                }
            }
        }
    }
}
