/// Builds the messages an MTA sends back to a sender: a non-delivery report (bounce) or a delay
/// warning, as `multipart/report; report-type=delivery-status` (RFC 3464, RFC 6522).
///
/// ```
/// From: MAILER-DAEMON@mail.example.com (Mail Delivery System)
/// Subject: Undelivered Mail Returned to Sender
/// Content-Type: multipart/report; report-type=delivery-status; boundary="…"
///
/// --…  text/plain: a human explanation
/// --…  message/delivery-status: Reporting-MTA, then per recipient Final-Recipient, Action, Status, Diagnostic-Code
/// --…  text/rfc822-headers: the original message's header block
/// ```
public struct DeliveryStatusReport: Sendable {
    public enum Kind: Sendable { case failure, delay }

    public struct Recipient: Sendable {
        public var address: String
        public var originalRecipient: String?
        /// `5.1.1`, `4.4.1`, …
        public var status: String
        public var remoteMTA: String?
        /// The remote reply, e.g. `550 5.1.1 <x@y>: Recipient address rejected`.
        public var diagnostic: String?

        public init(address: String, originalRecipient: String? = nil, status: String,
                    remoteMTA: String? = nil, diagnostic: String? = nil) {
            self.address = address
            self.originalRecipient = originalRecipient
            self.status = status
            self.remoteMTA = remoteMTA
            self.diagnostic = diagnostic
        }
    }

    public var kind: Kind
    public var reportingHost: String
    public var queueID: QueueID
    public var originalSender: String
    public var arrivalDate: String
    public var date: String
    public var messageID: String
    public var recipients: [Recipient]
    public var originalHeader: [UInt8]
    /// For a delay warning: how long the MTA will keep trying, e.g. `5 days`.
    public var giveUpAfter: String

    public init(kind: Kind, reportingHost: String, queueID: QueueID, originalSender: String,
                arrivalDate: String, date: String, messageID: String, recipients: [Recipient],
                originalHeader: [UInt8], giveUpAfter: String = "5 days") {
        self.kind = kind
        self.reportingHost = reportingHost
        self.queueID = queueID
        self.originalSender = originalSender
        self.arrivalDate = arrivalDate
        self.date = date
        self.messageID = messageID
        self.recipients = recipients
        self.originalHeader = originalHeader
        self.giveUpAfter = giveUpAfter
    }

    /// The complete message, CRLF line endings, ready to be queued with the null sender `<>`.
    public func render() -> [UInt8] {
        let boundary = "\(queueID.text).report/\(reportingHost)"
        var out = ""
        func line(_ text: String) { out += text + "\r\n" }
        line("From: MAILER-DAEMON@\(reportingHost) (Mail Delivery System)")
        line("To: \(originalSender)")
        switch kind {
        case .failure: line("Subject: Delivery failed: message returned")
        case .delay: line("Subject: Delivery delayed: still trying")
        }
        line("Date: \(date)")
        line("Message-ID: \(messageID)")
        line("Auto-Submitted: auto-replied")
        line("MIME-Version: 1.0")
        line("Content-Type: multipart/report; report-type=delivery-status;")
        line("\tboundary=\"\(boundary)\"")
        line("")
        line("This is a MIME-encapsulated message.")
        line("")
        line("--\(boundary)")
        line("Content-Description: Notification")
        line("Content-Type: text/plain; charset=us-ascii")
        line("")
        line("Report from the mail transfer agent \(reportingHost), queue id \(queueID.text).")
        line("")
        switch kind {
        case .failure:
            line("Your message was NOT delivered to the recipients below and the")
            line("server has stopped trying. The reason each server gave follows;")
            line("the header of your message is attached.")
        case .delay:
            line("Your message has not reached the recipients below yet. The server")
            line("keeps it in its queue and tries again; it gives up \(giveUpAfter)")
            line("after arrival. Nothing to do for now: do not send it again.")
        }
        line("")
        for recipient in recipients {
            line("<\(recipient.address)>: \(recipient.diagnostic ?? "status \(recipient.status)")")
        }
        line("")
        line("--\(boundary)")
        line("Content-Description: Delivery report")
        line("Content-Type: message/delivery-status")
        line("")
        line("Reporting-MTA: dns; \(reportingHost)")
        line("X-Postfix-Queue-ID: \(queueID.text)")
        line("X-Postfix-Sender: rfc822; \(originalSender)")
        line("Arrival-Date: \(arrivalDate)")
        for recipient in recipients {
            line("")
            line("Final-Recipient: rfc822; \(recipient.address)")
            if let original = recipient.originalRecipient {
                line("Original-Recipient: rfc822; \(original)")
            }
            line("Action: \(kind == .failure ? "failed" : "delayed")")
            line("Status: \(recipient.status)")
            if let remote = recipient.remoteMTA { line("Remote-MTA: dns; \(remote)") }
            if let diagnostic = recipient.diagnostic { line("Diagnostic-Code: smtp; \(diagnostic)") }
            if kind == .delay { line("Will-Retry-Until: \(giveUpAfter) after arrival") }
        }
        line("")
        line("--\(boundary)")
        line("Content-Description: Undelivered Message Headers")
        line("Content-Type: text/rfc822-headers")
        line("")
        var bytes = Array(out.utf8)
        bytes += Self.headerBlock(of: originalHeader)
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// The header block of `message` (up to the blank line), with CRLF line endings and a final CRLF.
    static func headerBlock(of message: [UInt8]) -> [UInt8] {
        var end = message.count
        var index = 0
        while index + 1 < message.count {
            if message[index] == 0x0A && (message[index + 1] == 0x0A ||
                (message[index + 1] == 0x0D && index + 2 < message.count && message[index + 2] == 0x0A)) {
                end = index + 1
                break
            }
            index += 1
        }
        var block = Array(message[0..<end])
        if block.last != 0x0A { block += [0x0D, 0x0A] }
        return block
    }
}
