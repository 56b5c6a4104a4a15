import Foundation
import Yams

/// Parses lesson files (sections, exercises, quiz bank) strictly, with `file:line` diagnostics.
public enum LessonParser {
    public static func parse(_ text: String, file: String) -> (Lesson?, [Diagnostic]) {
        let reader = NodeReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.diagnostics) }
        let lesson = parse(root, reader: reader)
        return (reader.diagnostics.isEmpty ? lesson : nil, reader.diagnostics)
    }

    static func parse(_ root: Node, reader r: NodeReader) -> Lesson? {
        guard let f = r.mapping(root, what: "lesson", allowed: ["id", "title", "covers", "vars", "sections", "exercises", "quiz"],
                                required: ["id", "title", "covers"]) else { return nil }
        let id = f["id"].flatMap { ContentID.read($0, what: "id", reader: r) }
        let title = f["title"].flatMap { r.text($0, what: "title") }
        let covers = f["covers"].flatMap { r.strings($0, what: "covers") } ?? []
        var sections: [Lesson.Section] = []
        for node in f["sections"].flatMap({ r.sequence($0, what: "sections") }) ?? [] {
            guard let s = r.mapping(node, what: "section", allowed: ["id", "title", "text", "covers"],
                                    required: ["id", "title", "text"]) else { continue }
            let sid = s["id"].flatMap { ContentID.read($0, what: "section id", reader: r) }
            let stitle = s["title"].flatMap { r.text($0, what: "section title") }
            let text = s["text"].flatMap { r.text($0, what: "section text") }
            if let sid, let stitle, let text {
                sections.append(.init(id: sid, title: stitle, text: text,
                                      covers: s["covers"].flatMap { r.strings($0, what: "covers") } ?? [], line: r.line(node)))
            }
        }
        var exercises: [Lesson.Exercise] = []
        for node in f["exercises"].flatMap({ r.sequence($0, what: "exercises") }) ?? [] {
            guard let e = r.mapping(node, what: "exercise", allowed: ["id", "scenario", "task", "covers", "continues"],
                                    required: ["id", "task"]) else { continue }
            let eid = e["id"].flatMap { ContentID.read($0, what: "exercise id", reader: r) }
            let scenario = e["scenario"].flatMap { r.nonEmptyString($0, what: "scenario") }
            let task = e["task"].flatMap { TaskParser.parse($0, reader: r) }
            if let eid, let task {
                exercises.append(.init(id: eid, scenario: scenario == "default" ? nil : scenario, task: task,
                                       covers: e["covers"].flatMap { r.strings($0, what: "covers") } ?? [], line: r.line(node),
                                       continues: e["continues"].flatMap { r.bool($0, what: "continues") } ?? false))
            }
        }
        var questions: [Question] = []
        for node in f["quiz"].flatMap({ r.sequence($0, what: "quiz") }) ?? [] {
            if let question = QuestionParser.parse(node, reader: r) { questions.append(question) }
        }
        for (what, ids) in [("section", sections.map { ($0.id, $0.line) }), ("exercise", exercises.map { ($0.id, $0.line) }),
                            ("question", questions.map { ($0.id, $0.line) })] {
            var seen = Set<String>()
            for (itemID, line) in ids where !seen.insert(itemID).inserted {
                r.error(line: line, fr: "\(what) « \(itemID) » en double", en: "duplicate \(what) id '\(itemID)'")
            }
        }
        guard let id, let title else { return nil }
        return Lesson(id: id, title: title, covers: covers, sections: sections, exercises: exercises, quiz: questions,
                      location: SourceLocation(file: r.file, line: r.line(root)))
    }
}

enum QuestionParser {
    static let kinds = ["single", "multiple", "short", "numeric", "ordering", "predict"]

