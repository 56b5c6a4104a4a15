// DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463).

import Crypto
import Foundation
import MailMessage
import _CryptoExtras

/// A signing algorithm (RFC 6376 §3.3, RFC 8463 §3).
public enum DKIMAlgorithm: String, Sendable, Equatable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// The `k=` value of the key record.
    public var keyType: String { self == .rsaSHA256 ? "rsa" : "ed25519" }
}

/// A private key for signing.
public enum DKIMSigningKey {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    public var algorithm: DKIMAlgorithm {
        switch self {
        case .rsa: return .rsaSHA256
        case .ed25519: return .ed25519SHA256
        }
    }

    /// The `p=` value: base64 SubjectPublicKeyInfo for RSA, the raw 32-byte key for Ed25519.
    public var publicKeyBase64: String {
        switch self {
        case .rsa(let key): return Base64.encode(Array(key.publicKey.derRepresentation))
        case .ed25519(let key): return Base64.encode(Array(key.publicKey.rawRepresentation))
        }
    }

    /// The TXT record to publish at `selector._domainkey.domain` (RFC 6376 §3.6.1).
    public var dnsRecord: String { "v=DKIM1; k=\(algorithm.keyType); p=\(publicKeyBase64)" }

    /// Signs the SHA-256 hash of `data` (RFC 6376 §3.7; for Ed25519 the hash is what is signed,
    /// RFC 8463 §3).
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        let digest = SHA256.hash(data: data)
        switch self {
        case .rsa(let key):
            return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let key):
            return Array(try key.signature(for: Data(digest)))
        }
    }
}

/// Tag lists (RFC 6376 §3.2): `tag=value; tag=value`, white space around tags and values ignored.
public enum DKIMTagList {
    /// Parses a tag list; nil when a tag appears twice or a piece has no `=`.
    public static func parse(_ text: String) -> [(name: String, value: String)]? {
        var result: [(name: String, value: String)] = []
        for piece in text.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = piece.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespacesAndNewlines)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, !result.contains(where: { $0.name == name }) else { return nil }
            result.append((name, value))
        }
        return result
    }

    static func value(_ tags: [(name: String, value: String)], _ name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    /// Removes white space (folding included) from a base64 value.
    static func compact(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" })
    }

    /// The raw header value with the `b=` tag's value emptied (RFC 6376 §3.7): the text between
    /// `b=` and the next `;` (or the end) is deleted, white space included.
    static func removingSignatureValue(_ raw: String) -> String {
        var out = ""
        var rest = Substring(raw)
        while !rest.isEmpty {
            let piece: Substring
            let separator: Substring
            if let semicolon = rest.firstIndex(of: ";") {
                piece = rest[..<semicolon]
                separator = rest[semicolon...semicolon]
                rest = rest[rest.index(after: semicolon)...]
            } else {
                piece = rest
                separator = ""
                rest = rest[rest.endIndex...]
            }
            if let equals = piece.firstIndex(of: "="),
               piece[..<equals].trimmingCharacters(in: .whitespacesAndNewlines) == "b" {
                out += piece[...equals]
            } else {
                out += piece
            }
            out += separator
        }
        return out
    }
}

/// Picks header fields for `h=` from the bottom up (RFC 6376 §5.4.2): each repetition of a name
/// takes the next instance upwards; a name with no instance left signs nothing (over-signing).
func selectHeaders(_ names: [String], from fields: [HeaderField]) -> [HeaderField] {
    var used: [String: Int] = [:]
    var selected: [HeaderField] = []
    for name in names {
        let key = name.lowercased()
        let instances = fields.filter { $0.name.lowercased() == key }
        let count = used[key, default: 0]
        if count < instances.count {
            selected.append(instances[instances.count - 1 - count])
        }
        used[key] = count + 1
    }
    return selected
}

