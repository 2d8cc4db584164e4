/// A string that may stop being honoured at `expiresAt` (retired secrets and issuers, spec §5.5).
public struct ExpiringValue: Sendable, Hashable {
    /// The retired string itself (an issuer or an HMAC secret).
    public let value: String
    /// From this instant on the value is no longer honoured; `nil` = honoured until removed from the configuration.
    public let expiresAt: Timestamp?

    /// An entry honoured until `expiresAt`, or for as long as it is configured when that is `nil`.
    public init(value: String, expiresAt: Timestamp? = nil) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// Whether the entry is still honoured at `now`.
    public func isActive(at now: Timestamp) -> Bool { expiresAt.map { now < $0 } ?? true }
}

/// `cache.type` (spec §9.2); `redis` is accepted by the schema for Ory's files and refused at load.
public enum CacheType: String, Sendable, Hashable, CaseIterable {
    /// No verification cache.
    case noop
    /// The in-process verification cache, kept coherent across replicas by the invalidation feed.
    case memory
}

/// `rate_limit.backend` (spec §15.9); `redis` is accepted by the schema for Ory's files and refused at load.
public enum RateLimitBackend: String, Sendable, Hashable, CaseIterable {
    /// Counters in this process.
    case memory
    /// Exact counters across replicas, in PostgreSQL.
    case postgres
}

/// One tenant of a multi-tenant deployment.
public struct NetworkConfig: Sendable, Hashable {
    /// The `Host` that selects this network (compared case-insensitively, port ignored).
    public let hostname: String
    /// The tenant's `nid`, a lowercase UUID.
    public let id: String
    /// A JSON file overriding the tenant's `credentials.*`, `secrets.*`, `cache.enabled`, `cache.ttl`,
    /// `rate_limit.enabled` and `quota.*`.
    public let configPath: String

    /// Stores the fields as given; `TalosConfig.load` is what requires all three and a lowercase UUID `id`.
    public init(hostname: String, id: String, configPath: String) {
        self.hostname = hostname
        self.id = id
        self.configPath = configPath
    }
}

/// The validated configuration of a Talos process (spec §9).
public struct TalosConfig: Sendable, Hashable {
    /// `serve.http.host`: the address the API listener binds; default `0.0.0.0` (every interface).
    public var httpHost = "0.0.0.0"
    /// `nil` when not configured (the mode picks 4420 or 4421).
    public var httpPort: Int?
    /// `serve.http.client_ip_source`: the header that names the client IP; unspecified (also the fallback for an
    /// unknown value, with a warning) means the TCP peer. Hot-reloadable.
    public var clientIPSource: ClientIPSource = .unspecified
    /// `serve.http.trust_forwarded_host`: select the tenant by `X-Forwarded-Host` instead of `Host` when present.
    public var trustForwardedHost = false
    /// `serve.http.request_log.exclude_health_endpoints`: leave `/health*` and `/version` out of the request log.
    public var excludeHealthFromRequestLog = false
    /// `serve.http.cors.*`: the CORS policy of the API listener. Hot-reloadable.
    public var cors = CORSPolicy()
    /// Proxies whose client-IP headers are believed (spec §15.2); empty = believe the nearest hop.
    public var trustedProxies: [CIDR] = []
    /// `serve.http.allowed_hosts`: lower-cased hosts a request may name (spec §16.2); empty = any. Hot-reloadable.
    public var allowedHosts: [String] = []
    /// `serve.admin.auth.enabled`: every `/v2alpha1/admin/*` request needs an admin key (spec §16.3). Hot-reloadable.
    public var adminAuthEnabled = false
    /// `serve.console.enabled`: serve the web console at `/console/` (restart-only).
    public var consoleEnabled = true
    /// A connection with no request in progress for this long is closed (spec §15.3).
    public var idleTimeout: Duration = .seconds(60)
    /// A request's headers and body must arrive within this long, or it gets 408 (spec §15.3).
    public var readTimeout: Duration = .seconds(30)
    /// Connections over this many are accepted and closed at once (spec §15.3).
    public var maxConnections = 4096
    /// Revocation-feed subscribers at once; more get 503 (spec §16.14), so streams cannot take every connection.
    public var maxFeedSubscribers = 256
    /// Self-revoke requests per client IP and second (token bucket refill, spec §15.5); 0 disables the limit.
    public var publicRateLimitPerSecond = 20.0
    /// Token bucket size for self-revoke per client IP (spec §15.5); 0 disables the limit.
    public var publicRateLimitBurst = 40
    /// `serve.metrics.host`: the address the metrics listener binds; default `0.0.0.0`.
    public var metricsHost = "0.0.0.0"
    /// `serve.metrics.port`; `nil` when not configured (the mode picks 4422 or 4423).
    public var metricsPort: Int?

