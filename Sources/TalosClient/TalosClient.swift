public import AsyncHTTPClient
import NIOCore
public import NIOHTTP1
public import TalosCore

/// A typed, async client for the Talos API (v2alpha1), on AsyncHTTPClient (no Foundation networking on Linux).
///
/// Written by hand over the wire format rather than generated from `/openapi.json`: the API's custom methods
/// (`…:verify`, `…:rotate`), its field-order-preserving JSON and its one error envelope read better as a handful of
/// plain methods and value types than as a generated operation-per-struct surface. `send` is the raw layer the
/// `talos` CLI builds on, so the project has one client.
public struct TalosClient: Sendable {
    /// The server's base URL, e.g. `http://localhost:4420`.
    public let endpoint: String
    /// The deadline of each request.
    public let timeout: Duration
    let httpClient: HTTPClient
    let userAgent: String
    /// Sent as `Authorization: Bearer` on every `/v2alpha1/admin/*` request (spec §16.3); never logged or described.
    let adminKey: String?

    /// - Parameters:
    ///   - endpoint: the server's base URL.
    ///   - adminKey: the admin key for a server with `serve.admin.auth.enabled` (`nil`: none is sent).
    ///   - timeout: the deadline of each request (default 30 s).
    ///   - httpClient: the connection pool to use (default: AsyncHTTPClient's shared one).
    public init(
        endpoint: String,
        adminKey: String? = nil,
        timeout: Duration = .seconds(30),
        httpClient: HTTPClient = .shared,
        userAgent: String = "talos-client/\(TalosVersion.current)"
    ) {
        self.adminKey = adminKey.flatMap { $0.isEmpty ? nil : $0 }
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.timeout = timeout
        self.httpClient = httpClient
        self.userAgent = userAgent
    }

    // MARK: Raw layer

    /// Sends one request and returns the answer whatever its status.
    /// - Throws: `TalosClientError.transport` when the server cannot be reached or does not answer in time.
    public func send(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws(TalosClientError) -> TalosResponse {
        var request = request(method, path, accept: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serialized()))
        }
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            let buffer = try await response.body.collect(upTo: 64 << 20)
            let raw = Array(buffer.readableBytesView)
            return TalosResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: raw.isEmpty ? .object([:]) : (try? JSONValue.parse(raw)) ?? .object([:]),
                rawBody: raw.isEmpty ? Array("{}".utf8) : raw
            )
        } catch {
            throw .transport("cannot reach \(endpoint): \(error)")
        }
    }

    /// A request to `path` on the endpoint with this client's `User-Agent`, for calls `send` does not cover (e.g. a
    /// streamed answer).
    public func request(_ method: HTTPMethod, _ path: String, accept: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: userAgent)
        // Only the admin surface needs it: the public surface (and any proxy in front of it) never sees it.
        if let adminKey, path.hasPrefix("/v2alpha1/admin/") {
            request.headers.add(name: "Authorization", value: "Bearer \(adminKey)")
        }
        return request
    }

    /// Sends one request and requires a 2xx answer.
    /// - Throws: `TalosClientError.api` carrying the error envelope for any other status.
    public func call(
        _ method: HTTPMethod,
        _ path: String,
        body: JSONValue? = nil,
        headers: [(String, String)] = []
    ) async throws(TalosClientError) -> TalosResponse {
        let response = try await send(method, path, body: body, headers: headers)
        guard response.isSuccess else { throw .api(TalosAPIError(response)) }
        return response
    }
}

/// The admin key must never be printed, dumped or logged.
extension TalosClient: RedactedDescription {}

/// An answer of the API: status, headers and the JSON body (`{}` for 204).
public struct TalosResponse: Sendable {
    public let status: Int
    /// Header fields in the order received.
    public let headers: [(String, String)]
    public let body: JSONValue
    /// The body exactly as the server sent it (compact JSON in the API's field order).
    public let rawBody: [UInt8]

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A failed call.
public enum TalosClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with the error envelope (spec §2.5).
    case api(TalosAPIError)
    /// The server could not be reached, or did not answer in time.
    case transport(String)

    public var description: String {
        switch self {
        case .api(let error): "\(error.message) (\(error.reason), HTTP \(error.httpStatus))"
        case .transport(let detail): detail
        }
    }
}

/// The error envelope of a failed call: `{"error":{"code","status","message","details":[ErrorInfo, RequestInfo]}}`.
public struct TalosAPIError: Sendable, Hashable {
    /// The HTTP status.
    public let httpStatus: Int
    /// The gRPC-style status, e.g. `NOT_FOUND`.
    public let status: String
    /// The reason of spec §2.5's table, e.g. `API_KEY_NOT_FOUND`.
    public let reason: String
    public let message: String
    /// `ErrorInfo.metadata` (e.g. `limit` and `current_usage` of `QUOTA_EXCEEDED`).
    public let metadata: [String: String]
    /// The request id the server logged the failure under.
    public let requestID: String?

    init(_ response: TalosResponse) {
        let error = response.body["error"]
        let details = error?["details"]?.arrayValue ?? []
        let info = details.first { $0["@type"]?.stringValue?.hasSuffix("ErrorInfo") == true }
        httpStatus = response.status
        status = error?["status"]?.stringValue ?? "UNKNOWN"
        reason = info?["reason"]?.stringValue ?? "UNKNOWN"
        message = error?["message"]?.stringValue ?? "HTTP \(response.status)"
        metadata = Dictionary(
            (info?["metadata"]?.objectValue ?? [:]).compactMap { key, value in value.stringValue.map { (key, $0) } },
            uniquingKeysWith: { first, _ in first }
        )
        requestID = details.first { $0["request_id"] != nil }?["request_id"]?.stringValue
    }
}
