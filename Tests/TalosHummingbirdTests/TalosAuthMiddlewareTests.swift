import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import Logging
import ServiceLifecycle
import TalosClient
import TalosCore
import TalosHost
import TalosOpenSSL
import TalosPlugins
import Testing

@testable import TalosHummingbird

/// The middleware in front of a protected router, against a real Talos on loopback.
@Suite struct TalosAuthMiddlewareTests {
    static let issuer = "https://api.example.com"
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `body` with a live Talos (SQLite, an Ed25519 signing key) and a client of it.
    static func withTalos(
        _ body: @Sendable (_ endpoint: String, _ client: TalosClient) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("talos-mw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = TalosConfig()
        config.issuer = issuer
        config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
        config.databaseDSN = "sqlite://\(directory.path)/talos.db"
        config.httpHost = "127.0.0.1"
        config.httpPort = 0
        let crypto = try OpenSSLCrypto()
        config.signingKeyURLs = [JWKGenerator.url(try JWKGenerator.generate(.eddsa, kid: "ed-1", crypto: crypto))]
        let talos = try await buildApplication(config: config, registry: .builtIn, mode: .all, logger: quiet)
        try await talos.test(.live) { testClient in
            let endpoint = "http://127.0.0.1:\(try #require(testClient.port))"
            try await body(endpoint, TalosClient(endpoint: endpoint, timeout: .seconds(5)))
        }
    }

    typealias Context = BasicAuthRequestContext<TalosIdentity>

    /// A service with `/whoami` (any credential) and `/orders` (scope `read:*`), its authenticator running.
    static func withService(
        _ authenticator: TalosAuthenticator,
        _ body: @Sendable (_ get: Get) async throws -> Void
    ) async throws {
        let router = Router(context: Context.self)
        let protected = router.group().add(middleware: authenticator.middleware())
        protected.get("whoami") { _, context in
            let identity = try context.requireIdentity()
            return "\(identity.verifiedBy) \(identity.keyID) \(identity.actorID) \(identity.scopes)"
        }
        protected.group("orders").requireScopes("read:*").get { _, _ in "orders" }
        let service = Application(router: router, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await authenticator.run() }
            try await service.test(.router) { client in
                try await body { path, headers in
                    try await client.execute(uri: path, method: .get, headers: headers) { response in
                        (response.status, String(buffer: response.body), response.headers)
                    }
                }
            }
            group.cancelAll()
        }
    }

    typealias Get = @Sendable (String, HTTPFields) async throws -> (HTTPResponse.Status, String, HTTPFields)

    /// The body of `GET path` with `credential`.
    static func text(_ get: Get, _ path: String, _ credential: String) async throws -> String {
        try await get(path, bearer(credential)).1
    }

    static func bearer(_ credential: String) -> HTTPFields { [.authorization: "Bearer \(credential)"] }

