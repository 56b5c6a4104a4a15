/// Base64 (RFC 4648 §4) on bytes, as SASL (RFC 4954 §4) carries it: an encoder, and a strict
/// decoder that refuses anything that is not canonical base64 instead of guessing.
public enum Base64 {
    @usableFromInline
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    @usableFromInline
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Appends the base64 form of `bytes` to `output`.
    @inlinable
    public static func encode<C: Collection>(_ bytes: C, into output: inout [UInt8]) where C.Element == UInt8 {
        output.reserveCapacity(output.count + (bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))])
            if let b1 {
                output.append(alphabet[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))])
            } else {
                output.append(UInt8(ascii: "="))
            }
            if let b2 {
                output.append(alphabet[Int(b2 & 0x3F)])
            } else {
                output.append(UInt8(ascii: "="))
            }
        }
    }

    /// The base64 form of `bytes`.
    public static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var output: [UInt8] = []
        encode(bytes, into: &output)
        return output
    }

    /// The base64 form of a string's UTF-8 bytes, as a string.
    public static func encode(_ string: String) -> String {
        String(decoding: encode(Array(string.utf8)), as: UTF8.self)
    }

    /// Decodes canonical base64. Returns `nil` when the length is not a multiple of four, a byte
    /// is outside the alphabet, padding is misplaced, or the unused bits of the last group are
    /// not zero. The empty input decodes to no bytes.
    public static func decode<C: Collection>(_ encoded: C) -> [UInt8]? where C.Element == UInt8 {
        let count = encoded.count
        guard count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count / 4 * 3)
        var quad: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var position = 0
        var index = 0
        var padding = 0
        for byte in encoded {
            index += 1
            var value: UInt8
            if byte == UInt8(ascii: "=") {
                // Padding only in the last two positions of the last quantum.
                guard index > count - 2 else { return nil }
                if index == count - 1 { padding = 2 } else if padding == 0 { padding = 1 }
                value = 0
            } else {
                guard padding == 0 else { return nil }
                value = decodeTable[Int(byte)]
                guard value != 0xFF else { return nil }
            }
            switch position {
            case 0: quad.0 = value
            case 1: quad.1 = value
            case 2: quad.2 = value
            default: quad.3 = value
            }
            position += 1
            if position == 4 {
                position = 0
                output.append((quad.0 << 2) | (quad.1 >> 4))
                if index == count && padding == 2 {
                    guard quad.1 & 0x0F == 0 else { return nil }
                } else if index == count && padding == 1 {
                    output.append((quad.1 << 4) | (quad.2 >> 2))
                    guard quad.2 & 0x03 == 0 else { return nil }
                } else {
                    output.append((quad.1 << 4) | (quad.2 >> 2))
                    output.append((quad.2 << 6) | quad.3)
                }
            }
        }
        return output
    }
}

/// Base16 (RFC 4648 §8) in lower case, as APOP (RFC 1939 §7) and CRAM-MD5 (RFC 2195 §2) write
/// their digests.
public enum Base16 {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lower-case hex digits per byte.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }
}
