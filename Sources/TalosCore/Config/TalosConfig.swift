/// A string that may stop being honoured at `expiresAt` (retired secrets and issuers, spec §5.5).
public struct ExpiringValue: Sendable, Hashable {
    public let value: String
    public let expiresAt: Timestamp?

    public init(value: String, expiresAt: Timestamp? = nil) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// Whether the entry is still honoured at `now`.
    public func isActive(at now: Timestamp) -> Bool { expiresAt.map { now < $0 } ?? true }
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

    public init(hostname: String, id: String, configPath: String) {
        self.hostname = hostname
        self.id = id
        self.configPath = configPath
    }
}

/// The validated configuration of a Talos process (spec §9).
public struct TalosConfig: Sendable, Hashable {
    public var httpHost = "0.0.0.0"
    /// `nil` when not configured (the mode picks 4420 or 4421).
    public var httpPort: Int?
    public var clientIPSource: ClientIPSource = .unspecified
    public var trustForwardedHost = false
    public var excludeHealthFromRequestLog = false
    public var corsEnabled = false
    /// Proxies whose client-IP headers are believed (spec §15.2); empty = believe the nearest hop.
    public var trustedProxies: [CIDR] = []
    /// A connection with no request in progress for this long is closed (spec §15.3).
    public var idleTimeout: Duration = .seconds(60)
    /// A request's headers and body must arrive within this long, or it gets 408 (spec §15.3).
    public var readTimeout: Duration = .seconds(30)
    /// Connections over this many are accepted and closed at once (spec §15.3).
    public var maxConnections = 4096
    /// Self-revoke requests per client IP and second (token bucket refill, spec §15.5); 0 disables the limit.
    public var publicRateLimitPerSecond = 20.0
    /// Token bucket size for self-revoke per client IP (spec §15.5); 0 disables the limit.
    public var publicRateLimitBurst = 40
    public var metricsHost = "0.0.0.0"
    public var metricsPort: Int?

    public var issuer: String?
    public var retiredIssuers: [ExpiringValue] = []
    public var clockSkew: Duration = .seconds(5 * 60)
    public var defaultTTL: Duration?
    public var maxTTL: Duration = .seconds(8760 * 3600)
    public var prefix = "ory_ak"
    public var retiredPrefixes: [String] = []
    public var publicPrefix: String?
    public var retiredPublicPrefixes: [String] = []
    public var derivedDefaultTTL: Duration = .seconds(3600)
    public var signingKeyID = ""
    public var signingKeyURLs: [String] = []
    public var macaroonPrefix = "mc"
    public var retiredMacaroonPrefixes: [String] = []

    public var databaseDSN = "sqlite://./talos.db"
    public var cacheType = "noop"
    public var cacheEnabled = false
    public var cacheTTL: Duration = .seconds(5 * 60)
    public var cacheMaxSize: Int64 = 104_857_600
    public var rateLimitEnabled = false
    /// `memory` (per process) or `postgres` (cluster-wide, spec §15.9).
    public var rateLimitBackend = "memory"
    public var lastUsedQueueSize = 10_000
    public var lastUsedFlushSize = 100
    public var lastUsedFlushInterval: Duration = .seconds(30)
    public var lastUsedWorkers = 4
    public var logLevel = "info"
    public var logFormat = "json"
    public var tracingEnabled = false
    public var tracingEndpoint: String?
    public var tracingSampleRate = 0.001
    /// `tracing.service_name`, `.service_version`, `.environment`: the resource of every exported span.
    public var tracingServiceName = "talos"
    public var tracingServiceVersion = "0.0.0"
    public var tracingEnvironment = "development"

    public var hmacSecret: String?
    public var retiredHMACSecrets: [ExpiringValue] = []
    /// `nil` or 0 = unlimited.
    public var quotaMaxKeys: Int64?
    public var multitenancyEnabled = false
    public var networks: [NetworkConfig] = []
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
        public let config: TalosConfig
        /// `TALOS_*` variables that name no known key (ignored, spec §9.1); the caller logs them.
        public let ignoredEnvironment: [String]
        /// Accepted-with-fallback problems (e.g. an unknown `client_ip_source`); the caller logs them.
        public let warnings: [String]
        /// The effective value of every key that the file or the environment set, by dotted key; what a reload
        /// compares key by key.
        public let values: [String: JSONValue]
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
        return LoadResult(config: config, ignoredEnvironment: ignored.sorted(), warnings: warnings, values: values)
    }

    /// The configuration a reload may apply: `next`'s values for hot-reloadable keys, `current`'s for every other key,
    /// and the names of the keys whose change needs a restart (spec §15.8).
    ///
    /// - Throws: `ConfigError` when the merged values do not form a valid configuration.
    public static func reloadable(
        current: [String: JSONValue],
        next: [String: JSONValue]
    )
        throws(ConfigError) -> (config: TalosConfig, values: [String: JSONValue], ignoredKeys: [String])
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
        return (config, merged, ignored.sorted())
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
