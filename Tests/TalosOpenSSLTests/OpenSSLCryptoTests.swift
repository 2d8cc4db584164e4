import TalosCore
import TalosOpenSSL
import TalosTesting
import Testing

@Suite struct OpenSSLCryptoTests {
    @Test func conformance() throws {
        try CryptoConformance.run(try OpenSSLCrypto())
    }

    @Test func concurrentHMACIsConsistent() async throws {
        let crypto = try OpenSSLCrypto()
        let key = crypto.hmacSHA256Key(Array(CryptoConformance.vectorSecret.utf8))
        let expected = key.authenticate(Array("message".utf8))
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).allSatisfy { _ in key.authenticate(Array("message".utf8)) == expected } }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(results)
    }
}
