extension TalosConfig {
    private static let prefixPattern = "^[a-zA-Z0-9_]{1,16}$"
    private static let nanosPerSecond: Int64 = 1_000_000_000

    static func build(from values: [String: JSONValue], warnings: inout [String]) throws(ConfigError) -> TalosConfig {
        let reader = ConfigReader(values: values)
        var config = TalosConfig()
        config.httpHost = try reader.string("serve.http.host") ?? config.httpHost
        config.httpPort = try reader.int("serve.http.port", in: 1...65535).map(Int.init)
        if let source = try reader.string("serve.http.client_ip_source") {
            if let known = ClientIPSource(wireName: source) {
                config.clientIPSource = known
            } else {
                warnings.append("serve.http.client_ip_source: unknown value \"\(source)\"; using the TCP peer address")
            }
        }
        config.trustForwardedHost = try reader.bool("serve.http.trust_forwarded_host") ?? false
        config.excludeHealthFromRequestLog = try reader.bool("serve.http.request_log.exclude_health_endpoints") ?? false
        config.trustedProxies = try reader.strings("serve.http.trusted_proxies").map { text throws(ConfigError) in
            guard let cidr = CIDR(text) else {
                throw ConfigError("serve.http.trusted_proxies: \"\(text)\" is not an IP address or CIDR")
            }
            return cidr
        }
        for (key, keyPath) in [("idle_timeout", \TalosConfig.idleTimeout), ("read_timeout", \TalosConfig.readTimeout)] {
            guard let nanoseconds = try reader.duration("serve.http.\(key)") else { continue }
            guard nanoseconds > 0 else { throw ConfigError("serve.http.\(key): must be greater than 0") }
            config[keyPath: keyPath] = .nanoseconds(nanoseconds)
        }
        config.allowedHosts = try reader.strings("serve.http.allowed_hosts").map { $0.lowercased() }
        config.adminAuthEnabled = try reader.bool("serve.admin.auth.enabled") ?? false
        config.consoleEnabled = try reader.bool("serve.console.enabled") ?? true
        config.maxConnections = Int(try reader.int("serve.http.max_connections", in: 1...1_000_000) ?? 4096)
        config.maxFeedSubscribers = Int(try reader.int("serve.http.max_feed_subscribers", in: 1...1_000_000) ?? 256)
        if let rate = try reader.number("serve.public.rate_limit.per_second") {
            guard rate >= 0 else { throw ConfigError("serve.public.rate_limit.per_second: must be at least 0") }
            config.publicRateLimitPerSecond = rate
        }
        config.publicRateLimitBurst = Int(try reader.int("serve.public.rate_limit.burst", in: 0...1_000_000) ?? 40)
        config.cors = try reader.corsPolicy()
        config.metricsHost = try reader.string("serve.metrics.host") ?? config.metricsHost
        config.metricsPort = try reader.int("serve.metrics.port", in: 1...65535).map(Int.init)

        if let issuer = try reader.string("credentials.issuer") {
            guard !issuer.isEmpty else { throw ConfigError("credentials.issuer: must not be empty") }
            config.issuer = issuer
        }
        config.retiredIssuers = try reader.expiringStrings("credentials.issuer_retired")
        if let skew = try reader.duration("credentials.clock_skew") {
            guard skew <= 600 * nanosPerSecond else { throw ConfigError("credentials.clock_skew: must be at most 10m") }
            config.clockSkew = .nanoseconds(skew)
        }
        if let maxTTL = try reader.duration("credentials.api_keys.max_ttl") {
            guard maxTTL >= nanosPerSecond else {
                throw ConfigError("credentials.api_keys.max_ttl: must be at least 1s")
            }
            config.maxTTL = .nanoseconds(maxTTL)
        }
        if let defaultTTL = try reader.duration("credentials.api_keys.default_ttl"), defaultTTL > 0 {
            guard Duration.nanoseconds(defaultTTL) <= config.maxTTL else {
                throw ConfigError("credentials.api_keys.default_ttl: must not exceed credentials.api_keys.max_ttl")
            }
            config.defaultTTL = .nanoseconds(defaultTTL)
        }
        config.prefix = try reader.string("credentials.api_keys.prefix.current", pattern: prefixPattern) ?? "ory_ak"
        config.retiredPrefixes = try reader.strings("credentials.api_keys.prefix.retired", pattern: prefixPattern)
        config.publicPrefix = try reader.string("credentials.api_keys.prefix.public_current", pattern: prefixPattern)
        config.retiredPublicPrefixes = try reader.strings(
            "credentials.api_keys.prefix.public_retired",
            pattern: prefixPattern
        )
        config.adminKeyPrefix =
            try reader.string("credentials.admin_keys.prefix", pattern: prefixPattern) ?? "talos_adm"
        let apiKeyPrefixes =
            [config.prefix] + config.retiredPrefixes + (config.publicPrefix.map { [$0] } ?? [])
            + config.retiredPublicPrefixes
        guard !apiKeyPrefixes.contains(config.adminKeyPrefix) else {
            throw ConfigError("credentials.admin_keys.prefix: must differ from every API key prefix")
        }
        if let ttl = try reader.duration("credentials.derived_tokens.default_ttl") {
            guard ttl >= nanosPerSecond else {
                throw ConfigError("credentials.derived_tokens.default_ttl: must be at least 1s")
            }
            config.derivedDefaultTTL = .nanoseconds(ttl)
        }
        config.signingKeyID = try reader.string("credentials.derived_tokens.jwt.signing_key_id") ?? ""
        config.signingKeyURLs = try reader.strings("credentials.derived_tokens.jwt.signing_keys.urls")
        for url in config.signingKeyURLs where !url.hasPrefix("base64://") {
            throw ConfigError("credentials.derived_tokens.jwt.signing_keys.urls: unsupported signing key URL scheme")
        }
        let macaroonPattern = "^[a-zA-Z0-9_]{1,8}$"
        config.macaroonPrefix =
            try reader.string("credentials.derived_tokens.macaroon.prefix.current", pattern: macaroonPattern) ?? "mc"
        config.retiredMacaroonPrefixes = try reader.strings(
            "credentials.derived_tokens.macaroon.prefix.retired",
            pattern: macaroonPattern
        )

        if let dsn = try reader.string("db.dsn") {
            guard !dsn.isEmpty else { throw ConfigError("db.dsn: must not be empty") }
            config.databaseDSN = dsn
        }
        let cacheType = try reader.string("cache.type") ?? CacheType.noop.rawValue
        guard let type = CacheType(rawValue: cacheType) else {
            throw ConfigError("cache.type: \(cacheType) is not supported (use noop or memory)")
        }
        config.cacheType = type
        config.cacheEnabled = try reader.bool("cache.enabled") ?? false
        config.cacheTTL =
            try reader.duration("cache.ttl", allowNegative: true).map(Duration.nanoseconds) ?? config.cacheTTL
        config.cacheMaxSize =
            try reader.int("cache.memory.max_size", in: 1_048_576...10_737_418_240) ?? config.cacheMaxSize
        _ = try reader.int("cache.memory.num_counters", in: 100...1_000_000)
        for key in ["db", "pool_size", "min_idle_conns"] { _ = try reader.int("cache.redis.\(key)", in: 0...Int64.max) }
        for key in ["timeout", "conn_max_idle_time", "conn_max_lifetime"] {
            _ = try reader.duration("cache.redis.\(key)")
        }
        _ = try reader.strings("cache.redis.addrs")
        _ = try reader.string("cache.redis.password")
        _ = try reader.bool("cache.redis.tls.enabled")
        config.rateLimitEnabled = try reader.bool("rate_limit.enabled") ?? false
        let limiter = try reader.string("rate_limit.backend") ?? RateLimitBackend.memory.rawValue
        guard let backend = RateLimitBackend(rawValue: limiter) else {
            throw ConfigError(
                "rate_limit.backend: \(limiter) is not supported (no Redis client; use memory or postgres)"
            )
        }
        config.rateLimitBackend = backend
        config.lastUsedQueueSize = Int(try reader.int("last_used.queue_size", in: 256...1_000_000) ?? 10_000)
        config.lastUsedFlushSize = Int(try reader.int("last_used.flush_size", in: 1...10_000) ?? 100)
        if let interval = try reader.duration("last_used.flush_interval") {
            guard interval > 0 else { throw ConfigError("last_used.flush_interval: must be greater than 0") }
            config.lastUsedFlushInterval = .nanoseconds(interval)
        }
        config.lastUsedWorkers = Int(try reader.int("last_used.num_workers", in: 1...64) ?? 4)
        config.usageEnabled = try reader.bool("usage.enabled") ?? true
        if let interval = try reader.duration("usage.flush_interval") {
            guard interval > 0 else { throw ConfigError("usage.flush_interval: must be greater than 0") }
            config.usageFlushInterval = .nanoseconds(interval)
        }
        if let retention = try reader.duration("usage.retention") {
            guard retention >= 3_600_000_000_000 else { throw ConfigError("usage.retention: must be at least 1h") }
            config.usageRetention = .nanoseconds(retention)
        }
        config.logLevel = try reader.string("log.level") ?? "info"
        config.logFormat = try reader.string("log.format") ?? "json"
        config.tracingEnabled = try reader.bool("tracing.enabled") ?? false
        _ = try reader.string("tracing.exporter")
        config.tracingServiceName = try reader.string("tracing.service_name") ?? config.tracingServiceName
        config.tracingServiceVersion = try reader.string("tracing.service_version") ?? config.tracingServiceVersion
        config.tracingEnvironment = try reader.string("tracing.environment") ?? config.tracingEnvironment
        config.tracingEndpoint = try reader.string("tracing.endpoint")
        if config.tracingEnabled, config.tracingEndpoint?.isEmpty ?? true {
            throw ConfigError("tracing.endpoint: required when tracing.enabled is true")
        }
        if let rate = try reader.number("tracing.sample_rate") {
            guard (0...1).contains(rate) else { throw ConfigError("tracing.sample_rate: must be between 0.0 and 1.0") }
            config.tracingSampleRate = rate
        }

        if let secret = try reader.string("secrets.hmac.current") {
            guard secret.count >= 32 else { throw ConfigError("secrets.hmac.current: must be at least 32 characters") }
            config.hmacSecret = secret
        }
        config.retiredHMACSecrets = try reader.expiringStrings("secrets.hmac.retired")
        for secret in config.retiredHMACSecrets where secret.value.count < 32 {
            throw ConfigError("secrets.hmac.retired: each secret must be at least 32 characters")
        }
        config.quotaMaxKeys = try reader.int("quota.api_keys_max", in: 0...Int64.max)
        config.multitenancyEnabled = try reader.bool("multitenancy.enabled") ?? false
        config.networks = try reader.networks("multitenancy.networks")
        config.cryptoBackend = try reader.string("crypto.backend") ?? "openssl"
        return config
    }

