/// Durable storage of API key records for every tenant.
///
/// A storage backend is the only component that talks to a database. Every method is atomic: it either commits
/// completely or has no effect. Implementations translate driver errors into `StorageError` and never leak driver
/// types. All SQL parameters are bound, never concatenated.
public protocol KeyStorage: Sendable {
    /// Inserts a new record.
    ///
    /// - Returns: `.created(key)` for a new row, or `.replayed(existing)` when a record of the same kind and tenant
    ///   already holds `key.requestID` (spec §8.1; the replay's other fields are not compared).
    /// - Throws: `StorageError.duplicate` when `(kind, nid, keyID)` already exists;
    ///   `.unavailable` / `.timeout` when the database cannot answer.
    func insert(_ key: APIKey) async throws -> InsertOutcome

    /// Inserts many records in one transaction, skipping those whose `(kind, nid, keyID)` already exists
    /// (insert-or-skip, spec §3.8). Records must not carry a `requestID`.
    /// - Returns: the key ids that were inserted.
    /// - Throws: `StorageError.unavailable` / `.timeout`; nothing is inserted then.
    func insertSkippingExisting(_ keys: [APIKey]) async throws -> Set<String>

    /// The record with that id, or `nil`.
    /// - Throws: `StorageError.unavailable` / `.timeout`.
    func fetch(kind: KeyKind, nid: String, keyID: String) async throws -> APIKey?

    /// The record of that kind created with idempotency token `requestID` (spec §8.1), or `nil`.
    /// - Throws: `StorageError.unavailable` / `.timeout`.
    func fetch(kind: KeyKind, nid: String, requestID: String) async throws -> APIKey?

    /// The records among `keyIDs` that exist, in any order (one query, for batch verification).
    /// - Throws: `StorageError.unavailable` / `.timeout`.
    func fetch(kind: KeyKind, nid: String, keyIDs: [String]) async throws -> [APIKey]

    /// One page of records ordered by `key_id` ascending (keyset pagination, no OFFSET).
    ///
    /// Returns at most `query.limit` records whose `key_id` is greater than `query.after` and that satisfy the filter
    /// (status filters are evaluated at `query.now`: EXPIRED = stored ACTIVE with `expire_time` ≤ now).
    /// - Throws: `StorageError.unavailable` / `.timeout`.
    func list(_ query: ListQuery) async throws -> [APIKey]

    /// Atomically reads a record, passes it to `transform` and stores the result, in one transaction.
    ///
    /// The read takes a row lock (or the backend's single-writer lock) so concurrent modifications serialize.
    /// `transform` may throw to abort without writing; that error is rethrown unchanged.
    /// - Returns: the stored record, or `nil` when no record has that id.
    /// - Throws: errors of `transform`; `StorageError.unavailable` / `.timeout`.
    func modify(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> APIKey
    ) async throws -> APIKey?

    /// Atomically replaces a record with a new one: in one transaction, reads `keyID` with a row lock, asks
    /// `transform` for `(replacement, retired)`, inserts the replacement and stores the retired version of the
    /// original. Concurrent rotations of one key serialize; the losers see the retired record in `transform`.
    /// - Returns: `nil` when no record has that id, else both records as stored.
    /// - Throws: errors of `transform` (nothing is written); `StorageError`.
    func replace(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> Replacement
    ) async throws -> Replacement?

    /// Raises `last_used_time` to each entry's instant where it is older or unset (spec §5.8), in one transaction.
    /// Entries whose key no longer exists are ignored. - Throws: `StorageError`.
    func recordLastUsed(_ entries: [LastUsedEntry]) async throws

    /// Adds each count to the stored count of its (tenant, key, hour, outcome), creating the rows that are missing, in
    /// one transaction (usage analytics, docs/usage.md); concurrent writers (replicas) add up. Counts must be unique
    /// per (nid, keyID, hour, outcome). - Throws: `StorageError`; nothing is added then.
    func recordUsage(_ counts: [UsageCount]) async throws

    /// The stored counts of the query's key or actor in its hours, one per (hour, outcome) with an actor's keys
    /// summed, in any order. - Throws: `StorageError`.
    func usage(_ query: UsageQuery) async throws -> [UsageTotal]

    /// Deletes the counts of every hour before `hour` (seconds since the epoch, every tenant).
    /// - Returns: how many rows were deleted. - Throws: `StorageError`.
    func deleteUsage(before hour: Int64) async throws -> Int

