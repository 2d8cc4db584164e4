/// A configuration problem; the message names the offending key (`config: unknown key "a.b"`).
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problem, led by the dotted key path it concerns where there is one (e.g. `db.dsn: …`).
    public let message: String
    /// An error with `message`, which must never quote a secret value (HMAC secrets, private JWKs, DSN passwords).
    public init(_ message: String) { self.message = message }
    /// `config: <message>`, as printed when startup or a reload refuses the configuration.
    public var description: String { "config: \(message)" }
}

/// The shape of one configuration key's value.
enum ConfigKind: Sendable, Hashable {
    case string, int, number, bool, duration, stringArray
    case enumeration([String])
    /// `(string | {value, expires_at})[]`
    case expiringStrings
    /// `[{hostname, id, config_path}]`
    case networks
}

/// One configuration key: the single place its path, shape, default, reload and tenancy behaviour and meaning are
/// written. The loader's schema, both predicates, `talos config schema` and `docs/configuration.md` derive from it.
public struct ConfigKey: Sendable, Hashable {
    /// The dotted path (`serve.http.port`); the environment variable is `TALOS_` + the path upper-cased with `_`.
    public let path: String
    let kind: ConfigKind
    /// The default as an operator reads it (`4096`, `60s`, `unset`).
    public let defaultValue: String
    /// Whether a reload (file change or `SIGHUP`) applies a change without a restart.
    public let hotReloadable: Bool
    /// Whether a tenant's `config_path` file may set it (multi-tenancy).
    public let networkOverridable: Bool
    /// What the key does.
    public let summary: String

    init(
        _ path: String,
        _ kind: ConfigKind,
        default defaultValue: String,
        reload hotReloadable: Bool = false,
        network networkOverridable: Bool = false,
        _ summary: String
    ) {
        self.path = path
        self.kind = kind
        self.defaultValue = defaultValue
        self.hotReloadable = hotReloadable
        self.networkOverridable = networkOverridable
        self.summary = summary
    }

    /// `CLIENT_IP_SOURCE_X_FORWARDED_FOR` and its peers are strings; an enumeration names its values.
    public var kindName: String {
        switch kind {
        case .string: "string"
        case .int: "integer"
        case .number: "number"
        case .bool: "boolean"
        case .duration: "duration"
        case .stringArray: "string list"
        case .enumeration(let values): values.joined(separator: " | ")
        case .expiringStrings: "list of string or {value, expires_at}"
        case .networks: "list of {hostname, id, config_path}"
        }
    }

    /// `serve.http.port` → `TALOS_SERVE_HTTP_PORT`.
    public var environmentName: String { ConfigSchema.environmentName(path) }
}

