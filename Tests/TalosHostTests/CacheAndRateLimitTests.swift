import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

/// Spec §5.7, §5.9 over HTTP on one node (SQLite: local eviction is the invalidation).
@Suite struct CacheAndRateLimitTests {
    static let cacheHeader = HTTPField.Name("Ory-Talos-Cache")!

    static func cachedConfig() -> TalosConfig {
        var config = testConfig()
        config.cacheType = .memory
        config.cacheEnabled = true
        return config
    }

    @Test func hitMissSkipAndEvictionOnRevoke() async throws {
        try await withAPI(Self.cachedConfig()) { api async throws in
            let (keyID, secret) = try await api.issue()
            let miss = try await api.verify(secret)
            #expect(miss.headers[Self.cacheHeader] == "MISS" && miss.json["is_valid"] == true)
            let hit = try await api.verify(secret)
            #expect(hit.headers[Self.cacheHeader] == "HIT" && hit.json == miss.json)
            #expect(try await api.verify(secret, noCache: true).headers[Self.cacheHeader] == "SKIP")
            let noStore = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": .string(secret)],
                headers: [.cacheControl: "no-store"]
            )
            #expect(noStore.headers[Self.cacheHeader] == "SKIP")
            let forged = String(secret.dropLast()) + (secret.last == "x" ? "y" : "x")
            #expect(try await api.verify(forged).headers[Self.cacheHeader] == "SKIP")  // refused before any lookup
            _ = try await api.revoke(keyID)
            let revoked = try await api.verify(secret)
            #expect(
                revoked.json["error_code"] == "VERIFICATION_ERROR_REVOKED"
                    && revoked.headers[Self.cacheHeader] == "MISS"
            )
            #expect(try await api.verify(secret).headers[Self.cacheHeader] == "MISS")  // never a negative entry
            // An update evicts too: the next verify sees the new metadata.
            let (otherID, other) = try await api.issue()
            _ = try await api.verify(other)
            _ = try await api.send(.patch, "/v2alpha1/admin/issuedApiKeys/\(otherID)", #"{"metadata":{"v":2}}"#)
            let updated = try await api.verify(other)
            #expect(updated.headers[Self.cacheHeader] == "MISS" && updated.json["metadata"] == ["v": 2])
        }
        try await withAPI { api async throws in
            let (_, secret) = try await api.issue()
            #expect(try await api.verify(secret).headers[Self.cacheHeader] == "SKIP")
        }
    }

    /// Every mutation that ends a key's validity evicts it before answering: rotation (the old secret), self-revoke
    /// and deleting an imported key. Each secret is served from the cache (HIT) just before.
    @Test func rotateSelfRevokeAndDeleteEvict() async throws {
        try await withAPI(Self.cachedConfig()) { api async throws in
            func cached(_ credential: String) async throws -> Bool {
                _ = try await api.verify(credential)
                let again = try await api.verify(credential)
                return again.headers[Self.cacheHeader] == "HIT" && again.json["is_valid"] == true
            }
            let (rotatedID, rotated) = try await api.issue()
            #expect(try await cached(rotated))
            let rotation = try await api.post("/v2alpha1/admin/issuedApiKeys/\(rotatedID):rotate", [:])
            #expect(rotation.status == 201)
            #expect(try await api.verify(rotated).json["error_code"] == "VERIFICATION_ERROR_REVOKED")

            let (_, selfRevoked) = try await api.issue()
            #expect(try await cached(selfRevoked))
            let revocation = try await api.post(
                "/v2alpha1/apiKeys:selfRevoke",
                ["credential": .string(selfRevoked), "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(revocation.status == 200)
            #expect(try await api.verify(selfRevoked).json["error_code"] == "VERIFICATION_ERROR_REVOKED")

            let imported = try await api.post(
                "/v2alpha1/admin/importedApiKeys",
                ["raw_key": "sk_cached_import_1", "name": "i", "actor_id": "i"]
            )
            let importedID = try #require(imported.json["key_id"]?.stringValue)
            #expect(try await cached("sk_cached_import_1"))
            let deletion = try await api.send(.delete, "/v2alpha1/admin/importedApiKeys/\(importedID)")
            #expect(deletion.status == 204)
            #expect(try await api.verify("sk_cached_import_1").json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
        }
    }

    /// Spec §5.9 directives: no-cache (or Pragma: no-cache) skips the read but writes; no-store does neither.
    @Test func directivesDecideReadsAndWrites() async throws {
        try await withAPI(Self.cachedConfig()) { api async throws in
            func verify(_ secret: String, _ headers: HTTPFields = [:]) async throws -> String? {
                try await api.post("/v2alpha1/admin/apiKeys:verify", ["credential": .string(secret)], headers: headers)
                    .headers[Self.cacheHeader]
            }
            let (_, written) = try await api.issue()
            #expect(try await verify(written, [.cacheControl: "no-cache"]) == "SKIP")
            #expect(try await verify(written) == "HIT")
            let (_, pragma) = try await api.issue()
            #expect(try await verify(pragma, [HTTPField.Name("Pragma")!: "no-cache"]) == "SKIP")
            #expect(try await verify(pragma) == "HIT")
            let (_, stored) = try await api.issue()
            #expect(try await verify(stored, [.cacheControl: "No-Store"]) == "SKIP")
            #expect(try await verify(stored) == "MISS")
        }
    }

    /// Only verifications that passed every other check count; derived tokens (and derive) never count nor carry
    /// headers; with `rate_limit.enabled` off a policy is not enforced, and only `RateLimit-Policy` is sent.
    @Test func rateLimitCountsOnlyPassingVerifications() async throws {
        var config = testConfig()
        config.rateLimitEnabled = true
        let limit = HTTPField.Name("RateLimit")!
        let policy = HTTPField.Name("RateLimit-Policy")!
        try await withAPI(config) { api async throws in
            let (keyID, secret) = try await api.issue([
                "name": "n", "actor_id": "a", "rate_limit_policy": ["quota": "2", "window": "3600s"],
                "ip_restriction": ["allowed_cidrs": ["10.0.0.0/8"]],
            ])
            // Refused for the client IP (unknown in-process): not counted.
            for _ in 0..<3 {
                #expect(try await api.verify(secret).json["error_code"] == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
            }
            let cleared = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(keyID)?update_mask=ip_restriction",
                "{}"
            )
            #expect(cleared.status == 200)
            let macaroon = try await api.post(
                "/v2alpha1/admin/apiKeys:derive",
                ["credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON"]
            )
            let token = try #require(macaroon.json["token"]?["token"]?.stringValue)
            for _ in 0..<3 {
                let derived = try await api.verify(token)
                #expect(
                    derived.json["is_valid"] == true && derived.headers[limit] == nil && derived.headers[policy] == nil
                )
                #expect(derived.json["rate_limit_remaining"] == nil)
            }
            // Neither the refusals, nor derive, nor the derived token's verifications used the quota of 2.
            #expect(try await api.verify(secret).json["rate_limit_remaining"] == "1")
        }
        var disabled = testConfig()
        disabled.rateLimitEnabled = false
        try await withAPI(disabled) { api async throws in
            let (_, secret) = try await api.issue([
                "name": "n", "actor_id": "a", "rate_limit_policy": ["quota": "1", "window": "60s"],
            ])
            for _ in 0..<3 {
                let reply = try await api.verify(secret)
                #expect(reply.json["is_valid"] == true && reply.headers[limit] == nil)
                #expect(reply.headers[policy] == "\"default\";q=1;w=60")  // as Ory's open-source edition sends it
                #expect(reply.json["rate_limit_remaining"] == nil)
            }
        }
    }

    /// Spec §15.9: the cluster-wide limiter lives in PostgreSQL; asked for on SQLite, the server does not start.
    @Test func postgresLimiterNeedsPostgres() async throws {
        var config = testConfig()
        config.rateLimitEnabled = true
        config.rateLimitBackend = .postgres
        await #expect(
            throws: ConfigError("rate_limit.backend: postgres needs a postgres:// db.dsn (the counters live there)")
        ) {
            _ = try await withAPI(config) { _ async throws in }
        }
    }

    /// The IETF headers as Ory documents them (docs/rate-limits.md), from GCRA: quota 2 per 60 s admits a burst of
    /// 2, then one every 30 s.
    @Test func rateLimitHeadersAndResults() async throws {
        var config = testConfig()
        config.rateLimitEnabled = true
        let clock = ManualClock(start: Timestamp(seconds: 1_780_000_000))  // 2026-05-28T20:26:40Z
        let (policy, state) = (HTTPField.Name("RateLimit-Policy")!, HTTPField.Name("RateLimit")!)
        try await withAPI(config, clock: clock) { api async throws in
            let (_, secret) = try await api.issue([
                "name": "n", "actor_id": "a", "rate_limit_policy": ["quota": "2", "window": "60s"],
            ])
            let first = try await api.verify(secret)
            #expect(first.json["rate_limit_remaining"] == "1")
            #expect(first.json["rate_limit_reset_time"] == "2026-05-28T20:27:10Z")
            #expect(first.headers[policy] == "\"default\";q=2;w=60")
            #expect(first.headers[state] == "\"default\";r=1;t=30")
            #expect(first.headers[.retryAfter] == nil)
            let second = try await api.verify(secret)
            #expect(second.json["rate_limit_remaining"] == "0" && second.headers[state] == "\"default\";r=0;t=60")
            let limited = try await api.verify(secret)
            #expect(limited.json["error_code"] == "VERIFICATION_ERROR_RATE_LIMITED")
            #expect(limited.json["rate_limit_remaining"] == "0")
            #expect(limited.json["rate_limit_reset_time"] == "2026-05-28T20:27:40Z")
            #expect(limited.headers[.retryAfter] == "30" && limited.headers[policy] == "\"default\";q=2;w=60")
            clock.advance(seconds: 30)
            #expect(try await api.verify(secret).json["is_valid"] == true)
            let (_, unlimited) = try await api.issue()
            let plain = try await api.verify(unlimited)
            #expect(plain.headers[policy] == nil && plain.headers[state] == nil)
            let batch = try await api.post(
                "/v2alpha1/admin/apiKeys:batchVerify",
                ["requests": [["credential": .string(secret)]]]
            )
            #expect(batch.json["results"]?[0]?["error_code"] == "VERIFICATION_ERROR_RATE_LIMITED")
            #expect(batch.headers[policy] == nil && batch.headers[state] == nil)
        }
    }
}
