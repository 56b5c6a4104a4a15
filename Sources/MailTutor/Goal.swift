import Foundation
import MailCore

/// A goal: a predicate over the facts the engines reported and the world's state.
///
/// - *Event goals* (`auth`, `rcpt-accepted`, `retrieved`, `search`, …) match one fact of the
///   world's journal, reported since the exercise opened, with its details; once met they stay met.
/// - *State goals* (`mailbox-count`, `flag`, `message`, `queue-empty`, `queue-count`) are evaluated
///   on the live world after every command and can untick.
/// - *Invariants* (a task's `keep:`) are state goals that must still hold when the exercise
///   completes ("the three messages are still on the server"); they may hold from the start.
public struct Goal: Equatable, Sendable {
    public var id: String
    public var description: LocalizedText?
    public var predicate: GoalPredicate
    /// An event goal with `after: ID` only counts a fact reported after goal ID was first met.
    public var after: String?
    /// Set for a task's `keep:` entries.
    public var isInvariant = false
    public var line: Int

    public init(id: String, description: LocalizedText?, predicate: GoalPredicate, after: String? = nil,
                isInvariant: Bool = false, line: Int) {
        self.id = id
        self.description = description
        self.predicate = predicate
        self.after = after
        self.isInvariant = isInvariant
        self.line = line
    }

    public var isEvent: Bool { !predicate.patterns.isEmpty }
}

/// What a forbidden fact is: matching it ends the attempt, with this explanation.
public struct ForbiddenFact: Equatable, Sendable {
    public var id: String
    public var explanation: LocalizedText
    public var pattern: FactPattern
    public var line: Int
}

/// The goal vocabulary of lessons and scenarios (task `goals:`, `keep:`, `forbidden:` and `expect:`).
public enum GoalPredicate: Equatable, Sendable {
    /// A fact matching the pattern was reported (event goal).
    case event(FactPattern)
    /// A fact matching any of the patterns was reported (`any-of:`, for equivalent ways).
    case anyEvent([FactPattern])
    /// Message `message` (sequence number) in `user`'s `folder` has (or lacks) `flag`.
    case flag(user: String, folder: String, message: Int, flag: String, set: Bool)
    /// `user`'s `folder` holds exactly (or at least) `count` messages.
    case mailboxCount(user: String, folder: String, count: Int, atLeast: Bool)
    /// `user`'s `folder` holds a message from `from` whose subject contains `subject` (either may be
    /// nil) and whose stored text has what `content` asks (a header, a part of the body); with
    /// `content.present` false, it holds no such message.
    case message(user: String, folder: String, from: String?, subject: String?, content: MessageContent = MessageContent())
    /// No message waits in the queue of `host` (any host when nil).
    case queueEmpty(host: String?)
    /// The queue of `host` holds exactly `count` messages.
    case queueCount(host: String?, count: Int)
    /// The world's DNS has a record of `name` and `type` whose value contains `value` (any case),
    /// or any such record when `value` is nil (`dns: {name: lycee.test, type: MX, value: mail.lycee.test}`);
    /// with `present` false, it has none (`present: false`: the old MX is gone).
    case dnsRecord(name: String, type: DNSType, value: String?, present: Bool)

    /// State predicate keys in YAML.
    public static let stateKeys = ["flag", "mailbox-count", "message", "queue-empty", "queue-count", "dns"]
    /// Every predicate key.
    public static var keys: [String] { FactPattern.kinds.map(\.name) + stateKeys + ["any-of"] }

    /// The patterns of an event goal (one, or the alternatives of `any-of`); empty for state goals.
    public var patterns: [FactPattern] {
        switch self {
        case let .event(pattern): return [pattern]
        case let .anyEvent(patterns): return patterns
        case .flag, .mailboxCount, .message, .queueEmpty, .queueCount, .dnsRecord: return []
        }
    }

