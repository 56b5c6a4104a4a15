// The administrator's commands of the REPL: `dns` publishes and removes records in a zone the
// learner administers, `mta` shows and changes the settings of an MTA the learner runs. What a
// learner may change comes from the world (a scenario's `admin:`); elsewhere both say so.

import Foundation

extension ReplCore {
    /// MTA settings a learner may change, with the values they take.
    static let learnerMTAKeys: [(key: String, values: String)] = [
        ("relay", "open|authenticated|mynetworks"),
        ("mynetworks", "NETWORK[,NETWORK]"),
        ("require-tls-auth", "yes|no"),
        ("dkim", "SELECTOR|off"),
    ]

    /// `dns [list [ZONE]]`, `dns add NAME TYPE VALUE`, `dns del NAME TYPE [VALUE]`.
    func dnsCommand(_ args: [String]) -> String {
        let form = "dns [list [ZONE]] | dns add NAME A|MX|TXT VALUE | dns del NAME A|MX|TXT [VALUE]"
        return worldOrMessage { world in
            let zones = world.administration.zones
            let verb = args.first?.lowercased() ?? "list"
            switch verb {
            case "list":
                guard args.count <= 2 else { return usage(form) }
                if zones.isEmpty {
                    return t("Vous n'administrez aucune zone DNS ici ; « dig NOM TYPE » lit celles des autres.\n",
                             "You administer no DNS zone here; 'dig NAME TYPE' reads other people's.\n")
                }
                let wanted = args.count == 2 ? [args[1].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))] : zones
                var out = ""
                for zone in wanted {
                    guard zones.contains(zone) else {
                        return t("« \(Printable.escape(zone)) » n'est pas une de vos zones (\(zones.joined(separator: ", "))).\n",
                                 "'\(Printable.escape(zone))' is not one of your zones (\(zones.joined(separator: ", "))).\n")
                    }
                    out += t("Zone \(zone) :\n", "Zone \(zone):\n")
                    let records = world.records(zone: zone)
                    if records.isEmpty { out += t("  (vide)\n", "  (empty)\n") }
                    for record in records {
                        let value = record.type == .MX ? "\(record.preference ?? 0) \(record.value)" : record.type == .TXT ? "\"\(record.value)\"" : record.value
                        out += "  \(record.name).  \(record.ttl)  IN  \(record.type.rawValue)  \(Printable.escape(value))\n"
                    }
                }
                return out
            case "add", "del", "delete", "rm":
                guard args.count >= 3 else { return usage(form) }
                guard let type = DNSType(rawValue: args[2].uppercased()) else {
                    return t("Type « \(Printable.escape(args[2])) » : ici A, MX ou TXT.\n", "Type '\(Printable.escape(args[2]))': A, MX or TXT here.\n")
                }
                let rest = Array(args.dropFirst(3))
                let change: DNSChange
                if verb == "add" {
                    guard !rest.isEmpty else { return usage(form) }
                    switch type {
                    case .MX:
                        guard rest.count == 2, let preference = Int(rest[0]) else {
                            return usage("dns add NAME MX PREFERENCE HOST")
                        }
                        change = .add(name: args[1], type: .MX, value: rest[1], preference: preference)
                    case .A:
                        guard rest.count == 1 else { return usage("dns add NAME A ADDRESS") }
                        change = .add(name: args[1], type: .A, value: rest[0], preference: nil)
                    case .TXT:
                        change = .add(name: args[1], type: .TXT, value: Self.unquoted(rest.joined(separator: " ")), preference: nil)
                    }
                } else {
                    var value: String? = rest.isEmpty ? nil : Self.unquoted(rest.joined(separator: " "))
                    if type == .MX, rest.count == 2, Int(rest[0]) != nil { value = rest[1] }
                    change = .remove(name: args[1], type: type, value: value)
                }
                return t(try world.change(dns: change)) + "\n"
            default:
                return usage(form)
            }
        }
    }

    /// `mta [HOST]` shows an MTA's settings; `mta HOST KEY VALUE` changes one.
    func mtaCommand(_ args: [String]) -> String {
        let form = "mta [HOST] | mta HOST KEY VALUE"
        return worldOrMessage { world in
            let hosts = world.administration.hosts
            guard args.count != 2 else { return usage(form) }
            if args.isEmpty {
                if hosts.isEmpty {
                    return t("Vous n'administrez aucun MTA dans ce monde.\n", "You administer no MTA in this world.\n")
                }
                return try hosts.map { try settingsTable(world, host: $0) }.joined(separator: "\n")
            }
            let host = args[0].lowercased()
            guard hosts.contains(host) else {
                let yours = hosts.isEmpty ? t("aucun", "none") : hosts.joined(separator: ", ")
                return t("Vous n'administrez pas \(Printable.escape(args[0])) (vos MTA : \(yours)).\n",
                         "You do not administer \(Printable.escape(args[0])) (your MTAs: \(yours)).\n")
            }
            if args.count == 1 { return try settingsTable(world, host: host) }
            let key = args[1].lowercased()
            guard Self.learnerMTAKeys.contains(where: { $0.key == key }) else {
                let keys = Self.learnerMTAKeys.map { "\($0.key) \($0.values)" }.joined(separator: ", ")
                return t("Réglage inconnu « \(Printable.escape(args[1])) » ; réglages : \(keys).\n",
                         "Unknown setting '\(Printable.escape(args[1]))'; settings: \(keys).\n")
            }
            var value = args.dropFirst(2).joined(separator: " ")
            if key == "require-tls-auth" {
                switch value.lowercased() {
                case "yes", "on", "true", "oui": value = "true"
                case "no", "off", "false", "non": value = "false"
                default: return usage("mta HOST require-tls-auth yes|no")
                }
            }
            let action = ConfigureAction(target: .host(host), settings: [ConfigureAction.Setting(key: key, value: value)])
            let notes = try world.perform(.configure(action))
            return notes.map { t($0) + "\n" }.joined()
        }
    }

    private func settingsTable(_ world: TutorWorld, host: String) throws -> String {
        let settings = try world.mtaSettings(host: host)
        let width = settings.map(\.key.count).max() ?? 0
        return "\(host)\n" + settings.map { "  \($0.key.padding(toLength: width, withPad: " ", startingAt: 0))  \(Printable.escape($0.value))\n" }.joined()
    }

    /// A TXT value as typed: one pair of surrounding double quotes removed.
    static func unquoted(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, trimmed.hasPrefix("\""), trimmed.hasSuffix("\"") { return String(trimmed.dropFirst().dropLast()) }
        return trimmed
    }
}
