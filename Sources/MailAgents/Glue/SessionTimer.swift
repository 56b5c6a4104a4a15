import MailSim

/// The one timer event of a session running an engine.
///
/// A deadline that moves later (the usual case: each command pushes the idle timeout back) leaves
/// the pending event alone; when it fires early, the session asks ``isDue(_:now:)`` and re-arms
/// for the engine's current deadline instead of calling the engine.
struct SessionTimer {
    private var event: ScheduledEvent?

    /// Makes sure `fire` runs no later than `deadline` (engine time); `nil` cancels.
    mutating func arm(for deadline: Duration?, in world: World, fire: @escaping () -> Void) {
        guard let deadline else {
            cancel()
            return
        }
        let at = max(VirtualTime(engineTime: deadline), world.now)
        if let current = event, current.isPending, current.time <= at { return }
        event?.cancel()
        event = world.scheduler.schedule(at: at, fire)
    }

    /// True when the pending event already fires no later than `deadline`, so that ``arm(for:in:fire:)``
    /// would do nothing: the caller can skip making the `fire` closure (one allocation per event
    /// handled by a session, most of them).
    func covers(_ deadline: Duration?, in world: World) -> Bool {
        guard let deadline, let current = event, current.isPending else { return false }
        return current.time <= max(VirtualTime(engineTime: deadline), world.now)
    }

    /// Call first thing when the event fires.
    mutating func fired() { event = nil }

    mutating func cancel() {
        event?.cancel()
        event = nil
    }

    /// Whether the engine's deadline has really come (it may have moved later since arming).
    static func isDue(_ deadline: Duration?, now: VirtualTime) -> Bool {
        guard let deadline else { return false }
        return VirtualTime(engineTime: deadline) <= now
    }
}
