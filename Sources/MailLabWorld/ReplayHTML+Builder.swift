import MailTutor
import Foundation
import MailCore
import MailSim

extension ReplayHTML {
    /// What crossed one connection, per direction: the application's bytes (plaintext), the
    /// bytes on the wire (ciphertext once TLS runs) and the TLS records among them.
    struct ConnectionStats: Codable, Equatable {
        /// Index 0: client → server, 1: server → client.
        var appBytes = [0, 0]
        var wireBytes = [0, 0]
        var segments = [0, 0]
        var tlsRecords = [0, 0]
        /// Bytes of TLS records carrying application data (type 23), per direction.
        var tlsApplicationBytes = [0, 0]
        var tls = false
    }

    /// One connection of a step (or of the live view): who, which port, how much in each direction.
    struct ConnectionSummary: Codable, Equatable {
        var id: Int
        var client: String
        var server: String
        var port: Int
        var proto: String
        var openedAt: String
        var stats: ConnectionStats
        var closed: Bool
    }

    /// Turns a connection's tap events into arrows, incrementally: ``feed(_:refused:)`` takes the
    /// events recorded since the last call, and ``takeChanged()`` says which arrows are new or
    /// changed (a write's later segments, the rest of a multi-line reply extend the arrow before).
    ///
    /// Where a server reply ends, its code and what the server awaits next come from the server
    /// engine's reports (`ServerReply`, given with ``expect(_:)``), matched to the server's
    /// octets; a command's label is the first word the client wrote; everything else is the tap's
    /// record: bytes, TLS records, SYN, FIN, RST, timeouts.
    struct ArrowBuilder {
        let connectionID: Int
        let client: String
        let server: String
        let port: Int
        let proto: MailProtocol
        /// At most this many bytes of plaintext and of hex are kept per arrow.
        let shownBytes: Int
        /// Makes what the client wrote safe to show (credentials masked); nil shows it as is. For
        /// a server write it is given the replies the write completes (what the server awaits).
        var redact: ReplayLiveFeed.ByteRedaction?
        /// Plaintext wire segments carry what the application wrote: with `redact`, their hex is not kept.
        var hidePlainWireHex: Bool { redact != nil }
        /// At most this many arrows; later events are only counted (``omitted``).
        let maximumArrows: Int

        private(set) var arrows: [Arrow] = []
        private(set) var omitted = 0
        private(set) var stats = ConnectionStats()
        private(set) var closed = false
        private var inData = false
        private var continuation = false
        private var synCount = 0
        /// The server's replies against the server octets fed so far.
        private var replies = ReplyTracker()
        /// The arrow that the next segments belong to: the write (or TLS flight) just recorded
        /// in that direction, as long as nothing else happened in between.
        private var open: (direction: FlowDirection, arrow: Int)?
        private var tlsCarry: [FlowDirection: Int] = [:]
        /// A server reply whose last line so far is not final (`250-…`): the next server write
        /// continues the same arrow.
        private var multiline: Int?
        /// Lowest arrow index changed since ``takeChanged()``.
        private var changedFrom: Int?
        private var redactedArrows: Set<Int> = []

        init(connection: TapConnection, replies: [ServerReply] = [], shownBytes: Int = ReplayHTML.maximumShownBytes,
             maximumArrows: Int = Int.max, redact: ReplayLiveFeed.ByteRedaction? = nil) {
            for reply in replies { self.replies.expect(reply) }
            connectionID = connection.id
            client = connection.clientHostName
            server = connection.serverHostName ?? connection.server.address.description
            port = Int(connection.server.port)
            proto = ServiceKind.protocolForPort(port) ?? .smtp
            self.shownBytes = shownBytes
            self.maximumArrows = maximumArrows
            self.redact = redact
        }

        /// The summary of the connection so far.
        func summary(openedAt: VirtualTime) -> ConnectionSummary {
            ConnectionSummary(id: connectionID, client: client, server: server, port: port, proto: proto.rawValue,
                              openedAt: "\(openedAt)", stats: stats, closed: closed)
        }

        /// Indices of the arrows new or changed since the last call.
        mutating func takeChanged() -> Range<Int> {
            defer { changedFrom = nil }
            guard let from = changedFrom else { return arrows.count..<arrows.count }
            return min(from, arrows.count)..<arrows.count
        }

