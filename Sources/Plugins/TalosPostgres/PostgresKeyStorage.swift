import PostgresNIO
import TalosCore

/// `KeyStorage` on PostgreSQL. Rows mirror the SQLite schema; every value is a bound parameter.
struct PostgresKeyStorage: KeyStorage {
    let database: PostgresDatabase

    static let columns = KeyRow.columns

    static func bindings(_ key: APIKey) throws -> PostgresBindings {
        let row = KeyRow(key)
        var binds = PostgresBindings(capacity: KeyRow.columnCount)
        binds.append(row.nid)
        binds.append(row.kind)
        binds.append(row.keyID)
        binds.append(row.name)
        binds.append(row.actorID)
        binds.append(row.scopes)
        binds.append(Int16(row.status))
        binds.append(row.createTime)
        binds.append(row.updateTime)
        binds.append(row.expireTime)
        binds.append(row.lastUsedTime)
        binds.append(row.metadata)
        binds.append(row.rateLimitQuota)
        binds.append(row.rateLimitWindow)
        binds.append(row.allowedCIDRs)
        binds.append(row.revocationReason.map { Int16($0) })
        binds.append(row.revocationDescription)
        binds.append(Int16(row.visibility))
        binds.append(row.requestID)
        return binds
    }

    static let insertSQL =
        "INSERT INTO api_keys (\(columns)) VALUES (" + (1...19).map { "$\($0)" }.joined(separator: ", ") + ")"

    static let updateSQL = """
        UPDATE api_keys SET name = $4, actor_id = $5, scopes = $6, status = $7, create_time = $8, update_time = $9, \
        expire_time = $10, last_used_time = $11, metadata = $12, rate_limit_quota = $13, rate_limit_window = $14, \
        allowed_cidrs = $15, revocation_reason = $16, revocation_description = $17, visibility = $18, request_id = $19 \
        WHERE nid = $1 AND kind = $2 AND key_id = $3
        """

    /// Decodes a row selected with `columns`; a value of the wrong SQL type is a corrupt row (spec §15.7).
    static func decode(_ row: PostgresRow) throws -> APIKey {
        let columns = row.makeRandomAccess()
        func value<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(StorageError) -> T {
            do {
                return try columns[index].decode(T.self)
            } catch {
                throw StorageError.corrupt("api_keys row: unreadable column \(index)")
            }
        }
        return try KeyRow(
            nid: value(0),
            kind: value(1),
            keyID: value(2),
            name: value(3),
            actorID: value(4),
            scopes: value(5),
            status: Int64(value(6, as: Int16.self)),
            createTime: value(7),
            updateTime: value(8),
            expireTime: value(9),
            lastUsedTime: value(10),
            metadata: value(11),
            rateLimitQuota: value(12),
            rateLimitWindow: value(13),
            allowedCIDRs: value(14),
            revocationReason: value(15, as: Int16?.self).map(Int64.init),
            revocationDescription: value(16),
            visibility: Int64(value(17, as: Int16.self)),
            requestID: value(18)
        ).decode()
    }

    static func keys(_ rows: PostgresRowSequence) async throws -> [APIKey] {
        var keys: [APIKey] = []
        for try await row in rows { keys.append(try decode(row)) }
        return keys
    }

