import Synchronization
public import TalosCore

/// A `KeyStorage` in memory, for testing the core without a database. It passes the storage conformance suite:
/// unique `(kind, nid, key_id)`, idempotent inserts by `(kind, nid, request_id)`, bytewise keyset order, and
/// every operation atomic under one lock.
public final class MemoryKeyStorage: KeyStorage {
    private struct Identity: Hashable {
        let kind: KeyKind
        let nid: String
        let keyID: String
    }

    private struct UsageIdentity: Hashable {
        let nid: String
        let keyID: String
        let hour: Int64
        let outcome: String
    }

    private let keys = Mutex<[Identity: APIKey]>([:])
    private let usageCounts = Mutex<[UsageIdentity: (actorID: String, count: Int64)]>([:])

    public init() {}

    private static func identity(_ key: APIKey) -> Identity { Identity(kind: key.kind, nid: key.nid, keyID: key.keyID) }

    private static func key(
        kind: KeyKind,
        nid: String,
        requestID: String,
        in keys: [Identity: APIKey]
    ) -> APIKey? {
        keys.values.first { $0.kind == kind && $0.nid == nid && $0.requestID == requestID }
    }

    public func insert(_ key: APIKey) async throws -> InsertOutcome {
        try keys.withLock { keys throws(StorageError) -> InsertOutcome in
            if let requestID = key.requestID,
                let existing = Self.key(kind: key.kind, nid: key.nid, requestID: requestID, in: keys)
            {
                return .replayed(existing)
            }
            guard keys[Self.identity(key)] == nil else { throw StorageError.duplicate() }
            keys[Self.identity(key)] = key
            return .created(key)
        }
    }

    public func insertSkippingExisting(_ keys: [APIKey]) async throws -> Set<String> {
        self.keys.withLock { stored in
            var inserted = Set<String>()
            for key in keys where stored[Self.identity(key)] == nil {
                stored[Self.identity(key)] = key
                inserted.insert(key.keyID)
            }
            return inserted
        }
    }

    public func fetch(kind: KeyKind, nid: String, keyID: String) async throws -> APIKey? {
        keys.withLock { $0[Identity(kind: kind, nid: nid, keyID: keyID)] }
    }

    public func fetch(kind: KeyKind, nid: String, requestID: String) async throws -> APIKey? {
        keys.withLock { Self.key(kind: kind, nid: nid, requestID: requestID, in: $0) }
    }

    public func fetch(kind: KeyKind, nid: String, keyIDs: [String]) async throws -> [APIKey] {
        keys.withLock { keys in keyIDs.compactMap { keys[Identity(kind: kind, nid: nid, keyID: $0)] } }
    }

    public func list(_ query: ListQuery) async throws -> [APIKey] {
        let matching = keys.withLock { keys in
            keys.values.filter { key in
                guard key.kind == query.kind, key.nid == query.nid else { return false }
                if let actorID = query.actorID, key.actorID != actorID { return false }
                if let status = query.status, key.status(at: query.now) != status { return false }
                if let after = query.after, !after.utf8.lexicographicallyPrecedes(key.keyID.utf8) { return false }
                return true
            }
        }
        return Array(matching.sorted { $0.keyID.utf8.lexicographicallyPrecedes($1.keyID.utf8) }.prefix(query.limit))
    }

    public func modify(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> APIKey
    ) async throws -> APIKey? {
        try keys.withLock { keys in
            let identity = Identity(kind: kind, nid: nid, keyID: keyID)
            guard let key = keys[identity] else { return nil }
            let updated = try transform(key)
            keys[identity] = updated
            return updated
        }
    }

    public func replace(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> Replacement
    ) async throws -> Replacement? {
        try keys.withLock { keys in
            guard let key = keys[Identity(kind: kind, nid: nid, keyID: keyID)] else { return nil }
            let replacement = try transform(key)
            guard keys[Self.identity(replacement.replacement)] == nil else { throw StorageError.duplicate() }
            keys[Self.identity(replacement.replacement)] = replacement.replacement
            keys[Self.identity(replacement.retired)] = replacement.retired
            return replacement
        }
    }

    public func recordLastUsed(_ entries: [LastUsedEntry]) async throws {
        keys.withLock { keys in
            for entry in entries {
                let identity = Identity(kind: entry.kind, nid: entry.nid, keyID: entry.keyID)
                guard var key = keys[identity] else { continue }
                key.lastUsedTime = max(key.lastUsedTime ?? entry.usedAt, entry.usedAt)
                keys[identity] = key
            }
        }
    }

    public func recordUsage(_ counts: [UsageCount]) async throws {
        usageCounts.withLock { stored in
            for count in counts {
                let identity = UsageIdentity(
                    nid: count.nid,
                    keyID: count.keyID,
                    hour: count.hour,
                    outcome: count.outcome
                )
                let existing = stored[identity]
                stored[identity] = (existing?.actorID ?? count.actorID, (existing?.count ?? 0) + count.count)
            }
        }
    }

    public func usage(_ query: UsageQuery) async throws -> [UsageTotal] {
        usageCounts.withLock { stored in
            var totals: [UsageTotal] = []
            var index: [Int64: [String: Int]] = [:]
            for (identity, value) in stored
            where identity.nid == query.nid && (query.fromHour..<query.untilHour).contains(identity.hour) {
                switch query.subject {
                case .key(let keyID): guard identity.keyID == keyID else { continue }
                case .actor(let actorID): guard value.actorID == actorID else { continue }
                }
                if let position = index[identity.hour]?[identity.outcome] {
                    let total = totals[position]
                    totals[position] = UsageTotal(
                        hour: total.hour,
                        outcome: total.outcome,
                        count: total.count + value.count
                    )
                } else {
                    index[identity.hour, default: [:]][identity.outcome] = totals.count
                    totals.append(UsageTotal(hour: identity.hour, outcome: identity.outcome, count: value.count))
                }
            }
            return totals
        }
    }

    public func deleteUsage(before hour: Int64) async throws -> Int {
        usageCounts.withLock { stored in
            let before = stored.count
            stored = stored.filter { $0.key.hour >= hour }
            return before - stored.count
        }
    }

    public func delete(kind: KeyKind, nid: String, keyID: String) async throws -> Bool {
        keys.withLock { $0.removeValue(forKey: Identity(kind: kind, nid: nid, keyID: keyID)) != nil }
    }

    public func countActive(nid: String, at now: Timestamp) async throws -> Int {
        keys.withLock { keys in keys.values.count { $0.nid == nid && $0.kind != .admin && $0.isActive(at: now) } }
    }

    public func checkHealth() async throws {}
}
