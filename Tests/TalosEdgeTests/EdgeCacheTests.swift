import HTTPTypes
import TalosCore
import TalosEdge
import TalosOpenSSL
import Testing

/// The edge cache (docs/edge.md): usable only while the feed is up, evicted by key id, and never storing an answer
/// that may predate an eviction.
@Suite struct EdgeCacheTests {
    static func cache(maxBytes: Int = 1 << 20) throws -> EdgeCache {
        let cache = EdgeCache(maxBytes: maxBytes, crypto: try OpenSSLCrypto())
        cache.feed("", open: true)
        return cache
    }

    static func put(
        _ cache: EdgeCache,
        _ key: [UInt8],
        keyID: String,
        ticket: UInt64? = nil,
        ttl: Duration = .seconds(60)
    ) {
        cache.put(key, body: Array("{}".utf8), headers: [:], keyID: keyID, ttl: ttl, ticket: ticket ?? cache.ticket())
    }

    @Test func keysSeparateHostAdminKeyAndCredential() throws {
        let cache = try Self.cache()
        let keys = [
            cache.key(host: "a", adminKey: "k", credential: "c"), cache.key(host: "a", adminKey: "", credential: "kc"),
            cache.key(host: "ak", adminKey: "", credential: "c"), cache.key(host: "a", adminKey: "k", credential: "d"),
        ]
        #expect(Set(keys).count == 4 && keys.allSatisfy { $0.count == 32 })
        #expect(cache.key(host: "a", adminKey: "k", credential: "c") == keys[0])
    }

    @Test func evictionByKeyIDAndTheTicketRace() throws {
        let cache = try Self.cache()
        let key = cache.key(host: "h", adminKey: "", credential: "secret")
        Self.put(cache, key, keyID: "k1")
        #expect(cache.get(key) != nil)
        cache.evict(keyID: "k1")
        #expect(cache.get(key) == nil)
        // An answer fetched before a revocation and stored after it is refused.
        let ticket = cache.ticket()
        cache.evict(keyID: "k1")
        Self.put(cache, key, keyID: "k1", ticket: ticket)
        #expect(cache.get(key) == nil)
        // Another key's eviction does not refuse it.
        let fresh = cache.ticket()
        cache.evict(keyID: "k2")
        Self.put(cache, key, keyID: "k1", ticket: fresh)
        #expect(cache.get(key) != nil)
    }

    @Test func nothingWhileTheFeedIsDown() throws {
        let cache = try Self.cache()
        let key = cache.key(host: "h", adminKey: "", credential: "secret")
        Self.put(cache, key, keyID: "k")
        cache.feed("", open: false)
        #expect(cache.get(key) == nil)
        Self.put(cache, key, keyID: "k")
        cache.feed("", open: true)
        #expect(cache.get(key) == nil)  // emptied when the feed came back: revocations may have been missed
        let ticket = cache.ticket()
        cache.clear()  // a reset
        Self.put(cache, key, keyID: "k", ticket: ticket)
        #expect(cache.get(key) == nil)
    }

    @Test func usableOnlyWhileEveryTenantsFeedIsOpen() throws {
        let cache = EdgeCache(maxBytes: 1 << 20, crypto: try OpenSSLCrypto(), feeds: 2)
        let key = cache.key(host: "a.example", adminKey: "", credential: "secret")
        cache.feed("a.example", open: true)
        #expect(!cache.isAvailable)
        cache.feed("b.example", open: true)
        #expect(cache.isAvailable)
        Self.put(cache, key, keyID: "k")
        #expect(cache.get(key) != nil)
        cache.feed("b.example", open: false)
        #expect(!cache.isAvailable && cache.get(key) == nil)
    }

    @Test func expiryAndTheByteBudget() throws {
        let cache = try Self.cache(maxBytes: 4096)
        let short = cache.key(host: "h", adminKey: "", credential: "short")
        Self.put(cache, short, keyID: "s", ttl: .milliseconds(1))
        #expect(cache.get(short, now: .now + .milliseconds(5)) == nil)
        var keys: [[UInt8]] = []
        for index in 0..<100 {
            let key = cache.key(host: "h", adminKey: "", credential: "c\(index)")
            keys.append(key)
            Self.put(cache, key, keyID: "k\(index)")
        }
        #expect(cache.usage.bytes <= 4096 && cache.usage.entries < 100)
        #expect(cache.get(keys[99]) != nil && cache.get(keys[0]) == nil)  // the oldest went first
    }
}
