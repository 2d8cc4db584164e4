import HTTPTypes
import Hummingbird
import Logging
import TalosCore

/// The API operations behind the route table (spec §3).
struct Handlers: Sendable {
    let service: KeyService
    let verifier: Verifier
    let storage: any KeyStorage
    let clock: any WallClock
    let httpSettings: SettingsStore<HTTPSettings>
    /// Self-revoke requests per client IP (spec §15.5).
    let selfRevokeLimiter: TokenBuckets
    let logger: Logger
    /// `GET /openapi.json` of this server mode, serialized once.
    let openAPIDocument: [UInt8]

    static let cacheHeader = HTTPField.Name("Ory-Talos-Cache")!
    static let oneMiB = 1 << 20
    static let sixteenMiB = 16 << 20

    func routes() -> [Route] {
        func route(
            _ method: HTTPRequest.Method,
            _ path: String,
            _ surface: Surface,
            limit: Int = Self.oneMiB,
            _ handler: @escaping @Sendable (APIRequest) async throws -> APIReply
        ) -> Route {
            Route(method: method, pattern: PathPattern(path), surface: surface, bodyLimit: limit, handler: handler)
        }
        let admin = "/v2alpha1/admin"
        return [
            route(.get, "/health/alive", .always) { _ in .json(["status": "ok"]) },
            route(.get, "/health/ready", .always) { _ in await ready() },
            route(.get, "/version", .always) { _ in .json(["version": .string(TalosVersion.current)]) },
            route(.get, "/openapi.json", .always) { _ in .document(openAPIDocument) },
            route(.post, "\(admin)/issuedApiKeys", .admin, issue),
            route(.get, "\(admin)/issuedApiKeys", .admin) { try await list(.issued, $0) },
            route(.get, "\(admin)/issuedApiKeys/{key_id}", .admin) { try await get(.issued, $0) },
            route(.patch, "\(admin)/issuedApiKeys/{key_id}", .admin) { try await update(.issued, $0) },
            route(.post, "\(admin)/issuedApiKeys/{key_id}:rotate", .admin, rotate),
            route(.post, "\(admin)/issuedApiKeys/{key_id}:revoke", .admin) { try await revoke(.issued, $0) },
            route(.post, "\(admin)/importedApiKeys", .admin, importKey),
            route(.post, "\(admin)/importedApiKeys:batchCreate", .admin, limit: Self.sixteenMiB, batchImport),
            route(.post, "\(admin)/importedApiKeys:batchImport", .admin, limit: Self.sixteenMiB, batchImport),
            route(.get, "\(admin)/importedApiKeys", .admin) { try await list(.imported, $0) },
            route(.get, "\(admin)/importedApiKeys/{key_id}", .admin) { try await get(.imported, $0) },
            route(.patch, "\(admin)/importedApiKeys/{key_id}", .admin) { try await update(.imported, $0) },
            route(.delete, "\(admin)/importedApiKeys/{key_id}", .admin, deleteImported),
            route(.post, "\(admin)/importedApiKeys/{key_id}:revoke", .admin) { try await revoke(.imported, $0) },
            route(.post, "\(admin)/apiKeys/{key_id}:revoke", .admin) { try await revoke(nil, $0) },
            route(.post, "\(admin)/apiKeys:verify", .admin, verify),
            route(.post, "\(admin)/apiKeys:batchVerify", .admin, limit: Self.sixteenMiB, batchVerify),
            route(.post, "/v2alpha1/apiKeys:selfRevoke", .public, selfRevoke),
            route(.post, "\(admin)/apiKeys:derive", .admin, derive),
            route(.get, "\(admin)/derivedKeys/jwks.json", .always, jwks),
            route(.get, "/v2alpha1/derivedKeys/jwks.json", .always, jwks),
        ]
    }

    // MARK: Health

