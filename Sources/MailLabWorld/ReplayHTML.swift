import MailTutor
import Foundation
import MailCore
import MailSim

/// `maillab replay ID --html FILE`: the whole replay as one self-contained web page for a
/// projector (inline CSS, JavaScript and SVG; nothing is fetched, so it opens from a USB stick).
///
/// The page shows a network map (hosts, roles, addresses; down hosts and partitions as they
/// change), and per step the narration in both languages and an SVG sequence diagram whose
/// arrows appear in order. A click on an arrow shows its exact bytes: what the application wrote
/// (the plaintext command or reply) and what the wire carried (the same bytes, or for TLS the
/// record types and sizes of the ciphertext, with a hex dump on demand).
///
/// Everything comes from the world's tap (``TapConnection/events``: application bytes, wire
/// segments, SYN, FIN, RST, timeouts) and from the replay's steps, never from re-parsed
/// transcript text. Bounded: at most ``maximumArrowsPerStep`` arrows per step, ``maximumShownBytes``
/// bytes of plaintext and of hex per arrow (the sizes are always the real ones).
public struct ReplayHTML {
    public let session: ReplaySession
    public let world: SimulatedWorld
    public let language: Language

    public static let maximumArrowsPerStep = 3_000
    public static let maximumShownBytes = 4_096

    public init(session: ReplaySession, world: SimulatedWorld, language: Language) {
        self.session = session
        self.world = world
        self.language = language
    }

    // MARK: model

    struct Text: Codable, Equatable {
        var fr: String
        var en: String
        init(_ fr: String, _ en: String) { self.fr = fr; self.en = en }
        init(_ text: LocalizedText) { fr = text.fr; en = text.en }
    }

    struct WireRecord: Codable, Equatable {
        /// `Handshake (ClientHello)`, `ApplicationData`, … or `TCP data` for plaintext.
        var type: String
        var length: Int
    }

    struct Arrow: Codable, Equatable {
        var connection: Int
        var time: Int64
        var at: String
        var from: String
        var to: String
        var label: String
        /// `tcp`, `command`, `reply`, `tls`, `fail`, `data`.
        var kind: String
        var encrypted: Bool
        var note: Text?
        /// What the application wrote, with CR, LF and other control bytes made visible.
        var plain: String?
        var plainBytes: Int
        var plainHex: String?
        var wire: [WireRecord]
        var wireBytes: Int
        var wireHex: String?
        /// Indices (in the step's ``Step/facts``) of the facts the engines reported with this arrow.
        var facts: [Int] = []
    }

    struct Host: Codable, Equatable {
        var name: String
        var address: String
        var role: Text
        var x: Int
        var y: Int
    }

    struct Step: Codable, Equatable {
        var number: Int
        var label: Text
        var at: String
        var notes: [Text]
        var checks: [Check]
        var error: Text?
        var task: Bool
        var down: [String]
        var partitions: [[String]]
        var lanes: [String]
        var arrows: [Arrow]
        var omitted: Int
        /// What the engines reported during the step (the world's fact journal).
        var facts: [Fact]
        /// The connections of the step with their bytes per direction and TLS records.
        var connections: [ConnectionSummary]
    }

    struct Check: Codable, Equatable {
        var ok: Bool
        var text: Text
    }

    struct Page: Codable, Equatable {
        var id: String
        var title: Text
        var summary: Text?
        var seed: UInt64
        var language: String
        var hosts: [Host]
        var steps: [Step]
    }

    // MARK: building the model from the tap

