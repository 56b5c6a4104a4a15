import Foundation
import Testing
@testable import MailSim

/// A minimal reader of our own pcap output, independent of the writer's code paths.
struct ParsedPacket {
    var seconds: UInt32, micros: UInt32
    var frame: [UInt8]
    var ipHeader: ArraySlice<UInt8> { frame[14..<34] }
    var totalLength: Int { Int(frame[16]) << 8 | Int(frame[17]) }
    var source: [UInt8] { Array(frame[26..<30]) }
    var destination: [UInt8] { Array(frame[30..<34]) }
    var tcp: ArraySlice<UInt8> { frame[34...] }
    var sourcePort: UInt16 { UInt16(frame[34]) << 8 | UInt16(frame[35]) }
    var destinationPort: UInt16 { UInt16(frame[36]) << 8 | UInt16(frame[37]) }
    var seq: UInt32 { frame[38..<42].reduce(0) { $0 << 8 | UInt32($1) } }
    var ack: UInt32 { frame[42..<46].reduce(0) { $0 << 8 | UInt32($1) } }
    var flags: UInt8 { frame[47] }
    var payload: [UInt8] { Array(frame[54...]) }
}

func le32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 }

func parsePcap(_ bytes: [UInt8]) throws -> [ParsedPacket] {
    try #require(bytes.count >= 24)
    #expect(le32(bytes, 0) == 0xA1B2_C3D4)
    #expect(bytes[4] == 2 && bytes[5] == 0 && bytes[6] == 4 && bytes[7] == 0)
    #expect(le32(bytes, 16) == 65_535)
    #expect(le32(bytes, 20) == 1)  // LINKTYPE_ETHERNET
    var packets: [ParsedPacket] = []
    var offset = 24
    while offset < bytes.count {
        try #require(offset + 16 <= bytes.count)
        let included = Int(le32(bytes, offset + 8))
        #expect(le32(bytes, offset + 12) == UInt32(included))
        try #require(offset + 16 + included <= bytes.count)
        packets.append(ParsedPacket(seconds: le32(bytes, offset), micros: le32(bytes, offset + 4),
                                    frame: Array(bytes[(offset + 16)..<(offset + 16 + included)])))
        offset += 16 + included
    }
    return packets
}

func runSMTPLikeExchange(seed: UInt64, bigLine: Int = 0) throws -> World {
    let world = try World.defaultWorld(seed: seed)
    _ = try EchoService(world: world, host: "mail.example.com", port: 25)
    var script = ["EHLO alice-laptop", "MAIL FROM:<alice@example.com>"]
    if bigLine > 0 { script.append(String(repeating: "x", count: bigLine)) }
    script.append("QUIT")
    _ = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25, script: script)
    try world.runUntilIdle()
    return world
}

