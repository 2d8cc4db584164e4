import ArgumentParser
import NIOHTTP1
import TalosCore

/// `talos keys …`: the admin CLI over the HTTP API.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage and verify API keys through a Talos server.",
        subcommands: [
            IssuedIssue.self, KeysVerify.self, KeysBatchVerify.self, KeysRevoke.self, KeysDeriveToken.self,
            KeysSelfRevoke.self, KeysUsage.self, Issued.self, Imported.self,
        ]
    )
}

/// `talos keys imported …`.
struct Imported: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage imported API keys.",
        subcommands: [
            ImportedImport.self, ImportedBatchImport.self, ImportedGet.self, ImportedList.self, ImportedUpdate.self,
            ImportedRevoke.self, ImportedDelete.self,
        ]
    )
}

/// `talos keys issued …`.
struct Issued: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage issued API keys.",
        subcommands: [
            IssuedIssue.self, IssuedGet.self, IssuedList.self, IssuedUpdate.self, IssuedRotate.self, IssuedRevoke.self,
        ]
    )
}

/// Flags that set a key's mutable attributes (issue, update, rotate).
struct KeyAttributeOptions: ParsableArguments {
    @Option(help: "Comma-separated scopes.")
    var scopes: String?

    @Option(help: "Metadata as a JSON object.")
    var metadata: String?

    @Option(help: "Rate-limit quota (requests per window).")
    var rateLimitQuota: Int64?

    @Option(help: "Rate-limit window, e.g. 60s.")
    var rateLimitWindow: String?

    @Option(help: "Comma-separated CIDRs allowed to use the key.")
    var allowedCidrs: String?

    /// The attributes given, in API field order, with the mask paths they set.
    func fields() throws -> [(path: String, key: String, value: JSONValue)] {
        var fields: [(String, String, JSONValue)] = []
        if let scopes { fields.append(("scopes", "scopes", .array(Self.list(scopes).map(JSONValue.string)))) }
        if let metadata {
            guard case .object(let object)? = try? JSONValue.parse(metadata) else {
                throw CommandFailure.usage("Error: --metadata must be a JSON object")
            }
            fields.append(("metadata", "metadata", .object(object)))
        }
        if rateLimitQuota != nil || rateLimitWindow != nil {
            guard let rateLimitQuota, let rateLimitWindow else {
                throw CommandFailure.usage("Error: --rate-limit-quota and --rate-limit-window go together")
            }
            fields.append(
                (
                    "rate_limit_policy", "rate_limit_policy",
                    ["quota": .string(String(rateLimitQuota)), "window": .string(rateLimitWindow)]
                )
            )
        }
        if let allowedCidrs {
            fields.append(
                (
                    "ip_restriction", "ip_restriction",
                    ["allowed_cidrs": .array(Self.list(allowedCidrs).map(JSONValue.string))]
                )
            )
        }
        return fields
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
    }
}

/// Flags of the commands that create a key (issue, import), after the attribute flags.
struct NewKeyOptions: ParsableArguments {
    @Option(help: "Owner of the key (required).")
    var actor: String

    @Option(help: "Lifetime, e.g. 24h; the server's default_ttl applies when omitted.")
    var ttl: String?

    @Option(help: "secret or public.")
    var visibility: String?

    @Option(help: "Idempotency token.")
    var requestId: String?

    /// Adds ttl, the attribute flags, visibility and request id to `body`, in API field order.
    func complete(_ body: inout JSONObject, attributes: KeyAttributeOptions) throws {
        body["actor_id"] = .string(actor)
        let fields = try attributes.fields()
        for field in fields where field.key == "scopes" { body[field.key] = field.value }
        if let ttl { body["ttl"] = .string(ttl) }
        for field in fields where field.key != "scopes" { body[field.key] = field.value }
        if let visibility { body["visibility"] = .string(try visibilityName(visibility)) }
        if let requestId { body["request_id"] = .string(requestId) }
    }
}

/// The wire name for `--visibility secret|public`.
func visibilityName(_ text: String) throws -> String {
    guard let value = KeyVisibility(wireName: "KEY_VISIBILITY_" + text.uppercased()) else {
        throw CommandFailure.usage("Error: --visibility must be secret or public")
    }
    return value.wireName
}

/// Parses `--reason` (spec §10.3): short names, hyphens, or full enum names, case-insensitive.
func revocationReason(_ text: String) throws -> RevocationReason {
    var name = text.uppercased().map { $0 == "-" ? "_" : $0 }.reduce(into: "") { $0.append($1) }
    if !name.hasPrefix(RevocationReason.wirePrefix + "_") { name = RevocationReason.wirePrefix + "_" + name }
    guard let reason = RevocationReason(wireName: name) else {
        throw CommandFailure.usage(
            "Error: unknown reason \"\(text)\" (use key_compromise, affiliation_changed, superseded, privilege_withdrawn)"
        )
    }
    return reason
}

/// Table rows describing one key resource.
func keyRows(_ key: JSONValue?) -> [(String, String)] {
    guard let key else { return [] }
    var rows: [(String, String)] = [
        ("KEY ID", key["key_id"]?.stringValue ?? ""),
        ("NAME", key["name"]?.stringValue ?? ""),
        ("ACTOR", key["actor_id"]?.stringValue ?? ""),
        ("SCOPES", (key["scopes"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")),
        ("STATUS", key["status"]?.stringValue ?? ""),
        ("EXPIRES", key["expire_time"]?.stringValue ?? "never"),
    ]
    if let reason = key["revocation_reason"]?.stringValue { rows.append(("REVOKED FOR", reason)) }
    return rows
}
