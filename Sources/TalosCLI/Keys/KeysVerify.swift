import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys verify CREDENTIAL`: exit 0 when valid, 1 otherwise.
struct KeysVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify a credential.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The API key or token to verify.")
    var credential: String

    @Flag(help: "Do not read the verification cache (Cache-Control: no-cache).")
    var noCache = false

    @Flag(help: "Neither read nor write the verification cache (Cache-Control: no-store).")
    var noStore = false

    func run() async throws {
        var headers: [(String, String)] = []
        if noStore {
            headers.append(("Cache-Control", "no-store"))
        } else if noCache {
            headers.append(("Cache-Control", "no-cache"))
        }
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/admin/apiKeys:verify",
            body: ["credential": .string(credential)],
            headers: headers
        )
        let valid = response.body["is_valid"] == .bool(true)
        if !client.quiet {
            try Printer(format: client.format).emit(response) {
                guard valid else {
                    return [
                        ("VALID", "false"), ("ERROR", response.body["error_code"]?.stringValue ?? ""),
                        ("MESSAGE", response.body["error_message"]?.stringValue ?? ""),
                    ]
                }
                return [
                    ("VALID", "true"),
                    ("KEY ID", response.body["key_id"]?.stringValue ?? ""),
                    ("ACTOR", response.body["actor_id"]?.stringValue ?? ""),
                    (
                        "SCOPES",
                        (response.body["scopes"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
                    ),
                    ("STATUS", response.body["status"]?.stringValue ?? ""),
                    ("EXPIRES", response.body["expire_time"]?.stringValue ?? "never"),
                    ("CACHE", response.cacheStatus ?? ""),
                ]
            }
        }
        if !valid { throw CommandFailure(message: "", exitCode: 1) }
    }
}