/// Every configuration key Talos knows (spec §9.2).
public enum ConfigSchema {
    /// The key table, in the order of the documentation.
    public static let table: [ConfigKey] =
        [
            ConfigKey(
                "serve.http.host",
                .string,
                default: "0.0.0.0 (--dev: 127.0.0.1)",
                "Address the API listener binds."
            ),
            ConfigKey("serve.http.port", .int, default: "4420 (serve public: 4421)", "Port of the API listener."),
            ConfigKey("serve.http.cors.enabled", .bool, default: "false", reload: true, "Answer CORS preflights."),
            ConfigKey(
                "serve.http.cors.allowed_origins",
                .stringArray,
                default: "*",
                reload: true,
                "Origins allowed, `*` wildcards within a label (`https://*.example.com`)."
            ),
            ConfigKey(
                "serve.http.cors.allowed_methods",
                .stringArray,
                default: "GET, POST, PUT, PATCH, DELETE",
                reload: true,
                "Methods allowed in preflights."
            ),
            ConfigKey(
                "serve.http.cors.allowed_headers",
                .stringArray,
                default: "Authorization, Content-Type",
                reload: true,
                "Request headers allowed in preflights."
            ),
            ConfigKey(
                "serve.http.cors.exposed_headers",
                .stringArray,
                default: "Content-Type",
                reload: true,
                "Response headers a browser may read."
            ),
            ConfigKey(
                "serve.http.cors.allow_credentials",
                .bool,
                default: "false",
                reload: true,
                "Send `Access-Control-Allow-Credentials`."
            ),
            ConfigKey("serve.http.cors.max_age", .int, default: "0", reload: true, "Preflight cache time in seconds."),
            ConfigKey("serve.http.cors.debug", .bool, default: "false", reload: true, "Log refused CORS requests."),
            ConfigKey(
                "serve.http.client_ip_source",
                .string,
                default: "the TCP peer",
                reload: true,
                "Where the client address comes from: `CLIENT_IP_SOURCE_REMOTE_ADDR`, `…_X_FORWARDED_FOR`, "
                    + "`…_X_REAL_IP`, `…_CF_CONNECTING_IP`, `…_TRUE_CLIENT_IP`."
            ),
            ConfigKey(
                "serve.http.trust_forwarded_host",
                .bool,
                default: "false",
                "Choose the tenant by `X-Forwarded-Host` (right-most value) from a peer inside `trusted_proxies`."
            ),
            ConfigKey(
                "serve.http.request_log.exclude_health_endpoints",
                .bool,
                default: "false",
                reload: true,
                "Leave `/health*` and `/version` out of the request log."
            ),
            ConfigKey(
                "serve.http.trusted_proxies",
                .stringArray,
                default: "[]",
                reload: true,
                "Proxies (IPs or CIDRs) whose forwarding headers are believed; outside them, headers are ignored."
            ),
            ConfigKey(
                "serve.http.allowed_hosts",
                .stringArray,
                default: "[] (any; --dev: localhost, 127.0.0.1, ::1)",
                reload: true,
                "Hosts (port ignored) a request may name; another gets 421 HOST_NOT_ALLOWED. Tenancy hostnames and "
                    + "health are always allowed."
            ),
            ConfigKey(
                "serve.http.idle_timeout",
                .duration,
                default: "60s",
                "A connection idle, or whose output makes no progress, this long is closed."
            ),
            ConfigKey(
                "serve.http.read_timeout",
                .duration,
                default: "30s",
                "A request's headers and body must arrive within this, else 408."
            ),
            ConfigKey(
                "serve.http.max_connections",
                .int,
                default: "4096",
                "Connections over this are accepted and closed at once."
            ),
            ConfigKey(
                "serve.http.max_feed_subscribers",
                .int,
                default: "256",
                "Revocation-feed streams at once; more get 503."
            ),
            ConfigKey(
                "serve.public.rate_limit.per_second",
                .number,
                default: "20",
                "Self-revoke requests per client (IPv4 address, IPv6 /64) and second; 0 disables the limit."
            ),
            ConfigKey(
                "serve.public.rate_limit.burst",
                .int,
                default: "40",
                "Self-revoke burst per client; 0 disables."
            ),
            ConfigKey(
                "serve.admin.auth.enabled",
                .bool,
                default: "false (config/oel.json: true)",
                reload: true,
                "Every `/v2alpha1/admin/*` request needs an admin key (`Authorization: Bearer` or `Talos-Admin-Key`); "
                    + "failed attempts are limited per client like self-revoke."
            ),
            ConfigKey(
                "serve.console.enabled",
                .bool,
                default: "true",
                "Serve the web console at `/console/` on the API listener of `serve` and `serve admin`."
            ),
            ConfigKey(
                "serve.metrics.host",
                .string,
                default: "0.0.0.0 (--dev: 127.0.0.1)",
                "Address the metrics listener binds."
            ),
            ConfigKey("serve.metrics.port", .int, default: "4422 (serve public: 4423)", "Port of `/metrics`."),
            ConfigKey(
                "credentials.issuer",
                .string,
                default: "unset (required)",
                reload: true,
                network: true,
                "Issuer of derived tokens and verification results."
            ),
            ConfigKey(
                "credentials.issuer_retired",
                .expiringStrings,
                default: "[]",
                reload: true,
                network: true,
                "Issuers still accepted in derived tokens, each until its `expires_at`."
            ),
            ConfigKey(
                "credentials.clock_skew",
                .duration,
                default: "5m",
                reload: true,
                network: true,
                "Tolerance on creation times and token `exp`/`nbf`; at most 10m."
            ),
            ConfigKey(
                "credentials.api_keys.default_ttl",
                .duration,
                default: "no expiry",
                reload: true,
                network: true,
                "Lifetime of a key issued without `ttl`."
            ),
            ConfigKey(
                "credentials.api_keys.max_ttl",
                .duration,
                default: "8760h",
                reload: true,
                network: true,
                "Longest lifetime a key may have."
            ),
            ConfigKey(
                "credentials.api_keys.prefix.current",
                .string,
                default: "ory_ak",
                reload: true,
                network: true,
                "Prefix of new SECRET keys, `^[a-zA-Z0-9_]{1,16}$`."
            ),
            ConfigKey(
                "credentials.api_keys.prefix.retired",
                .stringArray,
                default: "[]",
                reload: true,
                network: true,
                "Prefixes still verified, never issued."
            ),
            ConfigKey(
                "credentials.api_keys.prefix.public_current",
                .string,
                default: "unset",
                reload: true,
                network: true,
                "Prefix of new PUBLIC keys; unset, PUBLIC keys cannot be issued."
            ),
            ConfigKey(
                "credentials.api_keys.prefix.public_retired",
                .stringArray,
                default: "[]",
                reload: true,
                network: true,
                "Public prefixes still verified, never issued."
            ),
            ConfigKey(
                "credentials.admin_keys.prefix",
                .string,
                default: "talos_adm",
                reload: true,
                network: true,
                "Prefix of admin keys, `^[a-zA-Z0-9_]{1,16}$`, distinct from every API key prefix."
            ),
            ConfigKey(
                "credentials.derived_tokens.default_ttl",
                .duration,
                default: "1h",
                reload: true,
                network: true,
                "Lifetime of a derived token whose request names none."
            ),
            ConfigKey(
                "credentials.derived_tokens.jwt.signing_key_id",
                .string,
                default: "the first signing key",
                reload: true,
                network: true,
                "The `kid` that signs new JWTs."
            ),
            ConfigKey(
                "credentials.derived_tokens.jwt.signing_keys.urls",
                .stringArray,
                default: "[]",
                reload: true,
                network: true,
                "JWK Sets holding the signing keys, as `base64://` URLs (secret)."
            ),
            ConfigKey(
                "credentials.derived_tokens.macaroon.prefix.current",
                .string,
                default: "mc",
                reload: true,
                network: true,
                "Prefix of new macaroons, `^[a-zA-Z0-9_]{1,8}$`."
            ),
            ConfigKey(
                "credentials.derived_tokens.macaroon.prefix.retired",
                .stringArray,
                default: "[]",
                reload: true,
                network: true,
                "Macaroon prefixes still accepted, never minted."
            ),
            ConfigKey(
                "db.dsn",
                .string,
                default: "sqlite://./talos.db",
                "The database: `sqlite://PATH` or `postgres://…` (pool parameters in the query string; secret)."
            ),
            ConfigKey(
                "cache.type",
                .enumeration(["noop", "memory", "redis"]),
                default: "noop",
                "`memory` builds the verification cache; `redis` is not built in (refused at start)."
            ),
            ConfigKey(
                "cache.enabled",
                .bool,
                default: "false",
                reload: true,
                network: true,
                "Verification uses the cache (needs `cache.type: memory`)."
            ),
            ConfigKey(
                "cache.ttl",
                .duration,
                default: "5m",
                reload: true,
                network: true,
                "How long a cached key may answer; 0 caches nothing."
            ),
            ConfigKey("cache.memory.max_size", .int, default: "104857600", "Approximate bound of the cache in bytes."),
            ConfigKey(
                "cache.memory.num_counters",
                .int,
                default: "unset",
                "Accepted for compatibility (100…1000000); unused."
            ),
            ConfigKey(
                "rate_limit.enabled",
                .bool,
                default: "false",
                reload: true,
                network: true,
                "Enforce keys' `rate_limit_policy` on verification."
            ),
            ConfigKey(
                "rate_limit.backend",
                .enumeration(["memory", "postgres", "redis"]),
                default: "memory",
                "`memory` per process, `postgres` exact across replicas; `redis` is not built in."
            ),
            ConfigKey(
                "last_used.queue_size",
                .int,
                default: "10000",
                "Uses waiting for a flush; one more is dropped (256…1000000)."
            ),
            ConfigKey("last_used.flush_size", .int, default: "100", "Pending uses that trigger a flush (1…10000)."),
            ConfigKey(
                "last_used.flush_interval",
                .duration,
                default: "30s",
                "Longest a use waits before it is written."
            ),
            ConfigKey("last_used.num_workers", .int, default: "4", "Validated (1…64); one batched writer flushes."),
            ConfigKey(
                "usage.enabled",
                .bool,
                default: "true",
                "Count verifications per key, hour and outcome for the usage endpoints."
            ),
            ConfigKey(
                "usage.flush_interval",
                .duration,
                default: "10s",
                "How often usage counts are written; a crash loses at most this much."
            ),
            ConfigKey(
                "usage.retention",
                .duration,
                default: "2160h",
                "Usage older than this is deleted (at least 1h)."
            ),
            ConfigKey(
                "log.level",
                .enumeration(["debug", "info", "warn", "error"]),
                default: "info",
                "Log level; no level prints a secret."
            ),
            ConfigKey("log.format", .enumeration(["json", "text"]), default: "json", "Log format."),
            ConfigKey("tracing.enabled", .bool, default: "false", "Export OpenTelemetry spans to `tracing.endpoint`."),
            ConfigKey("tracing.service_name", .string, default: "talos", "`service.name` of every span."),
            ConfigKey("tracing.service_version", .string, default: "0.0.0", "`service.version` of every span."),
            ConfigKey(
                "tracing.environment",
                .string,
                default: "development",
                "`deployment.environment` of every span."
            ),
            ConfigKey("tracing.exporter", .enumeration(["otlp"]), default: "otlp", "The span exporter."),
            ConfigKey(
                "tracing.endpoint",
                .string,
                default: "unset",
                "OTLP/HTTP collector, `http(s)://host:port` (`/v1/traces` is added)."
            ),
            ConfigKey("tracing.sample_rate", .number, default: "0.001", "Fraction of traces sampled, 0.0–1.0."),
            ConfigKey(
                "secrets.hmac.current",
                .string,
                default: "unset (required)",
                reload: true,
                network: true,
                "Signs every new checksum, page token and macaroon; at least 32 characters (secret)."
            ),
            ConfigKey(
                "secrets.hmac.retired",
                .expiringStrings,
                default: "[]",
                reload: true,
                network: true,
                "Secrets that still verify, each until its `expires_at` (secret)."
            ),
            ConfigKey(
                "quota.api_keys_max",
                .int,
                default: "unlimited",
                reload: true,
                network: true,
                "Most keys a tenant may hold; 0 is unlimited."
            ),
            ConfigKey("multitenancy.enabled", .bool, default: "false", "Choose the tenant by `Host` among `networks`."),
            ConfigKey(
                "multitenancy.networks",
                .networks,
                default: "[]",
                "The tenants; each `config_path` may set only the keys marked per network."
            ),
            ConfigKey("crypto.backend", .string, default: "openssl", "The crypto backend: `openssl` or `libsodium`."),
        ] + redisKeys