/// Signs messages for a domain, as a sending MTA does (RFC 6376 §5).
///
/// ```swift
/// let signer = DKIMSigner(domain: "example.com", selector: "sel1", key: .ed25519(DKIMTestKeys.ed25519PrivateKey()))
/// let signed = try signer.sign(message: bytes, time: 1_795_707_022)   // DKIM-Signature prepended
/// ```
public struct DKIMSigner {
    public var domain: String
    public var selector: String
    public var key: DKIMSigningKey
    public var headerCanonicalization: DKIMCanonicalization = .relaxed
    public var bodyCanonicalization: DKIMCanonicalization = .relaxed
    /// Names to sign, in order; only those present are listed in `h=` (From is always signed).
    public var headersToSign = ["from", "reply-to", "subject", "date", "to", "cc", "message-id", "in-reply-to",
                                "references", "mime-version", "content-type", "content-transfer-encoding"]
    /// Add `l=` with the canonical body length (RFC 6376 §3.5; a known weakness, for demonstrations).
    public var includeBodyLength = false
    /// Optional `i=` (agent or user identifier).
    public var identity: String?

    public init(domain: String, selector: String, key: DKIMSigningKey,
                headerCanonicalization: DKIMCanonicalization = .relaxed, bodyCanonicalization: DKIMCanonicalization = .relaxed) {
        self.domain = domain
        self.selector = selector
        self.key = key
        self.headerCanonicalization = headerCanonicalization
        self.bodyCanonicalization = bodyCanonicalization
    }

    /// The body hash `bh=` of a body (RFC 6376 §3.7).
    public static func bodyHash(_ body: some Collection<UInt8>, canonicalization: DKIMCanonicalization, length: Int? = nil) -> String {
        var canonical = canonicalization.canonicalize(body: body)
        if let length, length < canonical.count { canonical = Array(canonical.prefix(length)) }
        return Base64.encode(Array(SHA256.hash(data: canonical)))
    }

    /// The `DKIM-Signature:` field for a message; `time` is the virtual time for `t=`.
    public func signatureField(for message: [UInt8], time: Int64) throws -> HeaderField {
        let parsed = Message(parsing: message)
        let fields = parsed.headers.fields
        let body = parsed.raw[parsed.root.bodyRange]
        let present = Set(fields.map { $0.name.lowercased() })
        var names = headersToSign.map { $0.lowercased() }.filter { present.contains($0) }
        if !names.contains("from") { names.insert("from", at: 0) }
        let canonicalBody = bodyCanonicalization.canonicalize(body: body)
        let bh = Base64.encode(Array(SHA256.hash(data: canonicalBody)))
        var tags = "v=1; a=\(key.algorithm.rawValue); c=\(headerCanonicalization.rawValue)/\(bodyCanonicalization.rawValue);"
            + " d=\(domain); s=\(selector); t=\(time);"
        if let identity { tags += " i=\(identity);" }
        if includeBodyLength { tags += " l=\(canonicalBody.count);" }
        tags += " h=\(names.joined(separator: ":")); bh=\(bh); b="
        let unsigned = HeaderField(name: "DKIM-Signature", value: tags)
        var input: [UInt8] = []
        for field in selectHeaders(names, from: fields) { input += headerCanonicalization.canonicalize(header: field) }
        var own = headerCanonicalization.canonicalize(header: unsigned)
        own.removeLast(2) // the signature field itself is hashed without its final CR LF
        input += own
        let signature = Base64.encode(try key.sign(input))
        // Fold b= so no line passes 76 characters; verifiers delete the whole value, folding included.
        var raw = unsigned.rawValue
        let lastLine = raw.components(separatedBy: "\r\n").last ?? ""
        var lineLength = lastLine.count + (raw.contains("\r\n") ? 0 : "DKIM-Signature:".count)
        var rest = Substring(signature)
        while !rest.isEmpty {
            let available = 76 - lineLength
            if available < 8 {
                raw += "\r\n "
                lineLength = 1
                continue
            }
            let chunk = rest.prefix(available)
            raw += chunk
            lineLength += chunk.count
            rest = rest.dropFirst(chunk.count)
        }
        return HeaderField(name: "DKIM-Signature", rawValue: raw)
    }

    /// The message with its DKIM-Signature field prepended. A message whose first line starts with
    /// white space (a continuation line before any field) is not signed: the prepended field would
    /// take that line as its own continuation, and its `b=` value would no longer verify.
    public func sign(message: [UInt8], time: Int64) throws -> [UInt8] {
        if let first = message.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            throw DKIMSigningError.leadingContinuationLine
        }
        return Array(try signatureField(for: message, time: time).wireFormat.utf8) + message
    }
}

