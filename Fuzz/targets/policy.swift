// libFuzzer target: SPF (RFC 7208) and DMARC (RFC 7489) record parsers, SPF macro expansion, and
// check_host() over a DNS zone read from the input, one record a line:
//   NAME TXT-TEXT…   a TXT record (several lines for one name make several records)
//   =A NAME IPV4     an A record
//   =MX NAME PREF HOST
//   =FAIL NAME       SERVFAIL for the name
// then check_host() for postmaster@example.com from 192.0.2.10 (HELO mail.example.com), and DMARC
// for the From domain example.com with that SPF result.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? SPFEvaluator.parseRecord(text)
    _ = DMARCRecord(text)
    var zone = InMemoryDNS()
    let request = SPFRequest(clientIP: .v4(IPv4Address(192, 0, 2, 10)), mailFrom: "postmaster@example.com",
                             helo: "mail.example.com")
    let evaluator = SPFEvaluator(dns: zone)
    var lines = 0
    for line in text.split(separator: "\n") where lines < 64 {
        lines += 1
        let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
        guard fields.count == 2 else { continue }
        _ = try? evaluator.expand(fields[1], request: request, domain: "example.com", explanation: lines % 2 == 0)
        _ = try? SPFEvaluator.parseRecord(fields[1])
        _ = DMARCRecord(fields[1])
        switch fields[0] {
        case "=A":
            let parts = fields[1].split(separator: " ").map(String.init)
            if parts.count == 2 { zone.addA(parts[0], parts[1]) }
        case "=MX":
            let parts = fields[1].split(separator: " ").map(String.init)
            if parts.count == 3, let preference = Int(parts[1]) { zone.addMX(parts[0], preference: preference, host: parts[2]) }
        case "=FAIL": zone.failing.insert(fields[1].lowercased())
        default: zone.addTXT(fields[0], fields[1])
        }
    }
    let spf = SPFEvaluator(dns: zone).check(request)
    _ = SPFEvaluator(dns: zone).check(request, domain: request.helo)
    _ = SPFEvaluator.receivedSPF(spf, request: request, receiver: "mx.company.org").wireFormat
    let dmarc = DMARCEvaluator(dns: zone).evaluate(fromDomain: "example.com", spf: (spf.result, "example.com"),
                                                    dkim: [(.pass, "example.com")], draw: 0.5)
    var results = AuthenticationResults(authservID: "mx.company.org")
    results.addSPF(spf, mailFrom: request.mailFrom)
    results.addDMARC(dmarc)
    _ = results.value
    return 0
}
