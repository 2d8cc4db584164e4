import Foundation
import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

/// Spec §9.2 multi-tenancy: two networks on one database, each with its own HMAC secret, never see each other's keys.
@Suite struct MultiTenancyTests {
    static let tenantA = "11111111-1111-4111-8111-111111111111"
    static let tenantB = "22222222-2222-4222-8222-222222222222"

    static func config() throws -> TalosConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "talos-tenants-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ json: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        var config = freshSigningConfig()
        // Networks overlay their files on the values the base was loaded from.
        config.sourceValues["credentials.derived_tokens.jwt.signing_keys.urls"] = .array(
            config.signingKeyURLs.map(JSONValue.string)
        )
        config.multitenancyEnabled = true
        config.networks = [
            NetworkConfig(
                hostname: "a.example.com",
                id: tenantA,
                configPath: try write(
                    "a.json",
                    #"{"secrets":{"hmac":{"current":"tenant-a-secret-that-is-long-enough-000"}}}"#
                )
            ),
            NetworkConfig(
                hostname: "B.example.com",
                id: tenantB,
                configPath: try write(
                    "b.json",
                    #"{"secrets":{"hmac":{"current":"tenant-b-secret-that-is-long-enough-111"}},"credentials":{"api_keys":{"prefix":{"current":"bk"}}},"quota":{"api_keys_max":2}}"#
                )
            ),
        ]
        return config
    }

    /// Spec §16.12: `X-Forwarded-Host` chooses the tenant only from a peer inside a non-empty `trusted_proxies`, and
    /// then its right-most value (what the nearest proxy appended), never a value the client wrote on the left.
    @Test(arguments: [
        ([String](), false), (["10.0.0.0/8"], false), (["127.0.0.1/32"], true), (["10.0.0.0/8", "127.0.0.0/8"], true),
    ])
    func forwardedHostIsBelievedOnlyFromTrustedProxies(proxies: [String], trusted: Bool) async throws {
        var config = try Self.config()
        config.trustForwardedHost = true
        config.trustedProxies = proxies.compactMap { CIDR($0) }
        try await withAPI(config, live: true) { api async throws in
            let forwarded = HTTPField.Name("X-Forwarded-Host")!
            // The live client's Host is `localhost`, which is no tenant's.
            let issued = try await api.post(
                "/v2alpha1/admin/issuedApiKeys",
                ["name": "a", "actor_id": "a"],
                headers: [forwarded: "a.example.com"]
            )
            let list = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: [forwarded: "b.example.com, a.example.com"]
            )
            let spoofed = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: [forwarded: "a.example.com, b.example.com"]
            )
            if trusted {
                #expect(issued.status == 201, "\(issued.rawBody)")
                #expect(list.json["issued_api_keys"]?.arrayValue?.count == 1)
                // The client wrote a.example.com on the left; the proxy appended b.example.com: tenant B sees nothing.
                #expect(spoofed.status == 200 && spoofed.json["issued_api_keys"]?.arrayValue?.isEmpty == true)
            } else {
                for reply in [issued, list, spoofed] {
                    #expect(reply.status == 404 && reply.reason == "NETWORK_NOT_FOUND")
                }
            }
        }
    }

    @Test func tenantsAreIsolated() async throws {
        try await withAPI(try Self.config()) { api async throws in
            let hostA: HTTPFields = [HTTPField.Name("Host")!: "a.example.com:4420"]
            let hostB: HTTPFields = [HTTPField.Name("Host")!: "b.EXAMPLE.com"]
            func post(_ path: String, _ body: JSONValue, _ host: HTTPFields) async throws -> Reply {
                try await api.post(path, body, headers: host)
            }
            let issuedA = try await post("/v2alpha1/admin/issuedApiKeys", ["name": "a", "actor_id": "a"], hostA)
            let keyA = try #require(issuedA.json["issued_api_key"]?["key_id"]?.stringValue, "\(issuedA.rawBody)")
            let secretA = try #require(issuedA.json["secret"]?.stringValue)
            let secretB = try #require(
                try await post("/v2alpha1/admin/issuedApiKeys", ["name": "b", "actor_id": "b"], hostB).json["secret"]?
                    .stringValue
            )
            #expect(secretA.hasPrefix("ory_ak_") && secretB.hasPrefix("bk_"))
            func verify(_ secret: String, _ host: HTTPFields) async throws -> String? {
                try await post("/v2alpha1/admin/apiKeys:verify", ["credential": .string(secret)], host).json[
                    "error_code"
                ]?
                .stringValue
            }
            #expect(try await verify(secretA, hostA) == nil)
            #expect(try await verify(secretA, hostB) == "VERIFICATION_ERROR_NOT_FOUND")
            #expect(try await verify(secretB, hostA) == "VERIFICATION_ERROR_NOT_FOUND")
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(keyA)", headers: hostB).status == 404)
            #expect(try await api.send(.get, "/v2alpha1/admin/issuedApiKeys/\(keyA)", headers: hostA).status == 200)
            let listB = try await api.send(.get, "/v2alpha1/admin/issuedApiKeys", headers: hostB)
            #expect(listB.json["issued_api_keys"]?.arrayValue?.count == 1)
            #expect(
                try await post(
                    "/v2alpha1/admin/apiKeys/\(keyA):revoke",
                    ["reason": "REVOCATION_REASON_SUPERSEDED"],
                    hostB
                ).status == 404
            )
            // The same raw key imported into both tenants hashes to two ids.
            let importA = try await post(
                "/v2alpha1/admin/importedApiKeys",
                ["raw_key": "sk_shared", "name": "i", "actor_id": "i"],
                hostA
            )
            let importB = try await post(
                "/v2alpha1/admin/importedApiKeys",
                ["raw_key": "sk_shared", "name": "i", "actor_id": "i"],
                hostB
            )
            #expect(importA.status == 201 && importB.status == 201 && importA.json["key_id"] != importB.json["key_id"])
            // A derived token carries its tenant's nid; another tenant refuses it.
            let token = try #require(
                try await post(
                    "/v2alpha1/admin/apiKeys:derive",
                    ["credential": .string(secretA), "algorithm": "TOKEN_ALGORITHM_MACAROON"],
                    hostA
                )
                .json["token"]?["token"]?.stringValue
            )
            #expect(try await verify(token, hostA) == nil)
            // A JWT is signed by the keys both tenants share here, and names tenant A: B does not know it.
            let jwt = try #require(
                try await post("/v2alpha1/admin/apiKeys:derive", ["credential": .string(secretA)], hostA)
                    .json["token"]?["token"]?.stringValue
            )
            #expect(try await verify(jwt, hostA) == nil)
            #expect(try await verify(jwt, hostB) == "VERIFICATION_ERROR_NOT_FOUND")
            // B's macaroon root key comes from B's own secret (spec §4.6).
            #expect(try await verify(token, hostB) == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            // Per-network quota: B holds one issued and one imported key of its 2.
            #expect(
                try await post("/v2alpha1/admin/issuedApiKeys", ["name": "b", "actor_id": "b"], hostB).reason
                    == "QUOTA_EXCEEDED"
            )
            // Unknown host: 404 NETWORK_NOT_FOUND; health is tenant-less.
            let unknown = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: [HTTPField.Name("Host")!: "c.example.com"]
            )
            #expect(unknown.status == 404 && unknown.reason == "NETWORK_NOT_FOUND")
            #expect(unknown.message == #"no network configured for host "c.example.com""#)
            #expect(
                try await api.send(.get, "/health/alive", headers: [HTTPField.Name("Host")!: "c.example.com"]).status
                    == 200
            )
        }
    }

    @Test func aNetworkFileMaySetOnlyTenantKeys() throws {
        var config = try Self.config()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "talos-tenants-\(UUID().uuidString).json"
        )
        try Data(#"{"db":{"dsn":"sqlite://x.db"}}"#.utf8).write(to: directory)
        config.networks[0] = NetworkConfig(hostname: "a.example.com", id: Self.tenantA, configPath: directory.path)
        #expect(throws: ConfigError.self) {
            try TenantSettings(
                config: config,
                crypto: try BackendRegistry.builtIn.cryptoProvider(named: "openssl").make()
            )
        }
    }
}
