import MailTutor
import Foundation
import MailCore
import MailSim

/// The live view's data (`maillab serve --web`, `maillab --web`): reads a running world's tap
/// and fact journal and turns what is new into events for the page — one event per exchange
/// (an arrow of a session's sequence diagram) and per fact an engine reported.
///
/// Events (each a JSON object):
/// - `hello`: the world's hosts (name, address, role, up); a new `hello` starts the page afresh;
/// - `hosts`: the same list when a host went down or up;
/// - `session`: a connection, its bytes per direction (plaintext and wire), its TLS records,
///   whether it ended;
/// - `arrow`: `{session, index, arrow}`, arrow `index` of that session, new or grown (a
///   write's later segments, the rest of a multi-line reply);
/// - `fact`: one record of the journal (`session` 0 for a transfer agent's fact);
/// - `drop`: a session left the window; `summary`: the counts of the sessions gone.
///
/// Bounded: the last ``maximumSessions`` connections, ``maximumArrowsPerSession`` arrows and
/// ``maximumFactsPerSession`` facts each, ``shownBytes`` bytes of plaintext and of hex per arrow,
/// the last ``maximumAgentFacts`` agent facts; older sessions are summarised as counts.
///
/// Threading: ``poll(_:)`` runs where the world runs (the bridge's loop, the REPL's thread);
/// ``snapshot()`` may be called from any thread.
public final class ReplayLiveFeed: @unchecked Sendable {
    public struct Event: Sendable, Equatable {
        public var name: String
        public var data: String
    }

    public static let maximumSessions = 50
    public static let maximumArrowsPerSession = 150
    public static let maximumFactsPerSession = 100
    public static let maximumAgentFacts = 100
    public static let shownBytes = 1_024

    /// Makes a client's bytes safe to show on a projector (serve: real clients' passwords), per
    /// connection (id, server port); nil shows everything (the REPL's own simulated sessions).
    /// Masks what a client wrote; for a server write it gets the replies the write completes
    /// (the server's engine reports, so a redactor knows what the server awaits next).
    public typealias ByteRedaction = (_ fromClient: Bool, _ bytes: [UInt8], _ replies: [ServerReply]) -> [UInt8]
    public typealias Redaction = (_ connection: Int, _ port: Int) -> ByteRedaction

    private let lock = NSLock()
    private let redaction: Redaction?
    private let title: ReplayHTML.Text
    private let notes: [String: ReplayHTML.Text]
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    // Under `lock`.
    private var worldID: ObjectIdentifier?
    private var helloJSON = "{}"
    private var hostsJSON = ""
    private var journalCursor = 0
    /// Where the reply journal was read up to (each session's replies go to its arrow builder).
    private var replyCursor = 0
    private var highestConnection = 0
    private var sessions: [Int: LiveSession] = [:]
    /// Session ids in the window, oldest first.
    private var order: [Int] = []
    private var agentFacts: [String] = []
    private var summary = Summary()
    private var summaryJSON = "{}"

    struct Summary: Codable, Equatable {
        /// Sessions that left the window, and what they carried.
        var olderSessions = 0
        var olderBytes = 0
        var olderFacts = 0
        /// Fact kinds of the sessions gone (`accepted`, `auth`, `refused`…), counted.
        var olderKinds: [String: Int] = [:]
        /// Facts never shown: their session left (or was never in) the window, or the journal
        /// dropped them before they were read.
        var missedFacts = 0
        var totalSessions = 0
        var totalFacts = 0
        var limits: [String: Int] = [
            "sessions": ReplayLiveFeed.maximumSessions, "arrows": ReplayLiveFeed.maximumArrowsPerSession,
            "facts": ReplayLiveFeed.maximumFactsPerSession,
        ]
    }

    final class LiveSession {
        let tap: TapConnection
        var builder: ReplayHTML.ArrowBuilder
        var consumed = 0
        var refused = false
        var finished = false
        var arrowJSON: [String] = []
        var factJSON: [String] = []
        var factKinds: [String: Int] = [:]
        var omittedFacts = 0
        var sessionJSON = ""
        init(tap: TapConnection, builder: ReplayHTML.ArrowBuilder) {
            self.tap = tap
            self.builder = builder
        }
    }

