import HTTPTypes
import TalosCore

/// `/v2alpha1/admin/apiKeys/{key_id}/usage` and `/v2alpha1/admin/usage` (docs/usage.md): verification counts per
/// hour or day and outcome; both need `keys.read`.
struct UsageController: APIController {
    let usage: UsageService

    var routes: [Route] {
        [
            .keyed(.get, "/v2alpha1/admin/apiKeys/{key_id}/usage", .admin, keyUsage).traced("service.GetApiKeyUsage")
                .requires(.keysRead),
            .plain(.get, "/v2alpha1/admin/usage", .admin, actorUsage).traced("service.GetActorUsage")
                .requires(.keysRead),
        ]
    }

    func keyUsage(_ request: APIRequest, keyID: String) async throws -> APIReply {
        let report = try await usage.keyUsage(keyID: keyID, nid: request.nid, request: try request.usageRequest())
        return .json(["key_id": .string(keyID.lowercased()), "buckets": WireFormat.usageBuckets(report)])
    }

    func actorUsage(_ request: APIRequest) async throws -> APIReply {
        let actorID = try request.single("actor_id") ?? ""
        let report = try await usage.actorUsage(actorID: actorID, nid: request.nid, request: try request.usageRequest())
        return .json(["actor_id": .string(actorID), "buckets": WireFormat.usageBuckets(report)])
    }
}

extension APIRequest {
    /// `start_time`, `end_time` and `granularity`, each at most once.
    func usageRequest() throws(TalosError) -> UsageRequest {
        UsageRequest(
            startTime: try single("start_time"),
            endTime: try single("end_time"),
            granularity: try single("granularity")
        )
    }

    /// The value of query parameter `name`; `nil` when absent. - Throws: 400 when it is given more than once.
    func single(_ name: String) throws(TalosError) -> String? {
        let values = queryAll(name)
        guard values.count <= 1 else { throw TalosError.validation(name, "value must be given at most once") }
        return values.first
    }
}
