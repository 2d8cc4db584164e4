/// The JWT signing keys of `credentials.derived_tokens.jwt.signing_keys.urls`, prepared for the configured backend.
public struct SigningKeyring: Sendable {
    /// One configured key.
    public struct Entry: Sendable {
        /// The JWK's `kid`, put in the JWT header and matched exactly on verification.
        public let kid: String
        /// Ed25519 (signs EdDSA) or RSA (signs RS256).
        public let family: SigningKeyDescriptor.Family
        /// `nil` when the JWK carries only the public part (it can verify, not sign).
        public let signer: (any SigningKey)?
        /// Checks signatures of tokens whose header names this `kid`.
        public let verifier: any VerifyingKey
        /// The public JWK as `GET …/jwks.json` serves it.
        public let publicJWK: JSONValue
        let use: String?
    }

    /// Every configured key, in URL order then document order.
    public let entries: [Entry]
    /// `credentials.derived_tokens.jwt.signing_key_id` ("" = not set).
    public let preferredKeyID: String

    /// No keys: JWKS serves `[]`, minting a JWT fails and every JWT fails verification.
    public static let empty = SigningKeyring(entries: [], preferredKeyID: "")

    init(entries: [Entry], preferredKeyID: String) {
        self.entries = entries
        self.preferredKeyID = preferredKeyID
    }

    /// Parses every JWK of the configured `base64://` JWKS documents (spec §6.1).
    /// - Throws: `ConfigError` naming the key for malformed keys, unusable key types, or RSA with a backend without it.
    public init(config: TalosConfig, crypto: any CryptoBackend) throws(ConfigError) {
        var entries: [Entry] = []
        _ = try SigningKeyDescriptor.parse(urls: config.signingKeyURLs)
        for url in config.signingKeyURLs {
            let document = try? JSONValue.parse(Base64URL.decode(url.dropFirst("base64://".count)) ?? [])
            for jwk in document?["keys"]?.arrayValue ?? [] {
                entries.append(
                    try Self.entry(jwk, crypto: crypto, setting: "credentials.derived_tokens.jwt.signing_keys")
                )
            }
        }
        self.init(entries: entries, preferredKeyID: config.signingKeyID)
    }

    /// The verifying keys of a JWK Set as `GET …/jwks.json` serves it (spec §15.13), for verifying derived JWTs
    /// away from the server. Keys that cannot verify derived tokens (no `kid`, another key type, RSA under a
    /// backend without RSA, a malformed member) are skipped, as RFC 7517 §5 asks of a JWK Set's consumers.
    public init(jwks document: JSONValue, crypto: any CryptoBackend) {
        let entries = (document["keys"]?.arrayValue ?? []).compactMap { jwk -> Entry? in
            guard let kid = jwk["kid"]?.stringValue, !kid.isEmpty else { return nil }
            switch (jwk["kty"]?.stringValue, jwk["crv"]?.stringValue) {
            case ("OKP", "Ed25519"): break
            case ("RSA", _) where crypto.supportsRSA: break
            default: return nil
            }
            return try? Self.entry(jwk, crypto: crypto, setting: "jwks")
        }
        self.init(entries: entries, preferredKeyID: "")
    }

