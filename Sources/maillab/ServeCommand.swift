import ArgumentParser
import Dispatch
import Foundation
import MailAgents
import MailBridge
import MailSim
import MailLabWorld
import MailTutor

extension MailLabCommand {
    /// `maillab serve`: the world's servers on real loopback ports (DESIGN.md, issue 8).
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Expose the simulated world's servers on 127.0.0.1 to real mail clients.",
            discussion: """
                Server host i (in the world's order) listens on OFFSET + 1000*i + its standard port:
                with the default offset, mail.example.com has SMTP 10025, submission 10587, SMTPS 10465,
                POP3 10110, POP3S 10995, IMAP 10143, IMAPS 10993. Virtual time follows the wall clock.
                TLS runs between the real client and the simulated server: trust the CA file printed at start.
                Ctrl-C stops.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "Scenario whose world to serve (default: the course's world).") var scenario: String?
        @Option(name: .customLong("port-offset"), help: "Base of the first host's block of ports.") var portOffset = 10_000
        @Option(parsing: .upToNextOption, help: "Only these server hosts.") var expose: [String] = []
        @Option(help: "Address to listen on (only loopback unless you ask).") var listen = "127.0.0.1"
        @Option(help: "Write the session log to this file instead of standard output.") var log: String?
        @Option(help: "Seed of the world.") var seed: UInt64 = 1
        @Flag(name: .customLong("allow-plaintext-auth"),
              help: "Accept logins before TLS (AUTH on 587 before STARTTLS, POP3 USER/PASS and IMAP LOGIN in clear), for tools without TLS.")
        var allowPlaintextAuth = false
        @Option(help: "One-way latency between real clients and the servers, e.g. 25us, 2ms, 80ms (default: loopback-like, 25us).")
        var latency: String?
        @Option(name: .customLong("log-max"), help: "Rotate the session log file at this size, e.g. 10MB (default 10MB; 0: never).")
        var logMax = "10MB"
        @Option(name: .customLong("log-keep"), help: "Rotated session log files kept (FILE.1 … FILE.N).")
        var logKeep = 5
        @Option(name: .customLong("class"), help: "Make N student accounts (student01 …) with generated passwords.")
        var classSize: Int?
        @Option(help: "Make one student account per line of this CSV file (name[,login]).")
        var roster: String?
        @Option(name: .customLong("accounts-file"), help: "Where to write the students' table (CSV; default DATA-DIR/students.csv).")
        var accountsFile: String?
        @Option(name: .customLong("autoconfig-port"), help: "Port of the Thunderbird autoconfig HTTP server (default OFFSET+80; 0: none).")
        var autoconfigPort: Int?
        @Option(help: "Serve the live view (a web page showing the sessions as they happen) on this port (0: any free port).")
        var web: Int?
        @Option(name: .customLong("web-listen"), help: "Address of the live view (default: loopback only).")
        var webListen = "127.0.0.1"

        func run() throws {
            let french = global.language == .fr
            func say(_ fr: String, _ en: String) -> String { french ? fr : en }
            // Ctrl-C (and SIGTERM) stop the bridge cleanly. The handlers are in place before
            // anything is printed, so a signal sent as soon as the table appears is not lost.
            // Blocked in this thread before any other thread exists, so that every thread made
            // later (the world's and the sockets' loops) inherits the mask: the signal then stays
            // pending until the signal source reads it, whichever thread the kernel would pick.
            var stopSignals = sigset_t()
            sigemptyset(&stopSignals)
            sigaddset(&stopSignals, SIGINT)
            sigaddset(&stopSignals, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
            let done = DispatchSemaphore(value: 0)
            let queue = DispatchQueue(label: "maillab.serve.signals")
            var sources: [DispatchSourceSignal] = []
            for number in [SIGINT, SIGTERM] {
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { done.signal() }
                source.resume()
                signal(number, SIG_IGN)
                sources.append(source)
            }
            guard let logLimit = Self.parseSize(logMax), logKeep >= 0, logKeep <= 100 else {
                Output.error(say("maillab serve : --log-max attend une taille (10MB, 512KB, 0) et --log-keep un nombre de 0 à 100",
                                 "maillab serve: --log-max takes a size (10MB, 512KB, 0) and --log-keep a number from 0 to 100"))
                throw ExitCode(2)
            }
            var bridgeLatency: VirtualDuration?
            if let latency {
                guard let parsed = Self.parseDuration(latency) else {
                    Output.error(say("maillab serve : --latency attend une durée (25us, 2ms, 0.5ms, 1s), pas « \(latency) »",
                                     "maillab serve: --latency takes a duration (25us, 2ms, 0.5ms, 1s), not \"\(latency)\""))
                    throw ExitCode(2)
                }
                bridgeLatency = parsed
            }
            let loopback = ["127.0.0.1", "::1", "localhost"].contains(listen) || listen.hasPrefix("127.")
            if !loopback && classSize == nil && roster == nil {
                Output.error(say("maillab serve : écouter sur \(listen) ouvre ces serveurs au réseau ; donnez à chacun son compte avec --class N ou --roster FICHIER.csv (pas de mots de passe partagés sur un réseau).",
                                 "maillab serve: listening on \(listen) opens these servers to the network; give everyone an account of their own with --class N or --roster FILE.csv (no shared passwords on a network)."))
                throw ExitCode(2)
            }
            if classSize != nil && roster != nil {
                Output.error(say("maillab serve : --class ou --roster, pas les deux", "maillab serve: --class or --roster, not both"))
                throw ExitCode(2)
            }
            let sink = try LogSink(path: log, maxBytes: logLimit, keep: logKeep)
            var configuration = BridgeConfiguration()
            configuration.portOffset = portOffset
            configuration.listenAddress = listen
            configuration.expose = expose.isEmpty ? nil : expose
            configuration.french = french
            configuration.wallClockUnixSeconds = Int64(time(nil))
            if let bridgeLatency { configuration.bridgeLatency = bridgeLatency }
            let world = try Self.world(scenario: scenario, seed: seed, global: global)
            if allowPlaintextAuth { world.allowPlaintextAuthentication() }
            let bridge: LoopbackBridge
            var students: [StudentAccount] = []
            do {
                bridge = try LoopbackBridge(world: world, configuration: configuration, log: { sink.write($0) },
                                            flush: { sink.flush() }, logBytes: { sink.write(lines: $0) })
                let domains = ClassRoster.domains(of: world).filter { d in bridge.ports.contains { $0.hostName == d.mailboxHost } }
                let taken = Set(bridge.accounts.map(\.login))
                var random = SystemRandomNumberGenerator()
                if let classSize {
                    students = try ClassRoster.numbered(count: classSize, domains: domains, taken: taken, using: &random)
                } else if let roster {
                    guard let data = FileManager.default.contents(atPath: roster), data.count <= ClassRoster.maxRosterBytes else {
                        throw BridgeError(fr: "\(roster) : fichier illisible ou trop long", en: "\(roster): cannot read the file, or it is too long")
                    }
                    students = try ClassRoster.parse(roster: String(decoding: data, as: UTF8.self), file: roster,
                                                     domains: domains, taken: taken, using: &random)
                }
                if !students.isEmpty {
                    try bridge.addAccounts(students.map { ($0.address, $0.login, $0.password) })
                }
            } catch let error as BridgeError {
                Output.error("maillab serve: " + error.message.text(french: french))
                throw ExitCode(2)
            }
            var studentsPath: String?
            if !students.isEmpty {
                let path = accountsFile ?? (global.dataDirectory as NSString).appendingPathComponent("students.csv")
                do {
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                    let table = ClassRoster.csv(students, ports: bridge.ports, host: configuration.listenHostForURL)
                    guard FileManager.default.createFile(atPath: path, contents: Data(table.utf8),
                                                         attributes: [.posixPermissions: 0o600]) else {
                        throw CocoaError(.fileWriteUnknown)
                    }
                    studentsPath = path
                } catch {
                    Output.error(say("maillab serve : impossible d'écrire \(path) : \(error)", "maillab serve: cannot write \(path): \(error)"))
                    throw ExitCode(2)
                }
            }
            let caPath = (global.dataDirectory as NSString).appendingPathComponent("maillab-ca.pem")
            do {
                try FileManager.default.createDirectory(atPath: global.dataDirectory, withIntermediateDirectories: true)
                try bridge.certificateAuthorityPEM.write(toFile: caPath, atomically: true, encoding: .utf8)
            } catch {
                Output.error(say("maillab serve : impossible d'écrire \(caPath) : \(error)",
                                 "maillab serve: cannot write \(caPath): \(error)"))
                throw ExitCode(2)
            }
            do {
                try bridge.start()
            } catch let error as BridgeError {
                Output.error("maillab serve: " + error.message.text(french: french))
                throw ExitCode(2)
            }
            var autoconfig: AutoconfigServer?
            var autoconfigLine = ""
            let httpPort = autoconfigPort ?? (portOffset + 80)
            if httpPort > 0 {
                let entries = AutoconfigServer.entries(domains: ClassRoster.domains(of: world).filter { d in
                    bridge.ports.contains { $0.hostName == d.mailboxHost } }, ports: bridge.ports)
                let server = AutoconfigServer(entries: entries, group: bridge.eventLoop)
                if httpPort > 65_535 || bridge.ports.contains(where: { $0.realPort == httpPort }) {
                    autoconfigLine = say("Autoconfiguration : port \(httpPort) indisponible, pas de serveur HTTP (--autoconfig-port).\n",
                                         "Autoconfig: port \(httpPort) not available, no HTTP server (--autoconfig-port).\n")
                } else {
                    do {
                        try server.start(host: listen, port: httpPort)
                        autoconfig = server
                        let url = "http://\(configuration.listenHostForURL):\(httpPort)/mail/config-v1.1.xml?emailaddress=ADDRESS"
                        autoconfigLine = say("Autoconfiguration (Thunderbird) : \(url)\n", "Autoconfig (Thunderbird): \(url)\n")
                    } catch let error as BridgeError {
                        autoconfigLine = say("Attention : ", "Warning: ") + error.message.text(french: french) + "\n"
                    }
                }
            }
            var live: LiveWebServer?
            if let web = web ?? LiveView.rootWebOption(CommandLine.arguments) {
                do {
                    (live, autoconfigLine) = try LiveView.serve(bridge: bridge, port: web, host: webListen, title: Self.worldTitle(scenario, global),
                                                                language: global.language, lines: autoconfigLine)
                } catch let error as BridgeError {
                    bridge.stop()
                    Output.error("maillab serve: " + error.message.text(french: french))
                    throw ExitCode(2)
                }
            }
            Output.print(Self.banner(bridge: bridge, caPath: caPath, logPath: log, french: french, students: students,
                                     studentsPath: studentsPath, autoconfig: autoconfigLine))

            done.wait()
            live?.stop()
            autoconfig?.stop()
            bridge.stop()
            sink.close()
            Output.print(say("\nmaillab serve arrêté.\n", "\nmaillab serve stopped.\n"))
            _ = sources
        }

        /// The world to serve: the course's own (DESIGN.md, "The default world"), or a
        /// scenario's, built by the tutor's world driver when that driver gives access to its
        /// ``MailWorld`` (``MailWorldProvider``).
        static func world(scenario: String?, seed: UInt64, global: GlobalOptions) throws -> MailWorld {
            guard let scenario else { return try MailWorld.course(seed: seed) }
            let language = global.language
            let library = try ContentLocator.library(global, need: .scenario(scenario))
            guard let found = library.scenario(scenario) else {
                Output.error(language == .fr ? "scénario inconnu : \(scenario)" : "unknown scenario: \(scenario)")
                throw ExitCode(2)
            }
            let made: TutorWorld
            do {
                made = try WorldFactory.driver().makeWorld(scenario: found, seed: seed)
            } catch let error as TutorError {
                Output.error("maillab serve --scenario \(scenario): " + error.message[language])
                throw ExitCode(2)
            }
            guard let provider = made as? MailWorldProvider else {
                Output.error(language == .fr
                    ? "maillab serve --scenario \(scenario) : le pilote du monde de ce maillab ne donne pas accès à son monde simulé."
                    : "maillab serve --scenario \(scenario): this maillab's world driver does not give access to its simulated world.")
                throw ExitCode(2)
            }
            return provider.mailWorld
        }

        /// The start-up text: the port table, the accounts, the CA file.
        static func banner(bridge: LoopbackBridge, caPath: String, logPath: String?, french: Bool,
                           students: [StudentAccount] = [], studentsPath: String? = nil, autoconfig: String = "") -> String {
            func say(_ fr: String, _ en: String) -> String { french ? fr : en }
            let address = bridge.configuration.listenAddress
            var out = say("maillab serve : les serveurs du monde simulé sur \(address) (le temps virtuel suit l'horloge)\n\n",
                          "maillab serve: the simulated world's servers on \(address) (virtual time follows the clock)\n\n")
            let headers = [say("hôte", "host"), "service", say("port simulé", "sim port"),
                           say("port réel", "real port"), say("sécurité", "security")]
            var rows = [headers]
            for port in bridge.ports {
                rows.append([port.hostName, port.service.name, "\(port.virtualPort)", "\(bridge.configuration.listenHostForURL):\(port.realPort)",
                             port.service.security.text(french: french)])
            }
            out += table(rows)
            out += "\n" + say("Comptes (identifiant / mot de passe) :\n", "Accounts (login / password):\n")
            let studentLogins = Set(students.map(\.login))
            for account in bridge.accounts where !studentLogins.contains(account.login) {
                let who = account.address ?? account.domain
                out += "  \(account.login) / \(account.password)    (\(who))\n"
            }
            if !students.isEmpty {
                out += "\n" + say("Comptes des étudiants (\(students.count)) :\n", "Student accounts (\(students.count)):\n")
                for student in students {
                    out += "  \(student.login) / \(student.password)    (\(student.address), \(student.name))\n"
                }
                if let studentsPath {
                    out += say("  tableau pour l'enseignant (CSV) : \(studentsPath)\n", "  the teacher's table (CSV): \(studentsPath)\n")
                }
            }
            out += "\n" + say("Certificat de l'autorité (CA) du monde : ", "The world's CA certificate: ") + caPath + "\n"
            out += say("  les certificats des serveurs portent leur nom (mail.example.com…) : faites pointer ce nom sur \(address)\n",
                       "  server certificates carry the host's name (mail.example.com…): map that name to \(address)\n")
            out += say("  ex. curl --ssl-reqd --cacert \(caPath) --connect-to mail.example.com:PORT:\(bridge.configuration.listenHostForURL):PORT …\n",
                       "  e.g. curl --ssl-reqd --cacert \(caPath) --connect-to mail.example.com:PORT:\(bridge.configuration.listenHostForURL):PORT …\n")
            if !["127.0.0.1", "::1", "localhost"].contains(address) && !address.hasPrefix("127.") {
                out += say("Attention : \(address) n'est pas l'adresse de bouclage ; d'autres machines peuvent joindre ces serveurs.\n",
                           "Warning: \(address) is not the loopback address; other machines may reach these servers.\n")
                let names = Set(bridge.ports.map(\.hostName)).sorted().joined(separator: " ")
                out += say("  sur les postes des étudiants, une ligne de /etc/hosts : \(address) \(names)\n",
                           "  on the students' machines, a line of /etc/hosts: \(address) \(names)\n")
            }
            if let logPath { out += say("Journal des sessions : \(logPath)\n", "Session log: \(logPath)\n") }
            out += autoconfig
            out += say("Ctrl-C pour arrêter.\n\n", "Ctrl-C to stop.\n\n")
            return out
        }

        /// `10MB`, `512KB`, `1GB`, `2048` (bytes), `0` (no limit); nil for anything else.
        static func parseSize(_ text: String) -> Int? {
            let upper = text.uppercased().replacingOccurrences(of: " ", with: "")
            let units: [(String, Int)] = [("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("GB", 1_000_000_000),
                                          ("MB", 1_000_000), ("KB", 1_000), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
            for (suffix, factor) in units where upper.hasSuffix(suffix) {
                guard let value = Double(upper.dropLast(suffix.count)), value >= 0, value * Double(factor) < 1e15 else { return nil }
                return Int(value * Double(factor))
            }
            guard let value = Int(upper), value >= 0 else { return nil }
            return value
        }

        /// `25us`, `2ms`, `0.5ms`, `1s` as a virtual duration (at most one minute).
        static func parseDuration(_ text: String) -> VirtualDuration? {
            let lower = text.lowercased()
            let units: [(String, Double)] = [("us", 1), ("µs", 1), ("ms", 1_000), ("s", 1_000_000)]
            for (suffix, factor) in units where lower.hasSuffix(suffix) {
                guard let value = Double(lower.dropLast(suffix.count)), value >= 0, value * factor <= 60_000_000 else { return nil }
                return .microseconds(Int64(value * factor))
            }
            return nil
        }

        static func table(_ rows: [[String]]) -> String {
            var widths: [Int] = []
            for row in rows {
                for (i, cell) in row.enumerated() {
                    if i >= widths.count { widths.append(0) }
                    widths[i] = max(widths[i], cell.count)
                }
            }
            return rows.map { row in
                row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
                }.joined()
            }.joined(separator: "\n") + "\n"
        }
    }
}

/// A tutor world that can hand its simulated mail world to `serve`.
protocol MailWorldProvider: AnyObject {
    var mailWorld: MailWorld { get }
}

extension SimulatedWorld: MailWorldProvider {
    var mailWorld: MailWorld { mail }
}

/// Where the session log goes: standard output or a file (appended). Lines are buffered and
/// written by ``flush()`` (the bridge calls it after each batch) or when 64 KiB are waiting.
/// A file is rotated when it would pass `maxBytes` (logrotate's way: FILE → FILE.1 → … →
/// FILE.keep, the oldest dropped), so the log on disk stays under (keep + 1) · maxBytes.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: FileHandle
    private let ownsHandle: Bool
    private let path: String?
    private let maxBytes: Int
    private let keep: Int
    private var size = 0
    private var pending: [UInt8] = []
    static let bufferLimit = 64 * 1024

    init(path: String?, maxBytes: Int = 0, keep: Int = 5) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        guard let path else {
            handle = .standardOutput
            ownsHandle = false
            return
        }
        handle = try Self.open(path)
        size = Int(handle.seekToEndOfFile())
        ownsHandle = true
    }

    private static func open(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot create the log file \(path)")
            }
        }
        guard let opened = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot open the log file \(path)")
        }
        return opened
    }

    func write(_ line: String) {
        lock.withLock {
            pending.append(contentsOf: line.utf8)
            pending.append(0x0A)
            if pending.count >= Self.bufferLimit { writePending() }
        }
    }

    /// Lines already ended by line feeds, as bytes (the bridge's sessions, one call per pump).
    func write(lines: [UInt8]) {
        lock.withLock {
            pending.append(contentsOf: lines)
            if pending.count >= Self.bufferLimit { writePending() }
        }
    }

    func flush() {
        lock.withLock { writePending() }
    }

    /// Writes what is buffered. With a size limit, it goes out in runs of whole lines, each into
    /// the file it fits in, rotating between two lines: a file never passes `maxBytes` however
    /// much was batched, but when one line alone is longer (it then gets a fresh file to itself).
    private func writePending() {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: pending.count <= Self.bufferLimit * 2) }
        guard ownsHandle, maxBytes > 0 else {
            handle.write(Data(pending))
            size += pending.count
            return
        }
        var start = 0
        while start < pending.count {
            let room = maxBytes - size
            var end = start
            var scan = start
            while scan < pending.count, let newline = pending[scan...].firstIndex(of: 0x0A), newline + 1 - start <= room {
                end = newline + 1
                scan = end
            }
            if end == start {
                if size > 0 {
                    rotate()
                    continue
                }
                end = (pending[start...].firstIndex(of: 0x0A) ?? pending.count - 1) + 1
            }
            handle.write(Data(pending[start..<end]))
            size += end - start
            start = end
        }
    }

    private func rotate() {
        guard let path else { return }
        try? handle.close()
        let files = FileManager.default
        if keep == 0 {
            try? files.removeItem(atPath: path)
        } else {
            try? files.removeItem(atPath: "\(path).\(keep)")
            if keep > 1 {
                for index in stride(from: keep - 1, through: 1, by: -1) {
                    try? files.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
                }
            }
            try? files.moveItem(atPath: path, toPath: "\(path).1")
        }
        if let reopened = try? Self.open(path) {
            handle = reopened
            handle.truncateFile(atOffset: 0)
        }
        size = 0
    }

    func close() {
        lock.withLock {
            writePending()
            if ownsHandle { try? handle.close() }
        }
    }
}
