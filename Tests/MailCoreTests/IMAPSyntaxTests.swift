import Testing
@testable import MailCore

@Suite struct IMAPModifiedUTF7Tests {
    @Test(arguments: [
        ("INBOX", "INBOX"),
        ("Envoyés", "Envoy&AOk-s"),
        ("Boîte & Co", "Bo&AO4-te &- Co"),
        ("日本語", "&ZeVnLIqe-"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("🙂", "&2D3eQg-"),
        ("&", "&-"),
        ("", ""),
    ])
    func table(_ unicode: String, _ wire: String) {
        #expect(IMAPModifiedUTF7.encode(unicode) == wire)
        #expect(IMAPModifiedUTF7.decode(Array(wire.utf8)) == unicode)
    }

    @Test(arguments: ["&AOk", "&AOk-&AOk-", "&AGE-", "a\u{7}b", "caf\u{e9}", "&2D0-", "&A-", "&AO/-"])
    func rejects(_ wire: String) {
        #expect(IMAPModifiedUTF7.decode(Array(wire.utf8)) == nil)
    }
}

@Suite struct IMAPSequenceSetTests {
    @Test(arguments: [
        ("1:*", [1, 2, 3, 4, 5] as [UInt32]),
        ("2,4:5", [2, 4, 5]),
        ("*", [5]),
        ("5:3", [3, 4, 5]),
        ("*:4", [4, 5]),
        ("7:9", []),
    ])
    func membership(_ text: String, _ expected: [UInt32]) throws {
        let set = try #require(IMAPSequenceSet(parsing: Substring(text)))
        #expect((1...5).filter { set.contains(UInt32($0), largest: 5) }.map(UInt32.init) == expected)
        #expect(set.description == text)
    }

    @Test(arguments: ["0", "", ",", "1,", "1::2", "a", "1:0", "01", "99999999999", "-1"])
    func malformed(_ text: String) {
        #expect(IMAPSequenceSet(parsing: Substring(text)) == nil)
    }

    @Test func compressesNumbers() {
        #expect(IMAPSequenceSet(numbers: [5, 1, 2, 3, 9]).description == "1:3,5,9")
    }
}

@Suite struct IMAPCommandParserTests {
    static let table: [(String, IMAPCommand)] = [
        ("a001 LOGIN bob secret123", .login(user: "bob", password: "secret123")),
        ("a LOGIN \"b o\\\"b\" {3}\r\npwd", .login(user: "b o\"b", password: "pwd")),
        ("a select inbox", .select("INBOX")),
        ("a EXAMINE Envoy&AOk-s", .examine("Envoyés")),
        ("a LIST \"\" %", .list(reference: "", pattern: "%")),
        ("a LIST \"\" \"Work.*\"", .list(reference: "", pattern: "Work.*")),
        ("a STATUS INBOX (MESSAGES UNSEEN)", .status("INBOX", [.messages, .unseen])),
        ("a UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100>)",
         .fetch(.all, [.flags, .section(IMAPSection(text: .headerFields(["FROM", "SUBJECT"])), partial: IMAPPartial(origin: 0, count: 100), peek: true)], uid: true)),
        ("a FETCH 2,4:6 FAST", .fetch(IMAPSequenceSet(parsing: "2,4:6")!, IMAPFetchAttribute.macroFast, uid: false)),
        ("a FETCH * BODY[1.2.MIME]", .fetch(IMAPSequenceSet(parsing: "*")!, [.section(IMAPSection(part: [1, 2], text: .mime), partial: nil, peek: false)], uid: false)),
        ("a FETCH 1 (BODY BODYSTRUCTURE RFC822.SIZE)", .fetch(IMAPSequenceSet(parsing: "1")!, [.bodyStructure(extensible: false), .bodyStructure(extensible: true), .rfc822Size], uid: false)),
        ("a STORE 1 +FLAGS.SILENT (\\seen $Forwarded)", .store(IMAPSequenceSet(parsing: "1")!, .add, silent: true, [.seen, IMAPFlag("$Forwarded")], uid: false)),
        ("a UID STORE 3 -FLAGS \\Deleted", .store(IMAPSequenceSet(parsing: "3")!, .remove, silent: false, [.deleted], uid: true)),
        ("a SEARCH UNSEEN FROM \"alice\" SINCE 1-Feb-2024", .search(.and([.unseen, .from("alice"), .since(IMAPDay(year: 2024, month: 2, day: 1)!)]), charset: nil, uid: false)),
        ("a UID SEARCH OR (SEEN FLAGGED) NOT KEYWORD Junk", .search(.or(.and([.seen, .flagged]), .not(.keyword("Junk"))), charset: nil, uid: true)),
        ("a SEARCH 1:3 LARGER 100 HEADER X-Spam yes", .search(.and([.sequence(IMAPSequenceSet(parsing: "1:3")!), .larger(100), .header("X-Spam", "yes")]), charset: nil, uid: false)),
        ("a APPEND Sent (\\Seen) \"06-Dec-2024 14:30:00 +0100\" {2+}\r\nhi",
         .append(mailbox: "Sent", flags: [.seen], date: IMAPDate(year: 2024, month: 12, day: 6, hour: 14, minute: 30, utcOffsetMinutes: 60), message: Array("hi".utf8))),
        ("a UID MOVE 4:5 Trash", .move(IMAPSequenceSet(parsing: "4:5")!, "Trash", uid: true)),
        ("a UID EXPUNGE 7", .uidExpunge(IMAPSequenceSet(parsing: "7")!)),
        ("a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQxMjM=", .authenticate(mechanism: "PLAIN", initialResponse: Array("AGJvYgBzZWNyZXQxMjM=".utf8))),
        ("a RENAME Work Job", .rename("Work", "Job")),
        ("a IDLE", .idle),
        ("a NAMESPACE", .namespace),
    ]

