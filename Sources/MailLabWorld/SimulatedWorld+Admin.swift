// What a learner who administers a domain may change in a simulated world: the records of its DNS
// zone and the settings of its MTA (the capstone's "open the mail of a domain"). The scenario's
// `admin:` says which zones and hosts; everything else stays as the scenario built it.

import MailTutor
import Foundation
import MailAgents
import MailSim

extension SimulatedWorld {
    public var administration: Administration { spec?.admin ?? Administration() }

    public func records(zone: String) -> [MailTutor.DNSAnswer] {
        let apex = Self.dnsName(zone)
        return world.dns.records.compactMap { record -> DNSAnswer? in
            let owner = Self.dnsName(record.name)
            guard owner == apex || owner.hasSuffix("." + apex) else { return nil }
            return Self.answer(record, owner: owner)
        }
    }

    public func change(dns change: DNSChange) throws -> LocalizedText {
        switch change {
        case let .add(name, type, value, preference):
            let owner = try administeredName(name)
            switch type {
            case .A:
                guard let address = IPv4Address(value) else {
                    throw TutorError(fr: "Adresse IPv4 invalide « \(Printable.escape(value)) ».", en: "Invalid IPv4 address '\(Printable.escape(value))'.")
                }
                world.dns.addA(owner, address)
            case .MX:
                guard let preference, (0...65535).contains(preference) else {
                    throw TutorError(fr: "Un MX a une préférence (0 à 65535) puis un nom : « dns add \(owner) MX 10 mail.\(owner) ».",
                                     en: "An MX has a preference (0 to 65535) then a name: 'dns add \(owner) MX 10 mail.\(owner)'.")
                }
                let exchange = Self.dnsName(value)
                guard !exchange.isEmpty, !exchange.contains(where: { $0.isWhitespace }), IPv4Address(exchange) == nil else {
                    throw TutorError(fr: "Un MX désigne un nom d'hôte, pas une adresse (« \(Printable.escape(value)) ») : RFC 5321 §5.1.",
                                     en: "An MX names a host name, not an address ('\(Printable.escape(value))'): RFC 5321 §5.1.")
                }
                world.dns.addMX(owner, preference: UInt16(preference), exchange: exchange)
            case .TXT:
                guard !value.isEmpty, value.utf8.count <= 2048 else {
                    throw TutorError(fr: "Un TXT vide ou de plus de 2048 octets n'est pas accepté ici.", en: "An empty TXT or one over 2048 bytes is not accepted here.")
                }
                world.dns.addTXT(owner, value)
            }
            let shown = type == .MX ? "\(preference ?? 0) \(Self.dnsName(value))." : value
            return LocalizedText(fr: "Publié : \(owner). \(type.rawValue) \(shown)", en: "Published: \(owner). \(type.rawValue) \(shown)")
        case let .remove(name, type, value):
            let owner = try administeredName(name)
            let recordType = Self.recordType(type)
            let existing = world.dns.records.filter { Self.dnsName($0.name) == owner && $0.data.type == recordType }
            let doomed = existing.filter { record in
                guard let value else { return true }
                return Self.matches(record, value: value)
            }
            guard !doomed.isEmpty else {
                throw TutorError(fr: "Aucun enregistrement \(type.rawValue) de \(owner) ne correspond.",
                                 en: "No \(type.rawValue) record of \(owner) matches.")
            }
            world.dns.remove(owner, type: recordType)
            for record in existing where !doomed.contains(record) { world.dns.add(record) }
            return LocalizedText(fr: "Retiré : \(doomed.count) enregistrement(s) \(type.rawValue) de \(owner).",
                                 en: "Removed: \(doomed.count) \(type.rawValue) record(s) of \(owner).")
        }
    }

    public func mtaSettings(host name: String) throws -> [(key: String, value: String)] {
        guard let mta = mail.mtas[world.host(name)?.name ?? name] else {
            throw TutorError(fr: "Pas de MTA sur \(Printable.escape(name)).", en: "No MTA on \(Printable.escape(name)).")
        }
        let c = mta.configuration
        var relay = "open", networks = ""
        switch c.relayPolicy {
        case .open: relay = "open"
        case .authenticated: relay = "authenticated"
        case let .mynetworks(list): relay = "mynetworks"; networks = list.map(\.description).joined(separator: ", ")
        }
        return [
            ("domains", c.localDomains.sorted().joined(separator: ", ")),
            ("relay", relay),
            ("mynetworks", networks.isEmpty ? "-" : networks),
            ("require-tls-auth", String(c.requireTLSForAuth)),
            ("dkim", c.dkimSigning.isEmpty ? "off" : c.dkimSigning.map { "\($0.selector) (d=\($0.domain))" }.joined(separator: ", ")),
            ("blocklists", c.blocklists.isEmpty ? "-" : c.blocklists.joined(separator: ", ")),
        ]
    }

    /// `dkim SELECTOR`: the MTA signs its local domains' mail with an Ed25519 key derived from the
    /// world's seed for that selector (RFC 8463); `dkim off` stops signing. The notes give the
    /// record to publish, which the learner still has to put in the zone.
    func configureDKIM(_ mta: MTA, value: String) throws -> [LocalizedText] {
        let selector = value.lowercased()
        if selector == "off" || selector == "none" {
            mta.setDKIMSigning([])
            return [LocalizedText(fr: "\(mta.host.name) ne signe plus.", en: "\(mta.host.name) no longer signs.")]
        }
        guard !selector.isEmpty, selector.count <= 63,
              selector.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw TutorError(fr: "Un sélecteur DKIM est un label DNS (lettres, chiffres, tirets) : « \(Printable.escape(value)) ».",
                             en: "A DKIM selector is a DNS label (letters, digits, hyphens): '\(Printable.escape(value))'.")
        }
        let signing = mta.configuration.localDomains.sorted().map { domain in
            DKIMSigningConfiguration(domain: domain, selector: selector, key: .ed25519(world: world, domain: domain, selector: selector))
        }
        mta.setDKIMSigning(signing)
        return signing.map { s in
            LocalizedText(fr: "\(mta.host.name) signe pour \(s.domain) (s=\(s.selector), ed25519). À publier : \(s.recordName) TXT \"\(s.dnsRecord)\"",
                          en: "\(mta.host.name) signs for \(s.domain) (s=\(s.selector), ed25519). To publish: \(s.recordName) TXT \"\(s.dnsRecord)\"")
        }
    }

    /// `name` in canonical form, when it lies in a zone the learner administers.
    private func administeredName(_ name: String) throws -> String {
        let owner = Self.dnsName(name)
        guard !owner.isEmpty, owner.count <= 253, owner.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else {
            throw TutorError(fr: "Nom DNS invalide « \(Printable.escape(name)) ».", en: "Invalid DNS name '\(Printable.escape(name))'.")
        }
        guard administration.zone(of: owner) != nil else {
            let zones = administration.zones.joined(separator: ", ")
            throw TutorError(fr: zones.isEmpty ? "Vous n'administrez aucune zone DNS dans ce monde." : "\(owner) n'est pas dans vos zones (\(zones)).",
                             en: zones.isEmpty ? "You administer no DNS zone in this world." : "\(owner) is not in your zones (\(zones)).")
        }
        return owner
    }

    private static func matches(_ record: DNSRecord, value: String) -> Bool {
        switch record.data {
        case let .a(address): return address.description == value
        case let .mx(_, exchange): return dnsName(exchange) == dnsName(value)
        case let .txt(strings): return strings.joined() == value
        default: return false
        }
    }
}
