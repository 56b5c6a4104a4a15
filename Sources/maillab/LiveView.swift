import ArgumentParser
import Foundation
import MailAgents
import MailBridge
import MailSim
import MailLabWorld
import MailTutor

/// The live view (`maillab serve --web PORT`, `maillab --web PORT`): a web page on loopback fed
/// by server-sent events as the world's sessions happen (``ReplayLiveFeed`` reads the tap and the
/// fact journal, ``LiveWebServer`` serves the page and the stream).
enum LiveView {
    /// Starts the HTTP server of `feed` on `host:port` (0: a free port); returns it and its URL.
    static func start(feed: ReplayLiveFeed, title: LocalizedText, language: Language, host: String, port: Int) throws -> (LiveWebServer, String) {
        let page = ReplayHTML.livePage(title: title, language: language)
        let server = LiveWebServer(page: page) { feed.snapshot().map { ServerSentEvent(name: $0.name, data: $0.data) } }
        let bound = try server.start(host: host, port: port)
        let hostForURL = host.contains(":") ? "[\(host)]" : host
        return (server, "http://\(hostForURL):\(bound)/")
    }

    static func publish(_ events: [ReplayLiveFeed.Event], to server: LiveWebServer) {
        server.publish(events.map { ServerSentEvent(name: $0.name, data: $0.data) })
    }

    static func validPort(_ port: Int) -> Bool { (0...65_535).contains(port) }
}

extension REPLSession {
    /// `maillab --web PORT`: the sandbox's world (and each exercise's) on a live page; the page
    /// is brought up to date after every line the learner types.
    func startLiveView(port: Int) throws {
        let french = global.language == .fr
        guard LiveView.validPort(port) else {
            Output.error(french ? "maillab : --web attend un port de 0 à 65535" : "maillab: --web takes a port from 0 to 65535")
            throw ExitCode(2)
        }
        let feed = ReplayLiveFeed(title: LocalizedText(fr: "le monde de l'apprenant", en: "the learner's world"))
        let server: LiveWebServer, url: String
        do {
            (server, url) = try LiveView.start(feed: feed, title: LocalizedText(fr: "le monde de l'apprenant", en: "the learner's world"),
                                               language: global.language, host: "127.0.0.1", port: port)
        } catch let error as BridgeError {
            Output.error("maillab: " + error.message.text(french: french))
            throw ExitCode(2)
        }
        Output.error(french ? "Vue en direct : \(url)" : "Live view: \(url)")
        afterLine = { [core] in
            guard let world = (core.liveWorld as? SimulatedWorld)?.world else { return }
            LiveView.publish(feed.poll(world), to: server)
        }
        afterLine?()
    }
}

extension LiveView {
    /// `serve --web PORT`: the bridged world's sessions on a live page; what real clients type
    /// is shown with their credentials masked. Returns the server and `lines` with its URL.
    static func serve(bridge: LoopbackBridge, port: Int, host: String, title: LocalizedText, language: Language,
                      lines: String) throws -> (LiveWebServer, String) {
        let french = language == .fr
        guard validPort(port) else {
            throw BridgeError(fr: "--web attend un port de 0 à 65535", en: "--web takes a port from 0 to 65535")
        }
        let feed = ReplayLiveFeed(title: title,
                                  notes: [bridge.configuration.bridgeHostName: LocalizedText(fr: "clients réels (la salle)", en: "real clients (the room)")],
                                  redaction: { _, port in CredentialRedactor.byteRedaction(port: port) })
        let (server, url) = try start(feed: feed, title: title, language: language, host: host, port: port)
        bridge.observe { world in publish(feed.poll(world.world), to: server) }
        var out = lines + (french ? "Vue en direct (pour le projecteur) : \(url)\n" : "Live view (for the projector): \(url)\n")
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback {
            out += french ? "Attention : la vue en direct écoute sur \(host) ; d'autres machines peuvent la voir.\n"
                          : "Warning: the live view listens on \(host); other machines may see it.\n"
        }
        return (server, out)
    }
}

extension MailLabCommand.Serve {
    /// The page's heading: the scenario's title, else the course's world.
    static func worldTitle(_ scenario: String?, _ global: GlobalOptions) -> LocalizedText {
        if let scenario, let library = try? ContentLocator.library(global, need: .scenario(scenario)), let found = library.scenario(scenario) {
            return found.title
        }
        return LocalizedText(fr: "le monde du cours", en: "the course's world")
    }
}

extension LiveView {
    /// `--web N` after `serve`: ArgumentParser gives it to the root command (`maillab --web`, the
    /// REPL's live view), whose options are accepted after a subcommand's name too; `serve` reads
    /// it back from the arguments.
    static func rootWebOption(_ arguments: [String]) -> Int? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--web", index + 1 < arguments.count { return Int(arguments[index + 1]) }
            if argument.hasPrefix("--web=") { return Int(argument.dropFirst("--web=".count)) }
        }
        return nil
    }
}
