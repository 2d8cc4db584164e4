public import TalosCore
import Testing

/// The behaviour every `KeyStorage` must show (spec §7, §8). Each check receives a fresh, migrated, empty storage
/// from `makeStorage`.
public struct StorageConformance: Sendable {
    public typealias Factory = @Sendable () async throws -> any KeyStorage

    let makeStorage: Factory

    public init(makeStorage: @escaping Factory) { self.makeStorage = makeStorage }

    /// Every check; a new one is a new case, so a switch that forgets it does not compile.
    public enum Check: String, Sendable, CaseIterable, CustomStringConvertible {
        case insertAndFetch
        case duplicateKeyID
        case idempotency
        case concurrentIdempotentInserts
        case listFiltersAndKeyset
        case batchFetch
        case modify
        case modifyAbortsOnThrow
        case replaceIsAtomic
        case concurrentReplaceExactlyOneWins
        case revokeOnce
        case countActive
        case delete
        case tenantIsolation
        case roundTripsEveryField
        case insertSkippingExisting
        case recordLastUsed
        case adminKeysAreTheirOwnKind
        case usageAddsUp

        public var description: String { rawValue }
    }

    /// Every check, for `@Test(arguments:)`.
    public static let checks = Check.allCases

    /// Runs one check on a fresh storage.
    public func run(_ check: Check) async throws {
        let storage = try await makeStorage()
        switch check {
        case .insertAndFetch: try await insertAndFetch(storage)
        case .duplicateKeyID: try await duplicateKeyID(storage)
        case .idempotency: try await idempotency(storage)
        case .concurrentIdempotentInserts: try await concurrentIdempotentInserts(storage)
        case .listFiltersAndKeyset: try await listFiltersAndKeyset(storage)
        case .batchFetch: try await batchFetch(storage)
        case .modify: try await modify(storage)
        case .modifyAbortsOnThrow: try await modifyAbortsOnThrow(storage)
        case .replaceIsAtomic: try await replaceIsAtomic(storage)
        case .concurrentReplaceExactlyOneWins: try await concurrentReplaceExactlyOneWins(storage)
        case .revokeOnce: try await revokeOnce(storage)
        case .countActive: try await countActive(storage)
        case .delete: try await delete(storage)
        case .tenantIsolation: try await tenantIsolation(storage)
        case .roundTripsEveryField: try await roundTripsEveryField(storage)
        case .insertSkippingExisting: try await insertSkippingExisting(storage)
        case .recordLastUsed: try await recordLastUsed(storage)
        case .adminKeysAreTheirOwnKind: try await adminKeysAreTheirOwnKind(storage)
        case .usageAddsUp: try await usageAddsUp(storage)
        }
    }

    static let nid = UUIDText.nilUUID
    static let now = Timestamp(seconds: 1_780_334_005)

    static func key(
        _ id: String,
        kind: KeyKind = .issued,
        nid: String = nid,
        actor: String = "actor",
        status: KeyStatus = .active,
        expires: Timestamp? = nil,
        requestID: String? = nil
    ) -> APIKey {
        APIKey(
            kind: kind,
            nid: nid,
            keyID: id,
            name: "key \(id.prefix(8))",
            actorID: actor,
            scopes: ["read"],
            storedStatus: status,
            createTime: now,
            updateTime: now,
            expireTime: expires,
            requestID: requestID
        )
    }

