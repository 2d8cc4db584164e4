import PostgresNIO
import TalosCore

/// The Postgres schema, oldest first: the same versions and names as the SQLite set, in Postgres SQL.
let postgresMigrations: [Migration] = [
    Migration(
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
    Migration(
        version: 2,
        name: "api_keys_indexes",
        up: [
            "CREATE UNIQUE INDEX api_keys_request_id ON api_keys (nid, kind, request_id) WHERE request_id IS NOT NULL",
            "CREATE INDEX api_keys_actor ON api_keys (nid, kind, actor_id, key_id)",
            "CREATE INDEX api_keys_status ON api_keys (nid, status, expire_time)",
        ],
        down: ["DROP INDEX api_keys_status", "DROP INDEX api_keys_actor", "DROP INDEX api_keys_request_id"]
    ),
    Migration(
        version: 3,
        name: "rate_limit_counters",
        up: [
            """
            CREATE TABLE rate_limit_counters (
                nid TEXT NOT NULL,
                key_id TEXT COLLATE "C" NOT NULL,
                window_start BIGINT NOT NULL,
                window_end BIGINT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (nid, key_id, window_start)
            )
            """,
            "CREATE INDEX rate_limit_counters_window_end ON rate_limit_counters (window_end)",
        ],
        down: ["DROP TABLE rate_limit_counters"]
    ),
    Migration(
        version: 4,
        name: "admin_keys",
        // NOT VALID: the new check only widens the one it replaces, which every row already met, so no scan of a
        // large table under the exclusive lock; new rows are checked as always.
        up: [
            "ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_check",
            """
            ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind_check CHECK (kind IN ('issued', 'imported', 'admin')) \
            NOT VALID
            """,
        ],
        down: [
            "DELETE FROM api_keys WHERE kind = 'admin'",
            "ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind_check",
            "ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind_check CHECK (kind IN ('issued', 'imported'))",
        ]
    ),
    Migration(
        version: 5,
        name: "key_usage",
        up: [
            """
            CREATE TABLE key_usage (
                nid TEXT NOT NULL,
                key_id TEXT COLLATE "C" NOT NULL,
                hour BIGINT NOT NULL,
                outcome TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (nid, key_id, hour, outcome)
            )
            """,
            "CREATE INDEX key_usage_actor ON key_usage (nid, actor_id, hour)",
            "CREATE INDEX key_usage_hour ON key_usage (hour)",
        ],
        down: ["DROP TABLE key_usage"]
    ),
    Migration(
        version: 6,
        name: "rate_limit_gcra",
        // GCRA keeps one instant per key instead of a counter per window; the old counters are only current-window
        // state, so dropping them loses at most one window of counting. No index on `tat`: every verification
        // changes it, and an indexed column would cost each update its heap-only (HOT) path; the sweeper's scan
        // every 30 s reads one row per recently limited key.
        up: [
            """
            CREATE TABLE rate_limit_tat (
                nid TEXT NOT NULL,
                key_id TEXT COLLATE "C" NOT NULL,
                tat BIGINT NOT NULL,
                admitted BOOLEAN NOT NULL,
                PRIMARY KEY (nid, key_id)
            )
            """,
            "DROP TABLE rate_limit_counters",
        ],
        down: [
            """
            CREATE TABLE rate_limit_counters (
                nid TEXT NOT NULL,
                key_id TEXT COLLATE "C" NOT NULL,
                window_start BIGINT NOT NULL,
                window_end BIGINT NOT NULL,
                count BIGINT NOT NULL,
                PRIMARY KEY (nid, key_id, window_start)
            )
            """,
            "CREATE INDEX rate_limit_counters_window_end ON rate_limit_counters (window_end)",
            "DROP TABLE rate_limit_tat",
        ]
    ),
]

/// PostgreSQL's part of the migration protocol: a session advisory lock on one connection, so replicas that start
/// together with `--migrate` apply each migration exactly once; DDL is transactional, so a migration and its clean
/// state commit together.
struct PostgresMigrationDialect: MigrationDialect {
    typealias Session = PostgresConnection

    let database: PostgresDatabase
    var migrations: [Migration] = postgresMigrations

    /// Any fixed 64-bit key private to Talos.
    static let lockKey: Int64 = 0x7461_6C6F_735F_6D67

    func withMigrationLock<T: Sendable>(
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

    func state(_ connection: PostgresConnection) async throws -> (version: Int, dirty: Bool) {
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)",
            logger: connection.logger
        )
        let rows = try await connection.query(
            "SELECT version, dirty FROM schema_migrations LIMIT 1",
            logger: connection.logger
        )
        for try await (version, dirty) in rows.decode((Int64, Bool).self) { return (Int(version), dirty) }
        return (0, false)
    }

    func record(_ connection: PostgresConnection, version: Int, dirty: Bool) async throws {
        try await connection.query("DELETE FROM schema_migrations", logger: connection.logger)
        try await connection.query(
            "INSERT INTO schema_migrations (version, dirty) VALUES (\(Int64(version)), \(dirty))",
            logger: connection.logger
        )
    }

    func apply(_ connection: PostgresConnection, statements: [String], recording version: Int) async throws {
        do {
            try await connection.withTransaction(logger: connection.logger) { connection in
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connection.logger)
                }
                try await record(connection, version: version, dirty: false)
            }
        } catch {
            throw PostgresDatabase.translate(error)
        }
    }
}
