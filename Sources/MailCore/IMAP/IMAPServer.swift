/// Settings of one IMAP listener.
public struct IMAPServerConfiguration: Sendable {
    /// Text of the greeting after `* OK [CAPABILITY …]`.
    public var greeting: String
    /// Whether STARTTLS can be offered (a certificate is configured).
    public var tlsAvailable: Bool
    /// The connection is already TLS (port 993, implicit TLS).
    public var implicitTLS: Bool
    /// Refuse LOGIN and AUTHENTICATE until TLS is active (`LOGINDISABLED`, `NO [PRIVACYREQUIRED]`):
    /// Dovecot's `disable_plaintext_auth = yes`, its default, and so the default here.
    public var requireTLSForAuthentication: Bool
    /// Line, literal and command limits once logged in (`maxLine` mirrors Dovecot's
    /// `imap_max_line_length = 64k`, so a full RFC 2971 ID line fits).
    public var limits: IMAPFramer.Limits
    /// Largest literal accepted before authentication: a login needs no more. A bigger `{N}` gets
    /// `NO [TOOBIG]` without `+`, a bigger `{N+}` `BAD` (Dovecot's pre-login input limit).
    public var preLoginMaxLiteral: Int
    public var maxSearchDepth: Int
    /// Inactivity before `* BYE` (RFC 3501 §5.4: at least 30 minutes).
    public var autologoutSeconds: Int64
    /// Invalid commands in a row before `* BYE Too many invalid IMAP commands.`
    public var maxInvalidCommands: Int
    /// Failed LOGIN/AUTHENTICATE attempts answered at once; later failures wait
    /// ``authFailureDelaySeconds`` (engine time) before their `NO` (Dovecot's `auth_failure_delay`).
    public var authFailuresBeforeDelay: Int
    public var authFailureDelaySeconds: Int64
    /// Failed attempts after which the server says `* BYE` and closes.
    public var maxAuthFailures: Int
    /// The calendar date of engine time zero (the engines count time as a `Duration` since an
    /// origin, see `ProtocolEngine`): APPEND without a date gets origin + now as INTERNALDATE.
    public var origin: IMAPDate

    public init(greeting: String = "Dovecot ready.", tlsAvailable: Bool = true, implicitTLS: Bool = false,
                requireTLSForAuthentication: Bool = true, limits: IMAPFramer.Limits = .init(maxLine: 65536),
                preLoginMaxLiteral: Int = 8192,
                maxSearchDepth: Int = 16, autologoutSeconds: Int64 = 1800, maxInvalidCommands: Int = 20,
                authFailuresBeforeDelay: Int = 2, authFailureDelaySeconds: Int64 = 2, maxAuthFailures: Int = 3,
                origin: IMAPDate = IMAPDate(secondsSince1970: 0)) {
        self.origin = origin
        self.greeting = greeting; self.tlsAvailable = tlsAvailable; self.implicitTLS = implicitTLS
        self.requireTLSForAuthentication = requireTLSForAuthentication; self.limits = limits
        self.preLoginMaxLiteral = preLoginMaxLiteral
        self.maxSearchDepth = maxSearchDepth; self.autologoutSeconds = autologoutSeconds
        self.maxInvalidCommands = maxInvalidCommands
        self.authFailuresBeforeDelay = authFailuresBeforeDelay; self.authFailureDelaySeconds = authFailureDelaySeconds
        self.maxAuthFailures = maxAuthFailures
    }
}

/// What the host must do for the server engine: the engines' shared ``EngineAction`` (a server
/// has no events). After `.startTLS` (sent after the `OK`), call ``IMAPServer/tlsEstablished(now:)``.
public typealias IMAPServerAction = EngineAction<Never>

