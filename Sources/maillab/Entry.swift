import ArgumentParser
import Foundation

/// Runs `maillab`, mapping usage errors to exit code 2 (the project's contract) instead of 64.
@main
enum Entry {
    static func main() {
        do {
            var command = try MailLabCommand.parseAsRoot()
            try command.run()
        } catch {
            let code = MailLabCommand.exitCode(for: error)
            let message = MailLabCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
