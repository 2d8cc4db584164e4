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

    @Test func tokenBucketsRefillAndBoundMemory() {
        let clock = ManualClock()
        func advance(milliseconds: Int64) { clock.set(clock.now().adding(nanoseconds: milliseconds * 1_000_000)) }
        let buckets = TokenBuckets(rate: 2, burst: 3, maxClients: 2, clock: clock)
        #expect((0..<3).allSatisfy { _ in buckets.take("a") == nil })
        #expect(buckets.take("a") == .milliseconds(500))
        advance(milliseconds: 250)
        #expect(buckets.take("a") == .milliseconds(250))
        advance(milliseconds: 250)
        #expect(buckets.take("a") == nil)
        #expect(buckets.take("b") == nil)
        #expect(buckets.take("c") == nil)  // over maxClients: nobody refilled, so all are dropped
        #expect(buckets.take("a") == nil)  // a fresh bucket again
        #expect(TokenBuckets(rate: 0, burst: 3, clock: clock).take("a") == nil)
    }
}
