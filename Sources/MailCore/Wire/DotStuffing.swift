/// Dot-unstuffing of an SMTP DATA body as it arrives (RFC 5321 §4.5.2, §4.1.1.4), one chunk at a
/// time, correct across chunk boundaries.
///
/// Only `<CRLF>.<CRLF>` ends the body; the CRLF that precedes the DATA body counts (the body starts
/// at the beginning of a line). `\n.\r\n`, `\n.\n`, `\r.\r` or `\r\n\0.\r\n` never end it: bare CR
/// and bare LF are reported (`sawBareLineEnding`) and, if `normalizeBareLineEndings` is set,
/// stored as CRLF — they are never a line start for the terminator. The unstuffer also tracks the
/// longest text line (RFC 5321 §4.5.3.1.6: 1000 octets with CRLF) and stops storing beyond
/// `storageLimit`, while still counting.
public struct DotUnstuffer: Sendable {
    enum Position: Sendable {
        /// Just after CRLF (or at the start of the body).
        case lineStart
        /// After a `.` at the start of a line.
        case dot
        /// After `.` CR at the start of a line.
        case dotCR
        /// Inside a line.
        case inLine
        /// After a CR inside a line (or after CR at a line start).
        case cr
    }

    var position: Position = .lineStart
    /// Octets of the current line on the wire, so far, without CRLF.
    var lineLength = 0
    /// Longest line seen, without its CRLF, on the wire.
    public private(set) var longestLine = 0
    /// Bytes of content (after unstuffing) seen so far, stored or not.
    public private(set) var contentLength = 0
    /// A CR not followed by LF, or an LF not preceded by CR, was seen.
    public private(set) var sawBareLineEnding = false
    /// Lines of the content that start with a dot (sent doubled, RFC 5321 §4.5.2).
    public private(set) var dotLines = 0
    /// Content beyond this many bytes is counted but not stored.
    public var storageLimit: Int
    /// Store bare CR and bare LF as CRLF instead of keeping them as they are.
    public var normalizeBareLineEndings: Bool

    public init(storageLimit: Int = .max, normalizeBareLineEndings: Bool = false) {
        self.storageLimit = storageLimit
        self.normalizeBareLineEndings = normalizeBareLineEndings
    }

    /// True when more than `storageLimit` content bytes arrived.
    public var exceededStorageLimit: Bool { contentLength > storageLimit }
    
    mutating func emit(_ byte: UInt8, into body: inout [UInt8]) {
        contentLength &+= 1
        if contentLength <= storageLimit { body.append(byte) }
    }
    
    mutating func emit(_ bytes: ArraySlice<UInt8>, into body: inout [UInt8]) {
        let room = storageLimit - contentLength
        contentLength &+= bytes.count
        if room >= bytes.count {
            body.append(contentsOf: bytes)
        } else if room > 0 {
            body.append(contentsOf: bytes.prefix(room))
        }
    }
    
    mutating func emitBareLineEnding(_ byte: UInt8, into body: inout [UInt8]) {
        sawBareLineEnding = true
        if normalizeBareLineEndings {
            emit(UInt8(ascii: "\r"), into: &body)
            emit(UInt8(ascii: "\n"), into: &body)
        } else {
            emit(byte, into: &body)
        }
    }
    
    mutating func endLine() {
        if lineLength > longestLine { longestLine = lineLength }
        lineLength = 0
    }

    /// Unstuffs `chunk` into `body`. Returns the number of bytes of `chunk` consumed up to and
    /// including the terminating `<CRLF>.<CRLF>`, or `nil` if the body has not ended (then the
    /// whole chunk was consumed). Bytes after the terminator belong to the next command.
    
