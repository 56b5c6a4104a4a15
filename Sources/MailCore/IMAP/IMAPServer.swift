/// Settings of one IMAP listener.
public struct IMAPServerConfiguration: Sendable {
    /// Text of the greeting after `* OK [CAPABILITY …]`.
    public var greeting: String
    /// Whether STARTTLS can be offered (a certificate is configured).
    public var tlsAvailable: Bool
    /// The connection is already TLS (port 993, implicit TLS).
    public var implicitTLS: Bool
    /// Refuse LOGIN and AUTHENTICATE until TLS is active (`LOGINDISABLED`, `NO [PRIVACYREQUIRED]`).
    public var requireTLSForAuthentication: Bool
    public var limits: IMAPFramer.Limits
    public var maxSearchDepth: Int
    /// Inactivity before `* BYE` (RFC 3501 §5.4: at least 30 minutes).
    public var autologoutSeconds: Int64
    /// Invalid commands in a row before `* BYE Too many invalid IMAP commands.`
    public var maxInvalidCommands: Int

    public init(greeting: String = "Dovecot ready.", tlsAvailable: Bool = true, implicitTLS: Bool = false,
                requireTLSForAuthentication: Bool = false, limits: IMAPFramer.Limits = .init(),
                maxSearchDepth: Int = 16, autologoutSeconds: Int64 = 1800, maxInvalidCommands: Int = 20) {
        self.greeting = greeting; self.tlsAvailable = tlsAvailable; self.implicitTLS = implicitTLS
        self.requireTLSForAuthentication = requireTLSForAuthentication; self.limits = limits
        self.maxSearchDepth = maxSearchDepth; self.autologoutSeconds = autologoutSeconds
        self.maxInvalidCommands = maxInvalidCommands
    }
}

/// What the host must do for the server engine.
public enum IMAPServerAction: Hashable, Sendable {
    /// Write these bytes to the peer.
    case send([UInt8])
    /// Start the TLS handshake now (after the `OK` was written); call ``IMAPServer/tlsEstablished(now:)`` when done.
    case startTLS
    /// Close the connection.
    case close
}

/// The server side of an IMAP4rev1 session (RFC 3501) with IDLE, UIDPLUS, LITERAL+, NAMESPACE,
/// MOVE, UNSELECT, SASL-IR and AUTHENTICATE PLAIN/LOGIN. Sans-IO: bytes and the current time in, actions out.
///
/// ```
/// S: * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ … STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
/// C: a001 LOGIN bob secret123
/// S: a001 OK [CAPABILITY IMAP4rev1 …] Logged in
/// ```
public struct IMAPServer {
    /// RFC 3501 §3 connection states.
    public enum State: Hashable, Sendable {
        case notAuthenticated
        case authenticated(user: String)
        case selected(user: String, mailbox: String, readOnly: Bool)
        case logout
    }

    private enum Mode: Hashable {
        case commands
        case idle(tag: String)
        case authenticate(tag: String)
        /// AUTHENTICATE LOGIN: waiting for the user name (nil) or the password.
        case authenticateLogin(tag: String, user: String?)
        case awaitingTLS
        case closed
    }

    /// The session's own view of the selected mailbox (sequence numbers and flags last reported).
    private struct View {
        var name: String
        var readOnly: Bool
        var uidValidity: UInt32
        var uids: [UInt32]
        var flags: [UInt32: Set<IMAPFlag>]
        var recent: Set<UInt32>
        var highestUID: UInt32
        var changeCounter: UInt64
        var reportedRecent: Int
        var expungePending: Bool
        var keywords: Set<IMAPFlag>

        func seq(of uid: UInt32) -> Int? {
            var lo = 0, hi = uids.count - 1
            while lo <= hi {
                let mid = (lo + hi) / 2
                if uids[mid] == uid { return mid + 1 }
                if uids[mid] < uid { lo = mid + 1 } else { hi = mid - 1 }
            }
            return nil
        }
    }

    public private(set) var state: State = .notAuthenticated
    public let configuration: IMAPServerConfiguration
    /// Whether the connection is protected by TLS.
    public private(set) var tlsActive: Bool
    private let backend: IMAPBackend
    private var framer: IMAPFramer
    private let parser: IMAPCommandParser
    private var mode = Mode.commands
    private var view: View?
    private var output: [UInt8] = []
    private var actions: [IMAPServerAction] = []
    private var lastActivity = IMAPDate(secondsSince1970: 0)
    private var invalidCommands = 0

    public init(backend: IMAPBackend, configuration: IMAPServerConfiguration = .init()) {
        self.backend = backend
        self.configuration = configuration
        self.tlsActive = configuration.implicitTLS
        self.framer = IMAPFramer(limits: configuration.limits)
        self.parser = IMAPCommandParser(maxSearchDepth: configuration.maxSearchDepth)
    }

    /// The user once authenticated.
    public var user: String? {
        switch state {
        case .authenticated(let u), .selected(let u, _, _): return u
        case .notAuthenticated, .logout: return nil
        }
    }

    /// Whether the session is in IDLE (the host calls ``mailboxChanged(now:)`` on store changes).
    public var isIdling: Bool { if case .idle = mode { return true } else { return false } }

    /// The mailbox selected, if any.
    public var selectedMailbox: String? { view?.name }

    /// When ``timerFired(now:)`` should be called next (autologout), or nil once closed.
    public var nextDeadline: IMAPDate? {
        if case .closed = mode { return nil }
        return IMAPDate(secondsSince1970: lastActivity.secondsSince1970 + configuration.autologoutSeconds)
    }

