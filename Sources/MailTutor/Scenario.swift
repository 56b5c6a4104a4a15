import Foundation

/// Where a definition sits in its file, for cross-reference errors.
public struct SourceLocation: Equatable, Sendable {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// A scenario file: a world and the steps played in it.
public struct Scenario: Equatable, Sendable {
    public var id: String
    public var title: LocalizedText
    public var summary: LocalizedText?
    /// Root seed of the simulation; the same seed gives the same transcript.
    public var seed: UInt64
    /// Syllabus ids this scenario's steps let the learner watch or practise.
    public var covers: [String]
    public var world: WorldSpec
    public var steps: [Step]
    public var location: SourceLocation

    /// The learner tasks among the steps, in order.
    public var tasks: [LearnerTask] {
        steps.compactMap { if case let .task(task) = $0.action { return task } else { return nil } }
    }
}

/// The world a scenario sets up before its first step.
public struct WorldSpec: Equatable, Sendable {
    public var hosts: [HostSpec] = []
    public var dns: [DNSRecordSpec] = []
    public var users: [UserSpec] = []
    public var devices: [DeviceSpec] = []
    /// What the learner administers in this world (`admin:`): the DNS zones `dns add/del` may
    /// change and the hosts whose MTA `mta HOST KEY VALUE` may configure. Empty: nothing.
    public var admin = Administration()
    public init() {}

    public func host(named name: String) -> HostSpec? { hosts.first { $0.name == name } }
    public func user(_ name: String) -> UserSpec? { users.first { $0.address == name || $0.login == name } }
    public func device(named name: String) -> DeviceSpec? { devices.first { $0.name == name } }
}

/// The zones and hosts a learner may change from the REPL.
public struct Administration: Equatable, Sendable {
    /// DNS zones (lower case): a name is in a zone when it is the zone or ends with `.zone`.
    public var zones: [String] = []
    /// Host names (lower case) whose MTA settings the learner may change.
    public var hosts: [String] = []
    public init(zones: [String] = [], hosts: [String] = []) {
        self.zones = zones
        self.hosts = hosts
    }

    /// The zone `name` belongs to among the administered ones, if any (the longest match).
    public func zone(of name: String) -> String? {
        var owner = name.lowercased()
        if owner.hasSuffix(".") { owner.removeLast() }
        return zones.filter { owner == $0 || owner.hasSuffix("." + $0) }.max { $0.count < $1.count }
    }
}

/// How a service protects its connection.
public enum TLSMode: String, CaseIterable, Sendable {
    case none
    case starttls
    case implicit
}

/// The mail protocols a learner can speak at the REPL.
public enum MailProtocol: String, CaseIterable, Sendable {
    case smtp
    case pop3
    case imap
    case dns
}

/// A named service and its standard port.
public enum ServiceKind: String, CaseIterable, Sendable {
    case smtp, submission, smtps, pop3, pop3s, imap, imaps, dns

    public var standardPort: Int {
        switch self {
        case .smtp: return 25
        case .submission: return 587
        case .smtps: return 465
        case .pop3: return 110
        case .pop3s: return 995
        case .imap: return 143
        case .imaps: return 993
        case .dns: return 53
        }
    }

    public var mailProtocol: MailProtocol {
        switch self {
        case .smtp, .submission, .smtps: return .smtp
        case .pop3, .pop3s: return .pop3
        case .imap, .imaps: return .imap
        case .dns: return .dns
        }
    }

    /// Implicit TLS for the `s` services, STARTTLS offered on the others.
    public var defaultTLS: TLSMode {
        switch self {
        case .smtps, .pop3s, .imaps: return .implicit
        case .dns: return .none
        case .smtp, .submission, .pop3, .imap: return .starttls
        }
    }

    /// The protocol usually spoken on a port (25, 587, 465 → SMTP; 110, 995 → POP3; 143, 993 → IMAP).
    public static func protocolForPort(_ port: Int) -> MailProtocol? {
        allCases.first { $0.standardPort == port }?.mailProtocol
    }
}

public struct ServiceSpec: Equatable, Sendable {
    public var kind: ServiceKind
    public var port: Int
    public var tls: TLSMode

