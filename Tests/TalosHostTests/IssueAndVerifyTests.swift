import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

@Suite struct IssueTests {
    @Test func issueAnswers201WithTheResourceInSpecOrder() async throws {
        try await withAPI { api async throws in
            let reply = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                [
                    "name": "my-service", "actor_id": "user_123", "scopes": ["read", "write", "read"], "ttl": "720h",
                    "metadata": ["team": "backend"],
                ]
            )
            #expect(reply.status == 201)
            #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
            #expect(reply.headers[.cacheControl] == "no-store")
            #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let key = try #require(reply.json["issued_api_key"])
            #expect(
                key.objectValue?.keys == [
                    "key_id", "name", "actor_id", "scopes", "status", "create_time", "update_time", "expire_time",
                    "metadata",
                    "visibility",
                ]
            )
            #expect(key["scopes"] == ["read", "write"])
            #expect(key["create_time"] == "2026-06-01T17:13:25Z")
            #expect(key["expire_time"] == "2026-07-01T17:13:25Z")
            #expect(key["visibility"] == "KEY_VISIBILITY_SECRET")
            let secret = try #require(reply.json["secret"]?.stringValue)
            let parts = try #require(IssuedKeyFormat.parse(secret))
            #expect(parts.prefix == "ory_ak")
            #expect(IssuedKeyFormat.decodeIdentifier(parts.identifier)?.keyID == key["key_id"]?.stringValue)
            #expect(IssuedKeyFormat.decodeIdentifier(parts.identifier)?.createdAtSeconds == 1_780_334_005)
        }
    }

    @Test func idempotentIssueReplaysWithoutSecret() async throws {
        try await withAPI { api async throws in
            let body: JSONValue = ["name": "k", "actor_id": "a", "request_id": "req-42"]
            let first = try await api.post("/v2alpha1/admin/issuedApiKeys", body)
            let second = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "other", "actor_id": "b", "request_id": "req-42"]
            )
            #expect(first.status == 201 && second.status == 201)
            #expect(first.json["secret"] != nil)
            #expect(second.json["secret"] == nil)
            #expect(second.json["issued_api_key"] == first.json["issued_api_key"])
            let list = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys")
            #expect(list.json["issued_api_keys"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: [
        (#"{"actor_id":"a"}"#, "validation error: name: value is required"),
        (#"{"name":"n"}"#, "validation error: actor_id: value is required"),
        (#"{"name":"n","actor_id":"a","ttl":"0.5s"}"#, "ttl must be between 1s and 315360000s"),
        (#"{"name":"n","actor_id":"a","ttl":"11y"}"#, "ttl must be between 1s and 315360000s"),
        (#"{"name":"n","actor_id":"a","ttl":"2y"}"#, "ttl exceeds the configured maximum of 8760h0m0s"),
        (
            #"{"name":"n","actor_id":"a","scopes":["has space"]}"#,
            "validation error: scopes: scopes must not contain whitespace or control characters"
        ),
        (
            #"{"name":"n","actor_id":"a","visibility":"KEY_VISIBILITY_PUBLIC"}"#,
            "public key prefix not configured: set credentials.api_keys.prefix.public_current"
        ),
        (
            #"{"name":"n","actor_id":"a","visibility":"KEY_VISIBILITY_SHOUTY"}"#,
            #"validation error: visibility: unknown value "KEY_VISIBILITY_SHOUTY""#
        ),
        (
            #"{"name":"n","actor_id":"a","rate_limit_policy":{"quota":"10","window":"1.5s"}}"#,
            "validation error: rate_limit_policy.window: must be whole seconds"
        ),
        (
            #"{"name":"n","actor_id":"a","rate_limit_policy":{"quota":"10","window":"60s","unit":"bytes"}}"#,
            #"validation error: rate_limit_policy.unit: only "requests" is supported"#
        ),
        (
            #"{"name":"n","actor_id":"a","ip_restriction":{"allowed_cidrs":["10.0.0.0/99"]}}"#,
            #"validation error: ip_restriction.allowed_cidrs: invalid CIDR "10.0.0.0/99""#
        ),
    ])
    func validationErrors(body: String, message: String) async throws {
        try await withAPI { api async throws in
            let reply = try await api.send(.post, "/v2alpha1/admin/issuedApiKeys", body)
            #expect(reply.status == 400)
            #expect(reply.message == message)
            #expect(
                ["INVALID_ARGUMENT", "TTL_EXCEEDS_MAXIMUM", "PUBLIC_PREFIX_NOT_CONFIGURED"].contains(reply.reason ?? "")
            )
        }
    }

    @Test func zeroTTLMeansDefault() async throws {
        var config = testConfig()
        config.defaultTTL = .seconds(3600)
        try await withAPI(config) { api async throws in
            let reply = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "n", "actor_id": "a", "ttl": "0s"]
            )
            #expect(reply.json["issued_api_key"]?["expire_time"] == "2026-06-01T18:13:25Z")
        }
    }

    @Test func quotaCountsActiveKeys() async throws {
        var config = testConfig()
        config.quotaMaxKeys = 2
        try await withAPI(config) { api async throws in
            let (first, _) = try await api.issue()
            _ = try await api.issue()
            let over = try await api.post("/v2alpha1/admin/issuedApiKeys", ["name": "n", "actor_id": "a"])
            #expect(over.status == 429)
            #expect(over.reason == "QUOTA_EXCEEDED")
            #expect(over.message == "the API key quota for this plan permits up to 2 active API keys")
            #expect(over.json["error"]?["details"]?[0]?["metadata"] == ["limit": "2", "current_usage": "2"])
            #expect(try await api.revoke(first).status == 204)
            _ = try await api.issue()
        }
    }

    @Test func publicKeysUseThePublicPrefix() async throws {
        var config = testConfig()
        config.publicPrefix = "pk_live"
        try await withAPI(config) { api async throws in
            let reply = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "n", "actor_id": "a", "visibility": "KEY_VISIBILITY_PUBLIC"]
            )
            let secret = try #require(reply.json["secret"]?.stringValue)
            #expect(secret.hasPrefix("pk_live_v1_"))
            let verified = try await api.verify(secret)
            #expect(verified.json["visibility"] == "KEY_VISIBILITY_PUBLIC")
        }
    }
}

