import HTTPTypes
import TalosCore

/// `/v2alpha1/admin/importedApiKeys…` (spec §3.7–3.12).
struct ImportedKeysController: APIController {
    let service: KeyService
    let clock: any WallClock

    var routes: [Route] {
        let keys = StoredKeyEndpoints(kind: .imported, service: service, clock: clock)
        let base = "/v2alpha1/admin/importedApiKeys"
        return [
            .plain(.post, base, .admin, importKey).traced("service.ImportAPIKey").requires(.keysWrite),
            .plain(.post, "\(base):batchCreate", .admin, limit: Route.sixteenMiB, batchImport)
                .traced("service.BatchImportAPIKeys").requires(.keysWrite),
            .plain(.post, "\(base):batchImport", .admin, limit: Route.sixteenMiB, batchImport)
                .traced("service.BatchImportAPIKeys").requires(.keysWrite),
            .plain(.get, base, .admin, keys.list).traced("service.ListImportedAPIKeys").requires(.keysRead),
            .keyed(.get, "\(base)/{key_id}", .admin, keys.get).traced("service.GetImportedAPIKey").requires(.keysRead),
            .keyed(.patch, "\(base)/{key_id}", .admin, keys.update).traced("service.UpdateImportedAPIKey").requires(
                .keysWrite
            ),
            .keyed(.delete, "\(base)/{key_id}", .admin, delete).traced("service.DeleteImportedAPIKey").requires(
                .keysWrite
            ),
            .keyed(.post, "\(base)/{key_id}:revoke", .admin, keys.revoke).traced("service.RevokeImportedAPIKey")
                .requires(.keysWrite),
        ]
    }

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
        // The 1001st item ends the parse (spec §15.6).
        let body = try request.json(
            cap: (
                JSONItemCap(member: "requests", items: 1000),
                TalosError(.invalidArgument, "maximum 1000 keys per batch")
            )
        )
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

    func delete(_ request: APIRequest, keyID: String) async throws -> APIReply {
        try await service.deleteImported(keyID: keyID, nid: request.nid)
        return .noContent
    }
}
