import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

@Suite struct UpdateTests {
    func issued(_ api: API) async throws -> String {
        try await api.issue(
            [
                "name": "orig", "actor_id": "a", "scopes": ["read"], "metadata": ["team": "x"],
                "rate_limit_policy": ["quota": "5", "window": "60s"],
                "ip_restriction": ["allowed_cidrs": ["10.0.0.0/8"]],
            ]
        ).0
    }

    @Test func maskReplacesListedFieldsAndClearsAbsentOnes() async throws {
        try await withAPI { api async throws in
            let id = try await issued(api)
            let reply = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(id)?update_mask=name,scopes&update_mask=rate_limit_policy",
                #"{"issued_api_key":{"key_id":"\#(id)","name":"renamed","metadata":{"ignored":true}}}"#
            )
            #expect(reply.status == 200)
            #expect(reply.json["name"] == "renamed")
            #expect(reply.json["scopes"] == [])
            #expect(reply.json["metadata"] == ["team": "x"])
            #expect(reply.json["rate_limit_policy"] == nil)
            #expect(reply.json["ip_restriction"] == ["allowed_cidrs": ["10.0.0.0/8"]])
        }
    }

    @Test func withoutMaskOnlyPopulatedFieldsChange() async throws {
        try await withAPI { api async throws in
            let id = try await issued(api)
            let reply = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(id)",
                #"{"name":"","scopes":[],"actor_id":"intruder","metadata":{},"ip_restriction":{"allowed_cidrs":[]},"status":"KEY_STATUS_UNSPECIFIED"}"#
            )
            #expect(reply.status == 200)
            #expect(reply.json["name"] == "orig")
            #expect(reply.json["scopes"] == ["read"])
            #expect(reply.json["actor_id"] == "a")
            #expect(reply.json["metadata"] == [:])
            #expect(reply.json["ip_restriction"] == nil)
            #expect(reply.json["rate_limit_policy"] != nil)
        }
    }

    @Test func maskErrors() async throws {
        try await withAPI { api async throws in
            let id = try await issued(api)
            for mask in ["foo", "actor_id", "name,status"] {
                let reply = try await api.send(.patch, "/v2alpha1/admin/issuedApiKeys/\(id)?update_mask=\(mask)", "{}")
                #expect(reply.status == 400 && reply.reason == "INVALID_UPDATE_MASK")
            }
            let emptyName = try await api.send(.patch, "/v2alpha1/admin/issuedApiKeys/\(id)?update_mask=name", "{}")
            #expect(emptyName.status == 400 && emptyName.message == "validation error: name: value is required")
            let otherID = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(id)",
                #"{"key_id":"00000000-0000-4000-8000-000000000000"}"#
            )
            #expect(otherID.status == 400)
            let missing = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/00000000-0000-4000-8000-000000000000",
                "{}"
            )
            #expect(missing.status == 404 && missing.reason == "API_KEY_NOT_FOUND")
            let star = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(id)?update_mask=*",
                #"{"name":"all"}"#
            )
            #expect(star.json["scopes"] == [] && star.json["rate_limit_policy"] == nil && star.json["name"] == "all")
        }
    }
}

@Suite struct RotateTests {
    @Test func rotationReplacesTheKeyAndInheritsFields() async throws {
        try await withAPI { api async throws in
            let (oldID, oldSecret) = try await api.issue(
                ["name": "svc", "actor_id": "a", "scopes": ["read"], "ttl": "24h", "metadata": ["m": 1]])
            let reply = try await api.post("/v2alpha1/admin/issuedApiKeys/\(oldID):rotate", ["scopes": []])
            #expect(reply.status == 201)
            let new = try #require(reply.json["issued_api_key"])
            #expect(new["key_id"] != .string(oldID))
            #expect(new["name"] == "svc" && new["scopes"] == [] && new["metadata"] == ["m": 1])
            #expect(new["expire_time"] == "2026-06-02T17:13:25Z")
            let old = try #require(reply.json["old_issued_api_key"])
            #expect(old["status"] == "KEY_STATUS_REVOKED")
            #expect(old["revocation_reason"] == "REVOCATION_REASON_SUPERSEDED")
            #expect(old["expire_time"] == "2026-07-01T17:13:25Z")
            let newSecret = try #require(reply.json["secret"]?.stringValue)
            #expect(try await api.verify(oldSecret).json["error_code"] == "VERIFICATION_ERROR_REVOKED")
            #expect(try await api.verify(newSecret).json["is_valid"] == true)
            let again = try await api.post("/v2alpha1/admin/issuedApiKeys/\(oldID):rotate", [:])
            #expect(again.status == 409 && again.reason == "API_KEY_NOT_ACTIVE")
            let emptyName = try await api.post(
                "/v2alpha1/admin/issuedApiKeys/\(new["key_id"]!.stringValue!):rotate",
                ["name": ""]
            )
            #expect(emptyName.status == 400 && emptyName.message == "validation error: name: value is required")
        }
    }

