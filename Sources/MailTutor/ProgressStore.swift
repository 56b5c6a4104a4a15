import Foundation
import GRDB

/// A learner's progress in SQLite: lessons, goals met (with hints used and time taken), quiz
/// attempts and answers, and the questions missed last time.
///
/// The schema grows by named migrations that never change once shipped. Every database error
/// becomes a `TutorError` with a clear message: a corrupt or read-only file never crashes the
/// tutor and is never overwritten.
public final class ProgressStore {
    private let db: DatabaseQueue
    public let path: String?

    /// Opens (creating when missing) the database at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !readOnly {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw TutorError(fr: "impossible de créer le dossier de données \(folder)", en: "cannot create the data folder \(folder)")
            }
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.foreignKeysEnabled = true
        do {
            db = try DatabaseQueue(path: path, configuration: configuration)
            if !readOnly { try Self.migrator.migrate(db) }
            _ = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master") }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// An in-memory database (tests, or a fallback when no data folder can be used).
    public init() throws {
        path = nil
        do {
            db = try DatabaseQueue()
            try Self.migrator.migrate(db)
        } catch {
            throw Self.describe(error, path: ":memory:")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("create learners and lessons") { db in
            try db.create(table: "learner") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
            }
            try db.create(table: "lesson_progress") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("completed_at", .datetime)
                t.primaryKey(["learner_id", "lesson_id"])
            }
            try db.create(table: "goal_result") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("exercise_id", .text).notNull()
                t.column("goal_id", .text).notNull()
                t.column("hints_used", .integer).notNull().check { $0 >= 0 }
                t.column("seconds", .integer).notNull().check { $0 >= 0 }
                t.column("met_at", .datetime).notNull()
                t.primaryKey(["learner_id", "lesson_id", "exercise_id", "goal_id"])
            }
        }
        migrator.registerMigration("create quiz attempts") { db in
            try db.create(table: "quiz_attempt") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.column("score", .integer)
                t.column("total", .integer)
            }
            try db.create(table: "quiz_answer") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("attempt_id", .integer).notNull().references("quiz_attempt", onDelete: .cascade)
                t.column("question_id", .text).notNull()
                t.column("answer", .text).notNull()
                t.column("correct", .boolean).notNull()
            }
            try db.create(table: "missed_question") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("question_id", .text).notNull()
                t.primaryKey(["learner_id", "lesson_id", "question_id"])
            }
        }
        migrator.registerMigration("dated answers, hints, exercises and settings") { db in
            try db.alter(table: "quiz_answer") { t in
                t.add(column: "answered_at", .datetime)
                t.add(column: "language", .text)
                t.add(column: "question_text", .text)
                t.add(column: "first_attempt", .boolean)
            }
            try db.alter(table: "lesson_progress") { t in t.add(column: "language", .text) }
            try db.alter(table: "goal_result") { t in t.add(column: "language", .text) }
            // One row per hint shown (the hint's number in its exercise), so a hint counts once
            // however many goals the exercise has.
            try db.create(table: "hint_use") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("exercise_id", .text).notNull()
                t.column("number", .integer).notNull().check { $0 >= 1 }
                t.column("used_at", .datetime).notNull()
                t.column("language", .text)
                t.primaryKey(["learner_id", "lesson_id", "exercise_id", "number"])
            }
            try db.create(table: "exercise_result") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("lesson_id", .text).notNull()
                t.column("exercise_id", .text).notNull()
                t.column("status", .text).notNull()
                t.column("hints_used", .integer).notNull().check { $0 >= 0 }
                t.column("seconds", .integer).notNull().check { $0 >= 0 }
                t.column("at", .datetime).notNull()
                t.column("language", .text)
                t.primaryKey(["learner_id", "lesson_id", "exercise_id"])
            }
            try db.create(table: "learner_setting") { t in
                t.column("learner_id", .integer).notNull().references("learner", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["learner_id", "key"])
            }
        }
        return migrator
    }

    // MARK: Settings (language, where the learner left off)

    /// Longest setting value stored (a lesson id and two numbers, a language).
    static let maximumSettingLength = 200

    public func setSetting(learner: String, key: String, value: String?) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            if let value {
                try db.execute(sql: "INSERT OR REPLACE INTO learner_setting (learner_id, key, value) VALUES (?, ?, ?)",
                               arguments: [id, key, String(value.prefix(Self.maximumSettingLength))])
            } else {
                try db.execute(sql: "DELETE FROM learner_setting WHERE learner_id = ? AND key = ?", arguments: [id, key])
            }
        }
    }

    public func setting(learner: String, key: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: """
                SELECT s.value FROM learner_setting s JOIN learner l ON l.id = s.learner_id WHERE l.name = ? AND s.key = ?
                """, arguments: [learner, key])
        }
    }

    // MARK: Hints and exercises

    /// Records that hint `number` (from 1; the solution is the last number) of an exercise was
    /// shown. Showing the same hint again does not count twice.
    public func recordHint(learner: String, lesson: String, exercise: String, number: Int, language: Language? = nil,
                           at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: """
                INSERT OR IGNORE INTO hint_use (learner_id, lesson_id, exercise_id, number, used_at, language) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id, lesson, exercise, max(1, number), date, language?.rawValue])
        }
    }

    /// Records how an exercise ended: `completed` or `skipped` (a completion is never downgraded).
    public func recordExercise(learner: String, lesson: String, exercise: String, status: String, hintsUsed: Int, seconds: Int,
                               language: Language? = nil, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            let current = try String.fetchOne(db, sql: "SELECT status FROM exercise_result WHERE learner_id = ? AND lesson_id = ? AND exercise_id = ?",
                                              arguments: [id, lesson, exercise])
            if current == "completed" { return }
            try db.execute(sql: """
                INSERT OR REPLACE INTO exercise_result (learner_id, lesson_id, exercise_id, status, hints_used, seconds, at, language)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, lesson, exercise, status, max(0, hintsUsed), max(0, seconds), date, language?.rawValue])
        }
    }

    /// How each exercise of a lesson ended, with the hints it cost and the time it took.
    public struct ExerciseResult: Equatable, Sendable {
        public var exercise: String
        public var status: String
        public var hintsUsed: Int
        public var seconds: Int
    }

    public func exerciseResults(learner: String, lesson: String) throws -> [ExerciseResult] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.exercise_id, e.status, e.hints_used, e.seconds FROM exercise_result e JOIN learner l ON l.id = e.learner_id
                WHERE l.name = ? AND e.lesson_id = ? ORDER BY e.exercise_id
                """, arguments: [learner, lesson]).map { row in
                ExerciseResult(exercise: row[0] ?? "", status: row[1] ?? "", hintsUsed: row[2] ?? 0, seconds: row[3] ?? 0)
            }
        }
    }

    /// Exercise ids of a lesson and how they ended (`completed`, `skipped`).
    public func exerciseStatus(learner: String, lesson: String) throws -> [String: String] {
        try read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT e.exercise_id, e.status FROM exercise_result e JOIN learner l ON l.id = e.learner_id WHERE l.name = ? AND e.lesson_id = ?
                """, arguments: [learner, lesson]) {
                out[row[0] ?? ""] = row[1] ?? ""
            }
            return out
        }
    }

    /// Quiz attempts this learner started for a lesson (the next attempt's number, from 0).
    public func quizAttempts(learner: String, lesson: String) throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.name = ? AND a.lesson_id = ?
                """, arguments: [learner, lesson]) ?? 0
        }
    }

    static func describe(_ error: Error, path: String) -> TutorError {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return TutorError(fr: "la base de progression \(path) est corrompue (ce n'est pas une base SQLite valide) ; "
                                      + "déplacez-la ou choisissez un autre dossier avec --data-dir",
                                  en: "the progress database \(path) is corrupt (not a valid SQLite database); "
                                      + "move it away or choose another folder with --data-dir")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
                return TutorError(fr: "la base de progression \(path) ne peut pas être écrite (lecture seule ou droits insuffisants)",
                                  en: "the progress database \(path) cannot be written (read-only or not permitted)")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return TutorError(fr: "la base de progression \(path) est verrouillée par un autre programme",
                                  en: "the progress database \(path) is locked by another program")
            default:
                return TutorError(fr: "erreur de la base de progression \(path) : \(error.message ?? "inconnue")",
                                  en: "progress database error in \(path): \(error.message ?? "unknown")")
            }
        }
        if let error = error as? TutorError { return error }
        return TutorError(fr: "erreur de la base de progression \(path)", en: "progress database error in \(path)")
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch { throw Self.describe(error, path: path ?? ":memory:") }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch { throw Self.describe(error, path: path ?? ":memory:") }
    }

    private static func learnerID(_ db: Database, _ name: String) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO learner (name) VALUES (?)", arguments: [name])
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM learner WHERE name = ?", arguments: [name]) else {
            throw TutorError(fr: "apprenant introuvable", en: "learner not found")
        }
        return id
    }

    // MARK: Lessons and goals

    public func startLesson(learner: String, lesson: String, language: Language? = nil, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: "INSERT OR IGNORE INTO lesson_progress (learner_id, lesson_id, started_at, language) VALUES (?, ?, ?, ?)",
                           arguments: [id, lesson, date, language?.rawValue])
        }
    }

    public func completeLesson(learner: String, lesson: String, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: "INSERT OR IGNORE INTO lesson_progress (learner_id, lesson_id, started_at) VALUES (?, ?, ?)",
                           arguments: [id, lesson, date])
            try db.execute(sql: "UPDATE lesson_progress SET completed_at = ? WHERE learner_id = ? AND lesson_id = ? AND completed_at IS NULL",
                           arguments: [date, id, lesson])
        }
    }

    /// Records a goal met; the first time counts (a goal once met stays met).
    public func recordGoal(learner: String, lesson: String, exercise: String, goal: String,
                           hintsUsed: Int, seconds: Int, language: Language? = nil, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: """
                INSERT OR IGNORE INTO goal_result (learner_id, lesson_id, exercise_id, goal_id, hints_used, seconds, met_at, language)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, lesson, exercise, goal, max(0, hintsUsed), max(0, seconds), date, language?.rawValue])
        }
    }

    public func goalsMet(learner: String, lesson: String, exercise: String) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT g.goal_id FROM goal_result g JOIN learner l ON l.id = g.learner_id
                WHERE l.name = ? AND g.lesson_id = ? AND g.exercise_id = ? ORDER BY g.goal_id
                """, arguments: [learner, lesson, exercise])
        }
    }

    // MARK: Quizzes

    public func startQuiz(learner: String, lesson: String, at date: Date) throws -> Int64 {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: "INSERT INTO quiz_attempt (learner_id, lesson_id, started_at) VALUES (?, ?, ?)",
                           arguments: [id, lesson, date])
            return db.lastInsertedRowID
        }
    }

    /// Stores an answer. On a first attempt a wrong answer marks the question missed (it comes
    /// back first in the next quiz) and a right one clears it; retries within a quiz only log.
    public func recordAnswer(attempt: Int64, learner: String, lesson: String, question: String, answer: String, correct: Bool,
                             firstAttempt: Bool = true, questionText: String? = nil, language: Language? = nil,
                             at date: Date? = nil) throws {
        func clean(_ text: String) -> String { String(text.unicodeScalars.filter { $0.value >= 0x20 }.prefix(500).map(Character.init)) }
        let stored = clean(answer)
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: """
                INSERT INTO quiz_answer (attempt_id, question_id, answer, correct, answered_at, language, question_text, first_attempt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [attempt, question, stored, correct, date, language?.rawValue, questionText.map(clean), firstAttempt])
            if !firstAttempt {
                return
            } else if correct {
                try db.execute(sql: "DELETE FROM missed_question WHERE learner_id = ? AND lesson_id = ? AND question_id = ?",
                               arguments: [id, lesson, question])
            } else {
                try db.execute(sql: "INSERT OR IGNORE INTO missed_question (learner_id, lesson_id, question_id) VALUES (?, ?, ?)",
                               arguments: [id, lesson, question])
            }
        }
    }

    public func finishQuiz(attempt: Int64, score: Int, total: Int, at date: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE quiz_attempt SET finished_at = ?, score = ?, total = ? WHERE id = ?",
                           arguments: [date, score, total, attempt])
        }
    }

    public func missedQuestions(learner: String, lesson: String) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT m.question_id FROM missed_question m JOIN learner l ON l.id = m.learner_id
                WHERE l.name = ? AND m.lesson_id = ? ORDER BY m.question_id
                """, arguments: [learner, lesson])
        }
    }

    // MARK: Reports

    public struct LessonSummary: Equatable, Sendable {
        public var lesson: String
        public var started: Bool
        public var completed: Bool
        public var goalsMet: Int
        public var hintsUsed: Int
        public var seconds: Int
        public var bestScore: Int?
        public var total: Int?
        public var missed: Int
    }

    /// One line per lesson this learner touched, ordered by lesson id.
    public func summary(learner: String) throws -> [LessonSummary] {
        try read { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM learner WHERE name = ?", arguments: [learner]) else { return [] }
            let lessons = try String.fetchAll(db, sql: """
                SELECT lesson_id FROM lesson_progress WHERE learner_id = ?1
                UNION SELECT lesson_id FROM goal_result WHERE learner_id = ?1
                UNION SELECT lesson_id FROM quiz_attempt WHERE learner_id = ?1
                UNION SELECT lesson_id FROM hint_use WHERE learner_id = ?1
                UNION SELECT lesson_id FROM exercise_result WHERE learner_id = ?1 ORDER BY 1
                """, arguments: [id])
            return try lessons.map { lesson in
                let progress = try Row.fetchOne(db, sql: "SELECT started_at, completed_at FROM lesson_progress WHERE learner_id = ? AND lesson_id = ?",
                                                arguments: [id, lesson])
                let goals = try Row.fetchOne(db, sql: """
                    SELECT count(*) AS n,
                           (SELECT count(*) FROM hint_use h WHERE h.learner_id = ?1 AND h.lesson_id = ?2) AS h,
                           coalesce((SELECT sum(seconds) FROM exercise_result e WHERE e.learner_id = ?1 AND e.lesson_id = ?2), 0) AS s
                    FROM goal_result WHERE learner_id = ?1 AND lesson_id = ?2
                    """, arguments: [id, lesson])
                let quiz = try Row.fetchOne(db, sql: "SELECT score, total FROM quiz_attempt WHERE learner_id = ? AND lesson_id = ? AND score IS NOT NULL ORDER BY score DESC, id LIMIT 1",
                                            arguments: [id, lesson])
                let missed = try Int.fetchOne(db, sql: "SELECT count(*) FROM missed_question WHERE learner_id = ? AND lesson_id = ?",
                                              arguments: [id, lesson]) ?? 0
                return LessonSummary(lesson: lesson, started: progress != nil,
                                     completed: (progress?["completed_at"] as Date?) != nil,
                                     goalsMet: goals?["n"] ?? 0, hintsUsed: goals?["h"] ?? 0, seconds: goals?["s"] ?? 0,
                                     bestScore: quiz?["score"], total: quiz?["total"], missed: missed)
            }
        }
    }

    public func hasProgress(learner: String) throws -> Bool { try !summary(learner: learner).isEmpty }

    /// One row per learner and item, for teachers and for an LMS's gradebook import.
    public struct ExportRow: Equatable, Sendable, Codable {
        public var learner: String
        public var lesson: String
        /// `lesson`, `exercise`, `goal`, `hint`, `question` (the last answer to a question) or
        /// `answer` (every answer given, retries included).
        public var kind: String
        public var item: String
        /// `started`, `completed`, `skipped`, `met`, `shown`, `correct`, `missed` (question),
        /// `right`, `wrong` (answer).
        public var status: String
        public var hintsUsed: Int?
        public var seconds: Int?
        public var attempts: Int?
        /// The exercise a goal or hint belongs to.
        public var exercise: String?
        /// When it happened, ISO 8601 in UTC (`2026-12-01T21:30:00Z`).
        public var date: String?
        /// The language the learner was working in (`fr`, `en`), when recorded.
        public var language: String?
        /// The question as the learner read it, and the answer given.
        public var question: String?
        public var answer: String?
    }

    static func iso(_ date: Date?) -> String? {
        guard let date else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    public func export() throws -> [ExportRow] {
        try read { db in
            var rows: [ExportRow] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, p.lesson_id, p.completed_at, p.started_at, p.language FROM lesson_progress p JOIN learner l ON l.id = p.learner_id
                ORDER BY l.name, p.lesson_id
                """) {
                let completed = row[2] as Date?
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "lesson", item: row[1] ?? "",
                                      status: completed == nil ? "started" : "completed", date: Self.iso(completed ?? row[3]),
                                      language: row[4]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, e.lesson_id, e.exercise_id, e.status, e.hints_used, e.seconds, e.at, e.language
                FROM exercise_result e JOIN learner l ON l.id = e.learner_id ORDER BY l.name, e.lesson_id, e.at, e.exercise_id
                """) {
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "exercise", item: row[2] ?? "", status: row[3] ?? "",
                                      hintsUsed: row[4], seconds: row[5], exercise: row[2], date: Self.iso(row[6]), language: row[7]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, g.lesson_id, g.exercise_id || '/' || g.goal_id, g.hints_used, g.seconds, g.exercise_id, g.met_at, g.language
                FROM goal_result g JOIN learner l ON l.id = g.learner_id ORDER BY l.name, g.lesson_id, 3
                """) {
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "goal", item: row[2] ?? "",
                                      status: "met", hintsUsed: row[3], seconds: row[4], exercise: row[5], date: Self.iso(row[6]),
                                      language: row[7]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, h.lesson_id, h.exercise_id || '/hint-' || h.number, h.exercise_id, h.used_at, h.language
                FROM hint_use h JOIN learner l ON l.id = h.learner_id ORDER BY l.name, h.lesson_id, h.used_at, h.exercise_id, h.number
                """) {
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "hint", item: row[2] ?? "", status: "shown",
                                      exercise: row[3], date: Self.iso(row[4]), language: row[5]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, a.lesson_id, q.question_id, count(*),
                       (SELECT q2.correct FROM quiz_answer q2 JOIN quiz_attempt a2 ON a2.id = q2.attempt_id
                        WHERE a2.learner_id = a.learner_id AND a2.lesson_id = a.lesson_id AND q2.question_id = q.question_id
                        ORDER BY q2.id DESC LIMIT 1),
                       max(q.id)
                FROM quiz_answer q JOIN quiz_attempt a ON a.id = q.attempt_id JOIN learner l ON l.id = a.learner_id
                GROUP BY l.name, a.lesson_id, q.question_id ORDER BY l.name, a.lesson_id, q.question_id
                """) {
                let correct: Bool = row[4] ?? false
                let last = try Row.fetchOne(db, sql: "SELECT answered_at, language, question_text, answer FROM quiz_answer WHERE id = ?",
                                            arguments: [row[5] as Int64? ?? 0])
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "question", item: row[2] ?? "",
                                      status: correct ? "correct" : "missed", attempts: row[3], date: Self.iso(last?[0]),
                                      language: last?[1], question: last?[2], answer: last?[3]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, a.lesson_id, q.question_id, q.correct, q.answered_at, q.language, q.question_text, q.answer, a.id
                FROM quiz_answer q JOIN quiz_attempt a ON a.id = q.attempt_id JOIN learner l ON l.id = a.learner_id
                ORDER BY l.name, a.lesson_id, q.id
                """) {
                let correct: Bool = row[3] ?? false
                let attempt: Int64 = row[8] ?? 0
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "answer", item: row[2] ?? "",
                                      status: correct ? "right" : "wrong", attempts: Int(attempt), date: Self.iso(row[4]),
                                      language: row[5], question: row[6], answer: row[7]))
            }
            return rows
        }
    }

    /// The CSV columns, in order (the first eight are those of earlier versions).
    public static let csvColumns = ["learner", "lesson", "kind", "item", "status", "hints_used", "seconds", "attempts",
                                    "exercise", "date", "language", "question", "answer"]

    public static func csv(_ rows: [ExportRow]) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var out = csvColumns.joined(separator: ",") + "\n"
        for row in rows {
            // Typed array: as one untyped expression this line took 1.4 s to type-check.
            let values: [String] = [row.learner, row.lesson, row.kind, row.item, row.status,
                                    row.hintsUsed.map(String.init) ?? "", row.seconds.map(String.init) ?? "",
                                    row.attempts.map(String.init) ?? "", row.exercise ?? "", row.date ?? "",
                                    row.language ?? "", row.question ?? "", row.answer ?? ""]
            out += values.map(field).joined(separator: ",") + "\n"
        }
        return out
    }

    /// A class at a glance, one line per learner: lessons completed, exercises completed and
    /// skipped, hints shown, quiz answers right the last time over questions answered.
    public static func classSummary(_ rows: [ExportRow], language: Language) -> String {
        let fr = language == .fr
        var out = fr ? "apprenant             leçons finies  exercices  passés  indices  questions justes\n"
            : "learner               lessons done   exercises  skipped hints    questions right\n"
        let learners = Array(Set(rows.map(\.learner))).sorted()
        for learner in learners {
            let mine = rows.filter { $0.learner == learner }
            let lessons = mine.filter { $0.kind == "lesson" && $0.status == "completed" }.count
            let exercises = mine.filter { $0.kind == "exercise" && $0.status == "completed" }.count
            let skipped = mine.filter { $0.kind == "exercise" && $0.status == "skipped" }.count
            let hints = mine.filter { $0.kind == "hint" }.count
            let questions = mine.filter { $0.kind == "question" }
            let right = questions.filter { $0.status == "correct" }.count
            out += learner.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(lessons).padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(exercises).padding(toLength: 11, withPad: " ", startingAt: 0)
                + String(skipped).padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(hints).padding(toLength: 9, withPad: " ", startingAt: 0)
                + "\(right)/\(questions.count)\n"
        }
        out += fr ? "\(learners.count) apprenant(s)\n" : "\(learners.count) learner(s)\n"
        return out
    }

    public static func json(_ rows: [ExportRow]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(rows), let text = String(data: data, encoding: .utf8) else { return "[]\n" }
        return text + "\n"
    }
}
