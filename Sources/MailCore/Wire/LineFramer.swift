/// An incremental, bounded line framer for text protocols (RFC 5321 §2.3.8, §4.5.3.1).
///
/// Bytes are appended as they arrive; `nextLine()` hands out complete lines without their line
/// ending. A line ends at LF; a CR just before it is removed, and `endedWithCRLF` says whether it
/// was there. "Need more bytes" leaves the input untouched. A line longer than `maxLineLength`
/// octets (line ending included) is never buffered: the framer drops bytes up to the next LF and
/// reports `.tooLong` once, then carries on with the following line.
public struct LineFramer: Sendable {
    /// One framing result.
    public enum Event: Equatable, Sendable {
        /// A complete line, without its line ending.
        case line(ArraySlice<UInt8>, endedWithCRLF: Bool)
        /// A line exceeded the limit; its bytes were discarded up to its LF.
        case tooLong
    }

    /// Longest accepted line, line ending included.
    public var maxLineLength: Int
    var buffer: [UInt8] = []
    var readIndex = 0
    /// Where the search for LF resumes, so byte-by-byte feeding stays linear.
    var scanIndex = 0
    /// True while dropping the rest of an over-long line.
    var discarding = false

    public init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    /// Number of buffered bytes not yet handed out.
    public var bufferedCount: Int { buffer.count - readIndex }

    /// Appends received bytes.
    
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        // A first buffer with room for a few commands or replies, not grown step by step.
        if buffer.capacity == 0 { buffer.reserveCapacity(Swift.max(256, bytes.count)) }
        buffer.append(contentsOf: bytes)
    }

    /// Where a line lies in the framer's buffer (``line(at:)``): plain values, so that the hot
    /// paths (SMTP commands and replies) neither copy nor destroy a slice per line.
    public enum Bounds: Equatable, Sendable {
        /// A complete line at `range` of the buffer, without its line ending.
        case line(Range<Int>, endedWithCRLF: Bool)
        /// A line exceeded the limit; its bytes were discarded up to its LF.
        case tooLong
    }

    /// The bytes of a line ``nextBounds()`` gave. Read them before the next `append`, which may
    /// move the buffered bytes (the range then points elsewhere).
    @inline(__always)
    public func line(at range: Range<Int>) -> ArraySlice<UInt8> { buffer[range] }

    /// The next complete line, `.tooLong` for a dropped line, or `nil` when more bytes are needed.
    public mutating func nextLine() -> Event? {
        switch nextBounds() {
        case .line(let range, let crlf)?: return .line(buffer[range], endedWithCRLF: crlf)
        case .tooLong?: return .tooLong
        case nil: return nil
        }
    }

    /// ``nextLine()`` as bounds in the buffer.
    public mutating func nextBounds() -> Bounds? {
        let end = buffer.count
        var index = scanIndex
        while index < end {
            if buffer[index] == UInt8(ascii: "\n") {
                let start = readIndex
                readIndex = index + 1
                scanIndex = readIndex
                if discarding {
                    discarding = false
                    return .tooLong
                }
                if index + 1 - start > maxLineLength {
                    return .tooLong
                }
                if index > start && buffer[index - 1] == UInt8(ascii: "\r") {
                    return .line(start..<(index - 1), endedWithCRLF: true)
                }
                return .line(start..<index, endedWithCRLF: false)
            }
            index += 1
        }
        scanIndex = end
        if discarding {
            // Keep nothing of an over-long line.
            readIndex = end
            scanIndex = end
        } else if end - readIndex > maxLineLength {
            discarding = true
            readIndex = end
            scanIndex = end
        }
        return nil
    }

    /// Hands out every buffered byte not yet consumed (used when the protocol switches to a raw
    /// mode such as an SMTP DATA body) and empties the buffer.
    public mutating func takeBuffered() -> ArraySlice<UInt8> {
        let slice = buffer[readIndex...]
        readIndex = buffer.count
        scanIndex = readIndex
        return slice
    }

    /// Consumes `count` buffered bytes without looking at them (raw modes).
    public mutating func consume(_ count: Int) {
        readIndex = Swift.min(buffer.count, readIndex + count)
        if scanIndex < readIndex { scanIndex = readIndex }
    }

    /// The buffered bytes not yet consumed, without consuming them.
    public var buffered: ArraySlice<UInt8> { buffer[readIndex...] }

    /// Drops every buffered byte (for example the plaintext that followed STARTTLS, RFC 3207 §4).
    public mutating func discardBuffered() {
        buffer.removeAll(keepingCapacity: true)
        readIndex = 0
        scanIndex = 0
        discarding = false
    }
}
