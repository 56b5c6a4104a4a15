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

    @Test func tokensAreFoundOnTheBytesWhateverTheCharacters() {
        // Multi-byte characters stay inside their atom, quoted string or comment; quoted pairs
        // escape the character after them, however many bytes it has.
        #expect(AddressParser.parseList("Zoé Müller <zoé@exämple.org>").entries == [
            .mailbox(MailAddress(displayName: "Zoé Müller", localPart: "zoé", domain: "exämple.org"))])
        #expect(AddressParser.parseList("\"Jos\\é \\\"J\\\" Ñ\" <j@x.org>").entries == [
            .mailbox(MailAddress(displayName: "José \"J\" Ñ", localPart: "j", domain: "x.org"))])
        #expect(AddressParser.parseRawList("b@y.org (Bø \\(b\\) 😀)") == [
            .mailbox(RawMailAddress(name: "Bø (b) 😀", localPart: "b", domain: "y.org"))])
        // A line break left in a value (an unfolded header) separates words like a space.
        #expect(AddressParser.mailboxes("Alice\r\n <a@x.org>,\r\n\tb@y.org") == [
            MailAddress(displayName: "Alice", localPart: "a", domain: "x.org"),
            MailAddress(localPart: "b", domain: "y.org")])
        // Local parts and domains of several words are joined as before.
        #expect(AddressParser.mailboxes("first.last@sub . example . org") == [
            MailAddress(localPart: "first.last", domain: "sub.example.org")])
        #expect(AddressParser.mailboxes("\"a b\"@x.org") == [MailAddress(localPart: "\"a b\"", domain: "x.org")])
    }

    @Test func headerBytesDecodeAsUTF8ElseAsLatin1InPlaceOrNot() {
        let ascii: [UInt8] = Array("Subject: plain".utf8)
        #expect(Bytes.string(ascii) == "Subject: plain")
        #expect(Bytes.string(ascii[9...]) == "plain")
        #expect(Bytes.string(Array("Zoé".utf8)[...]) == "Zoé")
        let latin1: [UInt8] = [0x5A, 0x6F, 0xE9]  // "Zoé" in ISO-8859-1: not UTF-8
        #expect(Bytes.string(latin1) == "Zoé")
        #expect(Bytes.string(latin1[1...]) == "oé")
        #expect(Bytes.string(latin1.reversed()) == "éoZ")  // a collection that is not contiguous
        #expect(Bytes.string([UInt8]()) == "")
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
