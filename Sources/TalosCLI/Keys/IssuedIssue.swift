import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos keys issue` ≡ `talos keys issued issue`: POST /v2alpha1/admin/issuedApiKeys.
struct IssuedIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Issue a new API key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var attributes: KeyAttributeOptions

    @Argument(help: "Key name.")
    var name: String

    @Option(help: "Owner of the key (required).")
    var actor: String

    @Option(help: "Lifetime, e.g. 24h; the server's default_ttl applies when omitted.")
    var ttl: String?

    @Option(help: "secret or public.")
    var visibility: String?

    @Option(help: "Idempotency token.")
    var requestId: String?

    func run() async throws {
        var body: JSONObject = ["name": .string(name), "actor_id": .string(actor)]
        let fields = try attributes.fields()
        for field in fields where field.key == "scopes" { body[field.key] = field.value }
        if let ttl { body["ttl"] = .string(ttl) }
        for field in fields where field.key != "scopes" { body[field.key] = field.value }
        if let visibility {
            guard let value = KeyVisibility(wireName: "KEY_VISIBILITY_" + visibility.uppercased()) else {
                throw CommandFailure.usage("Error: --visibility must be secret or public")
            }
            body["visibility"] = .string(value.wireName)
        }
        if let requestId { body["request_id"] = .string(requestId) }
        let response = try await client.client.call(.POST, "/v2alpha1/admin/issuedApiKeys", body: .object(body))
        let secret = response.body["secret"]?.stringValue
        if client.quiet {
            if let secret { print(secret) }
            return
        }
        try Printer(format: client.format).emit(response) {
            keyRows(response.body["issued_api_key"]) + [("SECRET", secret ?? "(not shown: idempotent replay)")]
        }
        if client.format == .table, secret != nil { printError("Store the secret now; it will not be shown again.") }
    }
}
