import TalosCore
import TalosOpenSSL
import TalosTesting
import Testing

@Suite struct MacaroonVectorTests {
    /// Spec §6.2: checks encoding and signature chaining (the vector's caveats are a subset of real tokens').
    @Test func specVector() throws {
        let crypto = try OpenSSLCrypto()
        let keyring = Keyring(current: CryptoConformance.vectorSecret, retired: [], crypto: crypto)
        let caveats = [
            #"iss="https://api.example.com""#, #"sub="792b4c1a-1a2d-430b-b733-c789a2b7b1fe""#,
            #"nid="00000000-0000-0000-0000-000000000000""#, "exp=1780337605",
        ]
        let expected =
            "mc_v1_AgEXaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20CJDVmMGM5YTNlLTJiN2QtNGU2MS04ZjRhLTljMmQxZTBiN2E2OAACHWlzcz0iaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20iAAIqc3ViPSI3OTJiNGMxYS0xYTJkLTQzMGItYjczMy1jNzg5YTJiN2IxZmUiAAIqbmlkPSIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiAAIOZXhwPTE3ODAzMzc2MDUAAAYg3OvsDdAKnHI3MC6nAWtvlonhB8_myK1ARRg3x3U_NPk"
        let signature = MacaroonCodec.signatureForTesting(
            rootKey: keyring.current.macaroonRootKey,
            identifier: "5f0c9a3e-2b7d-4e61-8f4a-9c2d1e0b7a68",
            caveats: caveats,
            crypto: crypto
        )
        #expect(Hex.encode(signature) == "dcebec0dd00a9c7237302ea7016b6f9689e107cfe6c8ad40451837c7753f34f9")
        let token =
            "mc_v1_"
            + Base64URL.encode(
                MacaroonCodec.encodeForTesting(
                    location: "https://api.example.com",
                    identifier: "5f0c9a3e-2b7d-4e61-8f4a-9c2d1e0b7a68",
                    caveats: caveats,
                    signature: signature
                )
            )
        #expect(token == expected)
        // The vector lacks required claims (scp…), so it decodes and authenticates but is not a complete token.
        #expect(
            MacaroonCodec.verify(
                expected,
                prefixes: ["mc"],
                rootKeys: [keyring.current.macaroonRootKey],
                crypto: crypto
            ) == nil
        )
    }
}
