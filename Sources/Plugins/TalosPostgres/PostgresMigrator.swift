import PostgresNIO
import TalosCore

/// One versioned schema change with its inverse; each runs in its own transaction (Postgres DDL is transactional).
struct PostgresMigration: Sendable {
    let version: Int
    let name: String
    let up: [String]
    let down: [String]
}

/// The Postgres schema, oldest first: the same versions and names as the SQLite set, in Postgres SQL.
let postgresMigrations: [PostgresMigration] = [
    PostgresMigration(
        version: 1,
        name: "create_api_keys",
        up: [
            """
            CREATE TABLE api_keys (
                nid TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('issued', 'imported')),
                key_id TEXT COLLATE "C" NOT NULL,
                name TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                scopes TEXT NOT NULL DEFAULT '[]',
                status SMALLINT NOT NULL,
                create_time BIGINT NOT NULL,
                update_time BIGINT NOT NULL,
                expire_time BIGINT,
                last_used_time BIGINT,
                metadata TEXT NOT NULL DEFAULT '{}',
                rate_limit_quota BIGINT,
                rate_limit_window BIGINT,
                allowed_cidrs TEXT NOT NULL DEFAULT '[]',
                revocation_reason SMALLINT,
                revocation_description TEXT,
                visibility SMALLINT NOT NULL,
                request_id TEXT,
                PRIMARY KEY (nid, kind, key_id)
            )
            """
        ],
        down: ["DROP TABLE api_keys"]
    ),
    PostgresMigration(
        version: 2,
        name: "api_keys_indexes",
        up: [
            "CREATE UNIQUE INDEX api_keys_request_id ON api_keys (nid, kind, request_id) WHERE request_id IS NOT NULL",
            "CREATE INDEX api_keys_actor ON api_keys (nid, kind, actor_id, key_id)",
            "CREATE INDEX api_keys_status ON api_keys (nid, status, expire_time)",
        ],
        down: ["DROP INDEX api_keys_status", "DROP INDEX api_keys_actor", "DROP INDEX api_keys_request_id"]
    ),
]

/// golang-migrate–compatible `schema_migrations(version, dirty)`; every change holds a session advisory lock, so
/// replicas that start together with `--migrate` apply each migration exactly once.
struct PostgresMigrator: SchemaMigrator {
    let database: PostgresDatabase
    var migrations: [PostgresMigration] = postgresMigrations

    /// `hashtext('talos_schema_migrations')`-style constant: any fixed 64-bit key private to Talos.
    static let lockKey: Int64 = 0x7461_6C6F_735F_6D67

    private static func ensureTable(_ connection: PostgresConnection) async throws {
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)",
            logger: connection.logger
        )
    }

    private static func state(_ connection: PostgresConnection) async throws -> (version: Int, dirty: Bool) {
        try await ensureTable(connection)
        let rows = try await connection.query(
            "SELECT version, dirty FROM schema_migrations LIMIT 1",
            logger: connection.logger
        )
        for try await (version, dirty) in rows.decode((Int64, Bool).self) { return (Int(version), dirty) }
        return (0, false)
    }

    private static func record(_ connection: PostgresConnection, version: Int, dirty: Bool) async throws {
        try await connection.query("DELETE FROM schema_migrations", logger: connection.logger)
        try await connection.query(
            "INSERT INTO schema_migrations (version, dirty) VALUES (\(Int64(version)), \(dirty))",
            logger: connection.logger
        )
    }

    /// Runs `body` holding the migration lock on one connection.
    private func locked<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var database = self.database
        database.deadline = .seconds(300)
        return try await database.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: connection.logger)
            do {
                let result = try await body(connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: connection.logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: connection.logger)
                throw error
            }
        }
    }

    func status() async throws -> MigrationStatus {
        let migrations = self.migrations
        return try await database.withConnection { connection in
            let (version, dirty) = try await Self.state(connection)
            return MigrationStatus(
                entries: migrations.map { .init(version: $0.version, name: $0.name, applied: $0.version <= version) },
                currentVersion: version,
                dirty: dirty
            )
        }
    }

    func up(steps: Int?) async throws -> [Int] {
        let migrations = self.migrations
        return try await locked { connection in
            var applied: [Int] = []
            for migration in migrations {
                if let steps, applied.count >= steps { break }
                if try await Self.run(
                    migration,
                    migration.up,
                    connection,
                    expecting: migration.version - 1,
                    to: migration.version
                ) {
                    applied.append(migration.version)
                }
            }
            return applied
        }
    }

    func down(steps: Int) async throws -> [Int] {
        let migrations = self.migrations
        return try await locked { connection in
            var reverted: [Int] = []
            for migration in migrations.reversed() where reverted.count < steps {
                if try await Self.run(
                    migration,
                    migration.down,
                    connection,
                    expecting: migration.version,
                    to: migration.version - 1
                ) {
                    reverted.append(migration.version)
                }
            }
            return reverted
        }
    }

    /// Applies one migration when the recorded version is `expected`: the dirty mark is committed first, then the
    /// statements and the clean new version commit together. A failure leaves the dirty mark (spec §10.2).
    private static func run(
        _ migration: PostgresMigration,
        _ statements: [String],
        _ connection: PostgresConnection,
        expecting expected: Int,
        to target: Int
    ) async throws -> Bool {
        let (version, dirty) = try await state(connection)
        if dirty {
            throw StorageError.migration(
                "database is dirty at version \(version); fix it and run \"talos migrate force VERSION\""
            )
        }
        guard version == expected else { return false }
        try await record(connection, version: target, dirty: true)
        do {
            try await connection.withTransaction(logger: connection.logger) { connection in
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connection.logger)
                }
                try await record(connection, version: target, dirty: false)
            }
        } catch {
            throw StorageError.migration(
                "migration \(migration.version) \(migration.name) failed: \(PostgresDatabase.translate(error))"
            )
        }
        return true
    }

    func force(version: Int) async throws {
        try await locked { connection in
            _ = try await Self.state(connection)
            try await Self.record(connection, version: version, dirty: false)
        }
    }
}
