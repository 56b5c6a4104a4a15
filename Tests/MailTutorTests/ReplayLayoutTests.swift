import Foundation
import MailSim
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// The terminal replay fitted to 80–200 columns and the HTML export, on the shipped scenarios
/// played in the real simulated world.
@Suite struct ReplayLayoutTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let shipped: ContentLibrary = ContentLibrary.load(paths: [repository.appendingPathComponent("Scenarios").path])

    static func played(_ id: String) throws -> ReplaySession {
        let scenario = try #require(shipped.scenario(id), "scenario \(id)")
        let session = ReplaySession(runner: try ScenarioRunner(scenario: scenario, driver: SimulatedWorldDriver()))
        session.runToEnd()
        return session
    }

    static var scenarioIDs: [String] { shipped.scenarios.map(\.id) }

    /// Every step of every shipped scenario, at 80, 120 and 200 columns, in both languages and
    /// every view: no line is longer than the width, every host that talks in a step is named in
    /// it (in full, or abbreviated with its full name on the line above the lanes), and a step
    /// with a diagram has the legend.
    @Test(arguments: scenarioIDs)
    func everyStepFitsTheWidth(id: String) throws {
        let session = try Self.played(id)
        #expect(session.steps.count == session.scenario.steps.count)
        for width in [80, 120, 200] {
            for language in Language.allCases {
                for mode in ReplayPage.Mode.allCases {
                    let page = ReplayPage(scenario: session.scenario, language: language, width: width, color: false, mode: mode)
                    for line in page.title(seed: session.runner.seed) { #expect(line.count <= width, "\(id) title: \(line)") }
                    for step in session.steps {
                        let header = page.header(step)
                        #expect(header.count <= width)
                        let lines = page.body(step, hostOrder: [])
                        for line in lines {
                            #expect(line.count <= width, "\(id) step \(step.outcome.index + 1) at \(width) (\(language), \(mode)): \(line.count) columns: \(line)")
                        }
                        guard !step.events.isEmpty else { continue }
                        let text = lines.joined(separator: "\n")
                        for host in Set(step.events.flatMap { [$0.client, $0.server] }) {
                            #expect(text.contains(host), "\(id) step \(step.outcome.index + 1) at \(width): \(host) missing")
                        }
                        if mode != .transcript {
                            #expect(text.contains(language == .fr ? "Légende :" : "Legend:"), "\(id) step \(step.outcome.index + 1)")
                        }
                    }
                }
            }
        }
    }

    /// A connection's lines are split across steps only where the scenario puts a step that
    /// acts on the world; the relay session that a `send` starts is shown whole with the
    /// `advance` that lets it run.
    @Test(arguments: scenarioIDs)
    func connectionsAreNotSplitAcrossSteps(id: String) throws {
        let session = try Self.played(id)
        var stepsOf: [Int: [Int]] = [:]
        for (index, step) in session.steps.enumerated() {
            // The lines (and the opening): a last RST answering a segment that arrived after both
            // sides closed may come a step later.
            let lines = step.events.filter { if case .line = $0.kind { return true } else { return $0.kind == .opened } }
            for connection in Set(lines.map(\.connection)) { stepsOf[connection, default: []].append(index) }
        }
        for (connection, indices) in stepsOf where indices.count > 1 {
            for index in indices.dropLast() {
                let next = session.scenario.steps[index + 1].action
                #expect(!ReplaySession.letsConnectionsRun(next),
                        "\(id): connection #\(connection) split after step \(index + 1) although step \(index + 2) only lets time pass")
            }
        }
        let shown = session.steps.flatMap(\.events)
        let all = try #require(session.world).wireEvents()
        #expect(shown.count == all.count, "every event is shown once")
    }

    @Test func mxFailoverShowsTheRelayWithTheAdvanceAndTheDownMX() throws {
        let session = try Self.played("mx-failover")
        let steps = session.scenario.steps
        // Step 3 sends, step 4 advances 1m: the relay from mail.example.com to mail1 is in step 4 only.
        guard case .world(.send) = steps[2].action, case .world(.advance) = steps[3].action else {
            Issue.record("mx-failover's steps moved")
            return
        }
        #expect(!session.steps[2].events.isEmpty && session.steps[2].events.allSatisfy { $0.client == "laptop" },
                "the send step shows the submission, and only it")
        let relay = session.steps[3].events.filter { $0.server == "mail1.company.org" }
        #expect(relay.first?.kind == .opened)
        #expect(relay.contains { if case .line("221 2.0.0 Bye", false, _) = $0.kind { return true } else { return false } })
        // After `down mail1`, the attempt to it times out and is drawn as a failure.
        let downIndex = try #require(steps.firstIndex { $0.action == .world(.fault(.down("mail1.company.org"))) })
        let later = session.steps[(downIndex + 1)...].first { step in step.events.contains { $0.kind == .timedOut } }
        let failing = try #require(later, "a connection to the down MX times out")
        let renderer = ReplayRenderer(color: false, hostOrder: [], width: 80)
        let drawn = renderer.diagram(failing.events)
        #expect(drawn.contains("SYN ×") || drawn.contains("SYN… ×"), "\(drawn)")
        let list = ReplayRenderer(color: false, hostOrder: [], width: 40).diagram(failing.events)
        #expect(list.contains("SYN… ×"), "\(list)")
    }

    @Test func diagramAbbreviatesFoldsAndPutsTheInitiatorLeft() throws {
        let session = try Self.played("mx-failover")
        let busiest = try #require(session.steps.max { Set($0.events.flatMap { [$0.client, $0.server] }).count < Set($1.events.flatMap { [$0.client, $0.server] }).count })
        let wide = ReplayRenderer(color: false, hostOrder: [], width: 200).diagram(busiest.events)
        let narrow = ReplayRenderer(color: false, hostOrder: [], width: 80).diagram(busiest.events)
        let tiny = ReplayRenderer(color: false, hostOrder: [], width: 40).diagram(busiest.events)
        #expect(wide.split(separator: "\n").allSatisfy { $0.count <= 200 })
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(tiny.split(separator: "\n").allSatisfy { $0.count <= 40 })
        #expect(tiny.contains(" → "), "a compact list at 40 columns: \(tiny)")
        #expect(narrow.contains("│"), "still lanes at 80 columns: \(narrow)")
        // The host opening the step's first connection has the leftmost lane.
        let first = try #require(busiest.events.first)
        let lanes = ReplayRenderer.lanes(ReplayRenderer(color: false, hostOrder: [], width: 80).arrows(busiest.events))
        #expect(lanes.first == first.client)
    }

    @Test func abbreviationsAndWrapping() {
        let names = ["mail1.company.org", "mail2.company.org", "mail.example.com"]
        #expect(ReplayRenderer.abbreviate("mail1.company.org", room: 12, among: names) == "mail1")
        #expect(ReplayRenderer.abbreviate("mail.example.com", room: 20, among: names) == "mail.example.com")
        #expect(ReplayRenderer.abbreviate("mail.a.org", room: 6, among: ["mail.a.org", "mail.b.org"]) == "mail.…")
        let wrapped = ReplayRenderer.wrap("  C: AUTH PLAIN " + String(repeating: "QUJD", count: 40), width: 50, indent: "   ↪ ", breakAtSpaces: false)
        #expect(wrapped.count == 4 && wrapped.allSatisfy { $0.count <= 50 })
        #expect(wrapped.dropFirst().allSatisfy { $0.hasPrefix("   ↪ ") })
        let french = ReplayRenderer.reflow("Aucun MX ne répond : c'est une erreur temporaire. Le MTA de example.com garde le message\net réessaie.", width: 40)
        #expect(french.split(separator: "\n").allSatisfy { $0.count <= 40 })
        #expect(!french.contains("message\net"), "paragraph lines are joined before folding")
    }

    @Test func stepLabelsInFrench() {
        #expect(ReplayPage.label(.world(.advance(seconds: 60)), .fr) == "attente 1m")
        #expect(ReplayPage.label(.world(.fault(.down("mail1"))), .fr) == "arrêt mail1")
        #expect(ReplayPage.label(.world(.fault(.down("mail1"))), .en) == "down mail1")
    }

    // MARK: HTML

    @Test func htmlIsSelfContainedAndHasEveryStep() throws {
        let session = try Self.played("mx-failover")
        let world = try #require(session.world)
        let html = ReplayHTML(session: session, world: world, language: .en).render()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
        // No network: no external URL in src/href, no stylesheet link, no import, no url().
        #expect(html.range(of: #"(src|href)\s*=\s*["']?\s*(https?:)?//"#, options: .regularExpression) == nil)
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<link") && !html.contains("@import") && !html.contains("url("))
        let sections = html.components(separatedBy: "<section class=\"step\"").count - 1
        #expect(sections == session.steps.count + 1, "a title section and one per step")
        let withTraffic = session.steps.filter { !$0.tapRanges.isEmpty }.count
        #expect(html.components(separatedBy: "<svg class=\"seq\"").count - 1 == withTraffic)
        for tag in ["section", "svg", "g", "script", "style", "header", "main", "aside", "footer", "ul", "li", "h2"] {
            #expect(html.components(separatedBy: "<\(tag)>").count + html.components(separatedBy: "<\(tag) ").count
                    == html.components(separatedBy: "</\(tag)>").count + 1, "<\(tag)> balanced")
        }
        // Both languages of the narration.
        #expect(html.contains("company.org publishes three MX records"))
        #expect(html.contains("company.org publie trois enregistrements MX"))
        // The embedded data parses and carries the bytes.
        let start = try #require(html.range(of: "<script type=\"application/json\" id=\"replay-data\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let json = String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "\\u003c", with: "<")
        let page = try JSONDecoder().decode(ReplayHTML.Page.self, from: Data(json.utf8))
        #expect(page.steps.count == session.steps.count)
        #expect(Set(page.hosts.map(\.name)).isSuperset(of: ["laptop", "mail.example.com", "mail1.company.org", "mail2.company.org"]))
        let arrows = page.steps.flatMap(\.arrows)
        let ehloInside = try #require(arrows.first { $0.encrypted && $0.plain?.hasPrefix("EHLO") == true })
        #expect(ehloInside.wire.contains { $0.type == "ApplicationData" }, "the wire carries a TLS record, not the text")
        #expect(ehloInside.wireBytes > ehloInside.plainBytes)
        #expect(arrows.contains { $0.label.hasPrefix("TLS ClientHello") })
        #expect(arrows.contains { $0.label == "× timeout" && $0.to == "mail1.company.org" }, "the failed attempt to the down MX")
        let clear = try #require(arrows.first { !$0.encrypted && $0.plain?.hasPrefix("220 ") == true })
        #expect(clear.wire == [.init(type: "TCP data", length: clear.plainBytes)])
        #expect(page.steps.contains { $0.down.contains("mail1.company.org") })
    }

    @Test func tlsRecordsAreParsedAcrossSegments() {
        var carry = 0
        let hello: [UInt8] = [22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3]
        #expect(ReplayHTML.tlsRecords(hello, carry: &carry) == [.init(type: "Handshake (ClientHello)", length: 11)])
        #expect(carry == 0)
        let split: [UInt8] = [23, 3, 3, 0, 10, 1, 2, 3]
        #expect(ReplayHTML.tlsRecords(split, carry: &carry) == [.init(type: "ApplicationData", length: 15)])
        #expect(carry == 7)
        #expect(ReplayHTML.tlsRecords([9, 9, 9, 9, 9, 9, 9, 21, 3, 3, 0, 2, 2, 0], carry: &carry)
                == [.init(type: "(continued record)", length: 7), .init(type: "Alert", length: 7)])
        #expect(ReplayHTML.visible(Array("OK\r\n\u{1}".utf8)) == "OK<CR><LF>\n\\x01")
    }

    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Opens the page in headless Chromium (Debian's `chromium`), checks the DOM the script built
    /// (the step shown, the byte detail of a TLS arrow) and takes a screenshot.
    @Test(.enabled(if: chromium != nil, "needs chromium (apt-get install chromium); skipped"))
    func htmlRendersInHeadlessChromium() throws {
        let session = try Self.played("mx-failover")
        let world = try #require(session.world)
        let html = ReplayHTML(session: session, world: world, language: .en).render()
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("maillab-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("mx-failover.html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let page = try JSONDecoder().decode(ReplayHTML.Page.self, from: Data(ReplayHTMLTestSupport.json(html).utf8))
        let stepIndex = try #require(page.steps.firstIndex { $0.arrows.contains { $0.encrypted && $0.plain?.hasPrefix("EHLO") == true } })
        let arrowIndex = try #require(page.steps[stepIndex].arrows.firstIndex { $0.encrypted && $0.plain?.hasPrefix("EHLO") == true })
        let url = file.absoluteString + "#step=\(stepIndex + 1)&arrow=\(arrowIndex)&lang=fr"
        let dom = try ReplayHTMLTestSupport.run(Self.chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000", "--dump-dom", url])
        #expect(dom.contains("id=\"detail\"") && !dom.contains("<aside id=\"detail\" hidden"), "the detail panel is open")
        #expect(dom.contains("ApplicationData"), "the TLS records of the arrow")
        #expect(dom.contains("EHLO laptop"), "what TLS carried inside")
        #expect(dom.contains("Dedans (ce que l'application a écrit"), "in French, as asked by the URL")
        #expect(dom.contains("data-lang=\"fr\""))
        let png = dir.appendingPathComponent("shot.png")
        _ = try ReplayHTMLTestSupport.run(Self.chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                          "--window-size=1600,1000", "--virtual-time-budget=3000",
                                                          "--screenshot=\(png.path)", url])
        let bytes = try [UInt8](Data(contentsOf: png))
        #expect(Array(bytes.prefix(4)) == [0x89, 0x50, 0x4E, 0x47], "a PNG screenshot")
        #expect(bytes.count > 20_000)
    }
}

enum ReplayHTMLTestSupport {
    static func json(_ html: String) -> String {
        guard let start = html.range(of: "id=\"replay-data\">"),
              let end = html.range(of: "</script>", range: start.upperBound..<html.endIndex) else { return "" }
        return String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "\\u003c", with: "<")
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
