import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// The arguments every revoke command takes.
struct RevokeOptions: ParsableArguments {
    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (UUID for issued keys, 64 hex characters for imported keys).")
    var keyID: String

    @Option(help: "key_compromise, affiliation_changed, superseded or privilege_withdrawn.")
    var reason: String

    @Option(help: "Only with privilege_withdrawn.")
    var description: String?

    /// POSTs `…/<collection>/<id>:revoke`; `apiKeys` lets the server dispatch by id shape (spec §3.6).
    func revoke(collection: String) async throws {
        var body: JSONObject = ["reason": .string(try revocationReason(reason).wireName)]
        if let description { body["description"] = .string(description) }
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/admin/\(collection)/\(PercentEncoding.encode(keyID)):revoke",
            body: .object(body)
        )
        guard !client.quiet else { return }
        if client.format == .table {
            print("Revoked \(keyID)")
        } else {
            try Printer(format: client.format).emit(response) { [] }
        }
    }
}

/// `talos keys revoke KEY_ID --reason R`: revokes an issued or imported key by id.
struct KeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by id.")
    @OptionGroup var options: RevokeOptions
    func run() async throws { try await options.revoke(collection: "apiKeys") }
}

/// `talos keys issued revoke KEY_ID --reason R`.
struct IssuedRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an issued key.")
    @OptionGroup var options: RevokeOptions
    func run() async throws { try await options.revoke(collection: "issuedApiKeys") }
}

/// `talos keys imported revoke KEY_ID --reason R`.
struct ImportedRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an imported key.")
    @OptionGroup var options: RevokeOptions
    func run() async throws { try await options.revoke(collection: "importedApiKeys") }
}
