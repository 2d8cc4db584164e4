import Synchronization
public import TalosCore

/// A `KeyStorage` that forwards to another and counts the calls that open a write transaction, so that a test can
/// prove a path writes nothing (e.g. self-revoke of unknown credentials, spec §15.5).
public final class WriteCountingStorage: KeyStorage {
    private let base: any KeyStorage
    private let writeCount = Atomic<Int>(0)
    private let readCount = Atomic<Int>(0)
    private let usageWritesFail = Atomic<Bool>(false)

    public init(_ base: any KeyStorage) { self.base = base }

    /// Write transactions opened so far.
    public var writes: Int { writeCount.load(ordering: .relaxed) }

    /// Reads of key records so far (fetches and lists), so that a test can prove a path reads nothing.
    public var reads: Int { readCount.load(ordering: .relaxed) }

    /// While `true`, `recordUsage` fails as an unreachable database does (to test that no count is lost).
    public func failUsageWrites(_ fail: Bool) { usageWritesFail.store(fail, ordering: .relaxed) }

    private func counted() { writeCount.add(1, ordering: .relaxed) }

    private func read() { readCount.add(1, ordering: .relaxed) }

    public func insert(_ key: APIKey) async throws -> InsertOutcome {
        counted()
        return try await base.insert(key)
    }

    public func insertSkippingExisting(_ keys: [APIKey]) async throws -> Set<String> {
        counted()
        return try await base.insertSkippingExisting(keys)
    }

    public func fetch(kind: KeyKind, nid: String, keyID: String) async throws -> APIKey? {
        read()
        return try await base.fetch(kind: kind, nid: nid, keyID: keyID)
    }

    public func fetch(kind: KeyKind, nid: String, requestID: String) async throws -> APIKey? {
        read()
        return try await base.fetch(kind: kind, nid: nid, requestID: requestID)
    }

    public func fetch(kind: KeyKind, nid: String, keyIDs: [String]) async throws -> [APIKey] {
        read()
        return try await base.fetch(kind: kind, nid: nid, keyIDs: keyIDs)
    }

    public func list(_ query: ListQuery) async throws -> [APIKey] {
        read()
        return try await base.list(query)
    }

    public func modify(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> APIKey
    ) async throws -> APIKey? {
        counted()
        return try await base.modify(kind: kind, nid: nid, keyID: keyID, transform)
    }

    public func replace(
        kind: KeyKind,
        nid: String,
        keyID: String,
        _ transform: @Sendable (APIKey) throws -> Replacement
    ) async throws -> Replacement? {
        counted()
        return try await base.replace(kind: kind, nid: nid, keyID: keyID, transform)
    }

    public func recordLastUsed(_ entries: [LastUsedEntry]) async throws {
        counted()
        try await base.recordLastUsed(entries)
    }

    public func recordUsage(_ counts: [UsageCount]) async throws {
        counted()
        if usageWritesFail.load(ordering: .relaxed) { throw StorageError.unavailable("usage writes fail (test)") }
        try await base.recordUsage(counts)
    }

    public func usage(_ query: UsageQuery) async throws -> [UsageTotal] { try await base.usage(query) }

    public func deleteUsage(before hour: Int64) async throws -> Int {
        counted()
        return try await base.deleteUsage(before: hour)
    }

    public func delete(kind: KeyKind, nid: String, keyID: String) async throws -> Bool {
        counted()
        return try await base.delete(kind: kind, nid: nid, keyID: keyID)
    }

    public func countActive(nid: String, at now: Timestamp) async throws -> Int {
        try await base.countActive(nid: nid, at: now)
    }

    public func checkHealth() async throws { try await base.checkHealth() }
}
