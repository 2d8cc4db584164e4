import TalosCore
import TalosTesting
import Testing

/// Spec §5.6 as amended by §15.2.
@Suite struct ClientIPTests {
    private func resolve(
        _ source: ClientIPSource,
        trusted: [String] = [],
        peer: String? = "203.0.113.9",
        _ headers: [String: [String]] = [:]
    ) -> String? {
        let resolver = ClientIPResolver(source: source, trustedProxies: trusted.compactMap { CIDR($0) })
        return resolver.resolve(peer: peer.flatMap { IPAddress($0) }) { headers[$0] ?? [] }?.description
    }

    @Test func forwardedForTakesTheRightMostUntrustedHop() {
        let spoofed = ["X-Forwarded-For": ["10.0.0.1, 198.51.100.7", "192.0.2.1"]]
        // Every field is one list; without trusted proxies the nearest hop's entry wins.
        #expect(resolve(.xForwardedFor, spoofed) == "192.0.2.1")
        // Behind trusted proxies, the right-most address outside them.
        #expect(resolve(.xForwardedFor, trusted: ["192.0.2.0/24"], peer: "192.0.2.50", spoofed) == "198.51.100.7")
        #expect(
            resolve(.xForwardedFor, trusted: ["192.0.2.0/24", "198.51.100.0/24"], peer: "192.0.2.50", spoofed)
                == "10.0.0.1"
        )
        // Every hop trusted: the farthest.
        #expect(resolve(.xForwardedFor, trusted: ["0.0.0.0/0"], peer: "192.0.2.50", spoofed) == "10.0.0.1")
        #expect(resolve(.xForwardedFor, ["X-Forwarded-For": ["10.0.0.1, junk"]]) == nil)
        #expect(resolve(.xForwardedFor) == nil)
    }

    @Test func untrustedPeersHeadersAreIgnored() {
        let headers = ["X-Forwarded-For": ["10.0.0.1"], "X-Real-IP": ["10.0.0.2"], "CF-Connecting-IP": ["10.0.0.3"]]
        for source in [ClientIPSource.xForwardedFor, .xRealIP, .cfConnectingIP, .trueClientIP] {
            #expect(resolve(source, trusted: ["192.0.2.0/24"], peer: "203.0.113.9", headers) == "203.0.113.9")
        }
        #expect(resolve(.xRealIP, trusted: ["192.0.2.0/24"], peer: "192.0.2.1", headers) == "10.0.0.2")
        #expect(resolve(.cfConnectingIP, headers) == "10.0.0.3")
        #expect(resolve(.remoteAddr, headers) == "203.0.113.9")
        #expect(resolve(.xForwardedFor, trusted: ["192.0.2.0/24"], peer: nil, headers) == nil)
    }

    @Test func tokenBucketsRefill() throws {
        let clock = ManualClock()
        func advance(milliseconds: Int64) { clock.set(clock.now().adding(nanoseconds: milliseconds * 1_000_000)) }
        let buckets = TokenBuckets(rate: 2, burst: 3, clock: clock)
        let client = try #require(IPAddress("192.0.2.1"))
        #expect((0..<3).allSatisfy { _ in buckets.take(client) == nil })
        #expect(buckets.take(client) == .milliseconds(500))
        advance(milliseconds: 250)
        #expect(buckets.take(client) == .milliseconds(250))
        advance(milliseconds: 250)
        #expect(buckets.take(client) == nil)
        #expect(buckets.take(IPAddress("192.0.2.2")) == nil)  // another IPv4 address, another bucket
        #expect(TokenBuckets(rate: 0, burst: 3, clock: clock).take(client) == nil)
    }

    /// Spec §16.16: an IPv6 client is its /64 — an attacker who holds one cannot get a bucket per address.
    @Test func tokenBucketsKeyIPv6ByItsSlash64() throws {
        let buckets = TokenBuckets(rate: 1, burst: 2, clock: ManualClock())
        #expect(buckets.take(IPAddress("2001:db8:1:2::1")) == nil)
        #expect(buckets.take(IPAddress("2001:db8:1:2:ffff:ffff:ffff:fffe")) == nil)
        for host in 1...1000 {
            #expect(buckets.take(IPAddress("2001:db8:1:2::\(String(host, radix: 16))")) != nil)
        }
        #expect(buckets.clientCount == 1)
        #expect(buckets.take(IPAddress("2001:db8:1:3::1")) == nil)  // the next /64 is another client
    }

    /// Spec §16.16: memory stays bounded by evicting the least recently used bucket; a flood of new clients never
    /// resets the ones being limited.
    @Test func tokenBucketsEvictTheLeastRecentlyUsed() throws {
        let buckets = TokenBuckets(rate: 1, burst: 1, maxClients: 3, clock: ManualClock())
        let limited = try #require(IPAddress("198.51.100.7"))
        #expect(buckets.take(limited) == nil)
        #expect(buckets.take(limited) != nil)
        for index in 0..<10_000 {
            // Each new client evicts the oldest other one; the limited client, used in between, stays.
            #expect(buckets.take(IPAddress("10.\(index / 65536).\(index / 256 % 256).\(index % 256)")) == nil)
            if index % 2 == 1 { #expect(buckets.take(limited) != nil) }
        }
        #expect(buckets.clientCount == 3)
        let b = try #require(IPAddress("203.0.113.2"))
        let c = try #require(IPAddress("203.0.113.3"))
        #expect(buckets.take(b) == nil && buckets.take(b) != nil)
        #expect(buckets.take(limited) != nil)
        #expect(buckets.take(c) == nil)  // full: evicts the least recently used, a flood client, not b or limited
        #expect(buckets.take(b) != nil && buckets.take(limited) != nil)
    }
}
