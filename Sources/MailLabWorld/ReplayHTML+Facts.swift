import MailTutor
import Foundation
import MailCore
import MailSim

extension ReplayHTML {
    /// One record of the world's fact journal as the page shows it: what an engine reported
    /// (message accepted, login, TLS up, refusal, relay, delivery…), where and when.
    struct Fact: Codable, Equatable {
        var seq: Int
        var time: Int64
        var at: String
        /// The connection's id (the tap's), 0 for a transfer agent's fact.
        var session: Int
        var host: String
        var peer: String
        /// `server`, `client` or `agent`.
        var role: String
        var port: Int
        var tls: Bool
        /// The fact's kind as goals name it (`accepted`, `auth`, `tls`, `relayed`…).
        var kind: String
        /// `ok`, `ko` or `info`, for its colour.
        var tone: String
        /// A few words for the diagram, and the whole fact.
        var short: Text
        var text: Text
        /// Index of the arrow it belongs to in its step (or session), when there is one.
        var arrow: Int?
    }

    static func fact(_ record: FactRecord) -> Fact {
        let c = record.context
        let (tone, short, text) = describe(record.fact)
        let micro = Int64(c.time.components.seconds) * 1_000_000 + Int64(c.time.components.attoseconds / 1_000_000_000_000)
        return Fact(seq: record.sequence, time: micro, at: "\(VirtualTime(microseconds: micro))", session: c.session,
                    host: c.host, peer: c.peer, role: c.role.rawValue, port: Int(c.port), tls: c.tls,
                    kind: FactView(record, earlier: []).kind, tone: tone, short: short, text: text, arrow: nil)
    }

    /// The facts of the journal still kept.
    static func facts(of world: World) -> [Fact] { world.journal.records.map(fact) }