    @Test func concurrentRotationsExactlyOneWins() async throws {
        try await withAPI { api async throws in
            let (id, _) = try await api.issue()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await api.post("/v2alpha1/admin/issuedApiKeys/\(id):rotate", [:]).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted() == [201, 409, 409, 409])
            let active = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?filter=status%3DKEY_STATUS_ACTIVE")
            #expect(active.json["issued_api_keys"]?.arrayValue?.count == 1)
        }
    }
}

@Suite struct RevokeTests {
    @Test func revokeRules() async throws {
        try await withAPI { api async throws in
            let (id, _) = try await api.issue()
            let withDescription = try await api.post(
                "/v2alpha1/admin/apiKeys/\(id):revoke",
                ["reason": "REVOCATION_REASON_SUPERSEDED", "description": "x"]
            )
            #expect(withDescription.status == 400)
            #expect(withDescription.message == "description is only allowed when reason is PRIVILEGE_WITHDRAWN")
            let noReason = try await api.post("/v2alpha1/admin/apiKeys/\(id):revoke", [:])
            #expect(noReason.message == "validation error: reason: a specific revocation reason is required")
            let unspecified = try await api.post("/v2alpha1/admin/apiKeys/\(id):revoke", ["reason": 0])
            #expect(unspecified.status == 400)
            let ok = try await api.post(
                "/v2alpha1/admin/issuedApiKeys/\(id):revoke",
                ["reason": "REVOCATION_REASON_PRIVILEGE_WITHDRAWN", "description": "contractor offboarded"]
            )
            #expect(ok.status == 204 && ok.rawBody.isEmpty && ok.headers[.contentType] == nil)
            #expect(ok.headers[.cacheControl] == "no-store")
            let twice = try await api.revoke(id)
            #expect(twice.status == 409 && twice.reason == "API_KEY_ALREADY_REVOKED")
            let key = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(id)")
            #expect(key.json["revocation_description"] == "contractor offboarded")
            #expect(key.json["expire_time"] == "2026-07-01T17:13:25Z")
        }
    }

    @Test func pathShapes() async throws {
        try await withAPI { api async throws in
            #expect(try await api.revoke("not-an-id").status == 404)
            #expect(try await api.revoke("00000000-0000-4000-8000-000000000000").reason == "API_KEY_NOT_FOUND")
            let imported = try await api.revoke(String(repeating: "ab", count: 32))
            #expect(imported.status == 404 && imported.message == "imported key not found")
            let badIssued = try await api.post(
                "/v2alpha1/admin/issuedApiKeys/not-a-uuid:revoke",
                ["reason": "REVOCATION_REASON_SUPERSEDED"]
            )
            #expect(badIssued.status == 400)
            let badImported = try await api.post(
                "/v2alpha1/admin/importedApiKeys/00000000-0000-4000-8000-000000000000:revoke",
                ["reason": "REVOCATION_REASON_SUPERSEDED"]
            )
            #expect(badImported.status == 400)
        }
    }