@Suite("Wire tap: transcripts and pcap")
struct TapTests {
    /// tshark, for the read-back tests (skipped, with that reason, without it).
    static let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("transcript in the course's style")
    func transcriptFormat() throws {
        let world = try runSMTPLikeExchange(seed: 1)
        #expect(world.transcript() == """
        == 192.0.2.10:49152 → 198.51.100.25:25 (mail.example.com) at +0.000s
        S: 220 mail.example.com echo ready
        C: EHLO alice-laptop
        S: 250 EHLO alice-laptop
        C: MAIL FROM:<alice@example.com>
        S: 250 MAIL FROM:<alice@example.com>
        C: QUIT
        S: 221 bye
        -- FIN from server at +0.045s --
        -- FIN from client at +0.050s --

        """)
    }

    @Test("the tap keeps at most its byte limit per connection")
    func tapLimit() throws {
        let world = try World.defaultWorld(seed: 1)
        world.tap.maximumBytesPerConnection = 200
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        let client = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25,
                                      script: (1...10).map { "LINE \($0) with some padding" } + ["QUIT"])
        try world.runUntilIdle()
        #expect(client.replies.last == "221 bye")  // the simulation itself is not limited
        let record = try #require(world.tap.connections.first)
        #expect(record.isTruncated)
        #expect(record.recordedBytes <= 200)
        #expect(world.transcript().contains("-- tap limit reached at "))
        #expect(world.transcript().hasSuffix("-- FIN from server at +0.125s --\n-- FIN from client at +0.130s --\n"))
        #expect(!world.transcript().contains("C: QUIT"))
    }

    @Test("with change tracking on, the tap lists each connection that recorded events once per take, in order")
    func changedConnections() throws {
        let world = try World.defaultWorld(seed: 1)
        #expect(!world.tap.tracksChanges)
        world.tap.tracksChanges = true
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        #expect(world.tap.takeChanged().isEmpty)
        let first = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25, script: ["A", "QUIT"])
        let second = try ScriptClient(world: world, from: "alice-laptop", to: "mail.example.com", port: 25, script: ["B", "QUIT"])
        try world.runUntilIdle()
        #expect(first.replies.last == "221 bye" && second.replies.last == "221 bye")
        let changed = world.tap.takeChanged().map(\.id)
        #expect(changed == world.tap.connections.map(\.id))  // both, once each, in the order they first recorded
        #expect(changed.count == 2)
        #expect(world.tap.takeChanged().isEmpty)  // nothing new since
        // Without tracking, nothing is listed (nobody would empty the list).
        let quiet = try World.defaultWorld(seed: 1)
        _ = try EchoService(world: quiet, host: "mail.example.com", port: 25)
        _ = try ScriptClient(world: quiet, from: "alice-laptop", to: "mail.example.com", port: 25, script: ["QUIT"])
        try quiet.runUntilIdle()
        #expect(quiet.tap.takeChanged().isEmpty)
    }

    @Test("a batch list hands over what was appended, keeps what is appended meanwhile, and reuses its buffers")
    func batchList() {
        var list = BatchList<Int>()
        #expect(list.isEmpty && list.take().isEmpty)
        for round in 0..<5 {
            for item in 0..<100 { list.append(round * 1_000 + item) }
            var batch = list.take()
            #expect(batch == (0..<100).map { round * 1_000 + $0 })
            #expect(list.isEmpty)
            list.append(-1)  // appended while the batch is handled: kept for the next one
            list.recycle(&batch)
            #expect(batch.isEmpty)
            var late = list.take()
            #expect(late == [-1])
            list.recycle(&late)
            // The buffer of the 100 items was given back: the next batch is filled in it.
            list.append(7)
            var next = list.take()
            #expect(next == [7])
            #expect(next.capacity >= 100)
            list.recycle(&next)
        }
    }

    @Test("an address prints as the dotted quad it parses from, for octets of one, two and three digits")
    func addressText() {
        for value: UInt32 in [0, 1, 9, 10, 99, 100, 255, 0x0A00_0001, 0xC000_020A, 0x7F00_0001, 0xFFFF_FFFF, 0x0102_0304, 0x6463_0A09] {
            let address = IPv4Address(value)
            let text = address.description
            let expected = "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
            #expect(text == expected)
            #expect(IPv4Address(text) == address)
        }
    }

    @Test("transcript markers in French")
    func frenchTranscript() throws {
        let world = try runSMTPLikeExchange(seed: 1)
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 143)
        try world.runUntilIdle()
        let text = world.transcript(language: .fr)
        #expect(text.hasPrefix("== 192.0.2.10:49152 → 198.51.100.25:25 (mail.example.com) à +0.000s\n"))
        #expect(text.contains("-- FIN du serveur à +0.045s --\n-- FIN du client à +0.050s --\n"))
        #expect(text.contains("-- connexion refusée à "))
        #expect(ConnectError.timedOut.message(.fr) == "délai de connexion dépassé")
        #expect(ResetReason.byPeer.message(.fr) == "connexion réinitialisée par le pair")
        #expect(String(describing: ResetReason.byPeer) == "connection reset by peer")
    }

    @Test("lines that are not clean UTF-8 are escaped", arguments: [
        ([0x48, 0x69], "Hi"),
        ([0xC3, 0xA9, 0x74, 0xC3, 0xA9], "été"),
        ([0xFF, 0x41], "\\xFFA"),
        ([0x41, 0x00, 0x5C], "A\\x00\\x5C"),
        ([0x09, 0x41], "\tA"),
    ] as [([UInt8], String)])
    func escaping(bytes: [UInt8], text: String) {
        #expect(WireTap.escapeLine(bytes) == text)
    }

    @Test("pcap: headers, checksums, flags and sequence numbers are consistent")
    func pcapStructure() throws {
        let world = try runSMTPLikeExchange(seed: 1, bigLine: 4000)
        let packets = try parsePcap(world.pcap())
        try #require(packets.count > 8)
        var isn: [UInt16: UInt32] = [:]
        var expectedSeq: [UInt16: UInt32] = [:]
        var flags: [UInt8] = []
        var previous: (UInt32, UInt32) = (0, 0)
        for packet in packets {
            #expect(packet.frame[12] == 0x08 && packet.frame[13] == 0x00)
            #expect(packet.totalLength == packet.frame.count - 14)
            #expect(PcapWriter.internetChecksum(Array(packet.ipHeader)) == 0, "IPv4 header checksum")
            let pseudo = packet.source + packet.destination + [0, 6, UInt8(packet.tcp.count >> 8), UInt8(packet.tcp.count & 0xFF)]
            #expect(PcapWriter.internetChecksum(pseudo + Array(packet.tcp)) == 0, "TCP checksum")
            #expect(packet.payload.count <= 1460)
            #expect((packet.seconds, packet.micros) >= previous)
            previous = (packet.seconds, packet.micros)
            flags.append(packet.flags)
            let port = packet.sourcePort
            if packet.flags & 0x02 != 0 {
                isn[port] = packet.seq
                expectedSeq[port] = packet.seq &+ 1
                continue
            }
            #expect(packet.seq == expectedSeq[port], "sequence numbers follow payload lengths")
            expectedSeq[port]! &+= UInt32(packet.payload.count) + (packet.flags & 0x01 != 0 ? 1 : 0)
            if let other = expectedSeq[port == 25 ? 49152 : 25] {
                #expect(packet.ack == other, "ack covers what the other side sent")
            }
        }
        // SYN, SYN/ACK, ACK, then data (PSH/ACK, ACK) …, FIN/ACK twice, last ACK.
        #expect(Array(flags.prefix(4)) == [0x02, 0x12, 0x10, 0x18])
        #expect(Array(flags.suffix(3)) == [0x11, 0x11, 0x10])
        #expect(flags.dropFirst(3).dropLast(3).allSatisfy { $0 == 0x18 || $0 == 0x10 })
        // The 4002-byte line is cut in 1460 + 1460 + 1082.
        let sizes = packets.map(\.payload.count)
        #expect(sizes.contains(1460) && sizes.contains(1082))
        // Timestamps start at the epoch (2025-01-01T00:00:00Z).
        #expect(packets.first?.seconds == 1_735_689_600)
        #expect(packets[1].micros == 5_000)
    }

    @Test("pcap: refused connection is SYN then RST/ACK")
    func pcapRefused() throws {
        let world = try World.defaultWorld(seed: 1)
        try world.connect(from: "alice-laptop", to: "mail.example.com", port: 143)
        try world.runUntilIdle()
        let packets = try parsePcap(world.pcap())
        #expect(packets.map(\.flags) == [0x02, 0x14])
        #expect(packets[1].ack == packets[0].seq &+ 1)
    }

    @Test("tshark dissects the capture as SMTP", .enabled(if: TapTests.tshark != nil, "tshark is not installed"))
    func tsharkReadBack() throws {
        let candidates = ["/usr/bin/tshark", "/usr/local/bin/tshark"]
        guard let tshark = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("tshark not installed: skipping read-back")
            return
        }
        let world = try runSMTPLikeExchange(seed: 1, bigLine: 3000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("maillab-sim-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("smtp.pcap")
        try Data(world.pcap()).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tshark)
        process.arguments = ["-r", file.path, "-Y", "smtp.req", "-T", "fields", "-e", "smtp.req.command"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let commands = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(process.terminationStatus == 0)
        #expect(commands.contains("EHLO"))
        #expect(commands.contains("MAIL"))
        #expect(commands.contains("QUIT"))
    }

    @Test("tshark dissects POP3 on 110 and IMAP on 143", .enabled(if: TapTests.tshark != nil, "tshark is not installed"))
    func tsharkPOPAndIMAP() throws {
        guard let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("tshark not installed: skipping read-back")
            return
        }
        let world = try World.defaultWorld(seed: 5)
        _ = try EchoService(world: world, host: "mail1.company.org", port: 110)
        _ = try EchoService(world: world, host: "mail1.company.org", port: 143)
        _ = try ScriptClient(world: world, from: "bob-pc", to: "mail1.company.org", port: 110, script: ["USER bob", "QUIT"])
        _ = try ScriptClient(world: world, from: "bob-pc", to: "mail1.company.org", port: 143, script: ["a1 CAPABILITY", "QUIT"])
        try world.runUntilIdle()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("maillab-sim-pop-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("popimap.pcap")
        try Data(world.pcap()).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tshark)
        process.arguments = ["-r", file.path, "-T", "fields", "-e", "_ws.col.Protocol"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let protocols = Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(protocols.contains("POP"), "\(protocols)")
        #expect(protocols.contains("IMAP"), "\(protocols)")
    }

    @Test("tshark sees STARTTLS on port 25 and TLS records after it", .enabled(if: TapTests.tshark != nil, "tshark is not installed"))
    func tsharkStartTLS() throws {
        guard let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("tshark not installed: skipping read-back")
            return
        }
        let world = try World.defaultWorld(seed: 5)
        _ = try EchoService(world: world, host: "mail.example.com", port: 25)
        _ = try ScriptClient(world: world, from: "mail1.company.org", to: "mail.example.com", port: 25,
                             script: ["EHLO mail1.company.org", "STARTTLS", "EHLO mail1.company.org", "QUIT"])
        try world.runUntilIdle()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("maillab-sim-tls-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("starttls.pcap")
        try Data(world.pcap()).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tshark)
        process.arguments = ["-r", file.path, "-T", "fields", "-e", "smtp.req.command", "-e", "tls.handshake.type"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("STAR"))  // Wireshark keeps the first four letters of the verb
        #expect(text.contains("\t1"), "a ClientHello (handshake type 1) is dissected: \(text)")
        #expect(!text.contains("QUIT"), "commands after STARTTLS are encrypted on the wire")
    }
}
