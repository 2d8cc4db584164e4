import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import TalosOpenSSL
import TalosTesting
import Testing

@testable import TalosCore

/// Usage analytics (docs/usage.md): every verification of a stored key counted by hour and outcome, cache hits
/// included, flushed without loss; the query's ranges and buckets.
@Suite struct UsageTests {
    struct Fixture {
        let storage = WriteCountingStorage(MemoryKeyStorage())
        let clock = ManualClock(start: Timestamp(seconds: 1_780_333_200 + 3000))  // 50 minutes into an hour
        let service: KeyService
        let usage: UsageRecorder
        let verifier: Verifier

        init() throws {
            var config = TalosConfig()
            config.issuer = "https://api.example.com"
            config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
            config.rateLimitEnabled = true
            config.cacheType = .memory
            config.cacheEnabled = true
            let crypto = try OpenSSLCrypto()
            let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            let cache = VerificationCache(maxBytes: 1 << 20, clock: clock)
            service = KeyService(
                storage: storage,
                crypto: crypto,
                settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
                clock: clock,
                logger: logger,
                invalidations: [cache]
            )
            usage = UsageRecorder(storage: storage, config: config, clock: clock, logger: logger)
            verifier = Verifier(service: service, usage: usage, cache: cache, limiter: MemoryRateLimiter())
        }

        func issue(actor: String = "alice", quota: Int64? = nil) async throws -> (keyID: String, secret: String) {
            var request = IssueKeyRequest()
            request.attributes.name = .value("n")
            request.attributes.actorID = .value(actor)
            if let quota {
                request.attributes.rateLimitPolicy = .value(RateLimitPolicyInput(quota: quota, window: "1h"))
            }
            let issued = try await service.issue(request, nid: UUIDText.nilUUID)
            return (issued.key.keyID, try #require(issued.secret))
        }

        @discardableResult
        func verify(_ credential: String, cache: CacheDirectives = .default) async throws -> Verification {
            try await verifier.verify(
                VerificationItem(credential: credential),
                context: VerificationContext(nid: UUIDText.nilUUID, clientIP: nil, cache: cache)
            )
        }

        func report(_ keyID: String, _ request: UsageRequest = UsageRequest()) async throws -> UsageReport {
            try await UsageService(service: service).keyUsage(keyID: keyID, nid: UUIDText.nilUUID, request: request)
        }
    }