        private mutating func touch(_ index: Int) { changedFrom = min(changedFrom ?? index, index) }

        /// More replies the server reported on this connection, in order.
        mutating func expect(_ reply: ServerReply) { replies.expect(reply) }

        /// Counts `octets` more server octets; the replies they complete.
        private mutating func serverReplies(_ octets: Int) -> [ServerReply] {
            replies.advance(by: octets)
            return replies.completed()
        }

        /// What the server awaits after `reply`: the client's next write is the message, or an
        /// answer to a continuation.
        private mutating func follow(_ reply: ServerReply) {
            switch reply.awaiting {
            case .messageData: inData = true
            case .saslResponse, .literal, .idleDone: continuation = true
            case .command, .tlsHandshake, .nothing: break
            }
        }

        /// Takes the context of events shown before (the server's octets, the SYNs sent) without
        /// making arrows for them.
        mutating func skip(_ events: ArraySlice<TapEvent>) {
            for event in events {
                switch event.kind {
                case let .appData(.serverToClient, bytes, _): _ = serverReplies(bytes.count)
                case .syn: synCount += 1
                default: break
                }
            }
        }

        private mutating func add(_ direction: FlowDirection, _ time: VirtualTime, _ label: String, _ kind: String,
                                  encrypted: Bool = false, note: Text? = nil) -> Bool {
            guard arrows.count < maximumArrows else {
                omitted += 1
                open = nil
                multiline = nil
                return false
            }
            let fromClient = direction == .clientToServer
            arrows.append(Arrow(connection: connectionID, time: time.microseconds, at: "\(time)",
                                from: fromClient ? client : server, to: fromClient ? server : client, label: label, kind: kind,
                                encrypted: encrypted, note: note, plain: nil, plainBytes: 0, plainHex: nil, wire: [], wireBytes: 0,
                                wireHex: nil))
            touch(arrows.count - 1)
            return true
        }

        /// Adds the arrows of `events`; `refused` says whether the connection was refused (its
        /// RST is then the refusal's, not an arrow of its own).
        mutating func feed(_ events: ArraySlice<TapEvent>, refused: Bool) {
            for event in events { feed(event, refused: refused) }
        }

