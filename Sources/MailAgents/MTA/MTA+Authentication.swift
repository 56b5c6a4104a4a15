// Sender authentication in the MTA: DNSBL at connect, DKIM signing at submission, and the
// SPF/DKIM/DMARC checks of a receiving MX after DATA.

import MailCore
import MailMessage
import MailPolicy
import MailSim

/// What a receiving MTA concluded about one message received on port 25, and what it did.
public struct InboundVerdict: Sendable {
    public enum Action: String, Hashable, Sendable {
        /// Queued for the recipient's INBOX (DMARC passed, or the policy is `none`, or not enforced).
        case delivered
        /// Queued for the recipient's Junk folder (`p=quarantine`).
        case quarantined
        /// Refused with 550 5.7.1 at the end of DATA (`p=reject`).
        case rejected
    }

    public var time: VirtualTime
    public var clientAddress: String
    public var mailFrom: String
    public var authentication: InboundAuthentication
    public var action: Action
    /// The queue id, nil for a rejected message.
    public var queueID: QueueID?

    /// What the receiver checked and did, for a learner: one line per method, then the action.
    public func explanation(_ language: PolicyLanguage) -> [String] {
        var lines = [authentication.spf.result.explanation(language)]
        if authentication.dkim.isEmpty {
            lines.append(DKIMResult.none.explanation(language))
        } else {
            lines += authentication.dkim.map { $0.result.explanation(language) }
        }
        lines.append(authentication.dmarc.explanation(language))
        switch (action, language) {
        case (.delivered, .en): lines.append("The message was queued for the recipient's INBOX.")
        case (.delivered, .fr): lines.append("Le message a été mis en file pour la boîte de réception (INBOX) du destinataire.")
        case (.quarantined, .en): lines.append("The message was queued for the recipient's Junk folder.")
        case (.quarantined, .fr): lines.append("Le message a été mis en file pour le dossier Junk (indésirables) du destinataire.")
        case (.rejected, .en): lines.append("The message was refused at the end of DATA: the sending server must bounce it.")
        case (.rejected, .fr): lines.append("Le message a été refusé à la fin de DATA : le serveur émetteur doit le renvoyer en erreur.")
        }
        return lines
    }
}

/// The outcome of the inbound checks for one message.
enum InboundDecision {
    /// Queue `data` (the message with the trace fields prepended) for `folder`.
    case accept(data: [UInt8], folder: String, verdict: InboundVerdict)
    case reject(SMTPReply, verdict: InboundVerdict)
}

extension MTA {
    // MARK: DNSBL (RFC 5782)

    /// The reply refusing a client listed in one of the configured blocklists, nil when it is not:
    /// `554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.blocklist.test`.
    func blocklistRejection(_ clientAddress: String) -> SMTPReply? {
        guard !configuration.blocklists.isEmpty, let ip = MailPolicy.IPv4Address(clientAddress) else { return nil }
        let result = DNSBL.check(ip, zones: configuration.blocklists, dns: world.policyDNS)
        guard let line = DNSBL.rejection(client: ip, result: result) else { return nil }
        // "554 5.7.1 text": the code and enhanced code are written by DNSBL.rejection itself.
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, let code = Int(parts[0]) else { return nil }
        return SMTPReply(code: code, String(parts[1]), String(parts[2]))
    }

    // MARK: DKIM signing (RFC 6376 §5)

    /// `message` with a `DKIM-Signature:` prepended when its From domain is one this MTA signs for;
    /// unchanged otherwise. `t=` is the world's virtual time.
    func dkimSign(_ message: [UInt8], id: QueueID) -> [UInt8] {
        guard !configuration.dkimSigning.isEmpty else { return message }
        let fromDomain = Message(parsing: message).from.first?.domain ?? ""
        guard let signing = configuration.dkimSigning.signing(for: fromDomain) else { return message }
        do {
            let signed = try signing.signer.sign(message: message, time: world.unixSeconds)
            note("\(id): DKIM-Signature field added (s=\(signing.selector), d=\(signing.domain))")
            return signed
        } catch {
            // Postfix + OpenDKIM pass the message on unsigned when signing fails.
            note("\(id): DKIM signing failed for d=\(signing.domain): \(error)")
            return message
        }
    }

    // MARK: inbound checks (RFC 7208, RFC 6376 §6, RFC 7489 §6.6)

    /// Whether a message from this session gets the inbound checks: port 25, unauthenticated.
    func checksInbound(_ session: SMTPSessionInfo, listener: MTAListener) -> Bool {
        configuration.inboundChecks && listener.kind == .relay && session.authenticatedUser == nil
    }

    /// A number in 0..<1 from the host's seeded generator, for DMARC `pct=`.
    func nextPolicyDraw() -> Double {
        Double(policyRandom.next() >> 11) / Double(UInt64(1) << 53)
    }

