import MailCore

/// The decisions of an MTA's SMTP server sessions: credentials, relay policy, local recipients,
/// blocklists, sender authentication (SPF, DKIM, DMARC) and queueing accepted messages.
struct MTAPolicy: SMTPServerPolicy {
    unowned let mta: MTA
    let listener: MTAListener

    mutating func connectionOpened(session: SMTPSessionInfo) -> SMTPPolicyDecision { .accept }

    mutating func authenticate(_ credentials: SASLCredentials, session: SMTPSessionInfo) -> Bool {
        switch credentials {
        case .password(let user, let password, _):
            return mta.credentials[user] == password
        case .bearerToken(let user, let token):
            // The simulated identity provider issues `token-<login>` bearer tokens.
            return mta.credentials[user] != nil && token == "token-\(user)"
        }
    }

    mutating func password(forUser user: String, session: SMTPSessionInfo) -> String? {
        mta.credentials[user]
    }

    mutating func checkSender(_ path: SMTPPath, parameters: SMTPMailParameters, session: SMTPSessionInfo) -> SMTPPolicyDecision {
        .accept
    }

    mutating func checkRecipient(_ path: SMTPPath, parameters: SMTPRecipientParameters, envelope: SMTPEnvelope,
                                 session: SMTPSessionInfo) -> SMTPPolicyDecision {
        guard let mailbox = path.mailbox else {
            return .reject(SMTPReply(code: 501, "5.1.3", "Bad recipient address syntax"))
        }
        // Postfix `smtpd_recipient_restrictions = …, reject_rbl_client ZONE`: a listed client on
        // port 25 is refused at each RCPT (its own authenticated users are let through first).
        if listener.kind == .relay, session.authenticatedUser == nil,
           let reply = mta.blocklistRejection(session.clientAddress) {
            mta.note("NOQUEUE: reject: RCPT from [\(session.clientAddress)]: \(reply.oneLine); to=<\(path.address)>")
            return .reject(reply)
        }
        let relayed = mta.mayRelay(session: session)
        if path.hasRoutingSyntax && !relayed {
            return .reject(relayDenied(path))
        }
        let domain = mailbox.normalizedDomain
        if mta.isLocal(domain: domain) {
            if mta.localAccount(path.address) != nil || path.address.lowercased().hasPrefix("postmaster@") {
                return .accept
            }
            mta.note("NOQUEUE: reject: RCPT from [\(session.clientAddress)]: 550 5.1.1 <\(path.address)>: User unknown")
            return .reject(SMTPReply(code: 550, "5.1.1",
                                     "<\(path.address)>: Recipient address rejected: User unknown in local recipient table"))
        }
        if mta.configuration.relayDomains.contains(domain) || relayed {
            return .accept
        }
        return .reject(relayDenied(path))
    }

    private func relayDenied(_ path: SMTPPath) -> SMTPReply {
        mta.note("NOQUEUE: reject: RCPT to <\(path.address)>: 554 5.7.1 Relay access denied")
        return SMTPReply(code: 554, "5.7.1", "<\(path.address)>: Relay access denied")
    }

    mutating func verify(_ argument: String, session: SMTPSessionInfo) -> SMTPReply {
        let address = argument.trimmingCharacters(in: ["<", ">", " "])
        if let mailbox = SMTPMailbox(address), mta.isLocal(domain: mailbox.normalizedDomain) {
            if mta.localAccount(address) != nil { return SMTPReply(code: 252, "2.0.0", address) }
            return SMTPReply(code: 550, "5.1.1", "<\(address)>: Recipient address rejected: User unknown in local recipient table")
        }
        return SMTPReply(code: 252, "2.0.0", argument)
    }

    mutating func etrn(_ argument: String, session: SMTPSessionInfo) -> SMTPReply {
        mta.flushQueue()
        return SMTPReply(code: 250, nil, "Queuing started")
    }

    mutating func acceptMessage(_ envelope: SMTPEnvelope, data: [UInt8], session: SMTPSessionInfo) -> SMTPMessageDecision {
        mta.receive(envelope: envelope, data: data, session: session, listener: listener)
    }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
