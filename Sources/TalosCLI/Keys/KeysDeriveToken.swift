import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys derive-token CREDENTIAL`: a short-lived JWT or macaroon (spec §3.13).
struct KeysDeriveToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "derive-token",
        abstract: "Derive a short-lived token."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The parent API key.")
    var credential: String

    @Option(help: "jwt or macaroon.")
    var algorithm: String = "jwt"

    @Option(help: "Lifetime, e.g. 15m; the server's derived default applies when omitted.")
    var ttl: String?

    @Option(help: "Comma-separated subset of the parent's scopes.")
    var scopes: String?

    @Option(help: "Comma-separated audiences the token is bound to.")
    var audiences: String?

    @Option(help: "Custom claims as a JSON object.")
    var claims: String?

    func run() async throws {
        guard ["jwt", "macaroon"].contains(algorithm.lowercased()) else {
            throw CommandFailure.usage("Error: --algorithm must be jwt or macaroon")
        }
        var body: JSONObject = [
            "credential": .string(credential), "algorithm": .string("TOKEN_ALGORITHM_\(algorithm.uppercased())"),
        ]
        if let ttl { body["ttl"] = .string(ttl) }
        if let scopes { body["scopes"] = .array(KeyAttributeOptions.list(scopes).map(JSONValue.string)) }
        if let audiences { body["audiences"] = .array(KeyAttributeOptions.list(audiences).map(JSONValue.string)) }
        if let claims {
            guard case .object(let object)? = try? JSONValue.parse(claims) else {
                throw CommandFailure.usage("Error: --claims must be a JSON object")
            }
            body["custom_claims"] = .object(object)
        }
        let response = try await client.client.call(.POST, "/v2alpha1/admin/apiKeys:derive", body: .object(body))
        let token = response.body["token"]
        if client.quiet {
            print(token?["token"]?.stringValue ?? "")
            return
        }
        try Printer(format: client.format).emit(response) {
            [
                ("TOKEN", token?["token"]?.stringValue ?? ""), ("EXPIRES", token?["expire_time"]?.stringValue ?? ""),
                ("SCOPES", (token?["scopes"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")),
            ]
        }
    }
}

/// `talos keys batch-verify CREDENTIAL… | -`: exit 1 when any credential is invalid.
struct KeysBatchVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-verify",
        abstract: "Verify up to 100 credentials."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "Credentials, or - to read one per line from standard input.")
    var credentials: [String]

    func run() async throws {
        var list = credentials
        if list == ["-"] {
            list = String(decoding: try readInput("-"), as: UTF8.self).split(separator: "\n").map(String.init)
                .filter { !$0.isEmpty }
        }
        guard !list.isEmpty else { throw CommandFailure.usage("Error: no credentials given") }
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/admin/apiKeys:batchVerify",
            body: ["requests": .array(list.map { ["credential": .string($0)] })]
        )
        let results = response.body["results"]?.arrayValue ?? []
        if !client.quiet {
            if client.format == .table {
                printColumns(
                    ["#", "VALID", "KEY ID", "ERROR"],
                    results.enumerated().map { index, result in
                        [
                            "\(index)", result["is_valid"] == .bool(true) ? "true" : "false",
                            result["key_id"]?.stringValue ?? "", result["error_code"]?.stringValue ?? "",
                        ]
                    }
                )
            } else {
                try Printer(format: client.format).emit(response) { [] }
            }
        }
        if results.contains(where: { $0["is_valid"] != .bool(true) }) { throw CommandFailure(message: "", exitCode: 1) }
    }
}

/// `talos keys self-revoke CREDENTIAL --reason R`: proof-of-possession revocation on the public surface.
struct KeysSelfRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-revoke",
        abstract: "Revoke a key by presenting it (public endpoint; use -e for port 4421)."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The API key to revoke.")
    var credential: String

    @Option(help: "key_compromise, affiliation_changed or superseded.")
    var reason: String

    func run() async throws {
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/apiKeys:selfRevoke",
            body: ["credential": .string(credential), "reason": .string(try revocationReason(reason).wireName)]
        )
        guard !client.quiet else { return }
        if client.format == .table {
            print("Revoked")
        } else {
            try Printer(format: client.format).emit(response) { [] }
        }
    }
}
