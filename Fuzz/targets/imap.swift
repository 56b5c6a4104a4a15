// libFuzzer target: the IMAP server's framer (lines and literals, RFC 9051 §4.3) and command
// parser, the response parser, modified UTF-7 mailbox names.
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
            if case let .complete(command) = frame {
                _ = parser.parse(command)
            }
        }
    }
    _ = parser.parse(bytes)
    _ = IMAPResponseParser.parse(bytes)
    _ = IMAPModifiedUTF7.decode(bytes)
    return 0
}
