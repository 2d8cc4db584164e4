internal import CTalosSodium
public import TalosCore

extension CryptoProvider {
    /// The libsodium backend, `crypto.backend = "libsodium"`.
    public static let libsodium = CryptoProvider(name: "libsodium") { try SodiumCrypto() }
}

/// Every primitive of spec §4.7 from the system's libsodium; nothing falls back to another library.
public struct SodiumCrypto: CryptoBackend {
    public let name = "libsodium"
    public let supportsRSA = false

    /// - Throws: `CryptoError` when libsodium cannot initialise (no entropy source).
    public init() throws {
        // sodium_init is idempotent and thread-safe; 1 means "already initialised".
        guard sodium_init() >= 0 else { throw CryptoError("libsodium: sodium_init failed") }
    }

    public func hmacSHA256Key(_ key: [UInt8]) -> any HMACKey {
        SodiumHMACKey(key: key)
    }

    /// FIPS 180-4 initial hash value of SHA-512/256 (§5.3.6.2).
    private static let sha512_256IV: [UInt64] = [
        0x2231_2194_FC2B_F72C, 0x9F55_5FA3_C84C_64C2, 0x2393_B86B_6F53_B151, 0x9638_7719_5940_EABD,
        0x9628_3EE2_A88E_FFE3, 0xBE5E_1E25_5386_3992, 0x2B01_99FC_2C85_B8AA, 0x0EB7_2DDC_81C5_2CA2,
    ]

    /// libsodium has no SHA-512/256, but its SHA-512 state is public: SHA-512/256 is SHA-512's compression with
    /// another initial value and a truncated output, so the state is initialised, its IV replaced, and the digest
    /// truncated. The compression itself is libsodium's.
    public func sha512_256(_ data: [UInt8]) -> [UInt8] {
        var state = crypto_hash_sha512_state()
        crypto_hash_sha512_init(&state)
        withUnsafeMutableBytes(of: &state.state) { words in
            for (index, value) in Self.sha512_256IV.enumerated() {
                words.storeBytes(of: value, toByteOffset: index * 8, as: UInt64.self)
            }
        }
        crypto_hash_sha512_update(&state, data, UInt64(data.count))
        var digest = [UInt8](repeating: 0, count: 64)
        crypto_hash_sha512_final(&state, &digest)
        return Array(digest.prefix(32))
    }

    public func chaCha20Poly1305Seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard key.count == 32, nonce.count == 12 else {
            throw CryptoError("ChaCha20-Poly1305 needs a 32-byte key and 12-byte nonce")
        }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: UInt64 = 0
        let status = crypto_aead_chacha20poly1305_ietf_encrypt(
            &output,
            &length,
            plaintext,
            UInt64(plaintext.count),
            nil,
            0,
            nil,
            nonce,
            key
        )
        guard status == 0, length == UInt64(output.count) else { throw CryptoError("libsodium: encryption failed") }
        return output
    }

    public func chaCha20Poly1305Open(key: [UInt8], nonce: [UInt8], sealed: [UInt8]) throws -> [UInt8]? {
        guard key.count == 32, nonce.count == 12 else {
            throw CryptoError("ChaCha20-Poly1305 needs a 32-byte key and 12-byte nonce")
        }
        guard sealed.count >= 16 else { return nil }
        var output = [UInt8](repeating: 0, count: sealed.count - 16)
        var length: UInt64 = 0
        let status = crypto_aead_chacha20poly1305_ietf_decrypt(
            &output,
            &length,
            nil,
            sealed,
            UInt64(sealed.count),
            nil,
            0,
            nonce,
            key
        )
        guard status == 0 else { return nil }
        return Array(output.prefix(Int(length)))
    }

    public func randomBytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        randombytes_buf(&output, count)
        return output
    }

    public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return sodium_memcmp(lhs, rhs, lhs.count) == 0
    }
}

/// A keyed HMAC-SHA256 state; each `authenticate` continues from a copy of it, so the key is processed once.
struct SodiumHMACKey: HMACKey {
    private let keyed: crypto_auth_hmacsha256_state

    init(key: [UInt8]) {
        var state = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&state, key, key.count)
        keyed = state
    }

    func authenticate(_ message: [UInt8]) -> [UInt8] {
        var state = keyed
        crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        var output = [UInt8](repeating: 0, count: 32)
        crypto_auth_hmacsha256_final(&state, &output)
        return output
    }
}

extension SodiumHMACKey: RedactedDescription {}