    func model() -> Page {
        let scenario = session.scenario
        let connections = Dictionary(world.world.tap.connections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let factsByStep = Self.assign(Self.facts(of: world.world), to: session.steps, connections: connections)
        var steps: [Step] = []
        for (stepIndex, step) in session.steps.enumerated() {
            var arrows: [Arrow] = []
            var summaries: [ConnectionSummary] = []
            for range in step.tapRanges {
                guard let connection = connections[range.connection] else { continue }
                var builder = ArrowBuilder(connection: connection, replies: world.world.replies.replies(of: connection.id))
                builder.skip(connection.events[..<range.range.lowerBound])
                builder.feed(connection.events[range.range], refused: connection.events.contains { $0.kind == .refused })
                arrows += builder.arrows
                var summary = builder.summary(openedAt: connection.openedAt)
                summary.closed = summary.closed || (connection.isFinished && range.range.upperBound == connection.events.count)
                summaries.append(summary)
            }
            arrows = arrows.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
            let omitted = max(0, arrows.count - Self.maximumArrowsPerStep)
            arrows = Array(arrows.prefix(Self.maximumArrowsPerStep))
            var facts = factsByStep[stepIndex]
            Self.link(&facts, to: &arrows)
            var lanes: [String] = []
            for arrow in arrows { for name in [arrow.from, arrow.to] where !lanes.contains(name) { lanes.append(name) } }
            let outcome = step.outcome
            var checks: [Check] = []
            if case let .expect(goals) = outcome.step.action {
                checks = goals.map { Check(ok: !outcome.failures.contains($0), text: $0.description.map(Text.init) ?? Text($0.id, $0.id)) }
            }
            var task = false
            if case let .task(learnerTask) = outcome.step.action {
                task = true
                checks = learnerTask.goals.map { Check(ok: false, text: $0.description.map(Text.init) ?? Text($0.id, $0.id)) }
            }
            steps.append(Step(
                number: outcome.index + 1,
                label: Text(ReplayPage.label(outcome.step.action, .fr), ReplayPage.label(outcome.step.action, .en)),
                at: "\(VirtualTime(microseconds: step.time))",
                notes: outcome.notes.map(Text.init), checks: checks, error: outcome.error.map { Text($0.message) },
                task: task, down: step.hosts.filter { !$0.up }.map(\.name), partitions: step.partitions,
                lanes: lanes, arrows: arrows, omitted: omitted, facts: facts, connections: summaries))
        }
        return Page(id: scenario.id, title: Text(scenario.title), summary: scenario.summary.map(Text.init),
                    seed: session.runner.seed, language: language.rawValue, hosts: hosts(steps), steps: steps)
    }

    /// The hosts on the map: the scenario's hosts and devices (and any other host that talks),
    /// clients on the top row, servers below.
    func hosts(_ steps: [Step]) -> [Host] {
        let spec = session.scenario.world
        let talking = Set(steps.flatMap { $0.lanes })
        var clients: [(String, String, Text)] = []
        var servers: [(String, String, Text)] = []
        for info in world.hosts() {
            if let device = spec.device(named: info.name) {
                clients.append((info.name, info.address, Text("client de messagerie (\(device.user))", "mail client (\(device.user))")))
            } else if let host = spec.host(named: info.name) {
                var fr: [String] = [], en: [String] = []
                if let mta = host.mta {
                    if !mta.backupFor.isEmpty { fr.append("MX de secours"); en.append("backup MX") } else { fr.append("MTA"); en.append("MTA") }
                }
                if host.mda != nil { fr.append("boîtes (MDA)"); en.append("mailboxes (MDA)") }
                if host.services.contains(where: { $0.kind == .dns }) { fr.append("DNS"); en.append("DNS") }
                if fr.isEmpty { fr.append("hôte"); en.append("host") }
                servers.append((info.name, info.address, Text(fr.joined(separator: " · "), en.joined(separator: " · "))))
            } else if talking.contains(info.name) {
                clients.append((info.name, info.address, Text("machine de l'apprenant", "learner's machine")))
            }
        }
        var out: [Host] = []
        for (row, list) in [clients, servers].enumerated() {
            let spacing = 1400 / max(list.count, 1)
            for (index, entry) in list.enumerated() {
                out.append(Host(name: entry.0, address: entry.1, role: entry.2, x: spacing / 2 + index * spacing, y: 70 + row * 170))
            }
        }
        return out
    }

    /// The arrows of one connection's tap events in `range`: the TCP handshake, each write of
    /// the application with the segments that carried it, TLS records on their own, the end
    /// (see ``ArrowBuilder``).
    static func arrows(of connection: TapConnection, range: Range<Int>, replies: [ServerReply] = []) -> [Arrow] {
        var builder = ArrowBuilder(connection: connection, replies: replies)
        builder.skip(connection.events[..<range.lowerBound])
        let refused = connection.events.contains { $0.kind == .refused }
        builder.feed(connection.events[range], refused: refused)
        return builder.arrows
    }

    /// The lines of a write, split after LF, without CR LF; empty lines dropped.
    static func lines(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0x0A).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self)
        }.filter { !$0.isEmpty }
    }

    /// The TLS records in a segment (RFC 8446 §5.1: type, version, 16-bit length); `carry` is
    /// what remains of a record that started in an earlier segment.
    static func tlsRecords(_ bytes: [UInt8], carry: inout Int) -> [WireRecord] {
        var records: [WireRecord] = []
        var index = 0
        if carry > 0 {
            let taken = min(carry, bytes.count)
            records.append(WireRecord(type: "(continued record)", length: taken))
            carry -= taken
            index = taken
        }
        while index < bytes.count {
            guard index + 5 <= bytes.count else {
                records.append(WireRecord(type: "(fragment)", length: bytes.count - index))
                break
            }
            let type = bytes[index]
            let length = Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
            var name: String
            switch type {
            case 20: name = "ChangeCipherSpec"
            case 21: name = "Alert"
            case 22:
                name = "Handshake"
                if index + 5 < bytes.count {
                    let handshake: [UInt8: String] = [1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions",
                                                      11: "Certificate", 12: "ServerKeyExchange", 14: "ServerHelloDone",
                                                      15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished"]
                    if let message = handshake[bytes[index + 5]] { name += " (\(message))" }
                }
            case 23: name = "ApplicationData"
            default: name = "type \(type)"
            }
            let available = bytes.count - index - 5
            records.append(WireRecord(type: name, length: 5 + length))
            if length > available {
                carry = length - available
                break
            }
            index += 5 + length
        }
        return records
    }

    /// `ClientHello`, `ServerHello +2`, `ChangeCipherSpec +1`, `[3]` (encrypted records only).
    static func tlsLabel(_ records: [WireRecord]) -> String {
        guard let named = records.first(where: { $0.type != "ApplicationData" && !$0.type.hasPrefix("(") }) else {
            return "[\(records.count)]"
        }
        let name = named.type.hasPrefix("Handshake (") ? String(named.type.dropFirst("Handshake (".count).dropLast()) : named.type
        return records.count > 1 ? "\(name) +\(records.count - 1)" : name
    }

    /// Bytes as text with CR shown `<CR>`, LF `<LF>` (then a line break), other control bytes `\xNN`.
    static func visible(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r": out += "<CR>"
            case "\n": out += "<LF>\n"
            case "\t": out += "\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += String(format: "\\x%02X", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// Hex of `bytes` appended to `hex` while fewer than `limit` bytes are shown.
    static func appendHex(_ hex: String?, _ bytes: [UInt8], total: Int, limit: Int = maximumShownBytes) -> String? {
        let room = limit - total
        guard room > 0 else { return hex }
        let digits = Array("0123456789abcdef")
        var out = hex ?? ""
        out.reserveCapacity(out.count + min(room, bytes.count) * 2)
        for byte in bytes.prefix(room) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    // MARK: the page

    public func render() -> String {
        let page = model()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(page)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // Inside <script>, "<" must not open a tag ("</script>" in a message body, say).
        let safe = json.replacingOccurrences(of: "<", with: "\\u003c")
        var html = "<!DOCTYPE html>\n<html lang=\"\(language.rawValue)\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<title>MailLab — \(Self.escape(language == .fr ? page.title.fr : page.title.en))</title>\n<style>\n\(Self.css)\n</style>\n</head>\n"
        html += "<body data-lang=\"\(language.rawValue)\">\n"
        html += "<header id=\"top\"><div class=\"title\">\(both(page.title))</div>"
        html += "<div id=\"stepTitle\" aria-live=\"polite\"></div>"
        html += "<nav><button id=\"prev\" title=\"←\">◀</button><button id=\"play\" title=\"space\">▶</button>"
        html += "<button id=\"next\" title=\"→\">▶▶</button><button id=\"lang\">FR / EN</button><button id=\"full\" title=\"F\">\(both(Text("Plein écran", "Full screen")))</button></nav></header>\n"
        html += "<main>\n<section id=\"mapPanel\"><h2>\(both(Text("Le réseau", "The network")))</h2>\n\(mapSVG(page))</section>\n"
        html += "<div id=\"steps\">\n"
        html += "<section class=\"step\" id=\"step-0\" data-step=\"0\"><h2>\(both(page.title))</h2>"
        if let summary = page.summary { html += "<p class=\"narration\">\(both(summary))</p>" }
        html += "<p>\(both(Text("\(page.steps.count) étapes, graine \(page.seed). Touches : ← → étapes, espace lecture/pause, Début/Fin, F plein écran, L langue. Cliquez sur une flèche pour voir ses octets.", "\(page.steps.count) steps, seed \(page.seed). Keys: ← → steps, space play/pause, Home/End, F full screen, L language. Click an arrow to see its bytes.")))</p></section>\n"
        for step in page.steps {
            html += "<section class=\"step\" id=\"step-\(step.number)\" data-step=\"\(step.number)\" hidden>\n"
            html += "<h2><span class=\"num\">[\(step.number)/\(page.steps.count)]</span> \(both(step.label)) <span class=\"at\">\(Self.escape(step.at))</span></h2>\n"
            for note in step.notes { html += "<div class=\"narration\">\(both(note, block: true))</div>\n" }
            if step.task {
                html += "<p class=\"task\">\(both(Text("Tâche de l'apprenant (à faire dans « maillab » avec « replay \(page.id) ») :", "A learner task (done in 'maillab' with 'replay \(page.id)'):")))</p>\n"
            }
            if let error = step.error { html += "<p class=\"error\">! \(both(error))</p>\n" }
            if !step.checks.isEmpty {
                html += "<ul class=\"checks\">"
                for check in step.checks {
                    let mark = step.task ? "☐" : check.ok ? "✓" : "✗"
                    html += "<li class=\"\(step.task ? "todo" : check.ok ? "ok" : "ko")\">\(mark) \(both(check.text))</li>"
                }
                html += "</ul>\n"
            }
            if !step.arrows.isEmpty {
                html += "<p class=\"legend\">\(both(Text("Légende : flèche bleue fine = TCP (SYN, ACK, FIN) · blanche = commande ou réponse en clair · jaune pointillée = dans TLS (chiffrée sur le fil) · rouge = échec (SYN sans réponse, refus, abandon)", "Legend: thin blue arrow = TCP (SYN, ACK, FIN) · white = command or reply in plaintext · dashed yellow = inside TLS (encrypted on the wire) · red = failure (unanswered SYN, refusal, abort)")))</p>\n"
                html += sequenceSVG(step) + "\n"
            }
            if !step.facts.isEmpty { html += factsHTML(step.facts) }
            if !step.connections.isEmpty { html += connectionsHTML(step.connections) }
            if step.omitted > 0 {
                html += "<p class=\"error\">\(both(Text("\(step.omitted) flèches de plus non montrées.", "\(step.omitted) more arrows not shown.")))</p>\n"
            }
            html += "</section>\n"
        }
        html += "</div>\n</main>\n"
        html += "<aside id=\"detail\" hidden><button id=\"closeDetail\">×</button><div id=\"detailBody\"></div></aside>\n"
        html += "<footer>\(both(Text("← → étapes · espace lecture/pause · Début/Fin · F plein écran · L langue · clic sur une flèche : ses octets", "← → steps · space play/pause · Home/End · F full screen · L language · click an arrow: its bytes")))</footer>\n"
        html += "<script type=\"application/json\" id=\"replay-data\">\(safe)</script>\n"
        html += "<script>\n\(Self.script)\n</script>\n</body>\n</html>\n"
        return html
    }

    /// The live view's page (`maillab serve --web`, `maillab --web`): the same styles, map and
    /// byte panel as the replay's page; the sessions come from the server's event stream
    /// (`events`, same origin: the page makes no other request).
    public static func livePage(title: LocalizedText, language: Language) -> String {
        let page = ReplayHTML.Text(title)
        func both(_ text: Text) -> String { "<span lang=\"en\">\(escape(text.en))</span><span lang=\"fr\">\(escape(text.fr))</span>" }
        var html = "<!DOCTYPE html>\n<html lang=\"\(language.rawValue)\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<title>MailLab — \(escape(language == .fr ? "en direct : " + page.fr : "live: " + page.en))</title>\n<style>\n\(css)\n</style>\n</head>\n"
        html += "<body data-lang=\"\(language.rawValue)\">\n"
        html += "<header id=\"top\"><div class=\"title\">MailLab · \(both(Text("vue en direct", "live view")))</div><div id=\"stepTitle\" aria-live=\"polite\"></div>"
        html += "<span id=\"liveStatus\" class=\"off\"></span>"
        html += "<nav><button id=\"lang\">FR / EN</button><button id=\"full\" title=\"F\">\(both(Text("Plein écran", "Full screen")))</button></nav></header>\n"
        html += "<main>\n<section id=\"mapPanel\"><h2>\(both(Text("Le réseau", "The network")))</h2>\n<svg class=\"map\" id=\"map\" viewBox=\"0 0 1400 330\" role=\"img\"></svg></section>\n"
        html += "<p id=\"summary\"></p>\n<ul class=\"facts\" id=\"agentFacts\"></ul>\n"
        html += "<p class=\"legend\">\(both(Text("Les sessions arrivent en haut, au fil de l'eau. Légende : flèche bleue fine = TCP · blanche = en clair · jaune pointillée = dans TLS · rouge = échec · ● ce que le moteur a rapporté. Cliquez sur une flèche pour voir ses octets.", "Sessions appear at the top as they happen. Legend: thin blue arrow = TCP · white = plaintext · dashed yellow = inside TLS · red = failure · ● what the engine reported. Click an arrow to see its bytes.")))</p>\n"
        html += "<div id=\"sessions\"></div>\n</main>\n"
        html += "<aside id=\"detail\" hidden><button id=\"closeDetail\">×</button><div id=\"detailBody\"></div></aside>\n"
        html += "<footer>\(both(Text("F plein écran · L langue · clic sur une flèche : ses octets · Échap ferme", "F full screen · L language · click an arrow: its bytes · Escape closes")))</footer>\n"
        html += "<script type=\"application/json\" id=\"replay-data\">{\"live\":true}</script>\n"
        html += "<script>\n\(script)\n</script>\n</body>\n</html>\n"
        return html
    }

    func both(_ text: Text, block: Bool = false) -> String {
        let tag = block ? "div" : "span"
        func body(_ s: String) -> String {
            block ? ReplayRenderer.reflow(s, width: 10_000).components(separatedBy: "\n\n").map { "<p>\(Self.escape($0))</p>" }.joined()
                  : Self.escape(s)
        }
        return "<\(tag) lang=\"en\">\(body(text.en))</\(tag)><\(tag) lang=\"fr\">\(body(text.fr))</\(tag)>"
    }

    /// "What the engines reported": the step's facts from the world's journal.
    func factsHTML(_ facts: [Fact]) -> String {
        var html = "<h3 class=\"facthead\">\(both(Text("Ce que les moteurs ont rapporté (journal des faits)", "What the engines reported (the fact journal)")))</h3>\n<ul class=\"facts\">"
        for fact in facts {
            let who = fact.session == 0 ? fact.host : "#\(fact.session) \(fact.host)"
            let role = Text(fact.role == "server" ? "serveur" : fact.role == "client" ? "client" : "agent", fact.role)
            html += "<li class=\"f-\(fact.tone)\" data-kind=\"\(Self.escape(fact.kind))\"><span class=\"fat\">\(Self.escape(fact.at))</span> "
            html += "<span class=\"fwho\">\(Self.escape(who)) (\(both(role))\(fact.tls ? ", TLS" : ""))</span> \(both(fact.text))</li>"
        }
        return html + "</ul>\n"
    }

    /// The step's connections: bytes per direction, in plaintext and on the wire, TLS records.
    func connectionsHTML(_ connections: [ConnectionSummary]) -> String {
        var html = "<table class=\"conns\"><tr><th>#</th><th>\(both(Text("connexion", "connection")))</th>"
        html += "<th>\(both(Text("client → serveur", "client → server")))</th><th>\(both(Text("serveur → client", "server → client")))</th></tr>"
        for c in connections {
            func cell(_ d: Int) -> String {
                var text = Text("\(c.stats.appBytes[d]) octets écrits · \(c.stats.wireBytes[d]) sur le fil",
                                "\(c.stats.appBytes[d]) bytes written · \(c.stats.wireBytes[d]) on the wire")
                if c.stats.tlsRecords[d] > 0 {
                    text.fr += " · \(c.stats.tlsRecords[d]) enregistrements TLS"
                    text.en += " · \(c.stats.tlsRecords[d]) TLS records"
                }
                return "<td>\(both(text))</td>"
            }
            html += "<tr><td>\(c.id)</td><td>\(Self.escape("\(c.client) → \(c.server):\(c.port)")) \(Self.escape(c.proto.uppercased()))\(c.stats.tls ? " · TLS" : "")</td>"
            html += cell(0) + cell(1) + "</tr>"
        }
        return html + "</table>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    func mapSVG(_ page: Page) -> String {
        var svg = "<svg class=\"map\" viewBox=\"0 0 1400 330\" role=\"img\">"
        svg += "<g id=\"mapLinks\"></g>"
        for host in page.hosts {
            let x = host.x - 150, y = host.y - 50
            svg += "<g class=\"host\" data-host=\"\(Self.escape(host.name))\">"
            svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"300\" height=\"100\" rx=\"12\"/>"
            svg += "<text class=\"hname\" x=\"\(host.x)\" y=\"\(host.y - 16)\">\(Self.escape(host.name))</text>"
            svg += "<text class=\"haddr\" x=\"\(host.x)\" y=\"\(host.y + 12)\">\(Self.escape(host.address))</text>"
            svg += "<text class=\"hrole\" x=\"\(host.x)\" y=\"\(host.y + 38)\"><tspan lang=\"en\">\(Self.escape(host.role.en))</tspan><tspan lang=\"fr\">\(Self.escape(host.role.fr))</tspan></text>"
            svg += "<text class=\"hdown\" x=\"\(host.x + 140)\" y=\"\(host.y - 30)\"><tspan lang=\"en\">DOWN</tspan><tspan lang=\"fr\">ARRÊTÉ</tspan></text>"
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    /// One step's diagram: a lane per host, a row per arrow; the script reveals rows in order.
    func sequenceSVG(_ step: Step) -> String {
        let lane = max(220, min(520, 1300 / max(step.lanes.count, 1)))
        let left = 150
        let notes = step.facts.isEmpty ? 0 : 330
        let lanesRight = left + lane * step.lanes.count
        let width = lanesRight + notes
        let row = 46
        let top = 70
        let height = top + row * step.arrows.count + 20
        func center(_ name: String) -> Int { left + (step.lanes.firstIndex(of: name) ?? 0) * lane + lane / 2 }
        var svg = "<svg class=\"seq\" data-step=\"\(step.number)\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\">"
        for name in step.lanes {
            let x = center(name)
            let shown = name.count > 26 ? String(name.prefix(25)) + "…" : name
            svg += "<g class=\"lane\"><rect x=\"\(x - lane / 2 + 8)\" y=\"6\" width=\"\(lane - 16)\" height=\"44\" rx=\"8\"/>"
            svg += "<text x=\"\(x)\" y=\"36\">\(Self.escape(shown))</text>"
            svg += "<line x1=\"\(x)\" y1=\"50\" x2=\"\(x)\" y2=\"\(height - 6)\"/></g>"
        }
        let first = step.arrows.first?.time ?? 0
        for (index, arrow) in step.arrows.enumerated() {
            let y = top + index * row + row / 2
            let x1 = center(arrow.from), x2 = center(arrow.to)
            let direction = x2 >= x1 ? 1 : -1
            let classes = "arrow k-\(arrow.kind)" + (arrow.encrypted ? " enc" : "")
            let offset = "\(VirtualTime(microseconds: arrow.time - first))"
            svg += "<g class=\"\(classes)\" data-i=\"\(index)\" data-c=\"\(arrow.connection)\" tabindex=\"0\">"
            svg += "<rect class=\"hit\" x=\"\(min(x1, x2) - 10)\" y=\"\(y - row / 2)\" width=\"\(abs(x2 - x1) + 20)\" height=\"\(row)\"/>"
            svg += "<text class=\"time\" x=\"8\" y=\"\(y + 6)\">\(Self.escape(offset))</text>"
            if x1 == x2 {
                svg += "<path d=\"M\(x1) \(y - 10) h40 v20 h-40\"/>"
                svg += "<text class=\"label\" x=\"\(x1 + 50)\" y=\"\(y + 6)\" text-anchor=\"start\">\(Self.escape(arrow.label))</text>"
            } else {
                svg += "<line x1=\"\(x1)\" y1=\"\(y)\" x2=\"\(x2 - direction * 12)\" y2=\"\(y)\"/>"
                svg += "<polygon points=\"\(x2),\(y) \(x2 - direction * 14),\(y - 7) \(x2 - direction * 14),\(y + 7)\"/>"
                svg += "<text class=\"label\" x=\"\((x1 + x2) / 2)\" y=\"\(y - 8)\">\(Self.escape(arrow.label))</text>"
                svg += "<circle class=\"env\" cx=\"\(x1)\" cy=\"\(y)\" r=\"8\" style=\"--dx:\(x2 - x1)px\"/>"
            }
            if let first = arrow.facts.first, first < step.facts.count {
                let fact = step.facts[first]
                let more = arrow.facts.count > 1 ? " +\(arrow.facts.count - 1)" : ""
                svg += "<text class=\"fnote f-\(fact.tone)\" x=\"\(lanesRight + 12)\" y=\"\(y + 6)\">● <tspan lang=\"en\">\(Self.escape(fact.short.en + more))</tspan><tspan lang=\"fr\">\(Self.escape(fact.short.fr + more))</tspan></text>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    static let css = #"""
    :root { --bg:#0b0d12; --fg:#f4f4f4; --dim:#a9b1bd; --accent:#ffd166; --ok:#7bed9f; --ko:#ff6b6b; --tls:#ffd166; --tcp:#8ab4f8; --panel:#161a22; }
    * { box-sizing: border-box; }
    html, body { margin:0; background:var(--bg); color:var(--fg); font: 22px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
    body[data-lang="en"] [lang="fr"], body[data-lang="fr"] [lang="en"] { display:none; }
    header#top { position:sticky; top:0; z-index:5; display:flex; gap:1em; align-items:center; padding:.4em 1em; background:#000; border-bottom:3px solid var(--accent); }
    header .title { font-weight:bold; color:var(--accent); }
    #stepTitle { flex:1; font-size:1.1em; font-weight:bold; }
    nav button { font-size:1em; background:#222; color:var(--fg); border:2px solid var(--dim); border-radius:8px; padding:.15em .6em; cursor:pointer; }
    nav button:focus { outline:3px solid var(--accent); }
    main { padding: .5em 1em 3em; }
    h2 { margin:.3em 0; font-size:1.3em; }
    h2 .num { color:var(--accent); } h2 .at { color:var(--dim); font-weight:normal; font-size:.8em; }
    .narration p { margin:.3em 0; max-width:70em; }
    .checks { list-style:none; padding-left:.5em; } .checks .ok { color:var(--ok); } .checks .ko { color:var(--ko); } .checks .todo { color:var(--accent); }
    .error { color:var(--ko); font-weight:bold; } .legend { color:var(--dim); font-size:.8em; margin:.2em 0; } .task { color:var(--accent); }
    svg.map { width:100%; max-height:27vh; background:var(--panel); border-radius:12px; }
    .host rect { fill:#1f2633; stroke:var(--tcp); stroke-width:3; }
    .host text { fill:var(--fg); text-anchor:middle; } .host .hname { font-size:26px; font-weight:bold; } .host .haddr { font-size:21px; fill:var(--dim); font-family:"DejaVu Sans Mono", monospace; } .host .hrole { font-size:20px; fill:var(--accent); }
    .host .hdown { display:none; fill:var(--ko); font-size:22px; font-weight:bold; text-anchor:end; }
    .host.down rect { fill:#2a1111; stroke:var(--ko); stroke-dasharray:10 6; } .host.down .hdown { display:inline; } .host.down .hname { fill:var(--dim); }
    .host.active rect { stroke:var(--accent); stroke-width:5; }
    #mapLinks line { stroke:var(--accent); stroke-width:4; } #mapLinks line.part { stroke:var(--ko); stroke-width:5; stroke-dasharray:14 8; } #mapLinks text { fill:var(--ko); font-size:34px; font-weight:bold; text-anchor:middle; }
    svg.seq { display:block; max-width:100%; height:auto; margin-top:.6em; background:var(--panel); border-radius:12px; }
    .lane rect { fill:#1f2633; stroke:var(--tcp); stroke-width:2; } .lane text { fill:var(--fg); font-size:22px; font-weight:bold; text-anchor:middle; } .lane line { stroke:#566; stroke-width:2; stroke-dasharray:6 6; }
    .arrow { cursor:pointer; transition:opacity .3s; } .arrow .hit { fill:transparent; } .arrow:hover .hit, .arrow.sel .hit { fill:#ffffff18; }
    .arrow line, .arrow path { stroke:var(--fg); stroke-width:3; fill:none; } .arrow polygon { fill:var(--fg); }
    .arrow .label { fill:var(--fg); font-size:22px; text-anchor:middle; font-family:"DejaVu Sans Mono", monospace; }
    .arrow .time { fill:var(--dim); font-size:18px; font-family:"DejaVu Sans Mono", monospace; }
    .arrow.k-tcp line, .arrow.k-tcp path { stroke:var(--tcp); stroke-width:2; } .arrow.k-tcp polygon { fill:var(--tcp); } .arrow.k-tcp .label { fill:var(--tcp); font-size:19px; }
    .arrow.enc line { stroke:var(--tls); stroke-width:4; stroke-dasharray:12 5; } .arrow.enc polygon { fill:var(--tls); } .arrow.enc .label { fill:var(--tls); }
    .arrow.k-fail line, .arrow.k-fail path { stroke:var(--ko); } .arrow.k-fail polygon { fill:var(--ko); } .arrow.k-fail .label { fill:var(--ko); font-weight:bold; }
    .arrow.pending { opacity:0; } .arrow .env { fill:var(--accent); opacity:0; }
    .arrow.flying .env { opacity:1; transform:translateX(var(--dx)); transition:transform .45s ease-in-out; }
    aside#detail { position:fixed; right:0; top:3.2em; bottom:2.4em; width:min(46em, 60vw); overflow:auto; background:#000; border-left:4px solid var(--accent); padding:1em; z-index:6; }
    aside#detail h3 { margin:.2em 0; color:var(--accent); } aside#detail pre { white-space:pre-wrap; word-break:break-all; background:var(--panel); padding:.5em; font: 20px/1.35 "DejaVu Sans Mono", monospace; }
    aside#detail table { border-collapse:collapse; font-size:.9em; } aside#detail td, aside#detail th { border:1px solid #444; padding:.1em .5em; text-align:left; }
    .hexbtn { font-size:.8em; padding:.2em .6em; margin:.4em 0; } #closeDetail { float:right; font-size:1.4em; background:none; color:var(--fg); border:none; cursor:pointer; }
    .facthead { margin:.6em 0 .2em; font-size:1em; color:var(--dim); }
    ul.facts { list-style:none; padding-left:.3em; margin:.2em 0; font-size:.85em; } ul.facts li { margin:.1em 0; }
    .facts .fat, .facts .fwho { color:var(--dim); font-family:"DejaVu Sans Mono", monospace; font-size:.9em; }
    .f-ok { color:var(--ok); } .f-ko { color:var(--ko); } .f-info { color:var(--fg); }
    .fnote { font-size:19px; } .fnote.f-ok { fill:var(--ok); } .fnote.f-ko { fill:var(--ko); } .fnote.f-info { fill:var(--dim); }
    table.conns { border-collapse:collapse; margin:.6em 0; font-size:.75em; } table.conns td, table.conns th { border:1px solid #444; padding:.1em .5em; text-align:left; }
    #liveStatus { font-weight:bold; } #liveStatus.on { color:var(--ko); } #liveStatus.off { color:var(--dim); }
    #summary { color:var(--dim); margin:.3em 0; } #agentFacts { margin:.3em 0; }
    section.live { border-top:2px solid #333; padding-top:.3em; margin-top:.5em; } section.live.ended h3 { color:var(--dim); }
    section.live h3 { margin:.2em 0; font-size:1em; } section.live .stats { color:var(--dim); font-size:.8em; font-weight:normal; }
    footer { position:fixed; bottom:0; left:0; right:0; background:#000; color:var(--dim); padding:.2em 1em; font-size:.8em; border-top:1px solid #333; }
    """#

    static let script = #"""
    (function () {
      "use strict";
      var data = JSON.parse(document.getElementById("replay-data").textContent);
      var body = document.body;
      var svgNS = document.querySelector("svg").namespaceURI;  // (no URL written in the page)
      function t(text) { return text[body.getAttribute("data-lang")] || text.en; }
      function el(tag, attrs, text) {
        var e = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (text !== undefined) e.textContent = text;
        return e;
      }
      function sv(tag, attrs, text) {
        var e = document.createElementNS(svgNS, tag);
        Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (text !== undefined) e.textContent = text;
        return e;
      }
      function both(fr, en) { var s = el("span"); s.appendChild(el("span", {lang: "en"}, en)); s.appendChild(el("span", {lang: "fr"}, fr)); return s; }
      function hexDump(hex) {
        var out = [];
        for (var i = 0; i < hex.length; i += 32) {
          var chunk = hex.slice(i, i + 32), bytes = chunk.match(/../g) || [], ascii = "";
          bytes.forEach(function (b) { var c = parseInt(b, 16); ascii += c >= 32 && c < 127 ? String.fromCharCode(c) : "."; });
          out.push(("0000" + (i / 2).toString(16)).slice(-4) + "  " + bytes.join(" ") + "  " + ascii);
        }
        return out.join("\n");
      }
      function factItem(f) {
        var li = el("li", {"class": "f-" + f.tone, "data-kind": f.kind});
        li.appendChild(el("span", {"class": "fat"}, f.at + " "));
        var who = (f.session ? "#" + f.session + " " : "") + f.host + " (" + f.role + (f.tls ? ", TLS" : "") + ") ";
        li.appendChild(el("span", {"class": "fwho"}, who));
        li.appendChild(both(f.text.fr, f.text.en));
        return li;
      }
      /// The byte panel of one arrow, with the facts the engines reported with it.
      function showArrow(a, facts) {
        var box = document.getElementById("detailBody");
        box.textContent = "";
        box.appendChild(el("h3", {}, "#" + a.connection + "  " + a.from + " → " + a.to + "  " + a.at));
        box.appendChild(el("p", {"class": "dlabel"}, a.label));
        if (a.note) box.appendChild(el("p", {}, t(a.note)));
        if (facts && facts.length) {
          box.appendChild(el("h3", {}, t({fr: "Ce que le moteur a rapporté (journal des faits)", en: "What the engine reported (the fact journal)"})));
          var list = el("ul", {"class": "facts"});
          facts.forEach(function (f) { list.appendChild(factItem(f)); });
          box.appendChild(list);
        }
        if (a.plain !== undefined && a.plain !== null) {
          box.appendChild(el("h3", {}, t(a.encrypted
            ? {fr: "Dedans (ce que l'application a écrit, " + a.plainBytes + " octets) — chiffré sur le fil", en: "Inside (what the application wrote, " + a.plainBytes + " bytes) — encrypted on the wire"}
            : {fr: "Texte clair (" + a.plainBytes + " octets, tel quel sur le fil)", en: "Plaintext (" + a.plainBytes + " bytes, as is on the wire)"})));
          box.appendChild(el("pre", {"class": "plain"}, a.plain));
        }
        if (a.wire && a.wire.length) {
          box.appendChild(el("h3", {}, t({fr: "Sur le fil : " + a.wireBytes + " octets", en: "On the wire: " + a.wireBytes + " bytes"})));
          var table = el("table", {"class": "records"});
          var head = el("tr"); head.appendChild(el("th", {}, t({fr: "enregistrement", en: "record"}))); head.appendChild(el("th", {}, t({fr: "octets", en: "bytes"})));
          table.appendChild(head);
          a.wire.forEach(function (r) { var tr = el("tr"); tr.appendChild(el("td", {}, r.type)); tr.appendChild(el("td", {}, String(r.length))); table.appendChild(tr); });
          box.appendChild(table);
          if (a.encrypted) box.appendChild(el("p", {}, t({fr: "Un espion ne voit que ces enregistrements chiffrés : leur type, leur taille, pas leur contenu.", en: "An eavesdropper sees only these encrypted records: their type and size, not their content."})));
        }
        var hex = a.wireHex || a.plainHex;
        if (hex) {
          var button = el("button", {"class": "hexbtn"}, t({fr: "octets en hexadécimal", en: "bytes in hex"}));
          var pre = el("pre", {"class": "hex"}, hexDump(hex) + (hex.length / 2 < (a.wireHex ? a.wireBytes : a.plainBytes) ? "\n…" : ""));
          pre.hidden = true;
          button.addEventListener("click", function () { pre.hidden = !pre.hidden; });
          box.appendChild(button); box.appendChild(pre);
        }
        document.getElementById("detail").hidden = false;
      }
      function toggleLang() { body.setAttribute("data-lang", body.getAttribute("data-lang") === "fr" ? "en" : "fr"); document.documentElement.lang = body.getAttribute("data-lang"); }
      function fullScreen() { if (document.fullscreenElement) document.exitFullscreen(); else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen(); }
      document.getElementById("closeDetail").addEventListener("click", function () { document.getElementById("detail").hidden = true; });
      document.getElementById("lang").addEventListener("click", toggleLang);
      document.getElementById("full").addEventListener("click", fullScreen);
      /// The map: hosts, clients on the top row, servers below; `active` names the hosts talking,
      /// `links` the pairs to draw, `parts` the partitions.
      function drawMap(hosts, active, links, parts) {
        var svg = document.getElementById("map");
        if (!svg) return {};
        while (svg.firstChild) svg.removeChild(svg.firstChild);
        var rows = [hosts.filter(function (h) { return !h.server; }), hosts.filter(function (h) { return h.server; })], pos = {};
        rows.forEach(function (list, row) {
          var spacing = 1400 / Math.max(list.length, 1);
          list.forEach(function (h, i) { pos[h.name] = {x: Math.round(spacing / 2 + i * spacing), y: 70 + row * 170}; });
        });
        var g0 = sv("g", {id: "mapLinks"});
        svg.appendChild(g0);
        (links || []).forEach(function (pair) {
          var p = pos[pair[0]], q = pos[pair[1]];
          if (p && q && p !== q) g0.appendChild(sv("line", {x1: p.x, y1: p.y, x2: q.x, y2: q.y}));
        });
        (parts || []).forEach(function (pair) {
          var p = pos[pair[0]], q = pos[pair[1]];
          if (!p || !q) return;
          g0.appendChild(sv("line", {x1: p.x, y1: p.y, x2: q.x, y2: q.y, "class": "part"}));
          g0.appendChild(sv("text", {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 + 12}, "✕"));
        });
        var width = Math.min(300, Math.max(150, Math.floor(1400 / Math.max(rows[0].length, rows[1].length, 1)) - 20));
        hosts.forEach(function (h) {
          var p = pos[h.name], cls = "host" + (h.up === false ? " down" : "") + (active && active[h.name] ? " active" : "");
          var g = sv("g", {"class": cls, "data-host": h.name});
          g.appendChild(sv("rect", {x: p.x - width / 2, y: p.y - 50, width: width, height: 100, rx: 12}));
          g.appendChild(sv("text", {"class": "hname", x: p.x, y: p.y - 16}, h.name.length > 24 ? h.name.slice(0, 23) + "…" : h.name));
          g.appendChild(sv("text", {"class": "haddr", x: p.x, y: p.y + 12}, h.address));
          var role = sv("text", {"class": "hrole", x: p.x, y: p.y + 38});
          role.appendChild(sv("tspan", {lang: "en"}, h.role.en)); role.appendChild(sv("tspan", {lang: "fr"}, h.role.fr));
          g.appendChild(role);
          var down = sv("text", {"class": "hdown", x: p.x + width / 2 - 10, y: p.y - 30});
          down.appendChild(sv("tspan", {lang: "en"}, "DOWN")); down.appendChild(sv("tspan", {lang: "fr"}, "ARRÊTÉ"));
          g.appendChild(down);
          svg.appendChild(g);
        });
        return pos;
      }
      if (data.live) { live(); } else { replay(); }

      function replay() {
        var current = 0, playing = false, timers = [];
        var sections = Array.prototype.slice.call(document.querySelectorAll("section.step"));
        var hostsByName = {};
        data.hosts.forEach(function (h) { hostsByName[h.name] = h; });
        function clearTimers() { timers.forEach(clearTimeout); timers = []; }
        function updateMap(step) {
          var down = step ? step.down : [], parts = step ? step.partitions : [], active = {};
          (step ? step.lanes : []).forEach(function (n) { active[n] = true; });
          document.querySelectorAll(".host").forEach(function (g) {
            var name = g.getAttribute("data-host");
            g.classList.toggle("down", down.indexOf(name) >= 0);
            g.classList.toggle("active", !!active[name]);
          });
          var links = document.getElementById("mapLinks");
          while (links.firstChild) links.removeChild(links.firstChild);
          var seen = {};
          function line(a, b, cls) {
            var e = sv("line", {x1: a.x, y1: a.y, x2: b.x, y2: b.y});
            if (cls) e.setAttribute("class", cls);
            links.appendChild(e);
            return e;
          }
          (step ? step.arrows : []).forEach(function (a) {
            var key = [a.from, a.to].sort().join("|");
            if (seen[key] || a.from === a.to) return;
            seen[key] = true;
            var p = hostsByName[a.from], q = hostsByName[a.to];
            if (p && q) line(p, q, "");
          });
          parts.forEach(function (pair) {
            var p = hostsByName[pair[0]], q = hostsByName[pair[1]];
            if (!p || !q) return;
            line(p, q, "part");
            links.appendChild(sv("text", {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 + 12}, "✕"));
          });
        }
        function animate(section, done) {
          clearTimers();
          var arrows = Array.prototype.slice.call(section.querySelectorAll(".arrow"));
          arrows.forEach(function (g) { g.classList.add("pending"); g.classList.remove("flying"); });
          var delay = arrows.length > 60 ? 120 : 420;
          arrows.forEach(function (g, i) {
            timers.push(setTimeout(function () {
              g.classList.remove("pending");
              g.classList.add("flying");
              timers.push(setTimeout(function () { g.classList.remove("flying"); }, 500));
              if (i === arrows.length - 1 && done) timers.push(setTimeout(done, 900));
            }, i * delay));
          });
          if (!arrows.length && done) timers.push(setTimeout(done, 2500));
        }
        function show(index, animateIt) {
          current = Math.max(0, Math.min(sections.length - 1, index));
          sections.forEach(function (s, i) { s.hidden = i !== current; });
          var step = current > 0 ? data.steps[current - 1] : null;
          var title = document.getElementById("stepTitle");
          title.textContent = "";
          if (step) { title.appendChild(el("span", {}, "[" + step.number + "/" + data.steps.length + "] ")); title.appendChild(both(step.label.fr, step.label.en)); }
          updateMap(step);
          if (animateIt !== false) animate(sections[current], playing ? function () { if (current < sections.length - 1) show(current + 1); else setPlaying(false); } : null);
          if (history.replaceState) history.replaceState(null, "", "#step=" + current);
        }
        function setPlaying(on) {
          playing = on;
          document.getElementById("play").textContent = on ? "❚❚" : "▶";
          if (on) show(current < sections.length - 1 && !sections[current].querySelector(".arrow") ? current + 1 : current);
          else clearTimers();
          if (!on) sections[current].querySelectorAll(".arrow").forEach(function (g) { g.classList.remove("pending"); });
        }
        function detail(stepNumber, index) {
          var step = data.steps[stepNumber - 1];
          if (!step || !step.arrows[index]) return;
          document.querySelectorAll(".arrow.sel").forEach(function (g) { g.classList.remove("sel"); });
          var g = document.querySelector('svg.seq[data-step="' + stepNumber + '"] .arrow[data-i="' + index + '"]');
          if (g) g.classList.add("sel");
          var a = step.arrows[index];
          showArrow(a, (a.facts || []).map(function (i) { return step.facts[i]; }).filter(Boolean));
        }
        document.querySelectorAll("svg.seq").forEach(function (svg) {
          var n = Number(svg.getAttribute("data-step"));
          svg.querySelectorAll(".arrow").forEach(function (g) {
            function open() { detail(n, Number(g.getAttribute("data-i"))); }
            g.addEventListener("click", open);
            g.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
          });
        });
        document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
        document.getElementById("next").addEventListener("click", function () { show(current + 1); });
        document.getElementById("play").addEventListener("click", function () { setPlaying(!playing); });
        document.addEventListener("keydown", function (e) {
          if (e.altKey || e.ctrlKey || e.metaKey) return;
          switch (e.key) {
            case "ArrowRight": case "PageDown": show(current + 1); break;
            case "ArrowLeft": case "PageUp": show(current - 1); break;
            case " ": setPlaying(!playing); break;
            case "Home": show(0); break;
            case "End": show(sections.length - 1); break;
            case "f": case "F": fullScreen(); break;
            case "l": case "L": toggleLang(); break;
            case "Escape": document.getElementById("detail").hidden = true; break;
            default: return;
          }
          e.preventDefault();
        });
        var m = /step=(\d+)(?:&arrow=(\d+))?(?:&lang=(fr|en))?/.exec(location.hash);
        if (m && m[3]) body.setAttribute("data-lang", m[3]);
        show(m ? Number(m[1]) : 0, !(m && m[2]));
        if (m && m[2] !== undefined) detail(Number(m[1]), Number(m[2]));
      }

      /// The live view: subscribes to the server's events (same origin) and draws each session
      /// as its arrows and facts arrive; at most `limits.sessions` cards, the older ones counted.
      function live() {
        var hosts = [], sessions = {}, order = [], agentFacts = {}, summary = null, pending = {}, frame = null, lastEvent = {};
        var list = document.getElementById("sessions"), status = document.getElementById("liveStatus");
        var m = /lang=(fr|en)/.exec(location.hash);
        if (m) body.setAttribute("data-lang", m[1]);
        function setStatus(on) {
          status.className = on ? "on" : "off";
          status.textContent = "";
          status.appendChild(on ? both("● EN DIRECT", "● LIVE") : both("○ reconnexion…", "○ reconnecting…"));
        }
        function reset(hello) {
          hosts = hello.hosts || [];
          sessions = {}; order = []; agentFacts = {}; pending = {};
          while (list.firstChild) list.removeChild(list.firstChild);
          var af = document.getElementById("agentFacts");
          while (af.firstChild) af.removeChild(af.firstChild);
          var title = document.getElementById("stepTitle");
          title.textContent = "";
          var tt = hello.title || {fr: "", en: ""};
          title.appendChild(both(tt.fr, tt.en));
          redrawMap();
        }
        function redrawMap() {
          var now = Date.now(), active = {}, links = [];
          order.forEach(function (id) {
            var s = sessions[id];
            if (!s || s.info.summary.closed || now - (lastEvent[id] || 0) > 5000) return;
            active[s.info.summary.client] = active[s.info.summary.server] = true;
            links.push([s.info.summary.client, s.info.summary.server]);
          });
          drawMap(hosts, active, links, []);
        }
        setInterval(redrawMap, 2000);
        function bytes(n) { return n >= 10240 ? Math.round(n / 1024) + " KiB" : n + " B"; }
        function card(id) {
          var s = sessions[id];
          if (s) return s;
          s = sessions[id] = {arrows: [], facts: {}, info: null, node: el("section", {"class": "live", id: "s-" + id})};
          s.head = el("h3"); s.factList = el("ul", {"class": "facts"}); s.svgBox = el("div");
          s.node.appendChild(s.head); s.node.appendChild(s.factList); s.node.appendChild(s.svgBox);
          list.insertBefore(s.node, list.firstChild);
          order.push(id);
          return s;
        }
        function head(id) {
          var s = sessions[id], c = s.info.summary, st = c.stats;
          s.head.textContent = "";
          s.head.appendChild(el("span", {}, "#" + id + " " + c.client + " → " + c.server + ":" + c.port + " " + c.proto.toUpperCase() + (st.tls ? " · TLS" : "") + " · " + c.openedAt + " "));
          var stats = el("span", {"class": "stats"});
          function dir(d) {
            var fr = bytes(st.appBytes[d]) + " écrits, " + bytes(st.wireBytes[d]) + " sur le fil", en = bytes(st.appBytes[d]) + " written, " + bytes(st.wireBytes[d]) + " on the wire";
            if (st.tlsRecords[d]) { fr += ", " + st.tlsRecords[d] + " enregistrements TLS"; en += ", " + st.tlsRecords[d] + " TLS records"; }
            return [fr, en];
          }
          var a = dir(0), b = dir(1);
          stats.appendChild(both("C→S " + a[0] + " · S→C " + b[0] + (c.closed ? " · terminée" : ""), "C→S " + a[1] + " · S→C " + b[1] + (c.closed ? " · ended" : "")));
          s.head.appendChild(stats);
          s.node.classList.toggle("ended", !!c.closed);
        }
        function drawSession(id) {
          var s = sessions[id];
          if (!s) return;
          var arrows = s.arrows.filter(Boolean), lanes = [];
          arrows.forEach(function (a) { [a.from, a.to].forEach(function (n) { if (lanes.indexOf(n) < 0) lanes.push(n); }); });
          var shown = arrows.slice(-60), skipped = arrows.length - shown.length;
          var lane = 420, left = 150, notes = 330, row = 40, top = 64;
          var width = left + lane * Math.max(lanes.length, 1) + notes, height = top + row * shown.length + 12;
          var svg = sv("svg", {"class": "seq", viewBox: "0 0 " + width + " " + height, width: width, height: height});
          function center(n) { return left + lanes.indexOf(n) * lane + lane / 2; }
          lanes.forEach(function (n) {
            var x = center(n), g = sv("g", {"class": "lane"});
            g.appendChild(sv("rect", {x: x - lane / 2 + 8, y: 6, width: lane - 16, height: 44, rx: 8}));
            g.appendChild(sv("text", {x: x, y: 36}, n.length > 26 ? n.slice(0, 25) + "…" : n));
            g.appendChild(sv("line", {x1: x, y1: 50, x2: x, y2: height - 6}));
            svg.appendChild(g);
          });
          var factsByArrow = {};
          Object.keys(s.facts).forEach(function (k) { var f = s.facts[k]; if (f.arrow !== null && f.arrow !== undefined) (factsByArrow[f.arrow] = factsByArrow[f.arrow] || []).push(f); });
          shown.forEach(function (a, i) {
            var index = s.arrows.indexOf(a), y = top + i * row + row / 2, x1 = center(a.from), x2 = center(a.to), dirn = x2 >= x1 ? 1 : -1;
            var g = sv("g", {"class": "arrow k-" + a.kind + (a.encrypted ? " enc" : ""), tabindex: "0", "data-i": index});
            g.appendChild(sv("rect", {"class": "hit", x: Math.min(x1, x2) - 10, y: y - row / 2, width: Math.abs(x2 - x1) + 20, height: row}));
            g.appendChild(sv("text", {"class": "time", x: 8, y: y + 6}, a.at));
            if (x1 === x2) {
              g.appendChild(sv("path", {d: "M" + x1 + " " + (y - 10) + " h40 v20 h-40"}));
              g.appendChild(sv("text", {"class": "label", x: x1 + 50, y: y + 6, "text-anchor": "start"}, a.label));
            } else {
              g.appendChild(sv("line", {x1: x1, y1: y, x2: x2 - dirn * 12, y2: y}));
              g.appendChild(sv("polygon", {points: x2 + "," + y + " " + (x2 - dirn * 14) + "," + (y - 7) + " " + (x2 - dirn * 14) + "," + (y + 7)}));
              g.appendChild(sv("text", {"class": "label", x: (x1 + x2) / 2, y: y - 8}, a.label));
            }
            var fs = factsByArrow[index] || [];
            if (fs.length) {
              var note = sv("text", {"class": "fnote f-" + fs[0].tone, x: left + lane * lanes.length + 12, y: y + 6}, "● ");
              var more = fs.length > 1 ? " +" + (fs.length - 1) : "";
              note.appendChild(sv("tspan", {lang: "en"}, fs[0].short.en + more)); note.appendChild(sv("tspan", {lang: "fr"}, fs[0].short.fr + more));
              g.appendChild(note);
            }
            function open() {
              document.querySelectorAll(".arrow.sel").forEach(function (x) { x.classList.remove("sel"); });
              g.classList.add("sel");
              showArrow(a, fs);
            }
            g.addEventListener("click", open);
            g.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
            svg.appendChild(g);
          });
          s.svgBox.textContent = "";
          if (skipped > 0 || (s.info && s.info.omittedArrows)) {
            var n = skipped + (s.info ? s.info.omittedArrows : 0);
            s.svgBox.appendChild(el("p", {"class": "legend"}, t({fr: n + " flèches plus anciennes de cette session ne sont pas dessinées.", en: n + " earlier arrows of this session are not drawn."})));
          }
          if (shown.length) s.svgBox.appendChild(svg);
        }
        function schedule(id) {
          pending[id] = true;
          lastEvent[id] = Date.now();
          if (frame === null) frame = setTimeout(function () {
            frame = null;
            Object.keys(pending).forEach(function (k) { drawSession(Number(k)); });
            pending = {};
          }, 60);
        }
        function drawSummary() {
          var box = document.getElementById("summary");
          box.textContent = "";
          if (!summary) return;
          var kinds = Object.keys(summary.olderKinds).sort().map(function (k) { return k + " " + summary.olderKinds[k]; }).join(", ");
          var fr = summary.totalSessions + " session(s) vues, " + summary.totalFacts + " fait(s) rapportés ; les " + summary.limits.sessions + " dernières sont dessinées.";
          var en = summary.totalSessions + " session(s) seen, " + summary.totalFacts + " fact(s) reported; the last " + summary.limits.sessions + " are drawn.";
          if (summary.olderSessions) {
            fr += " Plus anciennes : " + summary.olderSessions + " session(s), " + bytes(summary.olderBytes) + ", " + summary.olderFacts + " fait(s)" + (kinds ? " (" + kinds + ")" : "") + ".";
            en += " Older: " + summary.olderSessions + " session(s), " + bytes(summary.olderBytes) + ", " + summary.olderFacts + " fact(s)" + (kinds ? " (" + kinds + ")" : "") + ".";
          }
          box.appendChild(both(fr, en));
        }
        var source = new EventSource("events");
        source.onopen = function () { setStatus(true); };
        source.onerror = function () { setStatus(false); };
        source.addEventListener("hello", function (e) { reset(JSON.parse(e.data)); });
        source.addEventListener("hosts", function (e) { hosts = JSON.parse(e.data); redrawMap(); });
        source.addEventListener("summary", function (e) { summary = JSON.parse(e.data); drawSummary(); });
        source.addEventListener("full", function () {
          source.close();
          status.textContent = "";
          status.appendChild(both("vue pleine : trop de spectateurs", "view full: too many viewers"));
        });
        source.addEventListener("session", function (e) {
          var info = JSON.parse(e.data), id = info.summary.id, s = card(id);
          var fresh = !s.info;
          s.info = info;
          head(id);
          if (fresh) redrawMap();
          schedule(id);
        });
        source.addEventListener("arrow", function (e) {
          var d = JSON.parse(e.data), s = card(d.session);
          s.arrows[d.index] = d.arrow;
          schedule(d.session);
        });
        source.addEventListener("fact", function (e) {
          var f = JSON.parse(e.data).fact;
          if (!f.session) {
            if (agentFacts[f.seq]) return;
            agentFacts[f.seq] = true;
            var af = document.getElementById("agentFacts");
            af.insertBefore(factItem(f), af.firstChild);
            while (af.childNodes.length > 20) af.removeChild(af.lastChild);
            return;
          }
          var s = card(f.session);
          if (s.facts[f.seq]) return;
          s.facts[f.seq] = f;
          s.factList.appendChild(factItem(f));
          schedule(f.session);
        });
        source.addEventListener("drop", function (e) {
          var id = JSON.parse(e.data).session, s = sessions[id];
          if (s && s.node.parentNode) s.node.parentNode.removeChild(s.node);
          delete sessions[id];
          order = order.filter(function (x) { return x !== id; });
        });
        document.addEventListener("keydown", function (e) {
          if (e.altKey || e.ctrlKey || e.metaKey) return;
          switch (e.key) {
            case "f": case "F": fullScreen(); break;
            case "l": case "L": toggleLang(); break;
            case "Escape": document.getElementById("detail").hidden = true; break;
            default: return;
          }
          e.preventDefault();
        });
        setStatus(false);
      }
    })();
    """#
}
