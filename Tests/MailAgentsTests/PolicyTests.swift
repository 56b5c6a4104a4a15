import Testing
@testable import MailAgents
import MailCore
import MailMessage
import MailPolicy
import MailSim

// Sender authentication in the course world: DKIM signing at mail.example.com, SPF/DKIM/DMARC at
// the company.org MX, DMARC dispositions, DNSBL at connect.

/// Sends `data` over a plain SMTP session from `hostName` (added with `address` when missing) to
/// port 25 of `server`, and returns the client's view of it.
func sendRaw(_ mail: MailWorld, from hostName: String, address: String, to server: String = "mail1.company.org",
             mailFrom: String, rcptTo: [String] = ["bob@company.org"], data: [UInt8]) throws -> SMTPAttempt {
    let host = try mail.world.host(hostName) ?? mail.world.addHost(hostName, address: address)
    let job = try #require(SMTPClientJob(from: mailFrom, to: rcptTo, data: data, ehloName: hostName))
    var outcome: SMTPAttempt?
    let session = ClientSession<SMTPClient, SMTPDeliveryResult, SMTPAttempt>(
        engine: SMTPClient(job: job), world: mail.world, serverName: server,
        hooks: SMTPClient.sessionHooks) { outcome = $0 }
    session.connect(from: host, to: server, port: 25, implicitTLS: false)
    try mail.settle(limit: .minutes(5))
    return try #require(outcome)
}

/// The CEO fraud of the course: a stranger writes as ceo@example.com.
let forgedCEO = Array("""
    From: CEO <ceo@example.com>\r
    To: Bob <bob@company.org>\r
    Subject: Urgent wire transfer\r
    Date: Wed, 1 Jan 2025 09:00:00 +0100\r
    Message-ID: <forged.1@example.com>\r
    \r
    Bob, please wire 48 000 EUR today. Keep this confidential.\r

    """.utf8)

/// The unfolded value of `name` in a stored message.
func field(_ message: StoredMessage, _ name: String) -> String? {
    Message(parsing: message.raw).headers[name]
}

func sendLegitimate(_ mail: MailWorld, subject: String = "Réunion", text: String = "Bonjour Bob,\n\nÀ demain.\n") throws {
    var outcome: SubmissionResult?
    try mail.muas["alice"]!.send(Composition(to: ["Bob <bob@company.org>"], subject: subject, text: text)) { outcome = $0 }
    try mail.settle(limit: .minutes(5))
    #expect(outcome?.succeeded == true, "\(outcome?.summary ?? "no outcome")")
}

@Suite struct PolicyDNSTests {
    @Test func mapsTheResolverAnswers() throws {
        let world = try World.defaultWorld(seed: 1)
        world.dns.addTXT("long.example.com", ["v=spf1 ip4:198.51.100.25 ", "-all"])
        let dns = world.policyDNS
        #expect(dns.txt("example.com") == .answer(["v=spf1 ip4:198.51.100.25 -all"]))
        #expect(dns.txt("long.example.com") == .answer(["v=spf1 ip4:198.51.100.25 -all"]))
        // The name exists without TXT records: NOERROR, no data.
        #expect(dns.txt("mail.example.com") == .answer([]))
        #expect(dns.txt("nowhere.invalid") == .nxdomain)
        #expect(dns.a("mail1.company.org") == .answer([MailPolicy.IPv4Address(203, 0, 113, 10)]))
        #expect(dns.mx("company.org") == .answer([
            MXRecord(preference: 10, host: "mail1.company.org"),
            MXRecord(preference: 20, host: "mail2.company.org"),
            MXRecord(preference: 30, host: "mail-backup.example.net"),
        ]))
        #expect(dns.mx("nowhere.invalid") == .nxdomain)
    }

    @Test func publishedRecordsAreWhereVerifiersLook() throws {
        let mail = try MailWorld.course(seed: 1)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        let dns = mail.world.policyDNS
        #expect(dns.txt("2025._domainkey.example.com") == .answer(["v=DKIM1; k=rsa; p=\(DKIMTestKeys.rsaPublicKeyBase64)"]))
        #expect(dns.txt("_dmarc.example.com") == .answer(["v=DMARC1; p=reject; rua=mailto:dmarc@example.com; pct=100"]))
        // Publishing again replaces the record rather than adding a second one.
        mail.publishDMARC(domain: "example.com", record: MailWorld.dmarcRecord(policy: .quarantine, percentage: 50))
        #expect(dns.txt("_dmarc.example.com") == .answer(["v=DMARC1; p=quarantine; pct=50"]))
    }
}