    /// Checks what a serving process needs beyond a well-formed file: the issuer and the HMAC secret.
    /// - Throws: `ConfigError` naming the first missing key.
    public func validateForServing() throws(ConfigError) {
        guard let issuer, !issuer.isEmpty else {
            throw ConfigError("credentials.issuer: value is required (set it in the file or TALOS_CREDENTIALS_ISSUER)")
        }
        guard hmacSecret != nil else {
            throw ConfigError(
                "secrets.hmac.current: value is required (set TALOS_SECRETS_HMAC_CURRENT to at least 32 characters)"
            )
        }
        if multitenancyEnabled, networks.isEmpty {
            throw ConfigError("multitenancy.networks: at least one network is required when multi-tenancy is enabled")
        }
    }
}

/// Typed, validated access to flattened configuration values; every error names the key.
private struct ConfigReader {
    let values: [String: JSONValue]

    private func present(_ key: String) -> JSONValue? {
        // A read of a key the table lacks is a typo that would silently yield nil.
        precondition(ConfigSchema.byPath[key] != nil, "configuration key \(key) is read but not in ConfigSchema.table")
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String, pattern: String? = nil) throws(ConfigError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw ConfigError("\(key): must be a string") }
        if case .enumeration(let allowed)? = ConfigSchema.keys[key], !allowed.contains(text) {
            throw ConfigError("\(key): must be one of \(allowed.joined(separator: ", ")) (got \"\(text)\")")
        }
        if let pattern, !Self.matchesPrefixPattern(text, pattern: pattern) {
            throw ConfigError("\(key): \"\(text)\" does not match \(pattern)")
        }
        return text
    }

    /// The two prefix patterns are `^[a-zA-Z0-9_]{1,N}$`; checked without a regex engine.
    private static func matchesPrefixPattern(_ text: String, pattern: String) -> Bool {
        let limit = pattern.contains("{1,8}") ? 8 : 16
        return (1...limit).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                $0 == UInt8(ascii: "_") || ($0 < 0x80 && Character(Unicode.Scalar($0)).isLetter)
                    || ($0 >= 0x30 && $0 <= 0x39)
            }
    }

    func int(_ key: String, in range: ClosedRange<Int64>) throws(ConfigError) -> Int64? {
        guard let value = present(key) else { return nil }
        let number: Int64
        switch value {
        case .int(let int): number = int
        case .double(let double) where double == double.rounded() && abs(double) < 9e18: number = Int64(double)
        default: throw ConfigError("\(key): must be an integer")
        }
        guard range.contains(number) else {
            let upper = range.upperBound == Int64.max ? "" : " and \(range.upperBound)"
            throw ConfigError(
                "\(key): must be \(upper.isEmpty ? "at least \(range.lowerBound)" : "between \(range.lowerBound)\(upper)") (got \(number))"
            )
        }
        return number
    }

    func number(_ key: String) throws(ConfigError) -> Double? {
        guard let value = present(key) else { return nil }
        switch value {
        case .int(let int): return Double(int)
        case .double(let double): return double
        default: throw ConfigError("\(key): must be a number")
        }
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let bool) = value else { throw ConfigError("\(key): must be true or false") }
        return bool
    }

    func duration(_ key: String, allowNegative: Bool = false) throws(ConfigError) -> Int64? {
        guard let text = try string(key) else { return nil }
        if allowNegative, text.hasPrefix("-") {
            guard DurationText.parseConfig(String(text.dropFirst())) != nil else {
                throw ConfigError("\(key): invalid duration \"\(text)\" (e.g. 30s, 5m, 1.5h)")
            }
            return -1
        }
        guard let nanos = DurationText.parseConfig(text) else {
            throw ConfigError("\(key): invalid duration \"\(text)\" (e.g. 30s, 5m, 1.5h)")
        }
        return nanos
    }

    /// `serve.http.cors.*`, each absent key at its default.
    func corsPolicy() throws(ConfigError) -> CORSPolicy {
        var policy = CORSPolicy()
        policy.enabled = try bool("serve.http.cors.enabled") ?? policy.enabled
        for (key, keyPath) in [
            ("allowed_origins", \CORSPolicy.allowedOrigins), ("allowed_methods", \CORSPolicy.allowedMethods),
            ("allowed_headers", \CORSPolicy.allowedHeaders), ("exposed_headers", \CORSPolicy.exposedHeaders),
        ] where present("serve.http.cors.\(key)") != nil {
            policy[keyPath: keyPath] = try strings("serve.http.cors.\(key)")
        }
        for origin in policy.allowedOrigins where origin.filter({ $0 == "*" }).count > 1 {
            throw ConfigError("serve.http.cors.allowed_origins: \"\(origin)\" has more than one * wildcard")
        }
        policy.allowCredentials = try bool("serve.http.cors.allow_credentials") ?? policy.allowCredentials
        policy.maxAge = try int("serve.http.cors.max_age", in: 0...Int64.max) ?? policy.maxAge
        policy.debug = try bool("serve.http.cors.debug") ?? policy.debug
        return policy
    }

    func strings(_ key: String, pattern: String? = nil) throws(ConfigError) -> [String] {
        guard let value = present(key) else { return [] }
        guard case .array(let items) = value else { throw ConfigError("\(key): must be an array of strings") }
        var output: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw ConfigError("\(key): must be an array of strings") }
            if let pattern, !Self.matchesPrefixPattern(text, pattern: pattern) {
                throw ConfigError("\(key): \"\(text)\" does not match \(pattern)")
            }
            output.append(text)
        }
        return output
    }

    func expiringStrings(_ key: String) throws(ConfigError) -> [ExpiringValue] {
        guard let value = present(key) else { return [] }
        guard case .array(let items) = value else { throw ConfigError("\(key): must be an array") }
        var output: [ExpiringValue] = []
        for (index, item) in items.enumerated() {
            switch item {
            case .string(let text): output.append(ExpiringValue(value: text))
            case .object(let object):
                guard case .string(let text)? = object["value"] else {
                    throw ConfigError("\(key)[\(index)].value: must be a string")
                }
                for member in object.keys where member != "value" && member != "expires_at" {
                    throw ConfigError("unknown key \"\(key)[\(index)].\(member)\"")
                }
                var expiresAt: Timestamp?
                if let raw = object["expires_at"], !raw.isNull {
                    guard case .string(let stamp) = raw, let parsed = Timestamp(rfc3339: stamp) else {
                        throw ConfigError("\(key)[\(index)].expires_at: must be an RFC 3339 timestamp")
                    }
                    expiresAt = parsed
                }
                output.append(ExpiringValue(value: text, expiresAt: expiresAt))
            default: throw ConfigError("\(key)[\(index)]: must be a string or {value, expires_at}")
            }
        }
        return output
    }

    func networks(_ key: String) throws(ConfigError) -> [NetworkConfig] {
        guard let value = present(key) else { return [] }
        guard case .array(let items) = value else { throw ConfigError("\(key): must be an array") }
        var output: [NetworkConfig] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else { throw ConfigError("\(key)[\(index)]: must be an object") }
            func field(_ name: String) throws(ConfigError) -> String {
                guard case .string(let text)? = object[name], !text.isEmpty else {
                    throw ConfigError("\(key)[\(index)].\(name): value is required")
                }
                return text
            }
            for member in object.keys where !["hostname", "id", "config_path"].contains(member) {
                throw ConfigError("unknown key \"\(key)[\(index)].\(member)\"")
            }
            let id = try field("id")
            guard UUIDText.normalized(id) == id else {
                throw ConfigError("\(key)[\(index)].id: must be a lowercase UUID")
            }
            output.append(NetworkConfig(hostname: try field("hostname"), id: id, configPath: try field("config_path")))
        }
        return output
    }
}

