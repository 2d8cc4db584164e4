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

/// Every configuration key Talos knows (spec §9.2), with its kind.
enum ConfigSchema {
    static let keys: [String: ConfigKind] = {
        var keys: [String: ConfigKind] = [
            "serve.http.host": .string,
            "serve.http.port": .int,
            "serve.http.cors.enabled": .bool,
            "serve.http.cors.allowed_origins": .stringArray,
            "serve.http.cors.allowed_methods": .stringArray,
            "serve.http.cors.allowed_headers": .stringArray,
            "serve.http.cors.exposed_headers": .stringArray,
            "serve.http.cors.allow_credentials": .bool,
            "serve.http.cors.max_age": .int,
            "serve.http.cors.debug": .bool,
            "serve.http.client_ip_source": .string,
            "serve.http.trust_forwarded_host": .bool,
            "serve.http.request_log.exclude_health_endpoints": .bool,
            "serve.http.trusted_proxies": .stringArray,
            "serve.http.idle_timeout": .duration,
            "serve.http.read_timeout": .duration,
            "serve.http.max_connections": .int,
            "serve.http.max_feed_subscribers": .int,
            "serve.public.rate_limit.per_second": .number,
            "serve.public.rate_limit.burst": .int,
            "serve.metrics.host": .string,
            "serve.metrics.port": .int,
            "credentials.issuer": .string,
            "credentials.issuer_retired": .expiringStrings,
            "credentials.clock_skew": .duration,
            "credentials.api_keys.default_ttl": .duration,
            "credentials.api_keys.max_ttl": .duration,
            "credentials.api_keys.prefix.current": .string,
            "credentials.api_keys.prefix.retired": .stringArray,
            "credentials.api_keys.prefix.public_current": .string,
            "credentials.api_keys.prefix.public_retired": .stringArray,
            "credentials.derived_tokens.default_ttl": .duration,
            "credentials.derived_tokens.jwt.signing_key_id": .string,
            "credentials.derived_tokens.jwt.signing_keys.urls": .stringArray,
            "credentials.derived_tokens.macaroon.prefix.current": .string,
            "credentials.derived_tokens.macaroon.prefix.retired": .stringArray,
            "db.dsn": .string,
            "cache.type": .enumeration(["noop", "memory", "redis"]),
            "cache.enabled": .bool,
            "cache.ttl": .duration,
            "cache.memory.max_size": .int,
            "cache.memory.num_counters": .int,
            "rate_limit.enabled": .bool,
            "rate_limit.backend": .enumeration(["memory", "postgres", "redis"]),
            "last_used.queue_size": .int,
            "last_used.flush_size": .int,
            "last_used.flush_interval": .duration,
            "last_used.num_workers": .int,
            "log.level": .enumeration(["debug", "info", "warn", "error"]),
            "log.format": .enumeration(["json", "text"]),
            "tracing.enabled": .bool,
            "tracing.service_name": .string,
            "tracing.service_version": .string,
            "tracing.environment": .string,
            "tracing.exporter": .enumeration(["otlp"]),
            "tracing.endpoint": .string,
            "tracing.sample_rate": .number,
            "secrets.hmac.current": .string,
            "secrets.hmac.retired": .expiringStrings,
            "quota.api_keys_max": .int,
            "multitenancy.enabled": .bool,
            "multitenancy.networks": .networks,
            "crypto.backend": .string,
        ]
        let redis: [String: ConfigKind] = [
            "addrs": .stringArray, "password": .string, "db": .int, "pool_size": .int, "timeout": .duration,
            "min_idle_conns": .int, "conn_max_idle_time": .duration, "conn_max_lifetime": .duration,
            "tls.enabled": .bool,
        ]
        for (key, kind) in redis { keys["cache.redis.\(key)"] = kind }
        return keys
    }()

    /// Whether a change of `key` takes effect on hot reload (spec §9.1, §15.2); other keys need a restart.
    static func isHotReloadable(_ key: String) -> Bool {
        let prefixes = ["credentials.", "secrets.hmac.", "quota.", "serve.http.cors.", "serve.http.request_log."]
        let keys: Set<String> = [
            "cache.enabled", "cache.ttl", "serve.http.client_ip_source", "serve.http.trusted_proxies",
            "rate_limit.enabled",
        ]
        return keys.contains(key) || prefixes.contains { key.hasPrefix($0) }
    }

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
