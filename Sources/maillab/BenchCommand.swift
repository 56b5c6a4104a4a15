import ArgumentParser
import Foundation
import MailAgents

extension MailLabCommand {
    /// `maillab bench smtp`: throughput of the whole SMTP path inside the simulator.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure MailLab's simulator (use a release build).",
            subcommands: [SMTP.self])

        struct SMTP: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "smtp",
                abstract: "Push messages from mail clients through submission, MX relay and local delivery.")

            @Option(name: .shortAndLong, help: "Messages to deliver.")
            var count = 20_000

            @Option(help: "Mail clients sending at the same time.")
            var concurrency = 32

            @Option(help: "Size of each message in octets.")
            var size = 1024

            @Option(help: "Messages each client sends per submission session (its outbox).")
            var outbox = 1

            @Flag(inversion: .prefixedNo,
                  help: "The sending MTA's on-demand connection cache, as Postfix's: at 20 sessions to the MX, queued messages wait for an open session.")
            var connectionCache = true

            @Option(help: "Root seed of the simulated world.")
            var seed: UInt64 = 1

            @Flag(help: "Also run, in the same process, the workload without connection cache and the batched one (--outbox 10), with their ratios to the first.")
            var compare = false

            func run() throws {
                let first = try measure(outbox: outbox, reuse: connectionCache)
                guard compare else { return }
                for (outbox, reuse) in [(1, false), (10, true)] {
                    print("")
                    let rate = try measure(outbox: outbox, reuse: reuse)
                    print("ratio to the first run: \(String(format: "%.2f", rate / max(first, 1e-9)))")
                }
            }

            /// Runs one workload, prints its figures, returns its deliveries per second.
            private func measure(outbox: Int, reuse reuseConnections: Bool) throws -> Double {
                let benchmark = SMTPBenchmark(messages: count, concurrency: concurrency, messageSize: size,
                                              outbox: outbox, reusesConnections: reuseConnections)
                let clock = ContinuousClock()
                var result: SMTPBenchmark.Result?
                let cpuBefore = Self.cpuSeconds()
                let elapsed = try clock.measure { result = try benchmark.run(seed: seed) }
                let cpu = Self.cpuSeconds() - cpuBefore
                guard let result else { throw ExitCode(1) }
                print("workload: \(concurrency) clients, \(size)-octet messages, \(outbox) per submission session, "
                      + "connection cache \(reuseConnections ? "on" : "off")")
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                #if DEBUG
                print("warning: debug build; measure with `swift build -c release`")
                #endif
                print("messages: \(result.messages)")
                print("delivered: \(result.delivered)")
                print("wall seconds: \(String(format: "%.3f", seconds))")
                // One event loop on one thread: the CPU time matches the wall time.
                print("cpu seconds: \(String(format: "%.3f", cpu)) (one thread)")
                let rate = Double(result.delivered) / max(seconds, 1e-9)
                print("deliveries/s: \(Int(rate))")
                print("scheduler events: \(result.schedulerSteps) (\(Int(Double(result.schedulerSteps) / max(seconds, 1e-9)))/s, \(String(format: "%.1f", Double(result.schedulerSteps) / Double(max(result.delivered, 1)))) per delivery)")
                print("virtual time: \(String(format: "%.1f", result.virtualSeconds)) s")
                print("peak memory: \(Self.peakMemory())")
                if result.delivered != result.messages { throw ExitCode(1) }
                return rate
            }

            /// User and system CPU time of the process so far.
            static func cpuSeconds() -> Double {
                var usage = rusage()
                #if os(Linux)
                getrusage(RUSAGE_SELF.rawValue, &usage)
                #else
                getrusage(RUSAGE_SELF, &usage)
                #endif
                func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
                return seconds(usage.ru_utime) + seconds(usage.ru_stime)
            }

            /// VmHWM from /proc/self/status (Linux), e.g. `48 MB`.
            static func peakMemory() -> String {
                guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else {
                    return "unknown"
                }
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                return "\(kilobytes / 1024) MB"
            }
        }
    }
}
