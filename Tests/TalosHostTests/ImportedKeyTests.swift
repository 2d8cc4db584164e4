import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

@Suite struct ImportedKeyTests {
    let specKeyID = "8b6e68c91ff92f37e4aa41a5202093abd1400dfd5246649694b710b31bbca063"

    @Test func importVerifyGetUpdateRevokeDelete() async throws {
        try await withAPI { api async throws in
            let imported = try await api.post(
                "/v2alpha1/admin/importedApiKeys",
                ["raw_key": "sk_live_abc123", "name": "External key", "actor_id": "user_123", "scopes": ["read"]]
            )
            #expect(imported.status == 201)
            #expect(imported.json["key_id"] == .string(specKeyID))
            #expect(
                imported.json.objectValue?.keys == [
                    "key_id", "name", "actor_id", "scopes", "status", "create_time", "update_time", "metadata",
                    "visibility",
                ]
            )
            let verified = try await api.verify("sk_live_abc123")
            #expect(verified.json["is_valid"] == true && verified.json["key_id"] == .string(specKeyID))
            let fetched = try await api.send(.get, "/v2alpha1/admin/importedApiKeys/\(specKeyID.uppercased())")
            #expect(fetched.status == 200 && fetched.json == imported.json)
            let updated = try await api.send(
                .patch,
                "/v2alpha1/admin/importedApiKeys/\(specKeyID)?update_mask=ip_restriction",
                #"{"imported_api_key":{"ip_restriction":{"allowed_cidrs":["10.1.2.3/8"]}}}"#
            )
            #expect(updated.json["ip_restriction"] == ["allowed_cidrs": ["10.0.0.0/8"]])
            let list = try await api.send(.get, "/v2alpha1/admin/importedApiKeys?filter=actor_id%3D%22user_123%22")
            #expect(list.json["imported_api_keys"]?.arrayValue?.count == 1)
            #expect(try await api.revoke(specKeyID).status == 204)
            #expect(try await api.verify("sk_live_abc123").json["error_code"] == "VERIFICATION_ERROR_REVOKED")
            #expect(try await api.send(.delete, "/v2alpha1/admin/importedApiKeys/\(specKeyID)").status == 204)
            let gone = try await api.send(.get, "/v2alpha1/admin/importedApiKeys/\(specKeyID)")
            #expect(gone.status == 404 && gone.message == "imported key not found")
            #expect(try await api.send(.delete, "/v2alpha1/admin/importedApiKeys/\(specKeyID)").status == 404)
        }
    }

    @Test func importRefusals() async throws {
        try await withAPI { api async throws in
            let (_, issuedSecret) = try await api.issue()
            let body: (String) -> JSONValue = { ["raw_key": .string($0), "name": "n", "actor_id": "a"] }
            #expect(try await api.post("/v2alpha1/admin/importedApiKeys", body("ghp_token")).status == 201)
            let duplicate = try await api.post("/v2alpha1/admin/importedApiKeys", body("ghp_token"))
            #expect(duplicate.status == 409 && duplicate.reason == "API_KEY_ALREADY_EXISTS")
            #expect(duplicate.message == "key already imported (duplicate detected)")
            let issued = try await api.post("/v2alpha1/admin/importedApiKeys", body(issuedSecret))
            #expect(issued.status == 409 && issued.reason == "IMPORT_FORMAT_CONFLICT")
            #expect(issued.message == "cannot import key: format conflicts with issued api key pattern")
            let jwt = try await api.post("/v2alpha1/admin/importedApiKeys", body("eyJhbGciOi.eyJzdWIi.c2ln"))
            #expect(jwt.message == "cannot import key: format conflicts with derived token pattern")
            let macaroon = try await api.post("/v2alpha1/admin/importedApiKeys", body("mc_v1_AgEX"))
            #expect(macaroon.reason == "IMPORT_FORMAT_CONFLICT")
            let spaced = try await api.post("/v2alpha1/admin/importedApiKeys", body("has space"))
            #expect(spaced.status == 400 && spaced.reason == "INVALID_ARGUMENT")
            let missing = try await api.post("/v2alpha1/admin/importedApiKeys", ["name": "n", "actor_id": "a"])
            #expect(missing.message == "validation error: raw_key: value is required")
            let long = try await api.post("/v2alpha1/admin/importedApiKeys", body(String(repeating: "k", count: 8193)))
            #expect(long.status == 400)
            let badID = try await api.send(.get, "/v2alpha1/admin/importedApiKeys/abc")
            #expect(badID.status == 400)
        }
    }

    @Test func batchImportReportsEachItem() async throws {
        var config = testConfig()
        config.quotaMaxKeys = 4
        try await withAPI(config) { api async throws in
            let (_, issuedSecret) = try await api.issue()
            #expect(
                try await api.post(
                    "/v2alpha1/admin/importedApiKeys",
                    ["raw_key": "stored", "name": "n", "actor_id": "a"]
                ).status == 201
            )
            let reply = try await api.post(
                "/v2alpha1/admin/importedApiKeys:batchCreate",
                [
                    "requests": [
                        ["raw_key": "key_1", "name": "Key 1", "actor_id": "user_1"],
                        ["raw_key": "key_1", "name": "Dup", "actor_id": "user_1"],
                        .null,
                        ["raw_key": .string(issuedSecret), "name": "n", "actor_id": "a"],
                        ["raw_key": "stored", "name": "n", "actor_id": "a"],
                        ["raw_key": "key_2", "name": "", "actor_id": "a"],
                        ["raw_key": "key_3", "name": "n", "actor_id": "a"],
                    ]
                ]
            )
            #expect(reply.status == 200)
            let results = try #require(reply.json["results"]?.arrayValue)
            func code(_ index: Int) -> String? { results[index]["error_code"]?.stringValue }
            #expect(results.map { $0["index"] } == (0..<7).map { .int(Int64($0)) })
            #expect(results[0]["imported_api_key"]?["name"] == "Key 1")
            #expect(code(1) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS")
            #expect(results[1]["error_message"] == "key already imported (duplicate detected at index 0)")
            #expect(code(2) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INVALID_ARGUMENT")
            #expect(results[2]["error_message"] == "batch item is required")
            #expect(code(3) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_FAILED_PRECONDITION")
            // Quota 4 with 2 active: the first two survivors (key_1, stored) proceed, key_3 is over quota.
            #expect(code(4) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS")
            #expect(results[4]["error_message"] == "key already imported (duplicate detected)")
            #expect(code(5) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INVALID_ARGUMENT")
            #expect(code(6) == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_RESOURCE_EXHAUSTED")
            #expect(reply.json["success_count"] == 1 && reply.json["failure_count"] == 6)
            #expect(try await api.verify("key_1").json["is_valid"] == true)
        }
    }

    @Test func batchWhereEveryItemFails() async throws {
        try await withAPI { api async throws in
            _ = try await api.post("/v2alpha1/admin/importedApiKeys", ["raw_key": "k", "name": "n", "actor_id": "a"])
            let allExist = try await api.post(
                "/v2alpha1/admin/importedApiKeys:batchImport",
                [
                    "requests": [
                        ["raw_key": "k", "name": "n", "actor_id": "a"], ["raw_key": "k", "name": "n", "actor_id": "a"],
                        .null,
                    ]
                ]
            )
            #expect(allExist.status == 409 && allExist.message == "all keys in batch already exist")
            let mixed = try await api.send(
                .post,
                "/v2alpha1/admin/importedApiKeys:batchCreate",
                #"{"requests":[{"raw_key":"typed","name":5,"actor_id":"a"},7,{"raw_key":"fine","name":"n","actor_id":"a"}]}"#
            )
            #expect(mixed.status == 200 && mixed.json["success_count"] == 1 && mixed.json["failure_count"] == 2)
            #expect(mixed.json["results"]?[0]?["error_code"] == "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_INVALID_ARGUMENT")
            let invalid = try await api.post("/v2alpha1/admin/importedApiKeys:batchCreate", ["requests": [.null]])
            #expect(invalid.status == 400 && invalid.message == "all keys in batch failed validation")
            let empty = try await api.post("/v2alpha1/admin/importedApiKeys:batchCreate", ["requests": []])
            #expect(empty.status == 400 && empty.message == "keys must contain at least one item")
            let tooMany = JSONValue.object(["requests": .array(Array(repeating: .null, count: 1001))])
            let over = try await api.post("/v2alpha1/admin/importedApiKeys:batchCreate", tooMany)
            #expect(over.message == "maximum 1000 keys per batch")
        }
    }
}