    func ready() async -> APIReply {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await storage.checkHealth() }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    throw StorageError.timeout("no answer within 2s")
                }
                try await group.next()
                group.cancelAll()
            }
            return .json(["status": "ok"])
        } catch {
            let message = (error as? StorageError)?.detail ?? "database check failed"
            return .json(
                ["status": "unavailable", "errors": .object(["database": .string(message)])],
                status: .serviceUnavailable
            )
        }
    }

    // MARK: Issued keys

    func issue(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        var issue = IssueKeyRequest()
        issue.attributes = try body.attributes()
        issue.ttl = try body.string("ttl")
        issue.requestID = try body.string("request_id")
        let result = try await service.issue(issue, nid: request.nid)
        var object: JSONObject = ["issued_api_key": WireFormat.key(result.key, now: clock.now())]
        if let secret = result.secret { object["secret"] = .string(secret) }
        return .json(.object(object), status: .created)
    }

    func get(_ kind: KeyKind, _ request: APIRequest) async throws -> APIReply {
        let key = try await service.get(kind: kind, keyID: request.keyID ?? "", nid: request.nid)
        return .json(WireFormat.key(key, now: clock.now()))
    }

    func list(_ kind: KeyKind, _ request: APIRequest) async throws -> APIReply {
        var pageSize = 0
        if let text = request.query("page_size"), !text.isEmpty {
            guard let value = Int(text) else {
                throw TalosError.validation("page_size", "value must be an integer")
            }
            pageSize = value
        }
        let page = try await service.list(
            kind: kind,
            nid: request.nid,
            pageSize: pageSize,
            pageToken: request.query("page_token") ?? "",
            filter: request.query("filter") ?? ""
        )
        let now = clock.now()
        return .json([
            kind == .issued ? "issued_api_keys" : "imported_api_keys": .array(
                page.keys.map { WireFormat.key($0, now: now) }
            ),
            "next_page_token": .string(page.nextPageToken),
        ])
    }

    func update(_ kind: KeyKind, _ request: APIRequest) async throws -> APIReply {
        var body = try request.json()
        let wrapper = kind == .issued ? "issued_api_key" : "imported_api_key"
        if body.object.count == 1, case .object(let inner)? = body.object[wrapper] { body = BodyReader(object: inner) }
        var update = UpdateKeyRequest()
        update.attributes = try body.attributes()
        update.keyID = try body.string("key_id")
        let paths = request.queryAll("update_mask")
            .flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }.filter { !$0.isEmpty }
        if !paths.isEmpty { update.updateMask = paths }
        let key = try await service.update(kind: kind, keyID: request.keyID ?? "", nid: request.nid, update)
        return .json(WireFormat.key(key, now: clock.now()))
    }

    func rotate(_ request: APIRequest) async throws -> APIReply {
        let body =
            request.body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            ? BodyReader(object: [:]) : try request.json()
        var rotate = RotateKeyRequest()
        rotate.attributes = try body.attributes()
        if case .value(let name) = rotate.attributes.name, name.isEmpty {
            throw TalosError.validation("name", "value must not be empty")
        }
        let result = try await service.rotate(keyID: request.keyID ?? "", nid: request.nid, rotate)
        let now = clock.now()
        return .json(
            [
                "issued_api_key": WireFormat.key(result.key, now: now), "secret": .string(result.secret),
                "old_issued_api_key": WireFormat.key(result.oldKey, now: now),
            ],
            status: .created
        )
    }

    func revoke(_ kind: KeyKind?, _ request: APIRequest) async throws -> APIReply {
        let body = request.body.isEmpty ? BodyReader(object: [:]) : try request.json()
        try await service.revoke(
            kind: kind,
            keyID: request.keyID ?? "",
            nid: request.nid,
            reason: try body.wireEnum("reason", as: RevocationReason.self) ?? .unspecified,
            description: try body.string("description")
        )
        return .noContent
    }

    // MARK: Imported keys

    static func importRequest(_ body: BodyReader) throws(TalosError) -> ImportKeyRequest {
        var request = ImportKeyRequest()
        request.attributes = try body.attributes()
        request.rawKey = try body.string("raw_key")
        request.ttl = try body.string("ttl")
        request.requestID = try body.string("request_id")
        return request
    }

    func importKey(_ request: APIRequest) async throws -> APIReply {
        let key = try await service.importKey(Self.importRequest(try request.json()), nid: request.nid)
        return .json(WireFormat.key(key, now: clock.now()), status: .created)
    }

    func batchImport(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        var items: [BatchImportInput] = []
        switch body.presence("requests") {
        case .absent, .null: break
        case .value(let value):
            guard case .array(let elements) = value else {
                throw TalosError.malformed("field \"requests\" must be an array")
            }
            // Each item fails alone (spec §3.8), a wrongly typed one included.
            for element in elements {
                switch element {
                case .null: items.append(.missing)
                case .object(let object):
                    do {
                        items.append(.request(try Self.importRequest(BodyReader(object: object))))
                    } catch {
                        items.append(.unreadable(error.message))
                    }
                default: items.append(.unreadable("batch item must be an object"))
                }
            }
        }
        let results = try await service.batchImport(items, nid: request.nid)
        let now = clock.now()
        var successes = 0
        let rendered: [JSONValue] = results.enumerated().map { index, result in
            switch result {
            case .imported(let key):
                successes += 1
                return ["index": .int(Int64(index)), "imported_api_key": WireFormat.key(key, now: now)]
            case .failed(let code, let message):
                return [
                    "index": .int(Int64(index)), "error_code": .string(code.wireName),
                    "error_message": .string(message),
                ]
            }
        }
        return .json([
            "results": .array(rendered), "success_count": .int(Int64(successes)),
            "failure_count": .int(Int64(results.count - successes)),
        ])
    }

    func deleteImported(_ request: APIRequest) async throws -> APIReply {
        try await service.deleteImported(keyID: request.keyID ?? "", nid: request.nid)
        return .noContent
    }

    // MARK: Verification

    static func verificationItem(_ body: BodyReader) throws(TalosError) -> VerificationItem {
        let audiences = try body.strings("expected_audiences").value ?? []
        guard audiences.count <= 100 else {
            throw TalosError.validation("expected_audiences", "must contain at most 100 entries")
        }
        guard audiences.allSatisfy({ $0.utf8.count <= 256 }) else {
            throw TalosError.validation("expected_audiences", "each entry must be at most 256 bytes")
        }
        return VerificationItem(credential: try body.string("credential") ?? "", expectedAudiences: audiences)
    }

    func verify(_ request: APIRequest) async throws -> APIReply {
        let item = try Self.verificationItem(try request.json())
        let result = try await verifier.verify(item, context: verificationContext(request))
        var headers = HTTPFields()
        headers[Self.cacheHeader] = "SKIP"
        return .json(WireFormat.verification(result), headers: headers)
    }

    func batchVerify(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        guard case .value(let value) = body.presence("requests") else {
            throw TalosError(.invalidArgument, "requests must contain at least one item")
        }
        guard case .array(let items) = value else { throw TalosError.malformed("field \"requests\" must be an array") }
        guard !items.isEmpty else { throw TalosError(.invalidArgument, "requests must contain at least one item") }
        guard items.count <= 100 else { throw TalosError(.invalidArgument, "maximum 100 credentials per batch") }
        var credentials: [VerificationItem] = []
        for item in items {
            switch item {
            case .null: credentials.append(VerificationItem(credential: nil))
            case .object(let object): credentials.append(try Self.verificationItem(BodyReader(object: object)))
            default: throw TalosError.malformed("each item of \"requests\" must be an object")
            }
        }
        let results = try await verifier.verifyBatch(credentials, context: verificationContext(request))
        return .json([
            "results": .array(
                zip(results, credentials).map { WireFormat.batchVerificationItem($0, credential: $1.credential) }
            )
        ])
    }

    func derive(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        var derive = DeriveTokenRequest()
        derive.credential = try body.string("credential") ?? ""
        derive.macaroon = try body.wireEnum("algorithm", as: TokenAlgorithm.self) == .macaroon
        derive.ttl = try body.string("ttl")
        derive.scopes = try body.strings("scopes").value ?? []
        derive.audiences = try body.strings("audiences").value ?? []
        derive.customClaims = try body.object("custom_claims").value ?? [:]
        let token = try await verifier.derive(derive, context: verificationContext(request))
        var object: JSONObject = [
            "token": .string(token.token), "expire_time": .string(token.expireTime.rfc3339),
            "scopes": .array(token.scopes.map(JSONValue.string)), "claims": .object(token.claims),
        ]
        if !token.audiences.isEmpty { object["audiences"] = .array(token.audiences.map(JSONValue.string)) }
        return .json(["token": .object(object)])
    }

    func jwks(_ request: APIRequest) async throws -> APIReply {
        var headers = HTTPFields()
        headers[.cacheControl] = "public, max-age=300"
        // A standard JWK Set whose `jwks` member repeats the keys for Ory's SDK (spec §15.13).
        let jwks = service.signingKeys.publicJWKS
        return .json(["keys": jwks["keys"] ?? .array([]), "jwks": jwks], headers: headers)
    }

    func selfRevoke(_ request: APIRequest) async throws -> APIReply {
        let client = clientIP(request)?.description ?? request.context.remoteIP ?? ""
        if let wait = selfRevokeLimiter.take(client) {
            throw APIResponder.RateLimited(retryAfter: wait)
        }
        let body = try request.json()
        try await service.selfRevoke(
            credential: try body.string("credential") ?? "",
            reason: try body.wireEnum("reason", as: RevocationReason.self) ?? .unspecified,
            nid: request.nid
        )
        return .json([:])
    }

    private func verificationContext(_ request: APIRequest) -> VerificationContext {
        VerificationContext(nid: request.nid, clientIP: clientIP(request))
    }

    /// The client address per `serve.http.client_ip_source` and `trusted_proxies` (spec §5.6, §15.2); `nil` when
    /// missing or unparsable.
    func clientIP(_ request: APIRequest) -> IPAddress? {
        let headers = request.request.headers
        return httpSettings.current.clientIP.resolve(peer: request.context.remoteIP.flatMap { IPAddress($0) }) { name in
            HTTPField.Name(name).map { headers[values: $0] } ?? []
        }
    }
}