@Suite struct SenderAuthenticationTests {
    @Test(arguments: [false, true])
    func legitimateMessagePassesSPFDKIMAndDMARC(ed25519: Bool) throws {
        let mail = try MailWorld.course(seed: 21)
        mail.enableSenderAuthentication(dmarcPolicy: .reject, ed25519: ed25519)
        try sendLegitimate(mail)

        let messages = try inbox(mail, "company.org", "bob")
        try #require(messages.count == 1)
        let copy = messages[0]
        #expect(field(copy, "Authentication-Results") == "mail1.company.org; spf=pass smtp.mailfrom=example.com;"
            + " dkim=pass header.d=example.com header.s=2025; dmarc=pass header.from=example.com")
        #expect(field(copy, "Received-SPF")?.hasPrefix("pass (mail1.company.org: domain of alice@example.com designates 198.51.100.25 as permitted sender)") == true,
                "\(field(copy, "Received-SPF") ?? "none")")
        let signature = try #require(field(copy, "DKIM-Signature"))
        #expect(signature.hasPrefix("v=1; a=\(ed25519 ? "ed25519-sha256" : "rsa-sha256"); c=relaxed/relaxed; d=example.com; s=2025; t="))
        // Signed at submission: the copy in mail.example.com's queue already carried it.
        let sent = try #require(mail.mtas["mail.example.com"]!.queue.finished.first)
        #expect(String(decoding: sent.data, as: UTF8.self).contains("DKIM-Signature: v=1;"))
        // The trace fields added above the signature leave it valid (RFC 8601 §5).
        let verification = DKIMVerifier(dns: mail.world.policyDNS).verify(copy.raw, now: mail.world.unixSeconds)
        #expect(verification.map(\.result) == [.pass])

        let verdict = try #require(mail.mtas["mail1.company.org"]!.inboundVerdicts.first)
        #expect(verdict.action == .delivered)
        #expect(verdict.clientAddress == "198.51.100.25")
        #expect(verdict.authentication.dmarc.result == .pass)
    }

    /// The course world itself signs and checks (issue 13; this used to pin that it did not).
    @Test func theCourseWorldSignsWithSelector2024AndChecks() throws {
        let mail = try MailWorld.course(seed: 21)
        try sendLegitimate(mail)
        let copy = try #require(try inbox(mail, "company.org", "bob").first)
        #expect(field(copy, "Authentication-Results")?.contains("dkim=pass header.d=example.com header.s=2024") == true)
        #expect(field(copy, "DKIM-Signature")?.contains("s=2024;") == true)
        #expect(mail.mtas["mail1.company.org"]!.inboundVerdicts.count == 1)
    }

    @Test func forgedCEOIsRejectedAtTheEndOfData() throws {
        let mail = try MailWorld.course(seed: 22)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        let attempt = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        #expect(!attempt.result.allAccepted)

        let lines = mail.world.transcript().split(separator: "\n").map(String.init)
        let data = try #require(lines.firstIndex(of: "C: DATA"))
        let tail = Array(lines[data...].prefix(while: { !$0.hasPrefix("C: QUIT") }))
        #expect(tail.first == "C: DATA")
        #expect(tail.contains("S: 354 End data with <CR><LF>.<CR><LF>"))
        #expect(tail.contains("C: From: CEO <ceo@example.com>"))
        #expect(tail.last == "S: 550 5.7.1 Email rejected per DMARC policy for example.com", "\(tail)")

        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        let mx = mail.mtas["mail1.company.org"]!
        #expect(mx.queue.entries.isEmpty && mx.queue.finished.isEmpty)
        let verdict = try #require(mx.inboundVerdicts.first)
        #expect(verdict.action == .rejected)
        #expect(verdict.authentication.spf.result == .fail)
        #expect(verdict.authentication.dkim.isEmpty)
        #expect(verdict.authentication.dmarc.result == .fail)
        #expect(mx.log.contains { $0.contains("NOQUEUE: reject: END-OF-MESSAGE from [192.0.2.66]: 550 5.7.1") })
    }

    /// The same forgery under each policy: where it ends up.
    @Test(arguments: [
        (DMARCPolicy.none, "250 2.0.0 Ok: queued as", 1, 0),
        (DMARCPolicy.quarantine, "250 2.0.0 Ok: queued as", 0, 1),
        (DMARCPolicy.reject, "550 5.7.1 Email rejected per DMARC policy for example.com", 0, 0),
    ])
    func forgedCEOUnderEachPolicy(policy: DMARCPolicy, reply: String, inInbox: Int, inJunk: Int) throws {
        let mail = try MailWorld.course(seed: 23)
        mail.enableSenderAuthentication(dmarcPolicy: policy)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        #expect(mail.world.transcript().contains("S: \(reply)"))
        let store = mail.store(for: "company.org")
        #expect(try store.messages(user: "bob").count == inInbox)
        let hasJunk = store.mailboxes(user: "bob").contains { $0.name == "Junk" }
        #expect(hasJunk == (inJunk > 0))
        if inJunk > 0 {
            let junk = try store.messages(user: "bob", mailbox: "Junk")
            #expect(junk.count == inJunk)
        }
        let filed = try (store.messages(user: "bob") + (hasJunk ? store.messages(user: "bob", mailbox: "Junk") : []))
        for message in filed {
            #expect(field(message, "Authentication-Results") == "mail1.company.org; spf=fail smtp.mailfrom=example.com;"
                + " dkim=none; dmarc=fail header.from=example.com")
            #expect(field(message, "Received-SPF")?.hasPrefix("fail ") == true)
        }
    }

    @Test func junkFolderIsReusedOnceMade() throws {
        let mail = try MailWorld.course(seed: 24)
        mail.enableSenderAuthentication(dmarcPolicy: .quarantine)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "", data: forgedCEO)
        let junk = try mail.store(for: "company.org").messages(user: "bob", mailbox: "Junk")
        #expect(junk.count == 2)
        #expect(mail.mtas["mail1.company.org"]!.log.filter { $0.contains("created folder Junk for bob") }.count == 1)
    }

    @Test func forgedMailFromOwnDomainDoesNotAlignWithFrom() throws {
        // SPF passes for the forger's own domain, but DMARC looks at the From domain.
        let mail = try MailWorld.course(seed: 25)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        mail.world.dns.addTXT("forger.example", "v=spf1 ip4:192.0.2.66 -all")
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "bounce@forger.example", data: forgedCEO)
        let verdict = try #require(mail.mtas["mail1.company.org"]!.inboundVerdicts.first)
        #expect(verdict.authentication.spf.result == .pass)
        #expect(verdict.authentication.dmarc.result == .fail)
        #expect(verdict.authentication.dmarc.spfAligned == false)
        #expect(verdict.action == .rejected)
    }

    /// The signed copy as it left mail.example.com, with one byte of its body changed.
    func tamperedCopy(_ mail: MailWorld) throws -> [UInt8] {
        let sent = try #require(mail.mtas["mail.example.com"]!.queue.finished.first)
        var bytes = sent.data
        let separator: [UInt8] = [13, 10, 13, 10]
        let bodyStart = try #require((0..<(bytes.count - 3)).first { Array(bytes[$0..<$0 + 4]) == separator }) + 4
        let target = try #require((bodyStart..<bytes.count).first { bytes[$0] == UInt8(ascii: "B") })
        bytes[target] = UInt8(ascii: "R")  // "Bonjour" becomes "Ronjour"
        return bytes
    }

    @Test func oneChangedByteOfTheBodyFailsDKIM() throws {
        let mail = try MailWorld.course(seed: 26)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        try sendLegitimate(mail)
        let tampered = try tamperedCopy(mail)
        // Delivered again from mail.example.com's own address: SPF still passes.
        let attempt = try sendRaw(mail, from: "mail.example.com", address: "198.51.100.25",
                                  mailFrom: "alice@example.com", data: tampered)
        #expect(attempt.result.allAccepted)
        let messages = try inbox(mail, "company.org", "bob")
        try #require(messages.count == 2)
        #expect(field(messages[0], "Authentication-Results")?.contains("dkim=pass") == true)
        #expect(field(messages[1], "Authentication-Results") == "mail1.company.org; spf=pass smtp.mailfrom=example.com;"
            + " dkim=fail reason=\"body hash did not verify\" header.d=example.com header.s=2025; dmarc=pass header.from=example.com")
        #expect(text(messages[1]).contains("Ronjour"))
    }

    @Test func alteredBodyThroughAForeignRelayIsRejected() throws {
        // A relay that rewrites the body and sends from its own address: DKIM fails, SPF is not
        // aligned with the From domain, so DMARC fails and p=reject applies (the mailing-list problem).
        let mail = try MailWorld.course(seed: 27)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        try sendLegitimate(mail)
        let tampered = try tamperedCopy(mail)
        let attempt = try sendRaw(mail, from: "lists.example.org", address: "192.0.2.77",
                                  mailFrom: "list-bounces@lists.example.org", data: tampered)
        #expect(!attempt.result.allAccepted)
        let verdict = try #require(mail.mtas["mail1.company.org"]!.inboundVerdicts.last)
        #expect(verdict.authentication.dkim.map(\.result) == [.fail(reason: "body hash did not verify")])
        #expect(verdict.authentication.dmarc.result == .fail)
        #expect(verdict.action == .rejected)
        #expect(try inbox(mail, "company.org", "bob").count == 1)
    }

    @Test func pctZeroAppliesTheNextWeakerPolicy() throws {
        // p=reject with pct=0: no message is sampled into the policy, so it is quarantined (RFC 7489 §6.6.4).
        let mail = try MailWorld.course(seed: 29)
        mail.enableSenderAuthentication(dmarcPolicy: .reject, percentage: 0)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        let verdict = try #require(mail.mtas["mail1.company.org"]!.inboundVerdicts.first)
        #expect(verdict.authentication.dmarc.sampledOut)
        #expect(verdict.action == .quarantined)
        #expect(try mail.store(for: "company.org").messages(user: "bob", mailbox: "Junk").count == 1)
    }

    @Test func pctSamplingDrawsFromTheSeed() throws {
        // pct=50: which forgeries are rejected depends only on the world's seed.
        func actions(_ seed: UInt64) throws -> [InboundVerdict.Action] {
            let mail = try MailWorld.course(seed: seed)
            mail.enableSenderAuthentication(dmarcPolicy: .reject, percentage: 50)
            for _ in 0..<8 {
                _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
            }
            return mail.mtas["mail1.company.org"]!.inboundVerdicts.map(\.action)
        }
        let first = try actions(30)
        #expect(first == (try actions(30)))
        #expect(Set(first) == [.rejected, .quarantined], "\(first)")
    }

    @Test func bobsReplyIsSignedForCompanyOrg() throws {
        let mail = try MailWorld.course(seed: 33)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        var outcome: SubmissionResult?
        try mail.muas["bob"]!.send(Composition(to: ["alice@example.com"], subject: "Re: Réunion", text: "D'accord.\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(5))
        #expect(outcome?.succeeded == true)
        let copy = try #require(try inbox(mail, "example.com", "alice").first)
        #expect(field(copy, "Authentication-Results") == "mail.example.com; spf=pass smtp.mailfrom=company.org;"
            + " dkim=pass header.d=company.org header.s=2025; dmarc=pass header.from=company.org")
    }

    @Test func unenforcedDMARCOnlyRecords() throws {
        let mail = try MailWorld.course(seed: 28)
        mail.enableSenderAuthentication(dmarcPolicy: .reject, enforce: false)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        let messages = try inbox(mail, "company.org", "bob")
        try #require(messages.count == 1)
        #expect(field(messages[0], "Authentication-Results")?.hasSuffix("dmarc=fail header.from=example.com") == true)
    }
}

