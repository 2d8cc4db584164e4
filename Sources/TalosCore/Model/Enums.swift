/// A wire enum of spec §2.2: emitted as its name, accepted as its name or its integer value.
public protocol WireEnum: Sendable, Hashable, CaseIterable, RawRepresentable where RawValue == Int {
    /// The enum's type name prefix, e.g. `KEY_STATUS`.
    static var wirePrefix: String { get }
    /// The case's suffix after the prefix, e.g. `ACTIVE`.
    var wireSuffix: String { get }
}

extension WireEnum {
    /// The full wire name, e.g. `KEY_STATUS_ACTIVE`.
    public var wireName: String { "\(Self.wirePrefix)_\(wireSuffix)" }

    /// The case named `name` (full wire name), or `nil`.
    public init?(wireName name: String) {
        guard let match = Self.allCases.first(where: { $0.wireName == name }) else { return nil }
        self = match
    }
}

/// The lifecycle state of a key. Stored as ACTIVE or REVOKED; EXPIRED is derived from `expire_time`.
public enum KeyStatus: Int, WireEnum {
    /// On input: not set. Never stored or emitted for a key.
    case unspecified = 0
    /// Usable, unless `expire_time` has passed (then reported as `.expired`).
    case active = 1
    /// Revoked; irreversible (spec §8.3).
    case revoked = 2
    /// Never stored: reported for a stored ACTIVE key whose `expire_time` ≤ now.
    case expired = 3
    /// `KEY_STATUS`.
    public static let wirePrefix = "KEY_STATUS"
    /// The case's name without `KEY_STATUS_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .active: "ACTIVE"
        case .revoked: "REVOKED"
        case .expired: "EXPIRED"
        }
    }
}

/// Why a key was revoked.
public enum RevocationReason: Int, WireEnum {
    /// Not set; a revocation request without a specific reason is a 400 (spec §14.4).
    case unspecified = 0
    /// The secret leaked or may have leaked.
    case keyCompromise = 1
    /// The key's owner changed affiliation.
    case affiliationChanged = 2
    /// Replaced by another key; what rotation stores on the old key.
    case superseded = 3
    /// Administrators only; the only reason that allows a `description`.
    case privilegeWithdrawn = 4
    /// `REVOCATION_REASON`.
    public static let wirePrefix = "REVOCATION_REASON"
    /// The case's name without `REVOCATION_REASON_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .keyCompromise: "KEY_COMPROMISE"
        case .affiliationChanged: "AFFILIATION_CHANGED"
        case .superseded: "SUPERSEDED"
        case .privilegeWithdrawn: "PRIVILEGE_WITHDRAWN"
        }
    }
}

/// Whether a key is a secret (default) or a publishable key with its own prefix.
public enum KeyVisibility: Int, WireEnum {
    /// Not set; stored and returned as `.secret`.
    case unspecified = 0
    /// A secret key, issued with `prefix.current`.
    case secret = 1
    /// A publishable key, issued with `prefix.public_current`; it cannot be self-revoked.
    case `public` = 2
    /// `KEY_VISIBILITY`.
    public static let wirePrefix = "KEY_VISIBILITY"
    /// The case's name without `KEY_VISIBILITY_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .secret: "SECRET"
        case .public: "PUBLIC"
        }
    }
}

/// Why a verification failed (spec §2.2, §5.4, §13).
public enum VerificationErrorCode: Int, WireEnum {
    /// Not set; never emitted for a failure.
    case unspecified = 0
    /// The credential is over 8192 bytes, empty in a batch, or a token of the wrong `tty`.
    case invalidFormat = 1
    /// `expire_time` (or a derived token's `exp` plus clock skew) has passed.
    case expired = 2
    /// The key is revoked.
    case revoked = 3
    /// Unknown key, forged checksum, out-of-range timestamp, disallowed prefix or another tenant.
    case notFound = 4
    /// A derived token whose structure, signature, issuer, caveats or `nbf` is not acceptable.
    case signatureInvalid = 5
    /// The verification could not be completed.
    case `internal` = 6
    /// The client IP is missing, unparsable or outside the key's `allowed_cidrs`.
    case ipNotAllowed = 7
    /// The key's `rate_limit_policy` quota for the current window is spent.
    case rateLimited = 8
    /// No audience of the credential is in `expected_audiences`, or only one of the two names any (spec §13).
    case audienceMismatch = 9
    /// `VERIFICATION_ERROR`.
    public static let wirePrefix = "VERIFICATION_ERROR"
    /// The case's name without `VERIFICATION_ERROR_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .invalidFormat: "INVALID_FORMAT"
        case .expired: "EXPIRED"
        case .revoked: "REVOKED"
        case .notFound: "NOT_FOUND"
        case .signatureInvalid: "SIGNATURE_INVALID"
        case .internal: "INTERNAL"
        case .ipNotAllowed: "IP_NOT_ALLOWED"
        case .rateLimited: "RATE_LIMITED"
        case .audienceMismatch: "AUDIENCE_MISMATCH"
        }
    }

    /// The fixed caller-facing message of §5.4; never the internal cause.
    public var message: String {
        switch self {
        case .unspecified, .invalidFormat: "The API key format is invalid."
        case .expired: "The API key has expired."
        case .revoked: "The API key has been revoked."
        case .notFound: "The API key was not found."
        case .signatureInvalid: "Signature verification failed."
        case .internal: "An internal server error occurred."
        case .ipNotAllowed: "The request IP is not allowed for this API key."
        case .rateLimited: "rate limit exceeded"
        case .audienceMismatch: "The credential is not intended for this audience."
        }
    }
}

/// Where the client IP of a request comes from (spec §5.6).
public enum ClientIPSource: Int, WireEnum {
    /// The TCP peer address, like `.remoteAddr`.
    case unspecified = 0
    /// The TCP peer, `CF-Connecting-IP`, `X-Forwarded-For` (spec §15.2), `X-Real-IP` or `True-Client-IP`.
    case remoteAddr, cfConnectingIP, xForwardedFor, xRealIP, trueClientIP
    /// `CLIENT_IP_SOURCE`.
    public static let wirePrefix = "CLIENT_IP_SOURCE"
    /// The case's name without `CLIENT_IP_SOURCE_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .remoteAddr: "REMOTE_ADDR"
        case .cfConnectingIP: "CF_CONNECTING_IP"
        case .xForwardedFor: "X_FORWARDED_FOR"
        case .xRealIP: "X_REAL_IP"
        case .trueClientIP: "TRUE_CLIENT_IP"
        }
    }
}

/// The format of a derived token; UNSPECIFIED means JWT.
public enum TokenAlgorithm: Int, WireEnum {
    /// Not set: a JWT is minted.
    case unspecified = 0
    /// A JWT signed EdDSA or RS256 with the configured signing key (spec §6.1).
    case jwt = 1
    /// A macaroon whose root key derives from the HMAC secret; needs no signing key (spec §6.2).
    case macaroon = 2
    /// `TOKEN_ALGORITHM`.
    public static let wirePrefix = "TOKEN_ALGORITHM"
    /// The case's name without `TOKEN_ALGORITHM_`.
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .jwt: "JWT"
        case .macaroon: "MACAROON"
        }
    }
}
