import Foundation
import Yams

/// Parses scenario files strictly: unknown keys, wrong types and missing translations are
/// diagnostics with the line of the offending node.
public enum ScenarioParser {
    public static func parse(_ text: String, file: String) -> (Scenario?, [Diagnostic]) {
        let reader = NodeReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.diagnostics) }
        let scenario = parse(root, reader: reader)
        return (reader.diagnostics.isEmpty ? scenario : nil, reader.diagnostics)
    }

    static func parse(_ root: Node, reader r: NodeReader) -> Scenario? {
        guard let f = r.mapping(root, what: "scenario", allowed: ["id", "title", "summary", "seed", "covers", "vars", "world", "steps"],
                                required: ["id", "title", "world", "steps"]) else { return nil }
        let id = f["id"].flatMap { ContentID.read($0, what: "id", reader: r) }
        let title = f["title"].flatMap { r.text($0, what: "title") }
        let summary = f["summary"].flatMap { r.text($0, what: "summary") }
        let seed = f["seed"].flatMap { r.int($0, what: "seed", range: 0...Int.max) }.map(UInt64.init) ?? 1
        let covers = f["covers"].flatMap { r.strings($0, what: "covers") } ?? []
        let world = f["world"].flatMap { parseWorld($0, reader: r) } ?? WorldSpec()
        var steps: [Step] = []
        for node in f["steps"].flatMap({ r.sequence($0, what: "steps") }) ?? [] {
            if let step = parseStep(node, reader: r) { steps.append(step) }
        }
        guard let id, let title else { return nil }
        return Scenario(id: id, title: title, summary: summary, seed: seed, covers: covers, world: world, steps: steps,
                        location: SourceLocation(file: r.file, line: r.line(root)))
    }

    // MARK: World

    static func parseWorld(_ node: Node, reader r: NodeReader) -> WorldSpec? {
        guard let f = r.mapping(node, what: "world", allowed: ["hosts", "dns", "users", "devices", "admin"], required: ["hosts"]) else { return nil }
        var world = WorldSpec()
        if let node = f["admin"], let a = r.mapping(node, what: "admin", allowed: ["zones", "hosts"], required: []) {
            world.admin.zones = (a["zones"].flatMap { r.strings($0, what: "admin zones") } ?? []).map { $0.lowercased() }
            world.admin.hosts = (a["hosts"].flatMap { r.strings($0, what: "admin hosts") } ?? []).map { $0.lowercased() }
        }
        for item in f["hosts"].flatMap({ r.sequence($0, what: "hosts") }) ?? [] {
            if let host = parseHost(item, reader: r) { world.hosts.append(host) }
        }
        for item in f["dns"].flatMap({ r.sequence($0, what: "dns") }) ?? [] {
            guard let d = r.mapping(item, what: "dns record", allowed: ["name", "type", "value", "preference"],
                                    required: ["name", "type", "value"]) else { continue }
            let type = d["type"].flatMap { r.choice($0, what: "dns record type", as: DNSType.self) }
            let preference = d["preference"].flatMap { r.int($0, what: "preference", range: 0...65535) }
            if type == .MX, preference == nil, !d.has("preference") {
                r.error(item, fr: "enregistrement MX : clé « preference » manquante", en: "MX record: missing key 'preference'")
            }
            guard let name = d["name"].flatMap({ r.nonEmptyString($0, what: "dns record name") }),
                  let value = d["value"].flatMap({ r.string($0, what: "dns record value") }), let type else { continue }
            world.dns.append(DNSRecordSpec(name: name, type: type, value: value, preference: preference, line: r.line(item)))
        }
        for item in f["users"].flatMap({ r.sequence($0, what: "users") }) ?? [] {
            if let user = parseUser(item, reader: r) { world.users.append(user) }
        }
        for item in f["devices"].flatMap({ r.sequence($0, what: "devices") }) ?? [] {
            if let device = parseDevice(item, reader: r) { world.devices.append(device) }
        }
        if let node = f["admin"] {
            for host in world.admin.hosts where !world.hosts.contains(where: { $0.name.lowercased() == host }) {
                r.error(node, fr: "admin : l'hôte « \(host) » n'est pas dans « hosts »", en: "admin: host '\(host)' is not in 'hosts'")
            }
        }
        return world
    }

    static func parseHost(_ node: Node, reader r: NodeReader) -> HostSpec? {
        guard let f = r.mapping(node, what: "host", allowed: ["name", "address", "services", "mta", "mda", "up"],
                                required: ["name", "address"]) else { return nil }
        let name = f["name"].flatMap { r.nonEmptyString($0, what: "host name") }
        let address = f["address"].flatMap { r.string($0, what: "address") }
        if let address, let addressNode = f["address"], !isIPv4(address) {
            r.error(addressNode, fr: "adresse IPv4 invalide « \(address) »", en: "invalid IPv4 address '\(address)'")
        }
        var services: [ServiceSpec] = []
        for item in f["services"].flatMap({ r.sequence($0, what: "services") }) ?? [] {
            if item.scalar != nil {
                guard let kind = r.choice(item, what: "service", as: ServiceKind.self) else { continue }
                services.append(ServiceSpec(kind: kind, port: kind.standardPort, tls: kind.defaultTLS))
            } else if let s = r.mapping(item, what: "service", allowed: ["service", "port", "tls"], required: ["service"]) {
                guard let kind = s["service"].flatMap({ r.choice($0, what: "service", as: ServiceKind.self) }) else { continue }
                let port = s["port"].flatMap { r.int($0, what: "port", range: 1...65535) } ?? kind.standardPort
                let tls = s["tls"].flatMap { r.choice($0, what: "tls", as: TLSMode.self) } ?? kind.defaultTLS
                services.append(ServiceSpec(kind: kind, port: port, tls: tls))
            }
        }
        var seenPorts = Set<Int>()
        for service in services where !seenPorts.insert(service.port).inserted {
            r.error(f["services"], fr: "port \(service.port) déclaré deux fois", en: "port \(service.port) declared twice")
        }
        let mta = f["mta"].flatMap { parseMTA($0, reader: r) }
        let mda = f["mda"].flatMap { node -> MDASpec? in
            guard let m = r.mapping(node, what: "mda", allowed: ["domains", "quota-messages", "require-tls-auth"]) else { return nil }
            return MDASpec(domains: m["domains"].flatMap { r.strings($0, what: "domains") } ?? [],
                           quotaMessages: m["quota-messages"].flatMap { r.int($0, what: "quota-messages", range: 1...1_000_000) },
                           requireTLSForAuth: m["require-tls-auth"].flatMap { r.bool($0, what: "require-tls-auth") })
        }
        let up = f["up"].flatMap { r.bool($0, what: "up") } ?? true
        guard let name, let address else { return nil }
        return HostSpec(name: name, address: address, services: services, mta: mta, mda: mda, up: up, line: r.line(node))
    }

    static func parseMTA(_ node: Node, reader r: NodeReader) -> MTASpec? {
        guard let m = r.mapping(node, what: "mta", allowed: ["relay", "mynetworks", "domains", "require-tls-auth", "retry",
                                                             "warn-after", "bounce-after", "backup-for",
                                                             "destination-concurrency", "connection-cache", "blocklists",
                                                             "auth-mechanisms"]) else { return nil }
        var mta = MTASpec()
        if let relay = m["relay"].flatMap({ r.choice($0, what: "relay", as: RelayPolicy.self) }) { mta.relay = relay }
        mta.mynetworks = m["mynetworks"].flatMap { r.strings($0, what: "mynetworks") } ?? []
        mta.domains = m["domains"].flatMap { r.strings($0, what: "domains") } ?? []
        if let value = m["require-tls-auth"].flatMap({ r.bool($0, what: "require-tls-auth") }) { mta.requireTLSForAuth = value }
        mta.retry = (m["retry"].flatMap { r.sequence($0, what: "retry") } ?? []).compactMap { r.duration($0, what: "retry") }
        mta.warnAfter = m["warn-after"].flatMap { r.duration($0, what: "warn-after") }
        mta.bounceAfter = m["bounce-after"].flatMap { r.duration($0, what: "bounce-after") }
        mta.backupFor = m["backup-for"].flatMap { r.strings($0, what: "backup-for") } ?? []
        mta.blocklists = m["blocklists"].flatMap { r.strings($0, what: "blocklists") } ?? []
        mta.destinationConcurrency = m["destination-concurrency"].flatMap {
            r.int($0, what: "destination-concurrency", range: 1...1000)
        }
        mta.connectionCache = m["connection-cache"].flatMap { r.bool($0, what: "connection-cache") }
        if let node = m["auth-mechanisms"], let items = r.sequence(node, what: "auth-mechanisms") {
            var mechanisms: [AuthMechanism] = []
            for item in items {
                guard let mechanism = r.choice(item, what: "auth-mechanisms", as: AuthMechanism.self) else { continue }
                if mechanisms.contains(mechanism) {
                    r.error(item, fr: "auth-mechanisms : \(mechanism.rawValue) donné deux fois", en: "auth-mechanisms: \(mechanism.rawValue) given twice")
                } else {
                    mechanisms.append(mechanism)
                }
            }
            if items.isEmpty {
                r.error(node, fr: "auth-mechanisms : au moins un mécanisme", en: "auth-mechanisms: at least one mechanism")
            }
            mta.authMechanisms = mechanisms
        }
        return mta
    }

    static func parseUser(_ node: Node, reader r: NodeReader) -> UserSpec? {
        guard let f = r.mapping(node, what: "user", allowed: ["address", "login", "password", "host", "folders", "messages"],
                                required: ["address", "password", "host"]) else { return nil }
        let address = f["address"].flatMap { r.nonEmptyString($0, what: "user address") }
        if let address, let addressNode = f["address"], !address.contains("@") {
            r.error(addressNode, fr: "adresse de courriel invalide « \(address) »", en: "invalid mail address '\(address)'")
        }
        let login = f["login"].flatMap { r.nonEmptyString($0, what: "login") }
        let password = f["password"].flatMap { r.string($0, what: "password") }
        let host = f["host"].flatMap { r.nonEmptyString($0, what: "user host") }
        let folders = f["folders"].flatMap { r.strings($0, what: "folders") } ?? []
        var messages: [SeedMessage] = []
        for item in f["messages"].flatMap({ r.sequence($0, what: "messages") }) ?? [] {
            guard let m = r.mapping(item, what: "message", allowed: ["from", "subject", "body", "folder", "flags"],
                                    required: ["from", "subject"]) else { continue }
            guard let from = m["from"].flatMap({ r.string($0, what: "from") }),
                  let subject = m["subject"].flatMap({ r.string($0, what: "subject") }) else { continue }
            messages.append(SeedMessage(from: from, subject: subject,
                                        body: m["body"].flatMap { r.string($0, what: "body") } ?? "",
                                        folder: m["folder"].flatMap { r.string($0, what: "folder") } ?? "INBOX",
                                        flags: m["flags"].flatMap { r.strings($0, what: "flags") } ?? []))
        }
        guard let address, let password, let host else { return nil }
        let defaultLogin = String(address.split(separator: "@").first ?? Substring(address))
        return UserSpec(address: address, login: login ?? defaultLogin, password: password, host: host,
                        folders: folders, messages: messages, line: r.line(node))
    }

    static func parseDevice(_ node: Node, reader r: NodeReader) -> DeviceSpec? {
        guard let f = r.mapping(node, what: "device", allowed: ["name", "user", "incoming", "outgoing"],
                                required: ["name", "user"]) else { return nil }
        let name = f["name"].flatMap { r.nonEmptyString($0, what: "device name") }
        let user = f["user"].flatMap { r.nonEmptyString($0, what: "device user") }
        let incoming = f["incoming"].flatMap { node -> IncomingSpec? in
            guard let m = r.mapping(node, what: "incoming", allowed: ["protocol", "host", "port", "tls", "mode", "days", "idle"],
                                    required: ["protocol", "host"]) else { return nil }
            guard let kind = m["protocol"].flatMap({ r.choice($0, what: "protocol", as: MailProtocol.self) }),
                  let host = m["host"].flatMap({ r.nonEmptyString($0, what: "host") }) else { return nil }
            if kind != .pop3, kind != .imap, let p = m["protocol"] {
                r.error(p, fr: "protocole entrant : pop3 ou imap attendu", en: "incoming protocol: expected pop3 or imap")
            }
            let tls = m["tls"].flatMap { r.choice($0, what: "tls", as: TLSMode.self) } ?? .implicit
            let defaultPort = kind == .pop3 ? (tls == .implicit ? 995 : 110) : (tls == .implicit ? 993 : 143)
            return IncomingSpec(protocolKind: kind, host: host,
                                port: m["port"].flatMap { r.int($0, what: "port", range: 1...65535) } ?? defaultPort,
                                tls: tls, mode: m["mode"].flatMap { r.choice($0, what: "mode", as: POP3Mode.self) },
                                days: m["days"].flatMap { r.int($0, what: "days", range: 1...3650) },
                                idle: m["idle"].flatMap { r.bool($0, what: "idle") } ?? true)
        }
        let outgoing = f["outgoing"].flatMap { node -> OutgoingSpec? in
            guard let m = r.mapping(node, what: "outgoing", allowed: ["host", "port", "tls", "auth"], required: ["host"]) else { return nil }
            guard let host = m["host"].flatMap({ r.nonEmptyString($0, what: "host") }) else { return nil }
            return OutgoingSpec(host: host, port: m["port"].flatMap { r.int($0, what: "port", range: 1...65535) } ?? 587,
                                tls: m["tls"].flatMap { r.choice($0, what: "tls", as: TLSMode.self) } ?? .starttls,
                                auth: m["auth"].flatMap { r.bool($0, what: "auth") } ?? true)
        }
        guard let name, let user else { return nil }
        return DeviceSpec(name: name, user: user, incoming: incoming, outgoing: outgoing, line: r.line(node))
    }

    // MARK: Steps

    static let stepKeys = ["narrate", "send", "fetch", "sync", "configure", "down", "up", "crash", "partition", "heal",
                           "advance", "expect", "task"]

    static func parseStep(_ node: Node, reader r: NodeReader) -> Step? {
        guard let f = r.mapping(node, what: "step", allowed: stepKeys) else { return nil }
        guard f.entries.count == 1, let entry = f.entries.first else {
            if f.entries.count > 1 {
                r.error(node, fr: "étape : une seule action par étape (trouvé : \(f.keys.joined(separator: ", ")))",
                        en: "step: exactly one action per step (found: \(f.keys.joined(separator: ", ")))")
            } else {
                r.error(node, fr: "étape vide", en: "empty step")
            }
            return nil
        }
        let value = entry.value
        let action: StepAction?
        switch entry.key {
        case "narrate":
            action = r.text(value, what: "narrate").map(StepAction.narrate)
        case "send":
            action = parseSend(value, reader: r).map { .world(.send($0)) }
        case "fetch":
            action = r.nonEmptyString(value, what: "fetch").map { .world(.fetch(device: $0)) }
        case "sync":
            action = r.nonEmptyString(value, what: "sync").map { .world(.sync(device: $0)) }
        case "configure":
            action = parseConfigure(value, reader: r).map { .world(.configure($0)) }
        case "down":
            action = r.nonEmptyString(value, what: "down").map { .world(.fault(.down($0))) }
        case "up":
            action = r.nonEmptyString(value, what: "up").map { .world(.fault(.up($0))) }
        case "crash":
            action = r.nonEmptyString(value, what: "crash").map { .world(.fault(.crash($0))) }
        case "partition", "heal":
            let pair = r.strings(value, what: entry.key) ?? []
            if pair.count != 2 {
                r.error(value, fr: "\(entry.key) : deux hôtes attendus", en: "\(entry.key): expected two hosts")
                action = nil
            } else {
                action = .world(.fault(entry.key == "partition" ? .partition(pair[0], pair[1]) : .heal(pair[0], pair[1])))
            }
        case "advance":
            action = r.duration(value, what: "advance").map { .world(.advance(seconds: $0)) }
        case "expect":
            let items = value.sequence != nil ? (r.sequence(value, what: "expect") ?? []) : [value]
            var goals: [Goal] = []
            for (index, item) in items.enumerated() {
                if let goal = GoalParser.parse(item, index: index, requireText: false, reader: r) { goals.append(goal) }
            }
            action = .expect(goals)
        case "task":
            action = TaskParser.parse(value, reader: r).map(StepAction.task)
        default:
            action = nil
        }
        return action.map { Step(line: r.line(node), action: $0) }
    }

    static func parseSend(_ node: Node, reader r: NodeReader) -> SendAction? {
        guard let m = r.mapping(node, what: "send", allowed: ["device", "from", "to", "subject", "body", "refused"],
                                required: ["to"]) else { return nil }
        let device = m["device"].flatMap { r.nonEmptyString($0, what: "device") }
        let from = m["from"].flatMap { r.nonEmptyString($0, what: "from") }
        if device == nil, from == nil, !m.has("device"), !m.has("from") {
            r.error(node, fr: "send : « device » ou « from » requis", en: "send: needs 'device' or 'from'")
        }
        guard let to = m["to"].flatMap({ r.strings($0, what: "to") }), !to.isEmpty else { return nil }
        return SendAction(device: device, from: from ?? "", to: to,
                          subject: m["subject"].flatMap { r.string($0, what: "subject") } ?? "",
                          body: m["body"].flatMap { r.string($0, what: "body") } ?? "",
                          expectRefusal: m["refused"].flatMap { r.bool($0, what: "refused") } ?? false)
    }

    static func parseConfigure(_ node: Node, reader r: NodeReader) -> ConfigureAction? {
        guard let m = r.mapping(node, what: "configure",
                                allowed: ["host", "device"] + ConfigureAction.hostKeys + ConfigureAction.deviceKeys) else { return nil }
        let target: ConfigureAction.Target
        if let host = m["host"].flatMap({ r.nonEmptyString($0, what: "host") }), !m.has("device") {
            target = .host(host)
        } else if let device = m["device"].flatMap({ r.nonEmptyString($0, what: "device") }), !m.has("host") {
            target = .device(device)
        } else {
            r.error(node, fr: "configure : exactement une cible, « host » ou « device »", en: "configure: exactly one target, 'host' or 'device'")
            return nil
        }
        let allowed: [String]
        switch target {
        case .host: allowed = ConfigureAction.hostKeys
        case .device: allowed = ConfigureAction.deviceKeys
        }
        var settings: [ConfigureAction.Setting] = []
        for entry in m.entries where entry.key != "host" && entry.key != "device" {
            guard allowed.contains(entry.key) else {
                r.error(entry.keyNode, fr: "configure : « \(entry.key) » ne s'applique pas à cette cible",
                        en: "configure: '\(entry.key)' does not apply to this target")
                continue
            }
            let value: String?
            if entry.value.sequence != nil {
                value = r.strings(entry.value, what: entry.key)?.joined(separator: ",")
            } else {
                value = r.string(entry.value, what: entry.key)
            }
            if let value { settings.append(.init(key: entry.key, value: value)) }
        }
        return ConfigureAction(target: target, settings: settings)
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && (Int(part).map { (0...255).contains($0) } ?? false)
        }
    }
}

