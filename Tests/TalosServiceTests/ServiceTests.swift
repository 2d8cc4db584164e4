import Logging
import TalosOpenSSL
import TalosTesting
import Testing

@testable import TalosCore

/// The key service and verifier on in-memory storage with a manual clock: the core without HTTP or a database.
@Suite struct ServiceTests {
    struct Fixture {
        let storage = MemoryKeyStorage()
        let clock = ManualClock()
        let service: KeyService
        let tracker: LastUsedTracker
        let verifier: Verifier

        init() throws {
            var config = TalosConfig()
            config.issuer = "https://api.example.com"
            config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
            let crypto = try OpenSSLCrypto()
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            service = KeyService(
                storage: storage,
                crypto: crypto,
                settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
                clock: clock,
                logger: logger
            )
            tracker = LastUsedTracker(storage: storage, config: config, logger: logger)
            verifier = Verifier(service: service, lastUsed: tracker)
        }

        func issue(ttl: String? = nil) async throws -> (keyID: String, secret: String) {
            var request = IssueKeyRequest()
            request.attributes.name = .value("n")
            request.attributes.actorID = .value("a")
            request.ttl = ttl
            let issued = try await service.issue(request, nid: UUIDText.nilUUID)
            return (issued.key.keyID, try #require(issued.secret))
        }

        func verify(_ credential: String) async throws -> Verification {
            try await verifier.verify(
                VerificationItem(credential: credential),
                context: VerificationContext(nid: UUIDText.nilUUID, clientIP: nil)
            )
        }
    }

