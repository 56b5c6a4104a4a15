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
        return migrator
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

    public func startLesson(learner: String, lesson: String, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: "INSERT OR IGNORE INTO lesson_progress (learner_id, lesson_id, started_at) VALUES (?, ?, ?)",
                           arguments: [id, lesson, date])
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
                           hintsUsed: Int, seconds: Int, at date: Date) throws {
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: """
                INSERT OR IGNORE INTO goal_result (learner_id, lesson_id, exercise_id, goal_id, hints_used, seconds, met_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, lesson, exercise, goal, max(0, hintsUsed), max(0, seconds), date])
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
                             firstAttempt: Bool = true) throws {
        let stored = String(answer.unicodeScalars.filter { $0.value >= 0x20 }.prefix(500).map(Character.init))
        try write { db in
            let id = try Self.learnerID(db, learner)
            try db.execute(sql: "INSERT INTO quiz_answer (attempt_id, question_id, answer, correct) VALUES (?, ?, ?, ?)",
                           arguments: [attempt, question, stored, correct])
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
                UNION SELECT lesson_id FROM quiz_attempt WHERE learner_id = ?1 ORDER BY 1
                """, arguments: [id])
            return try lessons.map { lesson in
                let progress = try Row.fetchOne(db, sql: "SELECT started_at, completed_at FROM lesson_progress WHERE learner_id = ? AND lesson_id = ?",
                                                arguments: [id, lesson])
                let goals = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(hints_used), 0) AS h, coalesce(sum(seconds), 0) AS s FROM goal_result WHERE learner_id = ? AND lesson_id = ?",
                                             arguments: [id, lesson])
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

    /// One row per learner and item, for teachers.
    public struct ExportRow: Equatable, Sendable, Codable {
        public var learner: String
        public var lesson: String
        /// `lesson`, `goal` or `question`.
        public var kind: String
        public var item: String
        /// `started`, `completed`, `met`, `correct`, `missed`.
        public var status: String
        public var hintsUsed: Int?
        public var seconds: Int?
        public var attempts: Int?
    }

    public func export() throws -> [ExportRow] {
        try read { db in
            var rows: [ExportRow] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, p.lesson_id, p.completed_at FROM lesson_progress p JOIN learner l ON l.id = p.learner_id
                ORDER BY l.name, p.lesson_id
                """) {
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "lesson", item: row[1] ?? "",
                                      status: (row[2] as Date?) == nil ? "started" : "completed"))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, g.lesson_id, g.exercise_id || '/' || g.goal_id, g.hints_used, g.seconds
                FROM goal_result g JOIN learner l ON l.id = g.learner_id ORDER BY l.name, g.lesson_id, 3
                """) {
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "goal", item: row[2] ?? "",
                                      status: "met", hintsUsed: row[3], seconds: row[4]))
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT l.name, a.lesson_id, q.question_id, count(*),
                       (SELECT q2.correct FROM quiz_answer q2 JOIN quiz_attempt a2 ON a2.id = q2.attempt_id
                        WHERE a2.learner_id = a.learner_id AND a2.lesson_id = a.lesson_id AND q2.question_id = q.question_id
                        ORDER BY q2.id DESC LIMIT 1)
                FROM quiz_answer q JOIN quiz_attempt a ON a.id = q.attempt_id JOIN learner l ON l.id = a.learner_id
                GROUP BY l.name, a.lesson_id, q.question_id ORDER BY l.name, a.lesson_id, q.question_id
                """) {
                let correct: Bool = row[4] ?? false
                rows.append(ExportRow(learner: row[0] ?? "", lesson: row[1] ?? "", kind: "question", item: row[2] ?? "",
                                      status: correct ? "correct" : "missed", attempts: row[3]))
            }
            return rows
        }
    }

    public static func csv(_ rows: [ExportRow]) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var out = "learner,lesson,kind,item,status,hints_used,seconds,attempts\n"
        for row in rows {
            out += [row.learner, row.lesson, row.kind, row.item, row.status,
                    row.hintsUsed.map(String.init) ?? "", row.seconds.map(String.init) ?? "", row.attempts.map(String.init) ?? ""]
                .map(field).joined(separator: ",") + "\n"
        }
        return out
    }

    public static func json(_ rows: [ExportRow]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(rows), let text = String(data: data, encoding: .utf8) else { return "[]\n" }
        return text + "\n"
    }
}
