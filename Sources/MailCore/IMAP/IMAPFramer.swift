/// Splits incoming bytes into complete IMAP commands or responses: lines plus the literals they
/// announce (RFC 3501 §4.3, RFC 7888). Grammar is not its business; limits are.
///
/// "Need more bytes" leaves everything buffered; every buffer is bounded by ``Limits``.
public struct IMAPFramer: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Longest line (without CRLF) accepted.
        public var maxLine: Int
        /// Largest literal accepted.
        public var maxLiteral: Int
        /// Largest whole command (lines and literals).
        public var maxCommand: Int
        /// Whether `{N+}` literals are allowed (LITERAL+ advertised).
        public var nonSynchronizingLiterals: Bool
        public init(maxLine: Int = 8192, maxLiteral: Int = 10 * 1024 * 1024, maxCommand: Int = 11 * 1024 * 1024,
                    nonSynchronizingLiterals: Bool = true) {
            self.maxLine = maxLine; self.maxLiteral = maxLiteral; self.maxCommand = maxCommand
            self.nonSynchronizingLiterals = nonSynchronizingLiterals
        }
    }

    public enum Frame: Hashable, Sendable {
        /// A whole command: its lines joined by CRLF with literal octets inline, without the final CRLF.
        case complete([UInt8])
        /// A synchronising literal `{N}` was announced and is acceptable: the server sends `+`.
        case literalAccepted
        /// A line went over the limit; `prefix` is the start of the command (for its tag).
        case lineTooLong(prefix: [UInt8])
        /// A literal is too large or not allowed. For `{N}` the client sends nothing more; for
        /// `{N+}` the framer skips the N octets and the rest of that command.
        case literalRefused(prefix: [UInt8], size: Int, synchronizing: Bool)
    }

    private enum State: Sendable, Hashable {
        case line
        case literal(remaining: Int)
        case skipLiteral(remaining: Int)
        /// After a refused `{N+}` literal: discard until the command's last line.
        case skipCommand
        /// After an over-long line: discard until LF.
        case drainLine
    }

    public var limits: Limits
    /// When false (IDLE, AUTHENTICATE continuations, client side of greeting), `{N}` is plain text.
    public var literalsEnabled = true
    /// For a client's response framer: literals need no acceptance.
    public var isClientSide = false
    private var state = State.line
    private var buffer: [UInt8] = []
    private var start = 0
    private var scan = 0
    private var command: [UInt8] = []

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Bytes held and not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - start + command.count }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start); scan -= start; start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Drops everything buffered (after STARTTLS, RFC 3501 §6.2.1 / RFC 2595 §3.1).
    public mutating func discardBuffered() {
        buffer.removeAll(); start = 0; scan = 0; command.removeAll(); state = .line
    }

    /// The next frame, or nil when more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            switch state {
            case .literal(let remaining):
                let n = min(remaining, buffer.count - start)
                command.append(contentsOf: buffer[start..<start + n])
                start += n; scan = start
                if n < remaining { state = .literal(remaining: remaining - n); return nil }
                state = .line
            case .skipLiteral(let remaining):
                let n = min(remaining, buffer.count - start)
                start += n; scan = start
                if n < remaining { state = .skipLiteral(remaining: remaining - n); return nil }
                state = .skipCommand
            case .drainLine:
                guard let lf = findLF() else { start = buffer.count; scan = start; return nil }
                start = lf + 1; scan = start
                state = .line
            case .skipCommand:
                guard let lf = findLF() else { start = buffer.count; scan = start; return nil }
                let line = Array(buffer[start..<lf])
                start = lf + 1; scan = start
                if literalsEnabled, let (size, _) = IMAPFramer.literalMarker(line) {
                    state = .skipLiteral(remaining: size)
                } else {
                    state = .line
                }
            case .line:
                guard let lf = findLF() else {
                    if buffer.count - start > limits.maxLine {
                        let prefix = Array((command + buffer[start..<min(buffer.count, start + 80)]).prefix(80))
                        command.removeAll()
                        start = buffer.count; scan = start
                        state = .drainLine
                        return .lineTooLong(prefix: prefix)
                    }
                    scan = buffer.count
                    return nil
                }
                var end = lf
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = lf + 1; scan = start
                if line.count > limits.maxLine {
                    let prefix = Array((command + line.prefix(80)).prefix(80))
                    command.removeAll()
                    return .lineTooLong(prefix: prefix)
                }
                command.append(contentsOf: line)
                guard literalsEnabled, let (size, sync) = IMAPFramer.literalMarker(Array(line)) else {
                    let done = command
                    command.removeAll()
                    return .complete(done)
                }
                if size > limits.maxLiteral || command.count + size > limits.maxCommand
                    || (!sync && !limits.nonSynchronizingLiterals && !isClientSide) {
                    let prefix = Array(command.prefix(80))
                    command.removeAll()
                    if !sync && !isClientSide { state = .skipLiteral(remaining: size) }
                    return .literalRefused(prefix: prefix, size: size, synchronizing: sync)
                }
                command.append(contentsOf: [0x0D, 0x0A])
                state = .literal(remaining: size)
                if sync && !isClientSide { return .literalAccepted }
            }
        }
    }

    private mutating func findLF() -> Int? {
        var i = max(scan, start)
        while i < buffer.count {
            if buffer[i] == 0x0A { return i }
            i += 1
        }
        scan = buffer.count
        return nil
    }

    /// `{123}` or `{123+}` at the end of a line → (123, synchronising?).
    static func literalMarker(_ line: [UInt8]) -> (Int, Bool)? {
        guard line.last == UInt8(ascii: "}"), let open = line.lastIndex(of: UInt8(ascii: "{")) else { return nil }
        var digits = line[(open + 1)..<(line.count - 1)]
        var sync = true
        if digits.last == UInt8(ascii: "+") { sync = false; digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int(String(decoding: digits, as: UTF8.self)) else { return nil }
        return (n, sync)
    }
}