    /// Hosts the predicate names, for cross-reference checks.
    public var hostsNamed: [String] {
        switch self {
        case let .event(pattern): return pattern.values(for: "host")
        case let .anyEvent(patterns): return patterns.flatMap { $0.values(for: "host") }
        case let .queueEmpty(host), let .queueCount(host, _): return host.map { [$0] } ?? []
        case .flag, .mailboxCount, .message, .dnsRecord: return []
        }
    }

    public var usersNamed: [String] {
        switch self {
        case let .flag(user, _, _, _, _), let .mailboxCount(user, _, _, _), let .message(user, _, _, _, _): return [user]
        case let .event(pattern): return pattern.values(for: "user")
        case let .anyEvent(patterns): return patterns.flatMap { $0.values(for: "user") }
        case .queueEmpty, .queueCount, .dnsRecord: return []
        }
    }
}

/// What a `message:` state goal asks of a stored message's text besides its sender and subject.
public struct MessageContent: Equatable, Sendable {
    /// `Name: part`: a header of that name (any case, folded lines joined) whose value contains part.
    public var header: String?
    /// A text the body contains (any case): `multipart/alternative`, `application/pdf`…
    public var body: String?
    /// False: the goal holds when no message matches.
    public var present: Bool

    public init(header: String? = nil, body: String? = nil, present: Bool = true) {
        self.header = header
        self.body = body
        self.present = present
    }

    /// Whether the message text (headers, blank line, body) has the header and the body text asked.
    func matches(_ text: String) -> Bool {
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)).replacingOccurrences(of: "\r", with: "") }
        let blank = lines.firstIndex(of: "") ?? lines.count
        var fields: [String] = []
        for line in lines[..<blank] {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            } else {
                fields.append(line)
            }
        }
        if let header, let colon = header.firstIndex(of: ":") {
            let name = header[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let part = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            let has = fields.contains { field in
                guard let c = field.firstIndex(of: ":"), field[..<c].trimmingCharacters(in: .whitespaces).lowercased() == name else { return false }
                return part.isEmpty || field[field.index(after: c)...].lowercased().contains(part)
            }
            guard has else { return false }
        }
        if let body {
            let rest = lines[min(blank + 1, lines.count)...].joined(separator: "\n").lowercased()
            guard rest.contains(body.lowercased()) else { return false }
        }
        return true
    }
}

// MARK: - Fact patterns

/// One constraint of a pattern: `key: value` or `key: [v1, v2]`. On a field holding one value, a
/// list means any of them (`port: [587, 465]`); on a field holding a list (`to`, `flags`,
/// `criteria`, `items`, `result`), each given value must be among the field's values.
public struct FactConstraint: Equatable, Sendable {
    public var key: String
    public var values: [String]
}

/// An event goal's pattern: a fact kind and constraints on its fields.
///
/// Every fact has the fields `host` (the server that reported it), `port`, `tls` (`true` when TLS
/// was up), `by` (the client's host) and `session`. Unless `by:` is given, only facts of sessions
/// opened by the learner's machine or devices count (`by: any` counts every session).
public struct FactPattern: Equatable, Sendable {
    public var kind: String
    public var constraints: [FactConstraint]

    public init(kind: String, constraints: [FactConstraint] = []) {
        self.kind = kind
        self.constraints = constraints
    }

    public func values(for key: String) -> [String] {
        constraints.filter { $0.key == key }.flatMap(\.values)
    }

    /// A fact kind of the vocabulary and the fields its facts have (besides the common ones).
    public struct Kind: Sendable {
        public var name: String
        public var fields: [String]
        /// Agent facts (the MTA's) are nobody's session: the learner filter does not apply.
        public var agent = false
    }

    public static let commonFields = ["host", "port", "tls", "by", "session", "role"]