/// Ids of lessons, scenarios, goals and questions: lower-case letters, digits, `-`, `_`, `.`.
enum ContentID {
    static func read(_ node: Node, what: String, reader r: NodeReader) -> String? {
        guard let id = r.nonEmptyString(node, what: what) else { return nil }
        let ok = id.count <= 64 && id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        }
        if !ok {
            r.error(node, fr: "\(what) « \(id) » : lettres minuscules, chiffres, -, _ et . seulement",
                    en: "\(what) '\(id)': only lower-case letters, digits, -, _ and . are allowed")
            return nil
        }
        return id
    }
}

/// Goals in YAML: `{id, fr, en, after?, <one predicate key>: …}`.
enum GoalParser {
    static func parse(_ node: Node, index: Int, requireText: Bool, reader r: NodeReader) -> Goal? {
        guard let f = r.mapping(node, what: "goal", allowed: ["id", "fr", "en", "after"] + GoalPredicate.keys) else { return nil }
        let predicateKeys = f.keys.filter { GoalPredicate.keys.contains($0) }
        guard predicateKeys.count == 1, let key = predicateKeys.first, let value = f[key] else {
            r.error(node, fr: "but : exactement un prédicat attendu parmi \(GoalPredicate.keys.joined(separator: ", "))",
                    en: "goal: expected exactly one predicate among \(GoalPredicate.keys.joined(separator: ", "))")
            return nil
        }
        let id = f["id"].flatMap { ContentID.read($0, what: "goal id", reader: r) } ?? "\(key)-\(index + 1)"
        if requireText, !f.has("id") {
            r.error(node, fr: "but : clé « id » manquante", en: "goal: missing key 'id'")
        }
        var description: LocalizedText?
        if requireText || f.has("fr") || f.has("en") { description = r.inlineText(f, what: "goal") }
        guard let predicate = parsePredicate(key, value, reader: r) else { return nil }
        let after = f["after"].flatMap { ContentID.read($0, what: "after", reader: r) }
        if after != nil, predicate.patterns.isEmpty {
            r.error(f["after"], fr: "after : seulement pour un but sur un fait (événement)", en: "after: only for an event goal")
        }
        return Goal(id: id, description: description, predicate: predicate, after: after, line: r.line(node))
    }

