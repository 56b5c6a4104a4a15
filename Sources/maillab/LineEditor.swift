@preconcurrency import CLibEdit
import Foundation

/// Reads lines with libedit: emacs key bindings, history kept in a file, tab completion through a
/// Swift closure. Ctrl-C cancels the line being typed; Ctrl-D (end of input) returns nil.
final class LineEditor {
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private var event = HistEvent()
    private let historyPath: String?
    private let completer: (String) -> [String]
    fileprivate var promptBuffer: UnsafeMutablePointer<CChar>?

    /// Called while the learner waits at the prompt, with the whole seconds waited since the
    /// last call (or since the prompt appeared); returns text to print above the prompt and the
    /// prompt to show again, or nil. The REPL lets virtual time run there (`ReplCore.timePassed`).
    var whileWaiting: ((Int) -> (text: String, prompt: String)?)?
    /// How often the input is polled for `whileWaiting`, in milliseconds.
    static let pollInterval: Int32 = 100
    /// Monotonic nanoseconds up to which waiting was already handed to `whileWaiting`.
    private var waitedUpTo: UInt64 = 0

    /// The editor whose callbacks libedit calls (one REPL per process).
    fileprivate nonisolated(unsafe) static var current: LineEditor?

    init?(historyPath: String?, completer: @escaping (String) -> [String]) {
        LineEditor.useTerminalLocale()
        guard let el = el_init(CommandLine.arguments.first ?? "maillab", stdin, stdout, stderr) else { return nil }
        guard let hist = history_init() else {
            el_end(el)
            return nil
        }
        editLine = el
        history = hist
        self.historyPath = historyPath
        self.completer = completer
        LineEditor.current = self
        _ = maillab_el_set_editor(el, "emacs")
        _ = maillab_el_set_signal(el, 1)
        _ = maillab_history_set_size(hist, &event, 1000)
        _ = maillab_history_set_unique(hist, &event, 1)
        if let historyPath { _ = maillab_history_load(hist, &event, historyPath) }
        _ = maillab_el_set_history(el, hist)
        _ = maillab_el_set_prompt(el, { _ in LineEditor.current?.promptBuffer })
        _ = maillab_el_add_function(el, "maillab-complete", "complete a word", { el, _ in
            guard let el, let editor = LineEditor.current else { return UInt8(CC_ERROR) }
            return editor.complete(el)
        })
        _ = maillab_el_bind(el, "^I", "maillab-complete")
        _ = maillab_el_set_getcfn(el) { _, character in
            guard let character, let editor = LineEditor.current else { return -1 }
            return editor.readCharacter(into: character)
        }
        installInterruptHandler()
    }