    // MARK: events

    /// The connection opened: send the greeting.
    public mutating func start(now: IMAPDate) -> [IMAPServerAction] {
        lastActivity = now
        line("* OK [CAPABILITY \(capabilities)] \(configuration.greeting)")
        return flush()
    }

    /// Bytes arrived from the client.
    public mutating func receive<C: Collection>(_ bytes: C, now: IMAPDate) -> [IMAPServerAction] where C.Element == UInt8 {
        switch mode {
        case .closed, .awaitingTLS: return []
        case .commands, .idle, .authenticate, .authenticateLogin: break
        }
        lastActivity = now
        framer.append(bytes)
        frames: while let frame = framer.next() {
            switch mode {
            case .closed, .awaitingTLS:
                break frames
            case .idle(let tag):
                idleFrame(frame, tag: tag)
            case .authenticate(let tag):
                authenticateFrame(frame, tag: tag)
            case .authenticateLogin(let tag, let user):
                authenticateLoginFrame(frame, tag: tag, user: user)
            case .commands:
                switch frame {
                case .literalAccepted:
                    line("+ OK")
                case .lineTooLong(let prefix):
                    line("\(tagOf(prefix)) BAD Command line too long.")
                    countInvalid()
                case .literalRefused(let prefix, let size, let sync):
                    let tag = tagOf(prefix)
                    if sync {
                        line("\(tag) NO [TOOBIG] Literal of \(size) octets is too big (limit \(configuration.limits.maxLiteral)).")
                    } else {
                        line("\(tag) BAD [TOOBIG] Literal of \(size) octets is too big or not allowed; its octets are discarded.")
                    }
                    countInvalid()
                case .complete(let bytes):
                    command(bytes, now: now)
                }
            }
        }
        return flush()
    }

    /// The TLS handshake requested by `.startTLS` completed.
    public mutating func tlsEstablished(now: IMAPDate) -> [IMAPServerAction] {
        tlsActive = true
        lastActivity = now
        framer.discardBuffered()
        if case .awaitingTLS = mode { mode = .commands }
        return flush()
    }

    /// A timer set for ``nextDeadline`` fired.
    public mutating func timerFired(now: IMAPDate) -> [IMAPServerAction] {
        guard let deadline = nextDeadline, now >= deadline else { return [] }
        line("* BYE Disconnected for inactivity.")
        close()
        return flush()
    }

    /// The store changed a mailbox; during IDLE the session reports it at once (RFC 2177),
    /// otherwise the news waits for the next command.
    public mutating func mailboxChanged(now: IMAPDate) -> [IMAPServerAction] {
        guard case .idle = mode else { return [] }
        sync(allowExpunge: true)
        return flush()
    }

    // MARK: framing helpers

    private mutating func line(_ text: String) {
        output.append(contentsOf: text.utf8)
        output.append(contentsOf: [0x0D, 0x0A])
    }

    private mutating func flush() -> [IMAPServerAction] {
        var result = [IMAPServerAction]()
        if !output.isEmpty { result.append(.send(output)); output.removeAll() }
        result += actions
        actions.removeAll()
        return result
    }

    private mutating func close() {
        mode = .closed
        state = .logout
        view = nil
        if !output.isEmpty { actions.insert(.send(output), at: 0); output.removeAll() }
        actions.append(.close)
    }

    private func tagOf(_ prefix: [UInt8]) -> String {
        let tag = prefix.prefix { IMAPWire.isAStringChar($0) && $0 != UInt8(ascii: "+") }
        guard !tag.isEmpty, tag.count <= 64, tag.count < prefix.count, prefix[tag.count] == 0x20 else { return "*" }
        return String(decoding: tag, as: UTF8.self)
    }

    private mutating func countInvalid() {
        invalidCommands += 1
        if invalidCommands >= configuration.maxInvalidCommands {
            line("* BYE Too many invalid IMAP commands.")
            close()
        }
    }

    private var loginAllowed: Bool { tlsActive || !configuration.requireTLSForAuthentication }

