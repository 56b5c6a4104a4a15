// libFuzzer target: the IMAP server's framer (lines and literals, RFC 9051 §4.3) and command
// parser (each parsed command encoded again by the client's encoder), the response parser,
// modified UTF-7 mailbox names, and the client engine (its own framer reads the server's literals)
// fed the input as the server's side after LOGIN, SELECT, FETCH and IDLE.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = IMAPFramer(limits: .init(maxLine: 2048, maxLiteral: 4096, maxCommand: 8192))
    let parser = IMAPCommandParser()
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var frames = 0
    for piece in [bytes[..<cut], bytes[cut...]] {
        framer.append(piece)
        while let frame = framer.next(), frames < 10_000 {
            frames += 1
            if case let .complete(command) = frame, case let .success(parsed) = parser.parse(command) {
                _ = IMAPCommandEncoder.encode(tag: parsed.tag, parsed.command, literalPlus: frames % 2 == 0)
            }
        }
    }
    _ = parser.parse(bytes)
    _ = IMAPResponseParser.parse(bytes)
    _ = IMAPModifiedUTF7.decode(bytes)
    var client = IMAPClient()
    _ = client.receive(Array("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n".utf8))
    _ = client.send(.login(user: "bob", password: "pass word"))
    _ = client.send(.select("INBOX"))
    _ = client.send(.fetch(IMAPSequenceSet(numbers: [1, 2, 3]), [.flags, .uid, .rfc822Size, .envelope, .bodyStructure(extensible: true),
                                                                 .section(IMAPSection(), partial: nil, peek: true)], uid: false))
    _ = client.send(.append(mailbox: "Sent", flags: [], date: nil, message: Array("Subject: x\r\n\r\nhi\r\n".utf8)))
    _ = client.send(.idle)
    var index = 0
    var step = 1
    while index < bytes.count {
        let end = min(bytes.count, index + step)
        _ = client.receive(bytes[index..<end])
        if case .logout = client.state { break }
        index = end
        step = step * 5 % 251 + 1
    }
    _ = client.done()
    client.connectionEnded()
    return 0
}
