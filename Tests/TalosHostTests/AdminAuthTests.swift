import HTTPTypes
import Logging
import TalosCore
import TalosPlugins
import TalosTesting
import Testing

/// Spec §16.3: admin keys, their permissions, and the admin surface behind them.
@Suite struct AdminAuthTests {
    static let adminKeyHeader = HTTPField.Name("Talos-Admin-Key")!

    /// A configuration with admin authentication on, the cache on, and a fresh database.
    static func authConfig() -> TalosConfig {
        var config = testConfig()
        config.adminAuthEnabled = true
        config.cacheType = .memory
        config.cacheEnabled = true
        return config
    }

    /// Creates an admin key in `config`'s database the way `talos admin-keys create` does (no server running).
    static func bootstrap(
        _ config: TalosConfig,
        permissions: [String] = ["*"],
        ttl: String? = nil,
        clock: ManualClock = ManualClock()
    ) async throws -> (id: String, secret: String) {
        let crypto = try BackendRegistry.builtIn.cryptoProvider(named: config.cryptoBackend).make()
        let handle = try await BackendRegistry.builtIn.storageBackend(forDSN: config.databaseDSN)
            .open(config.databaseDSN, Logger(label: "test"))
        return try await handle.withServices { handle in
            try await handle.migrator.up(steps: nil)
            let service = KeyService(
                storage: handle.storage,
                crypto: crypto,
                settings: SettingsStore(try TenantSettings(config: config, crypto: crypto)),
                clock: clock,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )
            let created = try await AdminKeyService(service: service)
                .create(name: "root", permissions: permissions, ttl: ttl, nid: UUIDText.nilUUID)
            return (created.key.keyID, created.secret)
        }
    }

    static func bearer(_ secret: String) -> HTTPFields { [.authorization: "Bearer \(secret)"] }

    @Test func withAuthOffTheAdminSurfaceIsOpenAndAdminKeysCanBeManaged() async throws {
        try await withAPI { api in
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys").status == 200)
            let created = try await api.post(
                "/v2alpha1/admin/adminKeys",
                ["name": "ops", "permissions": ["keys.read", "keys.write"], "ttl": "1h"]
            )
            #expect(created.status == 201, "\(created.rawBody)")
            let secret = try #require(created.json["secret"]?.stringValue)
            #expect(secret.hasPrefix("talos_adm_v1_"))
            let key = try #require(created.json["admin_key"])
            #expect(key["permissions"] == ["keys.read", "keys.write"] && key["status"] == "KEY_STATUS_ACTIVE")
            #expect(key["expire_time"] != nil && key["last_used_time"] == nil)
            let id = try #require(key["key_id"]?.stringValue)
            #expect(try await api.send(.get, "/v2alpha1/admin/adminKeys/\(id)").json["admin_key"]?["name"] == "ops")
            let list = try await api.send(.get, "/v2alpha1/admin/adminKeys")
            #expect(list.json["admin_keys"]?.arrayValue?.count == 1 && list.json["next_page_token"] == "")
            let twice = try await api.send(.get, "/v2alpha1/admin/adminKeys?page_size=&page_size=true")
            #expect(twice.status == 400 && twice.reason == "INVALID_ARGUMENT")
            let revoked = try await api.post("/v2alpha1/admin/adminKeys/\(id):revoke", [:])
            #expect(revoked.status == 200 && revoked.json["admin_key"]?["status"] == "KEY_STATUS_REVOKED")
            let again = try await api.post("/v2alpha1/admin/adminKeys/\(id):revoke", [:])
            #expect(again.status == 409 && again.reason == "API_KEY_ALREADY_REVOKED")
            let unknown = try await api.send(.get, "/v2alpha1/admin/adminKeys/\(UUIDText.nilUUID)")
            #expect(unknown.status == 404)
        }
    }

    @Test(arguments: [
        ["name": "x", "permissions": []] as JSONValue, ["name": "x", "permissions": ["keys.delete"]],
        ["name": "x", "permissions": ["*", "*"]], ["name": "", "permissions": ["*"]],
        ["name": "x", "permissions": ["*"], "ttl": "forever"], ["name": "x", "permissions": "*"],
    ])
    func invalidAdminKeyRequestsAre400(body: JSONValue) async throws {
        try await withAPI { api in
            let reply = try await api.post("/v2alpha1/admin/adminKeys", body)
            #expect(reply.status == 400, "\(body.compactString) → \(reply.rawBody)")
        }
    }

