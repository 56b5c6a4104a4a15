// libFuzzer target: SMTP command parser behind the line framer, enhanced status codes, the
// client's multi-line reply parser, DATA's dot-unstuffing (a peer's bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = LineFramer(maxLineLength: 1000)
    // Feed in two pieces so that a line split across reads is exercised.
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    framer.append(bytes[..<cut])
    var lines = 0
    func drain() {
        while let event = framer.nextLine() {
            lines += 1
            if case let .line(line, _) = event {
                _ = SMTPCommandParser.parse(line)
                _ = EnhancedStatusCode(line)
            }
            if lines > 10_000 { return }
        }
    }
    drain()
    framer.append(bytes[cut...])
    drain()
    // The client's reply parser (multi-line replies, RFC 5321 §4.2.1).
    var replies = SMTPReplyParser(maxLineLength: 512)
    replies.append(bytes)
    var count = 0
    while count < 10_000, let reply = try? replies.next() {
        count += 1
        _ = reply.code
    }
    var unstuffer = DotUnstuffer(storageLimit: 1 << 16)
    var body: [UInt8] = []
    _ = unstuffer.feed(bytes[...], into: &body)
    return 0
}
