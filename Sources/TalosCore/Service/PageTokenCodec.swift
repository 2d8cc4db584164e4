/// Opaque, authenticated page tokens (spec §7): ChaCha20-Poly1305 over `{"v":1,"r":…,"k":…,"f":…}`.
public struct PageTokenCodec: Sendable {
    let crypto: any CryptoBackend

    /// A codec sealing and opening tokens with `crypto`'s ChaCha20-Poly1305 and CSPRNG nonces.
    public init(crypto: any CryptoBackend) { self.crypto = crypto }

    /// A token that resumes after `lastKeyID` for the same kind and filter text, sealed under the current secret.
    public func encode(kind: KeyKind, lastKeyID: String, filter: String, keyring: Keyring) throws -> String {
        let plaintext = JSONValue.object([
            "v": .int(1), "r": .string(kind.rawValue), "k": .string(lastKeyID), "f": .string(filter),
        ]).serialized()
        let nonce = crypto.randomBytes(12)
        let sealed = try crypto.chaCha20Poly1305Seal(
            key: keyring.current.paginationKey,
            nonce: nonce,
            plaintext: plaintext
        )
        return Base64URL.encode([0x01] + nonce + sealed)
    }

    /// The key id to resume after. - Throws: 400 `INVALID_PAGE_TOKEN` for any decode, decrypt, kind or filter mismatch.
    public func decode(
        _ token: String,
        kind: KeyKind,
        filter: String,
        keyring: Keyring,
        now: Timestamp
    )
        throws(TalosError) -> String
    {
        let invalid = TalosError(.invalidPageToken, "invalid page_token")
        guard token.utf8.count <= 4096, let bytes = Base64URL.decode(token), bytes.count > 1 + 12 + 16, bytes[0] == 0x01
        else { throw invalid }
        let nonce = Array(bytes[1..<13])
        let sealed = Array(bytes[13...])
        for secret in keyring.active(at: now) {
            guard
                let plaintext = try? crypto.chaCha20Poly1305Open(
                    key: secret.paginationKey,
                    nonce: nonce,
                    sealed: sealed
                )
            else { continue }
            guard let document = try? JSONValue.parse(plaintext), document["v"] == .int(1),
                document["r"] == .string(kind.rawValue), document["f"] == .string(filter),
                case .string(let lastKeyID)? = document["k"]
            else { throw invalid }
            return lastKeyID
        }
        throw invalid
    }
}
