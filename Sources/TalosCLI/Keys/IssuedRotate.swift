import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys issued rotate KEY_ID [overrides]`: a new key replaces the old one atomically.
struct IssuedRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate", abstract: "Rotate an issued key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var attributes: KeyAttributeOptions

    @Argument(help: "Key id (UUID).")
    var keyID: String

    @Option(help: "New name.")
    var name: String?

    @Option(help: "secret or public.")
    var visibility: String?

    @Flag(help: "Remove the rate-limit policy.")
    var clearRateLimit = false

    @Flag(help: "Remove the IP restriction.")
    var clearIpRestriction = false

    func run() async throws {
        var body = JSONObject()
        if let name { body["name"] = .string(name) }
        for field in try attributes.fields() { body[field.key] = field.value }
        if clearIpRestriction { body["ip_restriction"] = ["allowed_cidrs": []] }
        if let visibility { body["visibility"] = .string(try visibilityName(visibility)) }
        if clearRateLimit {
            throw CommandFailure.usage(
                "Error: rotation inherits the rate-limit policy; clear it with update after rotating"
            )
        }
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/admin/issuedApiKeys/\(PercentEncoding.encode(keyID)):rotate",
            body: .object(body)
        )
        let secret = response.body["secret"]?.stringValue ?? ""
        if client.quiet {
            print(secret)
            return
        }
        try Printer(format: client.format).emit(response) {
            keyRows(response.body["issued_api_key"]) + [("SECRET", secret), ("REPLACES", keyID)]
        }
        if client.format == .table { printError("Store the secret now; it will not be shown again.") }
    }
}