    /// `credentials.issuer`: the issuer of derived tokens and of verification results; `nil` until set, and
    /// `validateForServing()` requires it.
    public var issuer: String?
    /// `credentials.issuer_retired`: issuers still accepted in derived tokens, each until its `expires_at` (spec §5.5).
    public var retiredIssuers: [ExpiringValue] = []
    /// `credentials.clock_skew`: the tolerance on key creation times and token `exp`/`nbf`; 0…10m, default 5m.
    public var clockSkew: Duration = .seconds(5 * 60)
    /// `credentials.api_keys.default_ttl`: the lifetime of a key issued without a TTL; `nil` (unset or 0) = no
    /// expiry. Never above `maxTTL`.
    public var defaultTTL: Duration?
    /// `credentials.api_keys.max_ttl`: the longest lifetime a key may have; an issued key whose embedded creation time
    /// is older than this plus `clockSkew` is rejected. At least 1s, default 8760h.
    public var maxTTL: Duration = .seconds(8760 * 3600)
    /// `credentials.api_keys.prefix.current`: the prefix of newly issued SECRET keys; `^[a-zA-Z0-9_]{1,16}$`,
    /// default `ory_ak`.
    public var prefix = "ory_ak"
    /// `credentials.admin_keys.prefix`: the prefix of admin keys (spec §16.3), distinct from every API-key prefix.
    public var adminKeyPrefix = "talos_adm"
    /// `credentials.api_keys.prefix.retired`: prefixes still accepted on verification but never issued (spec §5.5).
    public var retiredPrefixes: [String] = []
    /// `credentials.api_keys.prefix.public_current`: the prefix of newly issued PUBLIC keys; `nil` = issuing or
    /// rotating to a PUBLIC key fails with `PUBLIC_PREFIX_NOT_CONFIGURED`.
    public var publicPrefix: String?
    /// `credentials.api_keys.prefix.public_retired`: public prefixes still accepted on verification but never issued.
    public var retiredPublicPrefixes: [String] = []
    /// `credentials.derived_tokens.default_ttl`: the lifetime of a derived token whose request names none; at least
    /// 1s, default 1h.
    public var derivedDefaultTTL: Duration = .seconds(3600)
    /// `credentials.derived_tokens.jwt.signing_key_id`: the `kid` that signs new JWTs; `""` = the first `"use":"sig"`
    /// key, else the first key with a private part.
    public var signingKeyID = ""
    /// `credentials.derived_tokens.jwt.signing_keys.urls`: the JWK sets holding the signing keys, each a `base64://`
    /// URL (other schemes are rejected at load).
    public var signingKeyURLs: [String] = []
    /// `credentials.derived_tokens.macaroon.prefix.current`: the prefix of new macaroons; `^[a-zA-Z0-9_]{1,8}$`,
    /// default `mc`.
    public var macaroonPrefix = "mc"
    /// `credentials.derived_tokens.macaroon.prefix.retired`: macaroon prefixes still routed and accepted, never minted.
    public var retiredMacaroonPrefixes: [String] = []

