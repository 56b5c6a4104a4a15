// The receiving MTA's whole check of an incoming message: SPF, DKIM, DMARC, and the trace fields.

import MailMessage

/// Everything a receiving MTA concludes about one message, and the fields it adds.
public struct InboundAuthentication: Sendable, Equatable {
    public var spf: SPFEvaluation
    public var dkim: [DKIMVerification]
    public var dmarc: DMARCOutcome
    /// `Received-SPF:` (RFC 7208 §9.1).
    public var receivedSPF: HeaderField
    /// `Authentication-Results:` (RFC 8601).
    public var authenticationResults: AuthenticationResults

    /// Runs SPF on the MAIL FROM identity, verifies every DKIM signature, then DMARC on the From
    /// domain, as a receiving MTA does after DATA.
    /// - Parameters:
    ///   - now: virtual seconds, for DKIM `x=`.
    ///   - draw: a number in 0..<1 from the world's seeded generator, for DMARC `pct=`.
    public static func evaluate(message: [UInt8], clientIP: IPAddress, mailFrom: String, helo: String,
                                receiver: String, dns: any DNSLookup, now: Int64, draw: Double) -> InboundAuthentication {
        let request = SPFRequest(clientIP: clientIP, mailFrom: mailFrom, helo: helo)
        let spf = SPFEvaluator(dns: dns).check(request)
        // The checks read header fields and, for a DKIM signature, the body's bytes: no MIME walk.
        let header = Message.headerBlock(of: message)
        let body = message[header.bodyStart..<max(header.bodyStart, message.count)]
        let dkim = DKIMVerifier(dns: dns).verify(fields: header.headers.fields, body: body, now: now)
        let fromDomain = (header.headers["From"].map(AddressParser.mailboxes) ?? []).first?.domain.lowercased() ?? ""
        let dmarc = DMARCEvaluator(dns: dns).evaluate(
            fromDomain: fromDomain, spf: (spf.result, request.senderDomain),
            dkim: dkim.compactMap { verification in verification.domain.map { (result: verification.result, domain: $0) } },
            draw: draw)
        var results = AuthenticationResults(authservID: receiver)
        results.addSPF(spf, mailFrom: request.mailFrom)
        if dkim.isEmpty {
            results.entries.append(.init(method: "dkim", result: "none"))
        } else {
            for verification in dkim { results.addDKIM(verification) }
        }
        results.addDMARC(dmarc)
        return InboundAuthentication(spf: spf, dkim: dkim, dmarc: dmarc,
                                     receivedSPF: SPFEvaluator.receivedSPF(spf, request: request, receiver: receiver),
                                     authenticationResults: results)
    }

    /// The message with `Authentication-Results:` and `Received-SPF:` prepended (RFC 8601 §5: the
    /// receiver adds them at the top, above the fields already present).
    public func prepend(to message: [UInt8]) -> [UInt8] {
        let results = authenticationResults.field.wireFormat, spf = receivedSPF.wireFormat
        var out: [UInt8] = []
        out.reserveCapacity(results.utf8.count + spf.utf8.count + message.count)
        out.append(contentsOf: results.utf8)
        out.append(contentsOf: spf.utf8)
        out.append(contentsOf: message)
        return out
    }
}
