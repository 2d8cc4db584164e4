import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys issued update KEY_ID [flags]`: the update mask is the set of flags given.
struct IssuedUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update an issued key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var options: UpdateOptions

    @Argument(help: "Key id (UUID).")
    var keyID: String

    func run() async throws { try await options.update(client: client, collection: "issuedApiKeys", keyID: keyID) }
}

/// `talos keys imported update KEY_ID [flags]`.
struct ImportedUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update an imported key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var options: UpdateOptions

    @Argument(help: "Key id (64 hex characters).")
    var keyID: String

    func run() async throws { try await options.update(client: client, collection: "importedApiKeys", keyID: keyID) }
}

/// The flags of the update commands; the update mask is the set of flags given.
struct UpdateOptions: ParsableArguments {
    @OptionGroup var attributes: KeyAttributeOptions

    @Option(help: "New name.")
    var name: String?

    @Flag(help: "Remove the rate-limit policy.")
    var clearRateLimit = false

    @Flag(help: "Remove the IP restriction.")
    var clearIpRestriction = false

    func update(client: ClientOptions, collection: String, keyID: String) async throws {
        var body = JSONObject()
        var mask: [String] = []
        if let name {
            body["name"] = .string(name)
            mask.append("name")
        }
        for field in try attributes.fields() {
            body[field.key] = field.value
            mask.append(field.path)
        }
        if clearRateLimit { mask.append("rate_limit_policy") }
        if clearIpRestriction { mask.append("ip_restriction") }
        guard !mask.isEmpty else { throw CommandFailure.usage("Error: nothing to update; pass at least one flag") }
        let path =
            "/v2alpha1/admin/\(collection)/\(PercentEncoding.encode(keyID))?update_mask=\(mask.joined(separator: ","))"
        let response = try await client.client.call(.PATCH, path, body: .object(body))
        if client.quiet {
            print(response.body["key_id"]?.stringValue ?? "")
            return
        }
        try Printer(format: client.format).emit(response) { keyRows(response.body) }
    }
}