    struct SessionData: Codable {
        var summary: ReplayHTML.ConnectionSummary
        var arrows: Int
        var omittedArrows: Int
        var omittedFacts: Int
    }

    struct ArrowData: Codable {
        var session: Int
        var index: Int
        var arrow: ReplayHTML.Arrow
    }

    struct HostData: Codable, Equatable {
        var name: String
        var address: String
        var role: ReplayHTML.Text
        var server: Bool
        var up: Bool
    }

    struct Hello: Codable {
        var title: ReplayHTML.Text
        var hosts: [HostData]
    }

    /// `title`: the page's heading (the world's name); `notes`: roles shown for some hosts
    /// (the bridge host of `serve`: "real clients").
    public init(title: LocalizedText, notes: [String: LocalizedText] = [:], redaction: Redaction? = nil) {
        self.title = ReplayHTML.Text(title)
        self.notes = notes.mapValues(ReplayHTML.Text.init)
        self.redaction = redaction
    }

    private func json<T: Encodable>(_ value: T) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// What happened in `world` since the last call, as events. Call it on the world's thread.
    public func poll(_ world: World) -> [Event] {
        lock.withLock { pollLocked(world) }
    }

    /// The current window as the events a new page starts with: `hello`, `summary`, then every
    /// session with its arrows and facts, then the agents' facts.
    public func snapshot() -> [Event] {
        lock.withLock {
            var out = [Event(name: "hello", data: helloJSON), Event(name: "summary", data: summaryJSON)]
            for id in order {
                guard let session = sessions[id] else { continue }
                out.append(Event(name: "session", data: session.sessionJSON))
                out += session.arrowJSON.map { Event(name: "arrow", data: $0) }
                out += session.factJSON.map { Event(name: "fact", data: $0) }
            }
            out += agentFacts.map { Event(name: "fact", data: $0) }
            return out
        }
    }

    private func hosts(of world: World) -> [HostData] {
        world.hosts.map { host in
            let ports = host.listeningPorts.map(Int.init)
            var fr: [String] = [], en: [String] = []
            if ports.contains(25) { fr.append("MTA"); en.append("MTA") }
            if ports.contains(587) || ports.contains(465) { fr.append("soumission"); en.append("submission") }
            if ports.contains(110) || ports.contains(995) { fr.append("POP3"); en.append("POP3") }
            if ports.contains(143) || ports.contains(993) { fr.append("IMAP"); en.append("IMAP") }
            if ports.contains(53) { fr.append("DNS"); en.append("DNS") }
            let role = notes[host.name] ?? (fr.isEmpty ? ReplayHTML.Text("client", "client")
                : ReplayHTML.Text(fr.joined(separator: " · "), en.joined(separator: " · ")))
            return HostData(name: host.name, address: host.address.description, role: role, server: !ports.isEmpty, up: host.isUp)
        }
    }

