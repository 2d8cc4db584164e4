import Synchronization

/// Counts verifications per key and fixed window (spec §5.7, §15.9).
public protocol RateLimiter: Sendable {
    /// Adds one to the counter of `(nid, keyID, windowStart)` and returns the new count.
    /// - Parameters:
    ///   - windowStart: the window's start in Unix seconds, aligned to the window length.
    ///   - windowSeconds: the window's length, for expiring old counters.
    /// - Throws: when the counter store fails; callers fail open.
    func increment(
        nid: String,
        keyID: String,
        windowStart: Int64,
        windowSeconds: Int64,
        now: Timestamp
    ) async throws
        -> Int64
}

/// What the limiter decided for one verification.
public struct RateLimitOutcome: Sendable, Hashable {
    /// The policy's quota.
    public let limit: Int64
    /// `max(quota − count, 0)`.
    public let remaining: Int64
    /// The end of the current window.
    public let resetTime: Timestamp
    /// The window's length in seconds.
    public let windowSeconds: Int64
    /// Whether this verification was over the quota.
    public let exceeded: Bool
}

/// Counters in this process (`rate_limit.backend = memory`): with N nodes the effective limit is up to N × quota.
/// Counters of windows that have ended are swept as new windows start.
public final class MemoryRateLimiter: RateLimiter {
    private struct State {
        var counters: [String: (count: Int64, windowEnd: Int64)] = [:]
        var lastSweep: Int64 = 0
    }

    private let state = Mutex(State())

    /// Starts with no counters.
    public init() {}

    /// Counts under a lock in this process and never throws; ended windows' counters are swept at most every 10 s.
    public func increment(
        nid: String,
        keyID: String,
        windowStart: Int64,
        windowSeconds: Int64,
        now: Timestamp
    )
        async throws -> Int64
    {
        let identity = "\(nid):\(keyID):\(windowStart)"
        return state.withLock { state in
            if now.seconds - state.lastSweep >= 10 {
                state.lastSweep = now.seconds
                state.counters = state.counters.filter { $0.value.windowEnd > now.seconds }
            }
            let count = (state.counters[identity]?.count ?? 0) + 1
            state.counters[identity] = (count, windowStart + windowSeconds)
            return count
        }
    }
}