    @Test(arguments: table)
    func parses(_ line: String, _ expected: IMAPCommand) throws {
        let parsed = try IMAPCommandParser().parse(Array(line.utf8)).get()
        #expect(parsed.command == expected)
    }

    /// Encoding then parsing gives the command back.
    @Test(arguments: table)
    func roundTrips(_ line: String, _ command: IMAPCommand) throws {
        let chunks = IMAPCommandEncoder.encode(tag: "t1", command, literalPlus: true)
        #expect(chunks.count == 1)
        let bytes = Array(chunks[0].dropLast(2))
        let parsed = try IMAPCommandParser().parse(bytes).get()
        #expect(parsed.tag == "t1")
        #expect(parsed.command == command)
    }

    @Test(arguments: [
        ("+tag NOOP", "*", "Error in IMAP command received by server."),
        ("a", "*", "Error in IMAP command received by server."),
        ("a FETCH 0 FLAGS", "a", "Invalid message set."),
        ("a FETCH 1 (FLAGS", "a", "Missing argument."),
        ("a STORE 1 FLAGS (\\Recent)", "a", "\\Recent cannot be set."),
        ("a LOGIN \"x\ny\" z", "a", "Invalid character in quoted string."),
        ("a SEARCH SINCE 31-Feb-2024", "a", "Invalid date."),
        ("a SEARCH CHARSET KOI8-R ALL", "a", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset."),
        ("a NOOP extra", "a", "Unexpected characters at the end of the command."),
    ])
    func errors(_ line: String, _ tag: String, _ text: String) {
        guard case .failure(let e) = IMAPCommandParser().parse(Array(line.utf8)) else {
            Issue.record("parsed \(line)")
            return
        }
        #expect((e.tag ?? "*") == tag)
        #expect(e.text == text)
    }
}

@Suite struct IMAPFramerTests {
    static let stream = Array("a LOGIN {3}\r\nbob {9+}\r\nsecret123\r\nb NOOP\r\nc APPEND X {4}\r\nab\r\n\r\nd NOOP\r\n".utf8)

    func frames(_ chunks: [[UInt8]]) -> [IMAPFramer.Frame] {
        var f = IMAPFramer()
        var out = [IMAPFramer.Frame]()
        for c in chunks {
            f.append(c)
            while let frame = f.next() { out.append(frame) }
        }
        return out
    }