@Suite struct BlocklistTests {
    /// Postfix's `reject_rbl_client` in `smtpd_recipient_restrictions`: the refusal comes at RCPT
    /// (this used to pin it at the greeting).
    @Test func listedClientGets554AtRCPT() throws {
        let mail = try MailWorld.course(seed: 31)
        mail.mtas["mail1.company.org"]!.setBlocklists(["zen.blocklist.test"])
        mail.world.dns.addBlocklistEntry(MailSim.IPv4Address(192, 0, 2, 66), zone: "zen.blocklist.test")
        let attempt = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        #expect(!attempt.result.allAccepted)
        let lines = mail.world.transcript().split(separator: "\n").map(String.init)
        #expect(lines.contains("S: 554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.blocklist.test"))
        #expect(lines.contains("S: 220 mail1.company.org ESMTP Postfix"))
        #expect(lines.contains("C: RCPT TO:<bob@company.org>"))
        #expect(mail.mtas["mail1.company.org"]!.log.contains {
            $0.contains("NOQUEUE: reject: RCPT from [192.0.2.66]: 554 5.7.1 Service unavailable")
        })

        // Alice's server is not listed: her mail still arrives.
        try sendLegitimate(mail)
        #expect(try inbox(mail, "company.org", "bob").count == 1)
    }

    @Test func reasonTextIsAppendedAndNonLoopbackAnswersDoNotList() throws {
        let mail = try MailWorld.course(seed: 32)
        mail.mtas["mail1.company.org"]!.setBlocklists(["dnsbl.test", "zen.blocklist.test"])
        // An answer outside 127.0.0.0/8 is not a listing (RFC 5782 §2.1).
        mail.world.dns.addBlocklistEntry(MailSim.IPv4Address(192, 0, 2, 66), zone: "dnsbl.test",
                                         returnCode: MailSim.IPv4Address(10, 0, 0, 1))
        mail.world.dns.addBlocklistEntry(MailSim.IPv4Address(192, 0, 2, 66), zone: "zen.blocklist.test",
                                         reason: "Spam source, see https://zen.blocklist.test/192.0.2.66")
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        #expect(mail.world.transcript().contains(
            "S: 554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.blocklist.test; Spam source, see https://zen.blocklist.test/192.0.2.66"))
    }
}

