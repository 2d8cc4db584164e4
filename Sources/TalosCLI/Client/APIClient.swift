import NIOHTTP1
import TalosClient
import TalosCore

/// A response from the Talos API, as the library client returns it.
typealias APIResponse = TalosResponse

extension TalosResponse {
    /// `Ory-Talos-Cache` of a verify.
    var cacheStatus: String? { header("Ory-Talos-Cache") }
}

/// The admin CLI's view of the one client of the project (`TalosClient`): failures become CLI errors and exit codes.
struct APIClient {
    let endpoint: String
    /// `--admin-key` or `TALOS_ADMIN_KEY` (spec §16.3).
    var adminKey: String?

    private var client: TalosClient {
        TalosClient(endpoint: endpoint, adminKey: adminKey, userAgent: "talos-cli/\(TalosVersion.current)")
    }

    func send(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws -> APIResponse {
        do {
            return try await client.send(method, path, body: body, headers: headers)
        } catch {
            throw CommandFailure.failed("Error: \(error)")
        }
    }

    /// Sends and requires a 2xx answer; otherwise fails with `Error: <message> (<reason>)` (exit 1).
    func call(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws -> APIResponse {
        let response = try await send(method, path, body: body, headers: headers)
        guard response.isSuccess else { throw Self.failure(response) }
        return response
    }

    static func failure(_ response: APIResponse) -> CommandFailure {
        let error = response.body["error"]
        let message = error?["message"]?.stringValue ?? "HTTP \(response.status)"
        let reason = error?["details"]?.arrayValue?.first?["reason"]?.stringValue
        return .failed("Error: \(message)" + (reason.map { " (\($0))" } ?? ""))
    }
}
