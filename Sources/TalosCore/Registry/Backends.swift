public import Logging

/// What a storage backend factory hands back: the storage, its migrator and the long-running work it needs.
public struct StorageHandle: Sendable {
    public let storage: any KeyStorage
    public let migrator: any SchemaMigrator
    /// Whether `serve` applies pending migrations by itself (embedded, single-node databases).
    public let migratesAutomatically: Bool
    /// Background work (connection pools, listeners) the host runs for the storage's lifetime.
    public let services: [any BackgroundService]
    /// Releases connections; called once when the host stops.
    public let shutdown: @Sendable () async -> Void

    public init(
        storage: any KeyStorage,
        migrator: any SchemaMigrator,
        migratesAutomatically: Bool,
        services: [any BackgroundService] = [],
        shutdown: @escaping @Sendable () async -> Void = {}
    ) {
        self.storage = storage
        self.migrator = migrator
        self.migratesAutomatically = migratesAutomatically
        self.services = services
        self.shutdown = shutdown
    }
}

/// A long-running task owned by a backend; the host runs it in its service group until shutdown.
///
/// Mirrors swift-service-lifecycle's `Service` without making the core depend on it: `run` returns when the task is
/// cancelled (graceful shutdown) or throws when it fails.
public protocol BackgroundService: Sendable {
    func run() async throws
}

/// A storage backend: a name, the DSN schemes it serves and a factory. Register one with `BackendRegistry`.
public struct StorageBackend: Sendable {
    /// Configuration name, e.g. `sqlite`.
    public let name: String
    /// DSN schemes this backend serves, e.g. `["sqlite", "sqlite3"]`.
    public let schemes: [String]
    /// Opens the database at `dsn` (creating a file-based one where that is the backend's convention).
    /// - Throws: `ConfigError` for a malformed DSN, `StorageError` when the database cannot be opened.
    public let open: @Sendable (_ dsn: String, _ logger: Logger) async throws -> StorageHandle

    public init(
        name: String,
        schemes: [String],
        open: @escaping @Sendable (_ dsn: String, _ logger: Logger) async throws -> StorageHandle
    ) {
        self.name = name
        self.schemes = schemes
        self.open = open
    }
}

/// A crypto backend: a `crypto.backend` name and a factory.
public struct CryptoProvider: Sendable {
    /// Configuration name, e.g. `openssl`.
    public let name: String
    /// Creates the backend. - Throws: `CryptoError` when the library cannot be initialised.
    public let make: @Sendable () throws -> any CryptoBackend

    public init(name: String, make: @escaping @Sendable () throws -> any CryptoBackend) {
        self.name = name
        self.make = make
    }
}

/// The backends a host can choose from, fixed at compile time by the composition root.
public struct BackendRegistry: Sendable {
    public let storage: [StorageBackend]
    public let crypto: [CryptoProvider]

    public init(storage: [StorageBackend], crypto: [CryptoProvider]) {
        self.storage = storage
        self.crypto = crypto
    }

    /// The storage backend serving the DSN's scheme.
    /// - Throws: `ConfigError` naming the known schemes when none matches.
    public func storageBackend(forDSN dsn: String) throws(ConfigError) -> StorageBackend {
        let scheme = dsn.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard dsn.contains("://"), let backend = storage.first(where: { $0.schemes.contains(scheme) }) else {
            let known = storage.flatMap(\.schemes).map { "\($0)://" }.joined(separator: ", ")
            throw ConfigError("db.dsn: unsupported database scheme \"\(scheme)\" (known: \(known))")
        }
        return backend
    }

    /// The crypto backend with that name.
    /// - Throws: `ConfigError` naming the known backends when none matches.
    public func cryptoProvider(named name: String) throws(ConfigError) -> CryptoProvider {
        guard let provider = crypto.first(where: { $0.name == name }) else {
            let known = crypto.map(\.name).joined(separator: ", ")
            throw ConfigError("crypto.backend: unknown crypto backend \"\(name)\" (known: \(known))")
        }
        return provider
    }
}

extension StorageHandle {
    /// Runs `body` while the storage's background services run (for commands outside a service group, such as
    /// migrations and tests), then stops them and releases the storage.
    public func withServices<T: Sendable>(_ body: @Sendable (StorageHandle) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            do {
                let result = try await body(self)
                group.cancelAll()
                await shutdown()
                return result
            } catch {
                group.cancelAll()
                await shutdown()
                throw error
            }
        }
    }
}