    /// Hard-deletes a record. - Returns: whether a record was deleted. - Throws: `StorageError`.
    func delete(kind: KeyKind, nid: String, keyID: String) async throws -> Bool

    /// Number of records of both kinds in the tenant that are stored ACTIVE and unexpired at `now` (spec §8.2).
    /// - Throws: `StorageError`.
    func countActive(nid: String, at now: Timestamp) async throws -> Int

    /// Answers when a trivial query succeeds. - Throws: `StorageError` when it does not.
    func checkHealth() async throws
}

/// One observed use of a key, for `KeyStorage.recordLastUsed`.
public struct LastUsedEntry: Sendable, Hashable {
    /// Which table the key lives in.
    public let kind: KeyKind
    /// The tenant (network) UUID, lowercase and hyphenated.
    public let nid: String
    /// The key's id: a lowercase UUID (issued) or 64 lowercase hex characters (imported).
    public let keyID: String
    /// When the key verified; stored `last_used_time` only ever moves forward to this instant.
    public let usedAt: Timestamp

    /// One use of `keyID` in tenant `nid` at `usedAt`.
    public init(kind: KeyKind, nid: String, keyID: String, usedAt: Timestamp) {
        self.kind = kind
        self.nid = nid
        self.keyID = keyID
        self.usedAt = usedAt
    }
}

/// One (tenant, key, hour, outcome) count of verifications, for `KeyStorage.recordUsage`.
public struct UsageCount: Sendable, Hashable {
    /// The tenant (network) UUID.
    public let nid: String
    /// The key verified (issued or imported; the ids of the two kinds never collide).
    public let keyID: String
    /// The key's actor, so that an actor's usage is one indexed query.
    public let actorID: String
    /// The start of the UTC hour, in seconds since the epoch (a multiple of 3600).
    public let hour: Int64
    /// `VALID`, or the verification error code without its prefix (`REVOKED`, `RATE_LIMITED`, …).
    public let outcome: String
    /// How many verifications to add.
    public let count: Int64

    /// `count` verifications of `keyID` (of `actorID`) in tenant `nid` in the hour starting at `hour` that ended in
    /// `outcome`.
    public init(nid: String, keyID: String, actorID: String, hour: Int64, outcome: String, count: Int64) {
        self.nid = nid
        self.keyID = keyID
        self.actorID = actorID
        self.hour = hour
        self.outcome = outcome
        self.count = count
    }

    /// `VALID` for `nil`, else the code's name without `VERIFICATION_ERROR_`.
    public static func outcomeName(_ code: VerificationErrorCode?) -> String { code?.wireSuffix ?? "VALID" }
}

/// Whose usage to read, over which hours (`KeyStorage.usage`).
public struct UsageQuery: Sendable, Hashable {
    /// One key, or every key of an actor.
    public enum Subject: Sendable, Hashable {
        case key(String)
        case actor(String)
    }

    /// The tenant.
    public let nid: String
    /// The key or actor.
    public let subject: Subject
    /// The first hour included (seconds since the epoch).
    public let fromHour: Int64
    /// The first hour no longer included.
    public let untilHour: Int64

    /// The counts of `subject` in tenant `nid` for the hours in `fromHour..<untilHour`.
    public init(nid: String, subject: Subject, fromHour: Int64, untilHour: Int64) {
        self.nid = nid
        self.subject = subject
        self.fromHour = fromHour
        self.untilHour = untilHour
    }
}

/// A stored count of one hour and outcome (`KeyStorage.usage`).
public struct UsageTotal: Sendable, Hashable {
    /// The start of the UTC hour, in seconds since the epoch.
    public let hour: Int64
    /// `VALID` or a verification error code without its prefix.
    public let outcome: String
    /// The count.
    public let count: Int64

    /// `count` verifications in the hour starting at `hour` that ended in `outcome`.
    public init(hour: Int64, outcome: String, count: Int64) {
        self.hour = hour
        self.outcome = outcome
        self.count = count
    }
}

/// A record and the retired version of the one it replaces (`KeyStorage.replace`).
public struct Replacement: Sendable, Hashable {
    /// The new record, inserted under its own `keyID`.
    public let replacement: APIKey
    /// The original record as it must be stored afterwards (for rotation: revoked as SUPERSEDED).
    public let retired: APIKey

    /// A replacement record and the retired version of the original, as `transform` returns them.
    public init(replacement: APIKey, retired: APIKey) {
        self.replacement = replacement
        self.retired = retired
    }
}

