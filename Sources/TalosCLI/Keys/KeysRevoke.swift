import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos keys revoke KEY_ID --reason R`: revokes an issued or imported key by id (spec §3.6).
struct KeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by id.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (UUID for issued keys, 64 hex characters for imported keys).")
    var keyID: String

    @Option(help: "key_compromise, affiliation_changed, superseded or privilege_withdrawn.")
    var reason: String

    @Option(help: "Only with privilege_withdrawn.")
    var description: String?

    func run() async throws {
        try await revoke(client: client, collection: "apiKeys", keyID: keyID, reason: reason, description: description)
    }
}

/// `talos keys issued revoke KEY_ID --reason R`.
struct IssuedRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an issued key.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (UUID).")
    var keyID: String

    @Option(help: "key_compromise, affiliation_changed, superseded or privilege_withdrawn.")
    var reason: String

    @Option(help: "Only with privilege_withdrawn.")
    var description: String?

    func run() async throws {
        try await revoke(client: client, collection: "issuedApiKeys", keyID: keyID, reason: reason, description: description)
    }
}

/// `talos keys imported revoke KEY_ID --reason R`.
struct ImportedRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an imported key.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (64 hex characters).")
    var keyID: String

    @Option(help: "key_compromise, affiliation_changed, superseded or privilege_withdrawn.")
    var reason: String

    @Option(help: "Only with privilege_withdrawn.")
    var description: String?

    func run() async throws {
        try await revoke(client: client, collection: "importedApiKeys", keyID: keyID, reason: reason, description: description)
    }
}

func revoke(client: ClientOptions, collection: String, keyID: String, reason: String, description: String?) async throws {
    var body: JSONObject = ["reason": .string(try revocationReason(reason).wireName)]
    if let description { body["description"] = .string(description) }
    let response = try await client.client.call(
        .POST, "/v2alpha1/admin/\(collection)/\(percentEncoded(keyID)):revoke", body: .object(body))
    guard !client.quiet else { return }
    if client.format == .table {
        print("Revoked \(keyID)")
    } else {
        try Printer(format: client.format).emit(response) { [] }
    }
}
