import HTTPTypes
import TalosCore
import TalosHost
import TalosOpenSSL
import TalosPlugins
import TalosTesting
import Testing

/// A configuration with an Ed25519 key `ed` (first, the default signer) and an RSA key `rsa`.
let signingConfig: (TalosConfig, JSONValue, JSONValue) = {
    let crypto = try! OpenSSLCrypto()
    let ed = try! JWKGenerator.generate(.eddsa, kid: "ed", crypto: crypto)
    let rsa = try! JWKGenerator.generate(.rsa, kid: "rsa", bits: 2048, crypto: crypto)
    var config = testConfig()
    config.signingKeyURLs = [JWKGenerator.url(ed), JWKGenerator.url(rsa)]
    return (config, ed, rsa)
}()

func freshSigningConfig() -> TalosConfig {
    var config = signingConfig.0
    config.databaseDSN = temporaryDatabase()
    return config
}

extension API {
    func derive(_ body: JSONValue) async throws -> Reply { try await post("/v2alpha1/admin/apiKeys:derive", body) }

    func verify(_ credential: String, audiences: [String]) async throws -> Reply {
        try await post(
            "/v2alpha1/admin/apiKeys:verify",
            ["credential": .string(credential), "expected_audiences": .array(audiences.map(JSONValue.string))]
        )
    }
}

