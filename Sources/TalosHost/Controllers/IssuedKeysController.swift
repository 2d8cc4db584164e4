import HTTPTypes
import TalosCore

/// `/v2alpha1/admin/issuedApiKeys…` (spec §3.1–3.6).
struct IssuedKeysController: APIController {
    let service: KeyService
    let clock: any WallClock

    var routes: [Route] {
        let keys = StoredKeyEndpoints(kind: .issued, service: service, clock: clock)
        let base = "/v2alpha1/admin/issuedApiKeys"
        return [
            .plain(.post, base, .admin, issue).traced("service.IssueApiKey").requires(.keysWrite),
            .plain(.get, base, .admin, keys.list).traced("service.ListIssuedAPIKeys").requires(.keysRead),
            .keyed(.get, "\(base)/{key_id}", .admin, keys.get).traced("service.GetIssuedAPIKey").requires(.keysRead),
            .keyed(.patch, "\(base)/{key_id}", .admin, keys.update).traced("service.UpdateIssuedAPIKey").requires(
                .keysWrite
            ),
            .keyed(.post, "\(base)/{key_id}:rotate", .admin, rotate).traced("service.RotateIssuedApiKey").requires(
                .keysWrite
            ),
            .keyed(.post, "\(base)/{key_id}:revoke", .admin, keys.revoke).traced("service.RevokeIssuedAPIKey").requires(
                .keysWrite
            ),
        ]
    }

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

    func rotate(_ request: APIRequest, keyID: String) async throws -> APIReply {
        let body = try request.optionalJSON()
        var rotate = RotateKeyRequest()
        rotate.attributes = try body.attributes()
        let result = try await service.rotate(keyID: keyID, nid: request.nid, rotate)
        let now = clock.now()
        return .json(
            [
                "issued_api_key": WireFormat.key(result.key, now: now), "secret": .string(result.secret),
                "old_issued_api_key": WireFormat.key(result.oldKey, now: now),
            ],
            status: .created
        )
    }
}
