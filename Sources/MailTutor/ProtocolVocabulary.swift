/// Command words of each protocol, for completion and help.
public enum ProtocolVocabulary {
    public static let smtp = ["AUTH", "DATA", "EHLO", "EXPN", "HELO", "HELP", "MAIL FROM:", "NOOP", "QUIT", "RCPT TO:", "RSET",
                              "STARTTLS", "VRFY"]
    public static let pop3 = ["APOP", "CAPA", "DELE", "LIST", "NOOP", "PASS", "QUIT", "RETR", "RSET", "STAT", "STLS", "TOP",
                              "UIDL", "USER"]
    public static let imap = ["APPEND", "AUTHENTICATE", "CAPABILITY", "CHECK", "CLOSE", "COPY", "CREATE", "DELETE", "EXAMINE",
                              "EXPUNGE", "FETCH", "IDLE", "LIST", "LOGIN", "LOGOUT", "LSUB", "NOOP", "RENAME", "SEARCH",
                              "SELECT", "STARTTLS", "STATUS", "STORE", "SUBSCRIBE", "UID", "UNSUBSCRIBE"]

    public static func words(for kind: MailProtocol) -> [String] {
        switch kind {
        case .smtp: return smtp
        case .pop3: return pop3
        case .imap: return imap
        case .dns: return []
        }
    }

    /// True when a reply line reports an error: SMTP 4xx/5xx (final line), POP3 `-ERR`,
    /// IMAP tagged `NO`/`BAD` (and untagged `* BAD`/`* BYE`).
    public static func isError(_ line: String, kind: MailProtocol) -> Bool {
        let words = line.split(separator: " ", maxSplits: 2).map(String.init)
        switch kind {
        case .smtp, .dns:
            let code = line.prefix(3)
            guard code.count == 3, code.allSatisfy(\.isNumber), let first = code.first else { return false }
            let separator = line.dropFirst(3).first
            return (first == "4" || first == "5") && separator != "-"
        case .pop3:
            return words.first?.uppercased() == "-ERR"
        case .imap:
            guard words.count >= 2 else { return false }
            let status = words[1].uppercased()
            return status == "NO" || status == "BAD" || (words[0] == "*" && status == "BYE")
        }
    }
}
