// libFuzzer target: POP3 command and response parsers (RFC 1939), line by line, and the client
// engine fed the input as the server's side (greeting with APOP banner, CAPA, STLS, USER/PASS,
// APOP or AUTH PLAIN, STAT/LIST/UIDL listings, multi-line RETR with dot-stuffing).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPOP3(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = LineFramer(maxLineLength: 512)
    framer.append(bytes)
    var lines = 0
    while let event = framer.nextLine(), lines < 10_000 {
        lines += 1
        guard case let .line(line, _) = event else { continue }
        _ = POP3Command.parse(line: line)
        _ = POP3Response.parse(line: line)
        let text = String(decoding: line, as: UTF8.self)
        _ = POP3ScanListing.parse(text)
        _ = POP3UniqueIDListing.parse(text)
    }
    let authentications: [POP3ClientJob.Authentication] = [.userPass, .apop, .saslPlain]
    let mode = bytes.first.map { Int($0) % 3 } ?? 0
    var client = POP3Client(job: POP3ClientJob(user: "bob", password: "secret123", tls: .starttls(required: false),
                                               authentication: authentications[mode], maximumMessageSize: 1 << 16))
    var now = Duration.zero
    _ = client.start(now: now)
    var pieces = 0
    for piece in bytes.split(separator: 10, omittingEmptySubsequences: false) where pieces < 500 {
        pieces += 1
        now += .milliseconds(5)
        let actions = client.receive(Array(piece) + [10], now: now)
        if actions.contains(where: { if case .startTLS = $0 { return true } else { return false } }) {
            _ = client.tlsEstablished(now: now)
        }
        if pieces % 50 == 0 { _ = client.timerFired(now: now + .seconds(600)) }
    }
    _ = client.connectionClosed()
    return 0
}
