import TalosCore
import TalosOpenSSL
import TalosSodium
import TalosTesting
import Testing

@Suite struct SodiumCryptoTests {
    @Test func conformance() throws {
        try CryptoConformance.run(try SodiumCrypto())
    }

    /// Both backends must agree on every primitive for any input (spec §4.7).
    @Test func agreesWithOpenSSLOnRandomInputs() throws {
        try CryptoConformance.crossCheck(try SodiumCrypto(), try OpenSSLCrypto(), iterations: 10_000)
    }
}