@Suite struct VerifyTests {
    @Test func validKeyReportsItsMetadata() async throws {
        try await withAPI { api async throws in
            let (keyID, secret) = try await api.issue(
                [
                    "name": "n", "actor_id": "user_123", "scopes": ["read:*"], "ttl": "1h", "metadata": ["team": "x"],
                    "rate_limit_policy": ["quota": 100, "window": "1m"],
                ])
            let reply = try await api.verify(secret, noCache: true)
            #expect(reply.status == 200)
            #expect(reply.headers[HTTPField.Name("Ory-Talos-Cache")!] == "SKIP")
            #expect(
                reply.json == [
                    "is_valid": true, "key_id": .string(keyID), "actor_id": "user_123", "scopes": ["read:*"],
                    "status": "KEY_STATUS_ACTIVE", "expire_time": "2026-06-01T18:13:25Z", "metadata": ["team": "x"],
                    "rate_limit_policy": ["quota": "100", "window": "60s", "unit": "requests"],
                    "issuer": "https://api.example.com", "visibility": "KEY_VISIBILITY_SECRET",
                ]
            )
        }
    }

    @Test func everyFailureCode() async throws {
        let clock = ManualClock()
        try await withAPI(clock: clock) { api async throws in
            func code(_ credential: String) async throws -> String? {
                let reply = try await api.verify(credential)
                #expect(reply.status == 200)
                #expect(reply.json["is_valid"] == false)
                #expect(reply.json.objectValue?.keys == ["is_valid", "error_code", "error_message"])
                return reply.json["error_code"]?.stringValue
            }
            let (revokedID, revoked) = try await api.issue()
            _ = try await api.revoke(revokedID)
            #expect(try await code(revoked) == "VERIFICATION_ERROR_REVOKED")

            let (_, expiring) = try await api.issue(["name": "n", "actor_id": "a", "ttl": "1h"])
            clock.advance(seconds: 3601)
            #expect(try await code(expiring) == "VERIFICATION_ERROR_EXPIRED")

            let (_, restricted) = try await api.issue(
                ["name": "n", "actor_id": "a", "ip_restriction": ["allowed_cidrs": ["10.0.0.0/8"]]])
            #expect(try await code(restricted) == "VERIFICATION_ERROR_IP_NOT_ALLOWED")

            #expect(try await code(String(repeating: "x", count: 8193)) == "VERIFICATION_ERROR_INVALID_FORMAT")
            #expect(
                try await code("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln") == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            #expect(try await code("mc_v1_AgEXaHR0cHM6Ly9hcGku") == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            #expect(try await code("sk_live_unknown") == "VERIFICATION_ERROR_NOT_FOUND")

            let empty = try await api.post("/v2alpha1/admin/apiKeys:verify", ["credential": ""])
            #expect(empty.status == 400 && empty.reason == "CREDENTIAL_REQUIRED")
            let missing = try await api.send(.post, "/v2alpha1/admin/apiKeys:verify", "{}")
            #expect(missing.status == 400 && missing.reason == "CREDENTIAL_REQUIRED")
        }
    }

    /// Forged checksums, unknown tenants' keys, out-of-range timestamps, disallowed prefixes and unknown strings all
    /// look the same to the caller (spec §5.4).
    @Test func antiEnumeration() async throws {
        try await withAPI { api async throws in
            let (_, secret) = try await api.issue()
            let parts = try #require(IssuedKeyFormat.parse(secret))
            let crypto = try BackendRegistry.builtIn.cryptoProvider(named: "openssl").make()
            let forgedChecksum = "\(parts.signedPart)\(Base58.encode(crypto.randomBytes(32)))"
            let wrongPrefix = IssuedKeyFormat.makeKey(
                prefix: "other",
                createdAtSeconds: 1_780_334_005,
                keyID: crypto.randomUUID(),
                hmac: crypto.hmacSHA256Key(Array(testSecret.utf8))
            )
            let future = IssuedKeyFormat.makeKey(
                prefix: "ory_ak",
                createdAtSeconds: 1_780_334_005 + 3600,
                keyID: crypto.randomUUID(),
                hmac: crypto.hmacSHA256Key(Array(testSecret.utf8))
            )
            let unknownButValid = IssuedKeyFormat.makeKey(
                prefix: "ory_ak",
                createdAtSeconds: 1_780_334_005,
                keyID: crypto.randomUUID(),
                hmac: crypto.hmacSHA256Key(Array(testSecret.utf8))
            )
            let otherSecret = IssuedKeyFormat.makeKey(
                prefix: "ory_ak",
                createdAtSeconds: 1_780_334_005,
                keyID: crypto.randomUUID(),
                hmac: crypto.hmacSHA256Key(Array(String(repeating: "z", count: 40).utf8))
            )
            var bodies: Set<String> = []
            for credential in [
                forgedChecksum, wrongPrefix, future, unknownButValid, otherSecret, "sk_live_nope", "ory_ak_v1_x_y",
            ] {
                let reply = try await api.verify(credential)
                bodies.insert(reply.rawBody)
            }
            #expect(
                bodies == [
                    #"{"is_valid":false,"error_code":"VERIFICATION_ERROR_NOT_FOUND","error_message":"The API key was not found."}"#
                ]
            )
        }
    }

    @Test func timestampRuleStopsKeysAfterMaxTTL() async throws {
        let clock = ManualClock()
        var config = testConfig()
        config.maxTTL = .seconds(3600)
        config.clockSkew = .seconds(60)
        try await withAPI(config, clock: clock) { api async throws in
            let (_, secret) = try await api.issue()
            clock.advance(seconds: 3600 + 60)
            #expect(try await api.verify(secret).json["is_valid"] == true)
            clock.advance(seconds: 1)
            let reply = try await api.verify(secret)
            #expect(reply.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
        }
    }

    @Test func clientIPFromTheConfiguredHeader() async throws {
        var config = testConfig()
        config.clientIPSource = .xForwardedFor
        try await withAPI(config) { api async throws in
            let (_, secret) = try await api.issue(
                ["name": "n", "actor_id": "a", "ip_restriction": ["allowed_cidrs": ["10.0.0.0/8", "2001:db8::/32"]]])
            func code(_ forwardedFor: String?) async throws -> String? {
                var headers = HTTPFields()
                if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
                let reply = try await api.post(
                    "/v2alpha1/admin/apiKeys:verify",
                    ["credential": .string(secret)],
                    headers: headers
                )
                return reply.json["error_code"]?.stringValue
            }
            // The right-most address is the one the nearest proxy appended (spec §15.2); the rest is the client's word.
            #expect(try await code("192.168.0.1, 10.1.2.3") == nil)
            #expect(try await code("::ffff:10.9.9.9") == nil)
            #expect(try await code("2001:db8::7") == nil)
            #expect(try await code("10.1.2.3, 192.168.0.1") == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
            #expect(try await code("garbage") == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
            #expect(try await code(nil) == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
        }
    }

    @Test func batchVerifyKeepsOrderAndReportsEmptyItems() async throws {
        try await withAPI { api async throws in
            let (keyID, secret) = try await api.issue()
            let reply = try await api.send(
                .post,
                "/v2alpha1/admin/apiKeys:batchVerify",
                #"{"requests":[{"credential":"\#(secret)"},null,{"credential":""},{"credential":"nope"},{"credential":"\#(secret)"}]}"#
            )
            #expect(reply.status == 200)
            let results = try #require(reply.json["results"]?.arrayValue)
            #expect(results.count == 5)
            #expect(results[0]["key_id"] == .string(keyID))
            #expect(results[1]["error_message"] == "empty credential in request")
            #expect(results[2]["error_message"] == "credential is required")
            #expect(results[3]["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
            #expect(results[4]["is_valid"] == true)
            #expect(reply.headers[HTTPField.Name("Ory-Talos-Cache")!] == nil)
            let none = try await api.send(.post, "/v2alpha1/admin/apiKeys:batchVerify", #"{"requests":[]}"#)
            #expect(none.status == 400 && none.message == "requests must contain at least one item")
            let many = JSONValue.object(["requests": .array(Array(repeating: ["credential": "x"], count: 101))])
            let tooMany = try await api.post("/v2alpha1/admin/apiKeys:batchVerify", many)
            #expect(tooMany.status == 400 && tooMany.message == "maximum 100 credentials per batch")
        }
    }
}

@Suite struct LastUsedTests {
    @Test func verificationRecordsLastUseOncePerDay() async throws {
        let clock = ManualClock()
        var config = testConfig()
        config.lastUsedFlushInterval = .milliseconds(20)
        try await withAPI(config, clock: clock) { api async throws in
            let (keyID, secret) = try await api.issue()
            func lastUsed() async throws -> JSONValue? {
                for _ in 0..<100 {
                    if let value = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(keyID)").json[
                        "last_used_time"
                    ] {
                        return value
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return nil
            }
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(keyID)").json["last_used_time"] == nil)
            _ = try await api.verify(secret)
            #expect(try await lastUsed() == "2026-06-01T17:13:25Z")
            clock.advance(seconds: 86_400)
            _ = try await api.verify(secret)
            var updated: JSONValue?
            for _ in 0..<100 {
                updated = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(keyID)").json["last_used_time"]
                if updated == "2026-06-02T17:13:25Z" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(updated == "2026-06-02T17:13:25Z")
        }
    }
}