    static func fetchOne(
        _ connection: PostgresConnection,
        kind: KeyKind,
        nid: String,
        keyID: String,
        lock: Bool
    )
        async throws -> APIKey?
    {
        var binds = PostgresBindings(capacity: 3)
        binds.append(nid)
        binds.append(kind.rawValue)
        binds.append(keyID)
        let sql =
            "SELECT \(columns) FROM api_keys WHERE nid = $1 AND kind = $2 AND key_id = $3" + (lock ? " FOR UPDATE" : "")
        return try await keys(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: connection.logger))
            .first
    }

    func insert(_ key: APIKey) async throws -> InsertOutcome {
        let binds = try Self.bindings(key)
        return try await insertOrReplay(key) {
            try await database.withConnection { connection in
                _ = try await connection.query(
                    PostgresQuery(unsafeSQL: Self.insertSQL, binds: binds),
                    logger: connection.logger
                )
            }
        }
    }

    func insertSkippingExisting(_ keys: [APIKey]) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        // Sorted by key id so concurrent batches take row locks in one order (no deadlock).
        let statements = try keys.sorted { $0.keyID < $1.keyID }.map {
            PostgresQuery(
                unsafeSQL: Self.insertSQL + " ON CONFLICT (nid, kind, key_id) DO NOTHING RETURNING key_id",
                binds: try Self.bindings($0)
            )
        }
        return try await database.withTransaction { connection in
            var inserted = Set<String>()
            for statement in statements {
                for try await keyID in try await connection.query(statement, logger: connection.logger).decode(
                    String.self
                ) {
                    inserted.insert(keyID)
                }
            }
            return inserted
        }
    }

    /// The verification lookup, prepared once per connection: parsing and planning cost Postgres more than the
    /// lookup itself.
    struct FetchByID: PostgresPreparedStatement {
        static let sql =
            "SELECT \(PostgresKeyStorage.columns) FROM api_keys WHERE nid = $1 AND kind = $2 AND key_id = $3"
        let nid: String
        let kind: String
        let keyID: String

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings(capacity: 3)
            binds.append(nid)
            binds.append(kind)
            binds.append(keyID)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> APIKey { try PostgresKeyStorage.decode(row) }
    }

    /// Batch verification's lookup (`key_id = ANY($3)`), prepared once per connection.
    struct FetchByIDs: PostgresPreparedStatement {
        static let sql =
            "SELECT \(PostgresKeyStorage.columns) FROM api_keys WHERE nid = $1 AND kind = $2 AND key_id = ANY($3)"
        let nid: String
        let kind: String
        let keyIDs: [String]

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings(capacity: 3)
            binds.append(nid)
            binds.append(kind)
            binds.append(keyIDs)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> APIKey { try PostgresKeyStorage.decode(row) }
    }

    func fetch(kind: KeyKind, nid: String, keyID: String) async throws -> APIKey? {
        try await database.withConnection { connection in
            for try await key in try await connection.execute(
                FetchByID(nid: nid, kind: kind.rawValue, keyID: keyID),
                logger: connection.logger
            ) {
                return key
            }
            return nil
        }
    }

    func fetch(kind: KeyKind, nid: String, requestID: String) async throws -> APIKey? {
        try await database.withConnection { connection in
            try await Self.keys(
                connection.query(
                    "SELECT \(unescaped: Self.columns) FROM api_keys WHERE nid = \(nid) AND kind = \(kind.rawValue) AND request_id = \(requestID)",
                    logger: connection.logger
                )
            ).first
        }
    }

    func fetch(kind: KeyKind, nid: String, keyIDs: [String]) async throws -> [APIKey] {
        guard !keyIDs.isEmpty else { return [] }
        if keyIDs.count == 1 { return try await fetch(kind: kind, nid: nid, keyID: keyIDs[0]).map { [$0] } ?? [] }
        return try await database.withConnection { connection in
            var keys: [APIKey] = []
            for try await key in try await connection.execute(
                FetchByIDs(nid: nid, kind: kind.rawValue, keyIDs: keyIDs),
                logger: connection.logger
            ) {
                keys.append(key)
            }
            return keys
        }
    }

    func list(_ query: ListQuery) async throws -> [APIKey] {
        var sql = "SELECT \(Self.columns) FROM api_keys WHERE nid = $1 AND kind = $2"
        var binds = PostgresBindings()
        binds.append(query.nid)
        binds.append(query.kind.rawValue)
        func bind(_ value: some PostgresEncodable & Sendable) throws -> String {
            try binds.append(value, context: .default)
            return "$\(binds.count)"
        }
        if let actorID = query.actorID { sql += " AND actor_id = \(try bind(actorID))" }
        switch query.status {
        case .active?:
            sql +=
                " AND status = \(try bind(Int16(KeyStatus.active.rawValue))) AND (expire_time IS NULL OR expire_time > \(try bind(query.now.microseconds)))"
        case .expired?:
            sql +=
                " AND status = \(try bind(Int16(KeyStatus.active.rawValue))) AND expire_time <= \(try bind(query.now.microseconds))"
        case .revoked?:
            sql += " AND status = \(try bind(Int16(KeyStatus.revoked.rawValue)))"
        default: break
        }
        if let after = query.after { sql += " AND key_id > \(try bind(after))" }
        sql += " ORDER BY key_id LIMIT \(try bind(Int64(query.limit)))"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await database.withConnection { connection in
            try await Self.keys(connection.query(statement, logger: connection.logger))
        }
    }

    func modify(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> APIKey
    ) async throws -> APIKey? {
        try await withoutActuallyEscaping(transform) { transform in
            let transform = UnsafeTransfer(transform)
            return try await database.withTransaction { connection in
                guard let key = try await Self.fetchOne(connection, kind: kind, nid: nid, keyID: keyID, lock: true)
                else {
                    return nil
                }
                let updated = try transform.value(key)
                try await connection.query(
                    PostgresQuery(unsafeSQL: Self.updateSQL, binds: try Self.bindings(updated)),
                    logger: connection.logger
                )
                try await Self.notifyChanged(connection, nid: nid, keyID: keyID)
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
            let transform = UnsafeTransfer(transform)
            return try await database.withTransaction { connection in
                guard let key = try await Self.fetchOne(connection, kind: kind, nid: nid, keyID: keyID, lock: true)
                else {
                    return nil
                }
                let result = try transform.value(key)
                try await connection.query(
                    PostgresQuery(unsafeSQL: Self.insertSQL, binds: try Self.bindings(result.replacement)),
                    logger: connection.logger
                )
                try await connection.query(
                    PostgresQuery(unsafeSQL: Self.updateSQL, binds: try Self.bindings(result.retired)),
                    logger: connection.logger
                )
                try await Self.notifyChanged(connection, nid: nid, keyID: keyID)
                return result
            }
        }
    }

    func recordLastUsed(_ entries: [LastUsedEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await database.withTransaction { connection in
            for entry in entries {
                try await connection.query(
                    """
                    UPDATE api_keys SET last_used_time = GREATEST(COALESCE(last_used_time, 0), \(entry.usedAt.microseconds)) \
                    WHERE nid = \(entry.nid) AND kind = \(entry.kind.rawValue) AND key_id = \(entry.keyID)
                    """,
                    logger: connection.logger
                )
            }
        }
    }

    func recordUsage(_ counts: [UsageCount]) async throws {
        guard !counts.isEmpty else { return }
        // One statement over arrays; rows in primary-key order, so that replicas flushing the same rows lock them in
        // the same order (no deadlock).
        let sorted = counts.sorted { ($0.nid, $0.keyID, $0.hour, $0.outcome) < ($1.nid, $1.keyID, $1.hour, $1.outcome) }
        let (nids, keyIDs, hours) = (sorted.map(\.nid), sorted.map(\.keyID), sorted.map(\.hour))
        let (outcomes, actors, values) = (sorted.map(\.outcome), sorted.map(\.actorID), sorted.map(\.count))
        _ = try await database.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO key_usage (nid, key_id, hour, outcome, actor_id, count) \
                SELECT * FROM unnest(\(nids)::text[], \(keyIDs)::text[], \(hours)::bigint[], \(outcomes)::text[], \
                \(actors)::text[], \(values)::bigint[]) \
                ON CONFLICT (nid, key_id, hour, outcome) DO UPDATE SET count = key_usage.count + EXCLUDED.count
                """,
                logger: connection.logger
            )
        }
    }

    func usage(_ query: UsageQuery) async throws -> [UsageTotal] {
        try await database.withConnection { connection in
            let rows: PostgresRowSequence
            switch query.subject {
            case .key(let keyID):
                rows = try await connection.query(
                    """
                    SELECT hour, outcome, SUM(count)::bigint FROM key_usage WHERE nid = \(query.nid) \
                    AND key_id = \(keyID) AND hour >= \(query.fromHour) AND hour < \(query.untilHour) GROUP BY hour, outcome
                    """,
                    logger: connection.logger
                )
            case .actor(let actorID):
                rows = try await connection.query(
                    """
                    SELECT hour, outcome, SUM(count)::bigint FROM key_usage WHERE nid = \(query.nid) \
                    AND actor_id = \(actorID) AND hour >= \(query.fromHour) AND hour < \(query.untilHour) \
                    GROUP BY hour, outcome
                    """,
                    logger: connection.logger
                )
            }
            var totals: [UsageTotal] = []
            for try await (hour, outcome, count) in rows.decode((Int64, String, Int64).self) {
                totals.append(UsageTotal(hour: hour, outcome: outcome, count: count))
            }
            return totals
        }
    }

    func deleteUsage(before hour: Int64) async throws -> Int {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                "WITH deleted AS (DELETE FROM key_usage WHERE hour < \(hour) RETURNING 1) SELECT COUNT(*) FROM deleted",
                logger: connection.logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    func delete(kind: KeyKind, nid: String, keyID: String) async throws -> Bool {
        try await database.withTransaction { connection in
            let rows = try await connection.query(
                "DELETE FROM api_keys WHERE nid = \(nid) AND kind = \(kind.rawValue) AND key_id = \(keyID) RETURNING key_id",
                logger: connection.logger
            )
            var deleted = false
            for try await _ in rows { deleted = true }
            if deleted { try await Self.notifyChanged(connection, nid: nid, keyID: keyID) }
            return deleted
        }
    }

    /// Every replica evicts the key when this transaction commits (spec §5.9): the notification is delivered at
    /// commit, and not at all on rollback.
    static func notifyChanged(_ connection: PostgresConnection, nid: String, keyID: String) async throws {
        let payload = InvalidationMessage.payload(nid: nid, keyID: keyID)
        try await connection.query(
            "SELECT pg_notify(\(PostgresInvalidationFeed.channel), \(payload))",
            logger: connection.logger
        )
    }

    func countActive(nid: String, at now: Timestamp) async throws -> Int {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT COUNT(*) FROM api_keys WHERE nid = \(nid) AND status = \(Int16(KeyStatus.active.rawValue)) \
                AND kind <> 'admin' AND (expire_time IS NULL OR expire_time > \(now.microseconds))
                """,
                logger: connection.logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    func checkHealth() async throws {
        try await database.withConnection { connection in
            _ = try await connection.query("SELECT 1", logger: connection.logger)
        }
    }
}

/// Carries a non-escaping transform into the transaction closure, which runs it before returning.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    // @unchecked: the wrapped closure is @Sendable at the API boundary; withoutActuallyEscaping drops that
    // annotation, and the closure never outlives the call that received it.
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension PostgresKeyStorage: RedactedDescription {}