    public static let kinds: [Kind] = [
        Kind(name: "greeting", fields: []),
        Kind(name: "tls", fields: []),
        Kind(name: "auth", fields: ["mechanism", "user"]),
        Kind(name: "auth-failed", fields: ["mechanism", "user"]),
        Kind(name: "refused", fields: ["command", "status", "code"]),
        Kind(name: "closed", fields: []),
        Kind(name: "capabilities", fields: []),
        Kind(name: "hello", fields: ["name", "extended"]),
        Kind(name: "mail-accepted", fields: ["from"]),
        Kind(name: "mail-refused", fields: ["from", "code", "enhanced"]),
        Kind(name: "rcpt-accepted", fields: ["to"]),
        Kind(name: "rcpt-refused", fields: ["to", "code", "enhanced"]),
        Kind(name: "accepted", fields: ["queue-id", "from", "to", "size", "count", "dot-lines"]),
        Kind(name: "message-refused", fields: ["code", "enhanced"]),
        Kind(name: "rset", fields: ["had-transaction", "restored", "count"]),
        Kind(name: "vrfy", fields: ["argument", "code"]),
        Kind(name: "stat", fields: ["messages", "octets"]),
        Kind(name: "list", fields: ["message", "reference", "pattern", "result", "count"]),
        Kind(name: "uidl", fields: ["message"]),
        Kind(name: "retrieved", fields: ["message", "uidl", "size"]),
        Kind(name: "top", fields: ["message", "lines", "uidl"]),
        Kind(name: "deleted", fields: ["message", "uidl", "retrieved-before"]),
        Kind(name: "committed", fields: ["deleted", "count"]),
        Kind(name: "imap-state", fields: ["state"]),
        Kind(name: "selected", fields: ["mailbox", "read-only", "exists"]),
        Kind(name: "fetched", fields: ["mailbox", "uids", "items", "peek", "seen-set", "by-uid", "count"]),
        Kind(name: "stored", fields: ["mailbox", "uids", "operation", "flags", "silent", "by-uid", "count"]),
        Kind(name: "copied", fields: ["source", "destination", "source-uids", "destination-uids", "by-uid", "count"]),
        Kind(name: "moved", fields: ["source", "destination", "source-uids", "destination-uids", "by-uid", "count"]),
        Kind(name: "expunged", fields: ["mailbox", "uids", "count"]),
        Kind(name: "search", fields: ["mailbox", "criteria", "result", "by-uid", "count"]),
        Kind(name: "lsub", fields: ["reference", "pattern", "result", "count"]),
        Kind(name: "status", fields: ["mailbox", "items"]),
        Kind(name: "created", fields: ["mailbox"]),
        Kind(name: "renamed", fields: ["from", "to"]),
        Kind(name: "deleted-mailbox", fields: ["mailbox"]),
        Kind(name: "subscribed", fields: ["mailbox"]),
        Kind(name: "unsubscribed", fields: ["mailbox"]),
        Kind(name: "appended", fields: ["mailbox", "uid"]),
        Kind(name: "idle", fields: []),
        Kind(name: "idle-done", fields: []),
        Kind(name: "pushed", fields: ["update", "kind", "during-idle"]),
        Kind(name: "closed-mailbox", fields: ["mailbox", "expunged", "command"]),
        Kind(name: "relayed", fields: ["queue-id", "next-hop", "to"], agent: true),
        Kind(name: "deferred", fields: ["queue-id", "to", "reason"], agent: true),
        Kind(name: "bounced", fields: ["queue-id", "to", "reason"], agent: true),
        Kind(name: "delivered", fields: ["queue-id", "to", "user", "folder", "uid"], agent: true),
        Kind(name: "checked", fields: ["queue-id", "from", "from-domain", "spf", "dkim", "dmarc", "action"], agent: true),
    ]

    public static func kind(named name: String) -> Kind? { kinds.first { $0.name == name } }
}

