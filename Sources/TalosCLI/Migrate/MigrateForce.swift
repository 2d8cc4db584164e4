import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos migrate force VERSION`: records a version and clears the dirty flag without running SQL.
struct MigrateForce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "force",
        abstract: "Set the recorded version and clear the dirty flag."
    )

    @OptionGroup var options: MigrateOptions

    @Argument(help: "The version to record (0 = nothing applied).")
    var version: Int

    func run() async throws {
        try await options.withMigrator { migrator in
            try await migrator.force(version: version)
            print("forced version \(version)")
        }
    }
}
