internal import GRDB
import TalosCore

/// The SQLite schema, oldest first. Never edit a released migration; append a new one.
let sqliteMigrations: [Migration] = [
    Migration(
        version: 1,
        name: "create_api_keys",
        up: [
            """
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
            """
        ],
        down: ["DROP TABLE api_keys;"]
    ),
    Migration(
        version: 2,
        name: "api_keys_indexes",
        up: [
            """
            CREATE UNIQUE INDEX api_keys_request_id ON api_keys (nid, kind, request_id) WHERE request_id IS NOT NULL;
            CREATE INDEX api_keys_actor ON api_keys (nid, kind, actor_id, key_id);
            CREATE INDEX api_keys_status ON api_keys (nid, status, expire_time);
            """
        ],
        down: [
            """
            DROP INDEX api_keys_status;
            DROP INDEX api_keys_actor;
            DROP INDEX api_keys_request_id;
            """
        ]
    ),
    Migration(
        version: 3,
        name: "rate_limit_counters",
        up: [
            """
            CREATE TABLE rate_limit_counters (
                nid TEXT NOT NULL,
                key_id TEXT NOT NULL,
                window_start INTEGER NOT NULL,
                window_end INTEGER NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (nid, key_id, window_start)
            ) WITHOUT ROWID;
            CREATE INDEX rate_limit_counters_window_end ON rate_limit_counters (window_end);
            """
        ],
        down: ["DROP TABLE rate_limit_counters;"]
    ),
    Migration(
        version: 4,
        name: "admin_keys",
        up: [rebuildAPIKeys(kinds: "'issued', 'imported', 'admin'")],
        down: ["DELETE FROM api_keys WHERE kind = 'admin';", rebuildAPIKeys(kinds: "'issued', 'imported'")]
    ),
    Migration(
        version: 5,
        name: "key_usage",
        up: [
            """
            CREATE TABLE key_usage (
                nid TEXT NOT NULL,
                key_id TEXT NOT NULL,
                hour INTEGER NOT NULL,
                outcome TEXT NOT NULL,
                actor_id TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (nid, key_id, hour, outcome)
            ) WITHOUT ROWID;
            CREATE INDEX key_usage_actor ON key_usage (nid, actor_id, hour);
            CREATE INDEX key_usage_hour ON key_usage (hour);
            """
        ],
        down: ["DROP TABLE key_usage;"]
    ),
    Migration(
        version: 6,
        name: "rate_limit_gcra",
        // The schema stays the same on both backends (SQLite has no cluster-wide limiter; the table is unused here).
        up: [
            """
            CREATE TABLE rate_limit_tat (
                nid TEXT NOT NULL,
                key_id TEXT NOT NULL,
                tat INTEGER NOT NULL,
                admitted INTEGER NOT NULL,
                PRIMARY KEY (nid, key_id)
            ) WITHOUT ROWID;
            DROP TABLE rate_limit_counters;
            """
        ],
        down: [
            """
            CREATE TABLE rate_limit_counters (
                nid TEXT NOT NULL,
                key_id TEXT NOT NULL,
                window_start INTEGER NOT NULL,
                window_end INTEGER NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (nid, key_id, window_start)
            ) WITHOUT ROWID;
            CREATE INDEX rate_limit_counters_window_end ON rate_limit_counters (window_end);
            DROP TABLE rate_limit_tat;
            """
        ]
    ),
]

/// SQLite cannot alter a CHECK constraint: the table is rebuilt with the allowed `kinds` and its indexes recreated
/// (the columns and indexes of migrations 1 and 2).
private func rebuildAPIKeys(kinds: String) -> String {
    // Written out, not `KeyRow.columns`: a released migration must not change when a later one adds a column.
    let columns = """
        nid, kind, key_id, name, actor_id, scopes, status, create_time, update_time, expire_time, last_used_time, \
        metadata, rate_limit_quota, rate_limit_window, allowed_cidrs, revocation_reason, revocation_description, \
        visibility, request_id
        """
    return """
        CREATE TABLE api_keys_rebuilt (
            nid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN (\(kinds))),
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
        INSERT INTO api_keys_rebuilt (\(columns)) SELECT \(columns) FROM api_keys;
        DROP TABLE api_keys;
        ALTER TABLE api_keys_rebuilt RENAME TO api_keys;
        CREATE UNIQUE INDEX api_keys_request_id ON api_keys (nid, kind, request_id) WHERE request_id IS NOT NULL;
        CREATE INDEX api_keys_actor ON api_keys (nid, kind, actor_id, key_id);
        CREATE INDEX api_keys_status ON api_keys (nid, status, expire_time);
        """
}

/// SQLite's part of the migration protocol: the single writer is the lock; `schema_migrations(version, dirty)` holds
/// the golang-migrate–compatible state (one row).
struct SQLiteMigrationDialect: MigrationDialect {
    typealias Session = SQLiteMigrationDialect

    let writer: any DatabaseWriter
    var migrations: [Migration] = sqliteMigrations

    func withMigrationLock<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        try await body(self)
    }

    func state(_ session: Session) async throws -> (version: Int, dirty: Bool) {
        try await write { db in try Self.state(db) }
    }

    func record(_ session: Session, version: Int, dirty: Bool) async throws {
        try await write { db in try Self.record(db, version: version, dirty: dirty) }
    }

    func apply(_ session: Session, statements: [String], recording version: Int) async throws {
        try await write { db in
            for statement in statements { try db.execute(sql: statement) }
            try Self.record(db, version: version, dirty: false)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw translate(error)
        }
    }

    private static func state(_ db: Database) throws -> (version: Int, dirty: Bool) {
        try db.execute(
            sql: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, dirty INTEGER NOT NULL)"
        )
        guard let row = try Row.fetchOne(db, sql: "SELECT version, dirty FROM schema_migrations LIMIT 1") else {
            return (0, false)
        }
        return (row["version"], row["dirty"])
    }

    private static func record(_ db: Database, version: Int, dirty: Bool) throws {
        try db.execute(sql: "DELETE FROM schema_migrations")
        try db.execute(
            sql: "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)",
            arguments: [version, dirty]
        )
    }
}
