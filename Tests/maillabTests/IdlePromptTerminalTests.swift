import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 13 at a real terminal: `maillab` runs on a pseudo-terminal that is its controlling
/// terminal (so Ctrl-C is a real SIGINT), and virtual time follows the wall clock while the
/// learner waits at a session's prompt: the `* n EXISTS` of a delivery during IDLE is printed as
/// it happens, before DONE is typed, and the partly typed line is drawn again under it.
@Suite(.serialized) struct IdlePromptTerminalTests {
    /// The program, started in a new session whose controlling terminal is the pty's slave
    /// (posix_spawn with POSIX_SPAWN_SETSID opens the slave after setsid(), as a login does).
    final class Program {
        let terminal: TerminalTests.Terminal
        let pid: pid_t

        init(arguments: [String], environment: [String: String]) throws {
            let terminal = try #require(TerminalTests.Terminal())
            self.terminal = terminal
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addclose(&actions, terminal.master)
            posix_spawn_file_actions_addopen(&actions, 0, terminal.slavePath, O_RDWR, 0)
            posix_spawn_file_actions_adddup2(&actions, 0, 1)
            posix_spawn_file_actions_adddup2(&actions, 0, 2)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // POSIX_SPAWN_SETSID (0x80, a GNU extension Swift does not import), SETSIGDEF (0x04)
            // and SETSIGMASK (0x08): SIGINT as a shell leaves it, no signal blocked.
            var defaults = sigset_t()
            sigemptyset(&defaults)
            sigaddset(&defaults, SIGINT)
            var mask = sigset_t()
            sigemptyset(&mask)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setsigmask(&attributes, &mask)
            posix_spawnattr_setflags(&attributes, Int16(0x80 | 0x04 | 0x08))
            let path = CommandLineTests.executable.path
            let argv = ([path] + arguments).map { strdup($0) } + [nil]
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"
            env["TERM"] = "xterm"
            env["LANG"] = "C.UTF-8"
            env.removeValue(forKey: "LC_ALL")
            for (key, value) in environment { env[key] = value }
            let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                argv.forEach { free($0) }
                envp.forEach { free($0) }
            }
            var child: pid_t = 0
            let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
            guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
            pid = child
        }

        /// Everything the program printed, as read so far (for failure messages).
        private(set) var seen = ""

        func type(_ text: String) { terminal.type(text) }

        /// Reads until `marker` appears (or `seconds` pass); returns what was read by this call.
        func read(until marker: String, seconds: Double = 10) -> String {
            let text = terminal.read(until: marker, seconds: seconds)
            seen += text
            return text
        }

        /// Types `quit` after leaving any context, waits for the exit; kills after 10 s.
        func finish() -> Int32 {
            type("\u{4}")
            // Ctrl-D leaves the session (typed ahead or not: LineEditor reads the kernel's NUL as
            // Ctrl-D), then `quit` leaves the REPL.
            if !read(until: "maillab> ", seconds: 20).contains("maillab> ") {
                seen += "\n[Ctrl-D did not leave the session]\n"
                return -2
            }
            type("quit\r")
            let deadline = Date().addingTimeInterval(10)
            var status: Int32 = 0
            while Date() < deadline {
                seen += terminal.read(until: "\u{0}", seconds: 0.2)
                if waitpid(pid, &status, WNOHANG) == pid { return status }
            }
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            return -1
        }

        deinit {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
    }

    /// `4m58s` (as `queue` prints durations) in seconds.
    static func seconds(_ text: Substring) -> Int? {
        var total = 0
        var number = 0
        var any = false
        for character in text {
            if let digit = character.wholeNumberValue {
                number = number * 10 + digit
                any = true
                continue
            }
            switch character {
            case "d": total += number * 86400
            case "h": total += number * 3600
            case "m": total += number * 60
            case "s": total += number
            default: return nil
            }
            number = 0
        }
        return any ? total : nil
    }

