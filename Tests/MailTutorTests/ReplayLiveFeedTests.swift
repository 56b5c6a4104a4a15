import Foundation
import MailSim
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// The replay page built from the fact journal and the tap, and the live view's feed.
@Suite struct ReplayLiveFeedTests {
    struct Decoded {
        var hello = 0
        var sessions: [Int: ReplayLiveFeed.SessionData] = [:]
        var arrows: [Int: [Int: ReplayHTML.Arrow]] = [:]
        var facts: [Int: ReplayHTML.Fact] = [:]
        var dropped: [Int] = []
        var summary: ReplayLiveFeed.Summary?

        mutating func apply(_ events: [ReplayLiveFeed.Event]) throws {
            let decoder = JSONDecoder()
            for event in events {
                let data = Data(event.data.utf8)
                switch event.name {
                case "hello": hello += 1
                case "session":
                    let info = try decoder.decode(ReplayLiveFeed.SessionData.self, from: data)
                    sessions[info.summary.id] = info
                case "arrow":
                    let arrow = try decoder.decode(ReplayLiveFeed.ArrowData.self, from: data)
                    #expect(sessions[arrow.session] != nil, "a session's card comes before its arrows")
                    arrows[arrow.session, default: [:]][arrow.index] = arrow.arrow
                case "fact":
                    let fact = try decoder.decode([String: ReplayHTML.Fact].self, from: data)["fact"]
                    if let fact { facts[fact.seq] = fact }
                case "drop":
                    let id = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])["session"]
                    if let id { dropped.append(id); sessions[id] = nil; arrows[id] = nil }
                case "summary": summary = try decoder.decode(ReplayLiveFeed.Summary.self, from: data)
                case "hosts": break
                default: Issue.record("unknown event \(event.name)")
                }
            }
        }
    }

    /// mx-failover played step by step with a poll after each step: the arrows the feed streams
    /// (each new or grown arrow again under its index) end as the arrows of the whole connection,
    /// and the journal's facts come with their session and arrow.
    @Test func feedFollowsAScenarioAsItPlays() throws {
        let scenario = try #require(ReplayLayoutTests.shipped.scenario("mx-failover"))
        let session = ReplaySession(runner: try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver()))
        let feed = ReplayLiveFeed(title: scenario.title)
        var decoded = Decoded()
        let world = try #require(session.world).world
        try decoded.apply(feed.poll(world))
        #expect(decoded.hello == 1)
        while session.next() != nil { try decoded.apply(feed.poll(world)) }
        #expect(!decoded.sessions.isEmpty)
        for connection in world.tap.connections {
            let whole = ReplayHTML.arrows(of: connection, range: 0..<connection.events.count,
                                          replies: world.replies.replies(of: connection.id))
            let streamed = decoded.arrows[connection.id] ?? [:]
            #expect(streamed.count == whole.count, "connection \(connection.id): every arrow streamed")
            for (index, arrow) in whole.enumerated() {
                #expect(streamed[index]?.label == arrow.label && streamed[index]?.wireBytes == arrow.wireBytes
                        && streamed[index]?.plainBytes == arrow.plainBytes, "connection \(connection.id) arrow \(index)")
            }
            let stats = try #require(decoded.sessions[connection.id]).summary.stats
            let app = connection.events.reduce(into: [0, 0]) { sum, event in
                if case let .appData(direction, bytes, _) = event.kind { sum[direction == .clientToServer ? 0 : 1] += bytes.count }
            }
            #expect(stats.appBytes == app, "bytes per direction")
        }
        // The facts of the journal, every one, with their sessions.
        #expect(decoded.facts.count == world.journal.records.count)
        let accepted = try #require(decoded.facts.values.first { $0.kind == "accepted" })
        #expect(accepted.session > 0 && accepted.arrow != nil)
        #expect(accepted.text.en.hasPrefix("Message accepted, queue ") && accepted.text.fr.hasPrefix("Message accepté, file "))
        #expect(decoded.facts.values.contains { $0.session == 0 && $0.role == "agent" }, "the MTA's own facts (relay, delivery)")
        #expect(decoded.sessions.values.contains { $0.summary.stats.tlsRecords[0] > 0 && $0.summary.stats.tls })
        // A page opened now starts from the snapshot and ends with the same state.
        var fresh = Decoded()
        try fresh.apply(feed.snapshot())
        #expect(fresh.hello == 1 && fresh.sessions.count == decoded.sessions.count && fresh.facts.count == decoded.facts.count)
        #expect(fresh.arrows.mapValues(\.count) == decoded.arrows.mapValues(\.count))
    }

    /// Sixty sessions: the window keeps the last fifty, the others are counted in the summary.
    @Test func windowKeepsTheLastSessions() throws {
        let made = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 3)
        let world = try #require(made as? SimulatedWorld)
        let feed = ReplayLiveFeed(title: LocalizedText(fr: "essai", en: "test"))
        var decoded = Decoded()
        try decoded.apply(feed.poll(world.world))
        for index in 0..<60 {
            let session = try world.openSession(host: "mail.example.com", port: 25, tls: false)
            _ = session.send(line: "EHLO probe\(index)")
            _ = session.send(line: "QUIT")
            session.close()
            if index % 7 == 0 { try decoded.apply(feed.poll(world.world)) }
        }
        try decoded.apply(feed.poll(world.world))
        #expect(decoded.sessions.count == ReplayLiveFeed.maximumSessions)
        #expect(decoded.dropped.count == 60 - ReplayLiveFeed.maximumSessions)
        let summary = try #require(decoded.summary)
        #expect(summary.totalSessions == 60 && summary.olderSessions == 10)
        #expect(summary.olderKinds["hello"] == 10, "\(summary.olderKinds)")
        #expect(summary.olderBytes > 0)
        let snapshot = feed.snapshot()
        #expect(snapshot.filter { $0.name == "session" }.count == ReplayLiveFeed.maximumSessions)
        #expect(snapshot.first?.name == "hello")
    }

    /// A credential typed by a real client is masked in the feed when a redaction is given.
    @Test func redactionMasksWhatTheClientWrote() throws {
        let made = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 3)
        let world = try #require(made as? SimulatedWorld)
        let feed = ReplayLiveFeed(title: LocalizedText(fr: "essai", en: "test"), redaction: { _, _ in
            { fromClient, bytes, _ in
                fromClient && String(decoding: bytes, as: UTF8.self).hasPrefix("AUTH") ? Array("AUTH PLAIN ****\r\n".utf8) : bytes
            }
        })
        _ = feed.poll(world.world)
        let session = try world.openSession(host: "mail.example.com", port: 25, tls: false)
        _ = session.send(line: "EHLO probe")
        _ = session.send(line: "AUTH PLAIN AGFsaWNlAG15cGFzc3dvcmQ=")
        session.close()
        let text = feed.poll(world.world).map(\.data).joined()
        #expect(text.contains("AUTH PLAIN ****"))
        #expect(!text.contains("AGFsaWNlAG15cGFzc3dvcmQ"), "neither as text nor in the plaintext's hex")
        #expect(!text.contains(Array("AGFsaWNl".utf8).map { String(format: "%02x", $0) }.joined()))
    }

    /// The replay page carries the journal: each step's facts, linked to their arrows, and the
    /// connections' bytes per direction.
    @Test func htmlCarriesTheFactsAndTheBytesPerDirection() throws {
        let session = try ReplayLayoutTests.played("mx-failover")
        let world = try #require(session.world)
        let html = ReplayHTML(session: session, world: world, language: .en).render()
        let page = try JSONDecoder().decode(ReplayHTML.Page.self, from: Data(ReplayHTMLTestSupport.json(html).utf8))
        let facts = page.steps.flatMap(\.facts)
        #expect(facts.count == world.world.journal.records.count, "every fact of the journal is on the page, once")
        #expect(Set(facts.map(\.seq)).count == facts.count)
        let step = try #require(page.steps.first { $0.facts.contains { $0.kind == "accepted" } })
        let accepted = try #require(step.facts.firstIndex { $0.kind == "accepted" })
        let arrow = try #require(step.facts[accepted].arrow)
        #expect(step.arrows[arrow].facts.contains(accepted))
        #expect(step.arrows[arrow].connection == step.facts[accepted].session)
        #expect(html.contains("What the engines reported (the fact journal)") && html.contains("Ce que les moteurs ont rapporté"))
        #expect(html.contains("class=\"fnote f-ok\""), "the diagram marks the arrow")
        let connections = page.steps.flatMap(\.connections)
        #expect(connections.contains { $0.stats.tlsRecords[0] > 0 && $0.stats.wireBytes[0] > $0.stats.appBytes[0] })
        #expect(!html.contains("http://") && !html.contains("https://"))
    }

    /// The live page: no URL to another site, an event stream of its own origin.
    @Test func livePageIsSelfContained() {
        let html = ReplayHTML.livePage(title: LocalizedText(fr: "essai", en: "test"), language: .fr)
        #expect(html.contains("new EventSource(\"events\")"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        #expect(html.contains("{\"live\":true}"))
    }
}
