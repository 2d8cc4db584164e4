import HTTPTypes
import TalosCore
import Testing

/// The usage endpoints over HTTP (docs/usage.md): counts written by the server's own flusher, the envelope for bad
/// parameters, `keys.read` with admin authentication on.
@Suite struct UsageEndpointTests {
    static func usageConfig() -> TalosConfig {
        var config = testConfig()
        config.usageFlushInterval = .milliseconds(50)
        return config
    }

    /// The usage at `path` once its total reaches `total` (the flusher runs every 50 ms), or the last answer.
    static func usage(_ api: API, _ path: String, total: Int64) async throws -> Reply {
        var reply = try await api.send(.get, path)
        for _ in 0..<100 {
            let buckets = reply.json["buckets"]?.arrayValue ?? []
            let counted = buckets.reduce(Int64(0)) { sum, bucket in
                let invalid = bucket["invalid"]?.objectValue?.reduce(Int64(0)) {
                    $0 + (Int64($1.value.stringValue ?? "") ?? 0)
                }
                return sum + (Int64(bucket["valid"]?.stringValue ?? "") ?? 0) + (invalid ?? 0)
            }
            if counted >= total { return reply }
            try await Task.sleep(for: .milliseconds(20))
            reply = try await api.send(.get, path)
        }
        return reply
    }

    @Test func verificationsShowUpPerKeyAndPerActor() async throws {
        try await withAPI(Self.usageConfig()) { api in
            let (keyID, secret) = try await api.issue(["name": "k", "actor_id": "alice"])
            let (_, other) = try await api.issue(["name": "k2", "actor_id": "alice"])
            for _ in 0..<3 { #expect(try await api.verify(secret).json["is_valid"] == true) }
            #expect(try await api.verify(other).json["is_valid"] == true)
            #expect(try await api.revoke(keyID).status == 204)
            #expect(try await api.verify(secret).json["error_code"] == "VERIFICATION_ERROR_REVOKED")
            let reply = try await Self.usage(api, "/v2alpha1/admin/apiKeys/\(keyID.uppercased())/usage", total: 4)
            #expect(reply.status == 200, "\(reply.rawBody)")
            #expect(
                reply.json == [
                    "key_id": .string(keyID),
                    "buckets": [["start_time": "2026-06-01T17:00:00Z", "valid": "3", "invalid": ["REVOKED": "1"]]],
                ],
                "\(reply.rawBody)"
            )
            let actor = try await Self.usage(api, "/v2alpha1/admin/usage?actor_id=alice&granularity=DAY", total: 5)
            #expect(actor.json["actor_id"] == "alice")
            #expect(
                actor.json["buckets"] == [
                    ["start_time": "2026-06-01T00:00:00Z", "valid": "4", "invalid": ["REVOKED": "1"]]
                ]
            )
        }
    }

    @Test(arguments: [
        ("/v2alpha1/admin/usage", 400, "validation error: actor_id: value is required"),
        (
            "/v2alpha1/admin/usage?actor_id=a&granularity=WEEK", 400,
            "validation error: granularity: value must be one of HOUR, DAY"
        ),
        (
            "/v2alpha1/admin/usage?actor_id=a&start_time=2026-01-01", 400,
            "validation error: start_time: value must be an RFC 3339 timestamp"
        ),
        (
            "/v2alpha1/admin/usage?actor_id=a&start_time=2026-06-02T00:00:00Z&end_time=2026-06-01T00:00:00Z", 400,
            "validation error: start_time: value must be before end_time"
        ),
        (
            "/v2alpha1/admin/usage?actor_id=a&start_time=2026-01-01T00:00:00Z", 400,
            "validation error: end_time: the range spans 3642 hours; at most 745 per request"
        ),
        (
            "/v2alpha1/admin/usage?actor_id=a&granularity=DAY&granularity=HOUR", 400,
            "validation error: granularity: value must be given at most once"
        ),
        ("/v2alpha1/admin/apiKeys/00000000-0000-4000-8000-000000000000/usage", 404, "API key not found"),
        ("/v2alpha1/admin/apiKeys/nope/usage", 404, "API key not found"),
    ])
    func badRequestsGetTheEnvelope(path: String, status: Int, message: String) async throws {
        try await withAPI { api in
            let reply = try await api.send(.get, path)
            #expect(reply.status == status && reply.message == message, "\(reply.rawBody)")
        }
    }

    @Test func usageNeedsKeysRead() async throws {
        let config = AdminAuthTests.authConfig()
        let reader = try await AdminAuthTests.bootstrap(config, permissions: ["keys.read"])
        let verifier = try await AdminAuthTests.bootstrap(config, permissions: ["keys.verify"])
        try await withAPI(config) { api in
            let path = "/v2alpha1/admin/usage?actor_id=alice"
            #expect(try await api.send(.get, path).status == 401)
            let denied = try await api.send(.get, path, headers: AdminAuthTests.bearer(verifier.secret))
            #expect(denied.status == 403 && denied.reason == "ADMIN_PERMISSION_REQUIRED")
            #expect(try await api.send(.get, path, headers: AdminAuthTests.bearer(reader.secret)).status == 200)
        }
    }
}
