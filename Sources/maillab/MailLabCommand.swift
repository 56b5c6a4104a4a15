import ArgumentParser

@main
struct MailLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maillab",
        abstract: "A laboratory and tutor for SMTP, POP3 and IMAP.",
        version: "0.1.0")
}
