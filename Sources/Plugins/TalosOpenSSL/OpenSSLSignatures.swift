internal import CTalosOpenSSL
public import TalosCore

extension OpenSSLCrypto {
    public func ed25519SigningKey(seed: [UInt8]) throws -> any SigningKey {
        guard seed.count == 32, let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw CryptoError("Ed25519 private key must be 32 bytes")
        }
        let pkey = PKey(key, digest: false)
        var publicKey = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key, &publicKey, &length) == 1, length == 32 else {
            throw CryptoError("OpenSSL: cannot derive the Ed25519 public key")
        }
        return OpenSSLSigningKey(key: pkey, publicKeyBytes: publicKey)
    }

    public func ed25519VerifyingKey(publicKey: [UInt8]) throws -> any VerifyingKey {
        guard publicKey.count == 32, let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, publicKey, 32) else {
            throw CryptoError("Ed25519 public key must be 32 bytes")
        }
        return OpenSSLVerifyingKey(key: PKey(key, digest: false))
    }

    public func rsaSigningKey(_ c: RSAKeyComponents) throws -> any SigningKey {
        guard
            let key = talos_rsa_from_components(
                c.n,
                c.n.count,
                c.e,
                c.e.count,
                c.d,
                c.d.count,
                c.p,
                c.p.count,
                c.q,
                c.q.count,
                c.dp,
                c.dp.count,
                c.dq,
                c.dq.count,
                c.qi,
                c.qi.count
            )
        else { throw CryptoError("OpenSSL: invalid RSA private key") }
        guard EVP_PKEY_get_bits(key) >= 2048 else {
            EVP_PKEY_free(key)
            throw CryptoError("RSA keys must have at least 2048 bits")
        }
        return OpenSSLSigningKey(key: PKey(key, digest: true), publicKeyBytes: c.n)
    }

    public func rsaVerifyingKey(modulus: [UInt8], exponent: [UInt8]) throws -> any VerifyingKey {
        guard !modulus.isEmpty, !exponent.isEmpty,
            let key = talos_rsa_from_components(
                modulus,
                modulus.count,
                exponent,
                exponent.count,
                nil,
                0,
                nil,
                0,
                nil,
                0,
                nil,
                0,
                nil,
                0,
                nil,
                0
            )
        else { throw CryptoError("OpenSSL: invalid RSA public key") }
        return OpenSSLVerifyingKey(key: PKey(key, digest: true))
    }

    public func generateRSAKey(bits: Int) throws -> RSAKeyComponents {
        guard [2048, 3072, 4096].contains(bits), let key = talos_rsa_generate(UInt32(bits)) else {
            throw CryptoError("OpenSSL: RSA key generation failed")
        }
        defer { EVP_PKEY_free(key) }
        func component(_ index: Int32) throws -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 1024)
            let length = talos_rsa_component(key, index, &buffer, Int32(buffer.count))
            guard length > 0 else { throw CryptoError("OpenSSL: cannot export RSA key") }
            return Array(buffer.prefix(Int(length)))
        }
        return RSAKeyComponents(
            n: try component(0),
            e: try component(1),
            d: try component(2),
            p: try component(3),
            q: try component(4),
            dp: try component(5),
            dq: try component(6),
            qi: try component(7)
        )
    }
}

/// An EVP_PKEY, freed once.
final class PKey: @unchecked Sendable {
    // @unchecked: an EVP_PKEY is immutable after creation and OpenSSL documents concurrent use of one key in
    // separate EVP_MD_CTX operations as safe; it is only freed in deinit.
    let pointer: OpaquePointer
    /// RSA signs SHA-256 digests; Ed25519 signs the message itself (no digest).
    let usesSHA256: Bool

    init(_ pointer: OpaquePointer, digest: Bool) {
        self.pointer = pointer
        self.usesSHA256 = digest
    }

    deinit { EVP_PKEY_free(pointer) }
}

struct OpenSSLSigningKey: SigningKey {
    let key: PKey
    let publicKeyBytes: [UInt8]

    var verifyingKey: any VerifyingKey { OpenSSLVerifyingKey(key: key) }

    func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError("OpenSSL: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, key.usesSHA256 ? EVP_sha256() : nil, nil, key.pointer) == 1 else {
            throw CryptoError("OpenSSL: sign init failed")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw CryptoError("OpenSSL: sign failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw CryptoError("OpenSSL: sign failed")
        }
        return Array(signature.prefix(length))
    }
}

struct OpenSSLVerifyingKey: VerifyingKey {
    let key: PKey

    func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard !signature.isEmpty, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, key.usesSHA256 ? EVP_sha256() : nil, nil, key.pointer) == 1 else {
            return false
        }
        return EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }
}

extension OpenSSLSigningKey: RedactedDescription {}
