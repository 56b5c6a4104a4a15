import Foundation
import Testing
@testable import MailCore

@Suite struct CatalogueTests {
    static let syllabusCodes = [220, 221, 235, 250, 251, 334, 354, 421, 450, 451, 452, 500, 501, 502, 503, 504, 530, 535, 550, 551, 552, 553, 554]

    /// Every `reply(code, "x.y.z", …)` the server engine's source can write, read from the source itself.
    static func serverReplies() throws -> [(Int, String?)] {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/MailCore/SMTP/SMTPServer.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"reply\((\d{3}), (nil|"(\d\.\d{1,3}\.\d{1,3})")"#)
        var found: [(Int, String?)] = []
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let codeRange = Range(match.range(at: 1), in: text) else { continue }
            let enhanced = Range(match.range(at: 3), in: text).map { String(text[$0]) }
            found.append((Int(text[codeRange]) ?? 0, enhanced))
        }
        return found
    }

    static let commandErrors: [SMTPCommandError] = [
        .badSyntax, .unknownCommand, .notImplemented, .syntax("HELO"), .syntax("EHLO"), .syntax("MAIL"), .syntax("RCPT"),
        .syntax("VRFY"), .syntax("ETRN"), .syntax("AUTH"), .syntax("DATA"), .badSenderAddress, .badRecipientAddress,
        .senderPathTooLong, .recipientPathTooLong, .unsupportedParameter("X"), .badParameter("SIZE"),
    ]

    @Test func everyServerReplyIsExplainedInBothLanguages() throws {
        var replies = try Self.serverReplies()
        #expect(replies.count > 40)  // the source was really read
        replies += Self.commandErrors.map { ($0.reply.code, $0.reply.enhancedCode?.description) }
        replies += [(250, "2.0.0"), (334, nil)]  // queued-as and SASL challenges are written without reply(…)
        for (code, enhanced) in replies {
            let basic = ReplyCatalogue.smtp(code)
            #expect(basic != nil, "no entry for \(code)")
            if let enhanced {
                let exact = EnhancedStatusCode(enhanced).flatMap { ReplyCatalogue.enhancedByCode[$0] }
                #expect(exact != nil, "no exact entry for \(enhanced)")
            }
        }
    }

    @Test func syllabusCodesAreAllThere() {
        for code in Self.syllabusCodes {
            #expect(ReplyCatalogue.smtp(code) != nil, "\(code)")
        }
    }

    @Test func everyEntryHasBothLanguagesFilled() {
        let entries = ReplyCatalogue.allEntries
        #expect(entries.count > 80)
        var keys = Set<String>()
        for entry in entries {
            #expect(keys.insert(entry.mailProtocol.rawValue + " " + entry.key).inserted, "duplicate \(entry.key)")
            for text in [entry.title, entry.meaning, entry.usualCauses] {
                #expect(!text.fr.isEmpty && !text.en.isEmpty, "\(entry.key)")
                #expect(text.fr != text.en, "\(entry.key): French equals English")
            }
        }
    }

    @Test(arguments: [
        (MailProtocol.smtp, "550", "550"), (.smtp, " 5.7.1 ", "5.7.1"), (.pop3, "[IN-USE]", "IN-USE"), (.pop3, "-err", "-ERR"),
        (.pop3, "sys/temp", "SYS/TEMP"), (.imap, "no", "NO"), (.imap, "[TRYCREATE]", "TRYCREATE"), (.imap, "TooBig", "TOOBIG"),
        (.imap, "AUTHENTICATIONFAILED", "AUTHENTICATIONFAILED"), (.imap, "[ALERT]", "ALERT"), (.imap, "BAD", "BAD"),
    ])
    func lookups(mailProtocol: MailProtocol, key: String, expected: String) {
        #expect(ReplyCatalogue.lookup(mailProtocol, key)?.key == expected)
    }

    @Test func unknownEnhancedDetailFallsBackToSubject() {
        let entry = ReplyCatalogue.smtpEnhanced(EnhancedStatusCode(5, 7, 26))
        #expect(entry?.title.en == "Security or policy status")
        #expect(entry?.meaning.fr.hasPrefix("Échec définitif") == true)
        #expect(ReplyCatalogue.lookup(.smtp, "999") == nil)
        #expect(ReplyCatalogue.lookup(.imap, "NOTACODE") == nil)
    }

    /// Dovecot answers USER/PASS in clear before STLS with -ERR [AUTH]: the explanation must not
    /// send the learner to check a password that was right.
    @Test func pop3AuthCodeCoversThePlaintextRefusal() throws {
        let entry = try #require(ReplyCatalogue.lookup(.pop3, "[AUTH]"))
        #expect(entry.usualCauses.en.contains("STLS") && entry.usualCauses.fr.contains("STLS"))
        #expect(entry.usualCauses.en.contains("wrong user name or password"))
    }

    @Test func explainsAWholeReply() {
        let reply = SMTPReply(code: 554, "5.7.1", "<x@ext.test>: Relay access denied")
        #expect(ReplyCatalogue.explain(reply).map(\.key) == ["554", "5.7.1"])
    }
}
