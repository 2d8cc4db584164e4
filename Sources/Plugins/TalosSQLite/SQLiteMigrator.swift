internal import GRDB
import TalosCore

/// One versioned schema change with its inverse.
struct SQLiteMigration: Sendable {
    let version: Int
    let name: String
    let up: String
    let down: String
}

/// The SQLite schema, oldest first. Never edit a released migration; append a new one.
let sqliteMigrations: [SQLiteMigration] = [
    SQLiteMigration(
        version: 1,
        name: "create_api_keys",
        up: """
            CREATE TABLE api_keys (
                nid TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('issued', 'imported')),
                key_id TEXT NOT NULL,
                name TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                scopes TEXT NOT NULL DEFAULT '[]',
                status INTEGER NOT NULL,
                create_time INTEGER NOT NULL,
                update_time INTEGER NOT NULL,
                expire_time INTEGER,
                last_used_time INTEGER,
                metadata TEXT NOT NULL DEFAULT '{}',
                rate_limit_quota INTEGER,
                rate_limit_window INTEGER,
                allowed_cidrs TEXT NOT NULL DEFAULT '[]',
                revocation_reason INTEGER,
                revocation_description TEXT,
                visibility INTEGER NOT NULL,
                request_id TEXT,
                PRIMARY KEY (nid, kind, key_id)
            ) WITHOUT ROWID;
            """,
        down: "DROP TABLE api_keys;"
    ),
    SQLiteMigration(
        version: 2,
        name: "api_keys_indexes",
        up: """
            CREATE UNIQUE INDEX api_keys_request_id ON api_keys (nid, kind, request_id) WHERE request_id IS NOT NULL;
            CREATE INDEX api_keys_actor ON api_keys (nid, kind, actor_id, key_id);
            CREATE INDEX api_keys_status ON api_keys (nid, status, expire_time);
            """,
        down: """
            DROP INDEX api_keys_status;
            DROP INDEX api_keys_actor;
            DROP INDEX api_keys_request_id;
            """
    ),
]

/// golang-migrate–compatible bookkeeping in `schema_migrations(version, dirty)` (one row).
struct SQLiteMigrator: SchemaMigrator {
    let writer: any DatabaseWriter
    var migrations: [SQLiteMigration] = sqliteMigrations

    private func state(_ db: Database) throws -> (version: Int, dirty: Bool) {
        try db.execute(
            sql: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, dirty INTEGER NOT NULL)"
        )
        guard let row = try Row.fetchOne(db, sql: "SELECT version, dirty FROM schema_migrations LIMIT 1") else {
            return (0, false)
        }
        return (row["version"], row["dirty"])
    }

    private func record(_ db: Database, version: Int, dirty: Bool) throws {
        try db.execute(sql: "DELETE FROM schema_migrations")
        try db.execute(
            sql: "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
            arguments: [version, dirty]
        )
    }

    func status() async throws -> MigrationStatus {
        do {
            let (version, dirty) = try await writer.write { db in try state(db) }
            return MigrationStatus(
                entries: migrations.map { .init(version: $0.version, name: $0.name, applied: $0.version <= version) },
                currentVersion: version,
                dirty: dirty
            )
        } catch {
            throw translate(error)
        }
    }

    func up(steps: Int?) async throws -> [Int] {
        var applied: [Int] = []
        for migration in migrations {
            if let steps, applied.count >= steps { break }
            let ran = try await run(
                migration,
                sql: migration.up,
                expecting: migration.version - 1,
                to: migration.version
            )
            if ran { applied.append(migration.version) }
        }
        return applied
    }

    func down(steps: Int) async throws -> [Int] {
        var reverted: [Int] = []
        for migration in migrations.reversed() where reverted.count < steps {
            let ran = try await run(
                migration,
                sql: migration.down,
                expecting: migration.version,
                to: migration.version - 1
            )
            if ran { reverted.append(migration.version) }
        }
        return reverted
    }

    /// Runs one migration when the recorded version is `expected`: marks the state dirty, then applies the SQL and
    /// the new version in one transaction. A failure leaves the dirty mark behind (spec §10.2).
    private func run(
        _ migration: SQLiteMigration,
        sql: String,
        expecting expected: Int,
        to target: Int
    ) async throws -> Bool {
        do {
            let (version, dirty) = try await writer.write { db in try state(db) }
            if dirty {
                throw StorageError.migration(
                    "database is dirty at version \(version); fix it and run \"talos migrate force VERSION\""
                )
            }
            guard version == expected else { return false }
            try await writer.write { db in try record(db, version: target, dirty: true) }
            do {
                try await writer.write { db in
                    try db.execute(sql: sql)
                    try record(db, version: target, dirty: false)
                }
            } catch {
                throw StorageError.migration(
                    "migration \(migration.version) \(migration.name) failed: \(translate(error))"
                )
            }
            return true
        } catch let error as StorageError {
            throw error
        } catch {
            throw translate(error)
        }
    }

    func force(version: Int) async throws {
        do {
            try await writer.write { db in
                _ = try state(db)
                try record(db, version: version, dirty: false)
            }
        } catch {
            throw translate(error)
        }
    }
}
