import Testing
@testable import MailAgents
import MailCore
import MailMessage
import MailPolicy
import MailSim

/// The course's world behaves as the lessons' Postfix and Dovecot (issue 13): backup MX hosts
/// queue and forward, the domains authenticate their mail, bounces have Postfix's form, a DNS
/// blocklist refuses at RCPT, and the domains of one server share its store.
@Suite struct CourseWorldTests {
    static func lastHop(_ message: StoredMessage) -> String? {
        Message(parsing: message.raw).headers.all("Received").first?.value
    }

    @Test func backupMXQueuesWhileThePrimaryIsDownThenForwards() throws {
        let mail = try MailWorld.course(seed: 61)
        try mail.world.takeDown("mail1.company.org")
        try sendLegitimate(mail, subject: "Pendant la panne")
        // mail.example.com fell back to mail2 (MX 20), which has no mailbox for company.org.
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        let backup = try #require(mail.mtas["mail2.company.org"])
        #expect(backup.store == nil)
        #expect(backup.queue.entries.count == 1)
        #expect(backup.queue.entries.first?.recipients.map(\.address) == ["bob@company.org"])
        #expect(mail.mtas["mail.example.com"]!.queue.entries.isEmpty)

        try mail.world.bringUp("mail1.company.org")
        try mail.settle(limit: .hours(2))
        let copies = try inbox(mail, "company.org", "bob")
        try #require(copies.count == 1)
        #expect(backup.queue.entries.isEmpty)
        // Delivered by mail1, which got it from mail2.
        let hop = try #require(Self.lastHop(copies[0]))
        #expect(hop.contains("from mail2.company.org"), "\(hop)")
        #expect(hop.contains("by mail1.company.org"), "\(hop)")
        #expect(field(copies[0], "Delivered-To") == "bob@company.org")
    }