    /// `db.dsn`: the database to open, `sqlite://`/`sqlite3://` or `postgres://`/`postgresql://`; never empty. Pool
    /// parameters in the query string are consumed before connecting (spec §9.2).
    public var databaseDSN = "sqlite://./talos.db"
    /// `cache.type`: `memory` builds the verification cache, `noop` builds none; `redis` is rejected at load.
    public var cacheType = CacheType.noop
    /// `cache.enabled`: whether verification uses the cache, which also needs `cache.type = memory`. Hot-reloadable.
    public var cacheEnabled = false
    /// `cache.ttl`: how long a cached key record may answer; zero or negative = nothing is cached. Default 5m.
    public var cacheTTL: Duration = .seconds(5 * 60)
    /// `cache.memory.max_size`: the cache's approximate bound in bytes; 1 MiB…10 GiB, default 100 MiB.
    public var cacheMaxSize: Int64 = 104_857_600
    /// `rate_limit.enabled`: whether keys' `rate_limit_policy` is enforced on verification (spec §5.7). Hot-reloadable.
    public var rateLimitEnabled = false
    /// `rate_limit.backend`: `memory` (per process) or `postgres` (cluster-wide, spec §15.9).
    public var rateLimitBackend = RateLimitBackend.memory
    /// `last_used.queue_size`: how many uses may wait for a flush; a use arriving at a full buffer is dropped
    /// (spec §5.8). 256…1000000.
    public var lastUsedQueueSize = 10_000
    /// `last_used.flush_size`: this many pending uses trigger a flush before the interval ends; 1…10000.
    public var lastUsedFlushSize = 100
    /// `last_used.flush_interval`: the longest a published use waits before it is written; greater than 0.
    public var lastUsedFlushInterval: Duration = .seconds(30)
    /// `last_used.num_workers`: validated (1…64) but unused; a single batched writer flushes (see `LastUsedTracker`).
    public var lastUsedWorkers = 4
    /// `usage.enabled`: count verifications per key, hour and outcome (`UsageRecorder`); off adds no work.
    public var usageEnabled = true
    /// `usage.flush_interval`: how often usage counts are written; greater than 0.
    public var usageFlushInterval: Duration = .seconds(10)
    /// `usage.retention`: how long usage hours are kept; at least one hour.
    public var usageRetention: Duration = .seconds(2160 * 3600)
    /// `log.level`: `debug`, `info`, `warn` or `error`.
    public var logLevel = "info"
    /// `log.format`: `json` or `text`.
    public var logFormat = "json"
    /// `tracing.enabled`: export spans; a non-empty `tracingEndpoint` is then required.
    public var tracingEnabled = false
    /// `tracing.endpoint`: the collector; this build exports OTLP/HTTP only (`http(s)://…`), and a bare `host:port`
    /// (OTLP/gRPC) fails at startup.
    public var tracingEndpoint: String?
    /// `tracing.sample_rate`: the fraction of traces sampled, 0.0–1.0.
    public var tracingSampleRate = 0.001
    /// `tracing.service_name`, `.service_version`, `.environment`: the resource of every exported span.
    public var tracingServiceName = "talos"
    /// `tracing.service_version`: part of every exported span's resource (see `tracingServiceName`).
    public var tracingServiceVersion = "0.0.0"
    /// `tracing.environment`: part of every exported span's resource (see `tracingServiceName`).
    public var tracingEnvironment = "development"

    /// `secrets.hmac.current`: signs every new checksum, page token and macaroon (spec §4.6); at least 32
    /// characters. `nil` until set, and `validateForServing()` requires it.
    public var hmacSecret: String?
    /// `secrets.hmac.retired`: secrets that still verify checksums and decrypt page tokens, each until its
    /// `expires_at` (spec §5.5); each at least 32 characters.
    public var retiredHMACSecrets: [ExpiringValue] = []
    /// `nil` or 0 = unlimited.
    public var quotaMaxKeys: Int64?
    /// `multitenancy.enabled`: select the tenant by `Host` among `networks`; off, every request is the nil network.
    public var multitenancyEnabled = false
    /// `multitenancy.networks`: the tenants; serving with multi-tenancy enabled requires at least one.
    public var networks: [NetworkConfig] = []
    /// `crypto.backend`: the name of the registered crypto provider, `openssl` or `libsodium` (spec §4.7).
    public var cryptoBackend = "openssl"
    /// The effective value of every key the file or the environment set, as loaded; networks overlay their own
    /// files on these (spec §9.2 multi-tenancy).
    public var sourceValues: [String: JSONValue] = [:]

    /// Defaults only.
    public init() {}
}

extension TalosConfig {
    /// What a load found besides the configuration itself.
    public struct LoadResult: Sendable {
        /// The loaded configuration, validated; its `sourceValues` are what a reload compares key by key.
        public let config: TalosConfig
        /// `TALOS_*` variables that name no known key (ignored, spec §9.1); the caller logs them.
        public let ignoredEnvironment: [String]
        /// Accepted-with-fallback problems (e.g. an unknown `client_ip_source`); the caller logs them.
        public let warnings: [String]
    }

    /// Loads defaults, then the JSON file, then `TALOS_*` environment variables (environment > file > defaults),
    /// and validates the result.
    ///
    /// Why this is not apple/swift-configuration (evaluated at 1.4.0, which Hummingbird already brings in): its
    /// `JSONSnapshot` refuses arrays of objects (`unexpectedValueInArray`), and spec §9.2 has two
    /// (`secrets.hmac.retired` items `{value, expires_at}`, `multitenancy.networks`); its readers report no key
    /// that was present but never read, so §9.1's "unknown key → exit 1 naming it" would need a second pass over
    /// the file anyway; and its environment provider derives names by its own encoder, while §9.1 resolves
    /// underscores against the known key set and reads indexed object arrays (`…_RETIRED_0_VALUE`). Its
    /// `ReloadingFileProvider` (poll + SIGHUP) is what `ConfigReloadService` does in twenty lines, on top of the
    /// key-by-key merge of §15.8 that no provider offers. This loader is one pass over a flat key map, which the
    /// reload compares key by key (`reloadable(current:next:)`).
    ///
    /// - Parameters:
    ///   - fileContents: the `--config` file's bytes, if one was given.
    ///   - environment: the process environment.
    /// - Throws: `ConfigError` naming the key for unknown file keys, wrong types and out-of-range values.
    public static func load(fileContents: [UInt8]?, environment: [String: String]) throws(ConfigError) -> LoadResult {
        var values: [String: JSONValue] = [:]
        if let fileContents {
            let document: JSONValue
            do {
                document = try JSONValue.parse(fileContents)
            } catch {
                throw ConfigError("file is not valid JSON: \(error.detail)")
            }
            guard case .object(let root) = document else { throw ConfigError("file must hold a JSON object") }
            try flatten(root, prefix: "", into: &values)
        }
        var ignored: [String] = []
        try applyEnvironment(environment, to: &values, ignored: &ignored)
        var warnings: [String] = []
        var config = try build(from: values, warnings: &warnings)
        config.sourceValues = values
        return LoadResult(config: config, ignoredEnvironment: ignored.sorted(), warnings: warnings)
    }