/// The result of `KeyStorage.insert`.
public enum InsertOutcome: Sendable, Hashable {
    /// A new row was written.
    case created(APIKey)
    /// A row with the same idempotency token already existed and was returned unchanged.
    case replayed(APIKey)
}

/// A keyset page request over one kind of key in one tenant.
public struct ListQuery: Sendable, Hashable {
    /// The table to page through.
    public var kind: KeyKind
    /// The tenant; rows of other tenants are never returned.
    public var nid: String
    /// Only keys of this actor.
    public var actorID: String?
    /// Only keys reported with this status at `now` (`.active`, `.revoked` or `.expired`).
    public var status: KeyStatus?
    /// Exclusive lower bound on `key_id`.
    public var after: String?
    /// Maximum number of rows to return.
    public var limit: Int
    /// The instant status filters are evaluated at.
    public var now: Timestamp

    /// A page of at most `limit` rows of `kind` in tenant `nid` after `after`, filtered by actor and status at `now`.
    public init(
        kind: KeyKind,
        nid: String,
        actorID: String? = nil,
        status: KeyStatus? = nil,
        after: String? = nil,
        limit: Int,
        now: Timestamp
    ) {
        self.kind = kind
        self.nid = nid
        self.actorID = actorID
        self.status = status
        self.after = after
        self.limit = limit
        self.now = now
    }
}

/// A storage failure, translated from the driver's own errors.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case duplicate, duplicateRequestID, unavailable, timeout, schemaOutdated, migration, corrupt, other
    }

    private let code: Code
    /// A description for logs; never shown to API callers, never contains secrets.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// A row with the same primary key exists.
    public static func duplicate(_ detail: String = "duplicate key") -> StorageError { .init(.duplicate, detail) }
    /// A row of the same kind and tenant already holds this idempotency token (spec §8.1).
    public static func duplicateRequestID(_ detail: String = "duplicate request_id") -> StorageError {
        .init(.duplicateRequestID, detail)
    }
    /// The database cannot be reached.
    public static func unavailable(_ detail: String) -> StorageError { .init(.unavailable, detail) }
    /// The database did not answer in time.
    public static func timeout(_ detail: String) -> StorageError { .init(.timeout, detail) }
    /// The schema is behind the migrations this binary knows.
    public static func schemaOutdated(_ detail: String) -> StorageError { .init(.schemaOutdated, detail) }
    /// A migration failed or the migration state is dirty.
    public static func migration(_ detail: String) -> StorageError { .init(.migration, detail) }
    /// A stored row that cannot be decoded (spec §15.7); `detail` names the column, never its content.
    public static func corrupt(_ detail: String) -> StorageError { .init(.corrupt, detail) }
    /// Anything else (a bug).
    public static func other(_ detail: String) -> StorageError { .init(.other, detail) }

    /// Whether this is `duplicate`: a row with the same `(kind, nid, keyID)` already exists.
    public var isDuplicate: Bool { code == .duplicate }
    /// Whether this is `duplicateRequestID`, which `insertOrReplay` turns into a replay.
    public var isDuplicateRequestID: Bool { code == .duplicateRequestID }
    /// Whether the database could not be reached; the service answers 503 `SERVICE_UNAVAILABLE`.
    public var isUnavailable: Bool { code == .unavailable }
    /// Whether the database did not answer in time; the service answers 504 `DEADLINE_EXCEEDED`.
    public var isTimeout: Bool { code == .timeout }

    /// `detail`: safe to log, never shown to API callers.
    public var description: String { detail }

    /// Errors are equal when their kind is; `detail` is ignored.
    public static func == (lhs: StorageError, rhs: StorageError) -> Bool { lhs.code == rhs.code }
    /// Hashes the kind only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension KeyStorage {
    /// The idempotent-insert rule of spec §8.1 for backends whose unique index on `(nid, kind, request_id)` reports
    /// `StorageError.duplicateRequestID`: runs `insert`, and on that error answers the existing record.
    public func insertOrReplay(_ key: APIKey, _ insert: () async throws -> Void) async throws -> InsertOutcome {
        do {
            try await insert()
            return .created(key)
        } catch let error as StorageError where error.isDuplicateRequestID {
            guard let requestID = key.requestID,
                let existing = try await fetch(kind: key.kind, nid: key.nid, requestID: requestID)
            else { throw error }
            return .replayed(existing)
        }
    }
}