    @Test func theCourseWorldSignsAndChecks() throws {
        let mail = try MailWorld.course(seed: 62)
        #expect(mail.world.resolver.txt("_dmarc.example.com").values.first?.joined()
                == "v=DMARC1; p=reject; rua=mailto:dmarc@example.com; pct=100")
        #expect(mail.world.resolver.txt("2024._domainkey.example.com").values.first?.joined().hasPrefix("v=DKIM1; k=rsa; p=MII") == true)
        #expect(mail.world.resolver.txt("2024._domainkey.company.org").values.isEmpty == false)
        #expect(mail.world.resolver.txt("company.org").values.first?.joined() == "v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 -all")
        try sendLegitimate(mail)
        let copy = try #require(try inbox(mail, "company.org", "bob").first)
        let signature = try #require(field(copy, "DKIM-Signature"))
        #expect(signature.contains("d=example.com"), "\(signature)")
        #expect(signature.contains("s=2024"), "\(signature)")
        #expect(field(copy, "Received-SPF")?.hasPrefix("pass") == true, "\(field(copy, "Received-SPF") ?? "none")")
        let results = try #require(field(copy, "Authentication-Results"))
        #expect(results.hasPrefix("mail1.company.org;"), "\(results)")
        #expect(results.contains("spf=pass"), "\(results)")
        #expect(results.contains("dkim=pass"), "\(results)")
        #expect(results.contains("dmarc=pass"), "\(results)")
    }

    @Test func aForgedExampleComSenderIsRefusedByDMARC() throws {
        let mail = try MailWorld.course(seed: 63)
        let attempt = try sendRaw(mail, from: "forger.example", address: "192.0.2.66", mailFrom: "ceo@example.com", data: forgedCEO)
        #expect(!attempt.result.allAccepted)
        #expect(mail.world.transcript().contains("S: 550 5.7.1 Email rejected per DMARC policy for example.com"))
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
    }

    @Test func aBounceHasPostfixsForm() throws {
        let mail = try MailWorld.course(seed: 64)
        var outcome: SubmissionResult?
        try mail.muas["alice"]!.send(Composition(to: ["nobody@company.org"], subject: "Perdu", text: "Bonjour.\n")) { outcome = $0 }
        try mail.settle(limit: .minutes(10))
        #expect(outcome?.succeeded == true)
        let bounce = try #require(try inbox(mail, "example.com", "alice").first)
        let message = Message(parsing: bounce.raw)
        #expect(message.headers["Subject"] == "Undelivered Mail Returned to Sender")
        #expect(message.headers["From"] == "MAILER-DAEMON@mail.example.com (Mail Delivery System)")
        #expect(field(bounce, "Return-Path") == "<>")
        let raw = text(bounce)
        #expect(raw.contains("Content-Type: multipart/report; report-type=delivery-status;"))
        #expect(raw.contains("Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii"))
        #expect(raw.contains("Content-Type: message/delivery-status"))
        #expect(raw.contains("Final-Recipient: rfc822; nobody@company.org\r\nAction: failed\r\nStatus: 5.1.1"))
        #expect(raw.contains("Diagnostic-Code: smtp; 550 5.1.1 <nobody@company.org>: Recipient address rejected"))
        #expect(raw.contains("Content-Description: Undelivered Message\r\nContent-Type: message/rfc822"))
        #expect(raw.contains("Subject: Perdu"))
    }

    @Test func aBlocklistedClientIsRefusedAtRCPTWithPostfixsText() throws {
        let mail = try MailWorld.course(seed: 65)
        mail.mtas["mail1.company.org"]!.setBlocklists(["zen.blocklist.test"])
        mail.world.dns.addBlocklistEntry(MailSim.IPv4Address(192, 0, 2, 66), zone: "zen.blocklist.test")
        let attempt = try sendRaw(mail, from: "listed.example", address: "192.0.2.66", mailFrom: "x@listed.example",
                                  data: Array("Subject: hi\r\n\r\nhello\r\n".utf8))
        #expect(!attempt.result.allAccepted)
        let lines = mail.world.transcript().split(separator: "\n").map(String.init)
        #expect(lines.contains("S: 220 mail1.company.org ESMTP Postfix"))
        let rcpt = try #require(lines.firstIndex(of: "C: RCPT TO:<bob@company.org>"))
        let refusal = try #require(lines.firstIndex(of: "S: 554 5.7.1 Service unavailable; Client host [192.0.2.66] blocked using zen.blocklist.test"))
        #expect(refusal > rcpt)
        #expect(mail.mtas["mail1.company.org"]!.log.contains {
            $0.contains("NOQUEUE: reject: RCPT from [192.0.2.66]: 554 5.7.1 Service unavailable")
        })
    }

    @Test func anMTAWithTwoLocalDomainsDeliversIntoBoth() throws {
        let world = World(seed: 66)
        try world.addHost("mx.twin.test", address: "198.51.100.77")
        world.dns.addMX("one.test", preference: 10, exchange: "mx.twin.test")
        world.dns.addMX("two.test", preference: 10, exchange: "mx.twin.test")
        let mail = MailWorld(world: world)
        let mta = try mail.addMTA(on: "mx.twin.test", configuration: MTAConfiguration(
            hostname: "mx.twin.test", localDomains: ["one.test", "two.test"]))
        try mail.addMDA(on: "mx.twin.test", domain: "two.test")
        try mail.addUser(address: "ann@one.test", login: "ann", password: "a")
        try mail.addUser(address: "ben@two.test", login: "ben", password: "b")
        #expect(mail.store(for: "one.test") === mail.store(for: "two.test"))
        #expect(mta.store === mail.store(for: "two.test"))
        for (to, server) in [("ann@one.test", "mx.twin.test"), ("ben@two.test", "mx.twin.test")] {
            let attempt = try sendRaw(mail, from: "sender.example", address: "192.0.2.50", to: server, mailFrom: "s@sender.example",
                                      rcptTo: [to], data: Array("Subject: to \(to)\r\n\r\nhello\r\n".utf8))
            #expect(attempt.result.allAccepted, "\(to)")
        }
        try mail.settle(limit: .minutes(5))
        #expect(try mail.store(for: "one.test").messages(user: "ann").count == 1)
        #expect(try mail.store(for: "two.test").messages(user: "ben").count == 1)
        // Both users authenticate on the MTA.
        #expect(mta.credentials["ann"] == "a")
        #expect(mta.credentials["ben"] == "b")
    }

    @Test func domainsWithUsersInSeparateStoresCannotBeJoinedSilently() throws {
        let world = World(seed: 67)
        try world.addHost("mx.twin.test", address: "198.51.100.77")
        let mail = MailWorld(world: world)
        try mail.addUser(address: "ann@one.test", login: "ann", password: "a")
        try mail.addUser(address: "ben@two.test", login: "ben", password: "b")
        #expect(throws: MailWorldError.storesCannotBeShared(["one.test", "two.test"])) {
            try mail.addMTA(on: "mx.twin.test", configuration: MTAConfiguration(hostname: "mx.twin.test",
                                                                               localDomains: ["one.test", "two.test"]))
        }
    }

    @Test func duplicateRecipientsGiveOneStoredCopy() throws {
        let mail = try MailWorld.course(seed: 68)
        let attempt = try sendRaw(mail, from: "sender.example", address: "192.0.2.50", mailFrom: "s@sender.example",
                                  rcptTo: Array(repeating: "bob@company.org", count: 20),
                                  data: Array("Subject: twenty times\r\n\r\nhello\r\n".utf8))
        #expect(attempt.result.allAccepted)
        #expect(try inbox(mail, "company.org", "bob").count == 1)
    }

    @Test func plaintextLoginsCanBeAllowedForServe() throws {
        let mail = try MailWorld.course(seed: 69)
        #expect(mail.mdas.values.allSatisfy { $0.configuration.plaintextLoginRequiresTLS })
        #expect(mail.mtas.values.allSatisfy { $0.configuration.requireTLSForAuth })
        mail.allowPlaintextAuthentication()
        #expect(mail.mdas.values.allSatisfy { !$0.configuration.plaintextLoginRequiresTLS })
        #expect(mail.mtas.values.allSatisfy { !$0.configuration.requireTLSForAuth })
        // Port 25 still takes no password in clear.
        let relay = mail.mtas["mail.example.com"]!.serverConfiguration(for: MTAListener(port: 25, kind: .relay))
        #expect(relay.requireTLSForAuth)
    }
}
