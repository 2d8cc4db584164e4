import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos migrate up`: applies every pending migration.
struct MigrateUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Apply pending migrations.")

    @OptionGroup var options: MigrateOptions

    func run() async throws {
        try await options.withMigrator { migrator in
            let applied = try await migrator.up(steps: nil)
            print(applied.isEmpty ? "no change" : applied.map { "applied \($0)" }.joined(separator: "\n"))
        }
    }
}
