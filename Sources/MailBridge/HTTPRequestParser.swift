/// A minimal HTTP/1.1 request reader (RFC 9112) for the autoconfig server: request line and
/// header fields, no body. Bytes are fed as they arrive; requests may be pipelined.
///
/// Limits: the request line and header section together at most ``maxHeaderBytes``; at most
/// ``maxFields`` fields. A request with a body (`Content-Length` other than 0, or
/// `Transfer-Encoding`) is refused: the autoconfig files are only read with GET and HEAD.
public struct HTTPRequestParser: Sendable {
    public static let maxHeaderBytes = 8 * 1024
    public static let maxFields = 64

    public struct Request: Equatable, Sendable {
        public var method: String
        /// The request target as sent (`/mail/config-v1.1.xml?emailaddress=a%40b.c`).
        public var target: String
        /// `HTTP/1.1` or `HTTP/1.0`.
        public var version: String
        /// Field names in lower case, values without surrounding spaces, in order.
        public var fields: [(name: String, value: String)]

        public func field(_ name: String) -> String? {
            fields.first { $0.name == name }?.value
        }

        /// Whether the connection stays open after the response (RFC 9112 §9.3).
        public var keepAlive: Bool {
            let connection = field("connection")?.lowercased() ?? ""
            if version == "HTTP/1.0" { return connection.contains("keep-alive") }
            return !connection.contains("close")
        }

        /// The path without the query, and the query's parameters (percent-decoded, `+` as space).
        public var path: String { String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
        public func query(_ key: String) -> String? {
            let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if HTTPRequestParser.percentDecode(Substring(kv[0])) == key {
                    return kv.count == 2 ? HTTPRequestParser.percentDecode(kv[1]) : ""
                }
            }
            return nil
        }

        public static func == (a: Request, b: Request) -> Bool {
            a.method == b.method && a.target == b.target && a.version == b.version
                && a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
        }
    }

    /// What the parser made of the bytes so far.
    public enum Outcome: Equatable, Sendable {
        case request(Request)
        /// The status to answer before closing (400, 413, 431, 501, 505).
        case error(Int)
    }

    private var buffer: [UInt8] = []
    private var failed = false

    public init() {}

    /// Adds bytes and returns the requests now complete, in order; after an `.error` the
    /// parser takes nothing more (the connection is to be closed).
    public mutating func feed(_ bytes: [UInt8]) -> [Outcome] {
        guard !failed else { return [] }
        buffer.append(contentsOf: bytes)
        var out: [Outcome] = []
        while let end = Self.headerEnd(in: buffer) {
            let head = Array(buffer[..<end.start])
            buffer.removeFirst(end.afterEnd)
            let outcome = Self.parse(head)
            out.append(outcome)
            if case .error = outcome {
                failed = true
                buffer = []
                return out
            }
        }
        if buffer.count > Self.maxHeaderBytes {
            failed = true
            buffer = []
            out.append(.error(431))
        }
        return out
    }

    /// Where the header section ends: the first empty line (CRLF CRLF, or bare LF LF, RFC 9112 §2.2).
    static func headerEnd(in bytes: [UInt8]) -> (start: Int, afterEnd: Int)? {
        var i = 0
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        while i < bytes.count, bytes[i] == 0x0D || bytes[i] == 0x0A { i += 1 }
        var lineStart = i
        while i < bytes.count {
            if bytes[i] == 0x0A {
                var contentEnd = i
                if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                if contentEnd == lineStart && lineStart > 0 {
                    return (start: lineStart, afterEnd: i + 1)
                }
                lineStart = i + 1
            }
            i += 1
        }
        return nil
    }

    static func parse(_ head: [UInt8]) -> Outcome {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in head {
            if byte == 0x0A {
                if current.last == 0x0D { current.removeLast() }
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return .error(400) }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return .error(400) }
        guard let method = String(validating: parts[0], as: UTF8.self), method.utf8.allSatisfy(isTokenByte),
              let target = String(validating: parts[1], as: UTF8.self),
              target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              let version = String(validating: parts[2], as: UTF8.self) else { return .error(400) }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return version.hasPrefix("HTTP/") ? .error(505) : .error(400)
        }
        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            // Obsolete line folding is refused (RFC 9112 §5.2).
            guard let colon = line.firstIndex(of: 0x3A), colon > 0, line[0] != 0x20, line[0] != 0x09 else { return .error(400) }
            let nameBytes = line[..<colon]
            guard nameBytes.allSatisfy(isTokenByte) else { return .error(400) }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { return .error(400) }
            fields.append((String(decoding: nameBytes, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
            if fields.count > maxFields { return .error(431) }
        }
        let request = Request(method: method, target: target, version: version, fields: fields)
        if version == "HTTP/1.1" && request.field("host") == nil { return .error(400) }
        if request.field("transfer-encoding") != nil { return .error(501) }
        if let length = request.field("content-length"), length != "0" { return .error(413) }
        return .request(request)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// `%40` → `@`, `+` → space; bad escapes are kept as written.
    static func percentDecode(_ text: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: return b - 0x30
            case 0x41...0x46: return b - 0x41 + 10
            case 0x61...0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x25, i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i] == 0x2B ? 0x20 : bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