/// The server side of an IMAP4rev1 session (RFC 3501) with IDLE, UIDPLUS, LITERAL+, NAMESPACE,
/// MOVE, UNSELECT, ID, ENABLE, SPECIAL-USE, ESEARCH, SORT, SASL-IR and AUTHENTICATE PLAIN/LOGIN.
/// Sans-IO: bytes and the current time in, actions out.
///
/// Untagged news about the selected mailbox (EXPUNGE, FETCH FLAGS, EXISTS, RECENT) goes out after
/// a command's own untagged responses and just before its tagged reply, as Dovecot does; during
/// IDLE at once. The code is split by concern: `+Auth`, `+Mailboxes` (LIST, SELECT, the view's
/// sync), `+Messages` (EXPUNGE, STORE, COPY/MOVE, FETCH), `+Search` (SEARCH, ESEARCH, SORT).
///
/// ```
/// S: * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ … STARTTLS AUTH=PLAIN AUTH=LOGIN] Dovecot ready.
/// C: a001 LOGIN bob secret123
/// S: a001 OK [CAPABILITY IMAP4rev1 …] Logged in
/// ```
public struct IMAPServer: FactReporting, ReplyReporting {

    /// RFC 3501 §3 connection states. The selected mailbox's view (its name, read-only or not,
    /// the sequence numbers and flags last reported) lives only in `.selected`: no view can be
    /// left over in another state, and no mailbox is selected without one.
    enum State {
        case notAuthenticated
        case authenticated(user: String)
        case selected(user: String, view: View)
        case logout
    }

    enum Mode: Hashable {
        case commands
        case idle(tag: String)
        case authenticate(tag: String)
        /// AUTHENTICATE LOGIN: waiting for the user name (nil) or the password.
        case authenticateLogin(tag: String, user: String?)
        case awaitingTLS
        /// A failed login waits for ``IMAPServerConfiguration/authFailureDelaySeconds``: input is
        /// held (bounded) and the `NO` (and `BYE` at the limit) goes out when the timer fires.
        case authDelay(until: Duration, reply: String, disconnect: Bool)
        case closed
    }

    /// The session's own view of the selected mailbox (sequence numbers and flags last reported).
    struct View {
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

    var state: State = .notAuthenticated
    public let configuration: IMAPServerConfiguration
    /// Whether the connection is protected by TLS.
    public internal(set) var tlsActive: Bool
    let backend: IMAPBackend
    var framer: IMAPFramer
    let parser: IMAPCommandParser
    var mode = Mode.commands
    /// The view of the selected mailbox: the payload of `State.selected`, nil in the other
    /// states. Setting it changes the payload; leaving the selected state goes through `enter(_:)`.
    var view: View? {
        get {
            if case .selected(_, let view) = state { return view }
            return nil
        }
        set {
            guard case .selected(let user, _) = state, let newValue else {
                assertionFailure("IMAPServer: the view is set only in the selected state (enter(_:) leaves it)")
                return
            }
            state = .selected(user: user, view: newValue)
        }
    }
    var output: [UInt8] = []
    var actions: [IMAPServerAction] = []
    /// Engine time of the last input, in whole seconds (IMAP counts its timeouts in seconds).
    var lastActivity = Duration.zero
    var invalidCommands = 0
    var authFailures = 0
    /// What happened, for the tutor (see `ProtocolFact`); the host drains it with `takeFacts()`.
    public var facts: [ProtocolFact] = []
    /// The verb of the command being answered (for `refused` facts); empty when unparsable.
    var currentCommand = ""
    /// Where the last line written starts in `output` (to put news before a tagged reply).
    var lastLineStart = 0
    /// The ends of the replies and what the session waits for then (`ReplyReporting`).
    public var replies: [ServerReply] = []
    /// Octets handed to the driver in `.send` actions so far.
    var flushedOctets = 0
    /// Where the last reported reply ended (in octets written since the greeting).
    var lastReplyEnd = 0
    /// The reply line written last in this turn (tagged status, continuation, untagged greeting),
    /// reported when the turn ends (``endTurn(awaiting:)``).
    var pendingReply: ServerReply?

    public init(backend: IMAPBackend, configuration: IMAPServerConfiguration = .init()) {
        self.backend = backend
        self.configuration = configuration
        self.tlsActive = configuration.implicitTLS
        self.framer = IMAPFramer(limits: configuration.limits)
        self.parser = IMAPCommandParser(maxSearchDepth: configuration.maxSearchDepth)
        applyLimits()
    }

    /// The framer's limits for the current state: smaller literals before authentication.
    mutating func applyLimits() {
        var limits = configuration.limits
        if case .notAuthenticated = state {
            limits.maxLiteral = min(limits.maxLiteral, configuration.preLoginMaxLiteral)
            limits.maxCommand = min(limits.maxCommand, limits.maxLine + 2 * configuration.preLoginMaxLiteral)
        }
        framer.limits = limits
    }

