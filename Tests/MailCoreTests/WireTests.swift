import Testing
@testable import MailCore

@Suite struct WireBase64Tests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
                      ("foobar", "Zm9vYmFy"), ("\u{0}alice\u{0}mypassword", "AGFsaWNlAG15cGFzc3dvcmQ="), ("Username:", "VXNlcm5hbWU6")])
    func roundTrip(plain: String, encoded: String) {
        #expect(String(decoding: Base64.encode(bytes(plain)), as: UTF8.self) == encoded)
        #expect(Base64.decode(bytes(encoded)) == bytes(plain))
    }

    /// RFC 4648 §10 test vectors, and the APOP example of RFC 1939 §7 through Base16.
    @Test func base16() {
        #expect(String(decoding: Base16.lowercase([0x00, 0x0F, 0xA5, 0xFF]), as: UTF8.self) == "000fa5ff")
        #expect(Base16.lowercase([]).isEmpty)
        #expect(POP3Text.md5Hex("<1896.697170952@dbc.mtview.ca.us>tanstaaf") == "c4c9334bac560ecc979e58001b3e22fb")
    }

    @Test(arguments: ["Zg", "Zg=", "Z===", "Zm9v!", "Zm=v", "Zh==", "Zm9=", "====", "Zm 9v", "Zg==Zg=="])
    func strictDecoderRefuses(encoded: String) {
        #expect(Base64.decode(bytes(encoded)) == nil)
    }
}

@Suite struct WireLineFramerTests {
    func lines(_ framer: inout LineFramer) -> [String] {
        var result: [String] = []
        while let event = framer.nextLine() {
            switch event {
            case .line(let line, let crlf): result.append(String(decoding: line, as: UTF8.self) + (crlf ? "|crlf" : "|lf"))
            case .tooLong: result.append("TOO LONG")
            }
        }
        return result
    }

    @Test func framesAndKeepsPartialInput() {
        var framer = LineFramer(maxLineLength: 20)
        framer.append(bytes("EHLO a\r\nNOOP\nQU"))
        #expect(lines(&framer) == ["EHLO a|crlf", "NOOP|lf"])
        framer.append(bytes("IT\r"))
        #expect(lines(&framer) == [])
        framer.append(bytes("\n"))
        #expect(lines(&framer) == ["QUIT|crlf"])
        #expect(framer.bufferedCount == 0)
    }

    @Test func overLongLineReportedOnceAndDrained() {
        var framer = LineFramer(maxLineLength: 10)
        var events: [String] = []
        for _ in 0..<100 {
            framer.append(bytes("xxxxxxxxxxxxxxxxxxxx"))
            events += lines(&framer)
            #expect(framer.bufferedCount <= 10)
        }
        framer.append(bytes("yy\r\nok\r\n"))
        events += lines(&framer)
        #expect(events == ["TOO LONG", "ok|crlf"])
    }

    @Test func limitCountsTheLineEnding() {
        var framer = LineFramer(maxLineLength: 6)
        framer.append(bytes("abcd\r\nabcde\r\n"))
        #expect(lines(&framer) == ["abcd|crlf", "TOO LONG"])
    }
}

@Suite struct WireDotStuffingTests {
    func unstuff(_ chunks: [String], normalize: Bool = false) -> (body: String, consumed: Int?, unstuffer: DotUnstuffer) {
        var unstuffer = DotUnstuffer(normalizeBareLineEndings: normalize)
        var body: [UInt8] = []
        var total = 0
        for chunk in chunks {
            let data = bytes(chunk)
            if let consumed = unstuffer.feed(data[...], into: &body) {
                return (String(decoding: body, as: UTF8.self), total + consumed, unstuffer)
            }
            total += data.count
        }
        return (String(decoding: body, as: UTF8.self), nil, unstuffer)
    }

    @Test(arguments: [
        ("a\r\n.\r\n", "a\r\n"),
        (".\r\n", ""),
        ("..\r\n.\r\n", ".\r\n"),
        ("..x\r\n.\r\n", ".x\r\n"),
        ("a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n"),
        ("a\n.\r\nb\r\n.\r\n", "a\n.\r\nb\r\n"),
        ("a\r.\rb\r\n.\r\n", "a\r.\rb\r\n"),
        ("a\r\n\u{0}.\r\n.\r\n", "a\r\n\u{0}.\r\n"),
    ])
    func unstuffsWholeAndByteByByte(input: String, expected: String) {
        let whole = unstuff([input])
        #expect(whole.body == expected)
        #expect(whole.consumed == input.utf8.count)
        let single = unstuff(input.map { String($0) }.flatMap { $0 == "\r\n" ? ["\r", "\n"] : [$0] })
        #expect(single.body == expected)
    }

    @Test func terminatorSplitAcrossChunksAndTrailingBytesLeft() {
        let result = unstuff(["body\r", "\n", ".", "\r", "\nQUIT\r\n"])
        #expect(result.body == "body\r\n")
        #expect(result.consumed == 9)  // "body\r\n.\r\n"
    }

