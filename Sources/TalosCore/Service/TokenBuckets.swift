import Synchronization

/// Token buckets per client (spec §15.5, §16.16): each client may spend `burst` requests at once and `rate` per
/// second after. An IPv6 client is its /64 (one subscriber's allocation), an IPv4 client its address.
///
/// Memory is bounded: at most `maxClients` buckets are kept, and a new client evicts the least recently used one
/// (so that a flood of new addresses cannot reset the buckets of the clients being limited).
public final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Int64  // microseconds
    }

    /// The buckets in recency order: a doubly linked list through the dictionary, newest at `head`.
    private struct Buckets {
        struct Entry {
            var bucket: Bucket
            var newer: IPAddress?
            var older: IPAddress?
        }

        var entries: [IPAddress: Entry] = [:]
        var head: IPAddress?
        var tail: IPAddress?

        /// Removes `client` from the list and returns its bucket.
        mutating func remove(_ client: IPAddress) -> Bucket? {
            guard let entry = entries.removeValue(forKey: client) else { return nil }
            if let newer = entry.newer { entries[newer]?.older = entry.older } else { head = entry.older }
            if let older = entry.older { entries[older]?.newer = entry.newer } else { tail = entry.newer }
            return entry.bucket
        }

        /// Stores `bucket` for `client` as the most recently used.
        mutating func insertNewest(_ client: IPAddress, _ bucket: Bucket) {
            entries[client] = Entry(bucket: bucket, newer: nil, older: head)
            if let head { entries[head]?.newer = client } else { tail = client }
            head = client
        }
    }

    private let rate: Double
    private let burst: Double
    private let maxClients: Int
    private let clock: any WallClock
    private let buckets = Mutex(Buckets())

    /// - Parameters:
    ///   - rate: tokens added per second.
    ///   - burst: bucket size.
    ///   - maxClients: buckets kept at most.
    /// The limiter is off (every request allowed) when either is 0.
    public init(rate: Double, burst: Int, maxClients: Int = 100_000, clock: any WallClock) {
        self.rate = rate
        self.burst = Double(burst)
        self.maxClients = max(1, maxClients)
        self.clock = clock
    }

    /// Whether the limit is in force.
    public var isEnabled: Bool { rate > 0 && burst > 0 }

    /// How many clients have a bucket.
    public var clientCount: Int { buckets.withLock { $0.entries.count } }

    /// The bucket a client address spends from: its /64 for IPv6, the address for IPv4; one shared bucket for
    /// requests without an address.
    public static func client(_ address: IPAddress?) -> IPAddress {
        guard let address else { return IPAddress(bytes: []) }
        guard address.bytes.count == 16 else { return address }
        return IPAddress(bytes: Array(address.bytes[0..<8]) + Array(repeating: 0, count: 8))
    }

    /// Takes one token for the client at `address`; `nil` when allowed, otherwise how long until a token is
    /// available.
    public func take(_ address: IPAddress?) -> Duration? {
        guard isEnabled else { return nil }
        let client = Self.client(address)
        let now = clock.now().microseconds
        return buckets.withLock { buckets -> Duration? in
            var bucket = buckets.remove(client) ?? Bucket(tokens: burst, updated: now)
            let elapsed = Double(max(0, now - bucket.updated)) / 1_000_000
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updated = now
            var wait: Duration?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
            } else {
                wait = .microseconds(Int64(((1 - bucket.tokens) / rate * 1_000_000).rounded(.up)))
            }
            while buckets.entries.count >= maxClients, let oldest = buckets.tail { _ = buckets.remove(oldest) }
            buckets.insertNewest(client, bucket)
            return wait
        }
    }
}
