import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos migrate down [--steps N]`: reverts the newest migrations.
struct MigrateDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Revert migrations.")

    @OptionGroup var options: MigrateOptions

    @Option(help: "How many migrations to revert.")
    var steps: Int = 1

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() async throws {
        try await options.withMigrator { migrator in
            let reverted = try await migrator.down(steps: steps)
            print(reverted.isEmpty ? "no change" : reverted.map { "reverted \($0)" }.joined(separator: "\n"))
        }
    }
}
