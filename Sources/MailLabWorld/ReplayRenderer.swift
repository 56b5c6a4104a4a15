import MailTutor
import Foundation
import MailSim

/// Shows what crossed the wire during a replay step, fitted to a terminal of `width` columns:
/// the `C:`/`S:` dialogue of each connection (one colour per connection, long lines folded) and
/// a sequence diagram with a lane per host and an arrow per connection opening, command, reply
/// and close. The host that opens the step's first connection gets the left lane; names are
/// abbreviated when the lanes are narrow, and below about ten columns a lane the diagram becomes
/// a compact list (`+0.030s laptop → mail.example.com  STARTTLS`).
///
/// ```
/// at +0.000s (each arrow's time is counted from there)
///                laptop          mail.example.com
///  +0.000s         │──SYN :587──────▶│
///  +0.010s         │◀─────220────────│
/// ```
public struct ReplayRenderer {
    public var color: Bool
    public var language: Language
    /// Host names in the world's order; used only to break ties (lanes follow first appearance).
    public var hostOrder: [String]
    /// Terminal columns; no line the renderer returns is longer (escape sequences aside).
    public var width: Int

    public static let minimumWidth = 40
    public static let maximumWidth = 400
    /// Narrowest lane that still carries readable labels; below it the diagram is a list.
    static let minimumLane = 10
    static let maximumLane = 26

    public init(color: Bool, language: Language = .en, hostOrder: [String], width: Int = 100) {
        self.color = color
        self.language = language
        self.hostOrder = hostOrder
        self.width = min(max(width, Self.minimumWidth), Self.maximumWidth)
    }

    static let palette = ["36", "33", "35", "32", "34", "31", "96", "93", "95", "92"]

