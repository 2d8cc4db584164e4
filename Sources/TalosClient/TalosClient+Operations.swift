import NIOHTTP1
public import TalosCore

/// A stored key as the API returns it (spec §3.1; no secret).
public struct TalosKey: Sendable, Hashable {
    public let keyID: String
    public let name: String
    public let actorID: String
    public let scopes: [String]
    /// `KEY_STATUS_ACTIVE`, `KEY_STATUS_REVOKED` or `KEY_STATUS_EXPIRED`.
    public let status: String
    public let expireTime: String?
    public let metadata: JSONObject
    /// The whole object, for fields not modelled here.
    public let json: JSONValue

    init(_ json: JSONValue) {
        self.json = json
        keyID = json["key_id"]?.stringValue ?? ""
        name = json["name"]?.stringValue ?? ""
        actorID = json["actor_id"]?.stringValue ?? ""
        scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        status = json["status"]?.stringValue ?? ""
        expireTime = json["expire_time"]?.stringValue
        metadata = json["metadata"]?.objectValue ?? [:]
    }
}

/// The outcome of a verification (spec §3.14): valid with the key's facts, or invalid with an error code.
public struct TalosVerification: Sendable, Hashable {
    public let isValid: Bool
    /// `VERIFICATION_ERROR_…` when invalid.
    public let errorCode: String?
    public let keyID: String?
    public let actorID: String?
    public let scopes: [String]
    public let metadata: JSONObject
    public let audiences: [String]
    public let expireTime: String?
    /// `Ory-Talos-Cache` of a single verify: `HIT`, `MISS` or `SKIP`.
    public let cache: String?
    /// The whole result object.
    public let json: JSONValue

    init(_ json: JSONValue, cache: String?) {
        self.json = json
        self.cache = cache
        isValid = json["is_valid"] == .bool(true)
        errorCode = json["error_code"]?.stringValue
        keyID = json["key_id"]?.stringValue
        actorID = json["actor_id"]?.stringValue
        scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        metadata = json["metadata"]?.objectValue ?? [:]
        audiences = json["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        expireTime = json["expire_time"]?.stringValue
    }
}

extension TalosClient {
    // MARK: Issued keys

    /// Issues a key (spec §3.1). `attributes` are the request's fields (`name`, `actor_id`, `scopes`, `ttl`, …).
    /// - Returns: the key and its secret, which the server never shows again.
    public func issueKey(_ attributes: JSONObject) async throws(TalosClientError) -> (key: TalosKey, secret: String) {
        let response = try await call(.POST, "/v2alpha1/admin/issuedApiKeys", body: .object(attributes))
        return (TalosKey(response.body["issued_api_key"] ?? .null), response.body["secret"]?.stringValue ?? "")
    }

    /// One issued key.
    public func issuedKey(id: String) async throws(TalosClientError) -> TalosKey {
        TalosKey(try await call(.GET, "/v2alpha1/admin/issuedApiKeys/\(PercentEncoding.encode(id))").body)
    }

    /// Rotates an issued key (spec §3.5). - Returns: the new key and its secret.
    public func rotateKey(id: String) async throws(TalosClientError) -> (key: TalosKey, secret: String) {
        let response = try await call(
            .POST,
            "/v2alpha1/admin/issuedApiKeys/\(PercentEncoding.encode(id)):rotate",
            body: [:]
        )
        return (TalosKey(response.body["issued_api_key"] ?? .null), response.body["secret"]?.stringValue ?? "")
    }

    /// Revokes an issued or imported key (spec §3.6); `reason` is a `REVOCATION_REASON_…` name.
    public func revokeKey(id: String, reason: String) async throws(TalosClientError) {
        _ = try await call(
            .POST,
            "/v2alpha1/admin/apiKeys/\(PercentEncoding.encode(id)):revoke",
            body: ["reason": .string(reason)]
        )
    }

    /// Every issued key matching `filter`, page by page (spec §7), as an async sequence of keys.
    public func issuedKeys(filter: String = "", pageSize: Int = 100) -> TalosKeyPages {
        TalosKeyPages(
            client: self,
            path: "/v2alpha1/admin/issuedApiKeys",
            field: "issued_api_keys",
            filter: filter,
            pageSize: pageSize
        )
    }

    // MARK: Imported keys

    /// Imports an existing secret (spec §3.7); `attributes` holds `raw_key`, `name`, `actor_id`, ….
    public func importKey(_ attributes: JSONObject) async throws(TalosClientError) -> TalosKey {
        TalosKey(try await call(.POST, "/v2alpha1/admin/importedApiKeys", body: .object(attributes)).body)
    }

