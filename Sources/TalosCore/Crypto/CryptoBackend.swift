/// The complete set of cryptographic primitives Talos uses (spec §4.7), provided by one library.
///
/// Implementations wrap a vetted C library (OpenSSL, libsodium); Talos never implements a primitive itself.
/// Every backend MUST produce byte-identical results for the same inputs, so that keys, hashes and page tokens
/// made under one backend verify under any other. Implementations are thread-safe.
public protocol CryptoBackend: Sendable {
    /// The configuration name, e.g. `openssl`; logged at startup.
    var name: String { get }

    /// Prepares an HMAC-SHA256 key of any length for repeated use.
    ///
    /// Backends precompute what they can (e.g. the padded key state) so that `authenticate` on the hot path
    /// does no allocation-heavy setup.
    func hmacSHA256Key(_ key: [UInt8]) -> any HMACKey

    /// SHA-512/256 of FIPS 180-4 (its own initial value; not truncated SHA-512).
    func sha512_256(_ data: [UInt8]) -> [UInt8]

    /// ChaCha20-Poly1305 (IETF, 96-bit nonce) encryption without associated data.
    /// - Parameters:
    ///   - key: 32 bytes.
    ///   - nonce: 12 bytes.
    /// - Returns: ciphertext followed by the 16-byte tag.
    /// - Throws: `CryptoError` on a wrong key or nonce length or a library failure.
    func chaCha20Poly1305Seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8]) throws -> [UInt8]

    /// Decrypts and authenticates the output of `chaCha20Poly1305Seal`.
    /// - Returns: the plaintext, or `nil` when authentication fails (tampering, wrong key or nonce).
    /// - Throws: `CryptoError` on a wrong key or nonce length or a library failure.
    func chaCha20Poly1305Open(key: [UInt8], nonce: [UInt8], sealed: [UInt8]) throws -> [UInt8]?

    /// `count` bytes from the library's CSPRNG. Traps if the CSPRNG fails: nothing secure can continue.
    func randomBytes(_ count: Int) -> [UInt8]

    /// Constant-time equality of two byte strings; different lengths compare unequal without reading.
    func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool

    /// An Ed25519 signing key from its 32-byte seed (the JWK `d`).
    /// - Throws: `CryptoError` for a wrong seed length.
    func ed25519SigningKey(seed: [UInt8]) throws -> any SigningKey

    /// An Ed25519 public key (32 bytes, the JWK `x`) for verification.
    /// - Throws: `CryptoError` for a wrong length.
    func ed25519VerifyingKey(publicKey: [UInt8]) throws -> any VerifyingKey

    /// Whether the backend signs and verifies RSA (RS256); `rsaSigningKey` and friends throw when it does not.
    var supportsRSA: Bool { get }

    /// An RSA private key for PKCS#1 v1.5 SHA-256 signatures (RS256).
    /// - Throws: `CryptoError` when the backend has no RSA (libsodium) or the components are inconsistent.
    func rsaSigningKey(_ components: RSAKeyComponents) throws -> any SigningKey

    /// An RSA public key for RS256 verification.
    /// - Throws: `CryptoError` when the backend has no RSA or the key is malformed.
    func rsaVerifyingKey(modulus: [UInt8], exponent: [UInt8]) throws -> any VerifyingKey

    /// A new RSA key pair. - Throws: `CryptoError` when the backend has no RSA.
    func generateRSAKey(bits: Int) throws -> RSAKeyComponents
}

/// A private key that signs messages (Ed25519 or RSA PKCS#1 v1.5 SHA-256).
public protocol SigningKey: Sendable {
    /// The signature of `message`. - Throws: `CryptoError` on a library failure.
    func sign(_ message: [UInt8]) throws -> [UInt8]
    /// The matching public key, for verifying what this key signed.
    var verifyingKey: any VerifyingKey { get }
    /// Ed25519: the 32-byte public key; RSA: the modulus.
    var publicKeyBytes: [UInt8] { get }
}

/// A public key that checks signatures.
public protocol VerifyingKey: Sendable {
    /// Whether `signature` is valid for `message` under this key.
    func verify(signature: [UInt8], message: [UInt8]) -> Bool
}

/// The big-endian components of an RSA private key, as a JWK carries them (`n e d p q dp dq qi`).
public struct RSAKeyComponents: Sendable, Hashable {
    /// Unsigned big-endian integers without JWK base64url encoding: modulus, public exponent, private exponent, primes,
    /// CRT exponents and coefficient. Everything but `n` and `e` is private key material: never log it.
    public var n: [UInt8], e: [UInt8], d: [UInt8], p: [UInt8], q: [UInt8], dp: [UInt8], dq: [UInt8], qi: [UInt8]

    /// The components of one RSA key; `CryptoBackend.rsaSigningKey` checks that they are consistent.
    public init(
        n: [UInt8],
        e: [UInt8],
        d: [UInt8],
        p: [UInt8],
        q: [UInt8],
        dp: [UInt8],
        dq: [UInt8],
        qi: [UInt8]
    ) {
        (self.n, self.e, self.d, self.p, self.q, self.dp, self.dq, self.qi) = (n, e, d, p, q, dp, dq, qi)
    }
}

/// A prepared HMAC-SHA256 key.
public protocol HMACKey: Sendable {
    /// The 32-byte HMAC-SHA256 of `message` under this key.
    func authenticate(_ message: [UInt8]) -> [UInt8]
}

/// A failure inside a crypto backend (never carries key material).
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    /// What failed, for logs; never contains key material.
    public let description: String
    /// A failure described by `description`, which must not contain key material.
    public init(_ description: String) { self.description = description }
}

extension CryptoBackend {
    /// A fresh random version 4 UUID from the backend's CSPRNG.
    public func randomUUID() -> String { UUIDText.v4(randomBytes: randomBytes(16)) }

    /// One-shot HMAC-SHA256.
    public func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        hmacSHA256Key(key).authenticate(message)
    }
}