@Suite struct PolicyDeterminismTests {
    struct Run: Equatable {
        var transcript: String
        var bobsCopy: [UInt8]
        var keyRecord: String
    }

    func run(seed: UInt64, ed25519: Bool) throws -> Run {
        let mail = try MailWorld.course(seed: seed)
        let plan = mail.enableSenderAuthentication(dmarcPolicy: .quarantine, ed25519: ed25519)
        try sendLegitimate(mail)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        let copy = try #require(try inbox(mail, "company.org", "bob").first)
        let signing = try #require(plan["mail.example.com"]?.first)
        return Run(transcript: mail.world.transcript(), bobsCopy: copy.raw, keyRecord: signing.dnsRecord)
    }

    @Test(arguments: [false, true])
    func sameSeedSameSignaturesAndTranscript(ed25519: Bool) throws {
        let first = try run(seed: 41, ed25519: ed25519)
        let again = try run(seed: 41, ed25519: ed25519)
        #expect(first == again)
        let other = try run(seed: 42, ed25519: ed25519)
        #expect(other.transcript != first.transcript)
        // The RSA key is the committed demonstration key; Ed25519 keys derive from the world's seed.
        #expect((other.keyRecord != first.keyRecord) == ed25519)
    }
}

@Suite struct InboundTraceFieldTests {
    @Test func forgedAuthenticationResultsForThisHostAreRemoved() throws {
        let mail = try MailWorld.course(seed: 51)
        mail.enableSenderAuthentication(dmarcPolicy: .none)
        let forged = Array(("Authentication-Results: mail1.company.org; dkim=pass header.d=example.com; dmarc=pass\r\n"
            + "Authentication-Results:\r\n MAIL1.company.org 1; spf=pass\r\n smtp.mailfrom=example.com\r\n"
            + "Authentication-Results: mx.other.example; spf=none\r\n").utf8) + forgedCEO
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forged)
        let copy = try #require(try inbox(mail, "company.org", "bob").first)
        let results = Message(parsing: copy.raw).headers.all("Authentication-Results").map(\.value)
        #expect(results == [
            "mail1.company.org; spf=fail smtp.mailfrom=example.com; dkim=none; dmarc=fail header.from=example.com",
            "mx.other.example; spf=none",
        ])
        #expect(text(copy).hasSuffix("Bob, please wire 48 000 EUR today. Keep this confidential.\r\n"))
        #expect(mail.mtas["mail1.company.org"]!.log.contains { $0.contains("removed a forged Authentication-Results field") })
    }

    @Test(arguments: [
        ("Authentication-Results: mx.test; spf=pass\r\nSubject: a\r\n\r\nAuthentication-Results: mx.test; body\r\n",
         "Subject: a\r\n\r\nAuthentication-Results: mx.test; body\r\n"),
        ("Subject: a\nAuthentication-Results: MX.TEST;\n\tdkim=pass\nTo: b\n\nbody\n", "Subject: a\nTo: b\n\nbody\n"),
        ("authentication-results:  mx.test 1; none\r\n", ""),
        ("Authentication-Results: mx.test.example; spf=pass\r\n\r\n", "Authentication-Results: mx.test.example; spf=pass\r\n\r\n"),
        ("Authentication-Results mx.test; no colon\r\n\r\nx", "Authentication-Results mx.test; no colon\r\n\r\nx"),
        (" continuation first\r\nAuthentication-Results: mx.test; x\r\n", " continuation first\r\n"),
    ])
    func filterRemovesOnlyOurOwnFields(input: String, expected: String) {
        let output = AuthenticationResultsFilter.removing(authservID: "mx.test", from: Array(input.utf8))
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    @Test func dkimSurvivesTheBackupMXWhereSPFCannot() throws {
        // mail1 and mail2 are down: the backup MX accepts Alice's message and relays it later.
        // At mail1 the client is the backup (not in example.com's SPF record), but the signature
        // still verifies, so DMARC passes.
        let mail = try MailWorld.course(seed: 52)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        try mail.world.takeDown("mail1.company.org")
        try mail.world.takeDown("mail2.company.org")
        try sendLegitimate(mail)
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        try mail.world.bringUp("mail1.company.org")
        try mail.settle(limit: .minutes(20))
        #expect(mail.mtas["mail-backup.example.net"]!.log.contains { $0.contains("relay=mail1.company.org[203.0.113.10]:25, status=sent") })
        // The backup's field travels in the DATA it sends to mail1.
        #expect(mail.world.transcript().contains("\nC: Authentication-Results: mail-backup.example.net; spf=pass\n"))

        let copy = try #require(try inbox(mail, "company.org", "bob").first)
        let results = Message(parsing: copy.raw).headers.all("Authentication-Results").map(\.value)
        #expect(results == [
            "mail1.company.org; spf=fail smtp.mailfrom=example.com; dkim=pass header.d=example.com header.s=2025;"
                + " dmarc=pass header.from=example.com",
            "mail-backup.example.net; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com"
                + " header.s=2025; dmarc=pass header.from=example.com",
        ])
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func garbageMessagesAreCheckedWithoutCrashing(seed: UInt64) throws {
        let mail = try MailWorld.course(seed: seed)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        var random = SeededRandom(seed: seed)
        var data: [UInt8] = []
        let pieces: [[UInt8]] = [Array("From: ".utf8), Array("DKIM-Signature: ".utf8), Array("v=1; b=; bh=;".utf8),
                                 Array("@".utf8), Array(";".utf8), [13, 10], [10], [0xFF, 0xFE], Array(":".utf8), [32]]
        for _ in 0..<200 {
            data += pieces[Int(random.next() % UInt64(pieces.count))]
        }
        let attempt = try sendRaw(mail, from: "fuzz.example", address: "192.0.2.99", mailFrom: "x@fuzz.example", data: data)
        let verdicts = mail.mtas["mail1.company.org"]!.inboundVerdicts
        #expect(verdicts.count == 1, "seed \(seed)")
        if verdicts.first?.action == .rejected {
            #expect(!attempt.result.allAccepted, "seed \(seed)")
        } else {
            #expect(attempt.result.allAccepted, "seed \(seed)")
        }
    }

    @Test func verdictIsExplainedInBothLanguages() throws {
        let mail = try MailWorld.course(seed: 53)
        mail.enableSenderAuthentication(dmarcPolicy: .reject)
        _ = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        let verdict = try #require(mail.mtas["mail1.company.org"]!.inboundVerdicts.first)
        let english = verdict.explanation(.en)
        let french = verdict.explanation(.fr)
        #expect(english.count == 4 && french.count == 4)
        #expect(english[0].hasPrefix("SPF fail"))
        #expect(english[1].hasPrefix("DKIM none"))
        #expect(english[2].contains("refuse it (550 5.7.1)"))
        #expect(english[3] == "The message was refused at the end of DATA: the sending server must bounce it.")
        #expect(french[3] == "Le message a été refusé à la fin de DATA : le serveur émetteur doit le renvoyer en erreur.")
    }
}