    @Test func everyOutcomeOfAStoredKeyIsCountedCacheHitsIncluded() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        var hits = 0
        for index in 0..<10 {
            let result = try await fixture.verify(
                secret,
                cache: index % 2 == 0 ? .default : CacheDirectives(read: false, write: true)
            )
            #expect(result.isValid)
            if result.cache == .hit { hits += 1 }
        }
        #expect(hits == 4)  // the first read misses; every other request bypasses the cache
        let (limitedID, limited) = try await fixture.issue(quota: 3)
        for _ in 0..<5 { try await fixture.verify(limited) }
        try await fixture.service.revoke(
            kind: nil,
            keyID: keyID,
            nid: UUIDText.nilUUID,
            reason: .keyCompromise,
            description: nil
        )
        for _ in 0..<2 { #expect(try await fixture.verify(secret).errorCode == .revoked) }
        // Nothing reaches a stored key: not counted anywhere.
        #expect(try await fixture.verify("ory_ak_v1_unknown").errorCode != nil)
        #expect(try await fixture.report(keyID).buckets.isEmpty)  // nothing flushed yet
        await fixture.usage.flush()
        let hour = Timestamp(seconds: 1_780_333_200)
        #expect(
            try await fixture.report(keyID).buckets == [
                UsageReport.Bucket(startTime: hour, valid: 10, invalid: ["REVOKED": 2])
            ]
        )
        #expect(
            try await fixture.report(limitedID).buckets == [
                UsageReport.Bucket(startTime: hour, valid: 3, invalid: ["RATE_LIMITED": 2])
            ]
        )
        let actor = try await UsageService(service: fixture.service)
            .actorUsage(actorID: "alice", nid: UUIDText.nilUUID, request: UsageRequest())
        #expect(
            actor.buckets == [
                UsageReport.Bucket(startTime: hour, valid: 13, invalid: ["RATE_LIMITED": 2, "REVOKED": 2])
            ]
        )
    }

    @Test func hoursAndDaysAreBucketedInUTC() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        try await fixture.verify(secret)
        fixture.clock.advance(seconds: 600)  // the next hour
        try await fixture.verify(secret)
        try await fixture.verify(secret)
        await fixture.usage.flush()
        let hours = try await fixture.report(keyID).buckets
        #expect(hours.map(\.valid) == [1, 2])
        #expect(hours.map(\.startTime.rfc3339) == ["2026-06-01T17:00:00Z", "2026-06-01T18:00:00Z"])
        let days = try await fixture.report(keyID, UsageRequest(granularity: "DAY")).buckets
        #expect(days == [UsageReport.Bucket(startTime: Timestamp(rfc3339: "2026-06-01T00:00:00Z")!, valid: 3)])
        // A range that ends at the second hour's start leaves it out (end_time is exclusive).
        let first = try await fixture.report(
            keyID,
            UsageRequest(startTime: "2026-06-01T17:30:00Z", endTime: "2026-06-01T18:00:00Z")
        )
        #expect(first.buckets.map(\.valid) == [1])
    }

    @Test func aFailedFlushKeepsItsCountsForTheNext() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        for _ in 0..<3 { try await fixture.verify(secret) }
        fixture.storage.failUsageWrites(true)
        await fixture.usage.flush()
        try await fixture.verify(secret)
        await fixture.usage.flush()
        fixture.storage.failUsageWrites(false)
        #expect(try await fixture.report(keyID).buckets.isEmpty)
        await fixture.usage.flush()
        #expect(try await fixture.report(keyID).buckets.map(\.valid) == [4])
        await fixture.usage.flush()  // nothing pending: nothing added twice
        #expect(try await fixture.report(keyID).buckets.map(\.valid) == [4])
    }

    @Test func gracefulShutdownFlushesWhatIsPending() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        for _ in 0..<7 { try await fixture.verify(secret) }
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The default interval is 10 s: only the shutdown flush can write within this test.
                group.addTask { try await fixture.usage.run() }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(try await fixture.report(keyID).buckets.map(\.valid) == [7])
    }

    @Test func theSweeperDeletesHoursPastRetention() async throws {
        let fixture = try Fixture()
        let (keyID, secret) = try await fixture.issue()
        try await fixture.verify(secret)
        await fixture.usage.flush()
        fixture.clock.advance(seconds: 2159 * 3600)  // the hour ended 2159 h 50 min ago
        await fixture.usage.sweep()
        let kept = try await fixture.report(keyID, UsageRequest(startTime: "2026-06-01T00:00:00Z", granularity: "DAY"))
        #expect(kept.buckets.map(\.valid) == [1])
        fixture.clock.advance(seconds: 3600 + 600)  // the hour ended 2160 h ago
        await fixture.usage.sweep()
        let swept = try await fixture.report(keyID, UsageRequest(startTime: "2026-06-01T00:00:00Z", granularity: "DAY"))
        #expect(swept.buckets.isEmpty)
    }

    @Test func rangesAreValidated() throws {
        let now = Timestamp(seconds: 1_780_334_005)
        func range(_ start: String?, _ end: String?, _ granularity: String? = nil) throws -> UsageService.Range {
            try UsageService.range(UsageRequest(startTime: start, endTime: end, granularity: granularity), now: now)
        }
        // Default: the 7 days before now, by hour: 169 hours, the first and the current partial one included.
        let defaults = try range(nil, nil)
        #expect(defaults.granularity == .hour)
        #expect((defaults.untilHour - defaults.fromHour) / 3600 == 169)
        #expect(
            try range("2026-01-01T00:00:00Z", "2026-02-01T01:00:00Z").untilHour
                == Timestamp(rfc3339: "2026-02-01T01:00:00Z")!.seconds
        )
        for (start, end, granularity, field) in [
            ("2026-01-01T00:00:00Z", "2026-02-01T01:00:01Z", nil, "end_time"),  // 746 hours
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", nil, "start_time"),  // empty
            ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", nil, "start_time"),  // reversed
            ("yesterday", nil, nil, "start_time"),
            (nil, "2026-13-01T00:00:00Z", nil, "end_time"),
            (nil, nil, "hour", "granularity"),  // the enum is upper case, as documented
            (nil, nil, "WEEK", "granularity"),
            ("", nil, nil, "start_time"),  // given empty is not absent
            (nil, nil, "", "granularity"),
        ] as [(String?, String?, String?, String)] {
            #expect {
                try range(start, end, granularity)
            } throws: { error in
                (error as? TalosError)?.reason == .invalidArgument
                    && (error as? TalosError)?.message.hasPrefix("validation error: \(field):") == true
            }
        }
        // 745 days are one request.
        #expect(try range("2024-01-01T00:00:00Z", "2026-01-15T00:00:00Z", "DAY").granularity == .day)
    }

    @Test func adminKeysAndUnknownIdsAreNotFound() async throws {
        let fixture = try Fixture()
        for id in ["not-a-key", "00000000-0000-4000-8000-000000000000", String(repeating: "a", count: 64)] {
            await #expect { try await fixture.report(id) } throws: { ($0 as? TalosError)?.reason == .apiKeyNotFound }
        }
        let admin = try await AdminKeyService(service: fixture.service)
            .create(name: "ops", permissions: ["*"], ttl: nil, nid: UUIDText.nilUUID)
        await #expect { try await fixture.report(admin.key.keyID) } throws: {
            ($0 as? TalosError)?.reason == .apiKeyNotFound
        }
    }
}