extension TalosConfig {
    /// Whether a network's `config_path` may set `key` (spec §9.2).
    static func isNetworkOverridable(_ key: String) -> Bool { ConfigSchema.byPath[key]?.networkOverridable ?? false }

    /// One network's configuration: `sourceValues` (what the file and environment set) overlaid by the network file's (which may set only
    /// `credentials.*`, `secrets.*`, `cache.enabled`, `cache.ttl`, `rate_limit.enabled` and `quota.*`). What the file
    /// leaves unset, including a development secret, is inherited.
    /// - Throws: `ConfigError` naming the network's file and the offending key.
    public func networkConfig(_ network: NetworkConfig, file: [UInt8]) throws(ConfigError) -> TalosConfig {
        let context = "multitenancy network \"\(network.hostname)\" (\(network.configPath))"
        let document: JSONValue
        do {
            document = try JSONValue.parse(file)
        } catch {
            throw ConfigError("\(context): file is not valid JSON: \(error.detail)")
        }
        guard case .object(let root) = document else { throw ConfigError("\(context): file must hold a JSON object") }
        var values: [String: JSONValue] = [:]
        do {
            try Self.flatten(root, prefix: "", into: &values)
        } catch {
            throw ConfigError("\(context): \(error.message)")
        }
        for key in values.keys.sorted() where !Self.isNetworkOverridable(key) {
            throw ConfigError("\(context): \(key) cannot be set per network")
        }
        var warnings: [String] = []
        var config: TalosConfig
        do {
            config = try Self.build(from: sourceValues.merging(values) { $1 }, warnings: &warnings)
        } catch {
            throw ConfigError("\(context): \(error.message)")
        }
        config.hmacSecret = config.hmacSecret ?? hmacSecret
        config.issuer = config.issuer ?? issuer
        return config
    }
}