    @Test func selfRevoke() async throws {
        let clock = ManualClock()
        var config = testConfig()
        config.publicPrefix = "pk"
        try await withAPI(config, clock: clock) { api async throws in
            let path = "/v2alpha1/apiKeys:selfRevoke"
            let (_, secret) = try await api.issue()
            let admin = try await api.post(
                path,
                ["credential": .string(secret), "reason": "REVOCATION_REASON_PRIVILEGE_WITHDRAWN"]
            )
            #expect(admin.status == 400 && admin.reason == "ADMIN_ONLY_REASON")
            let ok = try await api.post(
                path,
                ["credential": .string(secret), "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(ok.status == 200 && ok.json == [:])
            let again = try await api.post(
                path,
                ["credential": .string(secret), "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(again.status == 200)
            #expect(try await api.verify(secret).json["error_code"] == "VERIFICATION_ERROR_REVOKED")
            let unknown = try await api.post(
                path,
                ["credential": "sk_nope", "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(unknown.status == 404 && unknown.reason == "API_KEY_NOT_FOUND")
            let derived = try await api.post(
                path,
                ["credential": "eyJa.eyJb.c2ln", "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(derived.status == 400 && derived.reason == "DERIVED_TOKEN_NOT_REVOCABLE")
            let empty = try await api.post(path, ["credential": "", "reason": "REVOCATION_REASON_KEY_COMPROMISE"])
            #expect(empty.reason == "CREDENTIAL_REQUIRED")
            let (_, publicKey) = try await api.issue([
                "name": "p", "actor_id": "a", "visibility": "KEY_VISIBILITY_PUBLIC",
            ])
            let publicReply = try await api.post(
                path,
                ["credential": .string(publicKey), "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(publicReply.status == 403 && publicReply.reason == "PUBLIC_KEY_NOT_SELF_REVOCABLE")
            let (_, expiring) = try await api.issue(["name": "e", "actor_id": "a", "ttl": "1s"])
            clock.advance(seconds: 2)
            let expired = try await api.post(
                path,
                ["credential": .string(expiring), "reason": "REVOCATION_REASON_SUPERSEDED"]
            )
            #expect(expired.status == 401 && expired.reason == "API_KEY_EXPIRED")
        }
    }
}

@Suite struct ListTests {
    @Test func pagesAcrossAFilterAndRejectsTamperedTokens() async throws {
        try await withAPI { api async throws in
            var mine: [String] = []
            for index in 0..<7 {
                let (id, _) = try await api.issue(["name": "k", "actor_id": .string(index % 2 == 0 ? "me" : "other")])
                if index % 2 == 0 { mine.append(id) }
            }
            _ = try await api.revoke(mine[0])
            let filter = "actor_id%3D%22me%22%20AND%20status%3DKEY_STATUS_ACTIVE"
            var token = ""
            var seen: [String] = []
            repeat {
                let reply = try await api.send(
                    .get,
                    "/v2alpha1/admin/issuedApiKeys?page_size=2&filter=\(filter)&page_token=\(token)"
                )
                #expect(reply.status == 200)
                seen += reply.json["issued_api_keys"]?.arrayValue?.compactMap { $0["key_id"]?.stringValue } ?? []
                token = reply.json["next_page_token"]?.stringValue ?? ""
            } while !token.isEmpty
            #expect(seen == Array(mine.dropFirst()).sorted())

            let first = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_size=1&filter=\(filter)")
            let pageToken = try #require(first.json["next_page_token"]?.stringValue)
            var bytes = Array(pageToken.utf8)
            bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            for bad in [String(decoding: bytes, as: UTF8.self), "garbage", "AQ"] {
                let reply = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_token=\(bad)&filter=\(filter)")
                #expect(
                    reply.status == 400 && reply.reason == "INVALID_PAGE_TOKEN" && reply.message == "invalid page_token"
                )
            }
            let otherFilter = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_token=\(pageToken)")
            #expect(otherFilter.reason == "INVALID_PAGE_TOKEN")
            let negative = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?page_size=-1")
            #expect(negative.status == 400 && negative.reason == "INVALID_ARGUMENT")
            let badFilter = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?filter=name%3D%22x%22")
            #expect(badFilter.status == 400 && badFilter.reason == "INVALID_FILTER")
            let all = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys")
            #expect(all.json["issued_api_keys"]?.arrayValue?.count == 7 && all.json["next_page_token"] == "")
        }
    }
}

@Suite struct ReviewRegressionTests {
    @Test func rotatingAPublicKeyWithoutAPublicPrefixChangesNothing() async throws {
        let database = temporaryDatabase()
        var config = testConfig(database: database)
        config.publicPrefix = "pk"
        let (id, secret) = try await withAPI(config) { api async throws in
            try await api.issue(["name": "p", "actor_id": "a", "visibility": "KEY_VISIBILITY_PUBLIC"])
        }
        config.publicPrefix = nil
        config.retiredPublicPrefixes = ["pk"]
        try await withAPI(config) { api async throws in
            let reply = try await api.post("/v2alpha1/admin/issuedApiKeys/\(id):rotate", [:])
            #expect(reply.status == 400 && reply.reason == "PUBLIC_PREFIX_NOT_CONFIGURED")
            #expect(try await api.verify(secret).json["is_valid"] == true)
        }
    }

    @Test func inputsThatOnceReachedTheDatabaseAreRefusedEarly() async throws {
        try await withAPI(freshSigningConfig()) { api async throws in
            let (id, secret) = try await api.issue()
            let nul = try await api.send(
                .post,
                "/v2alpha1/admin/apiKeys/\(id):revoke",
                #"{"reason":"REVOCATION_REASON_PRIVILEGE_WITHDRAWN","description":"a\u0000b"}"#
            )
            #expect(nul.status == 400 && nul.reason == "INVALID_ARGUMENT")
            let filter = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys?filter=actor_id%3D%22a%00%22")
            #expect(filter.status == 400 && filter.reason == "INVALID_FILTER")
            let claim = try await api.derive(["credential": .string(secret), "custom_claims": ["a=b": 1]])
            #expect(claim.status == 400)
            let hugeTTL = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "n", "actor_id": "a", "ttl": "3000000000h"]
            )
            #expect(hugeTTL.message == "ttl must be between 1s and 315360000s")
            let window = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                #"{"name":"n","actor_id":"a","rate_limit_policy":{"quota":"5","window":{"seconds":"60","nanos":500000000}}}"#
            )
            #expect(window.message == "validation error: rate_limit_policy.window: must be whole seconds")
            let longChecksum =
                "ory_ak_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_"
                + String(repeating: "z", count: 8000)
            #expect(try await api.verify(longChecksum).json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
            let emptyMask = try await api.send(
                .patch,
                "/v2alpha1/admin/issuedApiKeys/\(id)?update_mask=",
                #"{"name":"kept"}"#
            )
            #expect(emptyMask.json["name"] == "kept")
        }
    }
}
