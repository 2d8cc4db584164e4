import Foundation
import Logging
import TalosCore
import TalosOpenSSL
import TalosSQLite
import TalosTesting
import Testing

/// Real SQLite files in a temporary directory, one per test.
func temporarySQLiteDSN() -> (dsn: String, directory: URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("talos-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return ("sqlite://\(directory.path)/talos.db", directory)
}

func openMigratedSQLite() async throws -> StorageHandle {
    let handle = try await StorageBackend.sqlite.open(temporarySQLiteDSN().dsn, Logger(label: "test"))
    try await handle.migrator.up(steps: nil)
    return handle
}

@Suite struct SQLiteStorageConformanceTests {
    @Test(arguments: StorageConformance.checks)
    func conformance(check: StorageConformance.Check) async throws {
        try await StorageConformance { try await openMigratedSQLite().storage }.run(check)
    }
}

@Suite struct SQLiteMigrationTests {
    @Test func upDownStatusAndForce() async throws {
        let handle = try await StorageBackend.sqlite.open(temporarySQLiteDSN().dsn, Logger(label: "test"))
        var status = try await handle.migrator.status()
        #expect(status.currentVersion == 0 && !status.isUpToDate && status.entries.allSatisfy { !$0.applied })
        #expect(try await handle.migrator.up(steps: 1) == [1])
        #expect(try await handle.migrator.up(steps: nil) == [2, 3, 4, 5, 6])
        #expect(try await handle.migrator.up(steps: nil) == [])
        status = try await handle.migrator.status()
        #expect(status.isUpToDate && status.currentVersion == 6)
        #expect(try await handle.migrator.down(steps: 5) == [6, 5, 4, 3, 2])
        #expect(try await handle.migrator.status().currentVersion == 1)
        #expect(try await handle.migrator.down(steps: 6) == [1])
        await #expect(throws: StorageError.self) {
            _ = try await handle.storage.fetch(kind: .issued, nid: UUIDText.nilUUID, keyID: "x")
        }
        try await handle.migrator.force(version: 6)
        #expect(try await handle.migrator.status().isUpToDate)
    }

    /// Migration 4 rebuilds `api_keys` (SQLite cannot alter a CHECK): the rows survive it both ways, and only
    /// its down migration removes admin keys.
    @Test func adminKeyMigrationKeepsEveryRow() async throws {
        let handle = try await StorageBackend.sqlite.open(temporarySQLiteDSN().dsn, Logger(label: "test"))
        let now = Timestamp(seconds: 1_700_000_000)
        func key(_ kind: KeyKind, _ id: String) -> APIKey {
            APIKey(
                kind: kind,
                nid: UUIDText.nilUUID,
                keyID: id,
                name: "n",
                actorID: "a",
                createTime: now,
                updateTime: now
            )
        }
        let issued = key(.issued, "00000000-0000-4000-8000-000000000001")
        let admin = key(.admin, "00000000-0000-4000-8000-000000000002")
        try await handle.migrator.up(steps: 3)
        _ = try await handle.storage.insert(issued)
        await #expect(throws: StorageError.self) { _ = try await handle.storage.insert(admin) }
        #expect(try await handle.migrator.up(steps: 1) == [4])
        _ = try await handle.storage.insert(admin)
        #expect(try await handle.storage.fetch(kind: .issued, nid: issued.nid, keyID: issued.keyID) == issued)
        #expect(try await handle.storage.countActive(nid: issued.nid, at: now) == 1)
        #expect(try await handle.migrator.down(steps: 1) == [4])
        #expect(try await handle.storage.fetch(kind: .issued, nid: issued.nid, keyID: issued.keyID) == issued)
        #expect(try await handle.storage.fetch(kind: .admin, nid: admin.nid, keyID: admin.keyID) == nil)
        #expect(try await handle.migrator.up(steps: nil) == [4, 5, 6])
    }

    @Test func aDSNWithoutPathIsAConfigError() async {
        await #expect(throws: ConfigError.self) {
            _ = try await StorageBackend.sqlite.open("sqlite://", Logger(label: "t"))
        }
    }

    @Test func anUnreachableFileIsUnavailable() async {
        await #expect(throws: StorageError.self) {
            _ = try await StorageBackend.sqlite.open("sqlite:///nonexistent-dir/x/talos.db", Logger(label: "t"))
        }
    }
}

/// Spec §15.5: self-revoke is the one unauthenticated write; unknown, revoked or forged credentials open no write
/// transaction.
@Suite struct SelfRevokeWriteTests {
    @Test func floodsOfUnknownCredentialsWriteNothing() async throws {
        let storage = WriteCountingStorage(try await openMigratedSQLite().storage)
        let crypto = try OpenSSLCrypto()
        var config = TalosConfig()
        config.issuer = "https://api.example.com"
        config.hmacSecret = "an-example-hmac-secret-of-32-chars!!"
        let service = KeyService(
            storage: storage,
            crypto: crypto,
            settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
            clock: ManualClock(),
            logger: Logger(label: "test")
        )
        let nid = UUIDText.nilUUID
        var request = IssueKeyRequest()
        request.attributes.name = .value("n")
        request.attributes.actorID = .value("a")
        let issued = try await service.issue(request, nid: nid)
        let secret = try #require(issued.secret)
        let writesAfterIssue = storage.writes
        var generator = SystemRandomNumberGenerator()
        for index in 0..<300 {
            let random = (0..<(8 + index % 40)).map { _ in
                Character(UnicodeScalar(UInt8.random(in: 33...126, using: &generator)))
            }
            for credential in [
                String(random), "ory_ak_v1_" + String(random),
                String(secret.dropLast()) + (secret.last == "x" ? "y" : "x"),
            ] {
                await #expect(throws: TalosError.self) {
                    try await service.selfRevoke(credential: credential, reason: .keyCompromise, nid: nid)
                }
            }
        }
        #expect(storage.writes == writesAfterIssue)
        try await service.selfRevoke(credential: secret, reason: .keyCompromise, nid: nid)
        #expect(storage.writes == writesAfterIssue + 1)
        try await service.selfRevoke(credential: secret, reason: .keyCompromise, nid: nid)
        #expect(storage.writes == writesAfterIssue + 1)
    }
}
