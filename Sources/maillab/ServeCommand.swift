import ArgumentParser
import Dispatch
import Foundation
import MailAgents
import MailBridge
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

        func run() throws {
            let french = global.language == .fr
            func say(_ fr: String, _ en: String) -> String { french ? fr : en }
            // Ctrl-C (and SIGTERM) stop the bridge cleanly. The handlers are in place before
            // anything is printed, so a signal sent as soon as the table appears is not lost.
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
            let sink = try LogSink(path: log)
            var configuration = BridgeConfiguration()
            configuration.portOffset = portOffset
            configuration.listenAddress = listen
            configuration.expose = expose.isEmpty ? nil : expose
            configuration.french = french
            configuration.wallClockUnixSeconds = Int64(time(nil))
            let world = try Self.world(scenario: scenario, seed: seed, global: global)
            let bridge: LoopbackBridge
            do {
                bridge = try LoopbackBridge(world: world, configuration: configuration, log: { sink.write($0) })
            } catch let error as BridgeError {
                Output.error("maillab serve: " + error.message.text(french: french))
                throw ExitCode(2)
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
            Output.print(Self.banner(bridge: bridge, caPath: caPath, logPath: log, french: french))

            done.wait()
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
            let library = ContentLocator.library(environment: global.environment)
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
        static func banner(bridge: LoopbackBridge, caPath: String, logPath: String?, french: Bool) -> String {
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
            for account in bridge.accounts {
                let who = account.address ?? account.domain
                out += "  \(account.login) / \(account.password)    (\(who))\n"
            }
            out += "\n" + say("Certificat de l'autorité (CA) du monde : ", "The world's CA certificate: ") + caPath + "\n"
            out += say("  les certificats des serveurs portent leur nom (mail.example.com…) : faites pointer ce nom sur \(address)\n",
                       "  server certificates carry the host's name (mail.example.com…): map that name to \(address)\n")
            out += say("  ex. curl --ssl-reqd --cacert \(caPath) --connect-to mail.example.com:PORT:\(bridge.configuration.listenHostForURL):PORT …\n",
                       "  e.g. curl --ssl-reqd --cacert \(caPath) --connect-to mail.example.com:PORT:\(bridge.configuration.listenHostForURL):PORT …\n")
            if !["127.0.0.1", "::1", "localhost"].contains(address) {
                out += say("Attention : \(address) n'est pas l'adresse de bouclage ; d'autres machines peuvent joindre ces serveurs.\n",
                           "Warning: \(address) is not the loopback address; other machines may reach these servers.\n")
            }
            if let logPath { out += say("Journal des sessions : \(logPath)\n", "Session log: \(logPath)\n") }
            out += say("Ctrl-C pour arrêter.\n\n", "Ctrl-C to stop.\n\n")
            return out
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

/// Where the session log goes: standard output or a file (appended), one line at a time.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private let ownsHandle: Bool

    init(path: String?) throws {
        guard let path else {
            handle = .standardOutput
            ownsHandle = false
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot create the log file \(path)")
            }
        }
        guard let opened = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot open the log file \(path)")
        }
        opened.seekToEndOfFile()
        handle = opened
        ownsHandle = true
    }

    func write(_ line: String) {
        lock.withLock { handle.write(Data((line + "\n").utf8)) }
    }

    func close() {
        lock.withLock { if ownsHandle { try? handle.close() } }
    }
}
