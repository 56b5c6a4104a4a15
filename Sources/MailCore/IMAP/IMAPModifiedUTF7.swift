/// Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3).
///
/// Printable US-ASCII stands for itself except `&`, written `&-`; every other character is
/// UTF-16, base64-encoded with `,` instead of `/`, between `&` and `-`. `"Envoyés"` is
/// `"Envoy&AOk-s"`.
public enum IMAPModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// Encodes a Unicode mailbox name.
    public static func encode(_ name: String) -> String {
        var out = [UInt8]()
        var pending = [UInt16]()
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bytes = [UInt8]()
            for unit in pending { bytes.append(UInt8(unit >> 8)); bytes.append(UInt8(unit & 0xFF)) }
            var i = 0
            while i < bytes.count {
                let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
                let n = min(3, bytes.count - i)
                out.append(alphabet[Int(b0 >> 2)])
                out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if n > 1 { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
                if n > 2 { out.append(alphabet[Int(b2 & 0x3F)]) }
                i += 3
            }
            out.append(UInt8(ascii: "-"))
            pending.removeAll()
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: Array(String(scalar).utf16))
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a wire mailbox name; `nil` when it is not valid modified UTF-7 (8-bit bytes,
    /// control characters, unterminated or badly padded shifts, lone surrogates, or ASCII that
    /// should have been written directly).
    public static func decode(_ wire: [UInt8]) -> String? {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < wire.count {
            let b = wire[i]
            guard b >= 0x20 && b <= 0x7E else { return nil }
            if b != UInt8(ascii: "&") {
                scalars.append(Unicode.Scalar(b)); i += 1; continue
            }
            i += 1
            guard let end = wire[i...].firstIndex(of: UInt8(ascii: "-")) else { return nil }
            if end == i { scalars.append("&"); i += 1; continue }
            var bits: UInt32 = 0, nbits = 0
            var bytes = [UInt8]()
            for c in wire[i..<end] {
                guard let v = alphabet.firstIndex(of: c) else { return nil }
                bits = (bits << 6) | UInt32(v); nbits += 6
                if nbits >= 8 { nbits -= 8; bytes.append(UInt8((bits >> UInt32(nbits)) & 0xFF)) }
            }
            // Leftover bits must be fewer than 6 and all zero; UTF-16 needs an even byte count.
            guard nbits < 6, bits & ((1 << UInt32(nbits)) - 1) == 0, bytes.count % 2 == 0 else { return nil }
            var units = [UInt16]()
            for k in stride(from: 0, to: bytes.count, by: 2) { units.append(UInt16(bytes[k]) << 8 | UInt16(bytes[k + 1])) }
            var iterator = units.makeIterator()
            var utf16 = UTF16()
            decodeLoop: while true {
                switch utf16.decode(&iterator) {
                case .scalarValue(let s):
                    if s.value >= 0x20 && s.value <= 0x7E { return nil }
                    scalars.append(s)
                case .emptyInput: break decodeLoop
                case .error: return nil
                }
            }
            i = end + 1
            // Two adjacent shifted runs are not allowed ("&AOk-&AOk-").
            if i < wire.count, wire[i] == UInt8(ascii: "&"), i + 1 < wire.count, wire[i + 1] != UInt8(ascii: "-") { return nil }
        }
        return String(scalars)
    }
}
