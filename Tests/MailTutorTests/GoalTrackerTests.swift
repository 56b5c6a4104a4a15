import Foundation
import MailCore
import Testing
@testable import MailTutor

/// Issue 12: goals are predicates over the facts engines report and the live world. Event goals
/// stay met once met; state goals are live and untick; invariants must hold at the end; a forbidden
/// fact ends the attempt; completion needs everything at the same moment.
@Suite struct GoalTrackerTests {
    static func goal(_ id: String, _ predicate: GoalPredicate, after: String? = nil, invariant: Bool = false) -> Goal {
        Goal(id: id, description: nil, predicate: predicate, after: after, isInvariant: invariant, line: 1)
    }
    static func pattern(_ kind: String, _ constraints: [String: [String]] = [:]) -> FactPattern {
        FactPattern(kind: kind, constraints: constraints.sorted { $0.key < $1.key }.map { FactConstraint(key: $0.key, values: $0.value) })
    }

    func world() -> ScriptedWorld { ScriptedWorld() }

    @Test func eventGoalsMatchDetailsAndStayMet() {
        let world = world()
        var tracker = GoalTracker(goals: [
            Self.goal("login", .event(Self.pattern("auth", ["mechanism": ["LOGIN"], "tls": ["true"], "user": ["alice"]]))),
        ], startingAt: world.nextFactSequence)
        // PLAIN is not LOGIN; LOGIN in clear is not under TLS.
        world.report(.session(.authSucceeded(mechanism: "PLAIN", user: "alice")), host: "mail.example.com", port: 587, session: 1, tls: true)
        world.report(.session(.authSucceeded(mechanism: "LOGIN", user: "alice")), host: "mail.example.com", port: 587, session: 2, tls: false)
        #expect(tracker.update(world: world).newlyMet.isEmpty)
        #expect(!tracker.isComplete)
        world.report(.session(.authSucceeded(mechanism: "LOGIN", user: "alice@example.com")), host: "mail.example.com", port: 465, session: 3, tls: true)
        #expect(tracker.update(world: world).newlyMet.map(\.id) == ["login"])
        #expect(tracker.isComplete)
        // Still met after any later fact.
        world.report(.session(.closed), host: "mail.example.com", port: 465, session: 3, tls: true)
        _ = tracker.update(world: world)
        #expect(tracker.isComplete)
    }

    @Test func factsBeforeTheAttemptAndOtherHostsDoNotCount() {
        let world = world()
        world.report(.session(.tlsEstablished), host: "mail.example.com", port: 587, session: 1, tls: true)
        var tracker = GoalTracker(goals: [Self.goal("tls", .event(Self.pattern("tls")))], startingAt: world.nextFactSequence)
        #expect(tracker.update(world: world).newlyMet.isEmpty)
        // A session between two servers (not the learner's) does not count.
        world.journal.append(.session(.tlsEstablished), context: FactContext(time: .zero, host: "mail1.company.org", port: 25,
                                                                             session: 9, peer: "mail.example.com", role: .server, tls: true))
        #expect(tracker.update(world: world).newlyMet.isEmpty)
        world.report(.session(.tlsEstablished), host: "mail.example.com", port: 587, session: 2, tls: true)
        #expect(tracker.update(world: world).newlyMet.map(\.id) == ["tls"])
    }

    @Test func stateGoalsAreLiveAndUntick() {
        let world = world()
        var tracker = GoalTracker(goals: [
            Self.goal("three", .mailboxCount(user: "bob", folder: "INBOX", count: 3, atLeast: false)),
        ], startingAt: 0)
        #expect(!tracker.isComplete)
        for n in 1...3 { world.deliver(to: "bob@company.org", from: "alice@example.com", subject: "m\(n)") }
        #expect(tracker.update(world: world).newlyMet.map(\.id) == ["three"])
        #expect(tracker.isComplete)
        world.mailboxes["bob"]?.removeLast()
        let update = tracker.update(world: world)
        #expect(update.newlyUnmet.map(\.id) == ["three"])
        #expect(!tracker.isComplete)
    }