    static func parse(_ node: Node, reader r: NodeReader) -> Question? {
        guard let f = r.mapping(node, what: "question",
                                allowed: ["id", "covers", "kind", "question", "choices", "answer", "accept", "also-accept",
                                          "tolerance", "items", "scenario", "session", "prefix", "explanation"],
                                required: ["id", "kind", "question", "explanation"]) else { return nil }
        let id = f["id"].flatMap { ContentID.read($0, what: "question id", reader: r) }
        let covers = f["covers"].flatMap { r.strings($0, what: "covers") } ?? []
        let prompt = f["question"].flatMap { r.text($0, what: "question") }
        let explanation = f["explanation"].flatMap { r.text($0, what: "explanation") }
        guard let kindNode = f["kind"], let kindName = r.string(kindNode, what: "kind") else { return nil }
        func require(_ key: String) -> Node? {
            if let value = f[key] { return value }
            r.error(node, fr: "question \(kindName) : clé « \(key) » manquante", en: "\(kindName) question: missing key '\(key)'")
            return nil
        }
        func forbid(_ keys: [String]) {
            for key in keys {
                if let entry = f.entries.first(where: { $0.key == key }) {
                    r.error(entry.keyNode, fr: "question \(kindName) : « \(key) » ne s'applique pas",
                            en: "\(kindName) question: '\(key)' does not apply")
                }
            }
        }
        let kind: Question.Kind?
        var choiceWhy: [Int: LocalizedText] = [:]
        var alsoAccept: [String] = []
        switch kindName {
        case "single", "multiple":
            forbid(["accept", "also-accept", "tolerance", "items", "scenario", "session", "prefix"])
            let (choices, whys) = QuizContent.choices(require("choices"), reader: r)
            if choices.count < 2, let c = f["choices"] { r.error(c, fr: "au moins deux choix", en: "at least two choices") }
            guard let answerNode = require("answer") else { kind = nil; break }
            let answers = answerNode.sequence != nil
                ? (r.sequence(answerNode, what: "answer") ?? []).compactMap { r.int($0, what: "answer", range: 1...99) }
                : [r.int(answerNode, what: "answer", range: 1...99)].compactMap { $0 }
            for answer in answers where answer > choices.count && !choices.isEmpty {
                r.error(answerNode, fr: "réponse \(answer) : il n'y a que \(choices.count) choix",
                        en: "answer \(answer): there are only \(choices.count) choices")
            }
            if kindName == "single" {
                if answers.count != 1 { r.error(answerNode, fr: "une seule réponse attendue", en: "expected exactly one answer"); kind = nil; break }
                kind = .single(choices: choices, answer: answers[0] - 1)
            } else {
                if answers.isEmpty { r.error(answerNode, fr: "au moins une réponse", en: "expected at least one answer"); kind = nil; break }
                kind = .multiple(choices: choices, answers: answers.map { $0 - 1 }.sorted())
            }
            for (index, (whyNode, why)) in whys.sorted(by: { $0.key < $1.key }) {
                if answers.contains(index + 1) {
                    r.error(whyNode, fr: "choix \(index + 1) : « why » explique un choix faux ; le bon choix s'explique dans « explanation »",
                            en: "choice \(index + 1): 'why' explains a wrong choice; the right one is explained by 'explanation'")
                } else {
                    choiceWhy[index] = why
                }
            }
        case "short":
            forbid(["choices", "answer", "tolerance", "items", "scenario", "session", "prefix"])
            alsoAccept = QuizContent.alsoAccept(f["also-accept"], codes: false, reader: r)
            guard let accept = require("accept"), let m = r.mapping(accept, what: "accept", allowed: ["fr", "en"], required: ["fr", "en"]) else {
                kind = nil
                break
            }
            let fr = m["fr"].flatMap { r.strings($0, what: "accept.fr") } ?? []
            let en = m["en"].flatMap { r.strings($0, what: "accept.en") } ?? []
            kind = .short(accepted: fr + en)
        case "numeric":
            forbid(["choices", "accept", "also-accept", "items", "scenario", "session", "prefix"])
            guard let answerNode = require("answer") else { kind = nil; break }
            guard let text = r.string(answerNode, what: "answer"), let value = Double(text) else {
                r.error(answerNode, fr: "answer : un nombre est attendu", en: "answer: expected a number")
                kind = nil
                break
            }
            let tolerance = f["tolerance"].flatMap { r.string($0, what: "tolerance") }.flatMap(Double.init) ?? 0
            kind = .numeric(answer: value, tolerance: tolerance)
        case "ordering":
            forbid(["choices", "answer", "accept", "also-accept", "tolerance", "scenario", "session", "prefix"])
            // Each item is a text the same in both languages (EHLO, TCP 25) or {fr: …, en: …}.
            let items: [LocalizedText] = require("items").flatMap { r.sequence($0, what: "items") }?.compactMap { item in
                item.scalar != nil ? r.string(item, what: "items").map { LocalizedText(fr: $0, en: $0) } : r.text(item, what: "items")
            } ?? []
            if items.count < 2, let i = f["items"] { r.error(i, fr: "au moins deux éléments", en: "at least two items") }
            for language in Language.allCases where Set(items.map { $0[language].lowercased() }).count != items.count {
                if let i = f["items"] { r.error(i, fr: "éléments en double", en: "duplicate items") }
                break
            }
            kind = .ordering(items: items)
        case "predict":
            forbid(["choices", "answer", "accept", "tolerance", "items"])
            alsoAccept = QuizContent.alsoAccept(f["also-accept"], codes: true, reader: r)
            var target: SessionTarget?
            if let s = require("session").flatMap({ r.mapping($0, what: "session", allowed: ["host", "port", "tls"], required: ["host", "port"]) }),
               let host = s["host"].flatMap({ r.nonEmptyString($0, what: "host") }),
               let port = s["port"].flatMap({ r.int($0, what: "port", range: 1...65535) }) {
                target = SessionTarget(host: host, port: port, tls: s["tls"].flatMap { r.bool($0, what: "tls") } ?? false)
            }
            let prefix = require("prefix").flatMap { r.strings($0, what: "prefix") } ?? []
            if prefix.isEmpty, let p = f["prefix"] { r.error(p, fr: "prefix : au moins une ligne", en: "prefix: at least one line") }
            let scenario = f["scenario"].flatMap { r.nonEmptyString($0, what: "scenario") }
            kind = target.map { .predict(scenario: scenario == "default" ? nil : scenario, session: $0, prefix: prefix) }
        default:
            r.error(kindNode, fr: "kind : « \(kindName) » inconnu (attendu : \(kinds.joined(separator: ", ")))",
                    en: "kind: unknown value '\(kindName)' (expected one of: \(kinds.joined(separator: ", ")))")
            kind = nil
        }
        guard let id, let prompt, let explanation, let kind else { return nil }
        return Question(id: id, covers: covers, prompt: prompt, kind: kind, explanation: explanation, line: r.line(node),
                        alsoAccept: alsoAccept, choiceWhy: choiceWhy)
    }
}
