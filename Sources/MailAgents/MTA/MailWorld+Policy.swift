// Scenario material for sender authentication: DKIM keys and DMARC records in the world's DNS,
// signing and checking MTAs.

import MailPolicy
import MailSim

extension MailWorld {
    /// Publishes the public key of each signing configuration: TXT `selector._domainkey.domain`
    /// `"v=DKIM1; k=rsa; p=…"` (RFC 6376 §3.6.2.1), replacing an older record at that name.
    public func publishDKIMKeys(_ signing: [DKIMSigningConfiguration]) {
        for configuration in signing {
            world.dns.remove(configuration.recordName, type: .txt)
            world.dns.addTXT(configuration.recordName, configuration.dnsRecord)
        }
    }

    /// Publishes TXT `_dmarc.domain` (RFC 7489 §6.1), replacing an older record.
    public func publishDMARC(domain: String, record: String) {
        let name = "_dmarc." + domain.lowercased()
        world.dns.remove(name, type: .txt)
        world.dns.addTXT(name, record)
    }

    /// A DMARC record: `v=DMARC1; p=reject; rua=mailto:dmarc@example.com; pct=100`.
    public static func dmarcRecord(policy: DMARCPolicy, aggregateReportsTo address: String? = nil,
                                   percentage: Int = 100) -> String {
        var tags = ["v=DMARC1", "p=\(policy.rawValue)"]
        if let address { tags.append("rua=mailto:\(address)") }
        tags.append("pct=\(min(max(percentage, 0), 100))")
        return tags.joined(separator: "; ")
    }

    /// The course world with sender authentication, as a scenario starts it:
    ///
    /// - `mail.example.com` signs mail from example.com, `mail1.company.org` and `mail2.company.org`
    ///   sign mail from company.org (selector `selector`, the same kind of key for both);
    /// - the keys are published at `<selector>._domainkey.example.com` and
    ///   `<selector>._domainkey.company.org`;
    /// - `_dmarc.example.com` and `_dmarc.company.org` ask for `dmarcPolicy`, reports to
    ///   `dmarc@<domain>`, at `percentage` %;
    /// - every MTA checks SPF, DKIM and DMARC on port 25 and applies the DMARC disposition when
    ///   `enforce` is true.
    ///
    /// Returns the signing configurations, by MTA host name.
    @discardableResult
    public func enableSenderAuthentication(dmarcPolicy: DMARCPolicy = .reject, percentage: Int = 100,
                                           ed25519: Bool = false, selector: String = "2025",
                                           enforce: Bool = true) -> [String: [DKIMSigningConfiguration]] {
        func signing(_ domain: String) -> DKIMSigningConfiguration {
            let key: DKIMSigningConfiguration.Key = ed25519
                ? .ed25519(world: world, domain: domain, selector: selector) : .rsaDemo
            return DKIMSigningConfiguration(domain: domain, selector: selector, key: key)
        }
        let plan: [String: [DKIMSigningConfiguration]] = [
            "mail.example.com": [signing("example.com")],
            "mail1.company.org": [signing("company.org")],
            "mail2.company.org": [signing("company.org")],
        ]
        for (hostName, configurations) in plan.sorted(by: { $0.key < $1.key }) {
            mtas[hostName]?.setDKIMSigning(configurations)
        }
        publishDKIMKeys([signing("example.com"), signing("company.org")])
        for domain in ["example.com", "company.org"] {
            publishDMARC(domain: domain, record: Self.dmarcRecord(policy: dmarcPolicy, aggregateReportsTo: "dmarc@\(domain)",
                                                                  percentage: percentage))
        }
        for hostName in mtas.keys.sorted() {
            mtas[hostName]?.setInboundChecks(true, dmarcEnforcement: enforce)
        }
        return plan
    }
}
