import ArgumentParser
import TalosHost

/// `talos serve`: admin and public surfaces on one listener.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server (admin and public surfaces).",
        subcommands: [ServeAdmin.self, ServePublic.self]
    )

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await ServerRunner(options: options, mode: .all).run()
    }
}

/// `talos serve admin`: the admin surface only (default port 4420).
struct ServeAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "Run the admin surface only.")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await ServerRunner(options: options, mode: .admin).run()
    }
}

/// `talos serve public`: the public surface only (default port 4421).
struct ServePublic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "public", abstract: "Run the public surface only.")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await ServerRunner(options: options, mode: .public).run()
    }
}