    @Test func byteByByteEqualsWhole() {
        let whole = frames([Self.stream])
        let bytewise = frames(Self.stream.map { [$0] })
        #expect(whole == bytewise)
        #expect(whole == [
            .literalAccepted,
            .complete(Array("a LOGIN {3}\r\nbob {9+}\r\nsecret123".utf8)),
            .complete(Array("b NOOP".utf8)),
            .literalAccepted,
            .complete(Array("c APPEND X {4}\r\nab\r\n".utf8)),
            .complete(Array("d NOOP".utf8)),
        ])
    }

    @Test func bufferStaysBoundedOnEndlessLine() {
        var f = IMAPFramer(limits: .init(maxLine: 1000))
        var frames = [IMAPFramer.Frame]()
        for _ in 0..<1000 {
            f.append(Array(repeating: UInt8(ascii: "x"), count: 1000))
            while let fr = f.next() { frames.append(fr) }
            #expect(f.bufferedCount <= 2000)
        }
        #expect(frames.count == 1)
        f.append(Array("\r\nz NOOP\r\n".utf8))
        #expect(f.next() == .complete(Array("z NOOP".utf8)))
    }
}

@Suite struct IMAPEncodingTests {
    @Test(arguments: [
        ("plain", "\"plain\""),
        ("say \"hi\" \\o/", "\"say \\\"hi\\\" \\\\o/\""),
        ("two\r\nlines", "{10}\r\ntwo\r\nlines"),
        ("Réunion", "{8}\r\nRéunion"),
        ("", "\"\""),
    ])
    func strings(_ value: String, _ wire: String) {
        #expect(String(decoding: IMAPWire.string(value), as: UTF8.self) == wire)
    }

    @Test func envelopeAndBodyStructure() {
        let env = IMAPEnvelope(date: "Wed, 06 Dec 2024 14:30:00 +0100", subject: nil,
                               from: [IMAPAddress(name: "Alice \"A\"", mailbox: "alice", host: "example.com")],
                               to: [IMAPAddress(name: nil, mailbox: "bob", host: "company.org")], messageID: "<x@y>")
        #expect(String(decoding: env.encoded, as: UTF8.self) == "(\"Wed, 06 Dec 2024 14:30:00 +0100\" NIL ((\"Alice \\\"A\\\"\" NIL \"alice\" \"example.com\")) ((\"Alice \\\"A\\\"\" NIL \"alice\" \"example.com\")) ((\"Alice \\\"A\\\"\" NIL \"alice\" \"example.com\")) ((NIL NIL \"bob\" \"company.org\")) NIL NIL NIL \"<x@y>\")")
        let body = IMAPBodyStructure.multipart(parts: [
            .single(IMAPSinglePart(type: "text", subtype: "plain", parameters: [IMAPParameter("charset", "utf-8")], size: 12, lines: 1)),
            .single(IMAPSinglePart(type: "application", subtype: "pdf", parameters: [IMAPParameter("name", "a b.pdf")], encoding: "base64", size: 300,
                                   disposition: IMAPDisposition(kind: "attachment", parameters: [("FILENAME", "a b.pdf")]))),
        ], subtype: "mixed", parameters: [IMAPParameter("boundary", "xyz")], disposition: nil)
        #expect(String(decoding: body.encoded(extensible: true), as: UTF8.self) == "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL)(\"APPLICATION\" \"PDF\" (\"NAME\" \"a b.pdf\") NIL NIL \"BASE64\" 300 NIL (\"attachment\" (\"FILENAME\" \"a b.pdf\")) NIL NIL) \"MIXED\" (\"BOUNDARY\" \"xyz\") NIL NIL NIL)")
        #expect(String(decoding: body.encoded(extensible: false), as: UTF8.self) == "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 1)(\"APPLICATION\" \"PDF\" (\"NAME\" \"a b.pdf\") NIL NIL \"BASE64\" 300) \"MIXED\")")
    }

