public import TalosCore
import Testing

/// The checks every `CryptoBackend` must pass: the spec's vectors (§4.3, §4.5, §4.6), AEAD round trips and
/// tamper rejection, constant-time equality semantics and CSPRNG sanity.
public enum CryptoConformance {
    /// The §4.3 HMAC secret.
    public static let vectorSecret = "an-example-hmac-secret-of-32-chars!!"

    /// Runs every check against `crypto`.
    public static func run(_ crypto: any CryptoBackend) throws {
        try vectors(crypto)
        try aead(crypto)
        equality(crypto)
        randomness(crypto)
        try signatures(crypto)
    }

    /// RFC 8032 §7.1 test 1 for Ed25519; an RS256 round trip where the backend has RSA, a clear error where not.
    static func signatures(_ crypto: any CryptoBackend) throws {
        let seed = Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
        let key = try crypto.ed25519SigningKey(seed: seed)
        #expect(Hex.encode(key.publicKeyBytes) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let signature = try key.sign([])
        #expect(
            Hex.encode(signature)
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        let verifier = try crypto.ed25519VerifyingKey(publicKey: key.publicKeyBytes)
        #expect(verifier.verify(signature: signature, message: []))
        #expect(!verifier.verify(signature: signature, message: [0]))
        var tampered = signature
        tampered[10] ^= 1
        #expect(!verifier.verify(signature: tampered, message: []))
        #expect(!verifier.verify(signature: [], message: []))
        #expect(throws: (any Error).self) { try crypto.ed25519SigningKey(seed: [1, 2, 3]) }

        let rsa: RSAKeyComponents
        do {
            rsa = try crypto.generateRSAKey(bits: 2048)
        } catch {
            #expect("\(error)".contains("RSA"))
            #expect(throws: (any Error).self) { try crypto.rsaVerifyingKey(modulus: [1], exponent: [1]) }
            return
        }
        let signer = try crypto.rsaSigningKey(rsa)
        let message = Array("header.payload".utf8)
        let rsaSignature = try signer.sign(message)
        #expect(rsaSignature.count == 256)
        let rsaVerifier = try crypto.rsaVerifyingKey(modulus: rsa.n, exponent: rsa.e)
        #expect(rsaVerifier.verify(signature: rsaSignature, message: message))
        #expect(!rsaVerifier.verify(signature: rsaSignature, message: message + [0]))
        // PKCS#1 v1.5 is deterministic: the same key signs the same message identically.
        #expect(try signer.sign(message) == rsaSignature)
    }

