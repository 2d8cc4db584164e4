import HTTPTypes
import TalosCore

/// `/v2alpha1/admin/adminKeys…` (spec §16.3): create, list, get and revoke admin keys; all need
/// `admin_keys.manage`.
struct AdminKeysController: APIController {
    let adminKeys: AdminKeyService
    let clock: any WallClock

    var routes: [Route] {
        let base = "/v2alpha1/admin/adminKeys"
        return [
            .plain(.post, base, .admin, create).traced("service.CreateAdminKey").requires(.adminKeysManage),
            .plain(.get, base, .admin, list).traced("service.ListAdminKeys").requires(.adminKeysManage),
            .keyed(.get, "\(base)/{key_id}", .admin, get).traced("service.GetAdminKey").requires(.adminKeysManage),
            .keyed(.post, "\(base)/{key_id}:revoke", .admin, revoke).traced("service.RevokeAdminKey")
                .requires(.adminKeysManage),
        ]
    }

    func create(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        let created = try await adminKeys.create(
            name: try body.string("name") ?? "",
            permissions: try body.strings("permissions").value ?? [],
            ttl: try body.string("ttl"),
            nid: request.nid
        )
        return .json(
            ["admin_key": AdminKeyService.json(created.key, now: clock.now()), "secret": .string(created.secret)],
            status: .created
        )
    }

    func list(_ request: APIRequest) async throws -> APIReply {
        let page = try await adminKeys.list(
            nid: request.nid,
            pageSize: try request.pageSize(),
            pageToken: request.query("page_token") ?? ""
        )
        let now = clock.now()
        return .json([
            "admin_keys": .array(page.keys.map { AdminKeyService.json($0, now: now) }),
            "next_page_token": .string(page.nextPageToken),
        ])
    }

    func get(_ request: APIRequest, keyID: String) async throws -> APIReply {
        let key = try await adminKeys.get(keyID: keyID, nid: request.nid)
        return .json(["admin_key": AdminKeyService.json(key, now: clock.now())])
    }

    func revoke(_ request: APIRequest, keyID: String) async throws -> APIReply {
        let key = try await adminKeys.revoke(keyID: keyID, nid: request.nid)
        return .json(["admin_key": AdminKeyService.json(key, now: clock.now())])
    }
}
