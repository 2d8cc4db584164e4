import Synchronization

/// Token buckets per client (spec §15.5): each client may spend `burst` requests at once and `rate` per second after.
///
/// Memory is bounded: at most `maxClients` buckets are kept; when full, buckets that have refilled completely (which
/// behave exactly like absent ones) are dropped first, and if none have, every bucket is dropped.
public final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Int64  // microseconds
    }

    private let rate: Double
    private let burst: Double
    private let maxClients: Int
    private let clock: any WallClock
    private let buckets = Mutex<[String: Bucket]>([:])

    /// - Parameters:
    ///   - rate: tokens added per second.
    ///   - burst: bucket size.
    /// The limiter is off (every request allowed) when either is 0.
    public init(rate: Double, burst: Int, maxClients: Int = 100_000, clock: any WallClock) {
        self.rate = rate
        self.burst = Double(burst)
        self.maxClients = maxClients
        self.clock = clock
    }

    /// Whether the limit is in force.
    public var isEnabled: Bool { rate > 0 && burst > 0 }

    /// Takes one token for `client`; `nil` when allowed, otherwise how long until a token is available.
    public func take(_ client: String) -> Duration? {
        guard isEnabled else { return nil }
        let now = clock.now().microseconds
        return buckets.withLock { buckets -> Duration? in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = Double(max(0, now - bucket.updated)) / 1_000_000
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[client] = bucket
                return .microseconds(Int64(((1 - bucket.tokens) / rate * 1_000_000).rounded(.up)))
            }
            bucket.tokens -= 1
            if buckets[client] == nil, buckets.count >= maxClients { evictRefilled(&buckets, now: now) }
            buckets[client] = bucket
            return nil
        }
    }

    private func evictRefilled(_ buckets: inout [String: Bucket], now: Int64) {
        buckets = buckets.filter { $0.value.tokens + Double(now - $0.value.updated) / 1_000_000 * rate < burst }
        if buckets.count >= maxClients { buckets.removeAll(keepingCapacity: true) }
    }
}