    @Test func bareLineEndingsReportedAndNormalized() {
        let kept = unstuff(["a\nb\rc\r\n.\r\n"])
        #expect(kept.body == "a\nb\rc\r\n")
        #expect(kept.unstuffer.sawBareLineEnding)
        let normalized = unstuff(["a\nb\rc\r\n.\r\n"], normalize: true)
        #expect(normalized.body == "a\r\nb\r\nc\r\n")
        #expect(!unstuff(["a\r\n.\r\n"]).unstuffer.sawBareLineEnding)
    }

    @Test func longestLineAndStorageLimit() {
        var unstuffer = DotUnstuffer(storageLimit: 5)
        var body: [UInt8] = []
        let input = bytes("0123456789\r\nab\r\n.\r\n")
        #expect(unstuffer.feed(input[...], into: &body) == input.count)
        #expect(body == bytes("01234"))
        #expect(unstuffer.exceededStorageLimit)
        #expect(unstuffer.longestLine == 10)
        #expect(unstuffer.contentLength == 16)
    }

    @Test(arguments: [
        ("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"),
        ("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"),
        ("", ".\r\n"),
        (".", "..\r\n.\r\n"),
        ("x\r\n", "x\r\n.\r\n"),
        ("a\rb", "a\r\nb\r\n.\r\n"),
    ])
    func stuffs(input: String, expected: String) {
        #expect(String(decoding: DotStuffer.stuff(bytes(input)), as: UTF8.self) == expected)
        var stuffer = DotStuffer()
        var output: [UInt8] = []
        for byte in bytes(input) { stuffer.feed([byte], into: &output) }
        stuffer.finish(into: &output)
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    @Test func stuffThenUnstuffRoundTrips() {
        var seed: UInt64 = 0x5EED
        for round in 0..<200 {
            var message: [UInt8] = []
            for _ in 0..<Int(seed % 60) {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let pick = Int(seed >> 60)
                message += [bytes("."), bytes("\r\n"), bytes("a"), bytes(".."), bytes("b c"), bytes("\r\n.")][pick % 6]
            }
            if !message.isEmpty && !(message.count >= 2 && message.suffix(2) == [13, 10]) { message += bytes("\r\n") }
            var unstuffer = DotUnstuffer()
            var body: [UInt8] = []
            let stuffed = DotStuffer.stuff(message)
            let consumed = unstuffer.feed(stuffed[...], into: &body)
            #expect(consumed == stuffed.count, "round \(round) seed=\(seed)")
            #expect(body == message, "round \(round) seed=\(seed)")
        }
    }
}

@Suite struct LineRunEndTests {
    /// The word-at-a-time scan agrees with a byte loop for CR, LF, their neighbours (0x0B, 0x0C,
    /// 0x0E, 0x8D, 0x8A) and plain bytes, at every position, start and slice offset.
    @Test(arguments: [UInt64(1), 2, 3])
    func agreesWithAByteLoop(seed: UInt64) {
        var random = TestRandom(state: seed)
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x0B, 0x0C, 0x0E, 0x8D, 0x8A, 0x00, 0xFF, 0x41, 0x2E]
        for length in 0...40 {
            for _ in 0..<50 {
                let bytes = (0..<length + 3).map { _ in
                    Bool.random(using: &random) ? UInt8(ascii: "x") : alphabet.randomElement(using: &random)!
                }
                let chunk = bytes[3...]
                for start in chunk.indices {
                    let expected = chunk[start...].firstIndex { $0 == 0x0D || $0 == 0x0A } ?? chunk.endIndex
                    #expect(lineRunEnd(chunk, from: start) == expected, "seed \(seed): \(Array(chunk)) from \(start)")
                }
                #expect(lineRunEnd(chunk, from: chunk.endIndex) == chunk.endIndex)
            }
        }
    }
}

@Suite struct EightBitScanTests {
    @Test func findsAHighByteAtEveryPosition() {
        for length in 0...33 {
            let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            #expect(!SMTPClient.hasEightBitBytes(plain))
            for position in 0..<length {
                var bytes = plain
                bytes[position] = 0xC3
                #expect(SMTPClient.hasEightBitBytes(bytes), "length \(length), position \(position)")
            }
        }
    }
}

/// The stuffer and unstuffer copy whole stretches of ordinary lines at once. Fed one byte at a
/// time they can only take the byte-by-byte path, so that is the reference: whole messages and
/// random chunks must give the same bytes, the same end of body and the same counts.
@Suite struct DotStuffingStretchTests {
    struct Outcome: Equatable {
        var body: [UInt8]
        var consumed: Int?
        var longestLine, contentLength, dotLines: Int
        var sawBareLineEnding, exceeded: Bool
    }

