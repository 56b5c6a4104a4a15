import Foundation
import NIOCore

/// The TLS secrets of the world's client sessions in the NSS key log format (the
/// `SSLKEYLOGFILE` format: `CLIENT_RANDOM …` for TLS 1.2, `CLIENT_HANDSHAKE_TRAFFIC_SECRET …`,
/// `SERVER_TRAFFIC_SECRET_0 …` and the like for TLS 1.3), as BoringSSL reports them through
/// swift-nio-ssl's key log callback. Wireshark and tshark decrypt the pcap's TLS with it
/// (`tshark -o tls.keylog_file:FILE`).
///
/// Every simulated TLS session has a simulated client, so the client side sees every secret.
/// Bounded: at most ``maximumLines`` lines are kept.
public final class TLSKeyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    public static let maximumLines = 100_000

    public init() {}

    func append(_ buffer: ByteBuffer) {
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        lock.lock()
        defer { lock.unlock() }
        for line in text.split(whereSeparator: \.isNewline) where lines.count < Self.maximumLines {
            lines.append(String(line))
        }
    }

    /// Every line so far, each ended by LF.
    public var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.map { $0 + "\n" }.joined()
    }

    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return lines.count
    }
}

extension World {
    /// From now on, records the TLS secrets of every new client session (see ``TLSKeyLog``).
    public func recordTLSKeys() {
        (try? certificateAuthority)?.recordKeys()
    }

    /// The key log recorded since ``recordTLSKeys()`` (empty when it was not called).
    public func tlsKeyLog() -> String {
        (try? certificateAuthority)?.keyLog?.text ?? ""
    }
}
