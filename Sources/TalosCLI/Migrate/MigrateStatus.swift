import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos migrate status [--block]`: one line per migration, `VERSION NAME applied|pending`.
struct MigrateStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show migration state.")

    @OptionGroup var options: MigrateOptions

    @Flag(help: "Poll every second until nothing is pending.")
    var block = false

    func run() async throws {
        try await options.withMigrator { migrator in
            var status = try await migrator.status()
            while block, !status.isUpToDate {
                try await Task.sleep(for: .seconds(1))
                status = try await migrator.status()
            }
            for entry in status.entries {
                print("\(entry.version) \(entry.name) \(entry.applied ? "applied" : "pending")")
            }
            if status.dirty { print("dirty at version \(status.currentVersion)") }
        }
    }
}