    @Test(arguments: [
        ("06-Dec-2024 14:30:00 +0100", 1_733_491_800 as Int64),
        (" 1-Jan-1970 00:00:00 +0000", 0),
        ("29-Feb-2024 23:59:59 -0700", 1_709_276_399),
    ])
    func dateTimes(_ text: String, _ seconds: Int64) throws {
        let d = try #require(IMAPDate.parseDateTime(text))
        #expect(d.secondsSince1970 == seconds)
        #expect(d.imapDateTime == text.imapReplacingFirstSpace)
    }

    @Test func listWildcards() {
        #expect(IMAPServer.matches(name: "Work.Projects", pattern: "Work.*", separator: "."))
        #expect(!IMAPServer.matches(name: "Work.Projects", pattern: "%", separator: "."))
        #expect(IMAPServer.matches(name: "INBOX", pattern: "inbox", separator: "."))
        #expect(IMAPServer.matches(name: "INBOX.Sub", pattern: "Inbox.%", separator: "."))
        #expect(!IMAPServer.matches(name: "Work", pattern: "W", separator: "."))
    }
}

@Suite struct IMAPResponseParserTests {
    @Test(arguments: [
        ("* 172 EXISTS", IMAPResponse.exists(172)),
        ("* 3 EXPUNGE", .expunge(3)),
        ("* SEARCH 12 27 54", .search([12, 27, 54])),
        ("* OK [UIDVALIDITY 1234567890] UIDs valid", .untaggedStatus(.ok, code: "UIDVALIDITY 1234567890", text: "UIDs valid")),
        ("A010 OK [COPYUID 1234567890 172 45] COPY completed", .tagged(tag: "A010", .ok, code: "COPYUID 1234567890 172 45", text: "COPY completed")),
        ("* LIST (\\HasNoChildren) \".\" Envoy&AOk-s", .list(attributes: ["\\HasNoChildren"], separator: ".", name: "Envoyés", lsub: false)),
        ("* FLAGS (\\Answered \\Seen $Junk)", .flags([.answered, .seen, IMAPFlag("$Junk")])),
        ("* STATUS Work (MESSAGES 2 UIDNEXT 9)", .status(mailbox: "Work", items: ["MESSAGES": 2, "UIDNEXT": 9])),
        ("+ idling", .continuation("idling")),
        ("* 172 FETCH (FLAGS (\\Seen \\Recent) UID 9 BODY[HEADER.FIELDS (SUBJECT)] {5}\r\nHi\r\n\r INTERNALDATE \"06-Dec-2024 14:30:00 +0100\")",
         .fetch(seq: 172, IMAPFetchData(uid: 9, flags: [.seen, .recent], internalDate: IMAPDate(year: 2024, month: 12, day: 6, hour: 14, minute: 30, utcOffsetMinutes: 60),
                                        sections: ["BODY[HEADER.FIELDS (SUBJECT)]": Array("Hi\r\n\r".utf8)]))),
    ])
    func parses(_ line: String, _ expected: IMAPResponse) {
        #expect(IMAPResponseParser.parse(Array(line.utf8)) == expected)
    }

    @Test func envelopeRoundTrip() {
        let env = IMAPEnvelope(date: "d", subject: "a \"q\"\r\nb", from: [IMAPAddress(name: "A", mailbox: "a", host: "x")],
                               sender: [IMAPAddress(name: "A", mailbox: "a", host: "x")], replyTo: [IMAPAddress(name: "A", mailbox: "a", host: "x")],
                               to: [], messageID: "<m>")
        let line = Array("* 1 FETCH (ENVELOPE ".utf8) + env.encoded + Array(")".utf8)
        guard case .fetch(_, let data) = IMAPResponseParser.parse(line) else { Issue.record("no fetch"); return }
        #expect(data.envelope == env)
    }
}

extension String {
    /// `" 1-Jan-1970"` is written back as `"01-Jan-1970"`.
    var imapReplacingFirstSpace: String { first == " " ? "0" + dropFirst() : self }
}
