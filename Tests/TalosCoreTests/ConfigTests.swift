import TalosCore
import Testing

@Suite struct ConfigTests {
    func load(_ file: String?, _ environment: [String: String] = [:]) throws -> TalosConfig.LoadResult {
        try TalosConfig.load(fileContents: file.map { Array($0.utf8) }, environment: environment)
    }

    @Test func defaultsApplyWithoutFileOrEnvironment() throws {
        let config = try load(nil).config
        #expect(config.databaseDSN == "sqlite://./talos.db")
        #expect(config.cryptoBackend == "openssl")
        #expect(config.prefix == "ory_ak")
        #expect(config.maxTTL == .seconds(8760 * 3600))
        #expect(config.httpPort == nil)
        #expect(throws: ConfigError.self) { try config.validateForServing() }
    }

    @Test func corsPolicyLoadsWithDefaultsAndMatchesLikeRsCors() throws {
        #expect(try load(nil).config.cors == CORSPolicy())
        let file = #"""
            {"serve":{"http":{"cors":{"enabled":true,"allowed_origins":["https://*.example.com","http://localhost:3000"],
            "allowed_headers":["Content-Type","X-Request-ID"],"allow_credentials":true,"max_age":600}}}}
            """#
        let cors = try load(file, ["TALOS_SERVE_HTTP_CORS_EXPOSED_HEADERS": "X-Request-ID,RateLimit-Remaining"]).config
            .cors
        #expect(cors.enabled && cors.allowCredentials && cors.maxAge == 600)
        #expect(cors.allowedMethods == CORSPolicy().allowedMethods)  // absent: the default
        #expect(cors.exposedHeaders == ["X-Request-ID", "RateLimit-Remaining"])
        #expect(cors.allows(origin: "https://app.example.com") && cors.allows(origin: "HTTP://LOCALHOST:3000"))
        #expect(!cors.allows(origin: "https://example.com") && !cors.allows(origin: "https://app.example.com.evil"))
        #expect(!cors.allows(origin: "http://localhost:3001"))
        #expect(cors.allows(method: "post") && cors.allows(method: "OPTIONS") && !cors.allows(method: "TRACE"))
        #expect(
            cors.allows(requestedHeaders: "content-type, x-request-id, origin") && cors.allows(requestedHeaders: "")
        )
        #expect(!cors.allows(requestedHeaders: "content-type, x-evil"))
        #expect(cors.allowOriginValue(for: "https://app.example.com") == "https://app.example.com")
        var mixedCase = CORSPolicy()
        mixedCase.allowedOrigins = ["https://*.Example.COM"]
        #expect(mixedCase.allows(origin: "https://App.example.com") && !mixedCase.allows(origin: "https://example.org"))
        // `*` is never turned into "every origin, with credentials".
        var everyOrigin = CORSPolicy()
        everyOrigin.allowCredentials = true
        #expect(everyOrigin.allowOriginValue(for: "https://any.example") == "*")
        #expect(throws: ConfigError.self) {
            try load(#"{"serve":{"http":{"cors":{"allowed_origins":["https://*.*.example.com"]}}}}"#)
        }
        #expect(throws: ConfigError.self) { try load(#"{"serve":{"http":{"cors":{"max_age":-1}}}}"#) }
    }

    @Test func environmentBeatsFileBeatsDefaults() throws {
        let file = #"{"serve":{"http":{"port":5000,"host":"127.0.0.1"}},"credentials":{"issuer":"https://file"}}"#
        let config = try load(
            file,
            ["TALOS_SERVE_HTTP_PORT": "6000", "TALOS_SECRETS_HMAC_CURRENT": String(repeating: "s", count: 32)]
        ).config
        #expect(config.httpPort == 6000)
        #expect(config.httpHost == "127.0.0.1")
        #expect(config.issuer == "https://file")
        #expect(config.clockSkew == .seconds(300))
        try config.validateForServing()
    }

    @Test func shippedProfileLoads() throws {
        let oss = #"""
            {"serve":{"http":{"host":"0.0.0.0","port":4420},"metrics":{"port":4422}},
             "credentials":{"issuer":"http://localhost:4420","api_keys":{"max_ttl":"8760h","prefix":{"current":"ory_ak"}}},
             "db":{"dsn":"sqlite://./talos.db"},"cache":{"type":"noop","enabled":false},
             "rate_limit":{"enabled":false,"backend":"memory"},"log":{"level":"info","format":"json"},
             "tracing":{"enabled":false},"crypto":{"backend":"openssl"}}
            """#
        let config = try load(oss).config
        #expect(config.metricsPort == 4422 && config.issuer == "http://localhost:4420")
    }

    @Test func arraysFromEnvironment() throws {
        let secret = String(repeating: "r", count: 40)
        var config = try load(nil, ["TALOS_CREDENTIALS_API_KEYS_PREFIX_RETIRED": "old1, old2"]).config
        #expect(config.retiredPrefixes == ["old1", "old2"])
        config = try load(nil, ["TALOS_CREDENTIALS_API_KEYS_PREFIX_RETIRED": #"["a","b_c"]"#]).config
        #expect(config.retiredPrefixes == ["a", "b_c"])
        config = try load(
            nil,
            [
                "TALOS_CREDENTIALS_API_KEYS_PREFIX_RETIRED_1": "second",
                "TALOS_CREDENTIALS_API_KEYS_PREFIX_RETIRED_0": "first",
            ]
        ).config
        #expect(config.retiredPrefixes == ["first", "second"])
        config = try load(
            nil,
            [
                "TALOS_SECRETS_HMAC_RETIRED_0_VALUE": secret,
                "TALOS_SECRETS_HMAC_RETIRED_0_EXPIRES_AT": "2030-01-01T00:00:00Z",
            ]
        ).config
        #expect(
            config.retiredHMACSecrets == [
                ExpiringValue(value: secret, expiresAt: Timestamp(rfc3339: "2030-01-01T00:00:00Z"))
            ]
        )
    }

    @Test func unknownEnvironmentVariablesAreReportedNotFatal() throws {
        let result = try load(nil, ["TALOS_URL": "http://x", "TALOS_LOG_LEVEL": "debug", "PATH": "/bin"])
        #expect(result.ignoredEnvironment == ["TALOS_URL"])
        #expect(result.config.logLevel == "debug")
    }

    @Test(arguments: [
        (#"{"serve":{"http":{"prot":1}}}"#, #"config: unknown key "serve.http.prot""#),
        (#"{"bogus":true}"#, #"config: unknown key "bogus""#),
        (#"{"serve":{"http":{"port":70000}}}"#, "config: serve.http.port: must be between 1 and 65535 (got 70000)"),
        (#"{"serve":{"http":{"port":"80"}}}"#, "config: serve.http.port: must be an integer"),
        (#"{"credentials":{"clock_skew":"11m"}}"#, "config: credentials.clock_skew: must be at most 10m"),
        (
            #"{"credentials":{"api_keys":{"max_ttl":"1y"}}}"#,
            #"config: credentials.api_keys.max_ttl: invalid duration "1y" (e.g. 30s, 5m, 1.5h)"#
        ),
        (
            #"{"credentials":{"api_keys":{"prefix":{"current":"bad-prefix"}}}}"#,
            #"config: credentials.api_keys.prefix.current: "bad-prefix" does not match ^[a-zA-Z0-9_]{1,16}$"#
        ),
        (#"{"secrets":{"hmac":{"current":"short"}}}"#, "config: secrets.hmac.current: must be at least 32 characters"),
        (#"{"cache":{"type":"redis"}}"#, "config: cache.type: redis is not supported (use noop or memory)"),
        (
            #"{"rate_limit":{"backend":"redis"}}"#,
            "config: rate_limit.backend: redis is not supported (no Redis client; use memory or postgres)"
        ),
        (#"{"log":{"level":"loud"}}"#, #"config: log.level: must be one of debug, info, warn, error (got "loud")"#),
        (
            #"{"credentials":{"api_keys":{"default_ttl":"9000h"}}}"#,
            "config: credentials.api_keys.default_ttl: must not exceed credentials.api_keys.max_ttl"
        ),
        ("[1]", "config: file must hold a JSON object"),
        ("{", "config: file is not valid JSON: unexpected end of input at offset 1"),
    ])
    func validationNamesTheKey(file: String, message: String) {
        #expect(throws: ConfigError(String(message.dropFirst("config: ".count)))) { try load(file) }
    }

    @Test func unknownClientIPSourceFallsBackWithAWarning() throws {
        let result = try load(#"{"serve":{"http":{"client_ip_source":"CLIENT_IP_SOURCE_CARRIER_PIGEON"}}}"#)
        #expect(result.config.clientIPSource == .unspecified)
        #expect(result.warnings.count == 1)
        #expect(
            try load(nil, ["TALOS_SERVE_HTTP_CLIENT_IP_SOURCE": "CLIENT_IP_SOURCE_X_FORWARDED_FOR"]).config
                .clientIPSource == .xForwardedFor
        )
    }

    @Test func environmentValuesAreValidatedToo() {
        #expect(throws: ConfigError("serve.http.port: must be an integer (TALOS_SERVE_HTTP_PORT)")) {
            try load(nil, ["TALOS_SERVE_HTTP_PORT": "eighty"])
        }
        #expect(throws: ConfigError("cache.enabled: must be true, false, 1 or 0 (TALOS_CACHE_ENABLED)")) {
            try load(nil, ["TALOS_CACHE_ENABLED": "yes"])
        }
    }
}

@Suite struct SigningKeyConfigTests {
    func url(_ jwks: String) -> String { "base64://" + Base64URL.encode(Array(jwks.utf8)) }

    @Test func malformedKeySets() {
        #expect(throws: ConfigError.self) { try SigningKeyDescriptor.parse(urls: ["file:///etc/jwks.json"]) }
        #expect(throws: ConfigError.self) { try SigningKeyDescriptor.parse(urls: ["base64://!!!"]) }
        #expect(throws: ConfigError.self) {
            try SigningKeyDescriptor.parse(urls: [url(#"{"keys":[{"kty":"OKP","crv":"Ed25519"}]}"#)])
        }
        #expect(throws: ConfigError.self) {
            try SigningKeyDescriptor.parse(urls: [url(#"{"keys":[{"kty":"EC","kid":"e"}]}"#)])
        }
    }
}

/// Spec §16.11: a configuration describes itself as `[redacted]` however it is printed, and so does anything that
/// holds one, so that no library (service-lifecycle logs each service's description at debug) prints a secret.
@Suite struct RedactionTests {
    static let secrets = [
        "current-hmac-secret-of-at-least-32-characters", "retired-hmac-secret-of-at-least-32-characters",
        "db-password-1234", "private-d-member-value",
    ]

    static func config() throws -> TalosConfig {
        let file = #"""
            {"secrets":{"hmac":{"current":"current-hmac-secret-of-at-least-32-characters",
            "retired":[{"value":"retired-hmac-secret-of-at-least-32-characters"}]}},
            "db":{"dsn":"postgres://talos:db-password-1234@localhost:5432/talos"}}
            """#
        var config = try TalosConfig.load(fileContents: Array(file.utf8), environment: [:]).config
        config.signingKeyURLs = [#"base64://{"keys":[{"kty":"OKP","d":"private-d-member-value"}]}"#]
        return config
    }

    /// Every way Swift turns a value into text, including the default description of a type that holds one.
    struct Holder { let value: Any }

    static func renderings(_ value: some Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        var dumpedHolder = ""
        dump(Holder(value: value), to: &dumpedHolder)
        return [
            "\(value)", String(describing: value), String(reflecting: value), dumped, "\(Holder(value: value))",
            String(reflecting: Holder(value: value)), dumpedHolder, "\([value])", "\(Optional(value) as Any)",
        ]
    }

    @Test func configurationsPrintNoSecret() throws {
        let config = try Self.config()
        #expect(config.hmacSecret == Self.secrets[0])  // the secrets are there to leak
        for text in Self.renderings(config) + Self.renderings(config.retiredHMACSecrets) {
            for secret in Self.secrets { #expect(!text.contains(secret), "\(text.prefix(300))") }
            #expect(text.contains("[redacted]"))
        }
        #expect("\(config)" == "TalosConfig([redacted])")
        let loaded = try TalosConfig.load(
            fileContents: nil,
            environment: ["TALOS_SECRETS_HMAC_CURRENT": Self.secrets[0]]
        )
        for text in Self.renderings(loaded) { #expect(!text.contains(Self.secrets[0])) }
    }
}

/// The key table is the one source: paths and environment names are unique, and the reload and per-network
/// predicates follow it.
@Suite struct ConfigSchemaTests {
    @Test func theTableIsConsistent() {
        let paths = ConfigSchema.table.map(\.path)
        #expect(Set(paths).count == paths.count)
        #expect(Set(ConfigSchema.table.map(\.environmentName)).count == paths.count)
        #expect(ConfigSchema.table.allSatisfy { !$0.summary.isEmpty && !$0.defaultValue.isEmpty })
        let reload = Set(ConfigSchema.table.filter(\.hotReloadable).map(\.path))
        #expect(reload.contains("serve.http.trusted_proxies") && reload.contains("secrets.hmac.retired"))
        #expect(!reload.contains("db.dsn") && !reload.contains("serve.http.idle_timeout"))
        let network = Set(ConfigSchema.table.filter(\.networkOverridable).map(\.path))
        #expect(network.contains("quota.api_keys_max") && !network.contains("serve.http.port"))
    }

    @Test func everyKeyLoadsFromTheEnvironment() throws {
        // Each key read through the table: a key the loader reads but the table lacks stops the process.
        let loaded = try TalosConfig.load(
            fileContents: nil,
            environment: ["TALOS_SERVE_HTTP_MAX_FEED_SUBSCRIBERS": "7", "TALOS_CACHE_TTL": "1m"]
        )
        #expect(loaded.config.maxFeedSubscribers == 7 && loaded.config.cacheTTL == .seconds(60))
        #expect(loaded.ignoredEnvironment.isEmpty)
    }
}
