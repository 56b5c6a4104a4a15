import Testing
@testable import MailTutor

/// The `message:` state goal's `header:` and `body:` read the stored text of a message.
@Suite struct MessageGoalTests {
    static let text = "Return-Path: <alice@example.com>\r\nFrom: Alice <alice@example.com>\r\nTo: bob@company.org\r\n"
        + "Subject: Re: Réunion demain\r\nIn-Reply-To:\r\n <abc123@example.com>\r\n"
        + "Content-Type: multipart/mixed;\r\n\tboundary=\"MIX\"\r\n\r\n--MIX\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n"
        + "\r\n--ALT\r\nContent-Type: text/plain\r\n\r\nTo: not a header\r\n--ALT--\r\n--MIX--\r\n"

    @Test(arguments: [
        (MessageContent(header: "In-Reply-To: <abc123@example.com>"), true),   // a folded header is joined
        (MessageContent(header: "in-reply-to: ABC123"), true),                 // name and value in any case
        (MessageContent(header: "References: abc123"), false),                 // no such header
        (MessageContent(header: "Content-Type: multipart/mixed"), true),
        (MessageContent(header: "Content-Type: boundary=\"MIX\""), true),      // the folded parameter
        (MessageContent(header: "To: not a header"), false),                   // a body line is not a header
        (MessageContent(header: "Cc:"), false),                                // name only: any Cc at all
        (MessageContent(header: "To:"), true),
        (MessageContent(body: "multipart/alternative"), true),
        (MessageContent(body: "application/pdf"), false),
        (MessageContent(header: "Content-Type: multipart/mixed", body: "application/pdf"), false),  // both must hold
    ])
    func matches(content: MessageContent, expected: Bool) {
        #expect(content.matches(Self.text) == expected)
    }

    @Test func aMessageWithNoBlankLineHasOnlyHeaders() {
        #expect(MessageContent(header: "Subject: x").matches("Subject: x"))
        #expect(!MessageContent(body: "x").matches("Subject: x"))
    }
}
