import Testing
@testable import MailMessage

/// The raw view of an address list that IMAP's ENVELOPE needs (RFC 3501 §7.4.2), next to the
/// decoded view a mail client shows: the same grammar, two presentations.
@Suite struct RawAddressTests {
    @Test func rawAndDecodedViewsOfTheSameList() {
        let value = "=?utf-8?q?Zo=C3=A9?= Martin <zoe@x.org>, \"Doe, Jane\" (work) <jane@x.org>, bob@y.org (Bob B), <@a.net,@b.net:c@w.org>"
        #expect(AddressParser.parseRawList(value) == [
            .mailbox(RawMailAddress(name: "=?utf-8?q?Zo=C3=A9?= Martin", localPart: "zoe", domain: "x.org")),
            .mailbox(RawMailAddress(name: "Doe, Jane", localPart: "jane", domain: "x.org")),
            .mailbox(RawMailAddress(name: "Bob B", localPart: "bob", domain: "y.org")),
            .mailbox(RawMailAddress(route: "@a.net,@b.net", localPart: "c", domain: "w.org")),
        ])
        // The decoded view is unchanged: names decoded, comments and routes dropped.
        #expect(AddressParser.parseList(value).entries == [
            .mailbox(MailAddress(displayName: "Zoé Martin", localPart: "zoe", domain: "x.org")),
            .mailbox(MailAddress(displayName: "Doe, Jane", localPart: "jane", domain: "x.org")),
            .mailbox(MailAddress(localPart: "bob", domain: "y.org")),
            .mailbox(MailAddress(localPart: "c", domain: "w.org")),
        ])
    }

    @Test func groupsKeepTheirRawName() {
        #expect(AddressParser.parseRawList("=?utf-8?q?=C3=A9quipe?=: a@z.org, (nobody) b@z.org;, undisclosed-recipients:;") == [
            .group(name: "=?utf-8?q?=C3=A9quipe?=", members: [RawMailAddress(localPart: "a", domain: "z.org"),
                                                               RawMailAddress(name: "nobody", localPart: "b", domain: "z.org")]),
            .group(name: "undisclosed-recipients", members: []),
        ])
        #expect(Envelope.rawAddresses(nil).isEmpty)
    }

    @Test func envelopeOfAnEncapsulatedMessage() {
        let message = Message(parsing: "From: a@x.org\r\nContent-Type: message/rfc822\r\n\r\nSubject: =?utf-8?q?=C3=A9?=\r\nFrom: b@y.org\r\n\r\nhi\r\n")
        guard case .message(let inner) = message.root.body else {
            Issue.record("no encapsulated message")
            return
        }
        #expect(inner.envelope.subject == "=?utf-8?q?=C3=A9?=")
        #expect(inner.envelope.from == "b@y.org")
        #expect(message.envelope.from == "a@x.org" && message.envelope.subject == nil)
    }
}