    private func pollLocked(_ world: World) -> [Event] {
        var out: [Event] = []
        let identity = ObjectIdentifier(world)
        if identity != worldID {
            // A new world (the REPL opened another exercise): the page starts again.
            worldID = identity
            sessions = [:]
            order = []
            agentFacts = []
            summary = Summary()
            // From the start: what the world did before the first poll is shown too (the
            // window keeps the last sessions of it).
            journalCursor = 0
            replyCursor = 0
            highestConnection = 0
            let list = hosts(of: world)
            hostsJSON = json(list)
            helloJSON = json(Hello(title: title, hosts: list))
            summaryJSON = json(summary)
            out.append(Event(name: "hello", data: helloJSON))
            out.append(Event(name: "summary", data: summaryJSON))
        } else {
            let list = hosts(of: world)
            let encoded = json(list)
            if encoded != hostsJSON {
                hostsJSON = encoded
                helloJSON = json(Hello(title: title, hosts: list))
                out.append(Event(name: "hosts", data: encoded))
            }
        }
        // New connections (the tap lists them in id order).
        var fresh: [TapConnection] = []
        for connection in world.tap.connections.reversed() {
            if connection.id <= highestConnection { break }
            fresh.append(connection)
        }
        for connection in fresh.reversed() {
            highestConnection = connection.id
            summary.totalSessions += 1
            let redact = redaction?(connection.id, Int(connection.server.port))
            let builder = ReplayHTML.ArrowBuilder(connection: connection, shownBytes: Self.shownBytes,
                                                  maximumArrows: Self.maximumArrowsPerSession, redact: redact)
            sessions[connection.id] = LiveSession(tap: connection, builder: builder)
            order.append(connection.id)
        }
        var dropped = false
        while order.count > Self.maximumSessions {
            let id = order.removeFirst()
            if let gone = sessions.removeValue(forKey: id) {
                summary.olderSessions += 1
                summary.olderBytes += gone.builder.stats.appBytes.reduce(0, +)
                summary.olderFacts += gone.factJSON.count + gone.omittedFacts
                for (kind, count) in gone.factKinds { summary.olderKinds[kind, default: 0] += count }
                out.append(Event(name: "drop", data: "{\"session\":\(id)}"))
                dropped = true
            }
        }
        // Where the servers' replies end (and what they await): to the builders, before the bytes.
        for record in world.replies.records(since: replyCursor) { sessions[record.session]?.builder.expect(record.reply) }
        replyCursor = world.replies.nextSequence
        // What the sessions of the window did since the last poll.
        for id in order {
            guard let session = sessions[id], !session.finished else { continue }
            let events = session.tap.events
            var arrows: [Event] = []
            if session.consumed < events.count {
                let new = events[session.consumed...]
                if !session.refused { session.refused = new.contains { $0.kind == .refused } }
                session.builder.feed(new, refused: session.refused)
                session.consumed = events.count
                for index in session.builder.takeChanged() {
                    let data = json(ArrowData(session: id, index: index, arrow: session.builder.arrows[index]))
                    if index < session.arrowJSON.count { session.arrowJSON[index] = data } else { session.arrowJSON.append(data) }
                    arrows.append(Event(name: "arrow", data: data))
                }
            }
            if session.tap.isFinished {
                session.builder.markClosed()
                session.finished = true
            }
            let data = json(SessionData(summary: session.builder.summary(openedAt: session.tap.openedAt),
                                        arrows: session.builder.arrows.count, omittedArrows: session.builder.omitted,
                                        omittedFacts: session.omittedFacts))
            if data != session.sessionJSON {
                // The session's card comes before its arrows.
                session.sessionJSON = data
                out.append(Event(name: "session", data: data))
            }
            out += arrows
        }
        // The journal's new facts.
        let records = world.journal.records(since: journalCursor)
        if let first = records.first, first.sequence > journalCursor { summary.missedFacts += first.sequence - journalCursor }
        for record in records {
            var fact = ReplayHTML.fact(record)
            summary.totalFacts += 1
            if fact.session == 0 {
                let data = json(["fact": fact])
                agentFacts.append(data)
                if agentFacts.count > Self.maximumAgentFacts { agentFacts.removeFirst(agentFacts.count - Self.maximumAgentFacts) }
                out.append(Event(name: "fact", data: data))
            } else if let session = sessions[fact.session] {
                session.factKinds[fact.kind, default: 0] += 1
                guard session.factJSON.count < Self.maximumFactsPerSession else {
                    session.omittedFacts += 1
                    continue
                }
                fact.arrow = session.builder.arrows.lastIndex { $0.time <= fact.time } ?? (session.builder.arrows.isEmpty ? nil : 0)
                let data = json(["fact": fact])
                session.factJSON.append(data)
                out.append(Event(name: "fact", data: data))
            } else {
                summary.missedFacts += 1
            }
        }
        journalCursor = world.journal.nextSequence
        let encoded = json(summary)
        if dropped || encoded != summaryJSON {
            summaryJSON = encoded
            out.append(Event(name: "summary", data: encoded))
        }
        return out
    }
}
