import Foundation
import Logging
import PostgresNIO
import TalosCore
import TalosPostgres
import TalosTesting
import Testing

/// The server every Postgres test uses: `TALOS_TEST_POSTGRES_DSN` (set by scripts/test.sh). Locally the tests are
/// skipped without it; under CI (`CI` set) a missing database fails them instead.
enum TestPostgres {
    static let dsn = ProcessInfo.processInfo.environment["TALOS_TEST_POSTGRES_DSN"]
    static let enabled = dsn != nil || ProcessInfo.processInfo.environment["CI"] != nil

    /// A new, empty database on the test server; returns its DSN.
    static func freshDatabase() async throws -> String {
        let base = try #require(
            dsn,
            "TALOS_TEST_POSTGRES_DSN is not set: CI must start PostgreSQL (scripts/postgres.sh)"
        )
        let name = "talos_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        var components = try #require(URLComponents(string: base))
        let client = PostgresClient(
            configuration: .init(
                host: components.host ?? "127.0.0.1",
                port: components.port ?? 5432,
                username: components.user ?? "postgres",
                password: components.password,
                database: String(components.path.dropFirst()),
                tls: .disable
            ),
            backgroundLogger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            group.cancelAll()
        }
        components.path = "/\(name)"
        return components.string!
    }

    static func open(_ dsn: String) async throws -> StorageHandle {
        try await StorageBackend.postgres.open(dsn, Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }
}

@Suite(.enabled(if: TestPostgres.enabled, "set TALOS_TEST_POSTGRES_DSN to run the Postgres tests"))
struct PostgresStorageConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conformance(check: StorageConformance.Check) async throws {
        let handle = try await TestPostgres.open(try await TestPostgres.freshDatabase())
        try await handle.withServices { handle in
            try await handle.migrator.up(steps: nil)
            try await StorageConformance { handle.storage }.run(check)
        }
    }
}

@Suite(.enabled(if: TestPostgres.enabled, "set TALOS_TEST_POSTGRES_DSN to run the Postgres tests"))
struct PostgresMigrationTests {
    @Test func upDownStatusAndForce() async throws {
        let handle = try await TestPostgres.open(try await TestPostgres.freshDatabase())
        try await handle.withServices { handle in
            let migrator = handle.migrator
            #expect(try await migrator.status().currentVersion == 0)
            #expect(try await migrator.up(steps: 1) == [1])
            #expect(try await migrator.up(steps: nil) == [2, 3, 4, 5, 6])
            #expect(try await migrator.status().isUpToDate)
            #expect(try await migrator.down(steps: 6) == [6, 5, 4, 3, 2, 1])
            await #expect(throws: StorageError.self) {
                _ = try await handle.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: "x")
            }
            try await migrator.force(version: 6)
            #expect(try await migrator.status().isUpToDate)
        }
    }

    /// Replicas starting together with `--migrate` must apply each migration once (advisory lock).
    @Test func concurrentMigrationsApplyOnce() async throws {
        let dsn = try await TestPostgres.freshDatabase()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await TestPostgres.open(dsn).withServices { try await $0.migrator.up(steps: nil) }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == [1, 2, 3, 4, 5, 6])
    }

    @Test func unreachableDatabaseIsUnavailableNotAHang() async throws {
        let handle = try await TestPostgres.open(
            "postgres://talos:talos@127.0.0.1:1/talos?sslmode=disable&connect_timeout=1"
        )
        let started = ContinuousClock.now
        _ = try await handle.withServices { handle in
            await #expect(throws: StorageError.unavailable("")) { try await handle.storage.checkHealth() }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func dsnValidation() async {
        await #expect(throws: ConfigError.self) { _ = try await TestPostgres.open("postgres:///nohost") }
        await #expect(throws: ConfigError.self) { _ = try await TestPostgres.open("postgres://h/db?sslmode=bogus") }
        await #expect(throws: ConfigError.self) { _ = try await TestPostgres.open("postgres://h/db?pool_max_conns=x") }
    }
}

/// The cluster-wide GCRA (docs/rate-limits.md): decided in one statement, so concurrent requests on many connections
/// (as replicas make them) admit exactly what one node would, and the state is the TAT the memory limiter keeps.
@Suite(.enabled(if: TestPostgres.enabled, "set TALOS_TEST_POSTGRES_DSN to run the Postgres tests"))
struct PostgresRateLimiterTests {
    @Test func concurrentRequestsAdmitExactlyTheBurstThenOnePerInterval() async throws {
        let handle = try await TestPostgres.open(try await TestPostgres.freshDatabase())
        try await handle.withServices { handle in
            try await handle.migrator.up(steps: nil)
            let limiter = try #require(handle.rateLimiter)
            let limit = GCRALimit(RateLimitPolicy(quota: 50, windowSeconds: 3600))  // one every 72 s
            let now = Timestamp(seconds: 1_780_000_000)
            let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var count = 0
                        for _ in 0..<25
                        where try await limiter.admit(nid: "n", keyID: "hot", limit: limit, now: now).admitted {
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(admitted == 50)
            let memory = MemoryRateLimiter()
            for _ in 0..<50 { _ = try await memory.admit(nid: "n", keyID: "hot", limit: limit, now: now) }
            for offset: Int64 in [71, 72, 73, 144] {
                let at = now.adding(seconds: offset)
                let stored = try await limiter.admit(nid: "n", keyID: "hot", limit: limit, now: at)
                let local = try await memory.admit(nid: "n", keyID: "hot", limit: limit, now: at)
                #expect(stored == local, "at +\(offset) s")
            }
            #expect(try await limiter.admit(nid: "n", keyID: "cold", limit: limit, now: now).admitted)
        }
    }
}
