import Synchronization

/// The hot-reloadable part of the configuration (spec §9.1), prepared for the request path.
public struct CredentialSettings: Sendable {
    /// `credentials.issuer`; `""` when the configuration has none.
    public let issuer: String
    /// The current and retired HMAC secrets (`secrets.hmac.*`) with the page-token and macaroon keys derived from
    /// them.
    public let keyring: Keyring
    /// `credentials.clock_skew`: the tolerance on key creation times and token `exp`/`nbf`.
    public let clockSkew: Duration
    /// `credentials.api_keys.default_ttl`; `nil` = keys issued without a TTL never expire.
    public let defaultTTL: Duration?
    /// `credentials.api_keys.max_ttl`: the longest key lifetime, and the oldest an issued key's creation time may be.
    public let maxTTL: Duration
    /// The prefix new SECRET keys are issued with.
    public let prefix: String
    /// The prefix new PUBLIC keys are issued with; `nil` = PUBLIC keys cannot be issued.
    public let publicPrefix: String?
    /// Every prefix a valid issued key may carry: current, public current, retired and public retired.
    public let allowedPrefixes: Set<String>
    /// `credentials.admin_keys.prefix`: the only prefix an admin key carries (spec §16.3).
    public let adminKeyPrefix: String
    /// Current and retired macaroon prefixes, for routing (spec §4.4).
    public let macaroonPrefixes: [String]
    /// `quota.api_keys_max` (spec §8.2); `nil` or 0 = unlimited.
    public let quotaMaxKeys: Int64?
    /// Issuers still honoured in derived tokens besides `issuer`.
    public let retiredIssuers: [ExpiringValue]
    /// The lifetime of a derived token whose request names none.
    public let derivedDefaultTTL: Duration
    /// The prefix new macaroons are minted with.
    public let macaroonPrefix: String
    /// The JWT signing keys of `credentials.derived_tokens.jwt.signing_keys.urls`, checked against the crypto backend.
    public let signingKeys: SigningKeyring
    /// `cache.enabled` (spec §5.9); the cache is used only when `cache.type` is `memory` as well.
    public let cacheEnabled: Bool
    /// `cache.ttl`; zero or negative never writes.
    public let cacheTTL: Duration
    /// `rate_limit.enabled` (spec §5.7).
    public let rateLimitEnabled: Bool

    /// Prepares the settings of `config`, whose `hmacSecret` and `issuer` must be set.
    /// - Throws: `ConfigError` when a configured signing key cannot be used with this crypto backend.
    public init(config: TalosConfig, crypto: any CryptoBackend) throws(ConfigError) {
        self.issuer = config.issuer ?? ""
        self.keyring = Keyring(current: config.hmacSecret ?? "", retired: config.retiredHMACSecrets, crypto: crypto)
        self.clockSkew = config.clockSkew
        self.defaultTTL = config.defaultTTL
        self.maxTTL = config.maxTTL
        self.prefix = config.prefix
        self.publicPrefix = config.publicPrefix
        self.allowedPrefixes = Set(
            [config.prefix] + config.retiredPrefixes + (config.publicPrefix.map { [$0] } ?? [])
                + config.retiredPublicPrefixes
        )
        self.adminKeyPrefix = config.adminKeyPrefix
        self.macaroonPrefixes = [config.macaroonPrefix] + config.retiredMacaroonPrefixes
        self.quotaMaxKeys = config.quotaMaxKeys
        self.retiredIssuers = config.retiredIssuers
        self.derivedDefaultTTL = config.derivedDefaultTTL
        self.macaroonPrefix = config.macaroonPrefix
        self.signingKeys = try SigningKeyring(config: config, crypto: crypto)
        self.cacheEnabled = config.cacheEnabled
        self.cacheTTL = config.cacheTTL
        self.rateLimitEnabled = config.rateLimitEnabled
    }

    /// Whether a derived token's `iss` is the current issuer or a retired one still honoured at `now`.
    public func acceptsIssuer(_ candidate: String, at now: Timestamp) -> Bool {
        candidate == issuer || retiredIssuers.contains { $0.value == candidate && $0.isActive(at: now) }
    }
}

/// The credential settings of every tenant (spec §9.2): the base configuration's for the nil network, and each
/// network's own, its `config_path` overlaid on the base.
public struct TenantSettings: Sendable {
    /// The settings of the nil UUID (multi-tenancy off) and of any tenant without its own.
    public let base: CredentialSettings
    /// By network id.
    public let networks: [String: CredentialSettings]

    /// Settings given directly; a tenant missing from `networks` gets `base`.
    public init(base: CredentialSettings, networks: [String: CredentialSettings] = [:]) {
        self.base = base
        self.networks = networks
    }

    /// Prepares every tenant of `config`, reading each network's `config_path` with `readFile`.
    /// - Throws: `ConfigError` naming the network for an unreadable or invalid file.
    public init(
        config: TalosConfig,
        crypto: any CryptoBackend,
        readFile: (String) -> [UInt8]? = readWholeFile
    ) throws(ConfigError) {
        self.base = try CredentialSettings(config: config, crypto: crypto)
        var networks: [String: CredentialSettings] = [:]
        if config.multitenancyEnabled {
            for network in config.networks {
                guard let file = readFile(network.configPath) else {
                    throw ConfigError(
                        "multitenancy network \"\(network.hostname)\": cannot read config_path \"\(network.configPath)\""
                    )
                }
                let networkConfig = try config.networkConfig(network, file: file)
                try networkConfig.validateSigningKeys(crypto: crypto)
                networks[network.id] = try CredentialSettings(config: networkConfig, crypto: crypto)
            }
        }
        self.networks = networks
    }

    /// The settings of tenant `nid`.
    public func callAsFunction(_ nid: String) -> CredentialSettings { networks[nid] ?? base }
}

/// Holds settings in force; a reload swaps them atomically for every later request.
public final class SettingsStore<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    /// Holds `settings` until the first `replace(with:)`.
    public init(_ settings: Value) { storage = Mutex(settings) }

    /// The settings in force now.
    public var current: Value { storage.withLock { $0 } }

    /// Replaces the settings for every later request.
    public func replace(with settings: Value) { storage.withLock { $0 = settings } }
}

extension CredentialSettings: RedactedDescription {}
extension TenantSettings: RedactedDescription {}
