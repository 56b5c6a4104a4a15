/// Errors raised by the scheduler's run loops.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    /// A run loop executed its whole step budget without becoming idle: usually a runaway
    /// loop (two agents re-arming timers for each other forever).
    case stepBudgetExceeded(steps: Int, at: VirtualTime)

    public var description: String {
        switch self {
        case let .stepBudgetExceeded(steps, time):
            return "step budget of \(steps) events exhausted at \(time): the simulation did not settle (runaway loop?)"
        }
    }
}

/// A handle on a scheduled event; `cancel()` stops it from running (cancelling twice, or after it
/// ran, does nothing).
public final class ScheduledEvent {
    public let time: VirtualTime
    let sequence: UInt64
    var action: (() -> Void)?

    init(time: VirtualTime, sequence: UInt64, action: @escaping () -> Void) {
        self.time = time
        self.sequence = sequence
        self.action = action
    }

    /// True while the event is still due to run.
    public var isPending: Bool { action != nil }

    /// Cancels the event.
    public func cancel() { action = nil }
}

/// The single event loop of a world: a priority queue of closures ordered by
/// (virtual time, sequence number). Two events at the same instant run in the order they were
/// scheduled, so a run is reproducible. Events never run re-entrantly: an action that schedules
/// another event at the current time sees it run after itself.
public final class Scheduler {
    /// The current virtual time. It only moves forward, to the time of the event being run (or to
    /// the target of ``run(until:maxSteps:)``).
    public private(set) var now: VirtualTime = .zero
    /// Events run since the scheduler was made.
    public private(set) var stepsRun: Int = 0
    /// The budget used by the run loops when none is passed.
    public var defaultStepBudget: Int = 1_000_000

    /// Heap entries carry their ordering key inline, so sifting compares plain integers and never
    /// touches the events' reference counts.
    private struct Entry {
        var time: Int64
        var sequence: UInt64
        var event: ScheduledEvent
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    /// Schedules `action` at an absolute instant (an instant in the past runs "now", after the
    /// events already due).
    @discardableResult
    public func schedule(at time: VirtualTime, _ action: @escaping () -> Void) -> ScheduledEvent {
        let event = ScheduledEvent(time: max(time, now), sequence: nextSequence, action: action)
        nextSequence += 1
        push(event)
        return event
    }

    /// Schedules `action` after a delay from now.
    @discardableResult
    public func schedule(after delay: VirtualDuration, _ action: @escaping () -> Void) -> ScheduledEvent {
        schedule(at: now + max(delay, .zero), action)
    }

    /// The time of the next pending event, if any.
    public var nextEventTime: VirtualTime? {
        dropCancelledHead()
        return heap.first?.event.time
    }

    /// True when no pending event remains.
    public var isIdle: Bool { nextEventTime == nil }

    /// Number of queued events, cancelled ones included until they reach the head.
    public var queuedCount: Int { heap.count }

    /// Runs the next pending event. Returns false when there was none.
    @discardableResult
    public func step() -> Bool {
        dropCancelledHead()
        guard !heap.isEmpty else { return false }
        let event = pop()
        guard let action = event.action else { return true }
        event.action = nil
        now = event.time
        stepsRun += 1
        action()
        return true
    }

    /// Runs events until none remains.
    /// - Throws: ``SchedulerError/stepBudgetExceeded(steps:at:)`` after `maxSteps` events.
    public func runUntilIdle(maxSteps: Int? = nil) throws {
        let budget = maxSteps ?? defaultStepBudget
        var steps = 0
        while nextEventTime != nil {
            if steps >= budget { throw SchedulerError.stepBudgetExceeded(steps: budget, at: now) }
            step()
            steps += 1
        }
    }

    /// Runs every event due at or before `time`, then sets the clock to `time`.
    public func run(until time: VirtualTime, maxSteps: Int? = nil) throws {
        let budget = maxSteps ?? defaultStepBudget
        var steps = 0
        while let next = nextEventTime, next <= time {
            if steps >= budget { throw SchedulerError.stepBudgetExceeded(steps: budget, at: now) }
            step()
            steps += 1
        }
        if time > now { now = time }
    }

    /// Runs for a span of virtual time from now.
    public func run(for duration: VirtualDuration, maxSteps: Int? = nil) throws {
        try run(until: now + duration, maxSteps: maxSteps)
    }

    // MARK: binary heap ordered by (time, sequence)

    private func dropCancelledHead() {
        while let first = heap.first, first.event.action == nil { _ = pop() }
    }

    @inline(__always)
    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }

    private func push(_ event: ScheduledEvent) {
        heap.append(Entry(time: event.time.microseconds, sequence: event.sequence, event: event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() -> ScheduledEvent {
        let top = heap[0].event
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count, Self.before(heap[left], heap[best]) { best = left }
                if right < heap.count, Self.before(heap[right], heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
