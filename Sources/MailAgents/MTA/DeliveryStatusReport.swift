/// Builds the messages an MTA sends back to a sender: a non-delivery report (bounce) or a delay
/// warning, as `multipart/report; report-type=delivery-status` (RFC 3464, RFC 6522).
///
/// ```
/// From: MAILER-DAEMON@mail.example.com (Mail Delivery System)
/// Subject: Undelivered Mail Returned to Sender        (a delay: Delayed Mail (still being retried))
/// Content-Type: multipart/report; report-type=delivery-status; boundary="…"
///
/// --…  text/plain: a human explanation, one line per recipient with the server's refusal
/// --…  message/delivery-status: Reporting-MTA, then per recipient Final-Recipient, Action, Status, Diagnostic-Code
/// --…  message/rfc822: the returned message (text/rfc822-headers: its header only, for a delay or a big message)
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

    /// Largest original message returned whole in a bounce; a larger one comes back as its
    /// header only (Postfix `bounce_size_limit`, 50000).
    public static let returnedMessageLimit = 50_000

    /// The complete message, CRLF line endings, ready to be queued with the null sender `<>`, in
    /// Postfix's layout: its subjects and sender, a human part, the `message/delivery-status`
    /// part, then the returned message (`message/rfc822`, or `text/rfc822-headers` for a delay
    /// warning or a message over ``returnedMessageLimit``).
    public func render() -> [UInt8] {
        let boundary = "\(queueID.text).\(arrivalStamp)/\(reportingHost)"
        var out = ""
        func line(_ text: String) { out += text + "\r\n" }
        line("From: MAILER-DAEMON@\(reportingHost) (Mail Delivery System)")
        switch kind {
        case .failure: line("Subject: Undelivered Mail Returned to Sender")
        case .delay: line("Subject: Delayed Mail (still being retried)")
        }
        line("To: \(originalSender)")
        line("Auto-Submitted: auto-replied")
        line("MIME-Version: 1.0")
        line("Content-Type: multipart/report; report-type=delivery-status;")
        line("\tboundary=\"\(boundary)\"")
        line("Content-Transfer-Encoding: 8bit")
        line("Message-Id: \(messageID)")
        line("Date: \(date)")
        line("")
        line("This is a MIME-encapsulated message.")
        line("")
        line("--\(boundary)")
        line("Content-Description: Notification")
        line("Content-Type: text/plain; charset=us-ascii")
        line("")
        line("This report comes from the mail server \(reportingHost), which held your")
        line("message under the queue id \(queueID.text).")
        line("")
        switch kind {
        case .failure:
            line("It could not hand the message over to one or more recipients and has")
            line("given up: the message was NOT delivered to them. Each refusal is quoted")
            line("below, as the receiving server wrote it; your message is attached.")
            line("")
            line("To get help, write to postmaster@\(reportingHost) and include this report.")
        case .delay:
            line("It has not been able to deliver the message to the recipients below yet.")
            line("The message waits in its queue and will be tried again until \(giveUpAfter)")
            line("after its arrival. This is only a warning: do not send the message again.")
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
        let whole = kind == .failure && originalHeader.count <= Self.returnedMessageLimit
        if whole {
            line("Content-Description: Undelivered Message")
            line("Content-Type: message/rfc822")
        } else {
            line("Content-Description: \(kind == .failure ? "Undelivered Message Headers" : "Delayed Message Headers")")
            line("Content-Type: text/rfc822-headers")
        }
        line("")
        var bytes = Array(out.utf8)
        if whole {
            bytes += originalHeader
            if bytes.last != 0x0A { bytes += [0x0D, 0x0A] }
        } else {
            bytes += Self.headerBlock(of: originalHeader)
        }
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    /// A stamp for the boundary made of the arrival date's digits: unique per report, never random.
    private var arrivalStamp: String {
        String(arrivalDate.filter(\.isNumber).suffix(10))
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