    /// An event pattern: `KIND: true` (any such fact) or `KIND: {field: value | [values], …}`.
    static func parsePattern(_ key: String, _ value: Node, reader r: NodeReader) -> FactPattern? {
        guard let kind = FactPattern.kind(named: key) else { return nil }
        if let scalar = value.scalar?.string {
            guard scalar == "true" || scalar == "any" else {
                r.error(value, fr: "\(key) : « true » ou une table de champs attendue", en: "\(key): expected 'true' or a mapping of fields")
                return nil
            }
            return FactPattern(kind: key)
        }
        let allowed = FactPattern.commonFields + kind.fields
        guard let m = r.mapping(value, what: key, allowed: allowed + kind.fields.map { $0 + "-any" }) else { return nil }
        var constraints: [FactConstraint] = []
        for field in m.keys {
            guard let node = m[field] else { continue }
            let values: [String]?
            if node.sequence != nil {
                values = r.strings(node, what: field)
            } else {
                values = r.string(node, what: field).map { [$0] }
            }
            guard let values, !values.isEmpty else {
                r.error(node, fr: "\(key).\(field) : valeur vide", en: "\(key).\(field): empty value")
                continue
            }
            constraints.append(FactConstraint(key: field, values: values))
        }
        return FactPattern(kind: key, constraints: constraints)
    }

