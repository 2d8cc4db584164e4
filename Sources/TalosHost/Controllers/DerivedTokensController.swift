import HTTPTypes
import TalosCore

/// `apiKeys:derive` and the JWKS on both surfaces (spec §3.13, §3.16, §15.13).
struct DerivedTokensController: APIController {
    let service: KeyService
    let verifier: Verifier

    var routes: [Route] {
        [
            .plain(.post, "/v2alpha1/admin/apiKeys:derive", .admin, derive).traced("service.DeriveToken").requires(
                .tokensDerive
            ),
            .plain(.get, "/v2alpha1/admin/derivedKeys/jwks.json", .always, jwks).requires(.keysRead),
            .plain(.get, "/v2alpha1/derivedKeys/jwks.json", .always, jwks),
        ]
    }

    func derive(_ request: APIRequest) async throws -> APIReply {
        let body = try request.json()
        var derive = DeriveTokenRequest()
        derive.credential = try body.string("credential") ?? ""
        derive.algorithm = try body.wireEnum("algorithm", as: TokenAlgorithm.self) ?? .unspecified
        derive.ttl = try body.string("ttl")
        derive.scopes = try body.strings("scopes").value ?? []
        derive.audiences = try body.strings("audiences").value ?? []
        derive.customClaims = try body.object("custom_claims").value ?? [:]
        let token = try await verifier.derive(derive, context: request.verificationContext)
        var object: JSONObject = [
            "token": .string(token.token), "expire_time": .string(token.expireTime.rfc3339),
            "scopes": .array(token.scopes.map(JSONValue.string)), "claims": .object(token.claims),
        ]
        if !token.audiences.isEmpty { object["audiences"] = .array(token.audiences.map(JSONValue.string)) }
        return .json(["token": .object(object)])
    }

    /// A standard JWK Set whose `jwks` member repeats the keys for Ory's SDK (spec §15.13).
    func jwks(_ request: APIRequest) async throws -> APIReply {
        var headers = HTTPFields()
        headers[.cacheControl] = "public, max-age=300"
        let jwks = service.signingKeys(nid: request.nid).publicJWKS
        return .json(["keys": jwks["keys"] ?? .array([]), "jwks": jwks], headers: headers)
    }
}
