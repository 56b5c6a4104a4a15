import MailCore

/// Writes the tap as a classic libpcap capture (LINKTYPE_ETHERNET), one TCP stream per
/// connection, so Wireshark and tshark dissect SMTP, POP3 and IMAP on their standard ports.
///
/// What is synthesised: Ethernet II frames between locally administered MACs `02:00:a:b:c:d`
/// (from the IPv4 address), IPv4 headers (DF, TTL 64, header checksum per RFC 791 §3.1) and TCP
/// headers (RFC 9293 §3.1) with the pseudo-header checksum, window 65535, no options. Each
/// connection gets: SYN (and its retransmissions), SYN/ACK, ACK, data segments of at most 1460
/// bytes (PSH on the last piece of a write), FIN/ACK from each side then a last ACK, or RST/ACK.
/// Initial sequence numbers come from a stable hash of the connection number. Timestamps are
/// the virtual times the sender put the bytes on the wire, offset by the world's epoch. TLS
/// connections carry the ciphertext, exactly as written on the virtual wire.
public enum PcapWriter {
    public static let maximumSegmentSize = 1460
    static let linkTypeEthernet: UInt32 = 1

    struct Packet {
        var time: VirtualTime
        var frame: [UInt8]
    }

    /// TCP flag bits.
    public struct TCPFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let fin = TCPFlags(rawValue: 0x01)
        public static let syn = TCPFlags(rawValue: 0x02)
        public static let rst = TCPFlags(rawValue: 0x04)
        public static let psh = TCPFlags(rawValue: 0x08)
        public static let ack = TCPFlags(rawValue: 0x10)
    }

    /// The whole capture file.
    public static func capture(_ connections: [TapConnection], epochUnixSeconds: Int64) -> [UInt8] {
        var packets: [Packet] = []
        for connection in connections { packets += self.packets(for: connection) }
        // Stable merge by time: ties keep connection order, then packet order.
        let ordered = packets.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)

        var out: [UInt8] = []
        out.appendLE(UInt32(0xA1B2_C3D4))  // magic, microsecond timestamps
        out.appendLE(UInt16(2)); out.appendLE(UInt16(4))
        out.appendLE(UInt32(0)); out.appendLE(UInt32(0))  // thiszone, sigfigs
        out.appendLE(UInt32(65_535))  // snaplen
        out.appendLE(linkTypeEthernet)
        for packet in ordered {
            let micros = epochUnixSeconds * 1_000_000 + packet.time.microseconds
            out.appendLE(UInt32(truncatingIfNeeded: micros / 1_000_000))
            out.appendLE(UInt32(truncatingIfNeeded: micros % 1_000_000))
            out.appendLE(UInt32(packet.frame.count))
            out.appendLE(UInt32(packet.frame.count))
            out += packet.frame
        }
        return out
    }

    /// The TCP state of one side of a connection while its packets are written.
    private struct SideState {
        var next: UInt32  // next sequence number this side will use
        var ipID: UInt16
        var finSent = false
    }

    static func packets(for connection: TapConnection) -> [Packet] {
        let clientISN = UInt32(truncatingIfNeeded: SeededRandom.stableHash("isn:client:\(connection.id)"))
        let serverISN = UInt32(truncatingIfNeeded: SeededRandom.stableHash("isn:server:\(connection.id)"))
        // Index 0: client, 1: server.
        var sides = [SideState(next: clientISN &+ 1, ipID: UInt16(truncatingIfNeeded: clientISN)),
                     SideState(next: serverISN &+ 1, ipID: UInt16(truncatingIfNeeded: serverISN))]
        var synAcked = false
        var packets: [Packet] = []

        func emit(_ from: Int, _ flags: TCPFlags, seq: UInt32, ack: UInt32, payload: [UInt8] = [], at time: VirtualTime) {
            let src = from == 0 ? connection.client : connection.server
            let dst = from == 0 ? connection.server : connection.client
            let id = sides[from].ipID
            sides[from].ipID = id &+ 1
            packets.append(Packet(time: time, frame: frame(from: src, to: dst, flags: flags, seq: seq, ack: ack,
                                                           ipID: id, payload: payload)))
        }
        func index(_ direction: FlowDirection) -> Int { direction == .clientToServer ? 0 : 1 }

        for event in connection.events {
            let t = event.time
            switch event.kind {
            case .syn:
                emit(0, .syn, seq: clientISN, ack: 0, at: t)
            case .synAck:
                synAcked = true
                emit(1, [.syn, .ack], seq: serverISN, ack: clientISN &+ 1, at: t)
            case .established:
                emit(0, .ack, seq: sides[0].next, ack: sides[1].next, at: t)
            case let .segment(direction, bytes, _):
                let me = index(direction), other = 1 - me
                var offset = 0
                while offset < bytes.count {
                    let end = min(offset + maximumSegmentSize, bytes.count)
                    let piece = Array(bytes[offset..<end])
                    let flags: TCPFlags = end == bytes.count ? [.psh, .ack] : .ack
                    emit(me, flags, seq: sides[me].next, ack: sides[other].next, payload: piece, at: t)
                    sides[me].next &+= UInt32(piece.count)
                    offset = end
                }
            case let .fin(direction):
                let me = index(direction), other = 1 - me
                emit(me, [.fin, .ack], seq: sides[me].next, ack: sides[other].next, at: t)
                sides[me].next &+= 1
                sides[me].finSent = true
                if sides[other].finSent {
                    emit(other, .ack, seq: sides[other].next, ack: sides[me].next, at: t)
                }
            case let .rst(direction):
                let me = index(direction), other = 1 - me
                if !synAcked && me == 1 {
                    emit(1, [.rst, .ack], seq: 0, ack: clientISN &+ 1, at: t)  // refused
                } else {
                    emit(me, [.rst, .ack], seq: sides[me].next, ack: sides[other].next, at: t)
                }
            case .appData, .tlsStarted, .tlsEstablished, .tlsFailed, .refused, .connectTimedOut, .aborted, .truncated:
                break
            }
        }
        return packets
    }

    /// One Ethernet II frame carrying IPv4 and TCP.
    static func frame(from src: SocketAddressV4, to dst: SocketAddressV4, flags: TCPFlags,
                      seq: UInt32, ack: UInt32, ipID: UInt16, payload: [UInt8]) -> [UInt8] {
        var tcp: [UInt8] = []
        tcp.appendBE(src.port); tcp.appendBE(dst.port)
        tcp.appendBE(seq); tcp.appendBE(ack)
        tcp.append(5 << 4)  // data offset: 5 words
        tcp.append(flags.rawValue)
        tcp.appendBE(UInt16(65_535))  // window
        tcp.appendBE(UInt16(0))  // checksum, filled below
        tcp.appendBE(UInt16(0))  // urgent pointer
        tcp += payload
        var pseudo = src.address.octets + dst.address.octets
        pseudo += [0, 6]
        pseudo.appendBE(UInt16(tcp.count))
        let tcpChecksum = internetChecksum(pseudo + tcp)
        tcp[16] = UInt8(tcpChecksum >> 8); tcp[17] = UInt8(tcpChecksum & 0xFF)

        var ip: [UInt8] = [0x45, 0x00]
        ip.appendBE(UInt16(20 + tcp.count))
        ip.appendBE(ipID)
        ip.appendBE(UInt16(0x4000))  // DF, fragment offset 0
        ip += [64, 6, 0, 0]  // TTL, protocol TCP, header checksum (computed just below)
        ip += src.address.octets + dst.address.octets
        let ipChecksum = internetChecksum(ip)
        ip[10] = UInt8(ipChecksum >> 8); ip[11] = UInt8(ipChecksum & 0xFF)

        let ethernet: [UInt8] = [0x02, 0x00] + dst.address.octets + [0x02, 0x00] + src.address.octets + [0x08, 0x00]
        return ethernet + ip + tcp
    }

    /// The 16-bit one's complement of the one's complement sum (RFC 1071).
    public static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
