/// When a queued message is tried again, warned about, and given up on.
///
/// The defaults follow Postfix: `minimal_backoff_time` 300 s, doubling up to
/// `maximal_backoff_time` 4000 s (about 67 minutes), `delay_warning_time` 4 h and
/// `maximal_queue_lifetime` 5 days. All are in virtual seconds and a scenario may change them.
public struct RetrySchedule: Equatable, Sendable {
    public var firstRetrySeconds: Int64
    public var maximalBackoffSeconds: Int64
    public var delayWarningSeconds: Int64?
    public var maximalLifetimeSeconds: Int64
    /// An explicit list of waits (a scenario's `retry: [5m, 30m, 1h]`): the n-th failure waits
    /// the n-th delay, the last one repeating. Empty: Postfix's doubling back-off.
    public var explicitDelays: [Int64] = []

    public init(firstRetrySeconds: Int64 = 300,
                maximalBackoffSeconds: Int64 = 4000,
                delayWarningSeconds: Int64? = 4 * 3600,
                maximalLifetimeSeconds: Int64 = 5 * 86_400) {
        self.firstRetrySeconds = max(1, firstRetrySeconds)
        self.maximalBackoffSeconds = max(self.firstRetrySeconds, maximalBackoffSeconds)
        self.delayWarningSeconds = delayWarningSeconds
        self.maximalLifetimeSeconds = max(0, maximalLifetimeSeconds)
    }

    public static let postfix = RetrySchedule()

    /// A schedule that waits exactly these delays between attempts (the last one repeating).
    public static func explicit(_ delays: [Int64], delayWarningSeconds: Int64? = 4 * 3600,
                                maximalLifetimeSeconds: Int64 = 5 * 86_400) -> RetrySchedule {
        let positive = delays.map { max(1, $0) }
        var schedule = RetrySchedule(firstRetrySeconds: positive.first ?? 300, maximalBackoffSeconds: positive.max() ?? 4000,
                                     delayWarningSeconds: delayWarningSeconds, maximalLifetimeSeconds: maximalLifetimeSeconds)
        schedule.explicitDelays = positive
        return schedule
    }

    /// The wait after the `failedAttempts`-th failed attempt (1 for the first failure):
    /// 300, 600, 1200, 2400, 4000, 4000, … seconds with the defaults.
    public func backoff(afterFailedAttempts failedAttempts: Int) -> Int64 {
        if let last = explicitDelays.last {
            let index = max(0, failedAttempts - 1)
            return max(1, index < explicitDelays.count ? explicitDelays[index] : last)
        }
        var delay = firstRetrySeconds
        var step = 1
        while step < failedAttempts && delay < maximalBackoffSeconds {
            delay = delay > maximalBackoffSeconds / 2 ? maximalBackoffSeconds : delay * 2
            step += 1
        }
        return min(delay, maximalBackoffSeconds)
    }
}
