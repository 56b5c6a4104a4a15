import ArgumentParser
import Foundation
import MailAgents
import MailSim

extension MailLabCommand {
    /// `maillab bench`: throughput figures measured inside the simulator (no real TCP).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the simulator (build with -c release for meaningful figures).",
            subcommands: [SMTP.self])

        /// `maillab bench smtp`: MUA submission → MX relay → local delivery, end to end.
        struct SMTP: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "smtp",
                abstract: "Push messages from Alice's MUA through submission (587, STARTTLS, AUTH), the relay to company.org's MX (25) and local delivery into Bob's mailbox; print deliveries per second and peak memory.")

            @OptionGroup var global: GlobalOptions
            @Option(help: "Messages to send.") var messages = 1_000
            @Option(help: "Submissions open at once.") var concurrency = 20
            @Option(help: "Seed of the world.") var seed: UInt64 = 1

            func validate() throws {
                guard messages > 0 else { throw ValidationError("--messages must be at least 1") }
                guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
            }

            func run() throws {
                let french = global.language == .fr
                let world = try MailWorld.course(seed: seed)
                guard let alice = world.muas["alice"] else { throw ExitCode(2) }
                let bobStore = world.store(for: "company.org")
                let sim = world.world
                let clock = ContinuousClock()
                var submitted = 0, finished = 0, failed = 0
                func submitNext() throws {
                    guard submitted < messages else { return }
                    submitted += 1
                    try alice.send(Composition(to: ["bob@company.org"], subject: "bench \(submitted)",
                                               text: "Message \(submitted) of the benchmark.\n")) { result in
                        finished += 1
                        if !result.succeeded { failed += 1 }
                        try? submitNext()
                    }
                }
                let start = clock.now
                for _ in 0..<min(concurrency, messages) { try submitNext() }
                // Run until every message is in Bob's INBOX, or nothing is left to do.
                var delivered = 0
                while true {
                    guard sim.step() else { break }
                    if finished == messages {
                        delivered = (try? bobStore.messages(user: "bob").count) ?? 0
                        if delivered >= messages - failed { break }
                    }
                }
                delivered = (try? bobStore.messages(user: "bob").count) ?? 0
                let elapsed = clock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = seconds > 0 ? Double(delivered) / seconds : 0
                var out = ""
                out += (french ? "messages envoyés : " : "messages sent: ") + "\(messages) (\(failed) " + (french ? "échecs" : "failed") + ")\n"
                out += (french ? "livrés dans la boîte de Bob : " : "delivered to Bob's mailbox: ") + "\(delivered)\n"
                out += (french ? "temps réel : " : "wall time: ") + String(format: "%.3f s\n", seconds)
                out += (french ? "temps virtuel : " : "virtual time: ") + "\(sim.now)\n"
                out += (french ? "événements exécutés : " : "events run: ") + "\(sim.scheduler.stepsRun)\n"
                out += "deliveries/s: " + String(format: "%.1f", rate) + "\n"
                out += (french ? "mémoire maximale (VmHWM) : " : "peak memory (VmHWM): ") + Self.peakMemory() + "\n"
                Output.print(out)
                if delivered < messages { throw ExitCode(1) }
            }

            /// The process's peak resident set size from /proc/self/status (Linux), e.g. `41236 kB`.
            static func peakMemory() -> String {
                guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
                for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                    return line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces)
                }
                return "?"
            }
        }
    }
}