    @Test func withAuthOnEveryAdminRouteNeedsAValidAdminKey() async throws {
        let config = Self.authConfig()
        let root = try await Self.bootstrap(config)
        try await withAPI(config) { api in
            let missing = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys")
            #expect(missing.status == 401 && missing.reason == "ADMIN_KEY_REQUIRED")
            #expect(missing.json["error"]?["status"] == "UNAUTHENTICATED")
            #expect(missing.headers[.wwwAuthenticate] == #"Bearer realm="talos-admin""#)
            for garbage in ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer not-an-admin-key", "Bearer talos_adm_v1_x_y"] {
                let reply = try await api.send(
                    .get,
                    "/v2alpha1/admin/issuedApiKeys",
                    headers: [.authorization: garbage]
                )
                #expect(reply.status == 401 && reply.reason == "ADMIN_KEY_REQUIRED", "\(garbage)")
            }
            // The right shape with one checksum character changed: a key of this server's format that it never made.
            var forged = Array(root.secret)
            forged[forged.count - 2] = forged[forged.count - 2] == "A" ? "B" : "A"
            let invalid = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: Self.bearer(String(forged))
            )
            #expect(invalid.status == 401 && invalid.reason == "ADMIN_KEY_INVALID")
            #expect(invalid.headers[.wwwAuthenticate] == #"Bearer realm="talos-admin""#)
            #expect(
                try await api.send(.get, "/v2alpha1/admin/issuedApiKeys", headers: Self.bearer(root.secret)).status
                    == 200
            )
            let viaHeader = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: [Self.adminKeyHeader: root.secret, .authorization: "Bearer someone-elses-token"]
            )
            #expect(viaHeader.status == 200)
            // Health, version, the document, the public JWKS and the public surface stay open.
            for path in [
                "/health/alive", "/health/ready", "/version", "/openapi.json", "/v2alpha1/derivedKeys/jwks.json",
            ] {
                #expect(try await api.send(.get, path).status == 200, "\(path)")
            }
            #expect(try await api.send(.get, "/v2alpha1/admin/derivedKeys/jwks.json").status == 401)
            let selfRevoke = try await api.post(
                "/v2alpha1/apiKeys:selfRevoke",
                ["credential": "nope", "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(selfRevoke.status == 404)
        }
    }

    @Test func eachOperationNeedsItsPermission() async throws {
        let config = Self.authConfig()
        let root = try await Self.bootstrap(config)
        let reader = try await Self.bootstrap(config, permissions: ["keys.read"])
        let verifier = try await Self.bootstrap(config, permissions: ["keys.verify"])
        try await withAPI(config) { api in
            let issued = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "k", "actor_id": "a"],
                headers: Self.bearer(root.secret)
            )
            #expect(issued.status == 201)
            let secret = try #require(issued.json["secret"]?.stringValue)
            #expect(
                try await api.send(.get, "/v2alpha1/admin/issuedApiKeys", headers: Self.bearer(reader.secret)).status
                    == 200
            )
            let denied = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "k", "actor_id": "a"],
                headers: Self.bearer(reader.secret)
            )
            #expect(denied.status == 403 && denied.reason == "ADMIN_PERMISSION_REQUIRED")
            #expect(denied.json["error"]?["details"]?[0]?["metadata"]?["permission"] == "keys.write")
            let verify = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": .string(secret)],
                headers: Self.bearer(verifier.secret)
            )
            #expect(verify.status == 200 && verify.json["is_valid"] == true)
            let readByVerifier = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: Self.bearer(verifier.secret)
            )
            #expect(readByVerifier.status == 403 && readByVerifier.reason == "ADMIN_PERMISSION_REQUIRED")
            let manage = try await api.send(.get, "/v2alpha1/admin/adminKeys", headers: Self.bearer(reader.secret))
            #expect(manage.status == 403)
            #expect(
                try await api.send(.get, "/v2alpha1/admin/adminKeys", headers: Self.bearer(root.secret)).status == 200
            )
        }
    }

    @Test func aRevokedOrExpiredAdminKeyIsRefusedAtOnce() async throws {
        let config = Self.authConfig()
        let clock = ManualClock()
        let root = try await Self.bootstrap(config, clock: clock)
        let shortLived = try await Self.bootstrap(config, permissions: ["keys.read"], ttl: "1h", clock: clock)
        let doomed = try await Self.bootstrap(config, permissions: ["keys.read"], clock: clock)
        try await withAPI(config, clock: clock) { api in
            let path = "/v2alpha1/admin/issuedApiKeys"
            #expect(try await api.send(.get, path, headers: Self.bearer(doomed.secret)).status == 200)
            // A second request is a cache hit; the revocation must still win at once.
            #expect(try await api.send(.get, path, headers: Self.bearer(doomed.secret)).status == 200)
            let revoke = try await api.post(
                "/v2alpha1/admin/adminKeys/\(doomed.id):revoke",
                [:],
                headers: Self.bearer(root.secret)
            )
            #expect(revoke.status == 200)
            let refused = try await api.send(.get, path, headers: Self.bearer(doomed.secret))
            #expect(refused.status == 401 && refused.reason == "ADMIN_KEY_INVALID")
            #expect(try await api.send(.get, path, headers: Self.bearer(shortLived.secret)).status == 200)
            clock.advance(seconds: 3601)
            let expired = try await api.send(.get, path, headers: Self.bearer(shortLived.secret))
            #expect(expired.status == 401 && expired.reason == "ADMIN_KEY_INVALID")
            let listed = try await api.send(.get, "/v2alpha1/admin/adminKeys", headers: Self.bearer(root.secret))
            let statuses = Set((listed.json["admin_keys"]?.arrayValue ?? []).compactMap { $0["status"]?.stringValue })
            #expect(statuses == ["KEY_STATUS_ACTIVE", "KEY_STATUS_REVOKED", "KEY_STATUS_EXPIRED"])
        }
    }

    @Test func adminKeysAreInvisibleToTheAPIKeyEndpointsAndTheQuota() async throws {
        var config = Self.authConfig()
        config.quotaMaxKeys = 1
        let root = try await Self.bootstrap(config)
        try await withAPI(config) { api in
            let auth = Self.bearer(root.secret)
            let verify = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": .string(root.secret)],
                headers: auth
            )
            #expect(verify.json["is_valid"] == false && verify.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(root.id)", headers: auth).status == 404)
            let revoke = try await api.post(
                "/v2alpha1/admin/apiKeys/\(root.id):revoke",
                ["reason": "REVOCATION_REASON_KEY_COMPROMISE"],
                headers: auth
            )
            #expect(revoke.status == 404)
            let derive = try await api.post(
                "/v2alpha1/admin/apiKeys:derive",
                ["credential": .string(root.secret), "algorithm": "TOKEN_ALGORITHM_MACAROON"],
                headers: auth
            )
            #expect(derive.status == 401 && derive.reason == "PARENT_KEY_INVALID")
            // The quota of one counts API keys only: the admin key does not take the slot.
            let issued = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "k", "actor_id": "a"],
                headers: auth
            )
            #expect(issued.status == 201)
            let secret = try #require(issued.json["secret"]?.stringValue)
            // An API key is not an admin key.
            #expect(
                try await api.send(.get, "/v2alpha1/admin/issuedApiKeys", headers: Self.bearer(secret)).status == 401
            )
            let list = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys", headers: auth)
            #expect(list.json["issued_api_keys"]?.arrayValue?.count == 1)
        }
    }

    @Test func failedAuthenticationsAreLimitedPerClient() async throws {
        var config = Self.authConfig()
        config.publicRateLimitPerSecond = 0.01
        config.publicRateLimitBurst = 3
        let root = try await Self.bootstrap(config)
        try await withAPI(config) { api in
            let path = "/v2alpha1/admin/issuedApiKeys"
            // Successes spend nothing.
            for _ in 0..<5 { #expect(try await api.send(.get, path, headers: Self.bearer(root.secret)).status == 200) }
            for _ in 0..<3 { #expect(try await api.send(.get, path, headers: Self.bearer("wrong")).status == 401) }
            let limited = try await api.send(.get, path, headers: Self.bearer("wrong"))
            #expect(limited.status == 429 && limited.reason == "RATE_LIMITED")
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(try await api.send(.get, path).status == 429)
            // A valid key is never refused for its address: a flood cannot lock out the admins behind it.
            #expect(try await api.send(.get, path, headers: Self.bearer(root.secret)).status == 200)
        }
    }
}