    static func unstuff(_ message: [UInt8], cuts: [Int], limit: Int, normalize: Bool) -> Outcome {
        var unstuffer = DotUnstuffer(storageLimit: limit, normalizeBareLineEndings: normalize)
        var body: [UInt8] = []
        var consumed: Int?
        var start = 0
        for end in cuts + [message.count] where end > start {
            if let used = unstuffer.feed(message[start..<end], into: &body) {
                consumed = start + used
                break
            }
            start = end
        }
        return Outcome(body: body, consumed: consumed, longestLine: unstuffer.longestLine,
                       contentLength: unstuffer.contentLength, dotLines: unstuffer.dotLines,
                       sawBareLineEnding: unstuffer.sawBareLineEnding, exceeded: unstuffer.exceededStorageLimit)
    }

    static func stuff(_ message: [UInt8], cuts: [Int]) -> [UInt8] {
        var stuffer = DotStuffer()
        var output: [UInt8] = []
        var start = 0
        for end in cuts + [message.count] where end > start {
            stuffer.feed(message[start..<end], into: &output)
            start = end
        }
        stuffer.finish(into: &output)
        return output
    }

    @Test(arguments: [UInt64(11), 12, 13, 14])
    func stretchesAgreeWithBytes(seed: UInt64) {
        var random = TestRandom(state: seed)
        let pieces: [[UInt8]] = [".", "\r\n", "\r", "\n", "a", "bc def", "..", "\r\n.", "\r\n.\r\n", "\r\n\r\n",
                                 String(repeating: "x", count: 70)].map { Array($0.utf8) }
        for round in 0..<300 {
            var message: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &random) { message += pieces.randomElement(using: &random)! }
            let everyByte = Array(message.indices.dropFirst())
            let randomCuts = message.isEmpty ? [] : (0..<Int.random(in: 0...6, using: &random))
                .map { _ in Int.random(in: 0...message.count, using: &random) }.sorted()
            let limit = Bool.random(using: &random) ? Int.max : Int.random(in: 0...200, using: &random)
            let normalize = Bool.random(using: &random)
            let reference = Self.unstuff(message, cuts: everyByte, limit: limit, normalize: normalize)
            #expect(Self.unstuff(message, cuts: [], limit: limit, normalize: normalize) == reference,
                    "seed \(seed) round \(round): \(String(decoding: message, as: UTF8.self).debugDescription)")
            #expect(Self.unstuff(message, cuts: randomCuts, limit: limit, normalize: normalize) == reference,
                    "seed \(seed) round \(round) cuts \(randomCuts)")
            let stuffed = Self.stuff(message, cuts: everyByte)
            #expect(Self.stuff(message, cuts: []) == stuffed, "seed \(seed) round \(round)")
            #expect(Self.stuff(message, cuts: randomCuts) == stuffed, "seed \(seed) round \(round) cuts \(randomCuts)")
        }
    }
}

/// The framer's bounds (the SMTP paths) and its lines (the other protocols) agree, whatever
/// the chunks: the same lines, the same CRLF flags, the same over-long lines dropped.
@Suite struct LineFramerBoundsTests {
    @Test func boundsAndLinesAgreeOnRandomChunks() {
        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SplitMix64(seed: seed)
        let alphabet: [UInt8] = Array("ab .\r\n".utf8) + [0x00, 0xC3, 0xA9]
        for round in 0..<200 {
            var byLine = LineFramer(maxLineLength: 16)
            var byBounds = LineFramer(maxLineLength: 16)
            var lines: [String] = [], bounded: [String] = []
            var stream: [UInt8] = []
            for _ in 0..<20 {
                let count = Int(random.next() % 24)
                let chunk = (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
                stream += chunk
                byLine.append(chunk)
                byBounds.append(chunk)
                while let event = byLine.nextLine() {
                    switch event {
                    case .line(let line, let crlf): lines.append("\(Array(line)) \(crlf)")
                    case .tooLong: lines.append("too long")
                    }
                }
                while let bounds = byBounds.nextBounds() {
                    switch bounds {
                    case .line(let range, let crlf): bounded.append("\(Array(byBounds.line(at: range))) \(crlf)")
                    case .tooLong: bounded.append("too long")
                    }
                }
            }
            // The model: every complete line of the stream, dropped when it is longer than the
            // limit with its LF, its CR before the LF removed.
            var expected: [String] = []
            var pieces = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            pieces.removeLast()  // the unfinished line, if any
            for piece in pieces {
                if piece.count + 1 > 16 { expected.append("too long"); continue }
                let crlf = piece.last == UInt8(ascii: "\r")
                expected.append("\(Array(crlf ? piece.dropLast() : piece)) \(crlf)")
            }
            #expect(lines == bounded, "seed \(seed), round \(round)")
            #expect(bounded == expected, "seed \(seed), round \(round)")
            if lines != bounded || bounded != expected { return }
        }
    }
}
