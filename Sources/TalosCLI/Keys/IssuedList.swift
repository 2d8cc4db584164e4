import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys issued list`: one page, or every page with `--all`.
struct IssuedList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List issued keys.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var options: ListOptions

    func run() async throws {
        try await options.list(client: client, collection: "issuedApiKeys", field: "issued_api_keys")
    }
}

/// `talos keys imported list`.
struct ImportedList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List imported keys.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var options: ListOptions

    func run() async throws {
        try await options.list(client: client, collection: "importedApiKeys", field: "imported_api_keys")
    }
}

/// Paging and filter flags shared by the list commands.
struct ListOptions: ParsableArguments {
    @Option(help: "Keys per page (server default 50, maximum 1000).")
    var pageSize: Int?

    @Option(help: "Continue from this page token.")
    var pageToken: String?

    @Option(help: "Filter, e.g. 'actor_id=\"u1\" AND status=KEY_STATUS_ACTIVE'.")
    var filter: String?

    @Option(help: "Only keys of this actor.")
    var actor: String?

    @Option(help: "Only keys with this status: active, revoked or expired.")
    var status: String?

    @Flag(help: "Follow next_page_token until the last page.")
    var all = false

    func effectiveFilter() throws -> String {
        var terms: [String] = []
        if let filter, !filter.isEmpty { terms.append(filter) }
        if let actor {
            let escaped = actor.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            terms.append("actor_id=\"\(escaped)\"")
        }
        if let status {
            guard ["active", "revoked", "expired"].contains(status.lowercased()) else {
                throw CommandFailure.usage("Error: --status must be active, revoked or expired")
            }
            terms.append("status=KEY_STATUS_\(status.uppercased())")
        }
        return terms.joined(separator: " AND ")
    }

    func list(client: ClientOptions, collection: String, field: String) async throws {
        let filter = try effectiveFilter()
        var token = pageToken ?? ""
        var keys: [JSONValue] = []
        var last: APIResponse
        repeat {
            var query: [String] = []
            if let pageSize { query.append("page_size=\(pageSize)") }
            if !token.isEmpty { query.append("page_token=\(PercentEncoding.encode(token))") }
            if !filter.isEmpty { query.append("filter=\(PercentEncoding.encode(filter))") }
            let path = "/v2alpha1/admin/\(collection)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            last = try await client.client.call(.GET, path)
            keys += last.body[field]?.arrayValue ?? []
            token = last.body["next_page_token"]?.stringValue ?? ""
        } while all && !token.isEmpty
        if client.quiet {
            for key in keys { print(key["key_id"]?.stringValue ?? "") }
            return
        }
        let document: JSONValue = [field: .array(keys), "next_page_token": .string(token)]
        if client.format == .table {
            let rows = keys.map { key in
                [
                    key["key_id"]?.stringValue ?? "", key["name"]?.stringValue ?? "",
                    key["actor_id"]?.stringValue ?? "",
                    key["status"]?.stringValue ?? "", key["expire_time"]?.stringValue ?? "never",
                ]
            }
            printColumns(["KEY ID", "NAME", "ACTOR", "STATUS", "EXPIRES"], rows)
            if !token.isEmpty { print("next page: --page-token \(token)") }
            return
        }
        try Printer(format: client.format).emit(last, value: all ? document : nil) { [] }
    }
}

func printColumns(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text + String(repeating: " ", count: widths[column] - text.count + 2)
            }.joined()
        )
    }
}