    /// The CAPABILITY list for the current state.
    public var capabilities: String {
        var caps = ["IMAP4rev1", "SASL-IR", "LITERAL+", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT"]
        if case .notAuthenticated = state {
            if configuration.tlsAvailable && !tlsActive { caps.append("STARTTLS") }
            caps += loginAllowed ? ["AUTH=PLAIN", "AUTH=LOGIN"] : ["LOGINDISABLED"]
        }
        return caps.joined(separator: " ")
    }

    // MARK: IDLE and AUTHENTICATE continuations

    private mutating func idleFrame(_ frame: IMAPFramer.Frame, tag: String) {
        framer.literalsEnabled = true
        mode = .commands
        switch frame {
        case .complete(let bytes) where String(decoding: bytes, as: UTF8.self).uppercased() == "DONE":
            line("\(tag) OK IDLE terminated")
        case .complete, .lineTooLong, .literalAccepted, .literalRefused:
            line("\(tag) BAD Expected DONE.")
        }
    }

    private mutating func authenticateFrame(_ frame: IMAPFramer.Frame, tag: String) {
        guard let bytes = saslResponse(frame, tag: tag) else { return }
        finishPlain(tag: tag, response: bytes)
    }

    /// One client line of an AUTHENTICATE exchange (RFC 3501 §6.2.2): back to command mode, and the
    /// line's bytes unless it was too long or `*` (cancel), which are answered here.
    private mutating func saslResponse(_ frame: IMAPFramer.Frame, tag: String) -> [UInt8]? {
        framer.literalsEnabled = true
        mode = .commands
        guard case .complete(let bytes) = frame else {
            line("\(tag) BAD Authentication response too long.")
            return nil
        }
        if bytes == [UInt8(ascii: "*")] {
            line("\(tag) BAD Authentication cancelled.")
            return nil
        }
        return bytes
    }

    /// AUTHENTICATE LOGIN (draft-murchison-sasl-login): base64 user name, then base64 password.
    private mutating func authenticateLoginFrame(_ frame: IMAPFramer.Frame, tag: String, user: String?) {
        guard let bytes = saslResponse(frame, tag: tag) else { return }
        guard let decoded = Base64.decode(bytes) else {
            line("\(tag) BAD Invalid base64 data in AUTHENTICATE response.")
            return
        }
        let text = String(decoding: decoded, as: UTF8.self)
        if let user {
            logIn(tag: tag, user: user, password: text)
        } else {
            line("+ UGFzc3dvcmQ6")
            mode = .authenticateLogin(tag: tag, user: text)
            framer.literalsEnabled = false
        }
    }

    private mutating func finishPlain(tag: String, response: [UInt8]) {
        let decoded: [UInt8]?
        if response == [UInt8(ascii: "=")] { decoded = [] } else { decoded = Base64.decode(response) }
        guard let decoded else {
            line("\(tag) BAD Invalid base64 data in AUTHENTICATE response.")
            return
        }
        // message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 §2)
        let fields = decoded.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else {
            line("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.")
            return
        }
        let authz = String(decoding: fields[0], as: UTF8.self)
        let authc = String(decoding: fields[1], as: UTF8.self)
        let pass = String(decoding: fields[2], as: UTF8.self)
        guard authz.isEmpty || authz == authc else {
            line("\(tag) NO [AUTHORIZATIONFAILED] Not allowed to act as another user.")
            return
        }
        logIn(tag: tag, user: authc, password: pass)
    }

    private mutating func logIn(tag: String, user: String, password: String) {
        guard let canonical = backend.authenticate(user: user, password: password) else {
            line("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.")
            return
        }
        state = .authenticated(user: canonical)
        line("\(tag) OK [CAPABILITY \(capabilities)] Logged in")
    }

    // MARK: commands

    private mutating func command(_ bytes: [UInt8], now: IMAPDate) {
        if bytes.isEmpty {
            line("* BAD Empty command line.")
            countInvalid()
            return
        }
        let parsed: (tag: String, command: IMAPCommand)
        switch parser.parse(bytes) {
        case .failure(let error):
            line("\(error.tag ?? "*") BAD \(error.text)")
            countInvalid()
            return
        case .success(let p):
            parsed = p
        }
        let tag = parsed.tag, cmd = parsed.command
        guard allowed(cmd) else {
            line("\(tag) BAD Command \(cmd.name) is not valid in this state.")
            countInvalid()
            return
        }
        invalidCommands = 0
        if view != nil { sync(allowExpunge: !Self.forbidsExpunge(cmd)) }
        if case .closed = mode { return }
        execute(cmd, tag: tag, now: now)
    }

    /// RFC 3501 §7.4.1: no EXPUNGE responses while FETCH, STORE or SEARCH (by sequence number) run.
    private static func forbidsExpunge(_ cmd: IMAPCommand) -> Bool {
        switch cmd {
        case .fetch(_, _, let uid), .store(_, _, _, _, let uid), .search(_, _, let uid): return !uid
        default: return false
        }
    }

    private func allowed(_ cmd: IMAPCommand) -> Bool {
        switch cmd {
        case .capability, .noop, .logout:
            return true
        case .startTLS, .authenticate, .login:
            if case .notAuthenticated = state { return true }
            return false
        case .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub, .status,
             .append, .namespace, .idle:
            switch state {
            case .authenticated, .selected: return true
            case .notAuthenticated, .logout: return false
            }
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move:
            if case .selected = state { return true }
            return false
        }
    }

    private mutating func execute(_ cmd: IMAPCommand, tag: String, now: IMAPDate) {
        let user = self.user ?? ""
        switch cmd {
        case .capability:
            line("* CAPABILITY \(capabilities)")
            line("\(tag) OK CAPABILITY completed")
        case .noop:
            line("\(tag) OK NOOP completed")
        case .check:
            line("\(tag) OK CHECK completed")
        case .logout:
            line("* BYE IMAP4rev1 Server logging out")
            line("\(tag) OK LOGOUT completed")
            close()
        case .startTLS:
            guard configuration.tlsAvailable, !tlsActive else {
                line("\(tag) BAD TLS is already active or not available.")
                return
            }
            line("\(tag) OK Begin TLS negotiation")
            framer.discardBuffered()
            mode = .awaitingTLS
            actions.append(.startTLS)
        case .login(let u, let p):
            guard loginAllowed else {
                line("\(tag) NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
                return
            }
            logIn(tag: tag, user: u, password: p)
        case .authenticate(let mech, let initial):
            guard mech == "PLAIN" || mech == "LOGIN" else {
                line("\(tag) NO Unsupported authentication mechanism.")
                return
            }
            guard loginAllowed else {
                line("\(tag) NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
                return
            }
            if mech == "LOGIN" {
                if let initial {
                    mode = .authenticateLogin(tag: tag, user: nil)
                    authenticateLoginFrame(.complete(initial), tag: tag, user: nil)
                } else {
                    line("+ VXNlcm5hbWU6")
                    mode = .authenticateLogin(tag: tag, user: nil)
                    framer.literalsEnabled = false
                }
            } else if let initial {
                finishPlain(tag: tag, response: initial)
            } else {
                line("+ ")
                mode = .authenticate(tag: tag)
                framer.literalsEnabled = false
            }
        case .select(let name), .examine(let name):
            var readOnly = false
            if case .examine = cmd { readOnly = true }
            select(name, readOnly: readOnly, tag: tag, commandName: cmd.name)
        case .create(let name):
            perform(tag, cmd.name, name) { try $0.createMailbox(user: user, name: name) }
        case .delete(let name):
            perform(tag, cmd.name, name) { try $0.deleteMailbox(user: user, name: name) }
        case .rename(let from, let to):
            perform(tag, cmd.name, from) { try $0.renameMailbox(user: user, from: from, to: to) }
        case .subscribe(let name):
            perform(tag, cmd.name, name) { try $0.setSubscribed(user: user, name: name, subscribed: true) }
        case .unsubscribe(let name):
            perform(tag, cmd.name, name) { try $0.setSubscribed(user: user, name: name, subscribed: false) }
        case .list(let reference, let pattern):
            list(reference: reference, pattern: pattern, subscribedOnly: false, tag: tag, user: user)
        case .lsub(let reference, let pattern):
            list(reference: reference, pattern: pattern, subscribedOnly: true, tag: tag, user: user)
        case .namespace:
            let ns = backend.namespaces(user: user)
            func enc(_ list: [(prefix: String, separator: Character)]) -> String {
                if list.isEmpty { return "NIL" }
                return "(" + list.map { "(" + text(IMAPWire.string(IMAPModifiedUTF7.encode($0.prefix))) + " \"\($0.separator)\")" }.joined() + ")"
            }
            line("* NAMESPACE \(enc(ns.personal)) \(enc(ns.otherUsers)) \(enc(ns.shared))")
            line("\(tag) OK NAMESPACE completed")
        case .status(let name, let items):
            do {
                let s = try backend.status(user: user, mailbox: name)
                let values = items.map { item -> String in
                    switch item {
                    case .messages: return "MESSAGES \(s.messages)"
                    case .recent: return "RECENT \(s.recent)"
                    case .uidNext: return "UIDNEXT \(s.uidNext)"
                    case .uidValidity: return "UIDVALIDITY \(s.uidValidity)"
                    case .unseen: return "UNSEEN \(s.unseen)"
                    }
                }
                line("* STATUS \(text(IMAPWire.mailbox(name))) (\(values.joined(separator: " ")))")
                line("\(tag) OK STATUS completed")
            } catch {
                no(tag, error, name: name)
            }
        case .append(let name, let flags, let date, let message):
            do {
                let r = try backend.append(user: user, mailbox: name, message: message, flags: Set(flags),
                                           internalDate: date ?? now)
                if view != nil { sync(allowExpunge: true) }
                line("\(tag) OK [APPENDUID \(r.uidValidity) \(r.uid)] APPEND completed")
            } catch {
                no(tag, error, name: name, tryCreate: true)
            }
        case .idle:
            line("+ idling")
            mode = .idle(tag: tag)
            framer.literalsEnabled = false
        case .close, .unselect:
            if case .close = cmd, let v = view, !v.readOnly {
                _ = try? backend.expunge(user: user, mailbox: v.name, uids: nil)
            }
            view = nil
            state = .authenticated(user: user)
            line("\(tag) OK \(cmd.name) completed")
        case .expunge:
            expunge(tag: tag, user: user, uids: nil, name: cmd.name)
        case .uidExpunge(let set):
            guard let v = view else { return }
            let largest = v.uids.last ?? 0
            expunge(tag: tag, user: user, uids: Set(v.uids.filter { set.contains($0, largest: largest) }), name: cmd.name)
        case .search(let key, _, let uid):
            search(key, uid: uid, tag: tag, user: user)
        case .fetch(let set, let attrs, let uid):
            fetch(set, attrs, uid: uid, tag: tag, user: user)
        case .store(let set, let op, let silent, let flags, let uid):
            store(set, op, silent: silent, flags: flags, uid: uid, tag: tag, user: user)
        case .copy(let set, let target, let uid), .move(let set, let target, let uid):
            var isMove = false
            if case .move = cmd { isMove = true }
            copy(set, to: target, uid: uid, move: isMove, tag: tag, user: user, name: cmd.name)
        }
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private mutating func perform(_ tag: String, _ name: String, _ mailbox: String, _ body: (IMAPBackend) throws -> Void) {
        do {
            try body(backend)
            line("\(tag) OK \(name) completed")
        } catch {
            no(tag, error, name: mailbox)
        }
    }

    private mutating func no(_ tag: String, _ error: Error, name: String, tryCreate: Bool = false) {
        let shown = IMAPWire.sanitized(Array(IMAPModifiedUTF7.encode(name).utf8))
        let known = (error as? IMAPBackendError) ?? (error as? IMAPBackendErrorConvertible)?.imapBackendError
        switch known {
        case .nonexistent?:
            line("\(tag) NO [\(tryCreate ? "TRYCREATE" : "NONEXISTENT")] Mailbox doesn't exist: \(shown)")
        case .alreadyExists?:
            line("\(tag) NO [ALREADYEXISTS] Mailbox already exists: \(shown)")
        case .noPermission?:
            line("\(tag) NO [NOPERM] Permission denied: \(shown)")
        case .overQuota?:
            line("\(tag) NO [OVERQUOTA] Quota exceeded (mailbox for user is full)")
        case .cannot(let reason)?:
            line("\(tag) NO [CANNOT] \(reason)")
        case nil:
            line("\(tag) NO [SERVERBUG] Internal error.")
        }
    }

    // MARK: mailbox listing

    private mutating func list(reference: String, pattern: String, subscribedOnly: Bool, tag: String, user: String) {
        let word = subscribedOnly ? "LSUB" : "LIST"
        let sep = backend.hierarchySeparator
        if pattern.isEmpty && !subscribedOnly {
            line("* LIST (\\Noselect) \"\(sep)\" \"\"")
            line("\(tag) OK LIST completed")
            return
        }
        let full = reference + pattern
        for box in backend.mailboxes(user: user) where !subscribedOnly || box.subscribed {
            guard IMAPServer.matches(name: box.name, pattern: full, separator: sep) else { continue }
            let attrs = subscribedOnly ? box.attributes.filter { $0 == "\\Noselect" } : box.attributes
            line("* \(word) (\(attrs.joined(separator: " "))) \"\(sep)\" \(text(IMAPWire.mailbox(box.name)))")
        }
        line("\(tag) OK \(word) completed")
    }

    /// LIST wildcard matching: `*` matches anything, `%` anything but the separator (RFC 3501 §6.3.8).
    /// INBOX matches case-insensitively.
    public static func matches(name: String, pattern: String, separator: Character) -> Bool {
        var n = Array(name), p = Array(pattern)
        if name == "INBOX" || name.uppercased().hasPrefix("INBOX" + String(separator)) {
            let prefixCount = min(5, p.count)
            if String(p[0..<prefixCount]).uppercased() == String("INBOX".prefix(prefixCount)) {
                p = Array("INBOX".prefix(prefixCount)) + p[prefixCount...]
            }
            n = Array("INBOX") + n[5...]
        }
        var memo = [Int: Bool]()
        func go(_ i: Int, _ j: Int) -> Bool {
            let key = i * (p.count + 1) + j
            if let m = memo[key] { return m }
            var r: Bool
            if j == p.count { r = i == n.count }
            else if p[j] == "*" { r = go(i, j + 1) || (i < n.count && go(i + 1, j)) }
            else if p[j] == "%" { r = go(i, j + 1) || (i < n.count && n[i] != separator && go(i + 1, j)) }
            else { r = i < n.count && n[i] == p[j] && go(i + 1, j + 1) }
            memo[key] = r
            return r
        }
        return go(0, 0)
    }

    // MARK: SELECT and change tracking

    private mutating func select(_ name: String, readOnly: Bool, tag: String, commandName: String) {
        let user = self.user ?? ""
        view = nil
        state = .authenticated(user: user)
        let snap: IMAPMailboxSnapshot
        do {
            snap = try backend.snapshot(user: user, mailbox: name, claimRecent: !readOnly)
        } catch {
            no(tag, error, name: name)
            return
        }
        var flags = [UInt32: Set<IMAPFlag>]()
        for m in snap.messages { flags[m.uid] = m.flags }
        let v = View(name: name, readOnly: readOnly, uidValidity: snap.uidValidity, uids: snap.messages.map(\.uid),
                     flags: flags, recent: snap.recent, highestUID: max(snap.messages.last?.uid ?? 0, snap.uidNext &- 1),
                     changeCounter: snap.changeCounter, reportedRecent: snap.recent.count, expungePending: false,
                     keywords: snap.keywords)
        let keywords = snap.keywords.sorted().map(\.rawValue)
        let listed = (IMAPFlag.permanentSystemFlags.map(\.rawValue) + keywords).joined(separator: " ")
        line("* FLAGS (\(listed))")
        if readOnly {
            line("* OK [PERMANENTFLAGS ()] Read-only mailbox.")
        } else {
            line("* OK [PERMANENTFLAGS (\(listed) \\*)] Flags permitted.")
        }
        line("* \(v.uids.count) EXISTS")
        line("* \(v.recent.count) RECENT")
        if let first = snap.messages.firstIndex(where: { !$0.flags.contains(.seen) }) {
            line("* OK [UNSEEN \(first + 1)] First unseen message")
        }
        line("* OK [UIDVALIDITY \(snap.uidValidity)] UIDs valid")
        line("* OK [UIDNEXT \(snap.uidNext)] Predicted next UID")
        view = v
        state = .selected(user: user, mailbox: name, readOnly: readOnly)
        line("\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] \(commandName) completed")
    }

    /// Brings the session's view up to date with the store and writes the untagged news:
    /// `EXPUNGE` (highest sequence number first), `FETCH (FLAGS …)`, `EXISTS`, `RECENT`.
    private mutating func sync(allowExpunge: Bool) {
        guard var v = view, let user else { return }
        if let counter = backend.changeCounter(user: user, mailbox: v.name), counter == v.changeCounter,
           !(allowExpunge && v.expungePending) {
            return
        }
        guard let snap = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: !v.readOnly),
              snap.uidValidity == v.uidValidity else {
            line("* BYE Selected mailbox was deleted or renamed, have to disconnect.")
            close()
            return
        }
        var current = [UInt32: IMAPMessageSummary]()
        for m in snap.messages { current[m.uid] = m }
        if allowExpunge {
            for index in v.uids.indices.reversed() where current[v.uids[index]] == nil {
                let uid = v.uids.remove(at: index)
                v.flags[uid] = nil
                v.recent.remove(uid)
                line("* \(index + 1) EXPUNGE")
            }
            v.expungePending = false
        } else if v.uids.contains(where: { current[$0] == nil }) {
            v.expungePending = true
        }
        for (index, uid) in v.uids.enumerated() {
            guard let m = current[uid], m.flags != v.flags[uid] else { continue }
            v.flags[uid] = m.flags
            line("* \(index + 1) FETCH (FLAGS \(flagText(m.flags, recent: v.recent.contains(uid))))")
        }
        var added = false
        for m in snap.messages where m.uid > v.highestUID {
            v.uids.append(m.uid)
            v.flags[m.uid] = m.flags
            v.highestUID = m.uid
            added = true
        }
        v.recent.formUnion(snap.recent)
        v.recent.formIntersection(v.uids)
        if !added { v.reportedRecent = v.recent.count }
        if added { line("* \(v.uids.count) EXISTS") }
        // RECENT accompanies new messages (RFC 3501 §7.3.2); after EXPUNGE the client recounts.
        if added {
            line("* \(v.recent.count) RECENT")
            v.reportedRecent = v.recent.count
        }
        if snap.keywords != v.keywords {
            v.keywords = snap.keywords
            let listed = (IMAPFlag.permanentSystemFlags.map(\.rawValue) + snap.keywords.sorted().map(\.rawValue)).joined(separator: " ")
            line("* FLAGS (\(listed))")
        }
        v.changeCounter = snap.changeCounter
        view = v
    }

    private func flagText(_ flags: Set<IMAPFlag>, recent: Bool) -> String {
        var all = flags
        if recent { all.insert(.recent) }
        return IMAPFlag.encodeList(all)
    }

    /// Resolves a set to (sequence number, UID) pairs; nil when a sequence set is out of range.
    private func resolve(_ set: IMAPSequenceSet, uid: Bool) -> [(Int, UInt32)]? {
        guard let v = view else { return [] }
        if uid {
            let largest = v.uids.last ?? 0
            return v.uids.enumerated().filter { set.contains($0.element, largest: largest) }.map { ($0.offset + 1, $0.element) }
        }
        let count = UInt32(v.uids.count)
        for r in set.ranges {
            for b in [r.first, r.last] {
                switch b {
                case .star: if count == 0 { return nil }
                case .number(let n): if n > count { return nil }
                }
            }
        }
        return v.uids.enumerated().filter { set.contains(UInt32($0.offset + 1), largest: count) }.map { ($0.offset + 1, $0.element) }
    }

    // MARK: EXPUNGE, STORE, COPY/MOVE

    private mutating func expunge(tag: String, user: String, uids: Set<UInt32>?, name: String) {
        guard let v = view else { return }
        guard !v.readOnly else {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            _ = try backend.expunge(user: user, mailbox: v.name, uids: uids)
            sync(allowExpunge: true)
            line("\(tag) OK \(name) completed")
        } catch {
            no(tag, error, name: v.name)
        }
    }

    private mutating func store(_ set: IMAPSequenceSet, _ op: IMAPStoreOperation, silent: Bool, flags: [IMAPFlag],
                                uid: Bool, tag: String, user: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard var v = view else { return }
        guard !v.readOnly else {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            let updated = try backend.storeFlags(user: user, mailbox: v.name, uids: targets.map(\.1), operation: op,
                                                 flags: Set(flags))
            for (seq, u) in targets {
                guard let f = updated[u] else { continue }
                v.flags[u] = f
                if !silent {
                    let uidPart = uid ? "UID \(u) " : ""
                    line("* \(seq) FETCH (\(uidPart)FLAGS \(flagText(f, recent: v.recent.contains(u))))")
                }
            }
            for f in flags where !f.isSystem { v.keywords.insert(f) }
            view = v
            if let snap = backend.changeCounter(user: user, mailbox: v.name) { view?.changeCounter = snap }
            line("\(tag) OK \(uid ? "UID STORE" : "STORE") completed")
        } catch {
            no(tag, error, name: v.name)
        }
    }

    private mutating func copy(_ set: IMAPSequenceSet, to target: String, uid: Bool, move: Bool, tag: String,
                               user: String, name: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard let v = view else { return }
        if move && v.readOnly {
            line("\(tag) NO [READ-ONLY] Mailbox is read-only.")
            return
        }
        do {
            let uids = targets.map(\.1)
            let result = move ? try backend.move(user: user, from: v.name, uids: uids, to: target)
                : try backend.copy(user: user, from: v.name, uids: uids, to: target)
            var code = ""
            if !result.mapping.isEmpty {
                let src = IMAPSequenceSet(numbers: result.mapping.map(\.0)), dst = IMAPSequenceSet(numbers: result.mapping.map(\.1))
                // Keep the pairing order: list explicit UIDs when compression would reorder them.
                let srcText = result.mapping.count == 1 ? "\(result.mapping[0].0)" : src.description
                let dstText = result.mapping.count == 1 ? "\(result.mapping[0].1)" : dst.description
                code = "[COPYUID \(result.uidValidity) \(srcText) \(dstText)] "
            }
            if move {
                if !code.isEmpty { line("* OK \(code)Moved UIDs.") }
                sync(allowExpunge: true)
                line("\(tag) OK \(name) completed")
            } else {
                sync(allowExpunge: true)
                line("\(tag) OK \(code)\(name) completed")
            }
        } catch {
            no(tag, error, name: target, tryCreate: true)
        }
    }

    // MARK: FETCH

    private mutating func fetch(_ set: IMAPSequenceSet, _ attrs: [IMAPFetchAttribute], uid: Bool, tag: String, user: String) {
        guard let targets = resolve(set, uid: uid) else {
            line("\(tag) BAD Invalid messageset")
            return
        }
        guard var v = view else { return }
        var items = attrs
        if uid && !items.contains(.uid) { items.insert(.uid, at: 0) }
        let setsSeen = !v.readOnly && items.contains { a in
            switch a {
            case .rfc822, .rfc822Text: return true
            case .section(_, _, let peek): return !peek
            default: return false
            }
        }
        let needsBytes = items.contains { a in
            switch a {
            case .rfc822, .rfc822Text, .rfc822Header, .section: return true
            default: return false
            }
        }
        let needsStructure = items.contains { a in
            switch a {
            case .envelope, .bodyStructure, .section: return true
            default: return false
            }
        }
        let snapshot = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: false)
        var summaries = [UInt32: IMAPMessageSummary]()
        for m in snapshot?.messages ?? [] { summaries[m.uid] = m }
        for (seq, u) in targets {
            guard let summary = summaries[u] else { continue }
            var flags = summary.flags
            var addFlags = false
            if setsSeen && !flags.contains(.seen) {
                if let updated = try? backend.storeFlags(user: user, mailbox: v.name, uids: [u], operation: .add, flags: [.seen]),
                   let f = updated[u] {
                    flags = f
                    addFlags = !items.contains(.flags)
                }
            }
            v.flags[u] = flags
            let raw = needsBytes ? backend.messageBytes(user: user, mailbox: v.name, uid: u) ?? [] : []
            let structure = needsStructure ? backend.messageStructure(user: user, mailbox: v.name, uid: u) : nil
            var out: [UInt8] = Array("* \(seq) FETCH (".utf8)
            var first = true
            func add(_ bytes: [UInt8]) {
                if !first { out.append(0x20) }
                first = false
                out += bytes
            }
            for item in items + (addFlags ? [.flags] : []) {
                switch item {
                case .uid: add(Array("UID \(u)".utf8))
                case .flags: add(Array("FLAGS \(flagText(flags, recent: v.recent.contains(u)))".utf8))
                case .internalDate: add(Array("INTERNALDATE \"\(summary.internalDate.imapDateTime)\"".utf8))
                case .rfc822Size: add(Array("RFC822.SIZE \(summary.size)".utf8))
                case .envelope:
                    add(Array("ENVELOPE ".utf8) + (structure?.envelope.encoded ?? IMAPEnvelope().encoded))
                case .bodyStructure(let ext):
                    let body = structure?.body ?? .single(IMAPSinglePart(type: "TEXT", subtype: "PLAIN", size: summary.size, lines: 0))
                    add(Array((ext ? "BODYSTRUCTURE " : "BODY ").utf8) + body.encoded(extensible: ext))
                case .rfc822: add(Array("RFC822 ".utf8) + IMAPWire.literal(raw))
                case .rfc822Header:
                    let layout = structure?.layout
                    let header = layout.map { Array(raw[clamp($0.header, raw.count)]) } ?? raw
                    add(Array("RFC822.HEADER ".utf8) + IMAPWire.literal(header))
                case .rfc822Text:
                    let layout = structure?.layout
                    let body = layout.map { Array(raw[clamp($0.body, raw.count)]) } ?? []
                    add(Array("RFC822.TEXT ".utf8) + IMAPWire.literal(body))
                case .section(let section, let partial, _):
                    var data: [UInt8]? = nil
                    if let layout = structure?.layout { data = IMAPMessageText.section(section, raw: raw, layout: layout) }
                    var label = "BODY[\(section)]"
                    if var bytes = data {
                        if let partial {
                            label += "<\(partial.origin)>"
                            let lo = min(partial.origin, bytes.count), hi = min(bytes.count, lo + partial.count)
                            bytes = Array(bytes[lo..<hi])
                        }
                        add(Array("\(label) ".utf8) + IMAPWire.literal(bytes))
                    } else {
                        if let partial { label += "<\(partial.origin)>" }
                        add(Array("\(label) NIL".utf8))
                    }
                }
            }
            out += Array(")\r\n".utf8)
            output += out
        }
        if let counter = backend.changeCounter(user: user, mailbox: v.name), setsSeen {
            v.changeCounter = counter
        }
        view = v
        line("\(tag) OK \(uid ? "UID FETCH" : "FETCH") completed")
    }

    private func clamp(_ r: Range<Int>, _ count: Int) -> Range<Int> {
        let lo = min(max(0, r.lowerBound), count), hi = min(max(lo, r.upperBound), count)
        return lo..<hi
    }

    // MARK: SEARCH

    private struct SearchContext {
        let seq: Int
        let uid: UInt32
        let summary: IMAPMessageSummary
        let recent: Bool
        let largestSeq: UInt32
        let largestUID: UInt32
        var raw: [UInt8]?
        var layout: IMAPPartLayout?
    }

    private mutating func search(_ key: IMAPSearchKey, uid: Bool, tag: String, user: String) {
        guard let v = view else { return }
        guard let snap = try? backend.snapshot(user: user, mailbox: v.name, claimRecent: false) else {
            line("\(tag) NO Mailbox is gone.")
            return
        }
        var summaries = [UInt32: IMAPMessageSummary]()
        for m in snap.messages { summaries[m.uid] = m }
        var hits = [String]()
        for (index, u) in v.uids.enumerated() {
            guard let s = summaries[u] else { continue }
            var ctx = SearchContext(seq: index + 1, uid: u, summary: s, recent: v.recent.contains(u),
                                    largestSeq: UInt32(v.uids.count), largestUID: v.uids.last ?? 0)
            if matches(key, &ctx, user: user, mailbox: v.name) { hits.append(String(uid ? u : UInt32(index + 1))) }
        }
        line("* SEARCH" + hits.map { " " + $0 }.joined())
        line("\(tag) OK \(uid ? "UID SEARCH" : "SEARCH") completed")
    }

    private func load(_ ctx: inout SearchContext, user: String, mailbox: String) {
        if ctx.raw == nil {
            ctx.raw = backend.messageBytes(user: user, mailbox: mailbox, uid: ctx.uid) ?? []
            ctx.layout = backend.messageStructure(user: user, mailbox: mailbox, uid: ctx.uid)?.layout
        }
    }

    private func header(_ ctx: inout SearchContext, user: String, mailbox: String) -> ArraySlice<UInt8> {
        load(&ctx, user: user, mailbox: mailbox)
        let raw = ctx.raw ?? []
        guard let layout = ctx.layout else { return raw[...] }
        return raw[clamp(layout.header, raw.count)]
    }

    private func body(_ ctx: inout SearchContext, user: String, mailbox: String) -> ArraySlice<UInt8> {
        load(&ctx, user: user, mailbox: mailbox)
        let raw = ctx.raw ?? []
        guard let layout = ctx.layout else { return raw[0..<0] }
        return raw[clamp(layout.body, raw.count)]
    }

    private func headerContains(_ ctx: inout SearchContext, _ field: String, _ needle: String, user: String, mailbox: String) -> Bool {
        let values = IMAPMessageText.values(header(&ctx, user: user, mailbox: mailbox), named: field)
        if needle.isEmpty { return !values.isEmpty }
        return values.contains { IMAPMessageText.contains(Array($0.utf8), Array(needle.utf8)) }
    }

    private func sentDay(_ ctx: inout SearchContext, user: String, mailbox: String) -> Int64? {
        IMAPMessageText.values(header(&ctx, user: user, mailbox: mailbox), named: "Date").first.flatMap(IMAPDate.rfc5322Day)
    }

    private func matches(_ key: IMAPSearchKey, _ ctx: inout SearchContext, user: String, mailbox: String) -> Bool {
        let f = ctx.summary.flags
        switch key {
        case .all: return true
        case .answered: return f.contains(.answered)
        case .deleted: return f.contains(.deleted)
        case .flagged: return f.contains(.flagged)
        case .seen: return f.contains(.seen)
        case .draft: return f.contains(.draft)
        case .unanswered: return !f.contains(.answered)
        case .undeleted: return !f.contains(.deleted)
        case .unflagged: return !f.contains(.flagged)
        case .unseen: return !f.contains(.seen)
        case .undraft: return !f.contains(.draft)
        case .recent: return ctx.recent
        case .new: return ctx.recent && !f.contains(.seen)
        case .old: return !ctx.recent
        case .keyword(let k): return f.contains { $0.rawValue.lowercased() == k.lowercased() }
        case .unkeyword(let k): return !f.contains { $0.rawValue.lowercased() == k.lowercased() }
        case .from(let s): return headerContains(&ctx, "From", s, user: user, mailbox: mailbox)
        case .to(let s): return headerContains(&ctx, "To", s, user: user, mailbox: mailbox)
        case .cc(let s): return headerContains(&ctx, "Cc", s, user: user, mailbox: mailbox)
        case .bcc(let s): return headerContains(&ctx, "Bcc", s, user: user, mailbox: mailbox)
        case .subject(let s): return headerContains(&ctx, "Subject", s, user: user, mailbox: mailbox)
        case .header(let field, let s): return headerContains(&ctx, field, s, user: user, mailbox: mailbox)
        case .body(let s): return IMAPMessageText.contains(body(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
        case .text(let s):
            return IMAPMessageText.contains(header(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
                || IMAPMessageText.contains(body(&ctx, user: user, mailbox: mailbox), Array(s.utf8))
        case .since(let d): return ctx.summary.internalDate.localDay >= d.daysSince1970
        case .before(let d): return ctx.summary.internalDate.localDay < d.daysSince1970
        case .on(let d): return ctx.summary.internalDate.localDay == d.daysSince1970
        case .sentSince(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 >= d.daysSince1970 } ?? false
        case .sentBefore(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 < d.daysSince1970 } ?? false
        case .sentOn(let d): return sentDay(&ctx, user: user, mailbox: mailbox).map { $0 == d.daysSince1970 } ?? false
        case .larger(let n): return ctx.summary.size > n
        case .smaller(let n): return ctx.summary.size < n
        case .uid(let set): return set.contains(ctx.uid, largest: ctx.largestUID)
        case .sequence(let set): return set.contains(UInt32(ctx.seq), largest: ctx.largestSeq)
        case .not(let k): return !matches(k, &ctx, user: user, mailbox: mailbox)
        case .or(let a, let b): return matches(a, &ctx, user: user, mailbox: mailbox) || matches(b, &ctx, user: user, mailbox: mailbox)
        case .and(let keys):
            for k in keys where !matches(k, &ctx, user: user, mailbox: mailbox) { return false }
            return true
        }
    }
}