    @Test func issueVerifyExpireRevoke() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue(ttl: "1h")
        #expect(try await fixture.verify(secret).isValid)
        fixture.clock.advance(seconds: 3601)
        let expired = try await fixture.verify(secret).errorCode
        #expect(expired == .expired, "\(String(describing: expired))")
        let (otherID, other) = try await fixture.issue()
        try await fixture.service.revoke(
            kind: nil,
            keyID: otherID,
            nid: UUIDText.nilUUID,
            reason: .superseded,
            description: nil
        )
        #expect(try await fixture.verify(other).errorCode == .revoked)
        #expect(
            try await fixture.verify(String(secret.dropLast()) + (secret.last == "x" ? "y" : "x")).errorCode
                == .notFound
        )
        #expect(try await fixture.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: keyID) != nil)
    }

    /// Spec §5.8: a verification publishes one use per key and UTC day; the flush writes it. No sleeping: the test
    /// flushes as the tracker's timer would.
    @Test func lastUsedIsRecordedOncePerDay() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        for _ in 0..<3 { #expect(try await fixture.verify(secret).isValid) }
        await fixture.tracker.flush()
        let used = try await fixture.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: keyID)?.lastUsedTime
        #expect(used == fixture.clock.now())
        fixture.clock.advance(seconds: 60)
        #expect(try await fixture.verify(secret).isValid)
        await fixture.tracker.flush()
        #expect(
            try await fixture.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: keyID)?.lastUsedTime == used
        )
        fixture.clock.advance(seconds: 86_400)
        #expect(try await fixture.verify(secret).isValid)
        await fixture.tracker.flush()
        #expect(
            try await fixture.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: keyID)?.lastUsedTime
                == fixture.clock.now()
        )
    }

    /// Spec §15.8: hot-reloadable keys take the new value; restart-only keys keep theirs and are named.
    @Test func reloadMergesByKey() throws {
        let load = { (text: String) throws -> [String: JSONValue] in
            try TalosConfig.load(fileContents: Array(text.utf8), environment: [:]).config.sourceValues
        }
        let current = try load(
            #"{"serve":{"http":{"port":4000,"client_ip_source":"CLIENT_IP_SOURCE_REMOTE_ADDR"}},"quota":{"api_keys_max":5}}"#
        )
        let next = try load(
            #"{"serve":{"http":{"port":5000,"client_ip_source":"CLIENT_IP_SOURCE_X_FORWARDED_FOR","trusted_proxies":["10.0.0.0/8"]}},"db":{"dsn":"sqlite://other.db"}}"#
        )
        let merged = try TalosConfig.reloadable(current: current, next: next)
        #expect(merged.ignoredKeys == ["db.dsn", "serve.http.port"])
        #expect(merged.config.httpPort == 4000 && merged.config.databaseDSN == "sqlite://./talos.db")
        #expect(merged.config.clientIPSource == .xForwardedFor && merged.config.trustedProxies == [CIDR("10.0.0.0/8")!])
        #expect(merged.config.quotaMaxKeys == nil)
    }

    /// A verifier over `limiter` and a key with quota 2 per 10 s; `verify` checks that key's secret.
    static func rateLimitedKey(
        limiter: any RateLimiter,
        clock: ManualClock
    ) async throws -> @Sendable () async throws -> Verification {
        var config = TalosConfig()
        config.issuer = "https://api.example.com"
        config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
        config.rateLimitEnabled = true
        let crypto = try OpenSSLCrypto()
        let service = KeyService(
            storage: MemoryKeyStorage(),
            crypto: crypto,
            settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
            clock: clock,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
        let verifier = Verifier(service: service, limiter: limiter)
        var request = IssueKeyRequest()
        request.attributes.name = .value("n")
        request.attributes.actorID = .value("a")
        request.attributes.rateLimitPolicy = .value(RateLimitPolicyInput(quota: 2, window: "10s"))
        let secret = try #require(try await service.issue(request, nid: UUIDText.nilUUID).secret)
        return {
            try await verifier.verify(
                VerificationItem(credential: secret),
                context: VerificationContext(nid: UUIDText.nilUUID, clientIP: nil)
            )
        }
    }

    /// GCRA (docs/rate-limits.md): quota 2 per 10 s is a burst of 2 from a full bucket, then one every 5 s; the
    /// reset time is when the bucket is full again.
    @Test func rateLimitFollowsGCRA() async throws {
        let clock = ManualClock(start: Timestamp(seconds: 1_780_000_008))
        let verify = try await Self.rateLimitedKey(limiter: MemoryRateLimiter(), clock: clock)
        let first = try await verify()
        #expect(first.isValid && first.rateLimit?.remaining == 1)
        #expect(first.rateLimit?.resetTime == Timestamp(seconds: 1_780_000_013))
        #expect(try await verify().rateLimit?.remaining == 0)
        let third = try await verify()
        #expect(third.errorCode == .rateLimited && third.rateLimit?.exceeded == true)
        #expect(
            third.rateLimit?.retryAfterSeconds == 5 && third.rateLimit?.resetTime == Timestamp(seconds: 1_780_000_018)
        )
        clock.advance(seconds: 2)  // a fixed window would start afresh at …010; the bucket has not refilled
        #expect(try await verify().errorCode == .rateLimited)
        clock.advance(seconds: 3)  // one emission interval after the burst
        let refilled = try await verify()
        #expect(refilled.isValid && refilled.rateLimit?.remaining == 0)
        #expect(try await verify().errorCode == .rateLimited)
    }

    /// Spec §15.9: a limiter that fails lets the verification through (fail open), beyond the quota too.
    @Test func aFailingLimiterFailsOpen() async throws {
        struct Unreachable: Error {}
        struct FailingLimiter: RateLimiter {
            func admit(nid: String, keyID: String, limit: GCRALimit, now: Timestamp) async throws -> GCRADecision {
                throw Unreachable()
            }
        }
        let verify = try await Self.rateLimitedKey(limiter: FailingLimiter(), clock: ManualClock())
        for _ in 0..<5 {
            let result = try await verify()
            #expect(result.isValid && result.errorCode == nil)
        }
    }

    /// Spec §15.10: a cache hit touches no database, not even for last_used_time (the cached copy records the use).
    @Test func aCacheHitReadsAndWritesNothing() async throws {
        var config = TalosConfig()
        config.issuer = "https://api.example.com"
        config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
        config.cacheEnabled = true
        let crypto = try OpenSSLCrypto()
        let storage = WriteCountingStorage(MemoryKeyStorage())
        let clock = ManualClock()
        let cache = VerificationCache(maxBytes: 1 << 20, clock: clock)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let service = KeyService(
            storage: storage,
            crypto: crypto,
            settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
            clock: clock,
            logger: logger,
            invalidations: [cache]
        )
        let tracker = LastUsedTracker(storage: storage, config: config, logger: logger)
        let verifier = Verifier(service: service, lastUsed: tracker, cache: cache)
        var request = IssueKeyRequest()
        request.attributes.name = .value("n")
        request.attributes.actorID = .value("a")
        let secret = try #require(try await service.issue(request, nid: UUIDText.nilUUID).secret)
        func verify() async throws -> Verification {
            try await verifier.verify(
                VerificationItem(credential: secret),
                context: VerificationContext(nid: UUIDText.nilUUID, clientIP: nil)
            )
        }
        #expect(try await verify().cache == .miss)
        await tracker.flush()
        let (reads, writes) = (storage.reads, storage.writes)
        for _ in 0..<3 { #expect(try await verify().cache == .hit) }
        await tracker.flush()
        #expect(storage.reads == reads && storage.writes == writes)
    }
}
