import Foundation
import MailAgents
import MailCore
import NIOCore

extension LoopbackBridge {
    /// Calls `observer` on the bridge's loop with the world after it ran, at most once per
    /// `interval` (when runs come faster, one call follows at the end of the interval), so that
    /// the live view reads the tap and the journal as they grow without slowing the world.
    public func observe(every interval: TimeAmount = .milliseconds(50), _ observer: @escaping (MailWorld) -> Void) {
        let throttle = Throttle(interval: interval)
        eventLoop.execute { [self] in
            pumpObserver = { [eventLoop] world in throttle.ran(world, loop: eventLoop, observer) }
            pump()
        }
    }
}

/// When the observer last ran and whether a call is already scheduled (used on the loop only).
final class Throttle {
    let interval: TimeAmount
    var last: NIODeadline = .distantPast
    var scheduled = false

    init(interval: TimeAmount) { self.interval = interval }

    func ran(_ world: MailWorld, loop: EventLoop, _ observer: @escaping (MailWorld) -> Void) {
        guard !scheduled else { return }
        let now = NIODeadline.now()
        if now - last >= interval {
            last = now
            observer(world)
            return
        }
        scheduled = true
        loop.scheduleTask(deadline: last + interval) { [self] in
            scheduled = false
            last = .now()
            observer(world)
        }
    }
}

extension CredentialRedactor {
    /// A redactor for the bytes of one connection to simulated port `port`, for the live view:
    /// client writes come back with their credentials masked (``clientLine(_:)``); a server
    /// write only brings the replies it completes (``serverReplied(_:)``). Lines keep their own
    /// ends (CR LF or LF).
    public static func byteRedaction(port: Int) -> (_ fromClient: Bool, _ bytes: [UInt8], _ replies: [ServerReply]) -> [UInt8] {
        let box = RedactorBox(CredentialRedactor(mailProtocol: BridgeService.standard(port: UInt16(clamping: port)).mailProtocol))
        return { fromClient, bytes, replies in box.redact(fromClient: fromClient, bytes, replies: replies) }
    }
}

/// The mutable redactor of one connection (the feed calls it in the order bytes were written).
final class RedactorBox {
    var redactor: CredentialRedactor
    init(_ redactor: CredentialRedactor) { self.redactor = redactor }

    func redact(fromClient: Bool, _ bytes: [UInt8], replies: [ServerReply]) -> [UInt8] {
        guard redactor.mailProtocol != nil else { return bytes }
        guard fromClient else {
            for reply in replies { redactor.serverReplied(reply) }
            return bytes
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            var line = bytes[start..<end]
            var ending: ArraySlice<UInt8> = []
            if line.last == 0x0A {
                let cut = line.dropLast().last == 0x0D ? 2 : 1
                ending = line.suffix(cut)
                line = line.dropLast(cut)
            }
            let text = String(decoding: line, as: UTF8.self)
            let shown = redactor.clientLine(text)
            if shown == text { out += line } else { out += Array(shown.utf8) }
            out += ending
            start = end
        }
        return out
    }
}
