// Small byte helpers shared by the parser, the codecs and the builder.

/// One line of a byte buffer: where its content starts and ends, and where the next line starts.
struct LineSpan: Equatable {
    /// Offset of the first byte of the line.
    var start: Int
    /// Offset just past the line's content (before CR LF or LF).
    var contentEnd: Int
    /// Offset of the first byte of the next line (after the line ending), or the end of the range.
    var next: Int
    /// True when the line ended with a lone LF (no CR before it).
    var bareLineFeed: Bool
    /// True when the line had no line ending at all (last line of the range).
    var unterminated: Bool
}

enum Bytes {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let crlf: [UInt8] = [13, 10]

    /// Splits `bytes[range]` into lines; accepts CR LF and bare LF endings.
    static func lines(_ bytes: [UInt8], in range: Range<Int>) -> [LineSpan] {
        var result: [LineSpan] = []
        var start = range.lowerBound
        var i = start
        while i < range.upperBound {
            if bytes[i] == lf {
                let hasCR = i > start && bytes[i - 1] == cr
                result.append(LineSpan(start: start, contentEnd: hasCR ? i - 1 : i, next: i + 1,
                                       bareLineFeed: !hasCR, unterminated: false))
                start = i + 1
            }
            i += 1
        }
        if start < range.upperBound {
            result.append(LineSpan(start: start, contentEnd: range.upperBound, next: range.upperBound,
                                   bareLineFeed: false, unterminated: true))
        }
        return result
    }

    static func isWSP(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    /// Decodes header or text bytes: UTF-8 when valid, otherwise ISO-8859-1 (never fails, never loses bytes).
    static func string(_ bytes: some Collection<UInt8>) -> String {
        // Contiguous bytes (arrays and their slices) are read in place: ASCII decodes as it is.
        let inPlace: String?? = bytes.withContiguousStorageIfAvailable { buffer in
            if buffer.allSatisfy({ $0 < 0x80 }) { return String(decoding: buffer, as: UTF8.self) }
            return String(validating: buffer, as: UTF8.self)
        }
        if let inPlace, let text = inPlace { return text }
        if let text = String(validating: Array(bytes), as: UTF8.self) { return text }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    static func lowercasedASCII(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (65...90).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }))
    }

    static func trimWSP(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" || first == "\r" || first == "\n" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" || last == "\n" { slice.removeLast() }
        return slice
    }

    static func trimWSP(_ text: String) -> String { String(trimWSP(Substring(text))) }

    /// 64-bit FNV-1a: a stable, dependency-free hash for deterministic identifiers (not for security).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func hex(_ value: UInt64, width: Int = 16) -> String {
        let digits = String(value, radix: 16, uppercase: false)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int, to: Int) -> Int? {
        guard !needle.isEmpty, to - from >= needle.count else { return nil }
        var i = from
        while i + needle.count <= to {
            if bytes[i] == needle[0] {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