    /// The lesson exercise "IDLE by hand": a message waits at the backup MX, Bob waits in IDLE,
    /// the retry delivers it while nothing is typed, and `* 1 EXISTS` shows up at the prompt
    /// before DONE; the two letters typed meanwhile are still there and DONE ends IDLE.
    @Test(.enabled(if: TerminalTests.available, "no pseudo-terminal (/dev/ptmx) on this machine"))
    func idlePushIsPrintedAtThePromptBeforeDone() throws {
        PseudoTerminalTurn.lock.lock()
        defer { PseudoTerminalTurn.lock.unlock() }
        let data = try CommandLineTests.tempDir()
        let program = try Program(arguments: ["--data-dir", data.path, "--lang", "en"], environment: [:])
        _ = program.read(until: "maillab> ")
        let prompt = "mail1.company.org:993> "
        for (line, marker) in [("down mail1.company.org", "maillab> "), ("send alice@example.com bob@company.org Hi", "body> "),
                               ("text", "body> "), (".", "maillab> "), ("advance 1m", "maillab> "),
                               ("up mail1.company.org", "maillab> "), ("connect mail1.company.org 993 --tls", prompt),
                               ("a1 LOGIN bob secret123", prompt), ("a2 SELECT INBOX", prompt), ("a3 IDLE", "+ idling")] {
            program.type(line + "\r")
            let answer = program.read(until: marker)
            try #require(answer.contains(marker), "no '\(marker)' after '\(line)': \(program.seen)")
        }
        _ = program.read(until: prompt)
        // When does the backup MX try again? Let virtual time run to a few seconds before.
        program.type("!queue\r")
        let queue = program.read(until: prompt)
        let next = try #require(queue.range(of: #"next in [0-9dhms]+"#, options: .regularExpression).map { queue[$0].dropFirst(8) },
                                "\(queue)")
        let wait = try #require(Self.seconds(next))
        try #require(wait > 5, "\(queue)")
        program.type("!advance \(wait - 4)s\r")
        let advanced = program.read(until: prompt)
        #expect(!advanced.contains("EXISTS"), "delivered too early: \(advanced)")
        // Two letters of DONE typed, no Enter: nothing is sent, the wall clock does the rest.
        program.type("DO")
        let started = Date()
        let pushed = program.read(until: "* 1 EXISTS", seconds: 20)
        let delay = Date().timeIntervalSince(started)
        #expect(pushed.contains("S: * 1 EXISTS"), "no push at the prompt: \(program.seen)")
        #expect(delay >= 1.5 && delay < 15, "pushed after \(delay) s")
        // The prompt comes back under the push with the partly typed line.
        var shown = pushed
        if let exists = shown.range(of: "* 1 EXISTS") { shown = String(shown[exists.upperBound...]) }
        if !shown.contains(prompt + "DO") { shown += program.read(until: prompt + "DO", seconds: 20) }
        #expect(shown.contains(prompt + "DO"), "prompt not redrawn after the push: \(program.seen)")
        program.type("NE\r")
        let done = program.read(until: "a3 OK")
        #expect(done.contains("a3 OK"), "\(program.seen)")
        #expect(!done.contains("EXISTS"), "the push was already shown: \(done)")
        _ = program.read(until: prompt, seconds: 20)
        let status = program.finish()
        #expect(status == 0, "\(program.seen.suffix(800))")
    }

    /// Ctrl-C at a session's prompt throws the typed text away: no line reaches the server
    /// (the tap sees none), and the next command is answered normally.
    @Test(.enabled(if: TerminalTests.available, "no pseudo-terminal (/dev/ptmx) on this machine"))
    func controlCAtASessionPromptSendsNothing() throws {
        PseudoTerminalTurn.lock.lock()
        defer { PseudoTerminalTurn.lock.unlock() }
        let data = try CommandLineTests.tempDir()
        let program = try Program(arguments: ["--data-dir", data.path, "--lang", "en"], environment: [:])
        _ = program.read(until: "maillab> ")
        program.type("sniff on\r")
        _ = program.read(until: "maillab> ")
        program.type("connect mail.example.com 587\r")
        let prompt = "mail.example.com:587> "
        _ = program.read(until: prompt)
        program.type("EHLO pc")
        _ = program.read(until: "EHLO pc", seconds: 20)
        program.type("\u{3}")
        let cancelled = program.read(until: "nothing sent", seconds: 20)
        #expect(cancelled.contains("(line cancelled, nothing sent"), "\(program.seen)")
        _ = program.read(until: prompt, seconds: 20)
        program.type("NOOP\r")
        let after = program.read(until: "250 2.0.0 Ok")
        #expect(after.contains("S: 250 2.0.0 Ok"), "\(program.seen)")
        #expect(!program.seen.contains(": EHLO pc"), "the cancelled line crossed the wire: \(program.seen)")
        #expect(!program.seen.contains("500 5.5"), "an empty or cut command reached the server: \(program.seen)")
        _ = program.read(until: prompt, seconds: 20)
        let status = program.finish()
        #expect(status == 0, "\(program.seen.suffix(800))")
    }
}
