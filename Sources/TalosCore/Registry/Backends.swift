public import Logging
public import ServiceLifecycle
import Synchronization

/// What a storage backend factory hands back: the storage, its migrator and the long-running work it needs.
public struct StorageHandle: Sendable {
    /// The opened storage; usable only while `services` run (some backends need their pools or listeners).
    public let storage: any KeyStorage
    /// The migrator for the same database.
    public let migrator: any SchemaMigrator
    /// Whether `serve` applies pending migrations by itself (embedded, single-node databases).
    public let migratesAutomatically: Bool
    /// Background work (connection pools, listeners) the host runs for the storage's lifetime.
    public let services: [any Service]
    /// Releases connections; called once when the host stops.
    public let shutdown: @Sendable () async -> Void
    /// Invalidations committed by other nodes (multi-node backends); `nil` when every writer is this process.
    public let invalidationFeed: (any InvalidationFeed)?
    /// A cluster-wide, exact rate limiter kept in the database (`rate_limit.backend = postgres`); `nil` when the
    /// backend has none.
    public let rateLimiter: (any RateLimiter)?

    /// A handle whose `shutdown` releases what `open` acquired; defaults suit a backend with no background work.
    public init(
        storage: any KeyStorage,
        migrator: any SchemaMigrator,
        migratesAutomatically: Bool,
        services: [any Service] = [],
        invalidationFeed: (any InvalidationFeed)? = nil,
        rateLimiter: (any RateLimiter)? = nil,
        shutdown: @escaping @Sendable () async -> Void = {}
    ) {
        self.invalidationFeed = invalidationFeed
        self.rateLimiter = rateLimiter
        self.storage = storage
        self.migrator = migrator
        self.migratesAutomatically = migratesAutomatically
        self.services = services
        self.shutdown = shutdown
    }
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

    /// A backend named `name` serving `schemes` (lowercase, without `://`), opened by `open`.
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

    /// A crypto backend selected by `crypto.backend` = `name`, created by `make`.
    public init(name: String, make: @escaping @Sendable () throws -> any CryptoBackend) {
        self.name = name
        self.make = make
    }
}

/// The backends a host can choose from, fixed at compile time by the composition root.
public struct BackendRegistry: Sendable {
    /// Storage backends; the first one listing a DSN's scheme serves it.
    public let storage: [StorageBackend]
    /// Crypto backends, selected by exact name.
    public let crypto: [CryptoProvider]

    /// A registry offering exactly these backends; a host can select no other.
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
    /// Runs `body` while the storage's services run in a `ServiceGroup` (for work outside `talos serve`, such as
    /// migrations and tests), then shuts the group down gracefully and releases the storage.
    public func withServices<T: Sendable>(
        logger: Logger = Logger(label: "talos.storage"),
        _ body: @escaping @Sendable (StorageHandle) async throws -> T
    ) async throws -> T {
        let work = OneShot(handle: self, body: body)
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            logger: logger
        )
        configuration.services.append(.init(service: work, successTerminationBehavior: .gracefullyShutdownGroup))
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            await shutdown()
            throw work.failure ?? error
        }
        await shutdown()
        if let failure = work.failure { throw failure }
        return try work.result()
    }
}

/// `withServices`' body as a service that ends the group when it returns.
private final class OneShot<T: Sendable>: Service, Sendable {
    private let handle: StorageHandle
    private let body: @Sendable (StorageHandle) async throws -> T
    private let outcome = Mutex<Result<T, any Error>?>(nil)

    init(handle: StorageHandle, body: @escaping @Sendable (StorageHandle) async throws -> T) {
        self.handle = handle
        self.body = body
    }

    func run() async throws {
        do {
            let value = try await body(handle)
            outcome.withLock { $0 = .success(value) }
        } catch {
            outcome.withLock { $0 = .failure(error) }
        }
    }

    var failure: (any Error)? {
        outcome.withLock { if case .failure(let error)? = $0 { error } else { nil } }
    }

    func result() throws -> T {
        guard case .success(let value)? = outcome.withLock({ $0 }) else {
            throw StorageError.other("storage work ended without a result")
        }
        return value
    }
}

extension StorageHandle: RedactedDescription {}
