/// The facts the IMAP server reports (see `ProtocolFact`): the engine appends them to `facts` as it
/// answers, the host drains them with `takeFacts()`; and the ends of its replies with what it
/// awaits then (see `ServerReply`), drained with `takeReplies()`.
extension IMAPServer {
    mutating func report(_ fact: IMAPFact) { facts.append(.imap(fact)) }

    mutating func report(_ fact: SessionFact) { facts.append(.session(fact)) }

    /// Changes the connection state, reporting it when its kind changes.
    mutating func enter(_ new: State) {
        let before = Self.stateName(state)
        state = new
        let after = Self.stateName(new)
        if after != before { report(.state(after)) }
    }

    static func stateName(_ state: State) -> IMAPStateName {
        switch state {
        case .notAuthenticated: return .notAuthenticated
        case .authenticated: return .authenticated
        case .selected: return .selected
        case .logout: return .logout
        }
    }

    // MARK: the ends of replies (`ReplyReporting`)

    /// The status of a line this engine writes when the line can end a reply: a tagged status,
    /// a continuation, an untagged `OK`/`PREAUTH`/`BYE`/`BAD`/`NO`; nil for untagged data.
    static func replyStatus(of text: String) -> (ServerReply.Status, String)? {
        let utf8 = text.utf8
        guard let first = utf8.first else { return nil }
        if first == UInt8(ascii: "+") { return (.continuation, "+") }
        guard let space = utf8.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let word = utf8[utf8.index(after: space)...].prefix { $0 != UInt8(ascii: " ") }
        let status: ServerReply.Status
        switch String(decoding: word, as: UTF8.self) {
        case "OK", "PREAUTH": status = .positive
        case "NO", "BAD", "BYE": status = .negative
        default: return nil
        }
        let tagged = !(first == UInt8(ascii: "*") && utf8.index(after: utf8.startIndex) == space)
        let name = String(decoding: word, as: UTF8.self)
        return (status, tagged ? name : "* " + name)
    }

    /// What the session waits for in its current mode.
    var awaiting: ServerAwaits {
        switch mode {
        case .commands, .authDelay: return .command
        case .idle: return .idleDone
        case .authenticate, .authenticateLogin: return .saslResponse
        case .awaitingTLS: return .tlsHandshake
        case .closed: return .nothing
        }
    }

    /// One input is answered: the reply line written last (if any since the last report) is
    /// reported with what the session waits for now, or `awaiting` when given.
    mutating func endTurn(awaiting given: ServerAwaits? = nil) {
        guard var reply = pendingReply else { return }
        pendingReply = nil
        guard reply.end > lastReplyEnd else { return }
        reply.awaiting = given ?? awaiting
        lastReplyEnd = reply.end
        replies.append(reply)
    }

    // MARK: facts

    /// A line about to be written: tagged or untagged `NO`/`BAD` become `refused` facts.
    mutating func reportIfRefusal(_ text: String) {
        guard let space = text.firstIndex(of: " "), text.first != "+" else { return }
        let rest = text[text.index(after: space)...]
        let status: String
        if rest.hasPrefix("NO ") || rest == "NO" { status = "NO" } else if rest.hasPrefix("BAD ") || rest == "BAD" { status = "BAD" } else { return }
        var code: String?
        let afterStatus = rest.dropFirst(status.count).drop { $0 == " " }
        if afterStatus.first == "[", let close = afterStatus.firstIndex(of: "]") {
            let inside = afterStatus[afterStatus.index(after: afterStatus.startIndex)..<close]
            code = String(inside.prefix { $0 != " " })
        }
        report(.refused(command: currentCommand, status: status, code: code))
    }

    /// SEARCH criteria as the facts list them: `KEY` or `KEY argument`, nested keys in order,
    /// `NOT` and `OR` as entries of their own, a parenthesised group flattened.
    static func criteria(_ key: IMAPSearchKey) -> [String] {
        switch key {
        case .all: return ["ALL"]
        case .answered: return ["ANSWERED"]
        case .deleted: return ["DELETED"]
        case .flagged: return ["FLAGGED"]
        case .new: return ["NEW"]
        case .old: return ["OLD"]
        case .recent: return ["RECENT"]
        case .seen: return ["SEEN"]
        case .unseen: return ["UNSEEN"]
        case .unanswered: return ["UNANSWERED"]
        case .undeleted: return ["UNDELETED"]
        case .unflagged: return ["UNFLAGGED"]
        case .draft: return ["DRAFT"]
        case .undraft: return ["UNDRAFT"]
        case .keyword(let k): return ["KEYWORD \(k)"]
        case .unkeyword(let k): return ["UNKEYWORD \(k)"]
        case .from(let s): return ["FROM \(s)"]
        case .to(let s): return ["TO \(s)"]
        case .cc(let s): return ["CC \(s)"]
        case .bcc(let s): return ["BCC \(s)"]
        case .subject(let s): return ["SUBJECT \(s)"]
        case .body(let s): return ["BODY \(s)"]
        case .text(let s): return ["TEXT \(s)"]
        case .header(let f, let s): return ["HEADER \(f) \(s)"]
        case .since(let d): return ["SINCE \(d)"]
        case .before(let d): return ["BEFORE \(d)"]
        case .on(let d): return ["ON \(d)"]
        case .sentSince(let d): return ["SENTSINCE \(d)"]
        case .sentBefore(let d): return ["SENTBEFORE \(d)"]
        case .sentOn(let d): return ["SENTON \(d)"]
        case .larger(let n): return ["LARGER \(n)"]
        case .smaller(let n): return ["SMALLER \(n)"]
        case .uid(let set): return ["UID \(set)"]
        case .sequence(let set): return ["\(set)"]
        case .not(let k): return ["NOT"] + criteria(k)
        case .or(let a, let b): return ["OR"] + criteria(a) + criteria(b)
        case .and(let keys): return keys.flatMap(criteria)
        }
    }
}