        mutating func feed(_ event: TapEvent, refused: Bool) {
            switch event.kind {
            case let .segment(direction, bytes, encrypted):
                let d = direction == .clientToServer ? 0 : 1
                stats.wireBytes[d] += bytes.count
                stats.segments[d] += 1
                let records = encrypted ? ReplayHTML.tlsRecords(bytes, carry: &tlsCarry[direction, default: 0])
                                        : [WireRecord(type: "TCP data", length: bytes.count)]
                if encrypted {
                    stats.tls = true
                    for record in records where !record.type.hasPrefix("(") {
                        stats.tlsRecords[d] += 1
                        if record.type == "ApplicationData" { stats.tlsApplicationBytes[d] += record.length }
                    }
                }
                let keepHex = encrypted || !hidePlainWireHex
                if let open, open.direction == direction {
                    let target = open.arrow
                    arrows[target].wire += records
                    arrows[target].wireBytes += bytes.count
                    if keepHex && !redactedArrows.contains(target) {
                        arrows[target].wireHex = ReplayHTML.appendHex(arrows[target].wireHex, bytes, total: arrows[target].wireBytes - bytes.count,
                                                                      limit: shownBytes)
                    }
                    touch(target)
                } else {
                    let label = encrypted ? "TLS " + ReplayHTML.tlsLabel(records) : "data \(bytes.count) B"
                    guard add(direction, event.time, label, encrypted ? "tls" : "data", encrypted: encrypted,
                              note: encrypted ? Text("Enregistrements TLS sans données de l'application (poignée de main, alerte…).",
                                                     "TLS records carrying no application data (handshake, alert…).") : nil) else { return }
                    let last = arrows.count - 1
                    arrows[last].wire = records
                    arrows[last].wireBytes = bytes.count
                    if keepHex { arrows[last].wireHex = ReplayHTML.appendHex(nil, bytes, total: 0, limit: shownBytes) }
                    open = (direction, last)
                }
                return
            case let .appData(direction, bytes, encrypted):
                let fromClient = direction == .clientToServer
                stats.appBytes[fromClient ? 0 : 1] += bytes.count
                let completed = fromClient ? [] : serverReplies(bytes.count)
                let shown = redact.map { $0(fromClient, bytes, completed) } ?? bytes
                let redacted = shown != bytes
                // News pushed during IDLE answers nothing: its write is labelled by its text.
                let ended = completed.filter { $0.status != .update }
                if direction == .serverToClient, let target = multiline {
                    arrows[target].plainBytes += bytes.count
                    if let plain = arrows[target].plain, plain.count < shownBytes {
                        arrows[target].plain = plain + ReplayHTML.visible(Array(shown.prefix(shownBytes)))
                    }
                    arrows[target].plainHex = ReplayHTML.appendHex(arrows[target].plainHex, bytes, total: arrows[target].plainBytes - bytes.count,
                                                                   limit: shownBytes)
                    if proto != .smtp || !ended.isEmpty {
                        multiline = nil
                        if let reply = ended.last {
                            arrows[target].label = reply.code
                            follow(reply)
                        }
                    }
                    open = (direction, target)
                    touch(target)
                    return
                }
                let lines = ReplayHTML.lines(bytes)
                var label: String
                var kind = "command"
                if fromClient {
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
                    // Pipelined replies share one write: `250 250 354`.
                    label = ended.count > 1 && proto == .smtp ? ended.suffix(3).map(\.code).joined(separator: " ")
                        : ended.last?.code ?? String(last.prefix(12))
                    if proto == .smtp, ended.last?.end != replies.seen, last.count >= 4 {
                        // The reply goes on in the next write: the arrow waits for its end.
                        label = String(last.prefix(3))
                        multiline = arrows.count
                    }
                    if let reply = ended.last { follow(reply) }
                }
                guard add(direction, event.time, label, kind, encrypted: encrypted) else { return }
                let last = arrows.count - 1
                let visibleBytes = Array(shown.prefix(shownBytes))
                arrows[last].plain = ReplayHTML.visible(visibleBytes) + (shown.count > visibleBytes.count ? "…" : "")
                arrows[last].plainBytes = bytes.count
                if redacted {
                    redactedArrows.insert(last)
                    arrows[last].note = Text("Identifiants masqués (****) : la vue en direct ne montre pas les mots de passe des clients réels.",
                                             "Credentials masked (****): the live view does not show the real clients' passwords.")
                } else {
                    arrows[last].plainHex = ReplayHTML.appendHex(nil, bytes, total: 0, limit: shownBytes)
                }
                open = (direction, last)
                return
            case .syn:
                synCount += 1
                _ = add(.clientToServer, event.time, synCount == 1 ? "SYN :\(port)" : "SYN #\(synCount)", synCount == 1 ? "tcp" : "fail",
                        note: synCount == 1 ? Text("Le client ouvre une connexion TCP.", "The client opens a TCP connection.")
                            : Text("Retransmission : le SYN précédent est resté sans réponse.", "Retransmission: the previous SYN got no answer."))
            case .synAck: _ = add(.serverToClient, event.time, "SYN/ACK", "tcp")
            case .established: _ = add(.clientToServer, event.time, "ACK", "tcp")
            case .tlsStarted, .tlsEstablished: break
            case let .tlsFailed(side, message):
                _ = add(side == .client ? .clientToServer : .serverToClient, event.time, "× TLS", "fail", note: Text(message, message))
            case let .fin(direction): _ = add(direction, event.time, "FIN", "tcp")
            case let .rst(direction):
                closed = true
                if !refused { _ = add(direction, event.time, "RST", "fail") }
            case .refused:
                closed = true
                _ = add(.serverToClient, event.time, "RST", "fail", note: Text("Connexion refusée : aucun service sur ce port.",
                                                                               "Connection refused: no service on that port."))
            case .connectTimedOut:
                closed = true
                _ = add(.clientToServer, event.time, "× timeout", "fail",
                        note: Text("Aucune réponse au SYN : l'hôte est arrêté ou injoignable ; le client abandonne.",
                                   "No answer to the SYN: the host is down or unreachable; the client gives up."))
            case let .aborted(cause):
                closed = true
                _ = add(.clientToServer, event.time, "× abort", "fail", note: Text(cause.message(.fr), cause.message(.en)))
            case .truncated:
                _ = add(.clientToServer, event.time, "…", "fail", note: Text("Limite de la capture atteinte.", "Capture limit reached."))
            }
            open = nil
        }

        mutating func markClosed() { closed = true }
    }
}