/// Why ``DKIMSigner`` refused to sign a message.
public enum DKIMSigningError: Error, Equatable, CustomStringConvertible {
    /// The message starts with white space: a folded line that belongs to no field.
    case leadingContinuationLine

    public var description: String {
        switch self {
        case .leadingContinuationLine: return "the message starts with a continuation line (white space before any field)"
        }
    }
}

/// The outcome of verifying one DKIM signature (RFC 6376 §6.1, result names of RFC 8601 §2.7.1).
public enum DKIMResult: Sendable, Equatable {
    case pass
    /// The signature or body hash does not match.
    case fail(reason: String)
    /// The signature cannot be used (syntax, missing key, revoked key…).
    case permerror(reason: String)
    /// The key could not be fetched now.
    case temperror(reason: String)
    /// The message carries no signature.
    case none

    /// The RFC 8601 keyword.
    public var keyword: String {
        switch self {
        case .pass: return "pass"
        case .fail: return "fail"
        case .permerror: return "permerror"
        case .temperror: return "temperror"
        case .none: return "none"
        }
    }

    public var reason: String? {
        switch self {
        case .fail(let r), .permerror(let r), .temperror(let r): return r
        case .pass, .none: return nil
        }
    }
}

/// One verified signature.
public struct DKIMVerification: Sendable, Equatable {
    public var result: DKIMResult
    /// `d=`, `s=`, `a=` of the signature (nil when it could not be read).
    public var domain: String?
    public var selector: String?
    public var algorithm: DKIMAlgorithm?
    /// Names listed in `h=`.
    public var signedHeaders: [String]
}

/// Verifies DKIM signatures with keys fetched over ``DNSLookup``.
public struct DKIMVerifier {
    public let dns: any DNSLookup

    public init(dns: any DNSLookup) { self.dns = dns }

    /// Verifies every DKIM-Signature field of the message, top first. `now` (virtual seconds) enables
    /// the `x=` expiry check.
    public func verify(_ message: [UInt8], now: Int64? = nil) -> [DKIMVerification] {
        verify(parsed: Message(parsing: message), now: now)
    }

    /// ``verify(_:now:)`` on a message the caller has parsed already (the inbound checks parse it
    /// once for DKIM and DMARC).
    public func verify(parsed: Message, now: Int64? = nil) -> [DKIMVerification] {
        verify(fields: parsed.headers.fields, body: parsed.raw[parsed.root.bodyRange], now: now)
    }

    /// Every DKIM-Signature among a message's header fields, verified against its body.
    public func verify(fields: [HeaderField], body: ArraySlice<UInt8>, now: Int64? = nil) -> [DKIMVerification] {
        fields.filter { $0.hasName("DKIM-Signature") }.map { verify(signature: $0, fields: fields, body: body, now: now) }
    }