    /// The user once authenticated.
    public var user: String? {
        switch state {
        case .authenticated(let u), .selected(let u, _): return u
        case .notAuthenticated, .logout: return nil
        }
    }

    /// Whether the session is in IDLE (the host calls ``mailboxChanged(now:)`` on store changes).
    public var isIdling: Bool { if case .idle = mode { return true } else { return false } }

    /// The mailbox selected, if any.
    public var selectedMailbox: String? { view?.name }

    /// When ``timerFired(now:)`` should be called next (autologout), or nil once closed.
    public var nextDeadline: Duration? {
        if case .closed = mode { return nil }
        if case .authDelay(let until, _, _) = mode { return until }
        return lastActivity + .seconds(configuration.autologoutSeconds)
    }

    /// `now` cut to whole seconds: the engine's timeouts, like its dates, count whole seconds.
    static func wholeSeconds(_ now: Duration) -> Duration { .seconds(now.components.seconds) }

    /// The calendar date of engine time `now` (``IMAPServerConfiguration/origin`` + `now`).
    func calendarDate(_ now: Duration) -> IMAPDate {
        IMAPDate(secondsSince1970: configuration.origin.secondsSince1970 + now.components.seconds,
                 utcOffsetMinutes: configuration.origin.utcOffsetMinutes)
    }

    // MARK: events

    /// The connection opened: send the greeting.
    public mutating func start(now: Duration) -> [IMAPServerAction] {
        lastActivity = Self.wholeSeconds(now)
        if configuration.implicitTLS { report(.tlsEstablished) }
        report(.greeting)
        line("* OK [CAPABILITY \(capabilities)] \(configuration.greeting)")
        return flush()
    }

    /// Bytes arrived from the client.
    public mutating func receive<C: Collection>(_ bytes: C, now: Duration) -> [IMAPServerAction] where C.Element == UInt8 {
        switch mode {
        case .closed, .awaitingTLS: return []
        case .authDelay:
            // Held until the delay ends; a client that floods meanwhile is cut off.
            framer.append(bytes)
            if framer.bufferedCount > configuration.limits.maxLine {
                line("* BYE Too much input while waiting.")
                close()
            }
            return flush()
        case .commands, .idle, .authenticate, .authenticateLogin: break
        }
        lastActivity = Self.wholeSeconds(now)
        if case .commands = mode, framer.bufferedCount == 0, let first = bytes.first, first == 0x16 || first >= 0x80 {
            // Not IMAP at all (a TLS ClientHello sent to 143): one BYE and the close, whatever
            // the bytes that follow, so the transcript never depends on the handshake's random bytes.
            currentCommand = ""
            line("* BYE This is not IMAP (a TLS handshake on a plaintext port?), closing the connection.")
            close()
            return flush()
        }
        framer.append(bytes)
        processFrames(now: now)
        return flush()
    }

    /// Handles every complete frame buffered, as the current mode wants.
    mutating func processFrames(now: Duration) {
        frames: while let frame = framer.next() {
            switch mode {
            case .closed, .awaitingTLS, .authDelay:
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
                    endTurn(awaiting: .literal)
                    continue frames
                case .lineTooLong(let prefix):
                    currentCommand = ""
                    line("\(tagOf(prefix)) BAD Command line too long.")
                    countInvalid()
                case .literalRefused(let prefix, let size, let sync):
                    currentCommand = ""
                    let tag = tagOf(prefix)
                    if sync {
                        line("\(tag) NO [TOOBIG] Literal of \(size) octets is too big (limit \(framer.limits.maxLiteral)).")
                    } else {
                        line("\(tag) BAD [TOOBIG] Literal of \(size) octets is too big or not allowed; its octets are discarded.")
                    }
                    countInvalid()
                case .complete(let bytes):
                    command(bytes, now: now)
                }
            }
            endTurn()
        }
    }

    /// The peer closed or the connection broke: the session ends here (reported as `closed`
    /// unless LOGOUT, autologout or an error already ended it).
    public mutating func connectionClosed() {
        if case .closed = mode { return }
        mode = .closed
        enter(.logout)
        report(.closed)
    }

