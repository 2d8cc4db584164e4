import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOHTTP1
import TalosClient
import TalosCore
import TalosHost
import TalosPlugins
import Testing

/// The client against a real server on loopback (the application `talos serve` builds, live over HTTP).
@Suite struct TalosClientTests {
    static func config() -> TalosConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "talos-client-\(UUID().uuidString)"
        )
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = TalosConfig()
        config.issuer = "https://api.example.com"
        config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
        config.databaseDSN = "sqlite://\(directory.path)/talos.db"
        config.httpHost = "127.0.0.1"
        config.httpPort = 0
        return config
    }

    @Test func wholeKeyLifecycleAndTypedErrors() async throws {
        let app = try await buildApplication(
            config: Self.config(),
            registry: .builtIn,
            mode: .all,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
        try await app.test(.live) { testClient in
            let client = TalosClient(
                endpoint: "http://127.0.0.1:\(try #require(testClient.port))",
                timeout: .seconds(5)
            )
            #expect(await client.isReady())
            let (key, secret) = try await client.issueKey(["name": "c", "actor_id": "client", "scopes": ["read"]])
            #expect(key.actorID == "client" && key.scopes == ["read"] && !secret.isEmpty)
            let verified = try await client.verify(secret)
            #expect(verified.isValid && verified.keyID == key.keyID && verified.cache == "SKIP")
            #expect(try await client.verify("nonsense").errorCode == "VERIFICATION_ERROR_NOT_FOUND")
            for index in 0..<5 { _ = try await client.issueKey(["name": .string("p\(index)"), "actor_id": "pages"]) }
            var listed: [String] = []
            for try await page in client.issuedKeys(filter: #"actor_id = "pages""#, pageSize: 2) {
                listed.append(page.name)
            }
            #expect(listed.sorted() == ["p0", "p1", "p2", "p3", "p4"])
            let (rotated, newSecret) = try await client.rotateKey(id: key.keyID)
            let oldSecretValid = try await client.verify(secret).isValid
            #expect(rotated.keyID != key.keyID && !oldSecretValid)
            #expect(try await client.batchVerify([newSecret, secret]).map(\.isValid) == [true, false])
            try await client.revokeKey(id: rotated.keyID, reason: "REVOCATION_REASON_SUPERSEDED")
            do {
                try await client.revokeKey(id: rotated.keyID, reason: "REVOCATION_REASON_SUPERSEDED")
                Issue.record("a second revocation should fail")
            } catch let TalosClientError.api(error) {
                #expect(error.httpStatus == 409 && error.reason == "API_KEY_ALREADY_REVOKED")
                #expect(error.status == "FAILED_PRECONDITION" && error.requestID != nil)
            } catch {
                Issue.record("unexpected \(error)")
            }
            let imported = try await client.importKey(["raw_key": "sk_client_import", "name": "i", "actor_id": "i"])
            #expect(try await client.verify("sk_client_import").keyID == imported.keyID)
            try await client.deleteImportedKey(id: imported.keyID)
            let jwks = try await client.jwks()
            #expect(jwks["keys"] != nil && jwks["jwks"]?["keys"] != nil)
        }
        let unreachable = TalosClient(endpoint: "http://127.0.0.1:1", timeout: .seconds(2))
        await #expect(throws: TalosClientError.self) { _ = try await unreachable.verify("x") }
        #expect(!(await unreachable.isReady()))
    }

    /// Spec §16.3: with `adminKey` every request carries it; without, an auth-on server refuses with a typed error.
    @Test func anAdminKeyOpensAnAuthOnServer() async throws {
        var config = Self.config()
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        // The first admin key, made while admin auth is still off.
        let open = try await buildApplication(config: config, registry: .builtIn, mode: .all, logger: logger)
        let secret = try await open.test(.live) { testClient in
            let client = TalosClient(endpoint: "http://127.0.0.1:\(try #require(testClient.port))")
            let created = try await client.call(
                .POST,
                "/v2alpha1/admin/adminKeys",
                body: ["name": "client", "permissions": ["*"]]
            )
            return try #require(created.body["secret"]?.stringValue)
        }
        config.adminAuthEnabled = true
        let guarded = try await buildApplication(config: config, registry: .builtIn, mode: .all, logger: logger)
        try await guarded.test(.live) { testClient in
            let endpoint = "http://127.0.0.1:\(try #require(testClient.port))"
            do {
                _ = try await TalosClient(endpoint: endpoint).issueKey(["name": "c", "actor_id": "a"])
                Issue.record("an issue without an admin key should fail")
            } catch let TalosClientError.api(error) {
                #expect(error.httpStatus == 401 && error.reason == "ADMIN_KEY_REQUIRED")
            }
            let client = TalosClient(endpoint: endpoint, adminKey: secret)
            let (key, credential) = try await client.issueKey(["name": "c", "actor_id": "a"])
            #expect(try await client.verify(credential).keyID == key.keyID)
            #expect(!"\(client)".contains(secret) && !String(reflecting: client).contains(secret))
        }
    }
}
