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
        public let version: Int
        public let name: String
        public let applied: Bool

        public init(version: Int, name: String, applied: Bool) {
            self.version = version
            self.name = name
            self.applied = applied
        }
    }

    public let entries: [Entry]
    /// The recorded version (0 when nothing was applied).
    public let currentVersion: Int
    /// Whether a migration failed midway.
    public let dirty: Bool

    public init(entries: [Entry], currentVersion: Int, dirty: Bool) {
        self.entries = entries
        self.currentVersion = currentVersion
        self.dirty = dirty
    }

    /// Whether the schema is exactly what this binary expects.
    public var isUpToDate: Bool { !dirty && entries.allSatisfy(\.applied) }
}