    /// The TLS handshake requested by `.startTLS` completed.
    public mutating func tlsEstablished(now: Duration) -> [IMAPServerAction] {
        tlsActive = true
        lastActivity = Self.wholeSeconds(now)
        report(.tlsEstablished)
        framer.discardBuffered()
        if case .awaitingTLS = mode { mode = .commands }
        return flush()
    }

    /// A timer set for ``nextDeadline`` fired.
    public mutating func timerFired(now: Duration) -> [IMAPServerAction] {
        let now = Self.wholeSeconds(now)
        guard let deadline = nextDeadline, now >= deadline else { return [] }
        if case .authDelay(_, let reply, let disconnect) = mode {
            mode = .commands
            lastActivity = now
            line(reply)
            if !disconnect { endTurn() }
            if disconnect {
                line("* BYE Too many failed login attempts.")
                close()
            } else {
                processFrames(now: now)
            }
            return flush()
        }
        line("* BYE Disconnected for inactivity.")
        close()
        return flush()
    }

    /// The store changed a mailbox; during IDLE the session reports it at once (RFC 2177),
    /// otherwise the news waits for the next command.
    public mutating func mailboxChanged(now: Duration) -> [IMAPServerAction] {
        guard case .idle = mode else { return [] }
        let start = output.count
        sync(allowExpunge: true)
        pendingReply = nil
        if output.count > start {
            // News pushed during IDLE is no answer: reported as an update, named by its first words.
            let first = output[start...].prefix { $0 != 0x0D && $0 != 0x0A }
            let words = first.split(separator: 0x20, maxSplits: 2).prefix(2)
            let end = flushedOctets + output.count
            replies.append(ServerReply(status: .update, code: words.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " "),
                                       awaiting: .idleDone, end: end))
            lastReplyEnd = end
        }
        return flush()
    }

    // MARK: framing helpers

    mutating func line(_ text: String) {
        reportIfRefusal(text)
        lastLineStart = output.count
        output.append(contentsOf: text.utf8)
        output.append(contentsOf: [0x0D, 0x0A])
        guard let (status, code) = Self.replyStatus(of: text) else { return }
        let reply = ServerReply(status: status, code: code, awaiting: .command, end: flushedOctets + output.count)
        pendingReply = reply
        // The server is going away: a reply of its own, even before a tagged one (LOGOUT).
        if code == "* BYE" { endTurn(awaiting: .nothing) }
    }

    mutating func flush() -> [IMAPServerAction] {
        endTurn()
        var result = [IMAPServerAction]()
        if !output.isEmpty { flushedOctets += output.count; result.append(.send(output)); output.removeAll() }
        result += actions
        actions.removeAll()
        return result
    }

    mutating func close() {
        mode = .closed
        enter(.logout)
        report(.closed)
        if !output.isEmpty { flushedOctets += output.count; actions.insert(.send(output), at: 0); output.removeAll() }
        actions.append(.close)
    }

    func tagOf(_ prefix: [UInt8]) -> String {
        let tag = prefix.prefix { IMAPWire.isAStringChar($0) && $0 != UInt8(ascii: "+") }
        guard !tag.isEmpty, tag.count <= 64, tag.count < prefix.count, prefix[tag.count] == 0x20 else { return "*" }
        return String(decoding: tag, as: UTF8.self)
    }

    mutating func countInvalid() {
        invalidCommands += 1
        if invalidCommands >= configuration.maxInvalidCommands {
            line("* BYE Too many invalid IMAP commands.")
            close()
        }
    }

    /// Why a login before TLS is refused (MailLab's wording).
    static let privacyRequiredText = "Login refused: this connection is not encrypted. Use STARTTLS first, or port 993."

    var loginAllowed: Bool { tlsActive || !configuration.requireTLSForAuthentication }

    /// The CAPABILITY list for the current state.
    public var capabilities: String {
        var caps = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT",
                    "SPECIAL-USE", "ESEARCH", "SORT"]
        if case .notAuthenticated = state {
            if configuration.tlsAvailable && !tlsActive { caps.append("STARTTLS") }
            caps += loginAllowed ? ["AUTH=PLAIN", "AUTH=LOGIN"] : ["LOGINDISABLED"]
        }
        return caps.joined(separator: " ")
    }

    // MARK: commands

    mutating func command(_ bytes: [UInt8], now: Duration) {
        currentCommand = ""
        if bytes.isEmpty {
            line("* BAD Empty command line.")
            countInvalid()
            return
        }
        let parsed: (tag: String, command: IMAPCommand)
        switch parser.parse(bytes) {
        case .failure(let error) where error.answersNO && error.tag != nil:
            line("\(error.tag ?? "*") NO \(error.text)")
            return
        case .failure(let error):
            line("\(error.tag ?? "*") BAD \(error.text)")
            countInvalid()
            return
        case .success(let p):
            parsed = p
        }
        let tag = parsed.tag, cmd = parsed.command
        currentCommand = cmd.name
        guard allowed(cmd) else {
            line("\(tag) BAD Command \(cmd.name) is not valid in this state.")
            countInvalid()
            return
        }
        invalidCommands = 0
        let mark = output.count
        execute(cmd, tag: tag, now: now)
        announceChanges(after: cmd, tag: tag, mark: mark)
    }

    /// Writes what changed in the selected mailbox after the command's own untagged responses
    /// and before its tagged reply (Dovecot's order; fetchmail chokes on news written first).
    /// After `+ idling` the news follows the continuation: IDLE reports at once.
    mutating func announceChanges(after cmd: IMAPCommand, tag: String, mark: Int) {
        guard view != nil else { return }
        switch mode {
        case .closed, .awaitingTLS, .authenticate, .authenticateLogin, .authDelay: return
        case .idle: sync(allowExpunge: true); return
        case .commands: break
        }
        let prefix = Array((tag + " ").utf8)
        guard lastLineStart >= mark, output.count - lastLineStart >= prefix.count,
              Array(output[lastLineStart..<lastLineStart + prefix.count]) == prefix else {
            sync(allowExpunge: !Self.forbidsExpunge(cmd))
            return
        }
        // A BAD reply (the command was not carried out) brings no news, as in Dovecot.
        let bad = Array((tag + " BAD ").utf8)
        if output.count - lastLineStart >= bad.count, Array(output[lastLineStart..<lastLineStart + bad.count]) == bad { return }
        let tagged = Array(output[lastLineStart...])
        var reply = pendingReply
        pendingReply = nil
        output.removeSubrange(lastLineStart...)
        sync(allowExpunge: !Self.forbidsExpunge(cmd))
        if case .closed = mode { return }
        lastLineStart = output.count
        output += tagged
        reply?.end = flushedOctets + output.count
        pendingReply = reply
    }

    /// RFC 3501 §7.4.1: no EXPUNGE responses while FETCH, STORE or SEARCH (by sequence number) run.
    static func forbidsExpunge(_ cmd: IMAPCommand) -> Bool {
        switch cmd {
        case .fetch(_, _, let uid), .store(_, _, _, _, let uid), .search(_, _, let uid), .esearch(_, _, _, let uid),
             .sort(_, _, _, let uid):
            return !uid
        default: return false
        }
    }

    func allowed(_ cmd: IMAPCommand) -> Bool {
        switch cmd {
        case .capability, .noop, .logout, .id:
            return true
        case .startTLS, .authenticate, .login:
            if case .notAuthenticated = state { return true }
            return false
        case .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub, .status,
             .append, .namespace, .idle, .enable, .listExtended:
            switch state {
            case .authenticated, .selected: return true
            case .notAuthenticated, .logout: return false
            }
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .esearch, .sort:
            if case .selected = state { return true }
            return false
        }
    }

    mutating func execute(_ cmd: IMAPCommand, tag: String, now: Duration) {
        let user = self.user ?? ""
        switch cmd {
        case .capability:
            report(.capabilities)
            line("* CAPABILITY \(capabilities)")
            line("\(tag) OK CAPABILITY completed")
        case .noop:
            line("\(tag) OK NOOP completed")
        case .check:
            line("\(tag) OK CHECK completed")
        case .logout:
            if let v = view { report(.closedMailbox(mailbox: v.name, expunged: false, command: "LOGOUT")) }
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
                line("\(tag) NO [PRIVACYREQUIRED] \(Self.privacyRequiredText)")
                return
            }
            logIn(tag: tag, user: u, password: p, mechanism: "LOGIN-COMMAND")
        case .authenticate(let mech, let initial):
            guard mech == "PLAIN" || mech == "LOGIN" else {
                line("\(tag) NO Unsupported authentication mechanism.")
                return
            }
            guard loginAllowed else {
                line("\(tag) NO [PRIVACYREQUIRED] \(Self.privacyRequiredText)")
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
            perform(tag, cmd.name, name, .created(mailbox: name)) { try $0.createMailbox(user: user, name: name) }
        case .delete(let name):
            perform(tag, cmd.name, name, .deleted(mailbox: name)) { try $0.deleteMailbox(user: user, name: name) }
        case .rename(let from, let to):
            perform(tag, cmd.name, from, .renamed(from: from, to: to)) { try $0.renameMailbox(user: user, from: from, to: to) }
        case .subscribe(let name):
            perform(tag, cmd.name, name, .subscribed(mailbox: name)) { try $0.setSubscribed(user: user, name: name, subscribed: true) }
        case .unsubscribe(let name):
            perform(tag, cmd.name, name, .unsubscribed(mailbox: name)) {
                try $0.setSubscribed(user: user, name: name, subscribed: false)
            }
        case .list(let reference, let pattern):
            list(reference: reference, pattern: pattern, subscribedOnly: false, tag: tag, user: user)
        case .lsub(let reference, let pattern):
            list(reference: reference, pattern: pattern, subscribedOnly: true, tag: tag, user: user)
        case .listExtended(let options, let reference, let patterns):
            listExtended(options, reference: reference, patterns: patterns, tag: tag, user: user)
        case .id(let fields):
            // RFC 2971 §3.3: the client's fields are informational only; the server names itself.
            _ = fields
            line("* ID (\"name\" \"MailLab IMAP\" \"vendor\" \"MailLab\")")
            line("\(tag) OK ID completed")
        case .enable:
            // RFC 5161 §3.1: none of the capabilities MailLab offers needs enabling, so none is listed.
            line("* ENABLED")
            line("\(tag) OK ENABLE completed")
        case .esearch(let key, _, let returns, let uid):
            esearch(key, returns: returns, uid: uid, tag: tag, user: user)
        case .sort(let keys, _, let key, let uid):
            sort(keys, key, uid: uid, tag: tag, user: user)
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
                report(.status(mailbox: name, items: items.map(\.rawValue)))
                line("* STATUS \(text(IMAPWire.mailbox(name))) (\(values.joined(separator: " ")))")
                line("\(tag) OK STATUS completed")
            } catch {
                no(tag, error, name: name)
            }
        case .append(let name, let flags, let date, let message):
            do {
                let r = try backend.append(user: user, mailbox: name, message: message, flags: Set(flags),
                                           internalDate: date ?? calendarDate(now))
                report(.appended(mailbox: name, uid: r.uid))
                if view != nil { sync(allowExpunge: true) }
                line("\(tag) OK [APPENDUID \(r.uidValidity) \(r.uid)] APPEND completed")
            } catch {
                no(tag, error, name: name, tryCreate: true)
            }
        case .idle:
            line("+ idling")
            report(.idleStarted)
            mode = .idle(tag: tag)
            framer.literalsEnabled = false
        case .close, .unselect:
            var expunged = false
            if case .close = cmd, let v = view, !v.readOnly {
                // RFC 3501 §6.4.2: CLOSE expunges silently; the fact still lists what went.
                let removed = (try? backend.expunge(user: user, mailbox: v.name, uids: nil)) ?? []
                if !removed.isEmpty { report(.expunged(mailbox: v.name, uids: removed)) }
                expunged = !removed.isEmpty
            }
            if let v = view { report(.closedMailbox(mailbox: v.name, expunged: expunged, command: cmd.name)) }
            enter(.authenticated(user: user))
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

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    mutating func perform(_ tag: String, _ name: String, _ mailbox: String, _ fact: IMAPFact,
                          _ body: (IMAPBackend) throws -> Void) {
        do {
            try body(backend)
            report(fact)
            line("\(tag) OK \(name) completed")
        } catch {
            no(tag, error, name: mailbox)
        }
    }

    mutating func no(_ tag: String, _ error: Error, name: String, tryCreate: Bool = false) {
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

}
