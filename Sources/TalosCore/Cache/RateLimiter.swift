import Synchronization

/// Per-key rate limits by the generic cell rate algorithm (GCRA, docs/rate-limits.md), as Ory documents them: a
/// policy of `quota` per `window` admits one request every emission interval `window / quota`, with a burst of
/// `quota` from a full bucket, and never `2 × quota` across any window boundary. Each key's whole state is one
/// instant, its theoretical arrival time (TAT).
public protocol RateLimiter: Sendable {
    /// Decides one request of `(nid, keyID)` at `now` and stores the key's new TAT, atomically.
    /// - Throws: when the store fails; callers fail open.
    func admit(nid: String, keyID: String, limit: GCRALimit, now: Timestamp) async throws -> GCRADecision
}

/// A policy in the units the algorithm uses.
public struct GCRALimit: Sendable, Hashable {
    /// The policy's quota.
    public let quota: Int64
    /// The policy's window, in microseconds.
    public let window: Int64
    /// `window / quota`, at least one microsecond.
    public let emission: Int64

    /// The limit of `policy`.
    public init(_ policy: RateLimitPolicy) {
        quota = max(policy.quota, 1)
        window = policy.windowSeconds * 1_000_000
        emission = max(window / quota, 1)
    }

    /// GCRA's step: a request at `now` against a stored TAT (`nil`: a full bucket) is admitted when the TAT it would
    /// leave is at most one window ahead; an admitted request moves the TAT by one emission interval, a refused one
    /// leaves it.
    public func decide(storedTAT: Int64?, now: Int64) -> GCRADecision {
        let tat = max(storedTAT ?? now, now)
        let next = tat + emission
        return next - now <= window ? GCRADecision(admitted: true, tat: next) : GCRADecision(admitted: false, tat: tat)
    }
}

/// What the limiter decided for one request.
public struct GCRADecision: Sendable, Hashable {
    /// Whether the request was admitted.
    public let admitted: Bool
    /// The key's theoretical arrival time afterwards, in microseconds since the epoch: the instant its bucket is full
    /// again.
    public let tat: Int64

    /// A decision with the TAT it leaves.
    public init(admitted: Bool, tat: Int64) {
        self.admitted = admitted
        self.tat = tat
    }
}

/// What the limiter decided for one verification, as the API reports it.
public struct RateLimitOutcome: Sendable, Hashable {
    /// The policy's quota.
    public let limit: Int64
    /// Requests the bucket would admit right now after this one (0 when refused).
    public let remaining: Int64
    /// When the bucket is full again (the TAT).
    public let resetTime: Timestamp
    /// The window's length in seconds.
    public let windowSeconds: Int64
    /// Whether this verification was refused.
    public let exceeded: Bool
    /// Whole seconds until a request would be admitted (at least 1); `0` when admitted.
    public let retryAfterSeconds: Int64

    /// The outcome of `decision` under `limit` at `now`.
    public init(_ decision: GCRADecision, limit: GCRALimit, now: Timestamp) {
        let ahead = decision.tat - now.microseconds
        self.limit = limit.quota
        self.remaining = decision.admitted ? max(0, (limit.window - ahead) / limit.emission) : 0
        self.resetTime = Timestamp(microseconds: decision.tat)
        self.windowSeconds = limit.window / 1_000_000
        self.exceeded = !decision.admitted
        // Admitted again once the TAT is at most one window minus one emission interval ahead.
        let wait = ahead + limit.emission - limit.window
        self.retryAfterSeconds = decision.admitted ? 0 : max(1, (wait + 999_999) / 1_000_000)
    }

    /// Whole seconds until the bucket is full again.
    public func secondsUntilFull(at now: Timestamp) -> Int64 {
        max(0, (resetTime.microseconds - now.microseconds + 999_999) / 1_000_000)
    }
}

/// TATs in this process (`rate_limit.backend = memory`): with N nodes the effective limit is up to N × quota. Keys
/// whose bucket is full again are forgotten at most every 10 s.
public final class MemoryRateLimiter: RateLimiter {
    private struct Identity: Hashable {
        let nid: String
        let keyID: String
    }

    private struct State {
        var tats: [Identity: Int64] = [:]
        var lastSweep: Int64 = 0
    }

    private let state = Mutex(State())

    /// Starts with every bucket full.
    public init() {}

    /// Decides under a lock in this process; never throws.
    public func admit(nid: String, keyID: String, limit: GCRALimit, now: Timestamp) async throws -> GCRADecision {
        let identity = Identity(nid: nid, keyID: keyID)
        let instant = now.microseconds
        return state.withLock { state in
            if instant - state.lastSweep >= 10_000_000 {
                state.lastSweep = instant
                state.tats = state.tats.filter { $0.value > instant }
            }
            let decision = limit.decide(storedTAT: state.tats[identity], now: instant)
            state.tats[identity] = decision.tat
            return decision
        }
    }
}