    public mutating func feed(_ chunk: ArraySlice<UInt8>, into body: inout [UInt8]) -> Int? {
        var index = chunk.startIndex
        let end = chunk.endIndex
        while index < end {
            let byte = chunk[index]
            switch position {
            case .inLine:
                // Fast path: copy the run of ordinary content in one go, ordinary line breaks
                // included (a CRLF followed by a byte that is not `.`, CR or LF).
                let (runEnd, lineStart, longest) = chunk.withUnsafeBufferPointer { buffer -> (Int, Int, Int) in
                    let from = index - chunk.startIndex
                    var lineStart = from - lineLength
                    var longest = longestLine
                    let end = contentRunEnd(UnsafeRawBufferPointer(buffer), from: from, lineStart: &lineStart, longestLine: &longest)
                    return (chunk.startIndex + end, chunk.startIndex + lineStart, longest)
                }
                if runEnd > index {
                    emit(chunk[index..<runEnd], into: &body)
                    longestLine = longest
                    lineLength = runEnd - lineStart
                    index = runEnd
                    continue
                }
                if byte == UInt8(ascii: "\r") {
                    position = .cr
                } else {
                    emitBareLineEnding(byte, into: &body)
                    lineLength &+= 1
                }
            case .lineStart:
                if byte == UInt8(ascii: ".") {
                    position = .dot
                    lineLength = 1
                } else if byte == UInt8(ascii: "\r") {
                    position = .cr
                } else if byte == UInt8(ascii: "\n") {
                    emitBareLineEnding(byte, into: &body)
                    lineLength = 1
                    position = .inLine
                } else {
                    emit(byte, into: &body)
                    lineLength = 1
                    position = .inLine
                }
            case .dot:
                if byte == UInt8(ascii: "\r") {
                    position = .dotCR
                } else if byte == UInt8(ascii: "\n") {
                    // "\r\n.\n": not a terminator; the dot is content.
                    emit(UInt8(ascii: "."), into: &body)
                    emitBareLineEnding(byte, into: &body)
                    lineLength &+= 1
                    position = .inLine
                } else {
                    // A stuffed dot: drop it, keep what follows.
                    if byte == UInt8(ascii: ".") { dotLines &+= 1 }
                    emit(byte, into: &body)
                    lineLength &+= 1
                    position = .inLine
                }
            case .dotCR:
                if byte == UInt8(ascii: "\n") {
                    endLine()
                    position = .lineStart
                    return index - chunk.startIndex + 1
                }
                // ".\r" then something else: the dot is content, the CR is bare.
                emit(UInt8(ascii: "."), into: &body)
                emitBareLineEnding(UInt8(ascii: "\r"), into: &body)
                lineLength &+= 1
                position = .inLine
                continue  // look at this byte again, inside the line
            case .cr:
                if byte == UInt8(ascii: "\n") {
                    emit(UInt8(ascii: "\r"), into: &body)
                    emit(UInt8(ascii: "\n"), into: &body)
                    endLine()
                    position = .lineStart
                } else {
                    emitBareLineEnding(UInt8(ascii: "\r"), into: &body)
                    lineLength &+= 1
                    position = .inLine
                    continue
                }
            }
            index += 1
        }
        return nil
    }
}

/// Dot-stuffing of a message for DATA (RFC 5321 §4.5.2), with line endings made CRLF: a bare LF
/// or bare CR becomes CRLF, a line starting with `.` gets one more, and `finish` closes the body
/// with `<CRLF>.<CRLF>`. Streaming: chunks may split lines anywhere.
public struct DotStuffer: Sendable {
    var atLineStart = true
    var afterCR = false
    var empty = true

    public init() {}

    /// Appends the stuffed form of `chunk` to `output`.
    
    public mutating func feed<C: Collection>(_ chunk: C, into output: inout [UInt8]) where C.Element == UInt8 {
        if let contiguous = chunk as? [UInt8] {
            feed(contiguous[...], into: &output)
            return
        }
        feedBytes(chunk, into: &output)
    }

    /// Fast path: copies runs of ordinary bytes inside a line in one go.
    public mutating func feed(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var index = chunk.startIndex
        let end = chunk.endIndex
        output.reserveCapacity(output.count + chunk.count + 16)
        while index < end {
            if !atLineStart && !afterCR {
                let runEnd = chunk.withUnsafeBufferPointer { buffer -> Int in
                    var lineStart = 0, longest = 0
                    return chunk.startIndex + contentRunEnd(UnsafeRawBufferPointer(buffer), from: index - chunk.startIndex,
                                                            lineStart: &lineStart, longestLine: &longest)
                }
                if runEnd > index {
                    empty = false
                    output.append(contentsOf: chunk[index..<runEnd])
                    index = runEnd
                    continue
                }
            }
            feedBytes(CollectionOfOne(chunk[index]), into: &output)
            index += 1
        }
    }