    static func parsePredicate(_ key: String, _ value: Node, reader r: NodeReader) -> GoalPredicate? {
        if FactPattern.kind(named: key) != nil { return parsePattern(key, value, reader: r).map { .event($0) } }
        switch key {
        case "any-of":
            // `any-of: [{KIND: {…}}, {KIND: {…}}]`: equivalent ways to the same goal.
            var patterns: [FactPattern] = []
            for item in r.sequence(value, what: "any-of") ?? [] {
                let kinds = FactPattern.kinds.map(\.name)
                guard let f = r.mapping(item, what: "any-of", allowed: kinds) else { continue }
                guard f.keys.count == 1, let kind = f.keys.first, let node = f[kind] else {
                    r.error(item, fr: "any-of : un fait par élément", en: "any-of: one fact per entry")
                    continue
                }
                if let pattern = parsePattern(kind, node, reader: r) { patterns.append(pattern) }
            }
            guard patterns.count >= 2 else {
                r.error(value, fr: "any-of : au moins deux façons", en: "any-of: at least two ways")
                return nil
            }
            return .anyEvent(patterns)
        case "flag":
            guard let m = r.mapping(value, what: "flag", allowed: ["user", "folder", "message", "flag", "set"],
                                    required: ["user", "message", "flag"]) else { return nil }
            guard let user = m["user"].flatMap({ r.nonEmptyString($0, what: "user") }),
                  let message = m["message"].flatMap({ r.int($0, what: "message", range: 1...1_000_000) }),
                  let flag = m["flag"].flatMap({ r.nonEmptyString($0, what: "flag") }) else { return nil }
            return .flag(user: user, folder: m["folder"].flatMap { r.string($0, what: "folder") } ?? "INBOX",
                         message: message, flag: flag, set: m["set"].flatMap { r.bool($0, what: "set") } ?? true)
        case "mailbox-count":
            guard let m = r.mapping(value, what: "mailbox-count", allowed: ["user", "folder", "count", "at-least"],
                                    required: ["user"]) else { return nil }
            guard let user = m["user"].flatMap({ r.nonEmptyString($0, what: "user") }) else { return nil }
            let exact = m["count"].flatMap { r.int($0, what: "count", range: 0...1_000_000) }
            let least = m["at-least"].flatMap { r.int($0, what: "at-least", range: 0...1_000_000) }
            guard (exact == nil) != (least == nil) else {
                r.error(value, fr: "mailbox-count : « count » ou « at-least » (un seul)", en: "mailbox-count: 'count' or 'at-least' (exactly one)")
                return nil
            }
            return .mailboxCount(user: user, folder: m["folder"].flatMap { r.string($0, what: "folder") } ?? "INBOX",
                                 count: exact ?? least ?? 0, atLeast: least != nil)
        case "message":
            guard let m = r.mapping(value, what: "message", allowed: ["user", "folder", "from", "subject", "header", "body", "present"],
                                    required: ["user"]) else { return nil }
            guard let user = m["user"].flatMap({ r.nonEmptyString($0, what: "user") }) else { return nil }
            let header = m["header"].flatMap { r.nonEmptyString($0, what: "header") }
            if let header, !header.contains(":") {
                r.error(value, fr: "message : header s'écrit « Nom: partie de la valeur »", en: "message: header is written 'Name: part of the value'")
                return nil
            }
            return .message(user: user, folder: m["folder"].flatMap { r.string($0, what: "folder") } ?? "INBOX",
                            from: m["from"].flatMap { r.string($0, what: "from") },
                            subject: m["subject"].flatMap { r.string($0, what: "subject") },
                            content: MessageContent(header: header, body: m["body"].flatMap { r.nonEmptyString($0, what: "body") },
                                                    present: m["present"].flatMap { r.bool($0, what: "present") } ?? true))
        case "queue-empty":
            if value.scalar != nil {
                let text = r.string(value, what: "queue-empty") ?? ""
                return .queueEmpty(host: text == "true" || text == "any" ? nil : text)
            }
            guard let m = r.mapping(value, what: "queue-empty", allowed: ["host"]) else { return nil }
            return .queueEmpty(host: m["host"].flatMap { r.nonEmptyString($0, what: "host") })
        case "queue-count":
            guard let m = r.mapping(value, what: "queue-count", allowed: ["host", "count"], required: ["count"]) else { return nil }
            guard let count = m["count"].flatMap({ r.int($0, what: "count", range: 0...1_000_000) }) else { return nil }
            return .queueCount(host: m["host"].flatMap { r.nonEmptyString($0, what: "host") }, count: count)
        case "dns":
            guard let m = r.mapping(value, what: "dns", allowed: ["name", "type", "value", "present"], required: ["name", "type"]) else { return nil }
            guard let name = m["name"].flatMap({ r.nonEmptyString($0, what: "name") }),
                  let type = m["type"].flatMap({ r.choice($0, what: "dns record type", as: DNSType.self) }) else { return nil }
            return .dnsRecord(name: name, type: type, value: m["value"].flatMap { r.string($0, what: "value") },
                              present: m["present"].flatMap { r.bool($0, what: "present") } ?? true)
        default:
            return nil
        }
    }

