import ArgumentParser
import Foundation

/// Runs `maillab`, mapping usage errors to exit code 2 (the project's contract) instead of 64.
@main
enum Entry {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if FrenchHelp.wanted(arguments, environment: GlobalOptions.processEnvironment) {
            let columns = isatty(STDOUT_FILENO) == 1 ? (LineEditor.terminalWidth() ?? 80) : 80
            print(FrenchHelp.text(arguments, columns: columns))
            exit(0)
        }
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
