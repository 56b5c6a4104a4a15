import MailCore
import Crypto
import Foundation
import NIOSSL
import X509

/// A server's TLS identity: its certificate (issued by the world's CA), its key, and a ready
/// NIOSSL server context.
public struct TLSServerIdentity {
    public let hostName: String
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey
    let context: NIOSSLContext

    /// The certificate in PEM form.
    public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
    /// The PKCS #8 private key in PEM form (for the real TCP bridge).
    public var privateKeyPEM: String { privateKey.pemRepresentation }
}

/// Errors raised while making certificates.
public enum CertificateAuthorityError: Error, CustomStringConvertible {
    case cannotIssue(String, underlying: String)
    public var description: String {
        switch self {
        case let .cannotIssue(name, underlying): return "cannot issue a certificate for \(name): \(underlying)"
        }
    }
}

/// The world's certificate authority, made with swift-certificates.
///
/// Keys are P-256 keys whose 32 private bytes are drawn from the world seed (label `ca` for the
/// authority, `cert:<host>` for each server), and every field of the certificates (serials,
/// names, validity 2025-01-01 to 2099-12-31) is fixed, so the same seed gives the same keys and
/// the same to-be-signed certificates. Only the ECDSA signature value differs between processes,
/// because swift-crypto's ECDSA draws a fresh nonce; the signature is always valid.
public final class CertificateAuthority {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey
    private let random: SeededRandom
    private var identities: [String: TLSServerIdentity] = [:]
    private var cachedClientContext: NIOSSLContext?
    /// Where client sessions report their TLS secrets, once ``recordKeys()`` was called.
    public private(set) var keyLog: TLSKeyLog?

    /// Client sessions made from now on report their secrets to ``keyLog`` (for Wireshark).
    public func recordKeys() {
        guard keyLog == nil else { return }
        keyLog = TLSKeyLog()
        cachedClientContext = nil
    }

    /// Validity window of every certificate (fixed so certificates do not depend on the clock;
    /// BoringSSL checks it against the real clock, hence a wide window).
    public static let notBefore = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01T00:00:00Z
    public static let notAfter = Date(timeIntervalSince1970: 4_102_358_400)   // 2099-12-31T00:00:00Z

    public init(random: SeededRandom) throws {
        self.random = random
        var keyRandom = random.derive(label: "ca")
        privateKey = Self.makeKey(&keyRandom)
        let signer = Certificate.PrivateKey(privateKey)
        let name = try DistinguishedName {
            OrganizationName("MailLab Simulation")
            CommonName("MailLab Simulation CA")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: signer.publicKey)
        }
        certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(bytes: [0x01] + keyRandom.bytes(15)),
            publicKey: signer.publicKey,
            notValidBefore: Self.notBefore,
            notValidAfter: Self.notAfter,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: signer)
    }

    /// The CA certificate in PEM form (what a real client must trust).
    public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }

    /// The server identity for `hostName` (lower-cased), issued on first use and cached.
    public func serverIdentity(for hostName: String) throws -> TLSServerIdentity {
        let name = hostName.lowercased()
        if let identity = identities[name] { return identity }
        do {
            var keyRandom = random.derive(label: "cert:" + name)
            let key = Self.makeKey(&keyRandom)
            let subjectKey = Certificate.PrivateKey(key)
            let signer = Certificate.PrivateKey(privateKey)
            let subject = try DistinguishedName {
                OrganizationName("MailLab Simulation")
                CommonName(name)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(name)])
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: signer.publicKey).keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(bytes: [0x02] + keyRandom.bytes(15)),
                publicKey: subjectKey.publicKey,
                notValidBefore: Self.notBefore,
                notValidAfter: Self.notAfter,
                issuer: self.certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: signer)
            let pem = try certificate.serializeAsPEM().pemString
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem))],
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            let identity = TLSServerIdentity(hostName: name, certificate: certificate, privateKey: key,
                                             context: try NIOSSLContext(configuration: configuration))
            identities[name] = identity
            return identity
        } catch {
            throw CertificateAuthorityError.cannotIssue(name, underlying: String(describing: error))
        }
    }

    /// A client context trusting only this CA, with full chain and host name verification.
    func clientContext() throws -> NIOSSLContext {
        if let cachedClientContext { return cachedClientContext }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)])
        configuration.certificateVerification = .fullVerification
        configuration.minimumTLSVersion = .tlsv12
        if let keyLog { configuration.keyLogCallback = { keyLog.append($0) } }
        let context = try NIOSSLContext(configuration: configuration)
        cachedClientContext = context
        return context
    }

    /// A P-256 key from 32 seeded bytes; redraws in the (≈2⁻³²) case the bytes are not a valid scalar.
    private static func makeKey(_ random: inout SeededRandom) -> P256.Signing.PrivateKey {
        while true {
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: random.bytes(32)) { return key }
        }
    }
}
