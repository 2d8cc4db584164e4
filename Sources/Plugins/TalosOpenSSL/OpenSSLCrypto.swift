internal import CTalosOpenSSL
public import TalosCore

extension CryptoProvider {
    /// The OpenSSL (libcrypto 3) backend, `crypto.backend = "openssl"`.
    public static let openssl = CryptoProvider(name: "openssl") { try OpenSSLCrypto() }
}

/// Every primitive of spec §4.7 from the system's libcrypto 3.
public final class OpenSSLCrypto: CryptoBackend {
    public let name = "openssl"
    public let supportsRSA = true

    // Algorithm objects are fetched once: fetching per call costs more than the HMAC itself.
    // They are immutable after fetch and OpenSSL documents them as shareable between threads.
    private let mac: Handle<OpaquePointer>
    private let sha512_256Digest: Handle<OpaquePointer>
    private let chacha: Handle<OpaquePointer>

    public init() throws {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw CryptoError("OpenSSL: HMAC is not available") }
        self.mac = Handle(mac) { EVP_MAC_free($0) }
        guard let digest = EVP_MD_fetch(nil, "SHA512-256", nil) else {
            throw CryptoError("OpenSSL: SHA-512/256 is not available")
        }
        self.sha512_256Digest = Handle(digest) { EVP_MD_free($0) }
        guard let cipher = EVP_CIPHER_fetch(nil, "ChaCha20-Poly1305", nil) else {
            throw CryptoError("OpenSSL: ChaCha20-Poly1305 is not available")
        }
        self.chacha = Handle(cipher) { EVP_CIPHER_free($0) }
    }

    public func hmacSHA256Key(_ key: [UInt8]) -> any HMACKey {
        OpenSSLHMACKey(mac: mac.pointer, key: key)
    }

    public func sha512_256(_ data: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &output, &length, sha512_256Digest.pointer, nil)
        }
        precondition(ok == 1 && length == 32, "OpenSSL SHA-512/256 failed")
        return output
    }

    public func chaCha20Poly1305Seal(key: [UInt8], nonce: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard key.count == 32, nonce.count == 12 else {
            throw CryptoError("ChaCha20-Poly1305 needs a 32-byte key and 12-byte nonce")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("OpenSSL: out of memory") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: Int32 = 0
        var finalWritten: Int32 = 0
        guard EVP_EncryptInit_ex2(context, chacha.pointer, key, nonce, nil) == 1,
            plaintext.isEmpty || EVP_EncryptUpdate(context, &output, &written, plaintext, Int32(plaintext.count)) == 1,
            output.withUnsafeMutableBufferPointer({
                EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(written), &finalWritten)
            }) == 1
        else { throw CryptoError("OpenSSL: ChaCha20-Poly1305 encryption failed") }
        let tagOK = output.withUnsafeMutableBufferPointer {
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, $0.baseAddress! + plaintext.count)
        }
        guard tagOK == 1 else { throw CryptoError("OpenSSL: ChaCha20-Poly1305 tag failed") }
        return output
    }

    public func chaCha20Poly1305Open(key: [UInt8], nonce: [UInt8], sealed: [UInt8]) throws -> [UInt8]? {
        guard key.count == 32, nonce.count == 12 else {
            throw CryptoError("ChaCha20-Poly1305 needs a 32-byte key and 12-byte nonce")
        }
        guard sealed.count >= 16 else { return nil }
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("OpenSSL: out of memory") }
        defer { EVP_CIPHER_CTX_free(context) }
        let ciphertextCount = sealed.count - 16
        var output = [UInt8](repeating: 0, count: max(ciphertextCount, 1))
        var written: Int32 = 0
        var finalWritten: Int32 = 0
        var tag = Array(sealed[ciphertextCount...])
        guard EVP_DecryptInit_ex2(context, chacha.pointer, key, nonce, nil) == 1 else {
            throw CryptoError("OpenSSL: ChaCha20-Poly1305 init failed")
        }
        if ciphertextCount > 0 {
            guard EVP_DecryptUpdate(context, &output, &written, sealed, Int32(ciphertextCount)) == 1 else { return nil }
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, &tag) == 1 else { return nil }
        let verified = output.withUnsafeMutableBufferPointer {
            EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(written), &finalWritten)
        }
        guard verified == 1 else { return nil }
        return Array(output.prefix(ciphertextCount))
    }

    public func randomBytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return output }
        precondition(RAND_bytes(&output, Int32(count)) == 1, "OpenSSL CSPRNG failed")
        return output
    }

    public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return CRYPTO_memcmp(lhs, rhs, lhs.count) == 0
    }
}

/// A keyed HMAC-SHA256 template; each `authenticate` duplicates it, so the key schedule is computed once.
final class OpenSSLHMACKey: HMACKey, @unchecked Sendable {
    // @unchecked: `template` is initialised once and afterwards only read by EVP_MAC_CTX_dup, which takes a const
    // source; no call mutates it, so concurrent authenticate calls are safe. It is freed in deinit only.
    private let template: OpaquePointer

    init(mac: OpaquePointer, key: [UInt8]) {
        guard let context = EVP_MAC_CTX_new(mac) else { fatalError("OpenSSL: out of memory") }
        // OpenSSL 3 reads a zero-length key as "keep the previous key". HMAC zero-pads short keys to the block size,
        // so the empty key and the one-byte key 0x00 define the same function.
        let keyBytes = key.isEmpty ? [0] : key
        let ok = keyBytes.withUnsafeBufferPointer { talos_hmac_sha256_init(context, $0.baseAddress, $0.count) }
        precondition(ok == 1, "OpenSSL HMAC init failed")
        self.template = context
    }

    deinit { EVP_MAC_CTX_free(template) }

    func authenticate(_ message: [UInt8]) -> [UInt8] {
        guard let context = EVP_MAC_CTX_dup(template) else { fatalError("OpenSSL: out of memory") }
        defer { EVP_MAC_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: 32)
        var length = 0
        let ok = message.withUnsafeBufferPointer { input in
            (input.isEmpty || EVP_MAC_update(context, input.baseAddress, input.count) == 1)
                && EVP_MAC_final(context, &output, &length, 32) == 1
        }
        precondition(ok && length == 32, "OpenSSL HMAC failed")
        return output
    }
}

/// Owns an OpenSSL object and frees it once.
final class Handle<Pointer>: @unchecked Sendable {
    // @unchecked: holds an OpenSSL algorithm object that is immutable after fetch and documented as thread-safe to
    // share; it is only freed in deinit.
    let pointer: Pointer
    private let free: (Pointer) -> Void

    init(_ pointer: Pointer, free: @escaping (Pointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    deinit { free(pointer) }
}

extension OpenSSLHMACKey: RedactedDescription {}
