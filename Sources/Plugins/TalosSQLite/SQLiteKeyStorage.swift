internal import GRDB
import Logging
import TalosCore

/// `KeyStorage` on a SQLite file: WAL mode, one writer connection, readers in parallel.
final class SQLiteKeyStorage: KeyStorage {
    let writer: any DatabaseWriter
    private let logger: Logger

    init(dsn: String, logger: Logger) throws {
        let path = try SQLiteDSN.path(dsn)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "talos"
        do {
            writer =
                path == ":memory:"
                ? try DatabaseQueue(configuration: configuration)
                : try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw translate(error)
        }
        self.logger = logger
    }

    private static let columns = KeyRow.columns

    /// Reads run synchronously on the calling thread: in WAL mode a reader never waits for the writer and an indexed
    /// point read takes microseconds, while hopping to GRDB's reader queues and back cost more than the query.
    /// Every read here is one SELECT, which SQLite runs in its own implicit read transaction (one consistent
    /// snapshot), so GRDB's explicit BEGIN/COMMIT around it is skipped (`unsafeRead`).
    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.unsafeRead(body) } catch { throw translate(error) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.write(body) } catch let error as DatabaseError { throw translate(error) }
    }

    func insert(_ key: APIKey) async throws -> InsertOutcome {
        try await insertOrReplay(key) { try await write { db in try Self.insert(key, db) } }
    }

    func insertSkippingExisting(_ keys: [APIKey]) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return try await write { db in
            var inserted = Set<String>()
            let statement = try db.cachedStatement(
                sql:
                    "INSERT OR IGNORE INTO api_keys (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            for key in keys {
                try statement.execute(arguments: StatementArguments(Self.row(key)))
                if db.changesCount > 0 { inserted.insert(key.keyID) }
            }
            return inserted
        }
    }

    private static func insert(_ key: APIKey, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO api_keys (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: StatementArguments(row(key))
        )
    }

    private static func row(_ key: APIKey) -> [(any DatabaseValueConvertible)?] {
        let row = KeyRow(key)
        return [
            row.nid, row.kind, row.keyID, row.name, row.actorID, row.scopes, row.status, row.createTime, row.updateTime,
            row.expireTime, row.lastUsedTime, row.metadata, row.rateLimitQuota, row.rateLimitWindow, row.allowedCIDRs,
            row.revocationReason, row.revocationDescription, row.visibility, row.requestID,
        ]
    }

    private static func update(_ key: APIKey, _ db: Database) throws {
        let values = row(key)
        try db.execute(
            sql: """
                UPDATE api_keys SET name = ?, actor_id = ?, scopes = ?, status = ?, create_time = ?, update_time = ?, \
                expire_time = ?, last_used_time = ?, metadata = ?, rate_limit_quota = ?, rate_limit_window = ?, \
                allowed_cidrs = ?, revocation_reason = ?, revocation_description = ?, visibility = ?, request_id = ? \
                WHERE nid = ? AND kind = ? AND key_id = ?
                """,
            arguments: StatementArguments(Array(values[3...]) + Array(values[0..<3]))
        )
    }

    /// Decodes a row selected with `columns`, by position (name lookups dominated the decode cost). A value of the
    /// wrong SQL type is a corrupt row, never a trap or a default (spec §15.7).
    private static func decode(_ row: Row) throws -> APIKey {
        func value<T: DatabaseValueConvertible>(_ index: Int) throws(StorageError) -> T {
            guard let value = T.fromDatabaseValue(row[index]) else {
                throw StorageError.corrupt("api_keys row: unreadable column \(index)")
            }
            return value
        }
        func optional<T: DatabaseValueConvertible>(_ index: Int) throws(StorageError) -> T? {
            let raw: DatabaseValue = row[index]
            return raw.isNull ? nil : try value(index) as T
        }
        return try KeyRow(
            nid: value(0),
            kind: value(1),
            keyID: value(2),
            name: value(3),
            actorID: value(4),
            scopes: value(5),
            status: value(6),
            createTime: value(7),
            updateTime: value(8),
            expireTime: optional(9),
            lastUsedTime: optional(10),
            metadata: value(11),
            rateLimitQuota: optional(12),
            rateLimitWindow: optional(13),
            allowedCIDRs: value(14),
            revocationReason: optional(15),
            revocationDescription: optional(16),
            visibility: value(17),
            requestID: optional(18)
        ).decode()
    }

    private static func fetchOne(_ db: Database, kind: KeyKind, nid: String, keyID: String) throws -> APIKey? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(columns) FROM api_keys WHERE nid = ? AND kind = ? AND key_id = ?"),
            arguments: [nid, kind.rawValue, keyID]
        ).map(decode)
    }

    func fetch(kind: KeyKind, nid: String, keyID: String) async throws -> APIKey? {
        try read { db in try Self.fetchOne(db, kind: kind, nid: nid, keyID: keyID) }
    }

    func fetch(kind: KeyKind, nid: String, requestID: String) async throws -> APIKey? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.columns) FROM api_keys WHERE nid = ? AND kind = ? AND request_id = ?",
                arguments: [nid, kind.rawValue, requestID]
            ).map(Self.decode)
        }
    }

    func fetch(kind: KeyKind, nid: String, keyIDs: [String]) async throws -> [APIKey] {
        guard !keyIDs.isEmpty else { return [] }
        if keyIDs.count == 1 {
            return try await fetch(kind: kind, nid: nid, keyID: keyIDs[0]).map { [$0] } ?? []
        }
        return try read { db in
            let placeholders = Array(repeating: "?", count: keyIDs.count).joined(separator: ", ")
            return try Row.fetchAll(
                db,
                sql: "SELECT \(Self.columns) FROM api_keys WHERE nid = ? AND kind = ? AND key_id IN (\(placeholders))",
                arguments: StatementArguments([nid, kind.rawValue] + keyIDs)
            ).map(Self.decode)
        }
    }

    func list(_ query: ListQuery) async throws -> [APIKey] {
        try read { db in
            var sql = "SELECT \(Self.columns) FROM api_keys WHERE nid = ? AND kind = ?"
            var arguments: [(any DatabaseValueConvertible)?] = [query.nid, query.kind.rawValue]
            if let actorID = query.actorID {
                sql += " AND actor_id = ?"
                arguments.append(actorID)
            }
            switch query.status {
            case .active?:
                sql += " AND status = ? AND (expire_time IS NULL OR expire_time > ?)"
                arguments += [KeyStatus.active.rawValue, query.now.microseconds]
            case .expired?:
                sql += " AND status = ? AND expire_time IS NOT NULL AND expire_time <= ?"
                arguments += [KeyStatus.active.rawValue, query.now.microseconds]
            case .revoked?:
                sql += " AND status = ?"
                arguments.append(KeyStatus.revoked.rawValue)
            default: break
            }
            if let after = query.after {
                sql += " AND key_id > ?"
                arguments.append(after)
            }
            sql += " ORDER BY key_id LIMIT ?"
            arguments.append(query.limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.decode)
        }
    }

    func modify(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> APIKey
    ) async throws -> APIKey? {
        try await withoutActuallyEscaping(transform) { transform in
            let transform = UncheckedSendable(transform)
            return try await write { db in
                guard let key = try Self.fetchOne(db, kind: kind, nid: nid, keyID: keyID) else { return nil }
                let updated = try transform.value(key)
                try Self.update(updated, db)
                return updated
            }
        }
    }

    func replace(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> Replacement
    ) async throws -> Replacement? {
        try await withoutActuallyEscaping(transform) { transform in
            let transform = UncheckedSendable(transform)
            return try await write { db in
                guard let key = try Self.fetchOne(db, kind: kind, nid: nid, keyID: keyID) else { return nil }
                let result = try transform.value(key)
                try Self.insert(result.replacement, db)
                try Self.update(result.retired, db)
                return result
            }
        }
    }

    func recordLastUsed(_ entries: [LastUsedEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE api_keys SET last_used_time = MAX(COALESCE(last_used_time, 0), ?) \
                    WHERE nid = ? AND kind = ? AND key_id = ?
                    """
            )
            for entry in entries {
                try statement.execute(arguments: [
                    entry.usedAt.microseconds, entry.nid, entry.kind.rawValue, entry.keyID,
                ])
            }
        }
    }

    func recordUsage(_ counts: [UsageCount]) async throws {
        guard !counts.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO key_usage (nid, key_id, hour, outcome, actor_id, count) VALUES (?, ?, ?, ?, ?, ?) \
                    ON CONFLICT (nid, key_id, hour, outcome) DO UPDATE SET count = count + excluded.count
                    """
            )
            for count in counts {
                try statement.execute(arguments: [
                    count.nid, count.keyID, count.hour, count.outcome, count.actorID, count.count,
                ])
            }
        }
    }

    func usage(_ query: UsageQuery) async throws -> [UsageTotal] {
        let (column, subject) =
            switch query.subject {
            case .key(let keyID): ("key_id", keyID)
            case .actor(let actorID): ("actor_id", actorID)
            }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT hour, outcome, SUM(count) FROM key_usage \
                    WHERE nid = ? AND \(column) = ? AND hour >= ? AND hour < ? GROUP BY hour, outcome
                    """,
                arguments: [query.nid, subject, query.fromHour, query.untilHour]
            ).map { row in UsageTotal(hour: row[0], outcome: row[1], count: row[2]) }
        }
    }

    func deleteUsage(before hour: Int64) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM key_usage WHERE hour < ?", arguments: [hour])
            return db.changesCount
        }
    }

    func delete(kind: KeyKind, nid: String, keyID: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM api_keys WHERE nid = ? AND kind = ? AND key_id = ?",
                arguments: [nid, kind.rawValue, keyID]
            )
            return db.changesCount > 0
        }
    }

    func countActive(nid: String, at now: Timestamp) async throws -> Int {
        try read { db in
            try Int.fetchOne(
                db,
                sql:
                    """
                    SELECT COUNT(*) FROM api_keys WHERE nid = ? AND status = ? AND kind <> 'admin' \
                    AND (expire_time IS NULL OR expire_time > ?)
                    """,
                arguments: [nid, KeyStatus.active.rawValue, now.microseconds]
            ) ?? 0
        }
    }

    func checkHealth() async throws {
        _ = try read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

/// Carries a non-escaping closure into GRDB's write block, which runs it before `write` returns.
struct UncheckedSendable<Value>: @unchecked Sendable {
    // @unchecked: the wrapped closure is @Sendable at the API boundary; the wrapper only exists because
    // withoutActuallyEscaping drops that annotation.
    let value: Value
    init(_ value: Value) { self.value = value }
}