    /// Runs SPF, DKIM and DMARC on a message received on port 25, prepends the trace fields and
    /// applies the DMARC disposition when enforcement is on.
    func inboundDecision(envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> InboundDecision? {
        guard let clientIP = MailPolicy.IPAddress(session.clientAddress) else { return nil }
        let mailFrom = envelope.reversePath.address
        let result = InboundAuthentication.evaluate(
            message: data, clientIP: clientIP, mailFrom: mailFrom, helo: session.heloName ?? "",
            receiver: configuration.hostname, dns: world.policyDNS, now: world.unixSeconds, draw: nextPolicyDraw())
        let dmarc = result.dmarc
        let action: InboundVerdict.Action
        if configuration.dmarcEnforcement && dmarc.result == .fail {
            switch dmarc.disposition {
            case .none: action = .delivered
            case .quarantine: action = .quarantined
            case .reject: action = .rejected
            }
        } else {
            action = .delivered
        }
        let verdict = InboundVerdict(time: world.now, clientAddress: session.clientAddress, mailFrom: mailFrom,
                                     authentication: result, action: action, queueID: nil)
        let summary = "spf=\(result.spf.result.rawValue) dkim=\(result.dkim.map(\.result.keyword).joined(separator: ",").nonEmpty ?? "none")"
            + " dmarc=\(dmarc.result.rawValue) (p=\(dmarc.requestedPolicy.rawValue))"
        // Fields claiming our own authserv-id come from elsewhere: they cannot be trusted (RFC 8601 §5).
        let cleaned = AuthenticationResultsFilter.removing(authservID: configuration.hostname, from: data)
        if cleaned.count != data.count {
            note("removed a forged Authentication-Results field for \(configuration.hostname) from [\(session.clientAddress)]")
        }
        switch action {
        case .rejected:
            let reply = SMTPReply(code: 550, "5.7.1", "Email rejected per DMARC policy for \(dmarc.fromDomain)")
            note("NOQUEUE: reject: END-OF-MESSAGE from [\(session.clientAddress)]: \(reply.oneLine); from=<\(mailFrom)> \(summary)")
            return .reject(reply, verdict: verdict)
        case .quarantined:
            note("quarantine: message from [\(session.clientAddress)] from=<\(mailFrom)> goes to Junk: \(summary)")
            return .accept(data: result.prepend(to: cleaned), folder: "Junk", verdict: verdict)
        case .delivered:
            note("authentication: from [\(session.clientAddress)] from=<\(mailFrom)>: \(summary)")
            return .accept(data: result.prepend(to: cleaned), folder: "INBOX", verdict: verdict)
        }
    }

    /// Accepts or refuses a message at the end of DATA: inbound checks first when they apply.
    func receive(envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo, listener: MTAListener) -> SMTPMessageDecision {
        guard checksInbound(session, listener: listener),
              let decision = inboundDecision(envelope: envelope, data: data, session: session) else {
            return .queued(id: enqueue(envelope: envelope, data: data, session: session).text)
        }
        switch decision {
        case .reject(let reply, let verdict):
            Self.append(verdict, to: &inboundVerdicts, limit: historyLimit)
            recordChecked(verdict, queueID: "", port: listener.port)
            return .reject(reply)
        case .accept(let message, let folder, var verdict):
            let id = enqueue(envelope: envelope, data: message, session: session, folder: folder)
            verdict.queueID = id
            Self.append(verdict, to: &inboundVerdicts, limit: historyLimit)
            recordChecked(verdict, queueID: id.text, port: listener.port)
            return .queued(id: id.text)
        }
    }

    /// Journals what the inbound checks found (an agent fact: the MTA's own verdict, not a
    /// session's command).
    private func recordChecked(_ verdict: InboundVerdict, queueID: String, port: UInt16) {
        let outcome = verdict.authentication
        let context = FactContext(time: world.now.engineTime, host: host.name, port: port, session: 0, peer: verdict.clientAddress,
                                  role: .agent, tls: false)
        world.record(.mta(.checked(queueID: queueID, from: verdict.mailFrom, fromDomain: outcome.dmarc.fromDomain,
                                   spf: outcome.spf.result.rawValue, dkim: outcome.dkim.map(\.result.keyword),
                                   dmarc: outcome.dmarc.result.rawValue, action: verdict.action.rawValue)), context: context)
    }
}

/// Removes `Authentication-Results:` fields that name a given authserv-id from a header block.
enum AuthenticationResultsFilter {
    /// `message` without the fields `Authentication-Results: <authservID>; …` (any case, folded or
    /// not); the body and every other field are kept byte for byte.
    static func removing(authservID: String, from message: [UInt8]) -> [UInt8] {
        let wanted = authservID.lowercased()
        var output: [UInt8] = []
        output.reserveCapacity(message.count)
        var field: ArraySlice<UInt8> = []  // the field being read: its first line and continuations
        var index = 0
        func flush() {
            if !field.isEmpty && !names(field, wanted) { output += field }
            field = []
        }
        while index < message.count {
            var end = index
            while end < message.count && message[end] != 0x0A { end += 1 }
            let lineEnd = min(end + 1, message.count)
            let first = message[index]
            if first == 0x0D || first == 0x0A {
                // The blank line ends the header: the rest is copied untouched.
                flush()
                output += message[index...]
                return output
            }
            if (first == 0x20 || first == 0x09) && !field.isEmpty {
                field = message[field.startIndex..<lineEnd]
            } else {
                flush()
                field = message[index..<lineEnd]
            }
            index = lineEnd
        }
        flush()
        return output
    }

    /// True when the field is `Authentication-Results:` with the authserv-id `wanted`.
    private static func names(_ field: ArraySlice<UInt8>, _ wanted: String) -> Bool {
        guard let colon = field.firstIndex(of: 0x3A) else { return false }
        let name = String(decoding: field[field.startIndex..<colon], as: UTF8.self).trimmingSpaces.lowercased()
        guard name == "authentication-results" else { return false }
        let value = String(decoding: field[(colon + 1)...].map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
        let id = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        // The authserv-id may be followed by a version number (RFC 8601 §2.2).
        let token = id.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        return token.lowercased() == wanted
    }
}

private extension String {
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let c = slice.first, c == " " || c == "\t" { slice.removeFirst() }
        while let c = slice.last, c == " " || c == "\t" { slice.removeLast() }
        return String(slice)
    }

    var nonEmpty: String? { isEmpty ? nil : self }
}