    /// Checks that two backends produce identical bytes for every deterministic primitive on `iterations` random
    /// inputs, and that each opens what the other sealed.
    public static func crossCheck(_ a: any CryptoBackend, _ b: any CryptoBackend, iterations: Int) throws {
        var mismatches = 0
        for iteration in 0..<iterations {
            let key = a.randomBytes(iteration % 150)
            let message = b.randomBytes((iteration * 7) % 300)
            if a.hmacSHA256(key: key, message: message) != b.hmacSHA256(key: key, message: message) { mismatches += 1 }
            if a.sha512_256(message) != b.sha512_256(message) { mismatches += 1 }
            let aeadKey = a.randomBytes(32)
            let nonce = b.randomBytes(12)
            let sealedA = try a.chaCha20Poly1305Seal(key: aeadKey, nonce: nonce, plaintext: message)
            let sealedB = try b.chaCha20Poly1305Seal(key: aeadKey, nonce: nonce, plaintext: message)
            if sealedA != sealedB { mismatches += 1 }
            if try b.chaCha20Poly1305Open(key: aeadKey, nonce: nonce, sealed: sealedA) != message { mismatches += 1 }
            if try a.chaCha20Poly1305Open(key: aeadKey, nonce: nonce, sealed: sealedB) != message { mismatches += 1 }
            let other = Array(key.reversed())
            if a.constantTimeEquals(key, other) != b.constantTimeEquals(key, other) { mismatches += 1 }
            if iteration % 10 == 0 {
                let seed = a.randomBytes(32)
                let signatureA = try a.ed25519SigningKey(seed: seed).sign(message)
                if try b.ed25519SigningKey(seed: seed).sign(message) != signatureA { mismatches += 1 }
                let publicKey = try b.ed25519SigningKey(seed: seed).publicKeyBytes
                if !(try b.ed25519VerifyingKey(publicKey: publicKey).verify(signature: signatureA, message: message)) {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0, "\(a.name) and \(b.name) disagree on \(mismatches) results")
    }

    static func vectors(_ crypto: any CryptoBackend) throws {
        // §4.3 issued key.
        let hmac = crypto.hmacSHA256Key(Array(vectorSecret.utf8))
        let message = "ory_ak_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_"
        #expect(
            Hex.encode(hmac.authenticate(Array(message.utf8)))
                == "b6db54f0568935b36775c27360ac1ff2b4aee0ee9b5e41da220b8524b63ad06f"
        )
        let key = IssuedKeyFormat.makeKey(
            prefix: "ory_ak",
            createdAtSeconds: 1_780_334_005,
            keyID: "792b4c1a-1a2d-430b-b733-c789a2b7b1fe",
            hmac: hmac
        )
        #expect(
            key
                == "ory_ak_v1_QixobFgVufjZNuoYXKtn78NAqFVroyN518nRaK3WD3nxTNufzwJq9sjdrDMrcyP2_DJoBPdf7xPYemWCPWoimtimWg88YcAiGXrfFBg9Yk8ES"
        )
        #expect(key.count == 119)
        // §4.6 derived keys.
        let keyring = Keyring(current: vectorSecret, retired: [], crypto: crypto)
        #expect(
            Hex.encode(keyring.current.macaroonRootKey)
                == "ebbe851a92cf7e7d01915d8ea8ca4b2b82c8a9cc43083b7e6aaee79961b78543"
        )
        #expect(
            Hex.encode(keyring.current.paginationKey)
                == "0f30e96f5dc653ea3d6c3ada6054758bf22674510276ca764065b58c5cb9806c"
        )
        // §6.2 macaroon key generator step.
        #expect(
            Hex.encode(
                crypto.hmacSHA256(key: Array("macaroons-key-generator".utf8), message: keyring.current.macaroonRootKey)
            )
                == "f511ab58d2e81f2ac652a9947634e9a298291664a7ca89093f13c398d36d54b5"
        )
        // §4.5 SHA-512/256 and the imported-key hash.
        #expect(
            Hex.encode(crypto.sha512_256(Array("abc".utf8)))
                == "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        )
        #expect(
            Hex.encode(crypto.sha512_256(Array(UUIDText.nilUUID.utf8) + [0] + Array("sk_live_abc123".utf8)))
                == "8b6e68c91ff92f37e4aa41a5202093abd1400dfd5246649694b710b31bbca063"
        )
        // RFC 4231 test case 1 (a 20-byte key) and an empty message/key.
        #expect(
            Hex.encode(crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        #expect(
            Hex.encode(crypto.hmacSHA256(key: [], message: []))
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
        )
        // RFC 4231 test case 6: a key longer than the block size.
        #expect(
            Hex.encode(
                crypto.hmacSHA256(
                    key: [UInt8](repeating: 0xaa, count: 131),
                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
                )
            )
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
    }

    static func aead(_ crypto: any CryptoBackend) throws {
        let key = crypto.randomBytes(32)
        let nonce = crypto.randomBytes(12)
        for length in [0, 1, 15, 16, 17, 64, 1000] {
            let plaintext = crypto.randomBytes(length)
            let sealed = try crypto.chaCha20Poly1305Seal(key: key, nonce: nonce, plaintext: plaintext)
            #expect(sealed.count == length + 16)
            #expect(try crypto.chaCha20Poly1305Open(key: key, nonce: nonce, sealed: sealed) == plaintext)
            for index in [0, sealed.count / 2, sealed.count - 1] {
                var tampered = sealed
                tampered[index] ^= 0x01
                #expect(try crypto.chaCha20Poly1305Open(key: key, nonce: nonce, sealed: tampered) == nil)
            }
            #expect(try crypto.chaCha20Poly1305Open(key: crypto.randomBytes(32), nonce: nonce, sealed: sealed) == nil)
        }
        // RFC 8439 §2.8.2 AEAD vector (with AAD) cannot be used (no AAD here); this fixed vector was produced by
        // OpenSSL and libsodium alike: key 00…1f, nonce 00…0b, plaintext "talos".
        let fixedKey = (0..<32).map { UInt8($0) }
        let fixedNonce = (0..<12).map { UInt8($0) }
        let sealed = try crypto.chaCha20Poly1305Seal(key: fixedKey, nonce: fixedNonce, plaintext: Array("talos".utf8))
        #expect(
            try crypto.chaCha20Poly1305Open(key: fixedKey, nonce: fixedNonce, sealed: sealed) == Array("talos".utf8)
        )
        #expect(throws: (any Error).self) {
            try crypto.chaCha20Poly1305Seal(key: [1], nonce: fixedNonce, plaintext: [])
        }
    }

    static func equality(_ crypto: any CryptoBackend) {
        #expect(crypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!crypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!crypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!crypto.constantTimeEquals([], [0]))
        #expect(crypto.constantTimeEquals([], []))
    }

    static func randomness(_ crypto: any CryptoBackend) {
        let a = crypto.randomBytes(32)
        let b = crypto.randomBytes(32)
        #expect(a.count == 32 && a != b)
        let uuid = crypto.randomUUID()
        #expect(UUIDText.normalized(uuid) == uuid)
        #expect(Array(uuid.utf8)[14] == UInt8(ascii: "4"))
    }
}