    /// libedit decodes keystrokes with the C library's character type: in the default "C" locale
    /// every byte over 0x7F is thrown away, so « ça » arrived as « a ». The user's locale is taken
    /// from the environment; when it is not a UTF-8 one (LANG unset, or C), C.UTF-8 is used for the
    /// character type only. Numbers keep the C conventions (printf never writes « 0,5 »).
    static func useTerminalLocale() {
        setlocale(LC_ALL, "")
        setlocale(LC_NUMERIC, "C")
        if !isUTF8Locale() {
            for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] where setlocale(LC_CTYPE, name) != nil {
                if isUTF8Locale() { break }
            }
        }
    }

    static func isUTF8Locale() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased().replacingOccurrences(of: "-", with: "")
        return name == "UTF8"
    }

    deinit {
        save()
        el_end(editLine)
        history_end(history)
        free(promptBuffer)
    }

    func save() {
        if let historyPath { _ = maillab_history_save(history, &event, historyPath) }
    }

    enum Input: Equatable {
        case line(String)
        /// Ctrl-C: the line being typed was thrown away.
        case interrupted
        /// Ctrl-D on an empty line.
        case end
    }

    /// Reads the next line. `redact` gives the form the history (memory and file) keeps:
    /// passwords and AUTH payloads are masked there, never sent masked.
    func readLine(prompt: String, redact: (String) -> String = { $0 }) -> Input {
        free(promptBuffer)
        promptBuffer = strdup(prompt)
        interrupted = 0
        waitedUpTo = Self.monotonicNanoseconds()
        var count: Int32 = 0
        let raw = el_gets(editLine, &count)
        if interrupted != 0 {
            interrupted = 0
            FileHandle.standardOutput.write(Data("^C\n".utf8))
            return .interrupted
        }
        guard let raw, count > 0 else { return .end }
        var line = String(cString: raw)
        while line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            _ = maillab_history_enter(history, &event, redact(line))
            save()
        }
        return .line(line)
    }

    /// libedit's character-read function (EL_GETCFN): polls standard input every
    /// `pollInterval` ms and, while no key comes, hands the time waited to `whileWaiting`; then
    /// reads one byte at a time and decodes the locale's multi-byte characters, as libedit's own
    /// function does; a NUL byte (a Ctrl-D typed ahead in cooked mode) is handed on as Ctrl-D.
    /// Returns 1 with a character, 0 at end of input, -1 on error or Ctrl-C
    /// (libedit then ends `el_gets` and `readLine` reports `.interrupted`).
    fileprivate func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        var state = mbstate_t()
        while true {
            // Ctrl-C may come while `whileWaiting` runs, outside poll(): it ends the line too.
            if interrupted != 0 {
                character.pointee = 0
                return -1
            }
            var poller = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, whileWaiting == nil ? -1 : Self.pollInterval)
            if ready < 0 {
                // A resize (SIGWINCH) interrupts the wait too: only Ctrl-C ends the line.
                if errno == EINTR && interrupted == 0 { continue }
                character.pointee = 0
                return -1
            }
            if ready == 0 {
                showWhatHappenedMeanwhile()
                continue
            }
            var byte: UInt8 = 0
            let count = read(STDIN_FILENO, &byte, 1)
            if count < 0 {
                if (errno == EINTR && interrupted == 0) || errno == EAGAIN { continue }
                character.pointee = 0
                return -1
            }
            if count == 0 {
                character.pointee = 0
                return 0
            }
            if byte == 0 {
                // A Ctrl-D typed ahead, while the terminal was still in cooked mode between two
                // lines (the learner types before the prompt is back), is kept by the kernel as an
                // end-of-file mark, a NUL byte; libedit then reads it in raw mode, where NUL is bound
                // to ed-quoted-insert: the terminal stayed in quote mode and every key after it, a
                // second Ctrl-D, Ctrl-U, Ctrl-C, went into the line as a character. A NUL is read as
                // the Ctrl-D it was (end of input on an empty line).
                character.pointee = 4
                return 1
            }
            var wide: wchar_t = 0
            let result = withUnsafePointer(to: &byte) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 1) { mbrtowc(&wide, $0, 1, &state) }
            }
            switch result {
            case -2:
                continue  // a multi-byte character goes on
            case -1:
                // Not a character of the locale: the byte as is (libedit's own function does so).
                character.pointee = wchar_t(byte)
                return 1
            default:
                character.pointee = wide
                return 1
            }
        }
    }

    /// Hands the whole seconds waited to `whileWaiting`; what it returns is printed on a fresh
    /// line in place of the prompt, then the prompt and the partly typed line are drawn again.
    private func showWhatHappenedMeanwhile() {
        guard let whileWaiting else { return }
        let now = Self.monotonicNanoseconds()
        guard now > waitedUpTo else { return }
        let seconds = Int((now - waitedUpTo) / 1_000_000_000)
        guard seconds > 0 else { return }
        waitedUpTo += UInt64(seconds) * 1_000_000_000
        guard let update = whileWaiting(seconds) else { return }
        var text = update.text
        if !text.hasSuffix("\n") { text += "\n" }
        // The terminal is in libedit's raw mode: each line ends with CR LF.
        let shown = "\r\u{1B}[K" + text.replacingOccurrences(of: "\n", with: "\r\n")
        FileHandle.standardOutput.write(Data(shown.utf8))
        free(promptBuffer)
        promptBuffer = strdup(update.prompt)
        _ = maillab_el_refresh(editLine)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Columns of the terminal (TIOCGWINSZ), else `COLUMNS`, else nil.
    static func terminalWidth() -> Int? {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return nil
    }

    private func complete(_ el: OpaquePointer) -> UInt8 {
        guard let info = el_line(el), let start = info.pointee.buffer, let cursor = info.pointee.cursor else {
            return UInt8(CC_ERROR)
        }
        let length = cursor - start
        let before = String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self),
                                                          count: max(0, length)), as: UTF8.self)
        let partial = before.last == " " ? "" : String(before.split(separator: " ").last ?? "")
        let candidates = completer(before)
        guard !candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        if candidates.count == 1, let only = candidates.first {
            let rest = String(only.dropFirst(commonCaseInsensitivePrefix(only, partial)))
            _ = el_insertstr(el, rest + (only.hasSuffix(":") ? "" : " "))
            return UInt8(CC_REFRESH)
        }
        var common = candidates[0]
        for candidate in candidates.dropFirst() {
            common = String(common.prefix(commonCaseInsensitivePrefix(common, candidate)))
        }
        if common.count > partial.count {
            _ = el_insertstr(el, String(common.dropFirst(partial.count)))
            return UInt8(CC_REFRESH)
        }
        FileHandle.standardOutput.write(Data(("\n" + candidates.joined(separator: "  ") + "\n").utf8))
        return UInt8(CC_REDISPLAY)
    }

    private func commonCaseInsensitivePrefix(_ a: String, _ b: String) -> Int {
        zip(a.lowercased(), b.lowercased()).prefix { $0 == $1 }.count
    }
}

/// Set by SIGINT; the line being typed is then thrown away.
nonisolated(unsafe) private var interrupted: sig_atomic_t = 0

private func installInterruptHandler() {
    var action = sigaction()
    #if os(Linux)
    action.__sigaction_handler.sa_handler = { _ in interrupted = 1 }
    #else
    action.__sigaction_u.__sa_handler = { _ in interrupted = 1 }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGINT, &action, nil)
}
