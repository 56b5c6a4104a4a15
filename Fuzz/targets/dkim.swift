// libFuzzer target: DKIM (RFC 6376, RFC 8463) signature tag lists, key records, canonicalization
// and verification, inside a receiving MTA's whole check (SPF, DKIM, DMARC, trace fields).
// Input: the first byte chooses a mode, then up to three lines (the key record every
// `…._domainkey.…` query gets, the `_dmarc.…` record, the SPF record of every other name), then the
// message.
//   mode 0: the message as it is;
//   mode 1: the message signed first with the demonstration Ed25519 key (its key record is
//           published), so verification reaches the signature;
//   mode 2: signed, then one byte of the signed message changed (position and value from the input).
struct FuzzDNS: DNSLookup {
    var key: String
    var dmarc: String
    var spf: String
    func txt(_ name: String) -> DNSAnswer<[String]> {
        if name.lowercased().contains("._domainkey.") { return .answer([key]) }
        if name.lowercased().hasPrefix("_dmarc.") { return .answer([dmarc]) }
        return .answer([spf])
    }
    func a(_ name: String) -> DNSAnswer<[IPv4Address]> { .answer([IPv4Address(192, 0, 2, 10)]) }
    func mx(_ name: String) -> DNSAnswer<[MXRecord]> { .answer([MXRecord(preference: 10, host: "mail." + name)]) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDKIM(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    bytes.removeFirst()
    var records: [String] = []
    while records.count < 3, let newline = bytes.firstIndex(of: 10) {
        records.append(String(decoding: bytes[..<newline], as: UTF8.self))
        bytes.removeSubrange(...newline)
    }
    while records.count < 3 { records.append("") }
    var dns = FuzzDNS(key: records[0], dmarc: records[1], spf: records[2])
    var message = bytes
    switch mode % 3 {
    case 1, 2:
        // Made at each run: a global would be reported by LeakSanitizer as a leak.
        let fuzzSigner = DKIMSigner(domain: "example.com", selector: "sel1", key: .ed25519(DKIMTestKeys.ed25519PrivateKey()))
        guard var signed = try? fuzzSigner.sign(message: message, time: 1_795_707_022) else { return 0 }
        dns.key = fuzzSigner.key.dnsRecord
        if mode % 3 == 2, !signed.isEmpty, size >= 3 {
            let position = (Int(data[1]) << 8 | Int(data[2])) % signed.count
            signed[position] = data[size - 1]
        }
        message = signed
    default: break
    }
    for record in records {
        if let tags = DKIMTagList.parse(record) { _ = tags.count }
        _ = DKIMTagList.removingSignatureValue(record)
    }
    for canonicalization in [DKIMCanonicalization.simple, .relaxed] {
        _ = DKIMSigner.bodyHash(message, canonicalization: canonicalization, length: Int(mode))
    }
    let result = InboundAuthentication.evaluate(message: message, clientIP: .v4(IPv4Address(192, 0, 2, 10)),
                                                mailFrom: "postmaster@example.com", helo: "mail.example.com",
                                                receiver: "mx.company.org", dns: dns, now: 1_795_707_100, draw: 0.25)
    _ = result.prepend(to: message).count
    if mode % 3 == 1, let first = result.dkim.first, first.result != .pass {
        // Our own signer's signature, unchanged, must verify at our own receiver.
        fatalError("a message signed by DKIMSigner does not verify: \(first.result)")
    }
    return 0
}
