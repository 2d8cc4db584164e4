import Logging
import ServiceLifecycle
public import TalosCore
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a running server re-reads its configuration from (spec §9.1 hot reload).
public struct ConfigReloadSource: Sendable {
    /// The `--config` file, polled for modification every `interval`.
    public let path: String
    /// Loads and validates the configuration anew (file and environment).
    public let load: @Sendable () throws -> TalosConfig
    public let interval: Duration

    public init(path: String, interval: Duration = .seconds(5), load: @escaping @Sendable () throws -> TalosConfig) {
        self.path = path
        self.load = load
        self.interval = interval
    }
}

/// Re-reads the configuration when the file changes or on SIGHUP and swaps the hot-reloadable settings
/// (`credentials.*`, `secrets.hmac.*`, `quota.*`). An invalid file is rejected and the old configuration kept;
/// changes to keys that need a restart are logged as ignored.
struct ConfigReloadService: Service {
    let source: ConfigReloadSource
    let initial: TalosConfig
    let crypto: any CryptoBackend
    let settings: SettingsStore
    let logger: Logger

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (triggers, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) { continuation.yield("SIGHUP") }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: source.interval)
                    continuation.yield("poll")
                }
            }
            group.addTask {
                var current = initial
                var lastModified = Self.modificationTime(source.path)
                for await trigger in triggers.cancelOnGracefulShutdown() {
                    let modified = Self.modificationTime(source.path)
                    guard trigger == "SIGHUP" || modified != lastModified else { continue }
                    lastModified = modified
                    current = reload(from: current, trigger: trigger)
                }
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }

    private func reload(from current: TalosConfig, trigger: String) -> TalosConfig {
        let next: TalosConfig
        do {
            next = try source.load()
            try next.validateForServing()
            try next.validateSigningKeys(cryptoBackend: crypto.name)
        } catch {
            logger.error("configuration reload rejected; keeping the previous configuration", metadata: ["error": "\(error)"])
            return current
        }
        let prepared: CredentialSettings
        var applied = current
        applied.adoptReloadable(from: next)
        do {
            prepared = try CredentialSettings(config: applied, crypto: crypto)
        } catch {
            logger.error("configuration reload rejected; keeping the previous configuration", metadata: ["error": "\(error)"])
            return current
        }
        var restartOnly = next
        restartOnly.adoptReloadable(from: current)
        if restartOnly != current {
            logger.warning("configuration changes that need a restart were ignored")
        }
        settings.replace(with: prepared)
        logger.info("configuration reloaded", metadata: ["trigger": "\(trigger)"])
        return applied
    }

    private static func modificationTime(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}

extension TalosConfig {
    /// Copies the hot-reloadable keys of `other` into this configuration.
    mutating func adoptReloadable(from other: TalosConfig) {
        issuer = other.issuer
        retiredIssuers = other.retiredIssuers
        clockSkew = other.clockSkew
        defaultTTL = other.defaultTTL
        maxTTL = other.maxTTL
        prefix = other.prefix
        retiredPrefixes = other.retiredPrefixes
        publicPrefix = other.publicPrefix
        retiredPublicPrefixes = other.retiredPublicPrefixes
        derivedDefaultTTL = other.derivedDefaultTTL
        signingKeyID = other.signingKeyID
        signingKeyURLs = other.signingKeyURLs
        macaroonPrefix = other.macaroonPrefix
        retiredMacaroonPrefixes = other.retiredMacaroonPrefixes
        hmacSecret = other.hmacSecret
        retiredHMACSecrets = other.retiredHMACSecrets
        quotaMaxKeys = other.quotaMaxKeys
        cacheEnabled = other.cacheEnabled
        cacheTTL = other.cacheTTL
        clientIPSource = other.clientIPSource
        excludeHealthFromRequestLog = other.excludeHealthFromRequestLog
        corsEnabled = other.corsEnabled
        rateLimitEnabled = other.rateLimitEnabled
    }
}