    public init(kind: ServiceKind, port: Int, tls: TLSMode) {
        self.kind = kind
        self.port = port
        self.tls = tls
    }
}

public enum RelayPolicy: String, CaseIterable, Sendable {
    case open
    case authenticated
    case mynetworks
}

/// A SASL mechanism an MTA offers on its submission ports (`auth-mechanisms:`).
public enum AuthMechanism: String, CaseIterable, Sendable {
    case plain = "PLAIN"
    case login = "LOGIN"
    /// RFC 2195 challenge-response: the server keeps the user's password in clear to check it.
    case cramMD5 = "CRAM-MD5"
}

/// Settings of a transfer agent (MTA) on a host.
public struct MTASpec: Equatable, Sendable {
    public var relay: RelayPolicy = .authenticated
    public var mynetworks: [String] = []
    /// Domains delivered locally (handed to the host's MDA) or accepted as backup MX.
    public var domains: [String] = []
    /// Refuse AUTH before STARTTLS (`530 5.7.0`).
    public var requireTLSForAuth = true
    /// Delays between delivery attempts, in seconds (`[5m, 30m, 1h]`).
    public var retry: [Int] = []
    public var warnAfter: Int?
    public var bounceAfter: Int?
    public var backupFor: [String] = []
    /// DNS blocklist zones consulted at RCPT for port-25 clients (Postfix `reject_rbl_client`).
    public var blocklists: [String] = []
    /// Sessions open at once to one MX before further messages wait for one of them
    /// (`destination-concurrency`, default 20, as Postfix).
    public var destinationConcurrency: Int?
    /// Postfix's on-demand connection cache (`connection-cache`, default true): at the
    /// concurrency limit, messages join open sessions. False: a session per message, no limit.
    public var connectionCache: Bool?
    /// The SASL mechanisms of AUTH, in the order EHLO lists them (`auth-mechanisms`, default
    /// PLAIN and LOGIN).
    public var authMechanisms: [AuthMechanism]?

    public init() {}
}

/// Settings of a delivery agent (MDA) on a host.
public struct MDASpec: Equatable, Sendable {
    public var domains: [String] = []
    public var quotaMessages: Int?
    /// Refuse plaintext POP3/IMAP logins before STLS/STARTTLS (Dovecot `disable_plaintext_auth`);
    /// nil follows the host's `mta: {require-tls-auth}`, and true when neither says.
    public var requireTLSForAuth: Bool?

    public init(domains: [String], quotaMessages: Int?, requireTLSForAuth: Bool?) {
        self.domains = domains
        self.quotaMessages = quotaMessages
        self.requireTLSForAuth = requireTLSForAuth
    }
}

public struct HostSpec: Equatable, Sendable {
    public var name: String
    public var address: String
    public var services: [ServiceSpec]
    public var mta: MTASpec?
    public var mda: MDASpec?
    public var up: Bool
    public var line: Int

    public func service(port: Int) -> ServiceSpec? { services.first { $0.port == port } }

    public init(name: String, address: String, services: [ServiceSpec], mta: MTASpec?, mda: MDASpec?, up: Bool, line: Int) {
        self.name = name
        self.address = address
        self.services = services
        self.mta = mta
        self.mda = mda
        self.up = up
        self.line = line
    }
}

public enum DNSType: String, CaseIterable, Sendable {
    case A, MX, TXT
}

public struct DNSRecordSpec: Equatable, Sendable {
    public var name: String
    public var type: DNSType
    public var value: String
    public var preference: Int?
    public var line: Int

    public init(name: String, type: DNSType, value: String, preference: Int?, line: Int) {
        self.name = name
        self.type = type
        self.value = value
        self.preference = preference
        self.line = line
    }
}

/// A message already in a mailbox when the world starts.
public struct SeedMessage: Equatable, Sendable {
    public var from: String
    public var subject: String
    public var body: String
    public var folder: String
    public var flags: [String]
}

public struct UserSpec: Equatable, Sendable {
    public var address: String
    public var login: String
    public var password: String
    /// The host whose MDA keeps this user's mailbox.
    public var host: String
    public var folders: [String]
    public var messages: [SeedMessage]
    public var line: Int

    public init(address: String, login: String, password: String, host: String, folders: [String],
                messages: [SeedMessage], line: Int) {
        self.address = address
        self.login = login
        self.password = password
        self.host = host
        self.folders = folders
        self.messages = messages
        self.line = line
    }
}

/// What a POP3 client does with downloaded messages.
public enum POP3Mode: String, CaseIterable, Sendable {
    case delete
    case keep
    case keepDays = "keep-days"
}

public struct IncomingSpec: Equatable, Sendable {
    public var protocolKind: MailProtocol
    public var host: String
    public var port: Int
    public var tls: TLSMode
    public var mode: POP3Mode?
    public var days: Int?
    public var idle: Bool
}

public struct OutgoingSpec: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var tls: TLSMode
    public var auth: Bool
}

/// A learner's device with its mail client (MUA) settings.
public struct DeviceSpec: Equatable, Sendable {
    public var name: String
    public var user: String
    public var incoming: IncomingSpec?
    public var outgoing: OutgoingSpec?
    public var line: Int
}

