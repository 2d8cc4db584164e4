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
}

/// A prepared HMAC-SHA256 key.
public protocol HMACKey: Sendable {
    /// The 32-byte HMAC-SHA256 of `message` under this key.
    func authenticate(_ message: [UInt8]) -> [UInt8]
}

/// A failure inside a crypto backend (never carries key material).
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    public let description: String
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