    mutating func feedBytes<C: Collection>(_ chunk: C, into output: inout [UInt8]) where C.Element == UInt8 {
        for byte in chunk {
            empty = false
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }  // CRLF already written
            }
            switch byte {
            case UInt8(ascii: "\r"):
                output.append(UInt8(ascii: "\r")); output.append(UInt8(ascii: "\n"))
                afterCR = true
                atLineStart = true
            case UInt8(ascii: "\n"):
                output.append(UInt8(ascii: "\r")); output.append(UInt8(ascii: "\n"))
                atLineStart = true
            case UInt8(ascii: "."):
                if atLineStart { output.append(UInt8(ascii: ".")) }
                output.append(byte)
                atLineStart = false
            default:
                output.append(byte)
                atLineStart = false
            }
        }
    }

    /// Ends the body: a CRLF if the last line is unfinished, then `.` CRLF.
    
    public mutating func finish(into output: inout [UInt8]) {
        if !atLineStart { output.append(UInt8(ascii: "\r")); output.append(UInt8(ascii: "\n")) }
        output.append(UInt8(ascii: ".")); output.append(UInt8(ascii: "\r")); output.append(UInt8(ascii: "\n"))
        atLineStart = true
        afterCR = false
    }

    /// Stuffs a whole message and terminates it.
    public static func stuff<C: Collection>(_ message: C) -> [UInt8] where C.Element == UInt8 {
        var stuffer = DotStuffer()
        var output: [UInt8] = []
        // Room for `feed`'s own reservation, so that it does not allocate a second buffer.
        output.reserveCapacity(message.count + 16)
        stuffer.feed(message, into: &output)
        stuffer.finish(into: &output)
        return output
    }
}

/// From `start` inside a line, where the stretch of content that both the unstuffer and the
/// stuffer pass on unchanged ends: bytes other than CR and LF, and CRLF pairs followed by a byte
/// that is not `.`, CR or LF (a line that needs no (un)stuffing). For each line that ends inside
/// the stretch, `longestLine` takes its length (from `lineStart`, which moves past the CRLF).
@inline(__always)
func contentRunEnd(_ raw: UnsafeRawBufferPointer, from start: Int, lineStart: inout Int, longestLine: inout Int) -> Int {
    var offset = start
    while true {
        offset = lineRunEnd(raw, from: offset)
        guard offset + 2 < raw.count, raw[offset] == UInt8(ascii: "\r"), raw[offset + 1] == UInt8(ascii: "\n") else {
            return offset
        }
        let next = raw[offset + 2]
        guard next != UInt8(ascii: "."), next != UInt8(ascii: "\r"), next != UInt8(ascii: "\n") else { return offset }
        if offset - lineStart > longestLine { longestLine = offset - lineStart }
        offset += 2
        lineStart = offset
    }
}

/// Where the run of ordinary bytes starting at `index` ends: at the first CR or LF, or at the end
/// of the chunk.
@inline(__always)
func lineRunEnd(_ chunk: ArraySlice<UInt8>, from index: Int) -> Int {
    chunk.withUnsafeBufferPointer { buffer -> Int in
        chunk.startIndex + lineRunEnd(UnsafeRawBufferPointer(buffer), from: index - chunk.startIndex)
    }
}

/// ``lineRunEnd(_:from:)`` on raw bytes, by offset.
@inline(__always)
func lineRunEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
    var offset = start
    // Eight bytes at a time while none of them is CR or LF: a byte equal to c makes
    // (w ^ c…c) have a zero byte, found with (x - 0x01…01) & ~x & 0x80…80.
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    let crs = ones &* 0x0D, lfs = ones &* 0x0A
    while offset + 8 <= raw.count {
        let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        let cr = word ^ crs, lf = word ^ lfs
        if ((cr &- ones) & ~cr | (lf &- ones) & ~lf) & highs != 0 { break }
        offset += 8
    }
    while offset < raw.count {
        let byte = raw[offset]
        if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { break }
        offset += 1
    }
    return offset
}
