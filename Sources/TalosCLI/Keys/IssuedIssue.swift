import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys issue` ≡ `talos keys issued issue`: POST /v2alpha1/admin/issuedApiKeys.
struct IssuedIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Issue a new API key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var attributes: KeyAttributeOptions

    @OptionGroup var options: NewKeyOptions

    @Argument(help: "Key name.")
    var name: String

    func run() async throws {
        var body: JSONObject = ["name": .string(name)]
        try options.complete(&body, attributes: attributes)
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
