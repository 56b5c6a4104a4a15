import ArgumentParser
import Foundation

/// Runs `maillab`, mapping usage errors to exit code 2 (the project's contract) instead of 64.
@main
enum Entry {
    static func main() {
        MallocArenas.useOne()
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

/// glibc gives each new thread that allocates its own malloc arena, and such an arena grows by
/// `mprotect` one page at a time as its heap reaches a new high. In `serve`, where the event loop's
/// thread allocates nearly everything, that was 3 to 4 `mprotect` calls per message, each one a
/// page-table change the kernel must make on every core that runs the process. With a single
/// arena every thread uses the main heap, which grows by `brk` in steps of 128 kB (measured over
/// 200 messages: 720 `mprotect` calls before, 32 `brk` after). mallopt is looked up at run time:
/// Swift's Glibc module does not export malloc.h.
enum MallocArenas {
    static func useOne() {
        #if os(Linux) && canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let arenaMax: Int32 = -8  // M_ARENA_MAX in glibc's malloc.h
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMax, 1)
        #endif
    }
}
