import Testing
@testable import MailAgents
import MailCore
import MailSim

/// Adds a device of Bob's reading company.org's MDA.
func bobDevice(_ mail: MailWorld, _ name: String, address: String, proto: IncomingProtocol,
               security: ConnectionSecurity = .none) throws -> MUA {
    _ = try? mail.world.addHost(name, address: address, addDNS: false)
    return try mail.addMUA(named: name, on: name, account: MailAccountSettings(
        address: "bob@company.org", displayName: "Bob", login: "bob", password: "secret123",
        smtpHost: "mail1.company.org", incomingProtocol: proto, incomingHost: "mail1.company.org",
        incomingSecurity: security))
}

func sendToBob(_ mail: MailWorld, subject: String) throws {
    try mail.muas["alice"]!.send(Composition(to: ["bob@company.org"], subject: subject, text: "Hello Bob\n"))
    try mail.settle(limit: .minutes(2))
}

@Suite struct POP3DeviceTests {
    @Test(arguments: [ConnectionSecurity.none, .startTLS, .tls])
    func deleteModeDownloadsThenEmptiesTheServer(security: ConnectionSecurity) throws {
        let mail = try MailWorld.course(seed: 21)
        // The course's Dovecot refuses plaintext logins; the plaintext case needs them allowed.
        if security == .none { mail.mdas["mail1.company.org"]!.setPlaintextLoginRequiresTLS(false) }
        try sendToBob(mail, subject: "One")
        try sendToBob(mail, subject: "Two")
        let laptop = try bobDevice(mail, "bob-laptop", address: "192.0.2.21", proto: .pop3, security: security)
        let phone = try bobDevice(mail, "bob-phone", address: "192.0.2.22", proto: .pop3, security: security)
        laptop.fetchPOP3()
        try mail.settle(limit: .minutes(1))
        #expect(laptop.fetches.last?.succeeded == true, "\(laptop.fetches.last?.summary ?? "no fetch")")
        #expect(laptop.downloaded.count == 2)
        #expect(try inbox(mail, "company.org", "bob").isEmpty)
        phone.fetchPOP3()
        try mail.settle(limit: .minutes(1))
        #expect(phone.downloaded.isEmpty)
        let transcript = mail.world.transcript()
        #expect(transcript.contains("S: +OK POP3 server signing off (2 messages deleted)"))
        if security != .none { #expect(!mail.world.transcript(view: .eavesdropper).contains("PASS secret123")) }
    }

    @Test func leaveOnServerWithUIDLNeverDownloadsTwice() throws {
        let mail = try MailWorld.course(seed: 22)
        let laptop = try bobDevice(mail, "bob-laptop", address: "192.0.2.21", proto: .pop3, security: .startTLS)
        let phone = try bobDevice(mail, "bob-phone", address: "192.0.2.22", proto: .pop3, security: .startTLS)
        laptop.pop3Mode = .leaveOnServer
        phone.pop3Mode = .leaveOnServer
        try sendToBob(mail, subject: "First")
        laptop.fetchPOP3(); try mail.settle(limit: .minutes(1))
        phone.fetchPOP3(); try mail.settle(limit: .minutes(1))
        try sendToBob(mail, subject: "Second")
        laptop.fetchPOP3(); try mail.settle(limit: .minutes(1))
        phone.fetchPOP3(); try mail.settle(limit: .minutes(1))
        #expect(laptop.downloaded.count == 2)
        #expect(phone.downloaded.count == 2)
        #expect(try inbox(mail, "company.org", "bob").count == 2)
        // Both devices asked UIDL every time, and retrieved each message exactly once.
        #expect(mail.world.transcript().components(separatedBy: "C: RETR").count - 1 == 4)
    }

    @Test func secondSessionFindsTheMaildropLocked() throws {
        let mail = try MailWorld.course(seed: 23)
        mail.mdas["mail1.company.org"]!.setPlaintextLoginRequiresTLS(false)  // raw USER/PASS on 110
        try sendToBob(mail, subject: "Locked")
        let world = mail.world
        var first = "", second = ""
        let a = world.connect(from: world.host("bob-pc")!, to: "mail1.company.org", port: 110) { e in
            if case .data(let b) = e { first += String(decoding: b, as: UTF8.self) }
        }
        a.write("USER bob\r\nPASS secret123\r\n")
        try mail.settle(limit: .seconds(5))
        let b = world.connect(from: world.host("alice-laptop")!, to: "mail1.company.org", port: 110) { e in
            if case .data(let b) = e { second += String(decoding: b, as: UTF8.self) }
        }
        b.write("USER bob\r\nPASS secret123\r\n")
        try mail.settle(limit: .seconds(5))
        #expect(first.contains("+OK Logged in"))
        #expect(second.contains("-ERR [IN-USE]"))
    }
}

@Suite struct IMAPDeviceTests {
    @Test func flagsMovesAndNewMailReachEveryDeviceThroughIdle() throws {
        let mail = try MailWorld.course(seed: 31)
        mail.mdas["mail1.company.org"]!.setPlaintextLoginRequiresTLS(false)  // the tablet logs in on 143 in clear
        try sendToBob(mail, subject: "Before")
        let laptop = try bobDevice(mail, "bob-laptop", address: "192.0.2.21", proto: .imap, security: .tls)
        let phone = try bobDevice(mail, "bob-phone", address: "192.0.2.22", proto: .imap, security: .startTLS)
        let tablet = try bobDevice(mail, "bob-tablet", address: "192.0.2.23", proto: .imap, security: .none)
        let sessions = [laptop, phone, tablet].map { $0.startIMAPSync() }
        try mail.settle(limit: .seconds(30))
        for session in sessions {
            #expect(session.status == .running(idle: true))
            #expect(session.view.uids.count == 1)
        }

        // A new message reaches the tablet through IDLE, without any poll.
        try sendToBob(mail, subject: "Pushed")
        for session in sessions { #expect(session.view.uids.count == 2) }
        #expect(sessions.allSatisfy { $0.polls == 0 })

        // The phone reads message 1: the laptop sees \Seen.
        let uid = try #require(sessions[0].view.uids.first)
        phone.runIMAP([.select("INBOX"), .store(IMAPSequenceSet(ranges: [.init(.number(uid), .number(uid))]), .add,
                                                 silent: false, [.seen], uid: true)])
        try mail.settle(limit: .seconds(30))
        #expect(sessions[0].view.flags[uid]?.contains(.seen) == true)
        #expect(sessions[2].view.flags[uid]?.contains(.seen) == true)

        // The phone files it in a folder: it leaves INBOX everywhere.
        phone.runIMAP([.create("Archive"), .select("INBOX"),
                       .move(IMAPSequenceSet(ranges: [.init(.number(uid), .number(uid))]), "Archive", uid: true)])
        try mail.settle(limit: .seconds(30))
        for session in sessions { #expect(session.view.uids.count == 1) }
        #expect(try mail.store(for: "company.org").messages(user: "bob", mailbox: "Archive").count == 1)
    }
}

@Suite struct IMAPPollingTests {
    @Test func aClientWithoutIdlePollsAndSeesNewMailAtTheNextPoll() throws {
        let mail = try MailWorld.course(seed: 33)
        let laptop = try bobDevice(mail, "bob-laptop", address: "192.0.2.21", proto: .imap, security: .tls)
        laptop.usesIDLE = false
        let session = laptop.startIMAPSync(pollInterval: .minutes(5))
        try mail.settle(limit: .seconds(10))
        #expect(session.status == .running(idle: false))
        try sendToBob(mail, subject: "Polled")
        // In the store, but the device has not asked yet.
        #expect(try inbox(mail, "company.org", "bob").count == 1)
        #expect(session.view.uids.isEmpty)
        try mail.settle(limit: .minutes(5))
        #expect(session.polls >= 1)
        #expect(session.view.uids.count == 1)
    }
}

@Suite struct RetryScheduleListTests {
    @Test func anExplicitListIsFollowedAndItsLastDelayRepeats() {
        let schedule = RetrySchedule.explicit([300, 1800, 3600])
        #expect((1...5).map { schedule.backoff(afterFailedAttempts: $0) } == [300, 1800, 3600, 3600, 3600])
    }
}
