// libFuzzer target: SPF (RFC 7208) and DMARC (RFC 7489) record parsers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? SPFEvaluator.parseRecord(text)
    _ = DMARCRecord(text)
    return 0
}
