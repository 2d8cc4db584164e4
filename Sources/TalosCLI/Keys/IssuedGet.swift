import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys issued get KEY_ID`.
struct IssuedGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show an issued key.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (UUID).")
    var keyID: String

    func run() async throws {
        try await getKey(client: client, collection: "issuedApiKeys", keyID: keyID)
    }
}

/// `talos keys imported get KEY_ID`.
struct ImportedGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show an imported key.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (64 hex characters).")
    var keyID: String

    func run() async throws {
        try await getKey(client: client, collection: "importedApiKeys", keyID: keyID)
    }
}

func getKey(client: ClientOptions, collection: String, keyID: String) async throws {
    let response = try await client.client.call(.GET, "/v2alpha1/admin/\(collection)/\(PercentEncoding.encode(keyID))")
    if client.quiet {
        print(response.body["key_id"]?.stringValue ?? "")
        return
    }
    try Printer(format: client.format).emit(response) { keyRows(response.body) }
}