    static func uuid(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    struct Abort: Error {}

    func insertAndFetch(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        #expect(try await storage.insert(key) == .created(key))
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID) == key)
        #expect(try await storage.fetch(kind: .imported, nid: Self.nid, keyID: key.keyID) == nil)
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: Self.uuid(2)) == nil)
        try await storage.checkHealth()
    }

    /// Spec §16.3: admin keys are rows of kind `admin` (migration 4): found only as that kind, listed only as that
    /// kind, never counted against the API-key quota, revocable like any row.
    func adminKeysAreTheirOwnKind(_ storage: any KeyStorage) async throws {
        let admin = Self.key(Self.uuid(1), kind: .admin)
        _ = try await storage.insert(admin)
        _ = try await storage.insert(Self.key(Self.uuid(2)))
        #expect(try await storage.fetch(kind: .admin, nid: Self.nid, keyID: admin.keyID) == admin)
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: admin.keyID) == nil)
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyIDs: [admin.keyID, Self.uuid(2)]).count == 1)
        let issued = try await storage.list(ListQuery(kind: .issued, nid: Self.nid, limit: 10, now: Self.now))
        #expect(issued.map(\.keyID) == [Self.uuid(2)])
        let admins = try await storage.list(ListQuery(kind: .admin, nid: Self.nid, limit: 10, now: Self.now))
        #expect(admins == [admin])
        #expect(try await storage.countActive(nid: Self.nid, at: Self.now) == 1)
        let revoked = try await storage.modify(kind: .admin, nid: Self.nid, keyID: admin.keyID) { key in
            var key = key
            key.storedStatus = .revoked
            return key
        }
        #expect(revoked?.storedStatus == .revoked)
        #expect(try await storage.fetch(kind: .admin, nid: Self.nid, keyID: admin.keyID)?.storedStatus == .revoked)
    }

    func duplicateKeyID(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        _ = try await storage.insert(key)
        await #expect(throws: StorageError.duplicate()) { _ = try await storage.insert(key) }
    }

    func idempotency(_ storage: any KeyStorage) async throws {
        let first = Self.key(Self.uuid(1), requestID: "req-1")
        #expect(try await storage.insert(first) == .created(first))
        let replay = Self.key(Self.uuid(2), requestID: "req-1")
        #expect(try await storage.insert(replay) == .replayed(first))
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, requestID: "req-1") == first)
        // The same token for the other kind and keys without a token never conflict.
        let imported = Self.key(String(repeating: "a", count: 64), kind: .imported, requestID: "req-1")
        #expect(try await storage.insert(imported) == .created(imported))
        _ = try await storage.insert(Self.key(Self.uuid(3)))
        _ = try await storage.insert(Self.key(Self.uuid(4)))
    }

    func concurrentIdempotentInserts(_ storage: any KeyStorage) async throws {
        let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
            for index in 0..<8 {
                group.addTask { try await storage.insert(Self.key(Self.uuid(100 + index), requestID: "same")) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = outcomes.filter { if case .created = $0 { true } else { false } }
        #expect(created.count == 1)
        let winner = try #require(try await storage.fetch(kind: .issued, nid: Self.nid, requestID: "same"))
        for outcome in outcomes {
            switch outcome {
            case .created(let key), .replayed(let key): #expect(key.keyID == winner.keyID)
            }
        }
    }

    func listFiltersAndKeyset(_ storage: any KeyStorage) async throws {
        for index in 1...7 {
            let expires: Timestamp? = index == 3 ? Self.now.adding(seconds: -1) : nil
            let status: KeyStatus = index == 5 ? .revoked : .active
            _ = try await storage.insert(
                Self.key(Self.uuid(index), actor: index % 2 == 0 ? "even" : "odd", status: status, expires: expires)
            )
        }
        _ = try await storage.insert(Self.key(String(repeating: "b", count: 64), kind: .imported))
        func ids(_ query: ListQuery) async throws -> [String] { try await storage.list(query).map(\.keyID) }
        let all = ListQuery(kind: .issued, nid: Self.nid, limit: 100, now: Self.now)
        #expect(try await ids(all) == (1...7).map(Self.uuid))
        var page = all
        page.limit = 3
        #expect(try await ids(page) == (1...3).map(Self.uuid))
        page.after = Self.uuid(3)
        #expect(try await ids(page) == (4...6).map(Self.uuid))
        page.after = Self.uuid(6)
        #expect(try await ids(page) == [Self.uuid(7)])
        page.after = Self.uuid(7)
        #expect(try await ids(page).isEmpty)
        var filtered = all
        filtered.actorID = "odd"
        #expect(try await ids(filtered) == [1, 3, 5, 7].map(Self.uuid))
        filtered.status = .active
        #expect(try await ids(filtered) == [1, 7].map(Self.uuid))
        filtered.status = .expired
        #expect(try await ids(filtered) == [Self.uuid(3)])
        filtered.status = .revoked
        #expect(try await ids(filtered) == [Self.uuid(5)])
        filtered.actorID = nil
        filtered.status = .active
        filtered.after = Self.uuid(2)
        filtered.limit = 2
        #expect(try await ids(filtered) == [4, 6].map(Self.uuid))
        #expect(try await ids(ListQuery(kind: .imported, nid: Self.nid, limit: 10, now: Self.now)).count == 1)
    }

    func batchFetch(_ storage: any KeyStorage) async throws {
        for index in 1...3 { _ = try await storage.insert(Self.key(Self.uuid(index))) }
        let found = try await storage.fetch(
            kind: .issued,
            nid: Self.nid,
            keyIDs: [Self.uuid(1), Self.uuid(3), Self.uuid(9)]
        )
        #expect(Set(found.map(\.keyID)) == [Self.uuid(1), Self.uuid(3)])
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyIDs: []).isEmpty)
    }

    func modify(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        _ = try await storage.insert(key)
        let updated = try await storage.modify(kind: .issued, nid: Self.nid, keyID: key.keyID) { key in
            var key = key
            key.name = "renamed"
            key.scopes = []
            key.metadata = ["team": "backend"]
            key.updateTime = Self.now.adding(seconds: 5)
            return key
        }
        #expect(updated?.name == "renamed")
        let stored = try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID)
        #expect(stored == updated)
        #expect(try await storage.modify(kind: .issued, nid: Self.nid, keyID: Self.uuid(2)) { $0 } == nil)
    }

    func modifyAbortsOnThrow(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        _ = try await storage.insert(key)
        await #expect(throws: Abort.self) {
            _ = try await storage.modify(kind: .issued, nid: Self.nid, keyID: key.keyID) { _ in throw Abort() }
        }
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID) == key)
    }

    func replaceIsAtomic(_ storage: any KeyStorage) async throws {
        let old = Self.key(Self.uuid(1))
        _ = try await storage.insert(old)
        _ = try await storage.insert(Self.key(Self.uuid(2)))
        // The replacement collides with an existing key: nothing may change.
        await #expect(throws: (any Error).self) {
            _ = try await storage.replace(kind: .issued, nid: Self.nid, keyID: old.keyID) { old in
                Replacement(
                    replacement: Self.key(Self.uuid(2)),
                    retired: old.revoked(reason: .superseded, description: nil, at: Self.now)
                )
            }
        }
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: old.keyID) == old)
        let result = try await storage.replace(kind: .issued, nid: Self.nid, keyID: old.keyID) { old in
            Replacement(
                replacement: Self.key(Self.uuid(3)),
                retired: old.revoked(reason: .superseded, description: nil, at: Self.now)
            )
        }
        #expect(result?.replacement.keyID == Self.uuid(3))
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: old.keyID)?.storedStatus == .revoked)
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: Self.uuid(3)) != nil)
        #expect(
            try await storage.replace(kind: .issued, nid: Self.nid, keyID: Self.uuid(9)) {
                Replacement(replacement: $0, retired: $0)
            } == nil
        )
    }

    func concurrentReplaceExactlyOneWins(_ storage: any KeyStorage) async throws {
        let old = Self.key(Self.uuid(1))
        _ = try await storage.insert(old)
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask {
                    do {
                        _ = try await storage.replace(kind: .issued, nid: Self.nid, keyID: old.keyID) { current in
                            guard current.storedStatus == .active else { throw Abort() }
                            return Replacement(
                                replacement: Self.key(Self.uuid(10 + index)),
                                retired: current.revoked(reason: .superseded, description: nil, at: Self.now)
                            )
                        }
                        return true
                    } catch is Abort {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        let all = try await storage.list(ListQuery(kind: .issued, nid: Self.nid, limit: 100, now: Self.now))
        #expect(all.count == 2)
    }

    func revokeOnce(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        _ = try await storage.insert(key)
        struct AlreadyRevoked: Error {}
        let revoke: @Sendable (APIKey) throws -> APIKey = { key in
            guard key.storedStatus != .revoked else { throw AlreadyRevoked() }
            return key.revoked(reason: .keyCompromise, description: nil, at: Self.now)
        }
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (try? await storage.modify(kind: .issued, nid: Self.nid, keyID: key.keyID, revoke)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(results == 1)
        let stored = try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID)
        #expect(stored?.revocationReason == .keyCompromise)
        #expect(stored?.expireTime == Self.now.adding(seconds: 30 * 86_400))
    }

    func countActive(_ storage: any KeyStorage) async throws {
        _ = try await storage.insert(Self.key(Self.uuid(1)))
        _ = try await storage.insert(Self.key(Self.uuid(2), status: .revoked))
        _ = try await storage.insert(Self.key(Self.uuid(3), expires: Self.now))
        _ = try await storage.insert(Self.key(Self.uuid(4), expires: Self.now.adding(seconds: 1)))
        _ = try await storage.insert(Self.key(String(repeating: "c", count: 64), kind: .imported))
        _ = try await storage.insert(Self.key(Self.uuid(5), nid: "11111111-1111-4111-8111-111111111111"))
        #expect(try await storage.countActive(nid: Self.nid, at: Self.now) == 3)
    }

    func delete(_ storage: any KeyStorage) async throws {
        let key = Self.key(String(repeating: "d", count: 64), kind: .imported)
        _ = try await storage.insert(key)
        #expect(try await storage.delete(kind: .imported, nid: Self.nid, keyID: key.keyID))
        #expect(try await !storage.delete(kind: .imported, nid: Self.nid, keyID: key.keyID))
        #expect(try await storage.fetch(kind: .imported, nid: Self.nid, keyID: key.keyID) == nil)
    }

    func tenantIsolation(_ storage: any KeyStorage) async throws {
        let other = "11111111-1111-4111-8111-111111111111"
        _ = try await storage.insert(Self.key(Self.uuid(1), nid: other))
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: Self.uuid(1)) == nil)
        #expect(try await storage.list(ListQuery(kind: .issued, nid: Self.nid, limit: 10, now: Self.now)).isEmpty)
        _ = try await storage.insert(Self.key(Self.uuid(1)))
    }

    func insertSkippingExisting(_ storage: any KeyStorage) async throws {
        let existing = Self.key(String(repeating: "1", count: 64), kind: .imported)
        _ = try await storage.insert(existing)
        let batch = (1...4).map { Self.key(String(repeating: "\($0)", count: 64), kind: .imported) }
        let inserted = try await storage.insertSkippingExisting(batch)
        #expect(inserted == Set((2...4).map { String(repeating: "\($0)", count: 64) }))
        #expect(try await storage.fetch(kind: .imported, nid: Self.nid, keyID: existing.keyID) == existing)
        #expect(try await storage.list(ListQuery(kind: .imported, nid: Self.nid, limit: 10, now: Self.now)).count == 4)
        #expect(try await storage.insertSkippingExisting([]).isEmpty)
    }

    func recordLastUsed(_ storage: any KeyStorage) async throws {
        let key = Self.key(Self.uuid(1))
        _ = try await storage.insert(key)
        let later = Self.now.adding(seconds: 86_400)
        try await storage.recordLastUsed([
            LastUsedEntry(kind: .issued, nid: Self.nid, keyID: key.keyID, usedAt: later),
            LastUsedEntry(kind: .issued, nid: Self.nid, keyID: Self.uuid(9), usedAt: later),
        ])
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID)?.lastUsedTime == later)
        // Never moves backwards.
        try await storage.recordLastUsed([
            LastUsedEntry(kind: .issued, nid: Self.nid, keyID: key.keyID, usedAt: Self.now)
        ])
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID)?.lastUsedTime == later)
        try await storage.recordLastUsed([])
    }

    /// Usage counts add up across writes (and concurrent writers, as replicas are), are read per key or summed per
    /// actor within the hour range, stay in their tenant, and are swept by hour.
    func usageAddsUp(_ storage: any KeyStorage) async throws {
        let hour: Int64 = 1_780_333_200
        let other = "8b0a5b1e-7f1f-4a56-9d59-4c1c1f4bd3a1"
        func count(
            _ keyID: String,
            _ actor: String,
            _ hour: Int64,
            _ outcome: String,
            _ count: Int64,
            nid: String = Self.nid
        )
            -> UsageCount
        { UsageCount(nid: nid, keyID: keyID, actorID: actor, hour: hour, outcome: outcome, count: count) }
        try await storage.recordUsage([
            count(Self.uuid(1), "alice", hour, "VALID", 5),
            count(Self.uuid(1), "alice", hour, "REVOKED", 2),
            count(Self.uuid(1), "alice", hour + 3600, "VALID", 1),
            count(Self.uuid(2), "alice", hour, "VALID", 7),
            count(Self.uuid(3), "bob", hour, "VALID", 11),
            count(Self.uuid(1), "alice", hour, "VALID", 100, nid: other),
        ])
        try await storage.recordUsage([])
        // Eight writers adding to the same rows at once, as replicas flushing together do.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await storage.recordUsage([
                        count(Self.uuid(1), "alice", hour, "VALID", 1), count(Self.uuid(2), "alice", hour, "VALID", 1),
                    ])
                }
            }
            try await group.waitForAll()
        }
        func totals(_ subject: UsageQuery.Subject, _ from: Int64, _ until: Int64) async throws -> Set<UsageTotal> {
            Set(try await storage.usage(UsageQuery(nid: Self.nid, subject: subject, fromHour: from, untilHour: until)))
        }
        #expect(
            try await totals(.key(Self.uuid(1)), hour, hour + 7200) == [
                UsageTotal(hour: hour, outcome: "VALID", count: 13),
                UsageTotal(hour: hour, outcome: "REVOKED", count: 2),
                UsageTotal(hour: hour + 3600, outcome: "VALID", count: 1),
            ]
        )
        // The range is half-open: the hour at `untilHour` is out.
        #expect(try await totals(.key(Self.uuid(1)), hour + 3600, hour + 7200).map(\.count) == [1])
        #expect(try await totals(.key(Self.uuid(1)), hour + 7200, hour + 10_800).isEmpty)
        #expect(
            try await totals(.actor("alice"), hour, hour + 3600) == [
                UsageTotal(hour: hour, outcome: "VALID", count: 28),
                UsageTotal(hour: hour, outcome: "REVOKED", count: 2),
            ]
        )
        #expect(
            try await totals(.actor("bob"), hour, hour + 3600) == [UsageTotal(hour: hour, outcome: "VALID", count: 11)]
        )
        #expect(try await totals(.actor("carol"), hour, hour + 3600).isEmpty)
        #expect(try await storage.deleteUsage(before: hour + 3600) == 5)
        #expect(
            try await totals(.actor("alice"), hour, hour + 7200) == [
                UsageTotal(hour: hour + 3600, outcome: "VALID", count: 1)
            ]
        )
        #expect(try await storage.deleteUsage(before: hour) == 0)
    }

    func roundTripsEveryField(_ storage: any KeyStorage) async throws {
        let key = APIKey(
            kind: .issued,
            nid: Self.nid,
            keyID: Self.uuid(1),
            name: "ünïcødé ✓",
            actorID: "user \"quoted\"",
            scopes: ["read:*", "write"],
            storedStatus: .revoked,
            createTime: Timestamp(microseconds: 1_780_334_005_123_456),
            updateTime: Timestamp(microseconds: 1_780_334_006_000_001),
            expireTime: Timestamp(seconds: 1_790_000_000),
            lastUsedTime: Timestamp(seconds: 1_780_400_000),
            metadata: ["z": 1, "a": ["nested": [true, .null, .double(1.5)]]],
            rateLimitPolicy: RateLimitPolicy(quota: 1_000_000_000, windowSeconds: 86_400),
            allowedCIDRs: ["10.0.0.0/8", "2001:db8::/32"],
            revocationReason: .privilegeWithdrawn,
            revocationDescription: "contractor offboarded",
            visibility: .public,
            requestID: "r-1"
        )
        _ = try await storage.insert(key)
        #expect(try await storage.fetch(kind: .issued, nid: Self.nid, keyID: key.keyID) == key)
    }
}
