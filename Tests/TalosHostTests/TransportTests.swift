import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

@Suite struct TransportTests {
    @Test func everyErrorUsesTheEnvelope() async throws {
        try await withAPI { api async throws in
            let reply = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                "{not json",
                headers: [HTTPField.Name("X-Request-ID")!: "req.1:a-b"]
            )
            #expect(reply.status == 400)
            #expect(reply.headers[HTTPField.Name("X-Request-ID")!] == "req.1:a-b")
            let error = try #require(reply.json["error"])
            #expect(error["code"] == 400)
            #expect(error["status"] == "INVALID_ARGUMENT")
            #expect(error["details"]?[0]?["@type"] == "type.googleapis.com/google.rpc.ErrorInfo")
            #expect(error["details"]?[0]?["reason"] == "MALFORMED_REQUEST")
            #expect(error["details"]?[0]?["domain"] == "www.ory.com/talos")
            #expect(
                error["details"]?[1] == [
                    "@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": "req.1:a-b",
                ]
            )
        }
    }

    @Test(arguments: [
        #"{"name":5,"actor_id":"a"}"#, #"{"name":"n","actor_id":"a","scopes":"read"}"#,
        #"{"name":"n","actor_id":"a","scopes":[1]}"#, #"{"name":"n","actor_id":"a","metadata":[]}"#,
        #"{"name":"n","actor_id":"a","ttl":3600}"#, #"{"name":"n","actor_id":"a","rate_limit_policy":{"quota":"ten"}}"#,
        "[]", "", "null", #"{"name":"n"} trailing"#,
    ])
    func wrongTypesAreMalformed(body: String) async throws {
        try await withAPI { api async throws in
            let reply = try await api.send(.post, "/v2alpha1/admin/issuedApiKeys", body)
            #expect(reply.status == 400)
            #expect(reply.reason == "MALFORMED_REQUEST")
            #expect(reply.message?.hasPrefix("malformed JSON body: ") == true)
        }
    }

    @Test func routingErrors() async throws {
        try await withAPI { api async throws in
            let unknown = try await api.send(.get, "/v2alpha1/admin/nothing")
            #expect(unknown.status == 404 && unknown.reason == "NOT_FOUND" && unknown.message == "route not found")
            let method = try await api.send(.delete, "/v2alpha1/admin/issuedApiKeys")
            #expect(method.status == 405 && method.reason == "METHOD_NOT_ALLOWED")
            #expect(method.json["error"]?["status"] == "UNIMPLEMENTED")
            #expect(method.headers[.allow] == "POST, GET")
            let custom = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/00000000-0000-4000-8000-000000000000:rotate"
            )
            #expect(custom.status == 405 && custom.headers[.allow] == "POST")
            let encoded = try await api.send(.post, "/v2alpha1/admin/apiKeys%3Averify", #"{"credential":"x"}"#)
            #expect(encoded.status == 200 && encoded.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
            let lowercase = try await api.send(.post, "/v2alpha1/admin/apiKeys%3averify", #"{"credential":"x"}"#)
            #expect(lowercase.status == 200)
            let badUUID = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/nope")
            #expect(badUUID.status == 400)
        }
    }

    /// Spec §15.4: only `%3A` is decoded; other escapes, empty and dot segments match nothing.
    @Test(arguments: [
        "/v2alpha1/%61dmin/apiKeys:verify", "//v2alpha1/admin/apiKeys:verify", "/v2alpha1//admin/apiKeys:verify",
        "/v2alpha1/admin/./apiKeys:verify", "/v2alpha1/x/../admin/apiKeys:verify", "/v2alpha1/admin/apiKeys%3averify/",
        "/v2alpha1/admin/apiKeys%3Verify", "/v2alpha1/admin/apiKeys:verify%",
        // Each of these is a route once decoded: only a strict matcher refuses them.
        "/v2alpha1/admin/apiKeys:verif%79", "/v2alpha1/admin%2FapiKeys:verify", "/v2alpha1/admin/apiKeys%3Averif%79",
    ])
    func pathsAreMatchedStrictly(path: String) async throws {
        try await withAPI { api async throws in
            let reply = try await api.send(.post, path, #"{"credential":"x"}"#)
            #expect(reply.status == 404 && reply.reason == "NOT_FOUND" && reply.message == "route not found")
        }
    }

    @Test func bodyLimits() async throws {
        try await withAPI { api async throws in
            let big = String(repeating: "a", count: (1 << 20) + 1)
            let reply = try await api.send(.post, "/v2alpha1/admin/apiKeys:verify", big)
            #expect(reply.status == 413)
            #expect(reply.reason == "REQUEST_TOO_LARGE")
            #expect(reply.json["error"]?["status"] == "RESOURCE_EXHAUSTED")
            #expect(reply.message == "request body exceeds 1048576 bytes")
            // Batch verify allows 16 MiB: a 2 MiB body gets past the limit (and fails on its content instead).
            let batch = try await api.send(.post, "/v2alpha1/admin/apiKeys:batchVerify", "[" + big + big + "]")
            #expect(batch.status == 400 && batch.reason == "MALFORMED_REQUEST")
        }
    }

    /// Spec §15.6: at most 200 000 JSON values per body; `expected_audiences` at most 100 entries of ≤ 256 bytes.
    @Test func boundedWorkPerRequest() async throws {
        try await withAPI { api async throws in
            func verify(padding: Int) async throws -> Reply {
                let pad = Array(repeating: "0", count: padding).joined(separator: ",")
                return try await api.send(
                    .post,
                    "/v2alpha1/admin/apiKeys:batchVerify",
                    #"{"requests":[{"credential":"x"}],"pad":["# + pad + "]}"
                )
            }
            // 5 values besides the padding (names are not values): the body, the requests array, its item, "x" and
            // pad's array; each 0 is one more.
            let atCap = try await verify(padding: 200_000 - 5)
            #expect(atCap.status == 200, "\(atCap.rawBody.prefix(200))")
            let overCap = try await verify(padding: 200_000 - 4)
            #expect(overCap.status == 400 && overCap.reason == "MALFORMED_REQUEST")
            let hundred = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": "x", "expected_audiences": .array((0..<100).map { .string("a\($0)") })]
            )
            #expect(hundred.status == 200)
            let tooMany = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": "x", "expected_audiences": .array((0..<101).map { .string("a\($0)") })]
            )
            #expect(tooMany.status == 400 && tooMany.reason == "INVALID_ARGUMENT")
            let tooLong = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": "x", "expected_audiences": [.string(String(repeating: "a", count: 257))]]
            )
            #expect(tooLong.status == 400 && tooLong.reason == "INVALID_ARGUMENT")
            let longest = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": "x", "expected_audiences": [.string(String(repeating: "a", count: 256))]]
            )
            #expect(longest.status == 200)
        }
    }

    @Test func healthAndVersion() async throws {
        try await withAPI { api async throws in
            #expect(try await api.send(.get, "/health/alive").json == ["status": "ok"])
            #expect(try await api.send(.get, "/health/ready").json == ["status": "ok"])
            #expect(try await api.send(.get, "/version").json == ["version": .string(TalosVersion.current)])
        }
    }

    @Test func serverModesRefuseTheOtherSurface() async throws {
        try await withAPI(mode: .public) { api async throws in
            let admin = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys")
            #expect(admin.status == 501 && admin.reason == "UNIMPLEMENTED")
            #expect(admin.message == "method not available in this server mode")
            let own = try await api.post(
                "/v2alpha1/apiKeys:selfRevoke",
                ["credential": "x", "reason": "REVOCATION_REASON_SUPERSEDED"]
            )
            #expect(own.status == 404)
            #expect(try await api.send(.get, "/health/alive").status == 200)
            // The revocation feed is admin surface (spec §15.14).
            let feed = try await api.send(.get, "/v2alpha1/admin/revocations:watch")
            #expect(feed.status == 501 && feed.reason == "UNIMPLEMENTED")
        }
        try await withAPI(mode: .admin) { api async throws in
            let selfRevoke = try await api.post("/v2alpha1/apiKeys:selfRevoke", ["credential": "x"])
            #expect(selfRevoke.status == 501)
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys").status == 200)
        }
    }
}

