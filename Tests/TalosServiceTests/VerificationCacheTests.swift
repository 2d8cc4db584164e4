import TalosCore
import TalosTesting
import Testing

/// Spec §5.9, §15.10: the cache on its own, with a manual clock.
@Suite struct VerificationCacheTests {
    static let nid = UUIDText.nilUUID

    static func key(_ id: String, metadata: String = "", expires: Timestamp? = nil) -> APIKey {
        APIKey(
            kind: .issued,
            nid: nid,
            keyID: id,
            name: "n",
            actorID: "a",
            createTime: Timestamp(seconds: 1_780_000_000),
            updateTime: Timestamp(seconds: 1_780_000_000),
            expireTime: expires,
            metadata: metadata.isEmpty ? [:] : ["blob": .string(metadata)]
        )
    }

    @Test func ttlAndKeyExpiryBoundEntries() {
        let clock = ManualClock()
        let cache = VerificationCache(maxBytes: 1 << 20, clock: clock)
        let now = clock.now()
        cache.put(Self.key("a"), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        cache.put(Self.key("b", expires: now.adding(seconds: 10)), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        cache.put(Self.key("c"), ticket: cache.ticket(), ttl: .zero, now: now)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) != nil)
        #expect(cache.get(kind: .imported, nid: Self.nid, keyID: "a", now: now) == nil)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "c", now: now) == nil)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "b", now: now.adding(seconds: 10)) == nil)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now.adding(seconds: 59)) != nil)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now.adding(seconds: 60)) == nil)
        #expect(cache.usage.entries == 0)
    }

    @Test func leastRecentlyUsedGoesFirstWithinTheByteBound() {
        let clock = ManualClock()
        let blob = String(repeating: "x", count: 10_000)
        let cache = VerificationCache(maxBytes: 95_000, clock: clock)
        let now = clock.now()
        for id in ["a", "b", "c", "d"] {
            cache.put(Self.key(id, metadata: blob), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        }
        #expect(cache.usage.entries == 4 && cache.usage.bytes <= 95_000)
        _ = cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now)  // a is now the most recently used
        cache.put(Self.key("e", metadata: blob), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "b", now: now) == nil)
        for id in ["a", "c", "d", "e"] { #expect(cache.get(kind: .issued, nid: Self.nid, keyID: id, now: now) != nil) }
        #expect(cache.usage.bytes <= 95_000)
        cache.put(
            Self.key("huge", metadata: String(repeating: "y", count: 50_000)),
            ticket: cache.ticket(),
            ttl: .seconds(60),
            now: now
        )
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "huge", now: now) == nil)
    }

    /// A record read before an invalidation is never cached after it.
    @Test func aReadThatRacedAnInvalidationIsDiscarded() {
        let clock = ManualClock()
        let cache = VerificationCache(maxBytes: 1 << 20, clock: clock)
        let now = clock.now()
        let before = cache.ticket()
        cache.invalidated(nid: Self.nid, keyID: "a")
        cache.put(Self.key("a"), ticket: before, ttl: .seconds(60), now: now)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) == nil)
        cache.put(Self.key("a"), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) != nil)
        cache.invalidated(nid: Self.nid, keyID: "a")
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) == nil)
    }

    /// While the invalidation feed is down nothing is read or written; when it returns the cache starts empty.
    @Test func aLostFeedDisablesAndClears() {
        let clock = ManualClock()
        let cache = VerificationCache(maxBytes: 1 << 20, clock: clock, startsAvailable: false)
        let now = clock.now()
        cache.put(Self.key("a"), ticket: cache.ticket(), ttl: .seconds(60), now: now)
        #expect(cache.usage.entries == 0 && !cache.isAvailable)
        cache.feedRestored()
        let ticket = cache.ticket()
        cache.put(Self.key("a"), ticket: ticket, ttl: .seconds(60), now: now)
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) != nil)
        cache.feedLost()
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) == nil)
        cache.feedRestored()
        cache.put(Self.key("a"), ticket: ticket, ttl: .seconds(60), now: now)  // read before the loss
        #expect(cache.get(kind: .issued, nid: Self.nid, keyID: "a", now: now) == nil)
    }

    @Test(arguments: [
        (["no-cache"], [], false, true), (["No-Store"], [], false, false), (["max-age=0, no-cache"], [], false, true),
        ([], ["no-cache"], false, true), (["private"], [], true, true), ([], [], true, true),
    ])
    func directives(cacheControl: [String], pragma: [String], read: Bool, write: Bool) {
        #expect(
            CacheDirectives(cacheControl: cacheControl, pragma: pragma) == CacheDirectives(read: read, write: write)
        )
    }

    /// GCRA: exactly `quota` admitted from a full bucket, then one per emission interval, and never `2 × quota` in
    /// any window-long stretch (a fixed window admits that across its boundary); keys are independent.
    @Test func memoryLimiterIsGCRA() async throws {
        let limiter = MemoryRateLimiter()
        let limit = GCRALimit(RateLimitPolicy(quota: 5, windowSeconds: 10))  // one every 2 s, a burst of 5
        let start = Timestamp(seconds: 1_780_000_009)
        func admit(_ key: String = "k", at offset: Int64) async throws -> Bool {
            try await limiter.admit(nid: "n", keyID: key, limit: limit, now: start.adding(nanoseconds: offset)).admitted
        }
        var burst = 0
        for _ in 0..<8 where try await admit(at: 0) { burst += 1 }
        #expect(burst == 5)
        #expect(try await admit("other", at: 0))
        #expect(try await !admit(at: 1_999_000_000))
        #expect(try await admit(at: 2_000_000_000))
        #expect(try await !admit(at: 2_000_000_000))
        // Requests every 100 ms for 60 s: admitted one per 2 s, and at most 2 × 5 − 1 in any 10-s stretch.
        let steady = MemoryRateLimiter()
        var admitted: [Int64] = []
        for step in Int64(0)..<600 {
            let now = start.adding(nanoseconds: step * 100_000_000)
            if try await steady.admit(nid: "n", keyID: "k", limit: limit, now: now).admitted { admitted.append(step) }
        }
        #expect(admitted.count == 5 + 29)  // the burst, then one per 2 s over the remaining 59.9 s
        let densest = admitted.indices.map { i in admitted[i...].prefix { $0 < admitted[i] + 100 }.count }.max()
        #expect(densest == 9)
    }
}
