import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

#if canImport(Glibc)
import Glibc
#endif

/// `talos keys imported import RAW_KEY|-`: registers an existing secret (spec §3.7).
struct ImportedImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import an existing key.")

    @OptionGroup var client: ClientOptions
    @OptionGroup var attributes: KeyAttributeOptions

    @Argument(help: "The raw key, or - to read it from standard input (keeps it out of the shell history).")
    var rawKey: String

    @OptionGroup var options: NewKeyOptions

    @Option(help: "Key name (required).")
    var name: String

    func run() async throws {
        let raw = rawKey == "-" ? (readLine(strippingNewline: true) ?? "") : rawKey
        var body: JSONObject = ["raw_key": .string(raw), "name": .string(name)]
        try options.complete(&body, attributes: attributes)
        let response = try await client.client.call(.POST, "/v2alpha1/admin/importedApiKeys", body: .object(body))
        if client.quiet {
            print(response.body["key_id"]?.stringValue ?? "")
            return
        }
        try Printer(format: client.format).emit(response) { keyRows(response.body) }
    }
}

/// Reads a file, or standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" {
        var bytes: [UInt8] = []
        while let line = readLine(strippingNewline: false) { bytes += Array(line.utf8) }
        return bytes
    }
    guard let bytes = readWholeFile(path) else { throw CommandFailure.usage("Error: cannot read \(path)") }
    return bytes
}

/// `talos keys imported batch-import FILE|-`: `{"requests":[…]}` or JSON Lines, one request per line.
struct ImportedBatchImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "batch-import", abstract: "Import up to 1000 keys.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "A JSON file {\"requests\":[…]} or JSON Lines; - reads standard input.")
    var file: String

    func run() async throws {
        let input = try readInput(file)
        var requests: [JSONValue]
        if let document = try? JSONValue.parse(input), let items = document["requests"]?.arrayValue {
            requests = items
        } else {
            requests = []
            for (number, line) in input.split(separator: UInt8(ascii: "\n")).enumerated() {
                guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) else { continue }
                guard let item = try? JSONValue.parse(Array(line)) else {
                    throw CommandFailure.usage("Error: line \(number + 1) is not JSON")
                }
                requests.append(item)
            }
        }
        let response = try await client.client.call(
            .POST,
            "/v2alpha1/admin/importedApiKeys:batchCreate",
            body: ["requests": .array(requests)]
        )
        let results = response.body["results"]?.arrayValue ?? []
        if client.quiet {
            for result in results { if let id = result["imported_api_key"]?["key_id"]?.stringValue { print(id) } }
        } else if client.format == .table {
            printColumns(
                ["INDEX", "KEY ID", "ERROR"],
                results.map { result in
                    [
                        result["index"]?.compactString ?? "", result["imported_api_key"]?["key_id"]?.stringValue ?? "",
                        result["error_message"]?.stringValue ?? "",
                    ]
                }
            )
        } else {
            try Printer(format: client.format).emit(response) { [] }
        }
        if response.body["failure_count"] != .int(0) { throw CommandFailure(message: "", exitCode: 1) }
    }
}

/// `talos keys imported delete KEY_ID`: hard delete in any status.
struct ImportedDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an imported key.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (64 hex characters).")
    var keyID: String

    func run() async throws {
        let response = try await client.client.call(
            .DELETE,
            "/v2alpha1/admin/importedApiKeys/\(PercentEncoding.encode(keyID))"
        )
        guard !client.quiet else { return }
        if client.format == .table {
            print("Deleted \(keyID)")
        } else {
            try Printer(format: client.format).emit(response) { [] }
        }
    }
}