    /// Every imported key matching `filter`, page by page.
    public func importedKeys(filter: String = "", pageSize: Int = 100) -> TalosKeyPages {
        TalosKeyPages(
            client: self,
            path: "/v2alpha1/admin/importedApiKeys",
            field: "imported_api_keys",
            filter: filter,
            pageSize: pageSize
        )
    }

    /// Deletes an imported key (spec §3.12).
    public func deleteImportedKey(id: String) async throws(TalosClientError) {
        _ = try await call(.DELETE, "/v2alpha1/admin/importedApiKeys/\(PercentEncoding.encode(id))")
    }

    // MARK: Verification and derived tokens

    /// Verifies a credential (spec §3.14). Invalid credentials are results, not errors.
    /// - Parameters:
    ///   - cacheControl: e.g. `no-cache` to bypass the server's verification cache.
    ///   - headers: more request headers, e.g. the end client's address in the header `serve.http.client_ip_source`
    ///     names (honoured when this caller is one of the server's `trusted_proxies`).
    public func verify(
        _ credential: String,
        expectedAudiences: [String] = [],
        cacheControl: String? = nil,
        headers: [(String, String)] = []
    ) async throws(TalosClientError) -> TalosVerification {
        var body: JSONObject = ["credential": .string(credential)]
        if !expectedAudiences.isEmpty { body["expected_audiences"] = .array(expectedAudiences.map(JSONValue.string)) }
        let response = try await call(
            .POST,
            "/v2alpha1/admin/apiKeys:verify",
            body: .object(body),
            headers: (cacheControl.map { [("Cache-Control", $0)] } ?? []) + headers
        )
        return TalosVerification(response.body, cache: response.header("Ory-Talos-Cache"))
    }

    /// Verifies up to 100 credentials in one request (spec §3.15), results in order.
    public func batchVerify(_ credentials: [String]) async throws(TalosClientError) -> [TalosVerification] {
        let body: JSONValue = ["requests": .array(credentials.map { ["credential": .string($0)] })]
        let response = try await call(.POST, "/v2alpha1/admin/apiKeys:batchVerify", body: body)
        return (response.body["results"]?.arrayValue ?? []).map { TalosVerification($0, cache: nil) }
    }

    /// Derives a short-lived token (spec §3.13); `options` holds `ttl`, `scopes`, `audiences`, `algorithm`, ….
    /// - Returns: the token string.
    public func deriveToken(
        from credential: String,
        options: JSONObject = [:]
    ) async throws(TalosClientError)
        -> String
    {
        var body = options
        body["credential"] = .string(credential)
        return try await call(.POST, "/v2alpha1/admin/apiKeys:derive", body: .object(body)).body["token"]?["token"]?
            .stringValue ?? ""
    }

    /// Revokes the key behind `credential` by proof of possession (spec §3.17, public surface).
    public func selfRevoke(credential: String, reason: String) async throws(TalosClientError) {
        _ = try await call(
            .POST,
            "/v2alpha1/apiKeys:selfRevoke",
            body: ["credential": .string(credential), "reason": .string(reason)]
        )
    }

    /// The public JWK Set of derived-token signing keys (spec §15.13).
    public func jwks() async throws(TalosClientError) -> JSONValue {
        try await call(.GET, "/v2alpha1/derivedKeys/jwks.json").body
    }

    /// Whether the server and its database answer (`/health/ready`).
    public func isReady() async -> Bool {
        (try? await send(.GET, "/health/ready"))?.isSuccess ?? false
    }
}

/// Pages of keys as an async sequence of keys; each step fetches the next page when the current one is used up.
public struct TalosKeyPages: AsyncSequence, Sendable {
    public typealias Element = TalosKey

    let client: TalosClient
    let path: String
    let field: String
    let filter: String
    let pageSize: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let pages: TalosKeyPages
        var buffered: [TalosKey] = []
        var token: String? = ""

        public mutating func next() async throws -> TalosKey? {
            while buffered.isEmpty {
                guard let current = token else { return nil }
                var query = "?page_size=\(pages.pageSize)"
                if !pages.filter.isEmpty { query += "&filter=\(PercentEncoding.encode(pages.filter))" }
                if !current.isEmpty { query += "&page_token=\(PercentEncoding.encode(current))" }
                let body = try await pages.client.call(.GET, pages.path + query).body
                buffered = (body[pages.field]?.arrayValue ?? []).map(TalosKey.init).reversed()
                let next = body["next_page_token"]?.stringValue ?? ""
                token = next.isEmpty ? nil : next
            }
            return buffered.popLast()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: self) }
}

/// Percent-encoding of path segments and query values (RFC 3986 unreserved characters kept).
public enum PercentEncoding {
    /// `text` with every byte but `A–Z a–z 0–9 - . _ ~` as `%XX`.
    public static func encode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(Character(Unicode.Scalar(byte)))
            default:
                output += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return output
    }
}
