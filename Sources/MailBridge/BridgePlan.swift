import MailCore

/// What a simulated port offers, named after its standard number (RFC 5321, RFC 6409, RFC 8314,
/// RFC 1939, RFC 9051).
public struct BridgeService: Hashable, Sendable {
    /// Short name shown in the port table: `smtp`, `submission`, `smtps`, `pop3`, `pop3s`, `imap`, `imaps`.
    public let name: String
    /// The protocol spoken on the port, when it is one of the three mail protocols.
    public let mailProtocol: MailProtocol?
    /// True when TLS starts at once (465, 995, 993); else the client may use STARTTLS/STLS.
    public let implicitTLS: Bool

    /// The service of a standard port; other ports are named by their number.
    public static func standard(port: UInt16) -> BridgeService {
        switch port {
        case 25: return BridgeService(name: "smtp", mailProtocol: .smtp, implicitTLS: false)
        case 587: return BridgeService(name: "submission", mailProtocol: .smtp, implicitTLS: false)
        case 465: return BridgeService(name: "smtps", mailProtocol: .smtp, implicitTLS: true)
        case 110: return BridgeService(name: "pop3", mailProtocol: .pop3, implicitTLS: false)
        case 995: return BridgeService(name: "pop3s", mailProtocol: .pop3, implicitTLS: true)
        case 143: return BridgeService(name: "imap", mailProtocol: .imap, implicitTLS: false)
        case 993: return BridgeService(name: "imaps", mailProtocol: .imap, implicitTLS: true)
        default: return BridgeService(name: "port \(port)", mailProtocol: nil, implicitTLS: false)
        }
    }

    /// How a client secures the connection, in both languages.
    public var security: BilingualText {
        if implicitTLS { return BilingualText(fr: "TLS implicite (SSL/TLS)", en: "implicit TLS (SSL/TLS)") }
        switch mailProtocol {
        case .smtp?, .imap?: return BilingualText(fr: "STARTTLS", en: "STARTTLS")
        case .pop3?: return BilingualText(fr: "STLS (STARTTLS)", en: "STLS (STARTTLS)")
        case nil: return BilingualText(fr: "aucune", en: "none")
        }
    }
}

/// One real TCP port of the bridge and the simulated port behind it.
public struct BridgedPort: Hashable, Sendable {
    /// Index of the host among the world's server hosts (hosts that listen on some port), in
    /// the world's order; it picks the host's block of 1000 ports.
    public let hostIndex: Int
    public let hostName: String
    /// The port inside the simulated world (25, 587, …).
    public let virtualPort: UInt16
    /// The real TCP port: `offset + 1000·hostIndex + virtualPort`.
    public let realPort: Int
    public var service: BridgeService { .standard(port: virtualPort) }
}

/// Errors in the bridge's set-up, with a message in both languages.
public struct BridgeError: Error, Equatable, CustomStringConvertible {
    public let message: BilingualText
    public init(fr: String, en: String) { message = BilingualText(fr: fr, en: en) }
    public var description: String { message.en }
}

/// The port table of `maillab serve` (DESIGN.md, "Command-line contract"): server host *i* gets
/// the block `offset + 1000·i`, and each simulated port *p* below 1000 of that host is reachable
/// on `offset + 1000·i + p`.
public enum BridgePlan {
    /// Ports of one block: a simulated port must stay under this to keep the blocks apart.
    public static let blockSize = 1000

    /// The bridged ports, host by host in the world's order and ascending port within a host.
    ///
    /// - Parameters:
    ///   - servers: every host in the world's order with the ports it listens on (hosts with
    ///     none are skipped and take no block).
    ///   - offset: the first block's base.
    ///   - expose: host names to bridge (case-insensitive); nil for all. The indices stay those
    ///     of the full list, so a host keeps its ports whatever is exposed.
    /// - Throws: ``BridgeError`` for an unknown exposed host, a negative offset, or a port
    ///   above 65535.
    public static func make(servers: [(name: String, ports: [UInt16])], offset: Int,
                            expose: [String]? = nil) throws -> [BridgedPort] {
        guard offset >= 0 else {
            throw BridgeError(fr: "le décalage de ports doit être positif ou nul (reçu \(offset))",
                              en: "the port offset must not be negative (got \(offset))")
        }
        let serverHosts = servers.filter { !$0.ports.isEmpty }
        let wanted = expose.map { Set($0.map { $0.lowercased() }) }
        if let wanted {
            let known = Set(serverHosts.map { $0.name.lowercased() })
            for name in wanted.sorted() where !known.contains(name) {
                let list = serverHosts.map(\.name).joined(separator: ", ")
                throw BridgeError(fr: "aucun serveur nommé \(name) dans ce monde (serveurs : \(list))",
                                  en: "no server named \(name) in this world (servers: \(list))")
            }
        }
        var result: [BridgedPort] = []
        for (index, host) in serverHosts.enumerated() {
            if let wanted, !wanted.contains(host.name.lowercased()) { continue }
            for port in host.ports.sorted() where Int(port) < blockSize {
                let real = offset + blockSize * index + Int(port)
                guard real <= 65535 else {
                    throw BridgeError(
                        fr: "le port \(port) de \(host.name) donnerait \(real), au-delà de 65535 : choisissez un décalage plus petit",
                        en: "port \(port) of \(host.name) would be \(real), above 65535: choose a smaller offset")
                }
                result.append(BridgedPort(hostIndex: index, hostName: host.name, virtualPort: port, realPort: real))
            }
        }
        return result
    }
}