    /// One JWK (Ed25519 or RSA) prepared for `crypto`; the private part, when present, makes it a signer.
    private static func entry(_ jwk: JSONValue, crypto: any CryptoBackend, setting: String) throws(ConfigError) -> Entry
    {
        let kid = jwk["kid"]?.stringValue ?? ""
        func bytes(_ name: String, required: Bool = true) throws(ConfigError) -> [UInt8]? {
            guard let text = jwk[name]?.stringValue else {
                if required { throw ConfigError("\(setting): key \"\(kid)\" lacks \"\(name)\"") }
                return nil
            }
            guard let decoded = Base64URL.decode(text) else {
                throw ConfigError("\(setting): key \"\(kid)\" has an invalid \"\(name)\"")
            }
            return decoded
        }
        do {
            if jwk["kty"]?.stringValue == "OKP" {
                let publicKey = try bytes("x")!
                let signer = try bytes("d", required: false).map { seed in
                    try crypto.ed25519SigningKey(seed: seed)
                }
                if let signer, signer.publicKeyBytes != publicKey {
                    throw ConfigError("\(setting): key \"\(kid)\": \"x\" does not match \"d\"")
                }
                return Entry(
                    kid: kid,
                    family: .ed25519,
                    signer: signer,
                    verifier: try crypto.ed25519VerifyingKey(publicKey: publicKey),
                    publicJWK: [
                        "kty": "OKP", "crv": "Ed25519", "x": .string(Base64URL.encode(publicKey)),
                        "kid": .string(kid),
                        "use": "sig", "alg": "EdDSA",
                    ],
                    use: jwk["use"]?.stringValue
                )
            }
            let n = try bytes("n")!
            let e = try bytes("e")!
            var signer: (any SigningKey)?
            if let d = try bytes("d", required: false) {
                signer = try crypto.rsaSigningKey(
                    RSAKeyComponents(
                        n: n,
                        e: e,
                        d: d,
                        p: try bytes("p")!,
                        q: try bytes("q")!,
                        dp: try bytes("dp")!,
                        dq: try bytes("dq")!,
                        qi: try bytes("qi")!
                    )
                )
            } else if n.count < 256 {
                throw ConfigError("\(setting): RSA key \"\(kid)\" must have at least 2048 bits")
            }
            return Entry(
                kid: kid,
                family: .rsa,
                signer: signer,
                verifier: try crypto.rsaVerifyingKey(modulus: n, exponent: e),
                publicJWK: [
                    "kty": "RSA", "n": .string(Base64URL.encode(n)), "e": .string(Base64URL.encode(e)),
                    "kid": .string(kid), "use": "sig", "alg": "RS256",
                ],
                use: jwk["use"]?.stringValue
            )
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(setting): key \"\(kid)\": \(error)")
        }
    }

    /// The key that signs new tokens: `signing_key_id` if set, else the first `"use":"sig"` key, else the first.
    /// - Throws: 500 `SIGNING_KEY_UNAVAILABLE` when no usable private key exists.
    public func signingEntry() throws(TalosError) -> Entry {
        let candidate: Entry?
        if !preferredKeyID.isEmpty {
            candidate = entries.first { $0.kid == preferredKeyID }
        } else {
            candidate = entries.first { $0.use == "sig" && $0.signer != nil } ?? entries.first { $0.signer != nil }
        }
        guard let candidate, candidate.signer != nil else {
            throw TalosError(
                .signingKeyUnavailable,
                "get signing key",
                metadata: preferredKeyID.isEmpty ? [] : [("signing_key_id", preferredKeyID)]
            )
        }
        return candidate
    }

    /// The key a token's `kid` names.
    public func entry(kid: String) -> Entry? { entries.first { $0.kid == kid } }

    /// `{"keys":[…]}` with the public part of every key, in configured order.
    public var publicJWKS: JSONValue { ["keys": .array(entries.map(\.publicJWK))] }
}

/// Private JWK sets for `talos jwk generate` (spec §10.4).
public enum JWKGenerator {
    /// The key types `talos jwk generate` can create, by command-line name: Ed25519 (`EdDSA`) and RSA (`RS256`).
    public enum Kind: String, Sendable, CaseIterable {
        case eddsa, rsa
    }

    /// A private JWKS `{"keys":[…]}` holding one new key.
    /// - Throws: `CryptoError` when the backend cannot generate that kind (RSA with libsodium).
    public static func generate(
        _ kind: Kind,
        kid: String,
        use: String = "sig",
        bits: Int = 4096,
        crypto: any CryptoBackend
    )
        throws -> JSONValue
    {
        switch kind {
        case .eddsa:
            let seed = crypto.randomBytes(32)
            let key = try crypto.ed25519SigningKey(seed: seed)
            return [
                "keys": [
                    [
                        "kty": "OKP", "crv": "Ed25519", "kid": .string(kid), "use": .string(use), "alg": "EdDSA",
                        "x": .string(Base64URL.encode(key.publicKeyBytes)), "d": .string(Base64URL.encode(seed)),
                    ]
                ]
            ]
        case .rsa:
            let c = try crypto.generateRSAKey(bits: bits)
            var jwk: JSONObject = ["kty": "RSA", "kid": .string(kid), "use": .string(use), "alg": "RS256"]
            for (name, value) in [
                ("n", c.n), ("e", c.e), ("d", c.d), ("p", c.p), ("q", c.q), ("dp", c.dp), ("dq", c.dq), ("qi", c.qi),
            ] {
                jwk[name] = .string(Base64URL.encode(value))
            }
            return ["keys": [.object(jwk)]]
        }
    }

    /// `base64://<standard base64 of the JSON>`, ready for `signing_keys.urls`.
    public static func url(_ jwks: JSONValue) -> String {
        var text = Base64URL.encode(jwks.serialized()).replacing("-", with: "+").replacing("_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return "base64://" + text
    }
}

extension SigningKeyring: RedactedDescription {}
extension SigningKeyring.Entry: RedactedDescription {}