    /// Redis is not built in; its keys are accepted (and validated) so that Ory configuration files load.
    private static let redisKeys: [ConfigKey] = [
        ("addrs", ConfigKind.stringArray), ("password", .string), ("db", .int), ("pool_size", .int),
        ("timeout", .duration), ("min_idle_conns", .int), ("conn_max_idle_time", .duration),
        ("conn_max_lifetime", .duration), ("tls.enabled", .bool),
    ].map {
        ConfigKey("cache.redis.\($0.0)", $0.1, default: "unset", "Accepted for compatibility; Redis is not built in.")
    }

    /// Path → key.
    static let byPath: [String: ConfigKey] = Dictionary(table.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })

    /// Path → kind, for the loader.
    static let keys: [String: ConfigKind] = byPath.mapValues(\.kind)

    /// Whether a change of `key` takes effect on hot reload (spec §9.1, §15.2); other keys need a restart.
    static func isHotReloadable(_ key: String) -> Bool { byPath[key]?.hotReloadable ?? false }

    /// Every object path that has known keys below it (`serve`, `serve.http`, …).
    static let objectPaths: Set<String> = {
        var paths: Set<String> = [""]
        for key in keys.keys {
            var parts = key.split(separator: ".").map(String.init)
            while parts.count > 1 {
                parts.removeLast()
                paths.insert(parts.joined(separator: "."))
            }
        }
        return paths
    }()

    /// `serve.http.port` → `TALOS_SERVE_HTTP_PORT`.
    static func environmentName(_ key: String) -> String {
        "TALOS_" + String(key.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// The known key an environment variable sets, with an array index and object field for indexed forms
    /// (`TALOS_SECRETS_HMAC_RETIRED_0_VALUE` → (`secrets.hmac.retired`, 0, `value`)).
    static func key(forEnvironment name: String) -> (key: String, index: Int?, field: String?)? {
        if let key = environmentKeys[name] { return (key, nil, nil) }
        for (envName, key) in environmentKeys where name.hasPrefix(envName + "_") {
            let rest = name.dropFirst(envName.count + 1)
            let parts = rest.split(separator: "_", maxSplits: 1).map(String.init)
            guard let index = Int(parts[0]), index >= 0 else { continue }
            switch keys[key] {
            case .stringArray? where parts.count == 1: return (key, index, nil)
            case .expiringStrings? where parts.count == 1: return (key, index, nil)
            case .expiringStrings? where ["VALUE", "EXPIRES_AT"].contains(parts[1]):
                return (key, index, parts[1].lowercased())
            case .networks? where parts.count == 2 && ["HOSTNAME", "ID", "CONFIG_PATH"].contains(parts[1]):
                return (key, index, parts[1].lowercased())
            default: continue
            }
        }
        return nil
    }

    private static let environmentKeys: [String: String] = Dictionary(
        uniqueKeysWithValues: keys.keys.map { (environmentName($0), $0) }
    )
}
