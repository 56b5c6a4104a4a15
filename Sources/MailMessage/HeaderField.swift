// RFC 5322 §2.2 header fields: folding, unfolding and parsing of a header block.

import Foundation

/// One header field as it appeared on the wire.
public struct HeaderField: Sendable, Equatable, Hashable {
    /// The field name as written (compare with ``hasName(_:)``, which ignores case).
    public var name: String
    /// Everything after the colon, folding line breaks included, without the final line ending.
    public var rawValue: String

    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
    }

    /// Builds a field from an unfolded value, folding it at white space so lines stay within 78
    /// characters where possible (RFC 5322 §2.2.3).
    public init(name: String, value: String) {
        self.name = name
        self.rawValue = HeaderField.fold(name: name, value: value)
    }

    /// The unfolded value (RFC 5322 §2.2.3): line breaks followed by white space are removed, and the
    /// single leading space after the colon is dropped.
    public var value: String {
        var text = Self.unfolded(rawValue)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    /// `text` without its CRLF pairs, then without its remaining LFs (a bare CR stays), as
    /// removing every "\r\n" and then every "\n" would do, in one pass over the bytes and
    /// without a copy when there is no line break (most fields).
    static func unfolded(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "\n")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var iterator = utf8.makeIterator()
        var pending = iterator.next()
        while let byte = pending {
            pending = iterator.next()
            if byte == UInt8(ascii: "\r"), pending == UInt8(ascii: "\n") {
                pending = iterator.next()
                continue
            }
            if byte == UInt8(ascii: "\n") { continue }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Case-insensitive comparison of the field name.
    public func hasName(_ other: String) -> Bool {
        let a = name.utf8, b = other.utf8
        // ASCII names (all parsed ones): compared byte by byte, A-Z folded, no string made.
        if a.count == b.count, a.allSatisfy({ $0 < 0x80 }), b.allSatisfy({ $0 < 0x80 }) {
            return zip(a, b).allSatisfy { x, y in
                x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
            }
        }
        if a.count != b.count, a.allSatisfy({ $0 < 0x80 }), b.allSatisfy({ $0 < 0x80 }) { return false }
        return Bytes.lowercasedASCII(name) == Bytes.lowercasedASCII(other)
    }

    /// The field as it goes on the wire: `Name:` + raw value + CR LF.
    public var wireFormat: String { name + ":" + rawValue + "\r\n" }

    /// Folds `value` after `Name: ` at spaces, keeping lines at most 78 characters where a space allows it.
    public static func fold(name: String, value: String, limit: Int = 78) -> String {
        // ASCII without CR (almost every field a server writes): lengths are octet counts, and
        // the result is built from the bytes. Anything else counts characters, as below.
        if name.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) {
            let nameLength = name.utf8.count
            var text = value
            let folded = text.withUTF8 { bytes -> [UInt8]? in
                for byte in bytes where byte >= 0x80 || byte == 0x0D { return nil }
                var result: [UInt8] = []
                result.reserveCapacity(bytes.count + bytes.count / 32 + 4)
                var lineLength = nameLength + 1
                var wordStart = 0
                var first = true
                // The words between spaces, empty ones included (as split(omittingEmptySubsequences: false)).
                while wordStart <= bytes.count {
                    var wordEnd = wordStart
                    while wordEnd < bytes.count && bytes[wordEnd] != 0x20 { wordEnd += 1 }
                    let pieceLength = wordEnd - wordStart + 1
                    if !first && lineLength + pieceLength > limit && lineLength > 1 {
                        result.append(0x0D)
                        result.append(0x0A)
                        lineLength = 0
                    }
                    result.append(0x20)
                    result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[wordStart..<wordEnd]))
                    lineLength += pieceLength
                    first = false
                    wordStart = wordEnd + 1
                }
                return result
            }
            if let folded { return String(decoding: folded, as: UTF8.self) }
        }
        let words = value.split(separator: " ", omittingEmptySubsequences: false)
        var result = ""
        var lineLength = name.count + 1
        for (index, word) in words.enumerated() {
            let piece = (index == 0 ? " " : " ") + word
            if index > 0 && lineLength + piece.count > limit && lineLength > 1 {
                result += "\r\n"
                lineLength = 0
            }
            result += piece
            lineLength += piece.count
        }
        return result
    }
}

