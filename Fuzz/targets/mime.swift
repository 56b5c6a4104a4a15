// libFuzzer target: the RFC 5322 / MIME parser (headers, multipart, message/rfc822), addresses,
// dates, encoded words, Content-Type.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let message = Message(parsing: bytes)
    _ = message.subject
    _ = message.from
    _ = message.to
    _ = message.date
    var stack = [message.root]
    var visited = 0
    while let part = stack.popLast(), visited < 10_000 {
        visited += 1
        _ = part.bodyRange.count
        switch part.body {
        case .single: break
        case let .multipart(parts): stack.append(contentsOf: parts)
        case let .message(inner): stack.append(inner)
        }
    }
    if bytes.count < 4096 {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = AddressParser.parseList(text)
        _ = AddressParser.parseRawList(text)
        _ = MailDate(rfc5322: text)
        _ = EncodedWord.decode(text)
        _ = MIMEHeaderValue.parse(text)
    }
    return 0
}
