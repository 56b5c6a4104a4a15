/// LOGIN and AUTHENTICATE (PLAIN, LOGIN), and the IDLE/SASL continuation lines.
extension IMAPServer {
    // MARK: IDLE and AUTHENTICATE continuations

    mutating func idleFrame(_ frame: IMAPFramer.Frame, tag: String) {
        framer.literalsEnabled = true
        mode = .commands
        switch frame {
        case .complete(let bytes) where String(decoding: bytes, as: UTF8.self).uppercased() == "DONE":
            report(.idleEnded)
            line("\(tag) OK IDLE terminated")
        case .complete, .lineTooLong, .literalAccepted, .literalRefused:
            line("\(tag) BAD Expected DONE.")
        }
    }

    mutating func authenticateFrame(_ frame: IMAPFramer.Frame, tag: String) {
        guard let bytes = saslResponse(frame, tag: tag) else { return }
        finishPlain(tag: tag, response: bytes)
    }

    /// One client line of an AUTHENTICATE exchange (RFC 3501 §6.2.2): back to command mode, and the
    /// line's bytes unless it was too long or `*` (cancel), which are answered here.
    mutating func saslResponse(_ frame: IMAPFramer.Frame, tag: String) -> [UInt8]? {
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
    mutating func authenticateLoginFrame(_ frame: IMAPFramer.Frame, tag: String, user: String?) {
        guard let bytes = saslResponse(frame, tag: tag) else { return }
        guard let decoded = Base64.decode(bytes) else {
            line("\(tag) BAD Invalid base64 data in AUTHENTICATE response.")
            return
        }
        let text = String(decoding: decoded, as: UTF8.self)
        if let user {
            logIn(tag: tag, user: user, password: text, mechanism: "LOGIN")
        } else {
            line("+ UGFzc3dvcmQ6")
            mode = .authenticateLogin(tag: tag, user: text)
            framer.literalsEnabled = false
        }
    }

    mutating func finishPlain(tag: String, response: [UInt8]) {
        let decoded: [UInt8]?
        if response == [UInt8(ascii: "=")] { decoded = [] } else { decoded = Base64.decode(response) }
        guard let decoded else {
            line("\(tag) BAD Invalid base64 data in AUTHENTICATE response.")
            return
        }
        // message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 §2)
        let fields = decoded.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else {
            report(.authFailed(mechanism: "PLAIN", user: nil))
            authenticationFailed("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.")
            return
        }
        let authz = String(decoding: fields[0], as: UTF8.self)
        let authc = String(decoding: fields[1], as: UTF8.self)
        let pass = String(decoding: fields[2], as: UTF8.self)
        guard authz.isEmpty || authz == authc else {
            report(.authFailed(mechanism: "PLAIN", user: authc))
            line("\(tag) NO [AUTHORIZATIONFAILED] Not allowed to act as another user.")
            return
        }
        logIn(tag: tag, user: authc, password: pass, mechanism: "PLAIN")
    }

    mutating func logIn(tag: String, user: String, password: String, mechanism: String) {
        guard let canonical = backend.authenticate(user: user, password: password) else {
            report(.authFailed(mechanism: mechanism, user: user))
            authenticationFailed("\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.")
            return
        }
        report(.authSucceeded(mechanism: mechanism, user: canonical))
        enter(.authenticated(user: canonical))
        applyLimits()
        line("\(tag) OK [CAPABILITY \(capabilities)] Logged in")
    }

    /// A wrong user name or password: answered at once for the first
    /// ``IMAPServerConfiguration/authFailuresBeforeDelay`` attempts, then after a delay in engine
    /// time; at ``IMAPServerConfiguration/maxAuthFailures`` the delayed `NO` is followed by `BYE`.
    mutating func authenticationFailed(_ reply: String) {
        authFailures += 1
        let disconnect = authFailures >= configuration.maxAuthFailures
        guard authFailures > configuration.authFailuresBeforeDelay, configuration.authFailureDelaySeconds > 0 else {
            line(reply)
            if disconnect {
                line("* BYE Too many failed login attempts.")
                close()
            }
            return
        }
        let until = lastActivity + .seconds(configuration.authFailureDelaySeconds)
        mode = .authDelay(until: until, reply: reply, disconnect: disconnect)
    }

}
