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
}