    /// Tone, a short label and a sentence, in both languages.
    static func describe(_ fact: ProtocolFact) -> (String, Text, Text) {
        func list(_ items: [String], _ limit: Int = 4) -> String {
            items.prefix(limit).map { "<\($0)>" }.joined(separator: ", ") + (items.count > limit ? " (+\(items.count - limit))" : "")
        }
        func code(_ code: Int, _ enhanced: String?) -> String { enhanced.map { "\(code) \($0)" } ?? "\(code)" }
        func info(_ fr: String, _ en: String, _ sfr: String? = nil, _ sen: String? = nil) -> (String, Text, Text) {
            ("info", Text(sfr ?? fr, sen ?? en), Text(fr, en))
        }
        func ok(_ fr: String, _ en: String, _ sfr: String, _ sen: String) -> (String, Text, Text) { ("ok", Text(sfr, sen), Text(fr, en)) }
        func ko(_ fr: String, _ en: String, _ sfr: String, _ sen: String) -> (String, Text, Text) { ("ko", Text(sfr, sen), Text(fr, en)) }
        switch fact {
        case let .session(session):
            switch session {
            case .greeting: return info("Le serveur a envoyé son accueil.", "The server sent its greeting.", "accueil", "greeting")
            case .tlsEstablished: return ok("TLS établi : la suite de la session est chiffrée.", "TLS established: the rest of the session is encrypted.", "TLS établi", "TLS up")
            case let .authSucceeded(mechanism, user):
                return ok("Connexion réussie de \(user) (\(mechanism)).", "\(user) logged in (\(mechanism)).", "connecté \(user)", "login \(user)")
            case let .authFailed(mechanism, user):
                let who = user.map { " de \($0)" } ?? "", whoEN = user.map { " for \($0)" } ?? ""
                return ko("Échec de la connexion\(who) (\(mechanism)).", "Login failed\(whoEN) (\(mechanism)).", "échec connexion", "login failed")
            case let .refused(command, status, code):
                let suffix = code.map { " [\($0)]" } ?? ""
                let verb = command.isEmpty ? "?" : command
                return ko("Commande \(verb) refusée : \(status)\(suffix).", "Command \(verb) refused: \(status)\(suffix).",
                          "\(verb) refusé \(status)", "\(verb) refused \(status)")
            case .closed: return info("Session terminée.", "Session ended.", "fin", "ended")
            case .capabilities: return info("Le serveur a listé ses capacités.", "The server listed its capabilities.", "capacités", "capabilities")
            }
        case let .smtp(smtp):
            switch smtp {
            case let .hello(name, extended):
                let verb = extended ? "EHLO" : "HELO"
                return info("Le client se présente : \(verb) \(name).", "The client introduced itself: \(verb) \(name).", "\(verb) \(name)", "\(verb) \(name)")
            case let .mailAccepted(from):
                return info("Expéditeur accepté : <\(from)>.", "Sender accepted: <\(from)>.", "expéditeur OK", "sender OK")
            case let .mailRefused(from, c, enhanced):
                return ko("Expéditeur <\(from)> refusé (\(code(c, enhanced))).", "Sender <\(from)> refused (\(code(c, enhanced))).",
                          "expéditeur refusé", "sender refused")
            case let .rcptAccepted(to):
                return info("Destinataire accepté : <\(to)>.", "Recipient accepted: <\(to)>.", "destinataire OK", "recipient OK")
            case let .rcptRefused(to, c, enhanced):
                return ko("Destinataire <\(to)> refusé (\(code(c, enhanced))).", "Recipient <\(to)> refused (\(code(c, enhanced))).",
                          "destinataire refusé", "recipient refused")
            case let .messageAccepted(queueID, from, to, size, _):
                return ok("Message accepté, file \(queueID) : <\(from)> → \(list(to)), \(size) octets.",
                          "Message accepted, queue \(queueID): <\(from)> → \(list(to)), \(size) bytes.",
                          "message accepté \(queueID)", "message accepted \(queueID)")
            case let .messageRefused(c, enhanced):
                return ko("Message refusé (\(code(c, enhanced))).", "Message refused (\(code(c, enhanced))).", "message refusé", "message refused")
            case let .reset(hadTransaction):
                return info(hadTransaction ? "RSET : la transaction en cours est annulée." : "RSET (aucune transaction en cours).",
                            hadTransaction ? "RSET: the transaction under way is dropped." : "RSET (no transaction under way).", "RSET", "RSET")
            case let .verify(argument, c):
                return info("VRFY \(argument) → \(c).", "VRFY \(argument) → \(c).", "VRFY \(c)", "VRFY \(c)")
            }
        case let .pop3(pop3):
            switch pop3 {
            case let .stat(messages, octets):
                return info("STAT : \(messages) message(s), \(octets) octets.", "STAT: \(messages) message(s), \(octets) bytes.", "STAT \(messages)", "STAT \(messages)")
            case let .listed(message, uidl):
                let verb = uidl ? "UIDL" : "LIST"
                let what = message.map { " \($0)" } ?? ""
                return info("\(verb)\(what) : liste envoyée.", "\(verb)\(what): list sent.", verb, verb)
            case let .retrieved(message, uidl, size):
                return ok("Message \(message) (UIDL \(uidl)) retiré, \(size) octets.", "Message \(message) (UIDL \(uidl)) retrieved, \(size) bytes.",
                          "RETR \(message)", "RETR \(message)")
            case let .top(message, lines, _):
                return info("TOP \(message) : en-têtes et \(lines) ligne(s).", "TOP \(message): headers and \(lines) line(s).", "TOP \(message)", "TOP \(message)")
            case let .markedDeleted(message, uidl):
                return info("Message \(message) (UIDL \(uidl)) marqué pour suppression.", "Message \(message) (UIDL \(uidl)) marked for deletion.",
                            "DELE \(message)", "DELE \(message)")
            case let .reset(restored):
                return info("RSET : \(restored.count) message(s) ne sont plus marqués.", "RSET: \(restored.count) message(s) unmarked.", "RSET", "RSET")
            case let .committed(deleted):
                return ok("QUIT : \(deleted.count) message(s) supprimé(s) pour de bon.", "QUIT: \(deleted.count) message(s) deleted for good.",
                          "supprimés \(deleted.count)", "deleted \(deleted.count)")
            }
        case let .imap(imap):
            switch imap {
            case let .state(state): return info("État IMAP : \(state.rawValue).", "IMAP state: \(state.rawValue).", state.rawValue, state.rawValue)
            case let .selected(mailbox, readOnly, exists):
                let verb = readOnly ? "EXAMINE" : "SELECT"
                return info("\(verb) \(mailbox) : \(exists) message(s).", "\(verb) \(mailbox): \(exists) message(s).", "\(verb) \(mailbox)", "\(verb) \(mailbox)")
            case let .fetched(mailbox, uids, items, _, seenSet, _):
                let seenFR = seenSet.isEmpty ? "" : " ; \\Seen posé sur \(seenSet.count)"
                let seenEN = seenSet.isEmpty ? "" : "; \\Seen set on \(seenSet.count)"
                let what = items.prefix(4).joined(separator: " ")
                return info("FETCH de \(uids.count) message(s) de \(mailbox) (\(what))\(seenFR).", "FETCH of \(uids.count) message(s) of \(mailbox) (\(what))\(seenEN).",
                            "FETCH \(uids.count)", "FETCH \(uids.count)")
            case let .stored(mailbox, uids, operation, flags, _, _):
                let op: String
                switch operation {
                case .add: op = "+FLAGS"
                case .remove: op = "-FLAGS"
                case .replace: op = "FLAGS"
                }
                let f = flags.joined(separator: " ")
                return info("STORE \(op) (\(f)) sur \(uids.count) message(s) de \(mailbox).", "STORE \(op) (\(f)) on \(uids.count) message(s) of \(mailbox).",
                            "STORE \(op)", "STORE \(op)")
            case let .copied(source, destination, sourceUIDs, _, moved, _):
                let verb = moved ? "MOVE" : "COPY"
                return info("\(verb) de \(sourceUIDs.count) message(s) : \(source) → \(destination).", "\(verb) of \(sourceUIDs.count) message(s): \(source) → \(destination).",
                            "\(verb) \(sourceUIDs.count)", "\(verb) \(sourceUIDs.count)")
            case let .expunged(mailbox, uids):
                return info("EXPUNGE : \(uids.count) message(s) effacé(s) de \(mailbox).", "EXPUNGE: \(uids.count) message(s) removed from \(mailbox).",
                            "EXPUNGE \(uids.count)", "EXPUNGE \(uids.count)")
            case let .searched(_, criteria, result, _):
                let what = criteria.prefix(4).joined(separator: " ")
                return info("SEARCH \(what) → \(result.count) message(s).", "SEARCH \(what) → \(result.count) message(s).", "SEARCH \(result.count)", "SEARCH \(result.count)")
            case let .listed(_, pattern, subscribedOnly, result):
                let verb = subscribedOnly ? "LSUB" : "LIST"
                return info("\(verb) \(pattern) → \(result.count) dossier(s).", "\(verb) \(pattern) → \(result.count) folder(s).", verb, verb)
            case let .status(mailbox, _): return info("STATUS \(mailbox).", "STATUS \(mailbox).", "STATUS", "STATUS")
            case let .created(mailbox): return info("Dossier \(mailbox) créé.", "Folder \(mailbox) created.", "CREATE", "CREATE")
            case let .renamed(from, to): return info("Dossier \(from) renommé \(to).", "Folder \(from) renamed \(to).", "RENAME", "RENAME")
            case let .deleted(mailbox): return info("Dossier \(mailbox) supprimé.", "Folder \(mailbox) deleted.", "DELETE", "DELETE")
            case let .subscribed(mailbox): return info("Abonné à \(mailbox).", "Subscribed to \(mailbox).", "SUBSCRIBE", "SUBSCRIBE")
            case let .unsubscribed(mailbox): return info("Désabonné de \(mailbox).", "Unsubscribed from \(mailbox).", "UNSUBSCRIBE", "UNSUBSCRIBE")
            case let .appended(mailbox, uid):
                return ok("Message ajouté à \(mailbox) (UID \(uid)).", "Message appended to \(mailbox) (UID \(uid)).", "APPEND", "APPEND")
            case .idleStarted: return info("IDLE : le client attend les nouvelles.", "IDLE: the client waits for news.", "IDLE", "IDLE")
            case .idleEnded: return info("Fin d'IDLE.", "IDLE ended.", "DONE", "DONE")
            case let .pushed(update, duringIdle):
                let when = duringIdle ? " pendant IDLE" : "", whenEN = duringIdle ? " during IDLE" : ""
                return info("Le serveur pousse « \(update) »\(when).", "The server pushes \"\(update)\"\(whenEN).", "* \(update)", "* \(update)")
            case let .closedMailbox(mailbox, expunged, command):
                return info("Dossier \(mailbox) fermé par \(command)\(expunged ? " (messages \\Deleted effacés)" : "").",
                            "Folder \(mailbox) closed by \(command)\(expunged ? " (\\Deleted messages removed)" : "").", command, command)
            }
        case let .mta(mta):
            switch mta {
            case let .relayed(queueID, nextHop, recipients):
                return ok("Message \(queueID) relayé vers \(nextHop) pour \(list(recipients)).", "Message \(queueID) relayed to \(nextHop) for \(list(recipients)).",
                          "relayé \(queueID)", "relayed \(queueID)")
            case let .deferred(queueID, recipients, reason):
                return ko("Message \(queueID) différé pour \(list(recipients)) : \(reason)", "Message \(queueID) deferred for \(list(recipients)): \(reason)",
                          "différé \(queueID)", "deferred \(queueID)")
            case let .bounced(queueID, recipients, reason):
                return ko("Message \(queueID) renvoyé à l'expéditeur (\(list(recipients))) : \(reason)", "Message \(queueID) bounced (\(list(recipients))): \(reason)",
                          "rejeté \(queueID)", "bounced \(queueID)")
            case let .delivered(queueID, recipient, user, folder, uid):
                return ok("Message \(queueID) livré à <\(recipient)> : boîte de \(user), \(folder), UID \(uid).",
                          "Message \(queueID) delivered to <\(recipient)>: \(user)'s \(folder), UID \(uid).", "livré \(user)", "delivered \(user)")
            case let .checked(_, from, fromDomain, spf, dkim, dmarc, action):
                let summary = "spf=\(spf) dkim=\(dkim.isEmpty ? "none" : dkim.joined(separator: ",")) dmarc=\(dmarc)"
                let actionFR = ["delivered": "livré", "quarantined": "mis en quarantaine (Junk)", "rejected": "refusé"][action] ?? action
                let body = (fr: "Contrôles du message de <\(from)> (From: \(fromDomain)) : \(summary) ; \(actionFR).",
                            en: "Checks of the message from <\(from)> (From: \(fromDomain)): \(summary); \(action).")
                return dmarc == "fail" ? ko(body.fr, body.en, summary, summary) : ok(body.fr, body.en, summary, summary)
            }
        }
    }

