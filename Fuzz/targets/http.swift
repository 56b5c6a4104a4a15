// libFuzzer target: the bridge's own readers: the autoconfig server's HTTP/1.1 request parser
// (fed in pieces, pipelined) and the session log's credential redactor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parser = HTTPRequestParser()
    var index = 0
    var step = 1
    while index < bytes.count {
        let end = min(bytes.count, index + step)
        for outcome in parser.feed(Array(bytes[index..<end])) {
            if case let .request(request) = outcome {
                _ = request.keepAlive
                _ = request.path
                _ = request.query("emailaddress")
            }
        }
        index = end
        step = step * 3 % 97 + 1
    }
    for mailProtocol in [MailProtocol.smtp, .pop3, .imap] {
        var redactor = CredentialRedactor(mailProtocol: mailProtocol)
        var lines = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where lines < 2_000 {
            lines += 1
            if line.hasPrefix("S") {
                // A server reply: the byte after `S` picks what the server's engine says it awaits.
                let awaits: [ServerAwaits] = [.command, .saslResponse, .messageData, .literal, .idleDone, .tlsHandshake, .nothing]
                let pick = line.utf8.dropFirst().first.map { Int($0) % awaits.count } ?? 0
                redactor.serverReplied(ServerReply(status: .positive, code: "", awaiting: awaits[pick], end: 0))
            } else {
                _ = redactor.clientLine(String(line))
            }
        }
    }
    return 0
}
