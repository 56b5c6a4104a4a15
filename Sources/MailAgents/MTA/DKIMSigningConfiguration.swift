// Which domains an MTA signs for with DKIM, and with which key (RFC 6376 §3.1, §3.6.1).

import MailPolicy
import MailSim

/// One DKIM signing domain of an MTA: the `d=` domain, the `s=` selector, the key and the
/// canonicalization. The public key belongs at `selector._domainkey.domain`.
///
/// ```swift
/// let signing = DKIMSigningConfiguration(domain: "example.com", selector: "2025", key: .rsaDemo)
/// signing.recordName   // "2025._domainkey.example.com"
/// signing.dnsRecord    // "v=DKIM1; k=rsa; p=MIIBIjANBgkqh…"
/// ```
public struct DKIMSigningConfiguration: Hashable, Sendable {
    /// Where the private key comes from. Keys are never random: the simulation is replayable.
    public enum Key: Hashable, Sendable {
        /// The committed 2048-bit RSA demonstration key (`DKIMTestKeys`): `a=rsa-sha256`.
        case rsaDemo
        /// An Ed25519 key derived from 32 seed bytes (RFC 8463): `a=ed25519-sha256`.
        case ed25519(seed: [UInt8])

        /// An Ed25519 key derived from the world's seed, one per domain and selector.
        public static func ed25519(world: World, domain: String, selector: String) -> Key {
            var random = world.random.derive(label: "dkim \(selector)._domainkey.\(domain.lowercased())")
            return .ed25519(seed: random.bytes(32))
        }
    }

    /// The signing domain (`d=`). Messages whose From domain is this domain or one of its
    /// subdomains are signed.
    public var domain: String
    /// The selector (`s=`).
    public var selector: String
    public var key: Key
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization

    public init(domain: String, selector: String, key: Key = .rsaDemo,
                headerCanonicalization: DKIMCanonicalization = .relaxed,
                bodyCanonicalization: DKIMCanonicalization = .relaxed) {
        self.domain = domain.lowercased()
        self.selector = selector
        self.key = key
        self.headerCanonicalization = headerCanonicalization
        self.bodyCanonicalization = bodyCanonicalization
    }

    /// The private key.
    public var signingKey: DKIMSigningKey {
        switch key {
        case .rsaDemo: return .rsa(DKIMTestKeys.rsaPrivateKey())
        case .ed25519(let seed): return .ed25519(DKIMTestKeys.ed25519PrivateKey(seed: seed))
        }
    }

    /// The signer for this domain.
    public var signer: DKIMSigner {
        DKIMSigner(domain: domain, selector: selector, key: signingKey,
                   headerCanonicalization: headerCanonicalization, bodyCanonicalization: bodyCanonicalization)
    }

    /// `selector._domainkey.domain` (RFC 6376 §3.6.2.1).
    public var recordName: String { "\(selector)._domainkey.\(domain)" }

    /// The TXT record with the public key: `v=DKIM1; k=rsa; p=…`.
    public var dnsRecord: String { signingKey.dnsRecord }

    /// True when this configuration signs mail from `fromDomain` (the domain or a subdomain).
    public func covers(_ fromDomain: String) -> Bool {
        let from = fromDomain.lowercased()
        return from == domain || from.hasSuffix("." + domain)
    }
}

extension Array where Element == DKIMSigningConfiguration {
    /// The configuration for mail from `fromDomain`: the most specific covering domain.
    func signing(for fromDomain: String) -> DKIMSigningConfiguration? {
        filter { $0.covers(fromDomain) }.max { $0.domain.count < $1.domain.count }
    }
}
