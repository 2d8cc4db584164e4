/// Versioned schema migrations of one storage backend (spec §10.2).
///
/// State lives in `schema_migrations(version, dirty)`: the version last applied and whether it failed midway.
/// A dirty state blocks every migration until `force` sets a version explicitly.
public protocol SchemaMigrator: Sendable {
    /// Every migration this binary knows, in ascending version order, with whether each is applied.
    /// - Throws: `StorageError`.
    func status() async throws -> MigrationStatus

    /// Applies pending migrations in order; `steps` limits how many (nil = all).
    /// - Returns: the versions applied.
    /// - Throws: `StorageError.migration` when the state is dirty or a migration fails (the state is then dirty).
    @discardableResult
    func up(steps: Int?) async throws -> [Int]

    /// Reverts the last `steps` applied migrations, newest first. - Returns: the versions reverted.
    /// - Throws: `StorageError.migration` when dirty or a down migration fails.
    @discardableResult
    func down(steps: Int) async throws -> [Int]

    /// Sets the recorded version without running anything and clears the dirty flag (0 = nothing applied).
    /// - Throws: `StorageError`.
    func force(version: Int) async throws
}

/// A snapshot of the migration state.
public struct MigrationStatus: Sendable, Hashable {
    /// One known migration.
    public struct Entry: Sendable, Hashable {
        /// The migration's version, as recorded in `schema_migrations`.
        public let version: Int
        /// A short human name, printed by `talos migrate status`.
        public let name: String
        /// Whether the recorded version is at or past this one.
        public let applied: Bool

        /// The state of migration `version` (`name`) as of the snapshot.
        public init(version: Int, name: String, applied: Bool) {
            self.version = version
            self.name = name
            self.applied = applied
        }
    }

    /// Every migration this binary knows, ascending by version.
    public let entries: [Entry]
    /// The recorded version (0 when nothing was applied).
    public let currentVersion: Int
    /// Whether a migration failed midway.
    public let dirty: Bool

    /// A snapshot of known migrations, the recorded version and the dirty flag.
    public init(entries: [Entry], currentVersion: Int, dirty: Bool) {
        self.entries = entries
        self.currentVersion = currentVersion
        self.dirty = dirty
    }

    /// Whether the schema is exactly what this binary expects.
    public var isUpToDate: Bool { !dirty && entries.allSatisfy(\.applied) }
}

/// One versioned schema change of a SQL backend, with its inverse.
public struct Migration: Sendable, Hashable {
    /// Position in the sequence: 1 for the first migration, each next one exactly one higher.
    public let version: Int
    /// A short human name, printed by `talos migrate status`.
    public let name: String
    /// Statements applying the change, run in one transaction.
    public let up: [String]
    /// Statements reverting it, run in one transaction.
    public let down: [String]

    /// Migration `version` (`name`), applied by `up` and reverted by `down`.
    public init(version: Int, name: String, up: [String], down: [String]) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
    }
}

/// What a SQL backend supplies to `MigrationRunner`: its migrations, a lock, and three primitives on
/// `schema_migrations(version, dirty)`. Everything else (ordering, the dirty protocol, steps, force) is shared.
public protocol MigrationDialect: Sendable {
    /// A session holding the migration lock; every call happens inside `withMigrationLock`.
    associatedtype Session: Sendable

    /// The backend's migrations, oldest first. Never edit a released one; append a new one.
    var migrations: [Migration] { get }

    /// Runs `body` holding the backend's migration lock (an advisory lock, or the single writer), so that
    /// replicas migrating together apply each migration once.
    func withMigrationLock<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T

    /// The recorded state, creating `schema_migrations` when missing; `(0, false)` when nothing was recorded.
    func state(_ session: Session) async throws -> (version: Int, dirty: Bool)

    /// Replaces the recorded state (its own transaction).
    func record(_ session: Session, version: Int, dirty: Bool) async throws