    /// Waits up to `seconds` for `condition`.
    static func eventually(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    @Test func apiKeysAreVerifiedCachedAndDroppedOnRevocation() async throws {
        try await Self.withTalos { endpoint, talos in
            var settings = TalosAuthConfiguration(endpoint: endpoint, issuers: [Self.issuer])
            settings.cacheTTL = .seconds(120)
            let authenticator = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
            try await Self.withService(authenticator) { get in
                #expect(try await Self.eventually(within: 5) { authenticator.statistics.feedConnected })
                let (missing, missingBody, missingHeaders) = try await get("/whoami", [:])
                #expect(missing == .unauthorized && missingHeaders[.wwwAuthenticate] == "Bearer")
                let envelope = try JSONValue.parse(missingBody)["error"]
                #expect(envelope?["code"] == .int(401) && envelope?["status"] == "UNAUTHENTICATED")
                #expect(envelope?["details"]?[0]?["reason"] == "CREDENTIAL_REQUIRED")
                #expect(envelope?["details"]?[1]?["request_id"]?.stringValue?.isEmpty == false)

                let (bad, badBody, _) = try await get("/whoami", Self.bearer("ory_ak_v1_nonsense"))
                #expect(bad == .unauthorized)
                let badInfo = try JSONValue.parse(badBody)["error"]?["details"]?[0]
                #expect(badInfo?["reason"] == "CREDENTIAL_INVALID")
                #expect(badInfo?["metadata"]?["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")

                let (reader, secret) = try await talos.issueKey(["name": "r", "actor_id": "ann", "scopes": ["read:*"]])
                let (first, firstBody, _) = try await get("/whoami", Self.bearer(secret))
                #expect(first == .ok && firstBody == "talos \(reader.keyID) ann [\"read:*\"]")
                let (second, secondBody, _) = try await get("/whoami", Self.bearer(secret))
                #expect(second == .ok && secondBody.hasPrefix("cache \(reader.keyID)"))
                #expect(try await get("/orders", Self.bearer(secret)).0 == .ok)
                #expect(!firstBody.contains(secret) && authenticator.statistics.cachedIdentities == 1)

                let (_, writerSecret) = try await talos.issueKey(["name": "w", "actor_id": "bob", "scopes": ["write"]])
                let (forbidden, forbiddenBody, _) = try await get("/orders", Self.bearer(writerSecret))
                #expect(forbidden == .forbidden)
                let forbiddenInfo = try JSONValue.parse(forbiddenBody)["error"]?["details"]?[0]
                #expect(
                    forbiddenInfo?["reason"] == "SCOPE_REQUIRED" && forbiddenInfo?["metadata"]?["scope"] == "read:*"
                )

                // Revoked on Talos: the feed evicts the cached identity well within a second.
                try await talos.revokeKey(id: reader.keyID, reason: "REVOCATION_REASON_KEY_COMPROMISE")
                let started = ContinuousClock.now
                #expect(
                    try await Self.eventually(within: 1) {
                        try await get("/whoami", Self.bearer(secret)).0 == .unauthorized
                    }
                )
                #expect(ContinuousClock.now - started < .seconds(1))
                #expect(authenticator.statistics.evictions >= 1)

                // A key the feed reported moments ago is not cached even when Talos answers valid: another replica's
                // cache may not have heard of the revocation yet. (Here: an imported key deleted and imported again,
                // which keeps its key id.)
                let raw = "sk_reimported_\(UUID().uuidString)"
                let imported = try await talos.importKey(["raw_key": .string(raw), "name": "i", "actor_id": "ann"])
                _ = try await get("/whoami", Self.bearer(raw))
                #expect(try await Self.text(get, "/whoami", raw).hasPrefix("cache "))
                try await talos.deleteImportedKey(id: imported.keyID)
                #expect(
                    try await Self.eventually(within: 1) {
                        try await get("/whoami", Self.bearer(raw)).0 == .unauthorized
                    }
                )
                let again = try await talos.importKey(["raw_key": .string(raw), "name": "i", "actor_id": "ann"])
                #expect(again.keyID == imported.keyID)
                for _ in 0..<2 { #expect(try await Self.text(get, "/whoami", raw).hasPrefix("talos ")) }

                // Rotated away: the feed announces the old key too, and the old secret stops being served.
                let (old, oldSecret) = try await talos.issueKey(["name": "o", "actor_id": "ann"])
                _ = try await get("/whoami", Self.bearer(oldSecret))
                let cachedOld = try await Self.text(get, "/whoami", oldSecret)
                #expect(cachedOld.hasPrefix("cache \(old.keyID)"))
                _ = try await talos.rotateKey(id: old.keyID)
                #expect(
                    try await Self.eventually(within: 1) {
                        try await get("/whoami", Self.bearer(oldSecret)).0 == .unauthorized
                    }
                )
            }
        }
    }

    @Test func derivedJWTsAreVerifiedOffline() async throws {
        try await Self.withTalos { endpoint, talos in
            var settings = TalosAuthConfiguration(endpoint: endpoint, issuers: [Self.issuer])
            settings.followsRevocations = false
            let authenticator = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
            try await Self.withService(authenticator) { get in
                let (key, secret) = try await talos.issueKey(["name": "p", "actor_id": "cy", "scopes": ["read:*"]])
                let token = try await talos.deriveToken(from: secret, options: ["algorithm": "TOKEN_ALGORITHM_JWT"])
                let (status, body, _) = try await get("/orders", Self.bearer(token))
                #expect(status == .ok && body == "orders")
                #expect(try await get("/whoami", Self.bearer(token)).1 == "jwks \(key.keyID) cy [\"read:*\"]")
                let asked = authenticator.statistics.talosVerifications
                #expect(asked == 0 && authenticator.statistics.localJWTVerifications == 2)

                // A changed payload breaks the signature; a token bound to an audience this service does not
                // expect is refused; both without asking Talos.
                var parts = token.split(separator: ".").map(String.init)
                var claims = try #require(try JSONValue.parse(Base64URL.decode(parts[1]) ?? []).objectValue)
                claims["scp"] = ["admin"]
                parts[1] = Base64URL.encode(JSONValue.object(claims).serialized())
                let (forged, forgedBody, _) = try await get("/whoami", Self.bearer(parts.joined(separator: ".")))
                #expect(forged == .unauthorized && forgedBody.contains("VERIFICATION_ERROR_SIGNATURE_INVALID"))
                let bound = try await talos.deriveToken(
                    from: secret,
                    options: ["algorithm": "TOKEN_ALGORITHM_JWT", "audiences": ["billing"]]
                )
                let boundReply = try await Self.text(get, "/whoami", bound)
                #expect(boundReply.contains("VERIFICATION_ERROR_AUDIENCE_MISMATCH"))
                #expect(authenticator.statistics.talosVerifications == 0)

                // Macaroons cannot be checked offline: Talos verifies them.
                let macaroon = try await talos.deriveToken(
                    from: secret,
                    options: ["algorithm": "TOKEN_ALGORITHM_MACAROON"]
                )
                let macaroonReply = try await Self.text(get, "/whoami", macaroon)
                #expect(macaroonReply.hasPrefix("talos \(key.keyID)"))
            }
        }
    }

    @Test func anUnknownKidReadsTheJWKSetAtMostOncePerInterval() async throws {
        try await Self.withTalos { endpoint, talos in
            var settings = TalosAuthConfiguration(endpoint: endpoint, issuers: [Self.issuer])
            settings.followsRevocations = false
            // Not running as a service: only the token's unknown kid can make it read the JWK Set.
            let authenticator = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
            let (_, secret) = try await talos.issueKey(["name": "k", "actor_id": "eve"])
            let token = try await talos.deriveToken(from: secret, options: ["algorithm": "TOKEN_ALGORITHM_JWT"])
            let identity = try await authenticator.authenticate(token, clientAddress: nil)
            #expect(identity.verifiedBy == .jwks && authenticator.statistics.jwksReads == 1)
            // A made-up kid within the minimum interval: refused without reading the JWK Set again.
            var parts = token.split(separator: ".").map(String.init)
            parts[0] = Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"made-up","typ":"JWT"}"#.utf8))
            await #expect(throws: TalosAuthError.refused("VERIFICATION_ERROR_SIGNATURE_INVALID")) {
                _ = try await authenticator.authenticate(parts.joined(separator: "."), clientAddress: nil)
            }
            #expect(authenticator.statistics.jwksReads == 1 && authenticator.statistics.talosVerifications == 0)
        }
    }

    @Test func nothingCachedIsTrustedWithoutTheFeed() async throws {
        try await Self.withTalos { endpoint, talos in
            let (_, secret) = try await talos.issueKey(["name": "n", "actor_id": "dee"])
            // The feed is unreachable: every request goes to Talos.
            var settings = TalosAuthConfiguration(endpoint: endpoint)
            settings.feedEndpoint = "http://127.0.0.1:1"
            let untrusting = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
            try await Self.withService(untrusting) { get in
                for _ in 0..<3 {
                    let reply = try await Self.text(get, "/whoami", secret)
                    #expect(reply.hasPrefix("talos "))
                }
                #expect(untrusting.statistics.cacheHits == 0 && untrusting.statistics.cachedIdentities == 0)
            }
            // Without the feed by choice, the cache answers until its TTL (the control for the case above).
            settings.followsRevocations = false
            let ttlOnly = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
            try await Self.withService(ttlOnly) { get in
                let firstReply = try await Self.text(get, "/whoami", secret)
                #expect(firstReply.hasPrefix("talos "))
                let secondReply = try await Self.text(get, "/whoami", secret)
                #expect(secondReply.hasPrefix("cache "))
            }
            // Talos unreachable and nothing cached: 503 in the envelope, not a 401.
            var unreachable = TalosAuthConfiguration(endpoint: "http://127.0.0.1:1")
            unreachable.requestTimeout = .milliseconds(300)
            let down = try TalosAuthenticator(configuration: unreachable, logger: Self.quiet)
            try await Self.withService(down) { get in
                let (status, body, _) = try await get("/whoami", Self.bearer(secret))
                #expect(status == .serviceUnavailable && body.contains("SERVICE_UNAVAILABLE"))
            }
        }
    }

    @Test func runsUntilGracefulShutdownWithNothingToFollow() async throws {
        var settings = TalosAuthConfiguration(endpoint: "http://127.0.0.1:1")
        settings.followsRevocations = false
        let authenticator = try TalosAuthenticator(configuration: settings, logger: Self.quiet)
        let services = ServiceGroup(services: [authenticator], logger: Self.quiet)
        try await withThrowingTaskGroup(of: String.self) { tasks in
            tasks.addTask {
                try await services.run()
                return "group ended"
            }
            tasks.addTask {
                try await Task.sleep(for: .milliseconds(300))
                return "still running"
            }
            // A service that returned would have ended the group (and the application) at once.
            let first = try await tasks.next()
            #expect(first == "still running")
            await services.triggerGracefulShutdown()
            let second = try await tasks.next()
            #expect(second == "group ended")
        }
    }

    @Test func credentialComesFromTheConfiguredHeaderOrBearer() throws {
        var settings = TalosAuthConfiguration(endpoint: "http://127.0.0.1:1")
        settings.credentialHeader = "X-API-Key"
        let middleware = try TalosAuthenticator(configuration: settings).middleware(context: Context.self)
        #expect(middleware.credential(in: [HTTPField.Name("X-API-Key")!: " k1 "]) == "k1")
        #expect(middleware.credential(in: [.authorization: "bearer  k2"]) == "k2")
        #expect(middleware.credential(in: [.authorization: "Basic k3"]) == nil)
        #expect(middleware.credential(in: [.authorization: "Bearer "]) == nil)
    }
}

/// The README's "Protect a Hummingbird service" lines, kept compiling here (never run: it would serve forever).
func readmeProtectAHummingbirdService() async throws {
    let talos = try TalosAuthenticator(
        configuration: .init(endpoint: "http://talos:4420", issuers: ["https://api.example.com"])
    )
    let router = Router(context: BasicAuthRequestContext<TalosIdentity>.self)
    let api = router.group("v1").add(middleware: talos.middleware())  // 401 without a valid credential
    // The identity: key id, actor, scopes, metadata, audiences.
    api.get("whoami") { _, context in try context.requireIdentity().actorID }
    api.group("orders").requireScopes("read:*").get { _, _ in "orders" }  // 403 without the scope
    try await Application(router: router, services: [talos]).runService()  // `talos` follows the revocation feed
}
