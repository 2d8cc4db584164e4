import HTTPTypes
import TalosCore
import Testing

/// Forward auth (docs/forward-auth.md): the identity in headers for a key that verifies and holds the scopes; 401,
/// 403 and 429 (or 403) with the envelope otherwise.
@Suite struct ForwardAuthTests {
    static let path = "/v2alpha1/admin/apiKeys:authorize"
    static let apiKey = HTTPField.Name("X-API-Key")!

    static func header(_ reply: Reply, _ name: String) -> String? { reply.headers[HTTPField.Name(name)!] }

    @Test func aValidKeyIsAuthorizedWithItsIdentity() async throws {
        try await withAPI { api in
            let (keyID, secret) = try await api.issue(["name": "k", "actor_id": "alice", "scopes": ["read", "write"]])
            for method in [HTTPRequest.Method.get, .post, .put, .delete] {
                let reply = try await api.send(
                    method,
                    "\(Self.path)?scope=read&scope=write",
                    "ignored",
                    headers: [.authorization: "Bearer \(secret)"]
                )
                #expect(reply.status == 200 && reply.rawBody.isEmpty, "\(method) \(reply.rawBody)")
                #expect(Self.header(reply, "Talos-Key-Id") == keyID && Self.header(reply, "Talos-Key-Type") == "issued")
                #expect(
                    Self.header(reply, "Talos-Actor-Id") == "alice"
                        && Self.header(reply, "Talos-Scopes") == "read,write"
                )
            }
            let viaHeader = try await api.send(.get, Self.path, headers: [Self.apiKey: secret])
            #expect(viaHeader.status == 200)
        }
    }

    @Test func refusalsCarryTheEnvelopeAndTheChallenge() async throws {
        try await withAPI { api in
            let (keyID, secret) = try await api.issue(["name": "k", "actor_id": "a", "scopes": ["read"]])
            let missing = try await api.send(.get, Self.path)
            #expect(missing.status == 401 && missing.reason == "CREDENTIAL_MISSING")
            #expect(missing.headers[.wwwAuthenticate] == "Bearer error=\"invalid_token\"")
            let bad = try await api.send(.get, Self.path, headers: [.authorization: "Bearer ory_ak_v1_nope"])
            #expect(bad.status == 401 && bad.reason == "CREDENTIAL_INVALID")
            let scope = try await api.send(.get, "\(Self.path)?scope=read&scope=admin", headers: [Self.apiKey: secret])
            #expect(scope.status == 403 && scope.reason == "SCOPE_REQUIRED")
            #expect(scope.json["error"]?["details"]?[0]?["metadata"]?["scope"] == "admin")
            #expect(scope.headers[.wwwAuthenticate] == "Bearer error=\"insufficient_scope\", scope=\"read admin\"")
            #expect(try await api.revoke(keyID).status == 204)
            let revoked = try await api.send(.get, Self.path, headers: [Self.apiKey: secret])
            #expect(revoked.status == 401 && revoked.reason == "CREDENTIAL_INVALID")
        }
    }

    @Test func rateLimitedIs429Or403() async throws {
        var config = testConfig()
        config.rateLimitEnabled = true
        try await withAPI(config) { api in
            let (_, secret) = try await api.issue([
                "name": "k", "actor_id": "a", "rate_limit_policy": ["quota": "1", "window": "3600s"],
            ])
            let first = try await api.send(.get, Self.path, headers: [Self.apiKey: secret])
            #expect(first.status == 200 && Self.header(first, "RateLimit") == "\"default\";r=0;t=3600")
            let limited = try await api.send(.get, Self.path, headers: [Self.apiKey: secret])
            #expect(limited.status == 429 && limited.reason == "RATE_LIMITED" && limited.headers[.retryAfter] == "3600")
            let forNginx = try await api.send(
                .get,
                "\(Self.path)?rate_limited_status=403",
                headers: [Self.apiKey: secret]
            )
            #expect(forNginx.status == 403 && forNginx.reason == "RATE_LIMITED")
            #expect(Self.header(forNginx, "RateLimit-Policy") == "\"default\";q=1;w=3600")
        }
    }

    /// The IP allowlist applies with the client address the gateway forwards — not when trusted proxies are set and
    /// the gateway is not one of them (spec §15.2): then the gateway's own address is the client.
    @Test func theAllowlistUsesTheGatewaysForwardedAddress() async throws {
        var config = testConfig()
        config.clientIPSource = .xForwardedFor
        config.trustedProxies = [CIDR("127.0.0.1/32")!]
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        try await withAPI(config, live: true) { api in
            let (_, secret) = try await api.issue([
                "name": "k", "actor_id": "a", "ip_restriction": ["allowed_cidrs": ["203.0.113.0/24"]],
            ])
            let inside = try await api.send(.get, Self.path, headers: [Self.apiKey: secret, forwarded: "203.0.113.7"])
            #expect(inside.status == 200)
            let outside = try await api.send(
                .get,
                Self.path,
                headers: [Self.apiKey: secret, forwarded: "198.51.100.1"]
            )
            #expect(outside.status == 401 && outside.reason == "CREDENTIAL_INVALID")
        }
        var untrusted = config
        untrusted.trustedProxies = [CIDR("10.0.0.0/8")!]
        try await withAPI(untrusted, live: true) { api in
            let (_, secret) = try await api.issue([
                "name": "k", "actor_id": "a", "ip_restriction": ["allowed_cidrs": ["203.0.113.0/24"]],
            ])
            let spoofed = try await api.send(.get, Self.path, headers: [Self.apiKey: secret, forwarded: "203.0.113.7"])
            #expect(spoofed.status == 401)
        }
    }

    @Test func aBrowsersOriginDoesNotRefuseTheCheck() async throws {
        try await withAPI { api in
            let (_, secret) = try await api.issue()
            let reply = try await api.send(
                .post,
                Self.path,
                headers: [
                    Self.apiKey: secret, HTTPField.Name("Sec-Fetch-Site")!: "cross-site",
                    .origin: "https://evil.example",
                ]
            )
            #expect(reply.status == 200)
        }
    }

    @Test func withAdminAuthTheGatewayNeedsKeysVerify() async throws {
        let config = AdminAuthTests.authConfig()
        let gateway = try await AdminAuthTests.bootstrap(config, permissions: ["keys.verify"])
        let reader = try await AdminAuthTests.bootstrap(config, permissions: ["keys.read"])
        let root = try await AdminAuthTests.bootstrap(config)
        try await withAPI(config) { api in
            let issued = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "k", "actor_id": "a"],
                headers: AdminAuthTests.bearer(root.secret)
            )
            let key = try #require(issued.json["secret"]?.stringValue)
            let adminHeader = AdminAuthTests.adminKeyHeader
            let ok = try await api.send(
                .get,
                Self.path,
                headers: [adminHeader: gateway.secret, .authorization: "Bearer \(key)"]
            )
            #expect(ok.status == 200)
            let bearerAdmin = try await api.send(
                .get,
                Self.path,
                headers: [.authorization: "Bearer \(gateway.secret)", Self.apiKey: key]
            )
            #expect(bearerAdmin.status == 200)
            let denied = try await api.send(.get, Self.path, headers: [adminHeader: reader.secret, Self.apiKey: key])
            #expect(denied.status == 403 && denied.reason == "ADMIN_PERMISSION_REQUIRED")
            #expect(try await api.send(.get, Self.path, headers: [Self.apiKey: key]).status == 401)
        }
    }
}
