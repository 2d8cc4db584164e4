import HTTPTypes
import TalosCore

/// Revocation of either kind by an admin, and proof-of-possession self-revoke on the public surface, limited per
/// client IP (spec §3.6, §3.17, §15.5).
struct RevocationController: APIController {
    let service: KeyService
    let selfRevokeLimiter: TokenBuckets

    var routes: [Route] {
        [
            .keyed(.post, "/v2alpha1/admin/apiKeys/{key_id}:revoke", .admin) {
                try await service.revoke(nil, $0, keyID: $1)
            }.requires(.keysWrite),
            .plain(.post, "/v2alpha1/apiKeys:selfRevoke", .public, selfRevoke).traced("verifier.SelfRevokeAPIKey"),
        ]
    }

    func selfRevoke(_ request: APIRequest) async throws -> APIReply {
        if let wait = selfRevokeLimiter.take(request.clientIP ?? request.remoteIP.flatMap { IPAddress($0) }) {
            throw RoutingFailure.rateLimited(retryAfter: wait)
        }
        let body = try request.json()
        try await service.selfRevoke(
            credential: try body.string("credential") ?? "",
            reason: try body.wireEnum("reason", as: RevocationReason.self) ?? .unspecified,
            nid: request.nid
        )
        return .json([:])
    }
}
