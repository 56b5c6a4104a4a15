import MailSim

/// Shows what crossed the wire during a replay step: the `C:`/`S:` dialogue of each connection
/// (one colour per connection) and an ASCII sequence diagram with a column per host and an arrow
/// per connection opening, command, reply and close.
///
/// ```
///            alice-laptop       mail.example.com
///  +0.000s        │──connect :587────▶│
///  +0.010s        │◀───────220────────│
///  +0.015s        │───────EHLO───────▶│
/// ```
public struct ReplayRenderer {
    public var color: Bool
    public var language: Language
    /// Host names in the world's order; columns follow it.
    public var hostOrder: [String]

    public init(color: Bool, language: Language = .en, hostOrder: [String]) {
        self.color = color
        self.language = language
        self.hostOrder = hostOrder
    }

    static let palette = ["36", "33", "35", "32", "34", "31", "96", "93", "95", "92"]

    func paint(_ text: String, connection: Int) -> String {
        guard color else { return text }
        let code = Self.palette[(max(connection, 1) - 1) % Self.palette.count]
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    // MARK: dialogue

    /// Every line of the events, grouped under a header each time the connection changes.
    public func dialogue(_ events: [WireEvent]) -> String {
        var out = ""
        var current: Int?
        for event in events {
            if event.connection != current {
                current = event.connection
                let header = "#\(event.connection) \(event.client) → \(event.server):\(event.port)  \(VirtualTime(microseconds: event.time))"
                out += paint(header, connection: event.connection) + "\n"
            }
            let text: String
            switch event.kind {
            case .opened: continue
            case let .line(line, fromClient, encrypted):
                text = "  \(fromClient ? "C" : "S")\(encrypted ? "~" : ":") \(Printable.escape(line))"
            default: text = "  -- \(describe(event.kind)) --"
            }
            out += paint(text, connection: event.connection) + "\n"
        }
        return out
    }

    /// A connection event in words, in the renderer's language.
    func describe(_ kind: WireEvent.Kind) -> String {
        let fr = language == .fr
        func side(_ client: Bool) -> String { client ? (fr ? "du client" : "from the client") : (fr ? "du serveur" : "from the server") }
        switch kind {
        case .opened: return fr ? "connexion" : "connection"
        case .line(let text, _, _): return text
        case .tlsStarted: return fr ? "début de TLS" : "TLS starts"
        case .refused: return fr ? "connexion refusée" : "connection refused"
        case .timedOut: return fr ? "pas de réponse (délai dépassé)" : "no answer (timed out)"
        case let .fin(client): return "FIN " + side(client)
        case let .rst(client): return "RST " + side(client)
        case let .aborted(cause): return (fr ? "abandon : " : "aborted: ") + cause.message(fr ? .fr : .en)
        case let .tlsFailed(client, message):
            return (fr ? "échec TLS côté \(client ? "client" : "serveur") : " : "TLS failed on the \(client ? "client" : "server"): ") + message
        case .truncated: return fr ? "capture tronquée" : "capture truncated"
        }
    }

    // MARK: sequence diagram

    struct Arrow {
        var connection: Int
        var time: Int64
        var from: String
        var to: String
        var label: String
    }

    /// The arrows of the events: one per connection opening, command (DATA content folded into
    /// one arrow), final reply, TLS start and close.
    func arrows(_ events: [WireEvent]) -> [Arrow] {
        struct State {
            var inData = false
            var dataLines = 0
            var continuation = false
            var greeted = false
        }
        var states: [Int: State] = [:]
        var arrows: [Arrow] = []
        for event in events {
            var state = states[event.connection] ?? State()
            let proto = ServiceKind.protocolForPort(event.port) ?? .smtp
            func add(fromClient: Bool, _ label: String) {
                arrows.append(Arrow(connection: event.connection, time: event.time,
                                    from: fromClient ? event.client : event.server,
                                    to: fromClient ? event.server : event.client, label: label))
            }
            switch event.kind {
            case .opened: add(fromClient: true, "SYN :\(event.port)")
            case .refused: add(fromClient: false, "RST (refused)")
            case .timedOut: add(fromClient: true, "SYN… ×")
            case .tlsStarted: add(fromClient: true, "TLS handshake")
            case let .fin(client): add(fromClient: client, "FIN")
            case let .rst(client): add(fromClient: client, "RST")
            case .aborted: add(fromClient: true, "× aborted")
            case let .tlsFailed(client, _): add(fromClient: client, "× TLS")
            case .truncated: break
            case let .line(line, fromClient, encrypted):
                let lock = encrypted ? "*" : ""
                if fromClient {
                    if state.inData {
                        if line == "." {
                            state.inData = false
                            add(fromClient: true, "message \(state.dataLines) lines + ." + lock)
                        } else {
                            state.dataLines += 1
                        }
                    } else if state.continuation {
                        state.continuation = false
                        add(fromClient: true, "(answer)" + lock)
                    } else {
                        add(fromClient: true, Self.commandLabel(line, proto: proto) + lock)
                    }
                } else if let label = Self.replyLabel(line, proto: proto, greeted: state.greeted) {
                    state.greeted = true
                    if proto == .smtp && label == "354" { state.inData = true; state.dataLines = 0 }
                    if label == "334" || label == "+" { state.continuation = true }
                    add(fromClient: false, label + lock)
                }
            }
            states[event.connection] = state
        }
        return arrows
    }

    static func commandLabel(_ line: String, proto: MailProtocol) -> String {
        let words = line.split(separator: " ").map(String.init)
        let index = proto == .imap ? 1 : 0
        guard words.count > index else { return line.isEmpty ? "(empty line)" : String(line.prefix(12)) }
        var verb = words[index].uppercased()
        if let colon = verb.firstIndex(of: ":") { verb = String(verb[..<colon]) }
        if ["AUTH", "AUTHENTICATE", "UID"].contains(verb), words.count > index + 1 { verb += " " + words[index + 1].uppercased() }
        return String(verb.prefix(20))
    }

    /// The label of a server line worth an arrow, nil for continuation and listing lines.
    static func replyLabel(_ line: String, proto: MailProtocol, greeted: Bool) -> String? {
        switch proto {
        case .smtp, .dns:
            guard LearnerSession.isFinalSMTPLine(line) else { return nil }
            return String(line.prefix(3))
        case .pop3:
            let first = line.split(separator: " ").first.map(String.init) ?? line
            if ["+OK", "-ERR"].contains(first.uppercased()) { return first.uppercased() }
            if line == "+" || line.hasPrefix("+ ") { return "+" }
            return nil
        case .imap:
            let words = line.split(separator: " ").map(String.init)
            guard let first = words.first else { return nil }
            if first == "+" { return "+" }
            if first == "*" {
                guard words.count > 1 else { return nil }
                let status = words[1].uppercased()
                if !greeted || status == "BYE" { return "* " + status }
                return nil
            }
            return words.count > 1 ? words[1].uppercased() : nil
        }
    }

    /// The diagram of the events; empty when nothing crossed the wire.
    public func diagram(_ events: [WireEvent]) -> String {
        let arrows = self.arrows(events)
        guard !arrows.isEmpty else { return "" }
        var names: [String] = []
        for name in hostOrder where arrows.contains(where: { $0.from == name || $0.to == name }) { names.append(name) }
        for arrow in arrows {
            for name in [arrow.from, arrow.to] where !names.contains(name) { names.append(name) }
        }
        let width = min(28, max(16, (names.map(\.count).max() ?? 10) + 4))
        let margin = 11
        func center(_ index: Int) -> Int { index * width + width / 2 }
        let total = names.count * width

        var header = Array(repeating: Character(" "), count: total)
        for (index, name) in names.enumerated() {
            let shown = Array(name.prefix(width - 1))
            let start = max(0, center(index) - shown.count / 2)
            for (offset, character) in shown.enumerated() where start + offset < total { header[start + offset] = character }
        }
        var out = String(repeating: " ", count: margin) + String(header).trimmingTrailingSpaces() + "\n"
        for arrow in arrows {
            guard let from = names.firstIndex(of: arrow.from), let to = names.firstIndex(of: arrow.to) else { continue }
            var row = Array(repeating: Character(" "), count: total)
            for index in names.indices { row[center(index)] = "│" }
            let lo = min(center(from), center(to)), hi = max(center(from), center(to))
            if lo == hi {
                let note = Array(" ↺ " + arrow.label)
                for (offset, character) in note.enumerated() where lo + 1 + offset < total { row[lo + 1 + offset] = character }
            } else {
                for x in (lo + 1)..<hi { row[x] = "─" }
                if center(to) > center(from) { row[hi - 1] = "▶" } else { row[lo + 1] = "◀" }
                let room = hi - lo - 5
                if room > 0 {
                    let label = Array(arrow.label.prefix(room))
                    let start = lo + 2 + (hi - lo - 3 - label.count) / 2
                    for (offset, character) in label.enumerated() { row[start + offset] = character }
                }
            }
            let time = "\(VirtualTime(microseconds: arrow.time))"
            let prefix = time.count < margin - 1 ? String(repeating: " ", count: margin - 1 - time.count) + time + " " : time + " "
            out += paint(prefix + String(row).trimmingTrailingSpaces(), connection: arrow.connection) + "\n"
        }
        return out
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