    func verify(signature field: HeaderField, fields: [HeaderField], body: ArraySlice<UInt8>, now: Int64?) -> DKIMVerification {
        var outcome = DKIMVerification(result: .none, domain: nil, selector: nil, algorithm: nil, signedHeaders: [])
        func done(_ result: DKIMResult) -> DKIMVerification { outcome.result = result; return outcome }
        guard let tags = DKIMTagList.parse(field.value) else { return done(.permerror(reason: "malformed tag list")) }
        let tag = { (name: String) in DKIMTagList.value(tags, name) }
        outcome.domain = tag("d")
        outcome.selector = tag("s")
        outcome.algorithm = tag("a").flatMap(DKIMAlgorithm.init(rawValue:))
        outcome.signedHeaders = (tag("h") ?? "").split(separator: ":").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        guard tag("v") == "1" else { return done(.permerror(reason: "v= is not 1")) }
        guard let domain = outcome.domain, let selector = outcome.selector, let bhText = tag("bh"), let bText = tag("b"),
              tag("h") != nil else {
            return done(.permerror(reason: "a required tag (d, s, h, bh, b) is missing"))
        }
        guard let algorithm = outcome.algorithm else { return done(.permerror(reason: "unsupported algorithm \(tag("a") ?? "(none)")")) }
        guard outcome.signedHeaders.contains("from") else { return done(.permerror(reason: "From is not signed")) }
        let canon = (tag("c") ?? "simple/simple").split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let headerCanon = DKIMCanonicalization(rawValue: canon[0]),
              let bodyCanon = DKIMCanonicalization(rawValue: canon.count > 1 ? canon[1] : "simple") else {
            return done(.permerror(reason: "unknown canonicalization \(tag("c") ?? "")"))
        }
        if let now, let expiry = tag("x").flatMap({ Int64($0) }), expiry < now { return done(.fail(reason: "signature expired")) }
        var length: Int?
        if let l = tag("l") {
            guard let n = Int(l), n >= 0 else { return done(.permerror(reason: "bad l= value")) }
            length = n
        }

        // The key (RFC 6376 §3.6.2).
        let keyName = "\(selector)._domainkey.\(domain)"
        let record: String
        switch dns.txt(keyName) {
        case .temporaryFailure: return done(.temperror(reason: "key lookup for \(keyName) failed"))
        case .nxdomain: return done(.permerror(reason: "no key at \(keyName)"))
        case .answer(let texts):
            guard let first = texts.first else { return done(.permerror(reason: "no key at \(keyName)")) }
            record = first
        }
        guard let keyTags = DKIMTagList.parse(record) else { return done(.permerror(reason: "malformed key record")) }
        if let v = DKIMTagList.value(keyTags, "v"), v != "DKIM1" { return done(.permerror(reason: "key record v= is not DKIM1")) }
        let keyType = DKIMTagList.value(keyTags, "k") ?? "rsa"
        guard keyType == algorithm.keyType else { return done(.permerror(reason: "key type \(keyType) does not match a=\(algorithm.rawValue)")) }
        guard let p = DKIMTagList.value(keyTags, "p") else { return done(.permerror(reason: "key record without p=")) }
        if DKIMTagList.compact(p).isEmpty { return done(.permerror(reason: "key revoked")) }
        guard let keyBytes = Base64.decodeStrict(DKIMTagList.compact(p)) else { return done(.permerror(reason: "key p= is not base64")) }

        // Body hash.
        var canonicalBody = bodyCanon.canonicalize(body: body)
        if let length {
            guard length <= canonicalBody.count else { return done(.fail(reason: "l= is longer than the body")) }
            canonicalBody = Array(canonicalBody.prefix(length))
        }
        let computed = Base64.encode(Array(SHA256.hash(data: canonicalBody)))
        guard computed == DKIMTagList.compact(bhText) else { return done(.fail(reason: "body hash did not verify")) }

        // Header hash and signature.
        var input: [UInt8] = []
        for header in selectHeaders(outcome.signedHeaders, from: fields) { input += headerCanon.canonicalize(header: header) }
        let stripped = HeaderField(name: field.name, rawValue: DKIMTagList.removingSignatureValue(field.rawValue))
        var own = headerCanon.canonicalize(header: stripped)
        own.removeLast(2)
        input += own
        guard let signature = Base64.decodeStrict(DKIMTagList.compact(bText)) else { return done(.permerror(reason: "b= is not base64")) }
        let digest = SHA256.hash(data: input)
        switch algorithm {
        case .rsaSHA256:
            guard let publicKey = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: keyBytes) else {
                return done(.permerror(reason: "RSA key does not parse"))
            }
            guard publicKey.keySizeInBits >= 1024 else { return done(.permerror(reason: "RSA key shorter than 1024 bits")) }
            let valid = publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest,
                                                   padding: .insecurePKCS1v1_5)
            return done(valid ? .pass : .fail(reason: "signature did not verify"))
        case .ed25519SHA256:
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) else {
                return done(.permerror(reason: "Ed25519 key does not parse"))
            }
            let valid = publicKey.isValidSignature(Data(signature), for: Data(digest))
            return done(valid ? .pass : .fail(reason: "signature did not verify"))
        }
    }
}
