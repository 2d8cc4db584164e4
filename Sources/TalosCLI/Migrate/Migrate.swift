import ArgumentParser
import Logging
import TalosCore
import TalosPlugins

/// `talos migrate up|down|status|force` (spec §10.2).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply, revert and inspect schema migrations.",
        subcommands: [MigrateUp.self, MigrateDown.self, MigrateStatus.self, MigrateForce.self]
    )
}

/// Flags shared by the migrate commands.
struct MigrateOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "JSON configuration file.")
    var config: String?

    @Option(help: "Database DSN (overrides DB_DSN, DSN and the configuration).")
    var database: String?

    /// `--database` > `DB_DSN` > `DSN` > `configured` (the configuration's, read only when needed).
    func dsn(orConfigured configured: () throws -> String) rethrows -> String {
        let environment = processEnvironment()
        return try database ?? environment["DB_DSN"] ?? environment["DSN"] ?? configured()
    }

    /// Opens the storage named by `--database` > `DB_DSN` > `DSN` > configuration.
    func open() async throws -> StorageHandle {
        let dsn: String
        do {
            dsn = try self.dsn { try loadConfig(path: config).config.databaseDSN }
        } catch let error as ConfigError {
            throw CommandFailure.failed("Error: \(error)")
        }
        return try await Self.open(dsn: dsn)
    }

    /// Opens the storage of `dsn`; an unknown scheme or an unreachable database exits 1.
    static func open(dsn: String) async throws -> StorageHandle {
        do {
            let backend = try BackendRegistry.builtIn.storageBackend(forDSN: dsn)
            return try await backend.open(dsn, Logger(label: "talos.migrate"))
        } catch let error as ConfigError {
            throw CommandFailure.failed("Error: \(error)")
        } catch let error as StorageError {
            throw CommandFailure.failed("Error: \(error.detail)")
        }
    }

    /// Runs `body` on the migrator, translating storage failures into exit 1.
    func withMigrator(_ body: @escaping @Sendable (any SchemaMigrator) async throws -> Void) async throws {
        let handle = try await open()
        do {
            try await handle.withServices { handle in try await body(handle.migrator) }
        } catch let error as StorageError {
            throw CommandFailure.failed("Error: \(error.detail)")
        }
    }
}
