// libFuzzer target: SMTP command parser behind the line framer, enhanced status codes, the
// client's multi-line reply parser, DATA's dot-unstuffing (a peer's bytes), and the client engine
// fed the input as the server's side of a session (greeting, EHLO keywords, STARTTLS, AUTH
// challenges, replies to MAIL/RCPT/DATA), once with opportunistic TLS and AUTH, once without.
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
    fuzzSMTPClient(bytes, tls: .startTLSOpportunistic,
                   authentication: SMTPClientAuthentication(user: "alice", secret: "mypassword"))
    fuzzSMTPClient(bytes, tls: .none, authentication: nil)
    return 0
}

func fuzzSMTPClient(_ bytes: [UInt8], tls: SMTPClientTLSMode, authentication: SMTPClientAuthentication?) {
    guard let job = SMTPClientJob(from: "alice@example.com", to: ["bob@company.org", "carol@company.org"],
                                  data: Array("Subject: x\r\n\r\n.hi\r\n".utf8), ehloName: "pc.example.com",
                                  tls: tls, authentication: authentication) else { return }
    var client = SMTPClient(job: job)
    var actions: [SMTPClientAction] = []
    var now = Duration.zero
    client.start(now: now, into: &actions)
    var pieces = 0
    for piece in bytes.split(separator: 10, omittingEmptySubsequences: false) where pieces < 500 {
        pieces += 1
        now += .milliseconds(5)
        actions.removeAll(keepingCapacity: true)
        client.receive(Array(piece) + [10], now: now, into: &actions)
        if actions.contains(where: { if case .startTLS = $0 { return true } else { return false } }) {
            actions.removeAll(keepingCapacity: true)
            if piece.first == UInt8(ascii: "4") { client.tlsFailed(now: now, into: &actions) } else { client.tlsEstablished(now: now, into: &actions) }
        }
        if pieces % 50 == 0 { client.timerFired(now: now + .seconds(600), into: &actions) }
    }
    actions.removeAll(keepingCapacity: true)
    client.connectionClosed(now: now, into: &actions)
}
