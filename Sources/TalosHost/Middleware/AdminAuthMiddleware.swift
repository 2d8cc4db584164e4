import HTTPTypes
import Hummingbird
import Synchronization
import TalosCore

/// Admin authentication (spec §16.3): when `serve.admin.auth.enabled`, every `/v2alpha1/admin/*` route needs an
/// admin key holding the route's permission, in `Talos-Admin-Key` or `Authorization: Bearer`. Failures are answered
/// 401 (`ADMIN_KEY_REQUIRED`, `ADMIN_KEY_INVALID`) or 403 (`ADMIN_PERMISSION_REQUIRED`). Each failed
/// authentication spends a token of the client's bucket, and a failure without a token left is answered 429
/// instead; a valid key is never refused for its address (a flood from a shared address cannot lock out the admins
/// behind it). Runs before the body is read, so an unauthenticated caller cannot make the server read a body.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    static let adminKeyHeader = HTTPField.Name("Talos-Admin-Key")!
    static let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"talos-admin\""]

    let httpSettings: SettingsStore<HTTPSettings>
    let verifier: Verifier
    /// Failed authentications per client (the self-revoke bucket's settings, spec §15.5).
    let failures: TokenBuckets

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let settings = httpSettings.current
        guard settings.adminAuthEnabled, case .route(let route, _) = context.resolution, route.isAdminPath else {
            return try await next(request, context)
        }
        let nid = try context.tenant.get()
        // Only a failure needs the client (to charge its bucket): a valid key resolves no address.
        let client = {
            let peer = context.remoteIP.flatMap { IPAddress($0) }
            return settings.clientIP.resolve(peer: peer) { name in
                HTTPField.Name(name).map { request.headers[values: $0] } ?? []
            } ?? peer
        }
        guard let secret = Self.credential(request) else {
            throw refusal(.adminKeyRequired, "an admin key is required", result: "missing", client: client)
        }
        switch try await verifier.authenticateAdmin(secret, nid: nid) {
        case .rejected(let malformed):
            throw malformed
                ? refusal(.adminKeyRequired, "an admin key is required", result: "missing", client: client)
                : refusal(
                    .adminKeyInvalid,
                    "the admin key is unknown, revoked or expired",
                    result: "invalid",
                    client: client
                )
        case .authenticated(let principal):
            context.adminKeyNote?.adminKeyID = principal.keyID
            let permission = route.permission ?? .all
            guard principal.holds(permission) else {
                TalosMetrics.adminAuthentication(result: "denied")
                throw TalosError(
                    .adminPermissionRequired,
                    "the admin key lacks the permission \(permission.rawValue)",
                    metadata: [("permission", permission.rawValue)]
                )
            }
            TalosMetrics.adminAuthentication(result: "valid")
            return try await AdminPrincipal.$current.withValue(principal) { try await next(request, context) }
        }
    }

    /// A 401 with the Bearer challenge, spending one of the client's tokens; 429 when none was left.
    private func refusal(
        _ reason: TalosError.Reason,
        _ message: String,
        result: String,
        client: () -> IPAddress?
    ) -> RoutingFailure {
        if let wait = failures.take(client()) {
            TalosMetrics.adminAuthentication(result: "limited")
            return RoutingFailure.rateLimited(retryAfter: wait)
        }
        TalosMetrics.adminAuthentication(result: result)
        return RoutingFailure(error: TalosError(reason, message), httpOverride: nil, headers: Self.challenge)
    }

    /// `Talos-Admin-Key`, else the token of `Authorization: Bearer`; `nil` when neither.
    static func credential(_ request: Request) -> String? {
        if let key = request.headers[adminKeyHeader]?.trimmingSpaces, !key.isEmpty { return key }
        return bearerToken(request)
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive); `nil` without one.
    static func bearerToken(_ request: Request) -> String? {
        guard let authorization = request.headers[.authorization] else { return nil }
        let parts = authorization.trimmingSpaces.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingSpaces
        return token.isEmpty ? nil : token
    }
}

/// The admin key a request authenticated with, which the inner admin authentication learns and the outer request log
/// prints (`admin_key_id`).
final class AdminKeyNote: Sendable {
    private let admin = Mutex<String?>(nil)

    /// The admin key the request authenticated with; `nil` when admin authentication is off or failed.
    var adminKeyID: String? {
        get { admin.withLock { $0 } }
        set { admin.withLock { $0 = newValue } }
    }
}
