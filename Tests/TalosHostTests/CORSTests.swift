import HTTPTypes
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

/// `serve.http.cors.*` over HTTP (spec §9): preflights answered before routing, headers on answers and errors.
@Suite struct CORSTests {
    static func corsConfig() -> TalosConfig {
        var config = testConfig()
        config.cors.enabled = true
        config.cors.allowedOrigins = ["https://*.example.com"]
        config.cors.allowCredentials = true
        config.cors.maxAge = 600
        return config
    }

    static func preflight(_ api: API, origin: String, method: String, headers: String) async throws -> Reply {
        try await api.send(
            .options,
            "/v2alpha1/admin/apiKeys:verify",
            headers: [.origin: origin, .accessControlRequestMethod: method, .accessControlRequestHeaders: headers]
        )
    }

    @Test func preflightsAndAnswersCarryThePolicy() async throws {
        try await withAPI(Self.corsConfig()) { api async throws in
            let allowed = try await Self.preflight(
                api,
                origin: "https://app.example.com",
                method: "POST",
                headers: "content-type"
            )
            #expect(allowed.status == 204)
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(allowed.headers[.accessControlAllowMethods] == "POST")
            #expect(allowed.headers[.accessControlAllowHeaders] == "content-type")
            #expect(allowed.headers[.accessControlAllowCredentials] == "true")
            #expect(allowed.headers[.accessControlMaxAge] == "600")
            for (origin, method, headers) in [
                ("https://evil.test", "POST", "content-type"), ("https://app.example.com", "TRACE", ""),
                ("https://app.example.com", "POST", "x-evil"),
            ] {
                let refused = try await Self.preflight(api, origin: origin, method: method, headers: headers)
                #expect(refused.status == 204 && refused.headers[.accessControlAllowOrigin] == nil)
            }

            let (_, secret) = try await api.issue()
            let answer = try await api.post(
                "/v2alpha1/admin/apiKeys:verify",
                ["credential": .string(secret)],
                headers: [.origin: "https://app.example.com"]
            )
            #expect(answer.status == 200 && answer.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(answer.headers[.accessControlExposeHeaders] == "Content-Type")
            #expect(answer.headers[values: .vary].contains("Origin"))
            let error = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys/00000000-0000-4000-8000-000000000000",
                headers: [.origin: "https://app.example.com"]
            )
            #expect(error.status == 404 && error.headers[.accessControlAllowOrigin] == "https://app.example.com")
            let noOrigin = try await api.send(.get, "/v2alpha1/derivedKeys/jwks.json")
            #expect(noOrigin.headers[values: .vary].contains("Origin"))  // publicly cacheable: vary by Origin
            let foreign = try await api.send(.get, "/health/alive", headers: [.origin: "https://evil.test"])
            #expect(foreign.status == 200 && foreign.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func disabledByDefault() async throws {
        try await withAPI { api async throws in
            let preflight = try await Self.preflight(
                api,
                origin: "https://app.example.com",
                method: "POST",
                headers: ""
            )
            #expect(preflight.status == 405 && preflight.headers[.accessControlAllowOrigin] == nil)
            let answer = try await api.send(.get, "/health/alive", headers: [.origin: "https://app.example.com"])
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
