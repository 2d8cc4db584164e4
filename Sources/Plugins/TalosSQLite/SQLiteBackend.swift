internal import GRDB
import Logging
public import TalosCore

extension StorageBackend {
    /// SQLite through GRDB: `sqlite://<path>` (WAL, one writer) or `sqlite://:memory:`.
    public static let sqlite = StorageBackend(name: "sqlite", schemes: ["sqlite", "sqlite3"]) { dsn, logger in
        let storage = try SQLiteKeyStorage(dsn: dsn, logger: logger)
        return StorageHandle(
            storage: storage,
            migrator: MigrationRunner(SQLiteMigrationDialect(writer: storage.writer)),
            migratesAutomatically: true,
            shutdown: { try? storage.writer.close() }
        )
    }
}

enum SQLiteDSN {
    /// The path of `sqlite://path` / `sqlite3://path`, without query parameters.
    static func path(_ dsn: String) throws(ConfigError) -> String {
        guard let range = dsn.firstRange(of: "://") else { throw ConfigError("db.dsn: expected sqlite://<path>") }
        var path = String(dsn[range.upperBound...])
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        guard !path.isEmpty else { throw ConfigError("db.dsn: sqlite DSN needs a path, e.g. sqlite://./talos.db") }
        return path
    }
}

/// Translates GRDB/SQLite errors into `StorageError`.
func translate(_ error: any Error) -> any Error {
    guard let error = error as? DatabaseError else { return error }
    switch error.resultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED: return StorageError.timeout("sqlite: \(error.message ?? "database is busy")")
    case .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_NOTADB, .SQLITE_CORRUPT:
        return StorageError.unavailable("sqlite: \(error.message ?? "\(error.resultCode)")")
    case .SQLITE_CONSTRAINT:
        // Only a unique violation is a duplicate, as on PostgreSQL (spec §15.7); the request_id index is the
        // idempotency token's.
        guard
            error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        else { return StorageError.other("sqlite: \(error.message ?? "constraint violation")") }
        if error.message?.contains("api_keys.request_id") == true { return StorageError.duplicateRequestID() }
        return StorageError.duplicate("sqlite: \(error.message ?? "unique violation")")
    default: return StorageError.other("sqlite: \(error.message ?? "\(error.resultCode)")")
    }
}