@Suite struct SecretRotationTests {
    let oldSecret = testSecret
    let newSecret = String(repeating: "n", count: 40)

    @Test func retiredSecretsKeepKeysValidUntilTheyExpire() async throws {
        let database = temporaryDatabase()
        let clock = ManualClock()
        let secret = try await withAPI(testConfig(database: database), clock: clock) { api in try await api.issue().1 }
        var rotated = testConfig(database: database)
        rotated.hmacSecret = newSecret
        try await withAPI(rotated, clock: clock) { api async throws in
            let reply = try await api.verify(secret)
            #expect(reply.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
        }
        rotated.retiredHMACSecrets = [ExpiringValue(value: oldSecret, expiresAt: clock.now().adding(seconds: 60))]
        try await withAPI(rotated, clock: clock) { api async throws in
            #expect(try await api.verify(secret).json["is_valid"] == true)
            // Keys issued now use the current secret.
            let (_, fresh) = try await api.issue()
            #expect(try await api.verify(fresh).json["is_valid"] == true)
            clock.advance(seconds: 61)
            #expect(try await api.verify(secret).json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
            #expect(try await api.verify(fresh).json["is_valid"] == true)
        }
    }

    @Test func pageTokensSurviveSecretRotation() async throws {
        let database = temporaryDatabase()
        let token = try await withAPI(testConfig(database: database)) { api async throws in
            for _ in 0..<3 { _ = try await api.issue() }
            return try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_size=1").json["next_page_token"]?
                .stringValue ?? ""
        }
        var rotated = testConfig(database: database)
        rotated.hmacSecret = newSecret
        rotated.retiredHMACSecrets = [ExpiringValue(value: oldSecret)]
        try await withAPI(rotated) { api async throws in
            let reply = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_size=1&page_token=\(token)")
            #expect(reply.status == 200)
        }
    }

    @Test func retiredPrefixesKeepVerifying() async throws {
        let database = temporaryDatabase()
        var config = testConfig(database: database)
        config.prefix = "old"
        let secret = try await withAPI(config) { api in try await api.issue().1 }
        #expect(secret.hasPrefix("old_v1_"))
        config.prefix = "new"
        try await withAPI(config) { api async throws in
            let reply = try await api.verify(secret)
            #expect(reply.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
        }
        config.retiredPrefixes = ["old"]
        try await withAPI(config) { api async throws in
            #expect(try await api.verify(secret).json["is_valid"] == true)
            #expect(try await api.issue().1.hasPrefix("new_v1_"))
        }
    }

    /// Query values are form-decoded: `+` is a space, as Go's `url.Values` and Ory's SDKs send it.
    @Test func queryValuesAreFormDecoded() async throws {
        try await withAPI { api async throws in
            _ = try await api.issue(["name": "n", "actor_id": "a+b c"])
            let plus = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?filter=actor_id+%3D+%22a%2Bb+c%22")
            #expect(plus.status == 200 && plus.json["issued_api_keys"]?.arrayValue?.count == 1, "\(plus.rawBody)")
            let status = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?filter=status+%3D+KEY_STATUS_ACTIVE")
            #expect(status.status == 200 && status.json["issued_api_keys"]?.arrayValue?.count == 1)
        }
    }
}
