// libFuzzer target: POP3 command and response parsers (RFC 1939), line by line.
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
    return 0
}
