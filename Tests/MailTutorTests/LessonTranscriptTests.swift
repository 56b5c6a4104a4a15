import Foundation
import Testing
@testable import MailLabWorld
@testable import MailTutor

/// Issue 13: a dialogue a lesson section shows (`C:`/`S:` lines) with the course's world is what
/// the simulator answers, byte for byte. The client lines are replayed against a fresh course
/// world and every server line is compared with the reply, in order.
///
/// What a lesson line may leave out, and nothing else:
/// - an annotation: what follows a run of three spaces or more (`S: 334 VXNlcm5hbWU6   ("Username:")`);
/// - ` … ` between reply lines shown (`250-mail.example.com … 250-STARTTLS … 250 DSN`): the lines
///   shown are replies, in order, the elided ones in between;
/// - a client line holding `…` describes the message sent after DATA (the test sends one);
/// - the queue id after `queued as` (Postfix draws it at random, the simulator from the seed).
/// Indented lines inside a block that start with neither `C:` nor `S:` are the lesson's notes.
///
/// Every block must be listed in `targets`: checked against a course-world host and port, or
/// illustrative (another server, or a mailbox the course world does not have), with the reason.
/// A new block that is not listed fails `everyTranscriptIsClassified`.
@Suite struct LessonTranscriptTests {
    enum Target: Sendable {
        case course(host: String, port: Int, tls: Bool)
        case illustrative(String)
    }

    /// Key: lesson id / section id / block number in the section (the same in both languages).
    static let targets: [String: Target] = [
        "smtp/session/0": .course(host: "mail.example.com", port: 587, tls: false),
        "pop3/session/0": .illustrative("Bob's maildrop holds three messages (12345 octets); the course world's is empty"),
        "imap/session/0": .illustrative("a 172-message INBOX with Work folders and an old UIDVALIDITY; the course world's INBOX is empty"),
        "imap-folders/move-rev2/0": .illustrative("MOVE of a message in a mailbox the course world does not have (UIDVALIDITY 1712345678)"),
        "imap-folders/idle/0": .illustrative("a 173-message INBOX; the course world's IDLE push is pinned by IdlePushTests and IdlePromptTerminalTests"),
        "security/eavesdropper/0": .illustrative("a capture from a server that accepts AUTH in clear; the course world answers 530 5.7.0 before STARTTLS (CourseWorldTranscriptTests)"),
    ]

    struct Block: Sendable, CustomStringConvertible {
        var key: String
        var language: Language
        var lines: [String]
        var description: String { "\(key) (\(language))" }
    }

    static let library = IdlePushTests.library

