import HTTPTypes
import TalosCore

/// The operations issued and imported keys share (spec §3.2–3.4, §3.9–3.11): get, list, update and revoke of one
/// kind.
struct StoredKeyEndpoints: Sendable {
    let kind: KeyKind
    let service: KeyService
    let clock: any WallClock

    /// `{"issued_api_key": …}` or `{"imported_api_key": …}`, the wrapper PATCH accepts.
    private var wrapper: String { kind == .issued ? "issued_api_key" : "imported_api_key" }

    /// `…/{key_id}:revoke` of this kind (spec §3.6).
    func revoke(_ request: APIRequest, keyID: String) async throws -> APIReply {
        try await service.revoke(kind, request, keyID: keyID)
    }

    func get(_ request: APIRequest, keyID: String) async throws -> APIReply {
        let key = try await service.get(kind: kind, keyID: keyID, nid: request.nid)
        return .json(WireFormat.key(key, now: clock.now()))
    }

    func list(_ request: APIRequest) async throws -> APIReply {
        let page = try await service.list(
            kind: kind,
            nid: request.nid,
            pageSize: try request.pageSize(),
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

    func update(_ request: APIRequest, keyID: String) async throws -> APIReply {
        var body = try request.json()
        if body.object.count == 1, case .object(let inner)? = body.object[wrapper] { body = BodyReader(object: inner) }
        var update = UpdateKeyRequest()
        update.attributes = try body.attributes()
        update.keyID = try body.string("key_id")
        let paths = request.queryAll("update_mask")
            .flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }.filter { !$0.isEmpty }
        if !paths.isEmpty { update.updateMask = paths }
        let key = try await service.update(kind: kind, keyID: keyID, nid: request.nid, update)
        return .json(WireFormat.key(key, now: clock.now()))
    }
}

extension APIRequest {
    /// `page_size` (spec §7): 0 when absent or empty. - Throws: 400 for a value that is not an integer, or for more
    /// than one `page_size`.
    func pageSize() throws(TalosError) -> Int {
        let values = queryAll("page_size")
        guard values.count <= 1 else { throw TalosError.validation("page_size", "value must be given at most once") }
        guard let text = values.first, !text.isEmpty else { return 0 }
        guard let value = Int(text) else { throw TalosError.validation("page_size", "value must be an integer") }
        return value
    }
}

extension KeyService {
    /// Revokes a key of `kind` (either kind when `nil`) from an admin request body (spec §3.6).
    func revoke(_ kind: KeyKind?, _ request: APIRequest, keyID: String) async throws -> APIReply {
        let body = try request.optionalJSON()
        try await revoke(
            kind: kind,
            keyID: keyID,
            nid: request.nid,
            reason: try body.wireEnum("reason", as: RevocationReason.self) ?? .unspecified,
            description: try body.string("description")
        )
        return .noContent
    }
}
