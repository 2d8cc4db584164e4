import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import TalosCore

/// A response from the Talos API: status, the `Ory-Talos-Cache` header and the JSON body (`{}` for 204).
struct APIResponse {
    let status: Int
    let cacheStatus: String?
    let body: JSONValue
    /// The body exactly as the server sent it (already compact JSON in the API's field order).
    let rawBody: [UInt8]

    var isSuccess: Bool { (200..<300).contains(status) }
}

/// The admin CLI's HTTP client. It uses AsyncHTTPClient: NIO-native like the server, async, with timeouts, and
/// already part of the build graph; it needs no libcurl at run time.
struct APIClient {
    let endpoint: String

    func send(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws -> APIResponse {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "talos-cli/\(TalosVersion.current)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serialized()))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw CommandFailure.failed("Error: cannot reach \(endpoint): \(error)")
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let raw = Array(buffer.readableBytesView)
        let json = raw.isEmpty ? JSONValue.object([:]) : (try? JSONValue.parse(raw)) ?? .object([:])
        return APIResponse(
            status: Int(response.status.code),
            cacheStatus: response.headers.first(name: "Ory-Talos-Cache"),
            body: json,
            rawBody: raw.isEmpty ? Array("{}".utf8) : raw
        )
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

/// Percent-encodes a path segment or query value.
func percentEncoded(_ text: String) -> String {
    var output = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            output.append(Character(Unicode.Scalar(byte)))
        default:
            output += "%" + Hex.encode([byte]).uppercased()
        }
    }
    return output
}
