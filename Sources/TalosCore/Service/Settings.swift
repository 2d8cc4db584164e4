import Synchronization

/// The hot-reloadable part of the configuration (spec §9.1), prepared for the request path.
public struct CredentialSettings: Sendable {
    public let issuer: String
    public let keyring: Keyring
    public let clockSkew: Int64
    public let defaultTTL: Int64?
    public let maxTTL: Int64
    public let prefix: String
    public let publicPrefix: String?
    /// Every prefix a valid issued key may carry: current, public current, retired and public retired.
    public let allowedPrefixes: Set<String>
    /// Current and retired macaroon prefixes, for routing (spec §4.4).
    public let macaroonPrefixes: [String]
    public let quotaMaxKeys: Int64?

    /// Prepares the settings of `config`, whose `hmacSecret` and `issuer` must be set.
    public init(config: TalosConfig, crypto: any CryptoBackend) {
        self.issuer = config.issuer ?? ""
        self.keyring = Keyring(current: config.hmacSecret ?? "", retired: config.retiredHMACSecrets, crypto: crypto)
        self.clockSkew = config.clockSkew
        self.defaultTTL = config.defaultTTL
        self.maxTTL = config.maxTTL
        self.prefix = config.prefix
        self.publicPrefix = config.publicPrefix
        self.allowedPrefixes = Set(
            [config.prefix] + config.retiredPrefixes + (config.publicPrefix.map { [$0] } ?? [])
                + config.retiredPublicPrefixes)
        self.macaroonPrefixes = [config.macaroonPrefix] + config.retiredMacaroonPrefixes
        self.quotaMaxKeys = config.quotaMaxKeys
    }
}

/// Holds the settings in force; a reload swaps them atomically for every later request.
public final class SettingsStore: Sendable {
    private let storage: Mutex<CredentialSettings>

    public init(_ settings: CredentialSettings) { storage = Mutex(settings) }

    /// The settings in force now.
    public var current: CredentialSettings { storage.withLock { $0 } }

    /// Replaces the settings for every later request.
    public func replace(with settings: CredentialSettings) { storage.withLock { $0 = settings } }
}
