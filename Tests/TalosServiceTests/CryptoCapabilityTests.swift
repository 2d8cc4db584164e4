import TalosCore
import TalosOpenSSL
import TalosSodium
import Testing

/// The core asks a crypto backend what it can do instead of knowing backends by name.
@Suite struct CryptoCapabilityTests {
    func url(_ jwks: String) -> String { "base64://" + Base64URL.encode(Array(jwks.utf8)) }

    @Test func rsaKeysAreRefusedWithLibsodium() throws {
        var config = TalosConfig()
        config.signingKeyURLs = [
            url(#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed"},{"kty":"RSA","kid":"rsa-1","n":"x","e":"AQAB"}]}"#)
        ]
        try config.validateSigningKeys(crypto: try OpenSSLCrypto())
        #expect(
            throws: ConfigError(
                #"credentials.derived_tokens.jwt.signing_keys: RSA key "rsa-1" needs crypto.backend openssl (libsodium has no RSA)"#
            )
        ) { try config.validateSigningKeys(crypto: try SodiumCrypto()) }
    }
}
