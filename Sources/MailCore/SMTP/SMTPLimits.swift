/// The size limits of RFC 5321 §4.5.3.1, which the engines enforce.
public enum SMTPLimits {
    /// §4.5.3.1.1: local part of a mailbox, in octets.
    public static let localPart = 64
    /// §4.5.3.1.2: domain, in octets.
    public static let domain = 255
    /// §4.5.3.1.3: reverse-path or forward-path, punctuation included.
    public static let path = 256
    /// §4.5.3.1.4: command line, CRLF included (ESMTP parameters may add to it, §4.5.3.1.4 and RFC 1870 §3).
    public static let commandLine = 512
    /// §4.5.3.1.5: reply line, CRLF included.
    public static let replyLine = 512
    /// §4.5.3.1.6: text line of a message, CRLF included.
    public static let textLine = 1000
    /// §4.5.3.1.8: recipients a server must accept in one transaction, at least.
    public static let minimumRecipients = 100
    /// RFC 4954 §4: an AUTH command line or SASL response, CRLF included.
    public static let authLine = 12288
}
