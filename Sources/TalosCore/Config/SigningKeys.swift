/// What startup needs to know about a configured JWT signing key (spec §6.1); key material stays in the JWKS.
public struct SigningKeyDescriptor: Sendable, Hashable {
    /// The key type, whose raw value is the JWT `alg` it signs with: Ed25519 → `EdDSA`, RSA (≥ 2048 bits) → `RS256`.
    public enum Family: String, Sendable {
        case ed25519 = "EdDSA"
        case rsa = "RS256"
    }

    /// The JWK's non-empty `kid`.
    public let kid: String
    /// Which algorithm the key signs with.
    public let family: Family

    /// Reads every key of the `base64://<JWKS>` URLs, in order.
    /// - Throws: `ConfigError` for other URL schemes, undecodable documents, keys without `kid`, and key types that
    ///   cannot sign derived tokens (only OKP/Ed25519 and RSA can).
    public static func parse(urls: [String]) throws(ConfigError) -> [SigningKeyDescriptor] {
        let key = "credentials.derived_tokens.jwt.signing_keys.urls"
        var descriptors: [SigningKeyDescriptor] = []
        for url in urls {
            guard url.hasPrefix("base64://") else { throw ConfigError("\(key): unsupported signing key URL scheme") }
            guard let bytes = Base64URL.decode(url.dropFirst("base64://".count)),
                let document = try? JSONValue.parse(bytes), let keys = document["keys"]?.arrayValue
            else { throw ConfigError("\(key): not a base64-encoded JWKS document") }
            for jwk in keys {
                guard let kid = jwk["kid"]?.stringValue, !kid.isEmpty else {
                    throw ConfigError("\(key): every signing key needs a \"kid\"")
                }
                switch (jwk["kty"]?.stringValue, jwk["crv"]?.stringValue) {
                case ("OKP", "Ed25519"): descriptors.append(SigningKeyDescriptor(kid: kid, family: .ed25519))
                case ("RSA", _): descriptors.append(SigningKeyDescriptor(kid: kid, family: .rsa))
                default:
                    throw ConfigError(
                        "\(key): key \"\(kid)\" cannot sign derived tokens (only Ed25519 and RSA keys can)"
                    )
                }
            }
        }
        return descriptors
    }
}

extension TalosConfig {
    /// Checks that the chosen crypto backend can use every configured signing key (libsodium has no RSA, §4.7).
    /// - Throws: `ConfigError` naming the key's `kid`.
    public func validateSigningKeys(crypto: any CryptoBackend) throws(ConfigError) {
        let keys = try SigningKeyDescriptor.parse(urls: signingKeyURLs)
        if !crypto.supportsRSA, let rsa = keys.first(where: { $0.family == .rsa }) {
            throw ConfigError(
                "credentials.derived_tokens.jwt.signing_keys: RSA key \"\(rsa.kid)\" needs crypto.backend openssl "
                    + "(\(crypto.name) has no RSA)"
            )
        }
    }
}