    /// The `C:`/`S:` blocks of every section of every lesson, in both languages.
    static var blocks: [Block] {
        var out: [Block] = []
        for lesson in library.lessons {
            for section in lesson.sections {
                for language in [Language.fr, .en] {
                    let text = language == .fr ? section.text.fr : section.text.en
                    var blocks: [[String]] = []
                    var current: [String]?
                    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                        let line = raw.trimmingCharacters(in: .whitespaces)
                        if line.hasPrefix("C: ") || line.hasPrefix("S: ") {
                            if current == nil { current = [] }
                            current?.append(line)
                        } else if current != nil, raw.hasPrefix("   "), !line.isEmpty {
                            continue  // a note inside the block
                        } else if let done = current {
                            blocks.append(done)
                            current = nil
                        }
                    }
                    if let done = current { blocks.append(done) }
                    for (index, lines) in blocks.enumerated() {
                        out.append(Block(key: "\(lesson.id)/\(section.id)/\(index)", language: language, lines: lines))
                    }
                }
            }
        }
        return out
    }

    /// The lesson's line without its `C: `/`S: ` and its annotation.
    static func clean(_ line: String) -> String {
        var text = String(line.dropFirst(3))
        if let gap = text.range(of: "   ") { text = String(text[..<gap.lowerBound]) }
        return text.trimmingCharacters(in: .whitespaces)
    }

    @Test func everyTranscriptIsClassified() {
        let blocks = Self.blocks
        #expect(!blocks.isEmpty)
        for block in blocks where Self.targets[block.key] == nil {
            Issue.record("\(block): a transcript not listed in LessonTranscriptTests.targets (course world or illustrative, with why): \(block.lines.first ?? "")")
        }
        for key in Self.targets.keys where !blocks.contains(where: { $0.key == key }) {
            Issue.record("LessonTranscriptTests.targets lists \(key), which no lesson shows any more")
        }
        // Both languages show the same dialogue.
        for block in blocks where block.language == .fr {
            let english = blocks.first { $0.key == block.key && $0.language == .en }
            let server = block.lines.filter { $0.hasPrefix("S: ") }.map(Self.clean)
            let serverEN = english?.lines.filter { $0.hasPrefix("S: ") }.map(Self.clean) ?? []
            if case .course = Self.targets[block.key] {
                #expect(server == serverEN, "\(block.key): the French and English server lines differ")
            }
        }
    }

    static var checked: [Block] {
        blocks.filter { if case .course = targets[$0.key] { return true } else { return false } }
    }

    /// One reply line shown by the lesson against the lines the server sent (from `index` on):
    /// returns the index after the lines it accounts for, or nil.
    static func match(_ shown: String, _ reply: [String], from index: Int) -> Int? {
        let pieces = shown.components(separatedBy: " … ")
        var position = index
        for (number, piece) in pieces.enumerated() {
            let matches: (String) -> Bool = { line in
                if line == piece { return true }
                // The queue id is drawn at random by Postfix, from the seed here.
                if let range = piece.range(of: "queued as "), line.hasPrefix(String(piece[..<range.upperBound])) {
                    let id = line[range.upperBound...]
                    return (8...12).contains(id.count) && id.allSatisfy { $0.isHexDigit && !$0.isLowercase }
                }
                return false
            }
            if number == 0 {
                guard position < reply.count, matches(reply[position]) else { return nil }
                position += 1
            } else {
                guard let found = reply[position...].firstIndex(where: matches) else { return nil }
                position = found + 1
            }
        }
        return position
    }

    @Test(arguments: checked)
    func transcriptIsWhatTheCourseWorldAnswers(block: Block) throws {
        guard case let .course(host, port, tls) = Self.targets[block.key] else { return }
        let world = try SimulatedWorldDriver().makeWorld(scenario: nil, seed: 1)
        let session = try world.openSession(host: host, port: port, tls: tls)
        defer { session.close() }
        var reply = session.greeting
        var position = 0
        var command = "(greeting)"
        func finishReply() {
            if position < reply.count {
                Issue.record("\(block): after \(command) the server also sent \(reply[position...].joined(separator: " | ")), not shown")
            }
        }
        for line in block.lines {
            if line.hasPrefix("C: ") {
                finishReply()
                let typed = Self.clean(line)
                command = typed
                if typed.contains("…") {
                    // The message itself: headers, an empty line, the text, the final dot.
                    var last = SessionExchange(lines: [])
                    for body in ["From: <alice@example.com>", "To: <bob@company.org>", "Subject: Hello",
                                 "Date: Wed, 1 Jan 2025 00:00:00 +0000", "Message-ID: <lesson@example.com>", "", "Hello Bob.", "."] {
                        last = session.send(line: body)
                    }
                    reply = last.lines
                } else {
                    reply = session.send(line: typed).lines
                }
                position = 0
            } else {
                let shown = Self.clean(line)
                guard let next = Self.match(shown, reply, from: position) else {
                    Issue.record("\(block): after \(command) the lesson shows '\(shown)', the simulator answers \(reply[min(position, reply.count)...].joined(separator: " | "))")
                    return
                }
                position = next
            }
        }
        finishReply()
    }
}
