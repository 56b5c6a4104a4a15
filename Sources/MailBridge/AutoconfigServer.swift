import Foundation
import NIOCore
import NIOPosix

/// Mozilla-style autoconfig (the "ISPDB" format, `config-v1.1.xml`) over HTTP/1.1, so that a
/// student's Thunderbird finds the servers and real ports of their mail domain by itself.
///
/// Paths: `/.well-known/autoconfig/mail/config-v1.1.xml` (the domain from `emailaddress=` or
/// the `Host` field, `autoconfig.` removed) and `/mail/config-v1.1.xml?emailaddress=…`.
/// GET and HEAD only; keep-alive and pipelining as HTTP/1.1 says; 10 s idle timeout; at most
/// 32 connections at once.
public final class AutoconfigServer: @unchecked Sendable {
    public struct Entry: Sendable {
        public let domain: String
        /// Simulated host names (their certificates carry them) and real ports.
        public let mailboxHost: String
        public let submissionHost: String
        public let imapPort: Int?
        public let imapsPort: Int?
        public let pop3Port: Int?
        public let pop3sPort: Int?
        public let submissionPort: Int?
    }

    public static let maxConnections = 32
    public static let idleTimeout: TimeAmount = .seconds(10)

    public let entries: [String: Entry]
    private let group: EventLoopGroup
    private var channel: Channel?
    private let lock = NSLock()
    private var open = 0

    /// The entries for `domains`, with the real ports of `ports`.
    public static func entries(domains: [ClassRoster.Domain], ports: [BridgedPort]) -> [Entry] {
        func port(_ host: String, _ virtual: UInt16) -> Int? {
            ports.first { $0.hostName == host && $0.virtualPort == virtual }?.realPort
        }
        return domains.map { d in
            Entry(domain: d.name, mailboxHost: d.mailboxHost, submissionHost: d.submissionHost,
                  imapPort: port(d.mailboxHost, 143), imapsPort: port(d.mailboxHost, 993),
                  pop3Port: port(d.mailboxHost, 110), pop3sPort: port(d.mailboxHost, 995),
                  submissionPort: port(d.submissionHost, 587))
        }
    }

    public init(entries: [Entry], group: EventLoopGroup) {
        self.entries = Dictionary(entries.map { ($0.domain, $0) }, uniquingKeysWith: { a, _ in a })
        self.group = group
    }

    /// Binds the listener.
    public func start(host: String, port: Int) throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AutoconfigHandler(server: self))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            throw BridgeError(fr: "impossible d'écouter sur \(host):\(port) pour l'autoconfiguration : \(error)",
                              en: "cannot listen on \(host):\(port) for autoconfig: \(error)")
        }
    }

    public func stop() {
        try? channel?.close().wait()
        channel = nil
    }

    func admit() -> Bool {
        lock.withLock {
            guard open < Self.maxConnections else { return false }
            open += 1
            return true
        }
    }

    func leave() { lock.withLock { open -= 1 } }

    /// Status, content type and body for a request.
    func respond(to request: HTTPRequestParser.Request) -> (status: Int, type: String, body: String) {
        guard request.method == "GET" || request.method == "HEAD" else {
            return (405, "text/plain; charset=utf-8", "GET or HEAD only\n")
        }
        let path = request.path
        guard path == "/.well-known/autoconfig/mail/config-v1.1.xml" || path == "/mail/config-v1.1.xml" else {
            return (404, "text/plain; charset=utf-8", "not found\n")
        }
        var domain: String?
        if let address = request.query("emailaddress"), let at = address.lastIndex(of: "@") {
            domain = String(address[address.index(after: at)...]).lowercased()
        } else if let host = request.field("host") {
            var name = host.lowercased()
            if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") { name = String(name[..<colon]) }
            if name.hasPrefix("autoconfig.") { name = String(name.dropFirst("autoconfig.".count)) }
            domain = name
        }
        guard let domain, let entry = entries[domain] else {
            return (404, "text/plain; charset=utf-8", "no mail domain of this world matches\n")
        }
        return (200, "application/xml; charset=utf-8", Self.xml(entry))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// The `clientConfig` document of one domain.
    static func xml(_ e: Entry) -> String {
        func server(_ kind: String, _ tag: String, _ host: String, _ port: Int?, _ socket: String) -> String {
            guard let port else { return "" }
            return """
                <\(tag) type="\(kind)">
                  <hostname>\(escape(host))</hostname>
                  <port>\(port)</port>
                  <socketType>\(socket)</socketType>
                  <authentication>password-cleartext</authentication>
                  <username>%EMAILLOCALPART%</username>
                </\(tag)>

            """
        }
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <clientConfig version="1.1">
              <emailProvider id="\(escape(e.domain))">
                <domain>\(escape(e.domain))</domain>
                <displayName>MailLab \(escape(e.domain))</displayName>
                <displayShortName>MailLab</displayShortName>

            """
        out += server("imap", "incomingServer", e.mailboxHost, e.imapsPort, "SSL")
        out += server("imap", "incomingServer", e.mailboxHost, e.imapPort, "STARTTLS")
        out += server("pop3", "incomingServer", e.mailboxHost, e.pop3sPort, "SSL")
        out += server("pop3", "incomingServer", e.mailboxHost, e.pop3Port, "STARTTLS")
        out += server("smtp", "outgoingServer", e.submissionHost, e.submissionPort, "STARTTLS")
        out += """
              </emailProvider>
            </clientConfig>

            """
        // Indent the server blocks inside emailProvider.
        return out
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Content Too Large"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }
}

/// One HTTP connection of the autoconfig server.
final class AutoconfigHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: AutoconfigServer
    private var parser = HTTPRequestParser()
    private var admitted = false
    private var closing = false
    private var idle: Scheduled<Void>?

    init(server: AutoconfigServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        admitted = server.admit()
        if !admitted {
            context.close(promise: nil)
            return
        }
        armIdle(context)
    }

    private func armIdle(_ context: ChannelHandlerContext) {
        idle?.cancel()
        let channel = context.channel
        idle = context.eventLoop.scheduleTask(in: AutoconfigServer.idleTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard admitted, !closing, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        armIdle(context)
        for outcome in parser.feed(bytes) {
            switch outcome {
            case let .request(request):
                let answer = server.respond(to: request)
                let keep = request.keepAlive
                write(context, status: answer.status, type: answer.type, body: answer.body,
                      includeBody: request.method != "HEAD", close: !keep)
                if !keep { closing = true; return }
            case let .error(status):
                write(context, status: status, type: "text/plain; charset=utf-8",
                      body: AutoconfigServer.reason(status) + "\n", includeBody: true, close: true)
                closing = true
                return
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, status: Int, type: String, body: String,
                       includeBody: Bool, close: Bool) {
        let bodyBytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(AutoconfigServer.reason(status))\r\n"
        head += "Content-Type: \(type)\r\nContent-Length: \(bodyBytes.count)\r\nCache-Control: no-store\r\n"
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + bodyBytes.count)
        buffer.writeString(head)
        if includeBody { buffer.writeBytes(bodyBytes) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            if close { channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle?.cancel()
        if admitted { server.leave() }
        admitted = false
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
