import TalosCore
import Testing

@testable import TalosHummingbird

@Suite struct IdentityCacheTests {
    static func identity(_ keyID: String) -> TalosIdentity {
        TalosIdentity(
            verifiedBy: .talos,
            keyID: keyID,
            actorID: "",
            scopes: [],
            metadata: [:],
            audiences: [],
            expireTime: nil
        )
    }

    @Test func boundedAgedAndEvictableByKey() {
        var cache = IdentityCache(capacity: 3)
        let now = ContinuousClock.now
        let later = now + .seconds(60)
        cache.insert(Self.identity("a"), hash: [1], expiry: later)
        cache.insert(Self.identity("a"), hash: [2], expiry: later)  // the same key by another credential (a macaroon)
        cache.insert(Self.identity("b"), hash: [3], expiry: now + .seconds(1))
        cache.insert(Self.identity("c"), hash: [4], expiry: later)  // full: the oldest entry goes
        #expect(cache.count == 3 && cache.lookup([1], now: now) == nil && cache.lookup([4], now: now)?.keyID == "c")
        #expect(cache.lookup([3], now: now + .seconds(2)) == nil && cache.count == 2)  // aged out, and removed
        #expect(cache.evict(keyID: "a") == 1 && cache.lookup([2], now: now) == nil)
        #expect(cache.evict(keyID: "a") == 0 && cache.count == 1)
        cache.removeAll()
        #expect(cache.count == 0)
    }

    @Test func churnKeepsTheQueueBounded() {
        var cache = IdentityCache(capacity: 10)
        let later = ContinuousClock.now + .seconds(60)
        for index in 0..<100_000 {
            cache.insert(
                Self.identity("k\(index)"),
                hash: [UInt8(index & 0xff), UInt8(index >> 8 & 0xff)],
                expiry: later
            )
            cache.evict(keyID: "k\(index)")
        }
        #expect(cache.count == 0 && cache.queueLength <= 2 * 512 + 1)
    }

    /// A full cache under churn: each insert drops the oldest; the queue's storage must not keep the spent prefix.
    @Test func churnAtCapacityKeepsTheStorageBounded() {
        var cache = IdentityCache(capacity: 10)
        let later = ContinuousClock.now + .seconds(60)
        for index in 0..<100_000 {
            cache.insert(
                Self.identity("k\(index)"),
                hash: [UInt8(index & 0xff), UInt8(index >> 8 & 0xff), UInt8(index >> 16)],
                expiry: later
            )
        }
        #expect(cache.count == 10 && cache.queueStorage <= 2 * 1024 + 10)
    }
}
