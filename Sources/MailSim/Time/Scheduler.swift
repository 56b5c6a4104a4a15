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
    /// The scheduler's count of cancelled events still in its heap.
    private let cancelled: Scheduler.CancelledCount

    init(time: VirtualTime, sequence: UInt64, cancelled: Scheduler.CancelledCount, action: @escaping () -> Void) {
        self.time = time
        self.sequence = sequence
        self.cancelled = cancelled
        self.action = action
    }

    /// True while the event is still due to run.
    public var isPending: Bool { action != nil }

    /// Cancels the event.
    public func cancel() {
        guard action != nil else { return }
        action = nil
        cancelled.value += 1
    }
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
    /// A cancellable event lives in `event`; an event nobody can cancel (see ``post(after:_:)``)
    /// keeps its closure in `action` and needs no handle object.
    private struct Entry {
        var time: Int64
        var sequence: UInt64
        var event: ScheduledEvent?
        var action: (() -> Void)?

        var isCancelled: Bool { event.map { $0.action == nil } ?? false }
    }

    /// Cancelled events stay in the heap until they reach its head, or until they make up half
    /// of it: then ``compact()`` drops them all at once. Without that, the idle and connect
    /// timers that are nearly always cancelled would pile up and make every push and pop slower.
    final class CancelledCount { var value = 0 }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0
    private let cancelled = CancelledCount()

    public init() {}

    /// Schedules `action` at an absolute instant (an instant in the past runs "now", after the
    /// events already due).
    @discardableResult
    public func schedule(at time: VirtualTime, _ action: @escaping () -> Void) -> ScheduledEvent {
        let event = ScheduledEvent(time: max(time, now), sequence: nextSequence, cancelled: cancelled, action: action)
        nextSequence += 1
        if cancelled.value >= 64, cancelled.value * 2 > heap.count { compact() }
        push(Entry(time: event.time.microseconds, sequence: event.sequence, event: event, action: nil))
        return event
    }

    /// Schedules `action` after a delay from now, like ``schedule(after:_:)``, for an event that
    /// is never cancelled: no ``ScheduledEvent`` handle is made (the network's segments and
    /// connection events, several per message).
    public func post(after delay: VirtualDuration, _ action: @escaping () -> Void) {
        post(at: now + max(delay, .zero), action)
    }

    /// ``post(after:_:)`` at an absolute instant.
    public func post(at time: VirtualTime, _ action: @escaping () -> Void) {
        let entry = Entry(time: max(time, now).microseconds, sequence: nextSequence, event: nil, action: action)
        nextSequence += 1
        push(entry)
    }

    /// Schedules `action` after a delay from now.
    @discardableResult
    public func schedule(after delay: VirtualDuration, _ action: @escaping () -> Void) -> ScheduledEvent {
        schedule(at: now + max(delay, .zero), action)
    }

    /// The time of the next pending event, if any.
    public var nextEventTime: VirtualTime? {
        dropCancelledHead()
        return heap.first.map { VirtualTime(microseconds: $0.time) }
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
        runHead()
        return true
    }

    /// Runs the event at the head of the heap (not cancelled: ``dropCancelledHead()`` ran).
    private func runHead() {
        var entry = pop()
        let action: () -> Void
        if let event = entry.event {
            guard let pending = event.action.take() else { return }
            action = pending
        } else if let posted = entry.action.take() {
            // Moved out of the entry, not copied: no reference counting on the closure.
            action = posted
        } else {
            return
        }
        now = VirtualTime(microseconds: entry.time)
        stepsRun += 1
        action()
    }

    /// Runs events until none remains.
    /// - Throws: ``SchedulerError/stepBudgetExceeded(steps:at:)`` after `maxSteps` events.
    public func runUntilIdle(maxSteps: Int? = nil) throws {
        let budget = maxSteps ?? defaultStepBudget
        var steps = 0
        while true {
            dropCancelledHead()
            guard !heap.isEmpty else { return }
            if steps >= budget { throw SchedulerError.stepBudgetExceeded(steps: budget, at: now) }
            runHead()
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
        while !heap.isEmpty, heap[0].isCancelled {
            _ = pop()
            cancelled.value -= 1
        }
    }

    /// Removes every cancelled event and rebuilds the heap. The order events run in does not
    /// change: it depends only on (time, sequence), not on the heap's layout.
    private func compact() {
        heap.removeAll { $0.isCancelled }
        cancelled.value = 0
        heap.withUnsafeMutableBufferPointer { buffer in
            var index = buffer.count / 2
            while index > 0 {
                index -= 1
                Self.siftDown(buffer, from: index)
            }
        }
    }

    @inline(__always)
    private static func before(_ buffer: UnsafeMutableBufferPointer<Entry>, _ a: Int, _ b: Int) -> Bool {
        let timeA = buffer[a].time, timeB = buffer[b].time
        return timeA != timeB ? timeA < timeB : buffer[a].sequence < buffer[b].sequence
    }

    private func push(_ entry: Entry) {
        heap.append(entry)
        heap.withUnsafeMutableBufferPointer { buffer in
            var child = buffer.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.before(buffer, child, parent) else { break }
                buffer.swapAt(child, parent)
                child = parent
            }
        }
    }

    private func pop() -> Entry {
        let last = heap.removeLast()
        if heap.isEmpty { return last }
        // Moved, not copied: the entries' references change owner without retain or release.
        return heap.withUnsafeMutableBufferPointer { buffer in
            let top = buffer.baseAddress!.move()
            buffer.baseAddress!.initialize(to: last)
            Self.siftDown(buffer, from: 0)
            return top
        }
    }

    private static func siftDown(_ buffer: UnsafeMutableBufferPointer<Entry>, from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < buffer.count, before(buffer, left, best) { best = left }
            if right < buffer.count, before(buffer, right, best) { best = right }
            if best == parent { break }
            buffer.swapAt(parent, best)
            parent = best
        }
    }
}