func claims(ofJWT token: String) throws -> JSONValue {
    let parts = token.split(separator: ".")
    return try JSONValue.parse(try #require(Base64URL.decode(parts[1])))
}

@Suite struct DerivedTokenTests {
    @Test func derivedJWTCarriesTheSpecClaimsAndVerifiesOffline() async throws {
        try await withAPI(freshSigningConfig()) { api async throws in
            let (keyID, secret) = try await api.issue(
                [
                    "name": "n", "actor_id": "user_123", "scopes": ["read", "write"], "ttl": "24h",
                    "metadata": ["team": "backend"],
                ])
            let reply = try await api.derive(
                [
                    "credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_JWT", "ttl": "1h", "scopes": ["read"],
                    "custom_claims": ["role": "viewer", "sub": "ignored"],
                ])
            #expect(reply.status == 200)
            let token = try #require(reply.json["token"]?["token"]?.stringValue)
            #expect(reply.json["token"]?["expire_time"] == "2026-06-01T18:13:25Z")
            #expect(reply.json["token"]?["claims"] == ["team": "backend", "role": "viewer"])
            let header = try JSONValue.parse(try #require(Base64URL.decode(token.split(separator: ".")[0])))
            #expect(header == ["alg": "EdDSA", "kid": "ed", "typ": "JWT"])
            let payload = try claims(ofJWT: token)
            #expect(
                payload.objectValue?.keys == [
                    "jti", "sub", "iss", "iat", "nbf", "exp", "nid", "akid", "pid", "tty", "oid", "scp", "meta", "vis",
                    "role",
                ]
            )
            #expect(
                payload["sub"] == .string(keyID) && payload["akid"] == .string(keyID)
                    && payload["pid"] == .string(keyID)
            )
            #expect(
                payload["iss"] == "https://api.example.com" && payload["tty"] == "derived" && payload["vis"] == "secret"
            )
            #expect(payload["iat"] == 1_780_334_005 && payload["exp"] == 1_780_337_605 && payload["scp"] == ["read"])
            let verified = try await api.verify(token)
            #expect(
                verified.json == [
                    "is_valid": true, "key_id": .string(keyID), "actor_id": "user_123", "scopes": ["read"],
                    "status": "KEY_STATUS_ACTIVE", "expire_time": "2026-06-01T18:13:25Z",
                    "metadata": ["role": "viewer", "team": "backend"], "issuer": "https://api.example.com",
                    "visibility": "KEY_VISIBILITY_SECRET",
                ]
            )
            // Derived tokens outlive the parent's revocation (by design) and are never cached.
            #expect(try await api.revoke(keyID).status == 204)
            let afterRevoke = try await api.verify(token)
            #expect(afterRevoke.json["is_valid"] == true)
            #expect(afterRevoke.headers[HTTPField.Name("Ory-Talos-Cache")!] == "SKIP")
            let selfRevoke = try await api.post(
                "/v2alpha1/apiKeys:selfRevoke",
                ["credential": .string(token), "reason": "REVOCATION_REASON_KEY_COMPROMISE"]
            )
            #expect(selfRevoke.status == 400 && selfRevoke.reason == "DERIVED_TOKEN_NOT_REVOCABLE")
        }
    }

    @Test func rs256AndMacaroonsAndJWKS() async throws {
        var config = freshSigningConfig()
        config.signingKeyID = "rsa"
        try await withAPI(config) { api async throws in
            let (_, secret) = try await api.issue(["name": "n", "actor_id": "a", "scopes": ["read"]])
            let rs = try #require(
                try await api.derive(["credential": .string(secret)]).json["token"]?["token"]?.stringValue
            )
            #expect(try JSONValue.parse(Base64URL.decode(rs.split(separator: ".")[0])!)["alg"] == "RS256")
            #expect(try await api.verify(rs).json["is_valid"] == true)
            let macaroon = try await api.derive([
                "credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON",
            ])
            let token = try #require(macaroon.json["token"]?["token"]?.stringValue)
            #expect(token.hasPrefix("mc_v1_"))
            let verified = try await api.verify(token)
            #expect(verified.json["is_valid"] == true && verified.json["scopes"] == ["read"])
            for path in ["/v2alpha1/derivedKeys/jwks.json", "/v2alpha1/admin/derivedKeys/jwks.json"] {
                let jwks = try await api.send(.get, path)
                #expect(jwks.headers[.cacheControl] == "public, max-age=300")
                let keys = try #require(jwks.json["jwks"]?["keys"]?.arrayValue)
                #expect(jwks.json["keys"]?.arrayValue == keys)  // a standard JWK Set too (spec §15.13)
                #expect(keys.map { $0["kid"] } == ["ed", "rsa"])
                #expect(keys[0]["d"] == nil && keys[1]["d"] == nil && keys[1]["p"] == nil)
                #expect(
                    keys[0]
                        == signingConfig.1["keys"]?[0].map { jwk in
                            ["kty": "OKP", "crv": "Ed25519", "x": jwk["x"]!, "kid": "ed", "use": "sig", "alg": "EdDSA"]
                        }
                )
            }
        }
    }

    @Test func forgedAndMisusedJWTsAreRefused() async throws {
        let clock = ManualClock()
        try await withAPI(freshSigningConfig(), clock: clock) { api async throws in
            let (_, secret) = try await api.issue(["name": "n", "actor_id": "a"])
            let token = try #require(
                try await api.derive(["credential": .string(secret), "ttl": "10m"]).json["token"]?["token"]?.stringValue
            )
            let parts = token.split(separator: ".").map(String.init)
            func code(_ candidate: String) async throws -> String? {
                try await api.verify(candidate).json["error_code"]?.stringValue
            }
            // Tampered payload.
            var payload = try claims(ofJWT: token).objectValue!
            payload["scp"] = ["admin"]
            let tampered = parts[0] + "." + Base64URL.encode(JSONValue.object(payload).serialized()) + "." + parts[2]
            #expect(try await code(tampered) == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            // alg none and an unknown kid.
            let none = Base64URL.encode(Array(#"{"alg":"none","kid":"ed","typ":"JWT"}"#.utf8))
            #expect(try await code(none + "." + parts[1] + "." + parts[2]) == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            let unknownKid = Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"nope","typ":"JWT"}"#.utf8))
            #expect(
                try await code(unknownKid + "." + parts[1] + "." + parts[2]) == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            // Tokens signed by our key with a wrong issuer, tenant or type.
            let crypto = try OpenSSLCrypto()
            let keyring = try SigningKeyring(config: signingConfig.0, crypto: crypto)
            func signed(_ change: (inout DerivedClaims) -> Void) throws -> String {
                var claims = DerivedClaims(
                    jti: crypto.randomUUID(),
                    subject: "k",
                    issuer: "https://api.example.com",
                    issuedAt: 1_780_334_005,
                    notBefore: 1_780_334_005,
                    expires: 1_780_334_605,
                    nid: UUIDText.nilUUID,
                    parentKeyID: "k",
                    scopes: [],
                    visibility: "secret"
                )
                change(&claims)
                return try JWTCodec.sign(claims, with: try keyring.signingEntry())
            }
            #expect(try await code(try signed { _ in }) == nil)
            #expect(
                try await code(try signed { $0.issuer = "https://evil.example.com" })
                    == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            #expect(
                try await code(try signed { $0.nid = "11111111-1111-4111-8111-111111111111" })
                    == "VERIFICATION_ERROR_NOT_FOUND"
            )
            #expect(try await code(try signed { $0.tokenType = "access" }) == "VERIFICATION_ERROR_INVALID_FORMAT")
            #expect(
                try await code(try signed { $0.notBefore = 1_780_334_005 + 3600 })
                    == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            #expect(try await code(try signed { $0.acls = [["10.0.0.0/8"]] }) == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
            // Expired beyond the clock skew (5 min).
            clock.advance(seconds: 600 + 300)
            #expect(try await code(token) == nil)
            clock.advance(seconds: 1)
            #expect(try await code(token) == "VERIFICATION_ERROR_EXPIRED")
        }
    }

    /// Issuer and macaroon-prefix rotation (spec §5.5): tokens minted before keep verifying while the old values
    /// are retired, and stop when a retired issuer expires.
    @Test func retiredIssuersAndMacaroonPrefixes() async throws {
        let clock = ManualClock()
        let database = temporaryDatabase()
        var config = freshSigningConfig()
        config.databaseDSN = database
        config.issuer = "https://old.example.com"
        config.macaroonPrefix = "oldmc"
        let (jwt, macaroon) = try await withAPI(config, clock: clock) { api async throws in
            let (_, secret) = try await api.issue()
            let jwt = try #require(
                try await api.derive(["credential": .string(secret)]).json["token"]?["token"]?.stringValue
            )
            let macaroon = try #require(
                try await api.derive(
                    ["credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON"]).json["token"]?["token"]?
                    .stringValue
            )
            return (jwt, macaroon)
        }
        #expect(macaroon.hasPrefix("oldmc_v1_"))
        config.issuer = "https://new.example.com"
        config.macaroonPrefix = "mc"
        try await withAPI(config, clock: clock) { api async throws in
            #expect(try await api.verify(jwt).json["error_code"] == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            // Not a macaroon any more: routed as an imported key.
            #expect(try await api.verify(macaroon).json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND")
        }
        config.retiredIssuers = [
            ExpiringValue(value: "https://old.example.com", expiresAt: clock.now().adding(seconds: 60))
        ]
        config.retiredMacaroonPrefixes = ["oldmc"]
        try await withAPI(config, clock: clock) { api async throws in
            let reply = try await api.verify(jwt)
            #expect(reply.json["is_valid"] == true && reply.json["issuer"] == "https://old.example.com")
            #expect(try await api.verify(macaroon).json["is_valid"] == true)
            clock.advance(seconds: 61)
            #expect(try await api.verify(jwt).json["error_code"] == "VERIFICATION_ERROR_SIGNATURE_INVALID")
        }
    }

    @Test func audiences() async throws {
        try await withAPI(freshSigningConfig()) { api async throws in
            let (_, secret) = try await api.issue(["name": "n", "actor_id": "a"])
            let derived = try await api.derive(["credential": .string(secret), "audiences": ["billing", "search"]])
            #expect(derived.json["token"]?["audiences"] == ["billing", "search"])
            let token = try #require(derived.json["token"]?["token"]?.stringValue)
            #expect(try claims(ofJWT: token)["aud"] == ["billing", "search"])
            let ok = try await api.verify(token, audiences: ["search"])
            #expect(ok.json["is_valid"] == true && ok.json["audiences"] == ["billing", "search"])
            #expect(
                try await api.verify(token, audiences: ["other"]).json["error_code"]
                    == "VERIFICATION_ERROR_AUDIENCE_MISMATCH"
            )
            let unstated = try await api.verify(token)
            #expect(unstated.json["error_code"] == "VERIFICATION_ERROR_AUDIENCE_MISMATCH")
            #expect(unstated.json["error_message"] == "The credential is not intended for this audience.")
            #expect(
                try await api.verify(secret, audiences: ["search"]).json["error_code"]
                    == "VERIFICATION_ERROR_AUDIENCE_MISMATCH"
            )
            let macaroon = try #require(
                try await api.derive(
                    ["credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON", "audiences": ["search"]]
                ).json["token"]?["token"]?.stringValue
            )
            #expect(try await api.verify(macaroon, audiences: ["search"]).json["is_valid"] == true)
            #expect(try await api.verify(macaroon).json["error_code"] == "VERIFICATION_ERROR_AUDIENCE_MISMATCH")
            let batch = try await api.post(
                "/v2alpha1/admin/apiKeys:batchVerify",
                [
                    "requests": [
                        ["credential": .string(token), "expected_audiences": ["billing"]],
                        ["credential": .string(token)],
                    ]
                ]
            )
            #expect(batch.json["results"]?[0]?["is_valid"] == true)
            #expect(batch.json["results"]?[1]?["error_code"] == "VERIFICATION_ERROR_AUDIENCE_MISMATCH")
        }
    }

    @Test func macaroonTamperingNarrowingAndThirdPartyCaveats() async throws {
        let clock = ManualClock()
        try await withAPI(freshSigningConfig(), clock: clock) { api async throws in
            let (_, secret) = try await api.issue(["name": "n", "actor_id": "a", "scopes": ["read", "write"]])
            let token = try #require(
                try await api.derive(
                    ["credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON", "ttl": "1h"]
                ).json["token"]?["token"]?.stringValue
            )
            var binary = try #require(Base64URL.decode(token.dropFirst("mc_v1_".count)))
            let crypto = try OpenSSLCrypto()
            // A holder narrows: appends caveats and re-chains the signature from the one it holds.
            func append(_ caveat: String, thirdParty: Bool = false) -> String {
                var bytes = binary
                let signature = Array(bytes.suffix(32))
                bytes.removeLast(32 + 2)  // signature field
                bytes.removeLast()  // final EOS
                bytes += [2, UInt8(caveat.utf8.count)] + Array(caveat.utf8)
                if thirdParty { bytes += [4, 3, 1, 2, 3] }
                bytes += [0, 0, 6, 32] + crypto.hmacSHA256(key: signature, message: Array(caveat.utf8))
                return "mc_v1_" + Base64URL.encode(bytes)
            }
            let narrowed = append(#"scp=["read"]"#)
            let reply = try await api.verify(narrowed)
            #expect(reply.json["is_valid"] == true && reply.json["scopes"] == ["read"])
            // The largest nbf wins: a later one (beyond the clock skew) makes the token not yet valid, an earlier one
            // changes nothing; every appended acl must pass (the in-process client has no address).
            let later = try await api.verify(append("nbf=\(1_780_334_005 + 3600)"))
            #expect(later.json["error_code"] == "VERIFICATION_ERROR_SIGNATURE_INVALID")
            #expect(try await api.verify(append("nbf=\(1_780_334_005 - 100)")).json["is_valid"] == true)
            let restricted = try await api.verify(append(#"acl=["10.0.0.0/8"]"#))
            #expect(restricted.json["error_code"] == "VERIFICATION_ERROR_IP_NOT_ALLOWED")
            let shorter = append("exp=\(1_780_334_005 + 60)")
            clock.advance(seconds: 60 + 301)
            #expect(try await api.verify(shorter).json["error_code"] == "VERIFICATION_ERROR_EXPIRED")
            #expect(try await api.verify(token).json["is_valid"] == true)
            // Spec §15.1: the minted block is closed; only narrowing names may follow it.
            for injected in [
                #"oid="someone-else""#, #"role="admin""#, #"meta={"role":"admin"}"#, #"clm={"role":"admin"}"#,
                #"aud=["billing"]"#, #"tty="derived""#, #"nid="00000000-0000-0000-0000-000000000001""#, "exp=\"soon\"",
                #"scp=[1]"#,
            ] {
                let reply = try await api.verify(append(injected))
                #expect(reply.json["error_code"] == "VERIFICATION_ERROR_SIGNATURE_INVALID", "\(injected)")
                #expect(reply.json["metadata"] == nil, "\(injected)")
            }
            #expect(
                try await api.verify(append("x=1", thirdParty: true)).json["error_code"]
                    == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            binary[binary.count - 1] ^= 1
            #expect(
                try await api.verify("mc_v1_" + Base64URL.encode(binary)).json["error_code"]
                    == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
        }
    }

    /// Spec §15.1: `meta` and `clm` always close the minted block; metadata is `clm` overlaid by `meta`; `aud` may be
    /// narrowed only when the token was minted with one.
    @Test func macaroonClosedCaveatBlock() async throws {
        try await withAPI(freshSigningConfig()) { api async throws in
            let (_, secret) = try await api.issue([
                "name": "n", "actor_id": "a", "metadata": ["team": "backend", "tier": "1"],
            ])
            let reply = try await api.derive([
                "credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON",
                "audiences": ["billing", "search"],
                "custom_claims": ["tier": "2", "role": "viewer"],
            ])
            let token = try #require(reply.json["token"]?["token"]?.stringValue)
            let binary = try #require(Base64URL.decode(token.dropFirst("mc_v1_".count)))
            let text = String(decoding: binary, as: UTF8.self)
            let meta = try #require(text.firstRange(of: #"meta={"team":"backend","tier":"1"}"#))
            let clm = try #require(text.firstRange(of: #"clm={"role":"viewer","tier":"2"}"#))
            let aud = try #require(text.firstRange(of: #"aud=["billing","search"]"#))
            #expect(aud.upperBound < meta.lowerBound && meta.upperBound < clm.lowerBound)
            let verified = try await api.verify(token, audiences: ["search"])
            #expect(verified.json["is_valid"] == true)
            #expect(verified.json["metadata"] == ["role": "viewer", "tier": "1", "team": "backend"])
            let crypto = try OpenSSLCrypto()
            func append(_ caveat: String) -> String {
                var bytes = binary
                let signature = Array(bytes.suffix(32))
                bytes.removeLast(32 + 2 + 1)
                bytes += [2, UInt8(caveat.utf8.count)] + Array(caveat.utf8)
                bytes += [0, 0, 6, 32] + crypto.hmacSHA256(key: signature, message: Array(caveat.utf8))
                return "mc_v1_" + Base64URL.encode(bytes)
            }
            let narrowed = append(#"aud=["search","other"]"#)
            #expect(try await api.verify(narrowed, audiences: ["search"]).json["audiences"] == ["search"])
            #expect(
                try await api.verify(narrowed, audiences: ["billing"]).json["error_code"]
                    == "VERIFICATION_ERROR_AUDIENCE_MISMATCH"
            )
            #expect(
                try await api.verify(append(#"role="admin""#), audiences: ["search"]).json["error_code"]
                    == "VERIFICATION_ERROR_SIGNATURE_INVALID"
            )
            let (_, plain) = try await api.issue(["name": "n", "actor_id": "a"])
            let bare = try #require(
                try await api.derive(["credential": .string(plain), "algorithm": "TOKEN_ALGORITHM_MACAROON"])
                    .json["token"]?["token"]?.stringValue
            )
            let bareText = String(
                decoding: try #require(Base64URL.decode(bare.dropFirst("mc_v1_".count))),
                as: UTF8.self
            )
            #expect(bareText.contains("meta={}") && bareText.contains("clm={}"))
            #expect(try await api.verify(bare).json["metadata"] == [:])
        }
    }

    @Test func deriveErrors() async throws {
        let clock = ManualClock()
        try await withAPI(freshSigningConfig(), clock: clock) { api async throws in
            let (revokedID, revoked) = try await api.issue(["name": "n", "actor_id": "a"])
            _ = try await api.revoke(revokedID)
            let (_, short) = try await api.issue(["name": "n", "actor_id": "a", "scopes": ["read"], "ttl": "2h"])
            let token = try #require(
                try await api.derive(["credential": .string(short)]).json["token"]?["token"]?.stringValue
            )
            func derive(_ body: JSONValue) async throws -> Reply { try await api.derive(body) }
            #expect(try await derive(["credential": ""]).reason == "CREDENTIAL_REQUIRED")
            #expect(try await derive(["credential": .string(String(repeating: "x", count: 8193))]).status == 400)
            #expect(try await derive(["credential": .string(revoked)]).reason == "PARENT_KEY_REVOKED")
            #expect(try await derive(["credential": "sk_unknown"]).reason == "PARENT_KEY_INVALID")
            let fromDerived = try await derive(["credential": .string(token)])
            #expect(fromDerived.status == 400 && fromDerived.reason == "DERIVED_TOKEN_NOT_DERIVABLE")
            let scope = try await derive(["credential": .string(short), "scopes": ["write"]])
            #expect(scope.status == 403 && scope.message == "requested scope 'write' not available in parent key")
            let tooLong = try await derive(["credential": .string(short), "ttl": "2y"])
            #expect(tooLong.message == "ttl exceeds the configured maximum of 8760h0m0s")
            clock.advance(seconds: 2)
            let beyondParent = try await derive(["credential": .string(short), "ttl": "2h"])
            #expect(beyondParent.reason == "TTL_EXCEEDS_MAXIMUM")
            #expect(
                beyondParent.message == "derived token ttl (2h0m0s) exceeds parent key remaining lifetime (1h59m58s)"
            )
            clock.advance(seconds: 7200 - 2 - 1800)
            // 30 minutes left and a defaulted 1h ttl: refused, never clamped (§14.14).
            #expect(try await derive(["credential": .string(short)]).reason == "TTL_EXCEEDS_MAXIMUM")
            clock.advance(seconds: 1800 + 1)
            #expect(try await derive(["credential": .string(short), "ttl": "1s"]).status == 401)
            let big = JSONValue.object([
                "credential": .string(secretOf(try await api.issue())),
                "custom_claims": ["blob": .string(String(repeating: "x", count: 9000))],
            ])
            #expect(try await derive(big).message == "derived token exceeds 8192 bytes")
        }
        var unsigned = testConfig()
        unsigned.signingKeyID = "missing"
        try await withAPI(unsigned) { api async throws in
            let (_, secret) = try await api.issue()
            let reply = try await api.derive(["credential": .string(secret)])
            #expect(
                reply.status == 500 && reply.reason == "SIGNING_KEY_UNAVAILABLE" && reply.message == "get signing key"
            )
            #expect(reply.json["error"]?["details"]?[0]?["metadata"] == ["signing_key_id": "missing"])
            let macaroon = try await api.derive([
                "credential": .string(secret), "algorithm": "TOKEN_ALGORITHM_MACAROON",
            ])
            #expect(macaroon.status == 200)
            #expect(
                try await api.send(.get, "/v2alpha1/derivedKeys/jwks.json").json == ["keys": [], "jwks": ["keys": []]]
            )
        }
    }
}

func secretOf(_ issued: (String, String)) -> String { issued.1 }
