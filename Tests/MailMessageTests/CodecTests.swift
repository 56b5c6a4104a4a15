import Testing
@testable import MailMessage

@Suite struct CodecTests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64RFC4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        let decoded = Base64.decode(Array(encoded.utf8))
        #expect(decoded.valid)
        #expect(decoded.bytes == Array(plain.utf8))
    }

    @Test func base64LinesAreAt76Columns() {
        let data = [UInt8](repeating: 0xAB, count: 300)
        let text = Base64.encodeLines(data)
        let lines = text.split(separator: "\r\n")
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(lines.last!.count <= 76)
        #expect(Base64.decode(Array(text.utf8)).bytes == data)
    }

    @Test(arguments: ["Zm9v!YmFy", "Zm9vY", "Zm9v=YmFy", "Zg="])
    func brokenBase64IsReportedButDecoded(input: String) {
        let result = Base64.decode(Array(input.utf8))
        #expect(!result.valid)
    }

    @Test(arguments: [
        ("caf=C3=A9\r\n", "café\r\n"),
        ("soft=\r\nbreak\r\n", "softbreak\r\n"),
        ("trailing   \r\nx", "trailing\r\nx"),
        ("a=3Db", "a=b"),
        ("lower=c3=a9", "loweré"),
    ])
    func quotedPrintableDecoding(input: String, expected: String) {
        let result = QuotedPrintable.decode(Array(input.utf8))
        #expect(result.valid)
        #expect(String(decoding: result.bytes, as: UTF8.self) == expected)
    }

    @Test func brokenQuotedPrintableKeepsTheBytes() {
        let result = QuotedPrintable.decode(Array("100=ZZ sure".utf8))
        #expect(!result.valid)
        #expect(String(decoding: result.bytes, as: UTF8.self) == "100=ZZ sure")
    }

    @Test func quotedPrintableRoundTripAndLineLength() {
        let text = String(repeating: "Voilà une très longue ligne = égale, ", count: 6) + "fin \r\nsecond line\t\r\n"
        let encoded = QuotedPrintable.encode(Array(text.utf8))
        #expect(encoded.split(separator: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(QuotedPrintable.decode(Array(encoded.utf8)).bytes == Array(text.utf8))
    }

    @Test(arguments: [
        ("=?UTF-8?B?Q2Fmw6k=?=", "Café"),
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
        ("=?utf-8?q?caf=C3=A9_cr=C3=A8me?=", "café crème"),
        ("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"),
        ("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab"),
        ("plain =?UTF-8?Q?x?= text", "plain x text"),
        ("=?iso-8859-1?B?SOlsb+8=?=", "Héloï"),
        ("=?us-ascii*en?Q?Hi?=", "Hi"),
        ("not =? an encoded word", "not =? an encoded word"),
    ])
    func encodedWordDecoding(input: String, expected: String) {
        #expect(EncodedWord.decode(input).text == expected)
    }

    @Test func unknownCharsetInEncodedWordIsFlagged() {
        let result = EncodedWord.decode("=?x-klingon?Q?abc?=")
        #expect(!result.valid)
        #expect(result.text == "abc")
    }

    @Test(arguments: ["Café crème", "Réunion à 14h — ordre du jour très détaillé pour la semaine prochaine, merci 😀", "a_b=c?d"])
    func encodedWordRoundTrip(text: String) {
        let encoded = EncodedWord.encode(text)
        for word in encoded.split(separator: " ") { #expect(word.count <= 75) }
        #expect(EncodedWord.decode(encoded).text == text)
    }

    @Test(arguments: [
        (Charset.iso88591, [0x63, 0x61, 0x66, 0xE9] as [UInt8], "café", true),
        (Charset.windows1252, [0x80, 0x20, 0x93, 0x71, 0x94], "€ “q”", true),
        (Charset.utf8, [0x63, 0xC3, 0xA9], "cé", true),
        (Charset.utf8, [0x63, 0xE9], "c\u{FFFD}", false),
        (Charset.usASCII, [0x41, 0xE9], "Aé", false),
    ])
    func charsets(charset: Charset, bytes: [UInt8], text: String, valid: Bool) {
        let result = charset.decode(bytes)
        #expect(result.text == text)
        #expect(result.valid == valid)
    }

    @Test(arguments: [
        ("Thu, 26 Nov 2026 16:30:22 +0100", Int64(1_795_707_022), 60),
        ("26 Nov 2026 15:30:22 GMT", 1_795_707_022, 0),
        ("Fri, 11 Jul 2003 21:00:37 -0700 (PDT)", 1_057_982_437, -420),
        ("Sat, 1 Jan 00 00:00 EST", 946_702_800, -300),
        ("Mon, 29 Feb 2016 23:59:60 +0000", 1_456_790_400, 0),
    ])
    func dateParsing(text: String, seconds: Int64, zone: Int) {
        let date = MailDate(rfc5322: text)
        #expect(date?.secondsSinceEpoch == seconds)
        #expect(date?.zoneOffsetMinutes == zone)
    }

    @Test(arguments: [
        (Int64(0), 0, "Thu, 1 Jan 1970 00:00:00 +0000"),
        (1_795_707_022, 60, "Thu, 26 Nov 2026 16:30:22 +0100"),
        (1_057_982_437, -420, "Fri, 11 Jul 2003 21:00:37 -0700"),
        (951_782_400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"),
        (-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (1_700_000_000, 330, "Wed, 15 Nov 2023 03:43:20 +0530"),
    ])
    func dateFormatting(seconds: Int64, zone: Int, text: String) {
        let date = MailDate(secondsSinceEpoch: seconds, zoneOffsetMinutes: zone)
        #expect(date.rfc5322 == text)
        #expect(MailDate(rfc5322: text) == date)
    }

    @Test(arguments: ["", "yesterday", "32 Jan 2020 10:00 +0000", "1 Foo 2020 10:00 +0000", "1 Jan 2020 25:00 +0000"])
    func badDatesAreNil(text: String) {
        #expect(MailDate(rfc5322: text) == nil)
    }
}

@Suite struct AddressTests {
    @Test func addressListWithNamesQuotesEncodedWordsAndGroups() {
        let value = #"Alice <alice@example.com>, "Bob, Jr." <bob@company.org>, =?ISO-8859-1?Q?Andr=E9?= <andre@example.fr>, undisclosed-recipients:;, team: carol@x.org, Dave (the boss) <dave@x.org>;, eve@example.net"#
        let (entries, skipped) = AddressParser.parseList(value)
        #expect(skipped == 0)
        #expect(entries == [
            .mailbox(MailAddress(displayName: "Alice", localPart: "alice", domain: "example.com")),
            .mailbox(MailAddress(displayName: "Bob, Jr.", localPart: "bob", domain: "company.org")),
            .mailbox(MailAddress(displayName: "André", localPart: "andre", domain: "example.fr")),
            .group(name: "undisclosed-recipients", members: []),
            .group(name: "team", members: [MailAddress(localPart: "carol", domain: "x.org"),
                                            MailAddress(displayName: "Dave", localPart: "dave", domain: "x.org")]),
            .mailbox(MailAddress(localPart: "eve", domain: "example.net")),
        ])
    }

    @Test(arguments: [
        (MailAddress(displayName: "Alice", localPart: "alice", domain: "example.com"), "Alice <alice@example.com>"),
        (MailAddress(displayName: "Bob, Jr.", localPart: "bob", domain: "c.org"), #""Bob, Jr." <bob@c.org>"#),
        (MailAddress(displayName: "André", localPart: "a", domain: "e.fr"), "=?UTF-8?Q?Andr=C3=A9?= <a@e.fr>"),
        (MailAddress(localPart: "x", domain: "y.z"), "x@y.z"),
    ])
    func addressFormattingRoundTrip(address: MailAddress, text: String) {
        #expect(address.headerFormat == text)
        #expect(MailAddress(text) == address)
    }

    @Test func messageIDs() {
        #expect(AddressParser.messageIDs("<a@b> <c@d>\r\n <e@f>") == ["<a@b>", "<c@d>", "<e@f>"])
    }
}