/// An ordered list of header fields with case-insensitive look-up.
public struct HeaderBlock: Sendable, Equatable {
    public var fields: [HeaderField]

    public init(_ fields: [HeaderField] = []) { self.fields = fields }

    /// The first field with that name (case-insensitive), unfolded.
    public subscript(_ name: String) -> String? { fields.first { $0.hasName(name) }?.value }

    /// Every field with that name, in order.
    public func all(_ name: String) -> [HeaderField] { fields.filter { $0.hasName(name) } }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(HeaderField(name: name, value: value))
    }

    public var wireFormat: String { fields.map(\.wireFormat).joined() }
}

/// What a header-block parse found, with byte offsets into the parsed buffer.
struct ParsedHeaderBlock {
    var fields: [HeaderField]
    /// Offset of the first byte of the body (after the empty line), or `end` when there is none.
    var bodyStart: Int
    var defects: [MessageDefect]
}

enum HeaderParser {
    /// Parses the header block starting at `start`. Accepts bare LF; a line without a colon is skipped
    /// and recorded as a defect (RFC 5322 §3.6.8 field-name grammar).
    static func parse(_ bytes: [UInt8], from start: Int, to end: Int) -> ParsedHeaderBlock {
        var fields: [HeaderField] = []
        var defects: [MessageDefect] = []
        var i = start
        var sawBareLF = false
        var foundSeparator = false
        // The value's bytes stay a slice of `bytes` until a continuation line is added to them.
        var current: (name: String, raw: ArraySlice<UInt8>)?
        func finish() {
            if let field = current {
                fields.append(HeaderField(name: field.name, rawValue: Bytes.string(field.raw)))
                current = nil
            }
        }
        while i < end {
            // Find the end of this line.
            var lineEnd = i
            while lineEnd < end && bytes[lineEnd] != Bytes.lf { lineEnd += 1 }
            let next = min(lineEnd + 1, end)
            var contentEnd = lineEnd
            if lineEnd < end {
                if contentEnd > i && bytes[contentEnd - 1] == Bytes.cr { contentEnd -= 1 } else { sawBareLF = true }
            }
            if contentEnd == i {
                // The empty line that ends the header block.
                finish()
                i = next
                foundSeparator = true
                break
            }
            if Bytes.isWSP(bytes[i]) {
                if current != nil {
                    current!.raw.append(contentsOf: Bytes.crlf)
                    current!.raw.append(contentsOf: bytes[i..<contentEnd])
                } else {
                    defects.append(.continuationWithoutField)
                }
                i = next
                continue
            }
            finish()
            // field-name ":" — obsolete syntax allows white space before the colon (RFC 5322 §4.5.8).
            var nameEnd = bytes[i..<contentEnd].firstIndex(of: Bytes.colon) ?? i
            let colon = nameEnd
            while nameEnd > i && Bytes.isWSP(bytes[nameEnd - 1]) { nameEnd -= 1 }
            if colon > i, nameEnd > i, bytes[i..<nameEnd].allSatisfy({ $0 > 32 && $0 < 127 }) {
                current = (Bytes.string(bytes[i..<nameEnd]), bytes[(colon + 1)..<contentEnd])
            } else {
                defects.append(.headerWithoutColon(Bytes.string(bytes[i..<min(contentEnd, i + 60)])))
            }
            i = next
        }
        finish()
        if !foundSeparator && i >= end && start < end { defects.append(.missingHeaderBodySeparator) }
        if sawBareLF { defects.append(.bareLineFeed) }
        return ParsedHeaderBlock(fields: fields, bodyStart: foundSeparator ? i : end, defects: defects)
    }
}