    @Test func completionNeedsEveryGoalAtTheSameMoment() {
        let world = world()
        var tracker = GoalTracker(goals: [
            Self.goal("retrieved", .event(Self.pattern("retrieved", ["message": ["1"]]))),
            Self.goal("intact", .mailboxCount(user: "bob", folder: "INBOX", count: 1, atLeast: false), invariant: true),
        ], startingAt: 0)
        world.deliver(to: "bob@company.org", from: "alice@example.com", subject: "m")
        _ = tracker.update(world: world)
        #expect(tracker.met == ["intact"])
        #expect(!tracker.isComplete)
        world.mailboxes["bob"] = []
        world.report(.pop3(.retrieved(message: 1, uidl: "u1", size: 10)), host: "mail1.company.org", port: 995, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(!tracker.isComplete, "the invariant no longer holds")
        world.deliver(to: "bob@company.org", from: "alice@example.com", subject: "m")
        _ = tracker.update(world: world)
        #expect(tracker.isComplete)
    }

    @Test func aForbiddenFactEndsTheAttempt() {
        let world = world()
        let forbidden = ForbiddenFact(id: "lost", explanation: LocalizedText(fr: "perdu", en: "lost"),
                                      pattern: Self.pattern("deleted", ["retrieved-before": ["false"]]), line: 1)
        var tracker = GoalTracker(goals: [Self.goal("committed", .event(Self.pattern("committed")))],
                                  forbidden: [forbidden], startingAt: 0)
        let host = "mail1.company.org"
        world.report(.pop3(.retrieved(message: 1, uidl: "u1", size: 10)), host: host, port: 995, session: 1, tls: true)
        world.report(.pop3(.markedDeleted(message: 1, uidl: "u1")), host: host, port: 995, session: 1, tls: true)
        #expect(tracker.update(world: world).violation == nil)
        world.report(.pop3(.markedDeleted(message: 2, uidl: "u2")), host: host, port: 995, session: 1, tls: true)
        #expect(tracker.update(world: world).violation?.id == "lost")
        world.report(.pop3(.committed(deleted: ["u1", "u2"])), host: host, port: 995, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(!tracker.isComplete)
    }

    @Test func afterOrdersEventGoals() {
        let world = world()
        var tracker = GoalTracker(goals: [
            Self.goal("marked", .event(Self.pattern("deleted"))),
            Self.goal("undo", .event(Self.pattern("rset", ["count": ["1"]])), after: "marked"),
        ], startingAt: 0)
        world.report(.pop3(.reset(restored: ["u9"])), host: "h", port: 110, session: 1, tls: true)
        world.report(.pop3(.markedDeleted(message: 2, uidl: "u2")), host: "h", port: 110, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(tracker.met == ["marked"])
        world.report(.pop3(.reset(restored: ["u2"])), host: "h", port: 110, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(tracker.isComplete)
    }

    @Test(arguments: [
        ("FROM alice", "FROM alice@example.com", true), ("FROM alice", "FROM \"Alice\" <alice@example.com>", true),
        ("FROM alice", "FROM carol@oldshop.test", false), ("FROM alice", "ALL", false), ("UNSEEN", "UNSEEN", true),
    ])
    func searchCriteriaMatchKeyAndArgument(wanted: String, actual: String, matches: Bool) {
        #expect(FactView.same(key: "criteria", wanted: wanted, actual: actual) == matches)
    }

    @Test(arguments: [
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE AUTHENTICATION-RESULTS)]", "BODY.PEEK[HEADER.FIELDS (AUTHENTICATION-RESULTS DKIM-SIGNATURE FROM)]", true),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE AUTHENTICATION-RESULTS)]", "BODY.PEEK[HEADER]", true),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE AUTHENTICATION-RESULTS)]", "RFC822.HEADER", true),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE AUTHENTICATION-RESULTS)]", "BODY[HEADER.FIELDS (SUBJECT)]", false),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE AUTHENTICATION-RESULTS)]", "BODY[HEADER.FIELDS (DKIM-SIGNATURE)]", false),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE)]", "BODY[HEADER.FIELDS.NOT (DKIM-SIGNATURE)]", false),
        ("BODY[HEADER.FIELDS (DKIM-SIGNATURE)]", "BODY[TEXT]", false),
        ("BODY[HEADER]", "BODY[HEADER.FIELDS (SUBJECT)]", true),
    ])
    func fetchedHeaderFieldsMatchTheFieldsAsked(wanted: String, actual: String, matches: Bool) {
        #expect(FactView.same(key: "items", wanted: wanted, actual: actual) == matches)
    }

    @Test func anyOfAcceptsEquivalentWays() {
        let world = world()
        let ways = [Self.pattern("list", ["pattern": ["Work.%"], "reference": [""]]),
                    Self.pattern("list", ["pattern": ["%"], "reference": ["Work."]])]
        var tracker = GoalTracker(goals: [Self.goal("level", .anyEvent(ways))], startingAt: 0)
        world.report(.imap(.listed(reference: "", pattern: "*", subscribedOnly: false, result: [])), host: "h", port: 993, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(!tracker.isComplete)
        world.report(.imap(.listed(reference: "Work.", pattern: "%", subscribedOnly: false, result: ["Work.Projects"])),
                     host: "h", port: 993, session: 1, tls: true)
        _ = tracker.update(world: world)
        #expect(tracker.isComplete)
    }
}
