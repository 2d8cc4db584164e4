internal import CTalosSodium
public import TalosCore

extension SodiumCrypto {
    public func ed25519SigningKey(seed: [UInt8]) throws -> any SigningKey {
        guard seed.count == 32 else { throw CryptoError("Ed25519 private key must be 32 bytes") }
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_seed_keypair(&publicKey, &secretKey, seed) == 0 else {
            throw CryptoError("libsodium: cannot derive the Ed25519 key pair")
        }
        return SodiumSigningKey(secretKey: secretKey, publicKeyBytes: publicKey)
    }

    public func ed25519VerifyingKey(publicKey: [UInt8]) throws -> any VerifyingKey {
        guard publicKey.count == 32 else { throw CryptoError("Ed25519 public key must be 32 bytes") }
        return SodiumVerifyingKey(publicKey: publicKey)
    }

    public func rsaSigningKey(_ components: RSAKeyComponents) throws -> any SigningKey {
        throw CryptoError("libsodium has no RSA; RS256 keys need crypto.backend openssl")
    }

    public func rsaVerifyingKey(modulus: [UInt8], exponent: [UInt8]) throws -> any VerifyingKey {
        throw CryptoError("libsodium has no RSA; RS256 keys need crypto.backend openssl")
    }

    public func generateRSAKey(bits: Int) throws -> RSAKeyComponents {
        throw CryptoError("libsodium has no RSA; RS256 keys need crypto.backend openssl")
    }
}

struct SodiumSigningKey: SigningKey {
    let secretKey: [UInt8]
    let publicKeyBytes: [UInt8]

    var verifyingKey: any VerifyingKey { SodiumVerifyingKey(publicKey: publicKeyBytes) }

    func sign(_ message: [UInt8]) throws -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey) == 0 else {
            throw CryptoError("libsodium: sign failed")
        }
        return signature
    }
}

struct SodiumVerifyingKey: VerifyingKey {
    let publicKey: [UInt8]

    func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        signature.count == 64 && crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}

extension SodiumSigningKey: RedactedDescription {}