    /// Runs `statements` and then records `(version, dirty: false)`, all in one transaction.
    func apply(_ session: Session, statements: [String], recording version: Int) async throws
}

/// The golang-migrate–compatible migration protocol (spec §10.2) over any `MigrationDialect`: a dirty mark is
/// committed before each migration and cleared in the migration's own transaction, so a failure leaves the state
/// dirty and blocks every later migration until `force`.
public struct MigrationRunner<Dialect: MigrationDialect>: SchemaMigrator {
    let dialect: Dialect

    /// A runner over `dialect`'s migrations and lock.
    public init(_ dialect: Dialect) { self.dialect = dialect }

    /// Reads the recorded state under the migration lock; a migration counts as applied when its version is at or below
    /// the recorded one, even while dirty.
    public func status() async throws -> MigrationStatus {
        let migrations = dialect.migrations
        let (version, dirty) = try await dialect.withMigrationLock { [dialect] in try await dialect.state($0) }
        return MigrationStatus(
            entries: migrations.map { .init(version: $0.version, name: $0.name, applied: $0.version <= version) },
            currentVersion: version,
            dirty: dirty
        )
    }

    /// Applies pending migrations oldest first under the migration lock, at most `steps` of them (`nil` = all); a
    /// replica that takes the lock after another one migrated finds nothing pending and returns `[]`.
    /// - Returns: the versions applied.
    /// - Throws: `StorageError.migration` when dirty or a migration fails, which leaves the state dirty;
    ///   `.unavailable` / `.timeout` unchanged (the state may then be dirty too).
    @discardableResult
    public func up(steps: Int?) async throws -> [Int] {
        try await dialect.withMigrationLock { [dialect] session in
            var applied: [Int] = []
            for migration in dialect.migrations {
                if let steps, applied.count >= steps { break }
                let ran = try await Self.run(
                    migration,
                    migration.up,
                    dialect,
                    session,
                    expecting: migration.version - 1,
                    to: migration.version
                )
                if ran { applied.append(migration.version) }
            }
            return applied
        }
    }

    /// Reverts applied migrations newest first under the migration lock, at most `steps` of them.
    /// - Returns: the versions reverted.
    /// - Throws: `StorageError.migration` when dirty or a down migration fails, which leaves the state dirty.
    @discardableResult
    public func down(steps: Int) async throws -> [Int] {
        try await dialect.withMigrationLock { [dialect] session in
            var reverted: [Int] = []
            for migration in dialect.migrations.reversed() where reverted.count < steps {
                let ran = try await Self.run(
                    migration,
                    migration.down,
                    dialect,
                    session,
                    expecting: migration.version,
                    to: migration.version - 1
                )
                if ran { reverted.append(migration.version) }
            }
            return reverted
        }
    }

    /// Records `version` with the dirty flag cleared under the migration lock, running no statements.
    public func force(version: Int) async throws {
        try await dialect.withMigrationLock { [dialect] session in
            _ = try await dialect.state(session)
            try await dialect.record(session, version: version, dirty: false)
        }
    }

    /// Applies one migration when the recorded version is `expected`; `false` when it is not that migration's turn.
    private static func run(
        _ migration: Migration,
        _ statements: [String],
        _ dialect: Dialect,
        _ session: Dialect.Session,
        expecting expected: Int,
        to target: Int
    ) async throws -> Bool {
        let (version, dirty) = try await dialect.state(session)
        if dirty {
            throw StorageError.migration(
                "database is dirty at version \(version); fix it and run \"talos migrate force VERSION\""
            )
        }
        guard version == expected else { return false }
        try await dialect.record(session, version: target, dirty: true)
        do {
            try await dialect.apply(session, statements: statements, recording: target)
        } catch let error as StorageError where error.isUnavailable || error.isTimeout {
            throw error
        } catch {
            throw StorageError.migration("migration \(migration.version) \(migration.name) failed: \(error)")
        }
        return true
    }
}