/// A fact seen as a kind and named fields, the form patterns match against.
public struct FactView: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case one(String)
        case many([String])
    }

    public var kind: String
    public var fields: [String: Value]
    public var sequence: Int

    /// `earlier`: facts reported before this one (for relational fields such as `retrieved-before`).
    public init(_ record: FactRecord, earlier: [FactRecord]) {
        sequence = record.sequence
        let c = record.context
        var f: [String: Value] = [
            "host": .one(c.host), "port": .one(String(c.port)), "tls": .one(String(c.tls)), "by": .one(c.peer),
            "session": .one(String(c.session)), "role": .one(c.role.rawValue),
        ]
        func uids(_ list: [UInt32]) -> Value { .many(list.map(String.init)) }
        var kind = ""
        switch record.fact {
        case let .session(fact):
            switch fact {
            case .greeting: kind = "greeting"
            case .tlsEstablished: kind = "tls"
            case let .authSucceeded(mechanism, user):
                kind = "auth"; f["mechanism"] = .one(mechanism); f["user"] = .one(user)
            case let .authFailed(mechanism, user):
                kind = "auth-failed"; f["mechanism"] = .one(mechanism); if let user { f["user"] = .one(user) }
            case let .refused(command, status, code):
                kind = "refused"; f["command"] = .one(command); f["status"] = .one(status); if let code { f["code"] = .one(code) }
            case .closed: kind = "closed"
            case .capabilities: kind = "capabilities"
            }
        case let .smtp(fact):
            switch fact {
            case let .hello(name, extended): kind = "hello"; f["name"] = .one(name); f["extended"] = .one(String(extended))
            case let .mailAccepted(from): kind = "mail-accepted"; f["from"] = .one(from)
            case let .mailRefused(from, code, enhanced):
                kind = "mail-refused"; f["from"] = .one(from); f["code"] = .one(String(code)); if let enhanced { f["enhanced"] = .one(enhanced) }
            case let .rcptAccepted(to): kind = "rcpt-accepted"; f["to"] = .one(to)
            case let .rcptRefused(to, code, enhanced):
                kind = "rcpt-refused"; f["to"] = .one(to); f["code"] = .one(String(code)); if let enhanced { f["enhanced"] = .one(enhanced) }
            case let .messageAccepted(queueID, from, to, size, dotLines):
                kind = "accepted"; f["queue-id"] = .one(queueID); f["from"] = .one(from); f["to"] = .many(to)
                f["size"] = .one(String(size)); f["count"] = .one(String(to.count))
                f["dot-lines"] = .one(dotLines > 0 ? "true" : "false")
            case let .messageRefused(code, enhanced):
                kind = "message-refused"; f["code"] = .one(String(code)); if let enhanced { f["enhanced"] = .one(enhanced) }
            case let .reset(hadTransaction): kind = "rset"; f["had-transaction"] = .one(String(hadTransaction))
            case let .verify(argument, code): kind = "vrfy"; f["argument"] = .one(argument); f["code"] = .one(String(code))
            }
        case let .pop3(fact):
            switch fact {
            case let .stat(messages, octets): kind = "stat"; f["messages"] = .one(String(messages)); f["octets"] = .one(String(octets))
            case let .listed(message, uidl):
                kind = uidl ? "uidl" : "list"; if let message { f["message"] = .one(String(message)) }
            case let .retrieved(message, uidl, size):
                kind = "retrieved"; f["message"] = .one(String(message)); f["uidl"] = .one(uidl); f["size"] = .one(String(size))
            case let .top(message, lines, uidl):
                kind = "top"; f["message"] = .one(String(message)); f["lines"] = .one(String(lines)); f["uidl"] = .one(uidl)
            case let .markedDeleted(message, uidl):
                kind = "deleted"; f["message"] = .one(String(message)); f["uidl"] = .one(uidl)
                let retrieved = earlier.contains { other in
                    guard other.context.host == c.host, case let .pop3(.retrieved(_, otherUIDL, _)) = other.fact else { return false }
                    return otherUIDL == uidl
                }
                f["retrieved-before"] = .one(String(retrieved))
            case let .reset(restored):
                kind = "rset"; f["restored"] = .many(restored); f["count"] = .one(String(restored.count))
            case let .committed(deleted): kind = "committed"; f["deleted"] = .many(deleted); f["count"] = .one(String(deleted.count))
            }
        case let .imap(fact):
            switch fact {
            case let .state(state): kind = "imap-state"; f["state"] = .one(state.rawValue)
            case let .selected(mailbox, readOnly, exists):
                kind = "selected"; f["mailbox"] = .one(mailbox); f["read-only"] = .one(String(readOnly)); f["exists"] = .one(String(exists))
            case let .fetched(mailbox, list, items, peek, seenSet, byUID):
                kind = "fetched"; f["mailbox"] = .one(mailbox); f["uids"] = uids(list); f["items"] = .many(items)
                f["peek"] = .one(String(peek)); f["seen-set"] = uids(seenSet); f["by-uid"] = .one(String(byUID))
                f["count"] = .one(String(list.count))
            case let .stored(mailbox, list, operation, flags, silent, byUID):
                kind = "stored"; f["mailbox"] = .one(mailbox); f["uids"] = uids(list)
                let name: String
                switch operation {
                case .add: name = "+FLAGS"
                case .remove: name = "-FLAGS"
                case .replace: name = "FLAGS"
                }
                f["operation"] = .one(name); f["flags"] = .many(flags); f["silent"] = .one(String(silent))
                f["by-uid"] = .one(String(byUID)); f["count"] = .one(String(list.count))
            case let .copied(source, destination, sourceUIDs, destinationUIDs, moved, byUID):
                kind = moved ? "moved" : "copied"; f["source"] = .one(source); f["destination"] = .one(destination)
                f["source-uids"] = uids(sourceUIDs); f["destination-uids"] = uids(destinationUIDs)
                f["by-uid"] = .one(String(byUID)); f["count"] = .one(String(sourceUIDs.count))
            case let .expunged(mailbox, list): kind = "expunged"; f["mailbox"] = .one(mailbox); f["uids"] = uids(list); f["count"] = .one(String(list.count))
            case let .searched(mailbox, criteria, result, byUID):
                kind = "search"; f["mailbox"] = .one(mailbox); f["criteria"] = .many(criteria); f["result"] = uids(result)
                f["by-uid"] = .one(String(byUID)); f["count"] = .one(String(result.count))
            case let .listed(reference, pattern, subscribedOnly, result):
                kind = subscribedOnly ? "lsub" : "list"; f["reference"] = .one(reference); f["pattern"] = .one(pattern)
                f["result"] = .many(result); f["count"] = .one(String(result.count))
            case let .status(mailbox, items): kind = "status"; f["mailbox"] = .one(mailbox); f["items"] = .many(items)
            case let .created(mailbox): kind = "created"; f["mailbox"] = .one(mailbox)
            case let .renamed(from, to): kind = "renamed"; f["from"] = .one(from); f["to"] = .one(to)
            case let .deleted(mailbox): kind = "deleted-mailbox"; f["mailbox"] = .one(mailbox)
            case let .subscribed(mailbox): kind = "subscribed"; f["mailbox"] = .one(mailbox)
            case let .unsubscribed(mailbox): kind = "unsubscribed"; f["mailbox"] = .one(mailbox)
            case let .appended(mailbox, uid): kind = "appended"; f["mailbox"] = .one(mailbox); f["uid"] = .one(String(uid))
            case .idleStarted: kind = "idle"
            case .idleEnded: kind = "idle-done"
            case let .pushed(update, duringIdle):
                kind = "pushed"; f["update"] = .one(update)
                f["kind"] = .one(update.split(separator: " ").first.map(String.init) ?? "")
                f["during-idle"] = .one(String(duringIdle))
            case let .closedMailbox(mailbox, expunged, command):
                kind = "closed-mailbox"; f["mailbox"] = .one(mailbox); f["expunged"] = .one(String(expunged))
                f["command"] = .one(command)
            }
        case let .mta(fact):
            switch fact {
            case let .relayed(queueID, nextHop, recipients):
                kind = "relayed"; f["queue-id"] = .one(queueID); f["next-hop"] = .one(nextHop); f["to"] = .many(recipients)
            case let .deferred(queueID, recipients, reason):
                kind = "deferred"; f["queue-id"] = .one(queueID); f["to"] = .many(recipients); f["reason"] = .one(reason)
            case let .bounced(queueID, recipients, reason):
                kind = "bounced"; f["queue-id"] = .one(queueID); f["to"] = .many(recipients); f["reason"] = .one(reason)
            case let .delivered(queueID, recipient, user, folder, uid):
                kind = "delivered"; f["queue-id"] = .one(queueID); f["to"] = .one(recipient); f["user"] = .one(user)
                f["folder"] = .one(folder); f["uid"] = .one(String(uid))
            case let .checked(queueID, from, fromDomain, spf, dkim, dmarc, action):
                kind = "checked"; f["queue-id"] = .one(queueID); f["from"] = .one(from); f["from-domain"] = .one(fromDomain)
                f["spf"] = .one(spf); f["dkim"] = .many(dkim.isEmpty ? ["none"] : dkim); f["dmarc"] = .one(dmarc); f["action"] = .one(action)
            }
        }
        self.kind = kind
        fields = f
    }

    /// Whether the pattern matches this fact, the learner's hosts being `learnerHosts`.
    public func matches(_ pattern: FactPattern, learnerHosts: Set<String>) -> Bool {
        guard pattern.kind == kind else { return false }
        // What a client engine saw of its own session only counts when the pattern asks for it
        // (`role: client`): goals read what the servers and agents did.
        if case .one("client")? = fields["role"], !pattern.constraints.contains(where: { $0.key == "role" }) { return false }
        let agent = FactPattern.kind(named: kind)?.agent ?? false
        if !agent, !pattern.constraints.contains(where: { $0.key == "by" }) {
            guard case let .one(peer)? = fields["by"], learnerHosts.contains(peer.lowercased()) else { return false }
        }
        for constraint in pattern.constraints {
            if constraint.key == "by", constraint.values == ["any"] { continue }
            // `uids-any: [3, 4]`: the list field holds at least one of these values.
            if constraint.key.hasSuffix("-any") {
                let key = String(constraint.key.dropLast(4))
                guard case let .many(actuals)? = fields[key],
                      actuals.contains(where: { actual in constraint.values.contains { Self.same(key: key, wanted: $0, actual: actual) } })
                else { return false }
                continue
            }
            guard let value = fields[constraint.key] else { return false }
            switch value {
            case let .one(actual):
                guard constraint.values.contains(where: { Self.same(key: constraint.key, wanted: $0, actual: actual) }) else { return false }
            case let .many(actuals):
                for wanted in constraint.values {
                    guard actuals.contains(where: { Self.same(key: constraint.key, wanted: wanted, actual: $0) }) else { return false }
                }
            }
        }
        return true
    }

    /// Value comparison, by field: addresses without brackets and case, users by login or
    /// address, search criteria by key and argument (`FROM alice` matches `FROM alice@example.com`),
    /// mailbox names with `INBOX` in any case, the rest case-insensitively.
    static func same(key: String, wanted: String, actual: String) -> Bool {
        let w = wanted.trimmingCharacters(in: .whitespaces).lowercased()
        let a = actual.lowercased()
        switch key {
        case "from", "to", "argument":
            func bare(_ s: String) -> String { s.trimmingCharacters(in: CharacterSet(charactersIn: "<> \"")) }
            return bare(w) == bare(a)
        case "user":
            return w == a || w.split(separator: "@").first == a.split(separator: "@").first
        case "criteria":
            let wantedWords = w.split(separator: " ", maxSplits: 1).map(String.init)
            let actualWords = a.split(separator: " ", maxSplits: 1).map(String.init)
            guard let wantedKey = wantedWords.first, wantedKey == actualWords.first else { return false }
            guard wantedWords.count > 1 else { return true }
            guard actualWords.count > 1 else { return false }
            let argument = actualWords[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return argument.contains(wantedWords[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        case "items":
            // The same data under its other names: PEEK or not, the RFC 822 forms (RFC 3501
            // §6.4.5), and the header read field by field (`BODY[HEADER.FIELDS (FROM SUBJECT)]`).
            func canonical(_ item: String) -> String {
                var item = item.replacingOccurrences(of: ".peek", with: "")
                switch item {
                case "rfc822": item = "body[]"
                case "rfc822.header": item = "body[header]"
                case "rfc822.text": item = "body[text]"
                default: break
                }
                return item
            }
            // `BODY[HEADER.FIELDS (A B)]` wanted: the whole header, or a field list holding A and B.
            func fields(_ item: String) -> Set<Substring>? {
                let opening = "body[header.fields ("
                guard item.hasPrefix(opening), let close = item.firstIndex(of: ")") else { return nil }
                return Set(item[item.index(item.startIndex, offsetBy: opening.count)..<close].split(separator: " "))
            }
            let (cw, ca) = (canonical(w), canonical(a))
            if let wantedFields = fields(cw) {
                return ca == "body[header]" || fields(ca).map { wantedFields.isSubset(of: $0) } ?? false
            }
            return cw == ca || (cw == "body[header]" && ca.hasPrefix("body[header.fields"))
        default:
            return w == a
        }
    }
}

// MARK: - Evaluation

/// Evaluates state predicates on the world.
public enum GoalEvaluator {
    public static func holds(_ predicate: GoalPredicate, world: TutorWorld) -> Bool {
        switch predicate {
        case .event, .anyEvent:
            return false
        case let .flag(user, folder, message, flag, set):
            guard let entries = try? world.mailbox(user: user, folder: folder),
                  let entry = entries.first(where: { $0.sequence == message }) else { return false }
            let has = entry.flags.contains { $0.caseInsensitiveCompare(flag) == .orderedSame }
            return has == set
        case let .mailboxCount(user, folder, count, atLeast):
            guard let entries = try? world.mailbox(user: user, folder: folder) else { return false }
            return atLeast ? entries.count >= count : entries.count == count
        case let .message(user, folder, from, subject, content):
            guard let entries = try? world.mailbox(user: user, folder: folder) else { return false }
            let found = entries.contains { entry in
                guard (from.map { FactView.same(key: "from", wanted: $0, actual: entry.from) || entry.from.lowercased().contains($0.lowercased()) } ?? true),
                      (subject.map { entry.subject.range(of: $0, options: [.caseInsensitive, .diacriticInsensitive]) != nil } ?? true)
                else { return false }
                guard content.header != nil || content.body != nil else { return true }
                guard let text = try? world.message(user: user, folder: folder, number: entry.sequence) else { return false }
                return content.matches(text)
            }
            return found == content.present
        case let .queueEmpty(host):
            guard let entries = try? world.queue(host: host) else { return false }
            return entries.isEmpty
        case let .queueCount(host, count):
            guard let entries = try? world.queue(host: host) else { return false }
            return entries.count == count
        case let .dnsRecord(name, type, value, present):
            let answers = world.dig(name: name, type: type).answers
            let found = answers.contains { answer in
                guard let value else { return true }
                let shown = type == .MX ? "\(answer.preference ?? 0) \(answer.value)" : answer.value
                return shown.range(of: value, options: .caseInsensitive) != nil
            }
            return found == present
        }
    }

    /// An `expect:` assertion: a state predicate holds now, or an event pattern matched some fact
    /// since the world started (any session).
    public static func expectation(_ predicate: GoalPredicate, world: TutorWorld) -> Bool {
        let patterns = predicate.patterns.map { pattern -> FactPattern in
            var any = pattern
            if !any.constraints.contains(where: { $0.key == "by" }) { any.constraints.append(FactConstraint(key: "by", values: ["any"])) }
            return any
        }
        if !patterns.isEmpty {
            var earlier: [FactRecord] = []
            for record in world.facts(since: 0) {
                let view = FactView(record, earlier: earlier)
                if patterns.contains(where: { view.matches($0, learnerHosts: []) }) { return true }
                earlier.append(record)
            }
            return false
        }
        return holds(predicate, world: world)
    }
}

/// What changed at one update of a tracker.
public struct GoalUpdate: Sendable {
    public var newlyMet: [Goal] = []
    /// State goals and invariants that held at the previous update and no longer do.
    public var newlyUnmet: [Goal] = []
    /// The forbidden fact that ended the attempt, if it happened at this update.
    public var violation: ForbiddenFact?
}

/// The goals of one attempt at a task: event goals stay met once met, state goals and invariants
/// are evaluated live, a forbidden fact ends the attempt. The attempt is complete when every event
/// goal has been met and every state goal and invariant holds at the same moment.
public struct GoalTracker: Sendable {
    public private(set) var goals: [Goal]
    public private(set) var forbidden: [ForbiddenFact]
    /// Event goals met, with the sequence number of the fact that met them first.
    public private(set) var firstMet: [String: Int] = [:]
    /// State goals and invariants holding at the last update.
    public private(set) var holding: Set<String> = []
    public private(set) var violation: ForbiddenFact?
    /// Journal position the attempt reads from.
    public private(set) var cursor: Int
    /// Facts of this attempt read so far, for relational fields (bounded).
    private var seen: [FactRecord] = []
    static let seenLimit = 10_000

    public init(goals: [Goal], forbidden: [ForbiddenFact] = [], startingAt cursor: Int) {
        self.goals = goals
        self.forbidden = forbidden
        self.cursor = cursor
    }

    /// Goals shown as ticked: event goals met, state goals holding now.
    public var met: Set<String> { Set(firstMet.keys).union(holding) }

    /// Reads the facts reported since the last update and re-evaluates the state goals.
    public mutating func update(world: TutorWorld) -> GoalUpdate {
        var result = GoalUpdate()
        guard violation == nil else { return result }
        let before = met
        let learners = world.learnerHosts
        let records = world.facts(since: cursor)
        for record in records {
            let view = FactView(record, earlier: seen)
            if seen.count >= Self.seenLimit { seen.removeFirst(Self.seenLimit / 2) }
            seen.append(record)
            cursor = record.sequence + 1
            if let hit = forbidden.first(where: { view.matches($0.pattern, learnerHosts: learners) }) {
                violation = hit
                result.violation = hit
                return result
            }
            for goal in goals where firstMet[goal.id] == nil {
                guard goal.predicate.patterns.contains(where: { view.matches($0, learnerHosts: learners) }) else { continue }
                if let after = goal.after {
                    guard let earlier = firstMet[after], earlier < record.sequence else { continue }
                }
                firstMet[goal.id] = record.sequence
            }
        }
        holding = Set(goals.filter { !$0.isEvent && GoalEvaluator.holds($0.predicate, world: world) }.map(\.id))
        let now = met
        result.newlyMet = goals.filter { now.contains($0.id) && !before.contains($0.id) }
        result.newlyUnmet = goals.filter { before.contains($0.id) && !now.contains($0.id) }
        return result
    }

    public var isComplete: Bool {
        violation == nil && goals.allSatisfy { met.contains($0.id) }
    }
}

/// What the learner typed, read as a mail client reads its own command (to know that DATA starts
/// or which prompt to show), never to grade: goals read the facts the servers reported.
public enum TypedCommand {
    /// The verb of a command line: first word, or second for IMAP (after the tag).
    public static func verb(of line: String, protocolKind: MailProtocol) -> String {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        let index = protocolKind == .imap ? 1 : 0
        guard words.count > index else { return "" }
        var verb = String(words[index]).uppercased()
        if let colon = verb.firstIndex(of: ":") { verb = String(verb[..<colon]) }
        if protocolKind == .imap, verb == "UID", words.count > 2 { verb = "UID " + words[2].uppercased() }
        return String(verb.prefix(32))
    }
}

/// Reply codes as the learner reads them, for advice and explanations (presentation only).
public enum ReplyCode {
    /// A reply line carries `code` when, after an optional IMAP tag, it starts with it
    /// (`250`, `250-`, `5.7.1` in `554 5.7.1 …`, `+OK`, `-ERR`, `NO`, `BAD`).
    public static func has(_ line: String, _ code: String) -> Bool {
        let words = line.split(separator: " ").map(String.init)
        guard let first = words.first else { return false }
        if first.hasPrefix(code) { return true }
        if words.count > 1, words[1].hasPrefix(code) { return true }
        return false
    }
}
