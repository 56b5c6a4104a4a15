/// The facts the IMAP server reports (see `ProtocolFact`): the engine appends them to `facts` as it
/// answers, the host drains them with `takeFacts()`.
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
