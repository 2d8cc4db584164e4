import HTTPTypes
import Hummingbird
import TalosCore

/// `/v2alpha1/admin/apiKeys:authorize` (docs/forward-auth.md): forward auth for gateways such as nginx
/// (`auth_request`) and Caddy (`forward_auth`). Any method, the body ignored; the credential in
/// `Authorization: Bearer` or `X-API-Key`, required scopes as repeated `scope` parameters. The verification is
/// verify's own (cache, IP allowlist from the gateway's forwarding headers, rate limits, usage).
struct ForwardAuthController: APIController {
    let verifier: Verifier
    let clock: any WallClock

    static let path = "/v2alpha1/admin/apiKeys:authorize"
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let keyIDHeader = HTTPField.Name("Talos-Key-Id")!
    static let keyTypeHeader = HTTPField.Name("Talos-Key-Type")!
    static let actorHeader = HTTPField.Name("Talos-Actor-Id")!
    static let scopesHeader = HTTPField.Name("Talos-Scopes")!

    var routes: [Route] {
        Self.methods.map { method in
            var route = Route.plain(method, Self.path, .admin, authorize).requires(.keysVerify)
            route.span = "service.AuthorizeApiKey"
            // A gateway forwards its client's headers: a browser's Origin must not refuse the check (it changes no
            // key), the protected service decides about cross-origin requests itself.
            route.crossOriginExempt = true
            return route
        }
    }

    func authorize(_ request: APIRequest) async throws -> APIReply {
        // The gateway's configuration first: a bad one is 400, whoever the caller is.
        let scopes = request.queryAll("scope")
        guard scopes.allSatisfy({ $0.unicodeScalars.count <= 256 }) else {
            throw TalosError.validation("scope", "each value must be at most 256 characters")
        }
        let rateLimitedStatus = try request.single("rate_limited_status")
        guard rateLimitedStatus == nil || ["403", "429"].contains(rateLimitedStatus) else {
            throw TalosError.validation("rate_limited_status", "value must be one of 403, 429")
        }
        guard let credential = Self.credential(request.request) else {
            throw Self.unauthenticated(TalosError(.credentialMissing, "an API key is required"))
        }
        let result = try await verifier.verify(
            VerificationItem(credential: credential),
            context: request.verificationContext
        )
        var headers = HTTPFields()
        VerificationController.rateLimitHeaders(result, now: clock.now(), into: &headers)
        guard let verified = result.credential, result.isValid else {
            if result.errorCode == VerificationErrorCode.rateLimited {
                // nginx turns every status but 2xx, 401 and 403 into 500: it may ask for 403 instead of 429.
                let status: HTTPResponse.Status? = rateLimitedStatus == "403" ? .forbidden : nil
                throw RoutingFailure(
                    error: TalosError(.rateLimited, "rate limit exceeded"),
                    httpOverride: status,
                    headers: headers
                )
            }
            throw Self.unauthenticated(TalosError(.credentialInvalid, "the API key is not valid"))
        }
        if let missing = scopes.first(where: { !verified.scopes.contains($0) }) {
            // RFC 6750's scope attribute: a quoted string, so quotes and backslashes are escaped.
            let quoted = scopes.joined(separator: " ").replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            headers[.wwwAuthenticate] = "Bearer error=\"insufficient_scope\", scope=\"\(quoted)\""
            throw RoutingFailure(
                error: TalosError(.scopeRequired, "the API key lacks a required scope", metadata: [("scope", missing)]),
                httpOverride: nil,
                headers: headers
            )
        }
        headers[Self.keyIDHeader] = verified.keyID
        headers[Self.keyTypeHeader] = result.key?.kind.rawValue ?? "derived"
        if !verified.actorID.isEmpty { headers[Self.actorHeader] = verified.actorID }
        headers[Self.scopesHeader] = verified.scopes.joined(separator: ",")
        headers[VerificationController.cacheHeader] = result.cache.rawValue
        return .empty(headers: headers)
    }

    /// `X-API-Key`, else the token of `Authorization: Bearer` (scheme case-insensitive); `nil` when neither holds one.
    /// `X-API-Key` first: with admin authentication on, `Authorization` may carry the gateway's admin key.
    static func credential(_ request: Request) -> String? {
        if let key = request.headers[apiKeyHeader]?.trimmingSpaces, !key.isEmpty { return key }
        return AdminAuthMiddleware.bearerToken(request)
    }

    static func unauthenticated(_ error: TalosError) -> RoutingFailure {
        RoutingFailure(error: error, httpOverride: nil, headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
    }
}