/// One step of a scenario.
public struct Step: Equatable, Sendable {
    public var line: Int
    public var action: StepAction
}

public enum StepAction: Equatable, Sendable {
    /// Text shown to the learner.
    case narrate(LocalizedText)
    /// Something done to the world, delegated to `TutorWorld.perform`.
    case world(WorldAction)
    /// Checks of the world's state; a failure fails `--auto` runs.
    case expect([Goal])
    /// A task the learner does at the REPL.
    case task(LearnerTask)
}

/// An action on the simulated world, carried out by the world protocol.
public enum WorldAction: Equatable, Sendable {
    /// A device's MUA (or a bare address) submits a message.
    case send(SendAction)
    /// A device fetches its mail (POP3 per its mode, or IMAP).
    case fetch(device: String)
    /// A device synchronises its IMAP folders and flags.
    case sync(device: String)
    /// Changes settings of a host's MTA or of a device's MUA.
    case configure(ConfigureAction)
    case fault(Fault)
    /// Moves virtual time forward by so many seconds (queues retry, timers fire).
    case advance(seconds: Int)
}

public struct SendAction: Equatable, Sendable {
    public var device: String?
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    /// The scenario expects the server to refuse this message (a lesson about a refusal): the
    /// refusal is shown as a note, and an acceptance makes the step fail.
    public var expectRefusal: Bool
    public init(device: String?, from: String, to: [String], subject: String, body: String, expectRefusal: Bool = false) {
        self.device = device
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.expectRefusal = expectRefusal
    }
}

public struct ConfigureAction: Equatable, Sendable {
    public enum Target: Equatable, Sendable {
        case host(String)
        case device(String)
    }
    public var target: Target
    /// Settings in file order, keys checked against `ConfigureAction.hostKeys` or `deviceKeys`.
    public var settings: [Setting]
    public struct Setting: Equatable, Sendable {
        public var key: String
        public var value: String
    }
    public static let hostKeys = ["relay", "mynetworks", "require-tls-auth", "dkim", "retry", "warn-after", "bounce-after",
                                  "destination-concurrency", "connection-cache", "blocklists"]
    public static let deviceKeys = ["mode", "days", "idle", "protocol", "port", "tls", "auth"]
}

public enum Fault: Equatable, Sendable {
    case down(String)
    case up(String)
    /// The host stops at once, losing what was not written to its queue or store.
    case crash(String)
    case partition(String, String)
    case heal(String, String)
}

/// A task the learner carries out at the REPL; it passes when every goal is met.
public struct LearnerTask: Equatable, Sendable {
    public var id: String
    public var instructions: LocalizedText
    /// A session opened for the learner when the task starts (else the sandbox prompt).
    public var session: SessionTarget?
    /// Goals to reach, then the invariants of `keep:` (`Goal.isInvariant`).
    public var goals: [Goal]
    /// Facts that end the attempt (`forbidden:`).
    public var forbidden: [ForbiddenFact] = []
    /// Progressive hints, weakest first.
    public var hints: [LocalizedText]
    /// The lines a learner would type (shown after the last hint; `maillab check` replays them).
    public var solution: [String]?
    /// Other valid ways a competent learner would type (`also-solutions:`): lowercase, another
    /// mechanism or port the task allows, UID forms, PEEK… `maillab check` replays each one and
    /// requires it to complete the task, as the solution does.
    public var alternatives: [AlternativeSolution] = []
    /// Wrong ways that must not complete the task (`maillab check` proves they fail).
    public var counterExamples: [CounterExample] = []
    /// Advice shown when a reply with this code (or code prefix) arrives during the task.
    public var advice: [ReplyAdvice]
    public var covers: [String]
    public var line: Int
}

/// Another valid solution: the lines, and (optionally) what makes it another way.
public struct AlternativeSolution: Equatable, Sendable {
    public var why: LocalizedText?
    public var lines: [String]
    public var line: Int
    public init(why: LocalizedText?, lines: [String], line: Int) {
        self.why = why
        self.lines = lines
        self.line = line
    }
}

/// A wrong solution: the lines, and why it misses the point of the task.
public struct CounterExample: Equatable, Sendable {
    public var why: LocalizedText
    public var lines: [String]
    public var line: Int
}

public struct SessionTarget: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var tls: Bool
    public init(host: String, port: Int, tls: Bool) {
        self.host = host
        self.port = port
        self.tls = tls
    }
}

public struct ReplyAdvice: Equatable, Sendable {
    /// A reply code or its start: `530`, `5.7`, `-ERR`, `NO`.
    public var code: String
    public var text: LocalizedText
}