    /// Puts each fact with the step that shows its connection (the last part of that connection
    /// shown at or before the fact's time), agent facts with the step during which they happened.
    /// Returns, per step, the facts in journal order.
    static func assign(_ facts: [Fact], to steps: [ReplayStep], connections: [Int: TapConnection]) -> [[Fact]] {
        var out = Array(repeating: [Fact](), count: steps.count)
        /// connection id → (step index, time of the range's first event), in step order.
        var parts: [Int: [(step: Int, start: Int64)]] = [:]
        for (index, step) in steps.enumerated() {
            for range in step.tapRanges {
                guard let connection = connections[range.connection], range.range.lowerBound < connection.events.count else { continue }
                parts[range.connection, default: []].append((index, connection.events[range.range.lowerBound].time.microseconds))
            }
        }
        func stepByTime(_ time: Int64) -> Int? {
            guard !steps.isEmpty else { return nil }
            return steps.firstIndex { $0.time >= time } ?? steps.count - 1
        }
        for fact in facts {
            if fact.session != 0, let list = parts[fact.session], let first = list.first {
                let chosen = list.last { $0.start <= fact.time } ?? first
                out[chosen.step].append(fact)
            } else if let index = stepByTime(fact.time) {
                out[index].append(fact)
            }
        }
        return out
    }

    /// Links each fact of a connection to the last arrow of that connection drawn at or before it.
    static func link(_ facts: inout [Fact], to arrows: inout [Arrow]) {
        var byConnection: [Int: [Int]] = [:]
        for (index, arrow) in arrows.enumerated() { byConnection[arrow.connection, default: []].append(index) }
        for index in facts.indices where facts[index].session != 0 {
            guard let list = byConnection[facts[index].session], let first = list.first else { continue }
            let chosen = list.last { arrows[$0].time <= facts[index].time } ?? first
            facts[index].arrow = chosen
            arrows[chosen].facts.append(index)
        }
    }
}
