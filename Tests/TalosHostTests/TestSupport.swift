import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TalosCore
import TalosHost
import TalosPlugins
import TalosTesting
import Testing

let testSecret = "an-example-hmac-secret-of-32-chars!!"

/// A configuration for a server on a fresh SQLite file.
func testConfig(database: String = temporaryDatabase()) -> TalosConfig {
    var config = TalosConfig()
    config.issuer = "https://api.example.com"
    config.hmacSecret = testSecret
    config.databaseDSN = database
    return config
}

func temporaryDatabase() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("talos-host-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return "sqlite://\(directory.path)/talos.db"
}

/// A decoded response.
struct Reply {
    let status: Int
    let json: JSONValue
    let headers: HTTPFields
    let rawBody: String

    var reason: String? { json["error"]?["details"]?.arrayValue?.first?["reason"]?.stringValue }
    var message: String? { json["error"]?["message"]?.stringValue }
}

/// An in-process client over the real application builder.
struct API {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        try await client.execute(
            uri: path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            let json = text.isEmpty ? JSONValue.null : (try? JSONValue.parse(text)) ?? .null
            return Reply(status: Int(response.status.code), json: json, headers: response.headers, rawBody: text)
        }
    }

    func post(_ path: String, _ body: JSONValue, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.post, path, body.compactString, headers: headers)
    }

    /// Issues a key and returns (key_id, secret).
    func issue(_ body: JSONValue = ["name": "k", "actor_id": "user_1"]) async throws -> (String, String) {
        let reply = try await post("/v2alpha1/admin/issuedApiKeys", body)
        #expect(reply.status == 201, "issue failed: \(reply.rawBody)")
        return (
            try #require(reply.json["issued_api_key"]?["key_id"]?.stringValue),
            try #require(reply.json["secret"]?.stringValue)
        )
    }

    func verify(_ credential: String, noCache: Bool = false) async throws -> Reply {
        var headers = HTTPFields()
        if noCache { headers[.cacheControl] = "no-cache" }
        return try await post("/v2alpha1/admin/apiKeys:verify", ["credential": .string(credential)], headers: headers)
    }

    func revoke(_ keyID: String, reason: String = "REVOCATION_REASON_KEY_COMPROMISE") async throws -> Reply {
        try await post("/v2alpha1/admin/apiKeys/\(keyID):revoke", ["reason": .string(reason)])
    }
}

/// Runs `body` against an application built from `config` exactly as `talos serve` builds it; in process, or with
/// `live` over loopback through the real listener (its requests carry `Host: localhost` and come from 127.0.0.1).
func withAPI<T>(
    _ config: TalosConfig = testConfig(),
    mode: ServerMode = .all,
    clock: ManualClock = ManualClock(),
    live: Bool = false,
    _ body: @escaping @Sendable (API) async throws -> T
) async throws -> T {
    let app = try await buildApplication(
        config: config,
        registry: .builtIn,
        mode: mode,
        logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
        clock: clock
    )
    return try await app.test(live ? .live : .router) { client in try await body(API(client: client)) }
}
