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
    /// Reads and validates the file and the environment anew.
    public let load: @Sendable () throws -> TalosConfig.LoadResult
    /// Applied to every configuration a reload builds (e.g. the development defaults of `serve --dev`).
    public let adjust: @Sendable (TalosConfig) -> TalosConfig
    public let interval: Duration

    public init(
        path: String,
        interval: Duration = .seconds(5),
        adjust: @escaping @Sendable (TalosConfig) -> TalosConfig = { $0 },
        load: @escaping @Sendable () throws -> TalosConfig.LoadResult
    ) {
        self.path = path
        self.interval = interval
        self.adjust = adjust
        self.load = load
    }
}

/// Re-reads the configuration when the file changes or on SIGHUP and applies every hot-reloadable key (spec §9.1,
/// §15.8) to the settings stores that requests read when they start. An invalid file is rejected and the old
/// configuration kept; a changed key that needs a restart is logged by name and keeps its running value.
struct ConfigReloadService: Service {
    let source: ConfigReloadSource
    /// The configuration the server started with.
    let initial: TalosConfig
    let crypto: any CryptoBackend
    let settings: SettingsStore<TenantSettings>
    let httpSettings: SettingsStore<HTTPSettings>
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
                var current = initial.sourceValues
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

    /// Applies the new configuration's hot-reloadable keys; returns the values now in force.
    private func reload(from current: [String: JSONValue], trigger: String) -> [String: JSONValue] {
        let merged: (config: TalosConfig, ignoredKeys: [String])
        let prepared: TenantSettings
        let applied: TalosConfig
        do {
            merged = try TalosConfig.reloadable(current: current, next: try source.load().config.sourceValues)
            applied = source.adjust(merged.config)
            try applied.validateForServing()
            try applied.validateSigningKeys(crypto: crypto)
            prepared = try TenantSettings(config: applied, crypto: crypto)
        } catch {
            logger.error(
                "configuration reload rejected; keeping the previous configuration",
                metadata: ["error": "\(error)"]
            )
            return current
        }
        for key in merged.ignoredKeys {
            logger.warning(
                "configuration change needs a restart; keeping the running value",
                metadata: ["key": "\(key)"]
            )
        }
        settings.replace(with: prepared)
        httpSettings.replace(with: HTTPSettings(config: applied))
        logger.info("configuration reloaded", metadata: ["trigger": "\(trigger)"])
        return merged.config.sourceValues
    }

    private static func modificationTime(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}

extension ConfigReloadSource: RedactedDescription {}
extension ConfigReloadService: RedactedDescription {}