    /// The configuration a reload may apply (its `sourceValues` are the merged values): `next`'s values for
    /// hot-reloadable keys, `current`'s for every other key, and the names of the keys whose change needs a restart
    /// (spec §15.8).
    ///
    /// - Throws: `ConfigError` when the merged values do not form a valid configuration.
    public static func reloadable(
        current: [String: JSONValue],
        next: [String: JSONValue]
    )
        throws(ConfigError) -> (config: TalosConfig, ignoredKeys: [String])
    {
        var merged = next
        var ignored: [String] = []
        for key in Set(current.keys).union(next.keys)
        where !ConfigSchema.isHotReloadable(key) && current[key] != next[key] {
            ignored.append(key)
            merged[key] = current[key]
        }
        var warnings: [String] = []
        var config = try build(from: merged, warnings: &warnings)
        config.sourceValues = merged
        return (config, ignored.sorted())
    }

    static func flatten(
        _ object: JSONObject,
        prefix: String,
        into values: inout [String: JSONValue]
    )
        throws(ConfigError)
    {
        for (key, value) in object {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if ConfigSchema.keys[path] != nil {
                values[path] = value
            } else if ConfigSchema.objectPaths.contains(path) {
                switch value {
                case .object(let child): try flatten(child, prefix: path, into: &values)
                case .null: continue
                default: throw ConfigError("\(path): must be an object")
                }
            } else {
                throw ConfigError("unknown key \"\(path)\"")
            }
        }
    }

    private static func applyEnvironment(
        _ environment: [String: String],
        to values: inout [String: JSONValue],
        ignored: inout [String]
    ) throws(ConfigError) {
        var indexed: [String: [Int: JSONValue]] = [:]
        // Whole-value variables first, so that indexed ones (`…_0`) are collected separately and win together.
        for (name, text) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("TALOS_") {
            guard let match = ConfigSchema.key(forEnvironment: name), let kind = ConfigSchema.keys[match.key] else {
                ignored.append(name)
                continue
            }
            if let index = match.index {
                var items = indexed[match.key] ?? [:]
                if let field = match.field {
                    var object = items[index]?.objectValue ?? JSONObject()
                    object[field] = .string(text)
                    items[index] = .object(object)
                } else {
                    items[index] = .string(text)
                }
                indexed[match.key] = items
            } else {
                values[match.key] = try environmentValue(text, kind: kind, key: match.key, name: name)
            }
        }
        for (key, items) in indexed {
            values[key] = .array(items.keys.sorted().map { items[$0]! })
        }
    }

    private static func environmentValue(
        _ text: String,
        kind: ConfigKind,
        key: String,
        name: String
    )
        throws(ConfigError) -> JSONValue
    {
        switch kind {
        case .string, .duration, .enumeration: return .string(text)
        case .int:
            guard let value = Int64(text.trimmingSpaces) else {
                throw ConfigError("\(key): must be an integer (\(name))")
            }
            return .int(value)
        case .number:
            guard let value = Double(text.trimmingSpaces) else {
                throw ConfigError("\(key): must be a number (\(name))")
            }
            return .double(value)
        case .bool:
            switch text.trimmingSpaces.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw ConfigError("\(key): must be true, false, 1 or 0 (\(name))")
            }
        case .stringArray, .expiringStrings, .networks:
            let trimmed = text.trimmingSpaces
            if trimmed.hasPrefix("[") {
                do {
                    return try JSONValue.parse(trimmed)
                } catch {
                    throw ConfigError("\(key): invalid JSON array in \(name): \(error.detail)")
                }
            }
            return .array(
                trimmed.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }.map(
                    JSONValue.string
                )
            )
        }
    }
}

extension String {
    /// The text without leading and trailing whitespace.
    public var trimmingSpaces: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}

// Holds the HMAC secrets, the private signing JWKS and the database DSN (§16.11).
extension TalosConfig: RedactedDescription {}
extension ExpiringValue: RedactedDescription {}