    /// A forbidden fact: `{id, fr, en, <event kind>: …}`; fr/en explain why it ends the attempt.
    static func parseForbidden(_ node: Node, index: Int, reader r: NodeReader) -> ForbiddenFact? {
        let kinds = FactPattern.kinds.map(\.name)
        guard let f = r.mapping(node, what: "forbidden", allowed: ["id", "fr", "en"] + kinds, required: ["fr", "en"]) else { return nil }
        let keys = f.keys.filter { kinds.contains($0) }
        guard keys.count == 1, let key = keys.first, let value = f[key] else {
            r.error(node, fr: "forbidden : exactement un fait attendu parmi \(kinds.joined(separator: ", "))",
                    en: "forbidden: expected exactly one fact among \(kinds.joined(separator: ", "))")
            return nil
        }
        guard let pattern = parsePattern(key, value, reader: r), let text = r.inlineText(f, what: "forbidden") else { return nil }
        let id = f["id"].flatMap { ContentID.read($0, what: "forbidden id", reader: r) } ?? "forbidden-\(index + 1)"
        return ForbiddenFact(id: id, explanation: text, pattern: pattern, line: r.line(node))
    }
}

/// Learner tasks: `{id, fr, en, session?, goals, hints, solution?, advice?, covers?}`.
enum TaskParser {
    static func parse(_ node: Node, reader r: NodeReader) -> LearnerTask? {
        guard let f = r.mapping(node, what: "task", allowed: ["id", "fr", "en", "session", "goals", "keep", "forbidden", "hints",
                                                            "solution", "also-solutions", "counter-examples", "advice", "covers"],
                                required: ["id", "goals"]) else { return nil }
        let id = f["id"].flatMap { ContentID.read($0, what: "task id", reader: r) }
        let instructions = r.inlineText(f, what: "task")
        var session: SessionTarget?
        if let s = f["session"].flatMap({ r.mapping($0, what: "session", allowed: ["host", "port", "tls"], required: ["host", "port"]) }) {
            if let host = s["host"].flatMap({ r.nonEmptyString($0, what: "host") }),
               let port = s["port"].flatMap({ r.int($0, what: "port", range: 1...65535) }) {
                session = SessionTarget(host: host, port: port, tls: s["tls"].flatMap { r.bool($0, what: "tls") } ?? false)
            }
        }
        var goals: [Goal] = []
        let goalNodes = f["goals"].flatMap { r.sequence($0, what: "goals") } ?? []
        if goalNodes.isEmpty, let g = f["goals"] { r.error(g, fr: "goals : liste vide", en: "goals: empty list") }
        for (index, item) in goalNodes.enumerated() {
            if let goal = GoalParser.parse(item, index: index, requireText: true, reader: r) {
                if goals.contains(where: { $0.id == goal.id }) {
                    r.error(item, fr: "but « \(goal.id) » en double", en: "duplicate goal id '\(goal.id)'")
                } else {
                    goals.append(goal)
                }
            }
        }
        for (index, item) in (f["keep"].flatMap { r.sequence($0, what: "keep") } ?? []).enumerated() {
            guard var goal = GoalParser.parse(item, index: index, requireText: true, reader: r) else { continue }
            if goal.isEvent {
                r.error(item, fr: "keep : seulement des prédicats d'état (\(GoalPredicate.stateKeys.joined(separator: ", ")))",
                        en: "keep: state predicates only (\(GoalPredicate.stateKeys.joined(separator: ", ")))")
                continue
            }
            goal.isInvariant = true
            if goals.contains(where: { $0.id == goal.id }) {
                r.error(item, fr: "but « \(goal.id) » en double", en: "duplicate goal id '\(goal.id)'")
            } else {
                goals.append(goal)
            }
        }
        for goal in goals {
            if let after = goal.after, !goals.contains(where: { $0.id == after && $0.isEvent }) {
                r.error(line: goal.line, fr: "after : « \(after) » n'est pas un but événement de cette tâche",
                        en: "after: '\(after)' is not an event goal of this task")
            }
        }
        let forbidden = (f["forbidden"].flatMap { r.sequence($0, what: "forbidden") } ?? []).enumerated().compactMap {
            GoalParser.parseForbidden($0.element, index: $0.offset, reader: r)
        }
        let hints = (f["hints"].flatMap { r.sequence($0, what: "hints") } ?? []).compactMap { r.text($0, what: "hint") }
        var solution: [String]?
        if let node = f["solution"] {
            if node.sequence != nil {
                solution = r.strings(node, what: "solution")
            } else {
                r.error(node, fr: "solution : la liste des lignes que l'apprenant tape (machine-lisible, rejouée par check)",
                        en: "solution: the list of lines a learner types (machine-readable, replayed by check)")
            }
        }
        // `also-solutions:` — other valid ways: each a list of lines, or `{fr, en, lines}` saying
        // what makes it another way.
        var alternatives: [AlternativeSolution] = []
        for item in f["also-solutions"].flatMap({ r.sequence($0, what: "also-solutions") }) ?? [] {
            if item.sequence != nil {
                if let lines = r.strings(item, what: "also-solutions") { alternatives.append(AlternativeSolution(why: nil, lines: lines, line: r.line(item))) }
                continue
            }
            guard let a = r.mapping(item, what: "also-solution", allowed: ["fr", "en", "lines"], required: ["lines"]),
                  let lines = a["lines"].flatMap({ r.strings($0, what: "lines") }) else { continue }
            var why: LocalizedText?
            if a.has("fr") || a.has("en") {
                guard let text = r.inlineText(a, what: "also-solution") else { continue }
                why = text
            }
            if lines.isEmpty { r.error(item, fr: "also-solutions : liste de lignes vide", en: "also-solutions: empty list of lines") }
            alternatives.append(AlternativeSolution(why: why, lines: lines, line: r.line(item)))
        }
        if !alternatives.isEmpty, solution == nil, let node = f["also-solutions"] {
            r.error(node, fr: "also-solutions : il faut d'abord une solution:", en: "also-solutions: needs a solution: first")
        }
        var counterExamples: [CounterExample] = []
        for item in f["counter-examples"].flatMap({ r.sequence($0, what: "counter-examples") }) ?? [] {
            guard let c = r.mapping(item, what: "counter-example", allowed: ["fr", "en", "lines"], required: ["lines"]),
                  let lines = c["lines"].flatMap({ r.strings($0, what: "lines") }), let why = r.inlineText(c, what: "counter-example")
            else { continue }
            counterExamples.append(CounterExample(why: why, lines: lines, line: r.line(item)))
        }
        var advice: [ReplyAdvice] = []
        for item in f["advice"].flatMap({ r.sequence($0, what: "advice") }) ?? [] {
            guard let a = r.mapping(item, what: "advice", allowed: ["code", "fr", "en"], required: ["code"]) else { continue }
            if let code = a["code"].flatMap({ r.nonEmptyString($0, what: "code") }), let text = r.inlineText(a, what: "advice") {
                advice.append(ReplyAdvice(code: code, text: text))
            }
        }
        let covers = f["covers"].flatMap { r.strings($0, what: "covers") } ?? []
        guard let id, let instructions else { return nil }
        return LearnerTask(id: id, instructions: instructions, session: session, goals: goals, forbidden: forbidden, hints: hints,
                           solution: solution, alternatives: alternatives, counterExamples: counterExamples, advice: advice, covers: covers,
                           line: r.line(node))
    }
}
