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
    case unspecified = 0
    case active = 1
    case revoked = 2
    case expired = 3
    public static let wirePrefix = "KEY_STATUS"
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
    case unspecified = 0
    case keyCompromise = 1
    case affiliationChanged = 2
    case superseded = 3
    case privilegeWithdrawn = 4
    public static let wirePrefix = "REVOCATION_REASON"
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
    case unspecified = 0
    case secret = 1
    case `public` = 2
    public static let wirePrefix = "KEY_VISIBILITY"
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
    case unspecified = 0
    case invalidFormat = 1
    case expired = 2
    case revoked = 3
    case notFound = 4
    case signatureInvalid = 5
    case `internal` = 6
    case ipNotAllowed = 7
    case rateLimited = 8
    case audienceMismatch = 9
    public static let wirePrefix = "VERIFICATION_ERROR"
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
    case unspecified = 0
    case remoteAddr, cfConnectingIP, xForwardedFor, xRealIP, trueClientIP
    public static let wirePrefix = "CLIENT_IP_SOURCE"
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
    case unspecified = 0
    case jwt = 1
    case macaroon = 2
    public static let wirePrefix = "TOKEN_ALGORITHM"
    public var wireSuffix: String {
        switch self {
        case .unspecified: "UNSPECIFIED"
        case .jwt: "JWT"
        case .macaroon: "MACAROON"
        }
    }
}
