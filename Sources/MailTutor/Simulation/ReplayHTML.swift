import Foundation
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
        var steps: [Step] = []
        for step in session.steps {
            var arrows: [Arrow] = []
            for range in step.tapRanges {
                guard let connection = connections[range.connection] else { continue }
                arrows += Self.arrows(of: connection, range: range.range)
            }
            arrows = arrows.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
            let omitted = max(0, arrows.count - Self.maximumArrowsPerStep)
            arrows = Array(arrows.prefix(Self.maximumArrowsPerStep))
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
                lanes: lanes, arrows: arrows, omitted: omitted))
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
    /// the application with the segments that carried it, TLS records on their own, the end.
    static func arrows(of connection: TapConnection, range: Range<Int>) -> [Arrow] {
        let client = connection.clientHostName
        let server = connection.serverHostName ?? connection.server.address.description
        let port = Int(connection.server.port)
        let proto = ServiceKind.protocolForPort(port) ?? .smtp
        let events = connection.events
        var arrows: [Arrow] = []
        var inData = false
        var continuation = false
        var greeted = connection.events[..<range.lowerBound].contains { if case .appData(.serverToClient, _, _) = $0.kind { return true } else { return false } }
        var synCount = connection.events[..<range.lowerBound].filter { $0.kind == .syn }.count
        /// The arrow that the next segments belong to: the write (or TLS flight) just recorded in
        /// that direction, as long as nothing else happened in between.
        var open: (direction: FlowDirection, arrow: Int)?
        var tlsCarry: [FlowDirection: Int] = [:]
        /// A server reply whose last line so far is not final (`250-…`): the next server write
        /// continues the same arrow.
        var multiline: Int?

        func add(_ direction: FlowDirection, _ time: VirtualTime, _ label: String, _ kind: String,
                 encrypted: Bool = false, note: Text? = nil) {
            let fromClient = direction == .clientToServer
            arrows.append(Arrow(connection: connection.id, time: time.microseconds, at: "\(time)",
                                from: fromClient ? client : server, to: fromClient ? server : client, label: label, kind: kind,
                                encrypted: encrypted, note: note, plain: nil, plainBytes: 0, plainHex: nil, wire: [], wireBytes: 0, wireHex: nil))
        }
        for index in range {
            let event = events[index]
            switch event.kind {
            case let .segment(direction, bytes, encrypted):
                let records = encrypted ? tlsRecords(bytes, carry: &tlsCarry[direction, default: 0])
                                        : [WireRecord(type: "TCP data", length: bytes.count)]
                if let open, open.direction == direction {
                    let target = open.arrow
                    arrows[target].wire += records
                    arrows[target].wireBytes += bytes.count
                    arrows[target].wireHex = appendHex(arrows[target].wireHex, bytes, total: arrows[target].wireBytes - bytes.count)
                } else {
                    let label = encrypted ? "TLS " + tlsLabel(records) : "data \(bytes.count) B"
                    add(direction, event.time, label, encrypted ? "tls" : "data", encrypted: encrypted,
                        note: encrypted ? Text("Enregistrements TLS sans données de l'application (poignée de main, alerte…).",
                                               "TLS records carrying no application data (handshake, alert…).") : nil)
                    arrows[arrows.count - 1].wire = records
                    arrows[arrows.count - 1].wireBytes = bytes.count
                    arrows[arrows.count - 1].wireHex = appendHex(nil, bytes, total: 0)
                    open = (direction, arrows.count - 1)
                }
                continue
            case let .appData(direction, bytes, encrypted):
                if direction == .serverToClient, let target = multiline {
                    arrows[target].plainBytes += bytes.count
                    if let plain = arrows[target].plain, plain.count < maximumShownBytes {
                        arrows[target].plain = plain + visible(Array(bytes.prefix(maximumShownBytes)))
                    }
                    arrows[target].plainHex = appendHex(arrows[target].plainHex, bytes, total: arrows[target].plainBytes - bytes.count)
                    let last = Self.lines(bytes).last ?? ""
                    if proto != .smtp || LearnerSession.isFinalSMTPLine(last) {
                        multiline = nil
                        if let label = ReplayRenderer.replyLabel(last, proto: proto, greeted: true) { arrows[target].label = label }
                    }
                    open = (direction, target)
                    continue
                }
                let lines = Self.lines(bytes)
                var label: String
                var kind = "command"
                if direction == .clientToServer {
                    if inData {
                        label = "message"
                        if bytes.suffix(5) == [13, 10, 46, 13, 10] || bytes == [46, 13, 10] { inData = false; label += " + ." }
                    } else if continuation {
                        continuation = false
                        label = proto == .imap ? "…" : "SASL"
                    } else {
                        // Pipelined commands share one write: `MAIL RCPT DATA`.
                        let verbs = lines.prefix(3).map { ReplayRenderer.commandLabel($0, proto: proto) }
                        label = verbs.isEmpty ? ReplayRenderer.commandLabel("", proto: proto)
                            : verbs.joined(separator: " ") + (lines.count > 3 ? " …" : "")
                    }
                } else {
                    kind = "reply"
                    let last = lines.last ?? ""
                    let finals = lines.compactMap { ReplayRenderer.replyLabel($0, proto: proto, greeted: greeted) }
                    label = finals.count > 1 && proto == .smtp ? finals.suffix(3).joined(separator: " ")
                        : finals.last ?? String(last.prefix(12))
                    greeted = true
                    if proto == .smtp, !LearnerSession.isFinalSMTPLine(last), last.count >= 4 {
                        label = String(last.prefix(3))
                        multiline = arrows.count
                    }
                    if proto == .smtp && label.hasSuffix("354") { inData = true }
                    if label.hasSuffix("334") || label == "+" { continuation = true }
                }
                add(direction, event.time, label, kind, encrypted: encrypted)
                let shown = Array(bytes.prefix(maximumShownBytes))
                arrows[arrows.count - 1].plain = visible(shown) + (bytes.count > shown.count ? "…" : "")
                arrows[arrows.count - 1].plainBytes = bytes.count
                arrows[arrows.count - 1].plainHex = appendHex(nil, bytes, total: 0)
                open = (direction, arrows.count - 1)
                continue
            case .syn:
                synCount += 1
                add(.clientToServer, event.time, synCount == 1 ? "SYN :\(port)" : "SYN #\(synCount)", synCount == 1 ? "tcp" : "fail",
                    note: synCount == 1 ? Text("Le client ouvre une connexion TCP.", "The client opens a TCP connection.")
                        : Text("Retransmission : le SYN précédent est resté sans réponse.", "Retransmission: the previous SYN got no answer."))
            case .synAck: add(.serverToClient, event.time, "SYN/ACK", "tcp")
            case .established: add(.clientToServer, event.time, "ACK", "tcp")
            case .tlsStarted, .tlsEstablished: break
            case let .tlsFailed(side, message):
                add(side == .client ? .clientToServer : .serverToClient, event.time, "× TLS", "fail", note: Text(message, message))
            case let .fin(direction): add(direction, event.time, "FIN", "tcp")
            case let .rst(direction):
                if !events.contains(where: { $0.kind == .refused }) { add(direction, event.time, "RST", "fail") }
            case .refused:
                add(.serverToClient, event.time, "RST", "fail", note: Text("Connexion refusée : aucun service sur ce port.",
                                                                           "Connection refused: no service on that port."))
            case .connectTimedOut:
                add(.clientToServer, event.time, "× timeout", "fail",
                    note: Text("Aucune réponse au SYN : l'hôte est arrêté ou injoignable ; le client abandonne.",
                               "No answer to the SYN: the host is down or unreachable; the client gives up."))
            case let .aborted(cause):
                add(.clientToServer, event.time, "× abort", "fail", note: Text(cause.message(.fr), cause.message(.en)))
            case .truncated:
                add(.clientToServer, event.time, "…", "fail", note: Text("Limite de la capture atteinte.", "Capture limit reached."))
            }
            open = nil
        }
        return arrows
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

    /// Hex of `bytes` appended to `hex` while fewer than ``maximumShownBytes`` bytes are shown.
    static func appendHex(_ hex: String?, _ bytes: [UInt8], total: Int) -> String? {
        let room = maximumShownBytes - total
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

    func both(_ text: Text, block: Bool = false) -> String {
        let tag = block ? "div" : "span"
        func body(_ s: String) -> String {
            block ? ReplayRenderer.reflow(s, width: 10_000).components(separatedBy: "\n\n").map { "<p>\(Self.escape($0))</p>" }.joined()
                  : Self.escape(s)
        }
        return "<\(tag) lang=\"en\">\(body(text.en))</\(tag)><\(tag) lang=\"fr\">\(body(text.fr))</\(tag)>"
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
        let width = left + lane * step.lanes.count
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
    footer { position:fixed; bottom:0; left:0; right:0; background:#000; color:var(--dim); padding:.2em 1em; font-size:.8em; border-top:1px solid #333; }
    """#

    static let script = #"""
    (function () {
      "use strict";
      var data = JSON.parse(document.getElementById("replay-data").textContent);
      var body = document.body, current = 0, playing = false, timers = [];
      var sections = Array.prototype.slice.call(document.querySelectorAll("section.step"));
      var hostsByName = {};
      data.hosts.forEach(function (h) { hostsByName[h.name] = h; });
      function t(text) { return text[body.getAttribute("data-lang")] || text.en; }
      function el(tag, attrs, text) {
        var e = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
        if (text !== undefined) e.textContent = text;
        return e;
      }
      function both(fr, en) { var s = el("span"); s.appendChild(el("span", {lang: "en"}, en)); s.appendChild(el("span", {lang: "fr"}, fr)); return s; }
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
        var svgNS = links.namespaceURI, seen = {};
        function line(a, b, cls) {
          var e = document.createElementNS(svgNS, "line");
          e.setAttribute("x1", a.x); e.setAttribute("y1", a.y); e.setAttribute("x2", b.x); e.setAttribute("y2", b.y);
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
          var x = document.createElementNS(svgNS, "text");
          x.setAttribute("x", (p.x + q.x) / 2); x.setAttribute("y", (p.y + q.y) / 2 + 12); x.textContent = "✕";
          links.appendChild(x);
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
      function hexDump(hex) {
        var out = [];
        for (var i = 0; i < hex.length; i += 32) {
          var chunk = hex.slice(i, i + 32), bytes = chunk.match(/../g) || [], ascii = "";
          bytes.forEach(function (b) { var c = parseInt(b, 16); ascii += c >= 32 && c < 127 ? String.fromCharCode(c) : "."; });
          out.push(("0000" + (i / 2).toString(16)).slice(-4) + "  " + bytes.join(" ") + "  " + ascii);
        }
        return out.join("\n");
      }
      function detail(stepNumber, index) {
        var step = data.steps[stepNumber - 1];
        if (!step || !step.arrows[index]) return;
        var a = step.arrows[index], box = document.getElementById("detailBody");
        document.querySelectorAll(".arrow.sel").forEach(function (g) { g.classList.remove("sel"); });
        var g = document.querySelector('svg.seq[data-step="' + stepNumber + '"] .arrow[data-i="' + index + '"]');
        if (g) g.classList.add("sel");
        box.textContent = "";
        box.appendChild(el("h3", {}, "#" + a.connection + "  " + a.from + " → " + a.to + "  " + a.at));
        box.appendChild(el("p", {"class": "dlabel"}, a.label));
        if (a.note) box.appendChild(el("p", {}, t(a.note)));
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
          var pre = el("pre", {"class": "hex"}, hexDump(hex) + (hex.length / 2 < (a.wireBytes || a.plainBytes) ? "\n…" : ""));
          pre.hidden = true;
          button.addEventListener("click", function () { pre.hidden = !pre.hidden; });
          box.appendChild(button); box.appendChild(pre);
        }
        document.getElementById("detail").hidden = false;
      }
      document.querySelectorAll("svg.seq").forEach(function (svg) {
        var n = Number(svg.getAttribute("data-step"));
        svg.querySelectorAll(".arrow").forEach(function (g) {
          function open() { detail(n, Number(g.getAttribute("data-i"))); }
          g.addEventListener("click", open);
          g.addEventListener("keydown", function (e) { if (e.key === "Enter") open(); });
        });
      });
      document.getElementById("closeDetail").addEventListener("click", function () { document.getElementById("detail").hidden = true; });
      document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
      document.getElementById("next").addEventListener("click", function () { show(current + 1); });
      document.getElementById("play").addEventListener("click", function () { setPlaying(!playing); });
      function toggleLang() { body.setAttribute("data-lang", body.getAttribute("data-lang") === "fr" ? "en" : "fr"); document.documentElement.lang = body.getAttribute("data-lang"); }
      document.getElementById("lang").addEventListener("click", toggleLang);
      function fullScreen() { if (document.fullscreenElement) document.exitFullscreen(); else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen(); }
      document.getElementById("full").addEventListener("click", fullScreen);
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
    })();
    """#
}
