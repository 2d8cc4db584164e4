import ArgumentParser

/// Flags shared by every client command (spec §10.1).
struct ClientOptions: ParsableArguments {
    @Option(name: [.short, .customLong("endpoint")], help: "Talos server URL.")
    var endpoint: String = "http://localhost:4420"

    @Option(name: .customLong("config"), help: "JSON configuration file (unused by client commands).")
    var config: String?

    @Option(help: "Output format: table, json, json-pretty, yaml, jsonpath=<expr>, jsonpointer=<ptr>.")
    var format: OutputFormat = .table

    @Flag(name: [.short, .long], help: "Print only ids or secrets.")
    var quiet = false

    @Option(help: "Admin key for a server with admin authentication (default: TALOS_ADMIN_KEY).")
    var adminKey: String?

    var client: APIClient {
        APIClient(endpoint: endpoint, adminKey: adminKey ?? processEnvironment()["TALOS_ADMIN_KEY"])
    }
}
