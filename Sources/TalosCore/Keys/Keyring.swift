/// The HMAC secrets in force and what is derived from them (spec §4.6, §5.5), prepared once per configuration.
public struct Keyring: Sendable {
    /// A prepared secret with its derived keys.
    public struct Secret: Sendable {
        /// HMAC-SHA256 keyed with the secret's raw UTF-8 bytes: the issued-key checksum key (spec §4.1). Never log it.
        public let checksumKey: any HMACKey
        /// HMAC-SHA256 keyed with `HMAC(secret, "talos/admin-keys/v1")`: the admin-key checksum key (spec §16.3), so
        /// that no API-key checksum is ever a valid admin-key checksum. Never log it.
        public let adminChecksumKey: any HMACKey
        /// ChaCha20-Poly1305 key for page tokens.
        public let paginationKey: [UInt8]
        /// Root key for macaroons.
        public let macaroonRootKey: [UInt8]
        /// When a retired secret stops being honoured; `nil` = never (always so for the current secret).
        public let expiresAt: Timestamp?
    }

    /// `secrets.hmac.current`: signs every new checksum, page token and macaroon, and is tried first when verifying.
    public let current: Secret
    /// `secrets.hmac.retired`, in configured order: only verify and decrypt, until their `expiresAt`.
    public let retired: [Secret]

    /// Prepares `current` and each `retired` secret with `crypto` and derives their page-token and macaroon keys
    /// (spec §4.6).
    public init(current: String, retired: [ExpiringValue], crypto: any CryptoBackend) {
        func prepare(_ secret: String, expiresAt: Timestamp?) -> Secret {
            let key = crypto.hmacSHA256Key(Array(secret.utf8))
            return Secret(
                checksumKey: key,
                adminChecksumKey: crypto.hmacSHA256Key(key.authenticate(Array("talos/admin-keys/v1".utf8))),
                paginationKey: key.authenticate(Array("talos/pagination/v1/cursor-key".utf8)),
                macaroonRootKey: key.authenticate(Array("talos/macaroon/v1/root-key".utf8)),
                expiresAt: expiresAt
            )
        }
        self.current = prepare(current, expiresAt: nil)
        self.retired = retired.map { prepare($0.value, expiresAt: $0.expiresAt) }
    }

    /// The current secret followed by every retired one still honoured at `now`.
    public func active(at now: Timestamp) -> [Secret] {
        [current] + retired.filter { secret in secret.expiresAt.map { now < $0 } ?? true }
    }
}

extension Keyring: RedactedDescription {}
extension Keyring.Secret: RedactedDescription {}