    func paint(_ text: String, connection: Int) -> String {
        guard color else { return text }
        let code = Self.palette[(max(connection, 1) - 1) % Self.palette.count]
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private func t(_ fr: String, _ en: String) -> String { language == .fr ? fr : en }

    // MARK: legend

    /// What the symbols of the dialogue and the diagram mean, folded to the width.
    public func legend() -> String {
        let text = t("Légende : C client, S serveur · « ~ » et « * » : envoyé dans TLS (chiffré sur le fil) · "
                        + "× échec (pas de réponse, abandon) · SYN ouvre une connexion, FIN/RST la ferme · ↺ même hôte",
                     "Legend: C client, S server · '~' and '*': sent inside TLS (encrypted on the wire) · "
                        + "× failed (no answer, aborted) · SYN opens a connection, FIN/RST closes it · ↺ same host")
        return Self.wrap(text, width: width, indent: "  ").joined(separator: "\n") + "\n"
    }

    // MARK: dialogue

    /// Every line of the events, grouped under a header each time the connection changes;
    /// lines longer than the width are folded with a `↪` continuation.
    public func dialogue(_ events: [WireEvent]) -> String {
        var out = ""
        var current: Int?
        for event in events {
            if event.connection != current {
                current = event.connection
                let header = "#\(event.connection) \(event.client) → \(event.server):\(event.port)  \(VirtualTime(microseconds: event.time))"
                for line in Self.wrap(header, width: width, indent: "   ") { out += paint(line, connection: event.connection) + "\n" }
            }
            let text: String
            let indent: String
            switch event.kind {
            case .opened: continue
            case let .line(line, fromClient, encrypted):
                text = "  \(fromClient ? "C" : "S")\(encrypted ? "~" : ":") \(Printable.escape(line))"
                indent = "   ↪ "
            default:
                text = "  -- \(describe(event.kind)) --"
                indent = "     "
            }
            for line in Self.wrap(text, width: width, indent: indent, breakAtSpaces: false) {
                out += paint(line, connection: event.connection) + "\n"
            }
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

    // MARK: arrows

    public struct Arrow: Equatable, Sendable {
        public var connection: Int
        public var time: Int64
        public var from: String
        public var to: String
        public var label: String
        /// A failed attempt or a broken connection (`SYN… ×`, `× aborted`, `× TLS`, refused).
        public var failure: Bool
    }

    /// The arrows of the events: one per connection opening, command (DATA content folded into
    /// one arrow), final reply, TLS start and close.
    public func arrows(_ events: [WireEvent]) -> [Arrow] {
        struct State {
            var inData = false
            var dataLines = 0
            var continuation = false
            /// A server reply of this connection has an arrow in these events.
            var replied = false
        }
        let fr = language == .fr
        var states: [Int: State] = [:]
        var arrows: [Arrow] = []
        for event in events {
            var state = states[event.connection] ?? State()
            let proto = ServiceKind.protocolForPort(event.port) ?? .smtp
            func add(fromClient: Bool, _ label: String, failure: Bool = false) {
                arrows.append(Arrow(connection: event.connection, time: event.time,
                                    from: fromClient ? event.client : event.server,
                                    to: fromClient ? event.server : event.client, label: label, failure: failure))
            }
            switch event.kind {
            case .opened: add(fromClient: true, "SYN :\(event.port)")
            case .refused: add(fromClient: false, fr ? "RST (refusée)" : "RST (refused)", failure: true)
            case .timedOut: add(fromClient: true, fr ? "SYN… × sans réponse" : "SYN… × no answer", failure: true)
            case .tlsStarted: add(fromClient: true, fr ? "poignée TLS" : "TLS handshake")
            case let .fin(client): add(fromClient: client, "FIN")
            case let .rst(client): add(fromClient: client, "RST")
            case .aborted: add(fromClient: true, fr ? "× abandon" : "× aborted", failure: true)
            case let .tlsFailed(client, _): add(fromClient: client, "× TLS", failure: true)
            case .truncated: break
            case let .line(line, fromClient, encrypted):
                let lock = encrypted ? "*" : ""
                if fromClient {
                    if state.inData {
                        if line == "." {
                            state.inData = false
                            add(fromClient: true, (fr ? "message \(state.dataLines) lignes + ." : "message \(state.dataLines) lines + .") + lock)
                        } else {
                            state.dataLines += 1
                        }
                    } else if state.continuation {
                        state.continuation = false
                        add(fromClient: true, (fr ? "(réponse)" : "(answer)") + lock)
                    } else {
                        add(fromClient: true, Self.commandLabel(line, proto: proto) + lock)
                    }
                } else if let reply = event.reply, reply.status != .update || !state.replied {
                    // The server's engine said where its reply ends and what it awaits now. News
                    // pushed during IDLE gets an arrow when it is the first the step shows.
                    state.replied = true
                    if reply.status != .update {
                        switch reply.awaiting {
                        case .messageData: state.inData = true; state.dataLines = 0
                        case .saslResponse, .literal, .idleDone: state.continuation = true
                        case .command, .tlsHandshake, .nothing: break
                        }
                    }
                    add(fromClient: false, reply.code + lock)
                }
            }
            states[event.connection] = state
        }
        return arrows
    }

    public static func commandLabel(_ line: String, proto: MailTutor.MailProtocol) -> String {
        let words = line.split(separator: " ").map(String.init)
        let index = proto == .imap ? 1 : 0
        guard words.count > index else { return line.isEmpty ? "(empty line)" : String(line.prefix(12)) }
        var verb = words[index].uppercased()
        if let colon = verb.firstIndex(of: ":") { verb = String(verb[..<colon]) }
        if ["AUTH", "AUTHENTICATE", "UID"].contains(verb), words.count > index + 1 { verb += " " + words[index + 1].uppercased() }
        return String(verb.prefix(20))
    }

    // MARK: lanes and names

    /// Lane order: hosts in order of first appearance in the arrows (the initiator first).
    static func lanes(_ arrows: [Arrow]) -> [String] {
        var names: [String] = []
        for arrow in arrows {
            for name in [arrow.from, arrow.to] where !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// A name at most `room` characters long: itself, else its first DNS label when that is
    /// unique among `names`, else a prefix ending in `…`.
    static func abbreviate(_ name: String, room: Int, among names: [String]) -> String {
        guard name.count > room else { return name }
        let label = String(name.split(separator: ".").first ?? Substring(name))
        let clash = names.contains { $0 != name && String($0.split(separator: ".").first ?? Substring($0)) == label }
        if !clash, label.count <= room, label.count < name.count { return label }
        return String(name.prefix(max(1, room - 1))) + "…"
    }

    // MARK: sequence diagram

    /// The diagram of the events, at most `width` columns; empty when nothing crossed the wire.
    /// Times are offsets from the step's first arrow, whose absolute time heads the diagram.
    public func diagram(_ events: [WireEvent]) -> String {
        let arrows = self.arrows(events)
        guard let first = arrows.first else { return "" }
        let names = Self.lanes(arrows)
        let times: [String] = arrows.map { "\(VirtualTime(microseconds: $0.time - first.time))" }
        let margin = (times.map(\.count).max() ?? 8) + 1
        let lane = min(Self.maximumLane, (width - margin) / max(names.count, 1))
        let start = t("à", "at") + " \(VirtualTime(microseconds: first.time))"
        if lane < Self.minimumLane { return compactList(arrows, names: names, times: times, start: start) }
        let shortNames = names.map { Self.abbreviate($0, room: lane - 1, among: names) }
        func center(_ index: Int) -> Int { index * lane + lane / 2 }
        let total = names.count * lane

        var out = ""
        let abbreviated = zip(shortNames, names).filter { $0 != $1 }.map { "\($0) = \($1)" }
        if !abbreviated.isEmpty {
            for line in Self.wrap(abbreviated.joined(separator: " · "), width: width, indent: "  ") { out += line + "\n" }
        }
        var header = Array(repeating: Character(" "), count: total)
        for (index, name) in shortNames.enumerated() {
            let shown = Array(name)
            let begin = min(max(0, center(index) - shown.count / 2), max(0, total - shown.count))
            for (offset, character) in shown.enumerated() where begin + offset < total { header[begin + offset] = character }
        }
        out += ReplayRenderer.clip(start + t(" (temps de chaque flèche depuis ce début)", " (each arrow's time is counted from there)"), width) + "\n"
        out += String(repeating: " ", count: margin) + String(header).trimmingTrailingSpaces() + "\n"
        for (arrow, time) in zip(arrows, times) {
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
                let room: Int = hi - lo - 5
                if room > 0 {
                    let text = arrow.label.count > room && arrow.failure ? Self.shortFailure(arrow.label) : arrow.label
                    let label: [Character] = Array(Self.clip(text, room))
                    let begin: Int = lo + 2 + (hi - lo - 3 - label.count) / 2
                    for (offset, character) in label.enumerated() { row[begin + offset] = character }
                }
            }
            let prefix = String(repeating: " ", count: margin - 1 - time.count) + time + " "
            out += paint(prefix + String(row).trimmingTrailingSpaces(), connection: arrow.connection) + "\n"
        }
        return out
    }

    /// The arrows as one line each when lanes would be too narrow: `+0.030s laptop → mail  STARTTLS`.
    func compactList(_ arrows: [Arrow], names: [String], times: [String], start: String) -> String {
        let room = max(8, (width - 12) / 3)
        let short = Dictionary(uniqueKeysWithValues: names.map { ($0, Self.abbreviate($0, room: room, among: names)) })
        var out = ""
        let abbreviated = names.filter { short[$0] != $0 }.map { "\(short[$0]!) = \($0)" }
        if !abbreviated.isEmpty {
            for line in Self.wrap(abbreviated.joined(separator: " · "), width: width, indent: "  ") { out += line + "\n" }
        }
        out += start + "\n"
        let margin = (times.map(\.count).max() ?? 8) + 1
        for (arrow, time) in zip(arrows, times) {
            let prefix = String(repeating: " ", count: margin - time.count) + time + " "
            let text = prefix + "\(short[arrow.from]!) → \(short[arrow.to]!)  \(arrow.label)"
            for line in Self.wrap(text, width: width, indent: String(repeating: " ", count: margin + 3)) {
                out += paint(line, connection: arrow.connection) + "\n"
            }
        }
        return out
    }

    /// `SYN… × no answer` → `SYN ×`, `× aborted` → `×`: what still fits in a narrow lane.
    static func shortFailure(_ label: String) -> String {
        label.hasPrefix("SYN") ? "SYN ×" : label.hasPrefix("RST") ? "RST ×" : label.hasPrefix("× TLS") ? "× TLS" : "×"
    }

    // MARK: text layout

    public static func clip(_ text: String, _ room: Int) -> String {
        guard text.count > room else { return text }
        return room <= 1 ? String(text.prefix(room)) : String(text.prefix(room - 1)) + "…"
    }

    /// Folds `text` into lines of at most `width` characters; continuation lines start with
    /// `indent`. Breaks at the last space that fits (unless `breakAtSpaces` is false, for protocol
    /// lines whose spaces matter), else in the middle of a word.
    public static func wrap(_ text: String, width: Int, indent: String = "", breakAtSpaces: Bool = true) -> [String] {
        let width = max(width, indent.count + 8)
        var lines: [String] = []
        var rest = Substring(text)
        var prefix = ""
        while prefix.count + rest.count > width {
            let room = width - prefix.count
            let head = rest.prefix(room)
            var cut = head.endIndex
            if breakAtSpaces, let space = head.lastIndex(of: " "), head.distance(from: head.startIndex, to: space) > room / 3 {
                cut = space
            }
            lines.append(prefix + String(rest[rest.startIndex..<cut]).trimmingTrailingSpaces())
            rest = rest[cut...]
            if breakAtSpaces { rest = rest.drop { $0 == " " } }
            prefix = indent
            if rest.isEmpty { break }
        }
        if !rest.isEmpty || lines.isEmpty { lines.append(prefix + String(rest)) }
        return lines
    }

    /// Narration re-flowed to the width: lines of one paragraph are joined, blank lines kept.
    public static func reflow(_ text: String, width: Int, indent: String = "") -> String {
        var paragraphs: [String] = []
        var current: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if !current.isEmpty { paragraphs.append(current.joined(separator: " ")); current = [] }
            } else {
                current.append(trimmed)
            }
        }
        if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
        return paragraphs.map { wrap(indent + $0, width: width, indent: indent).joined(separator: "\n") }
            .joined(separator: "\n\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
