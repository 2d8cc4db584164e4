/// The gRPC canonical status of an error; the host maps it to an HTTP status in one place.
public enum StatusCode: String, Sendable, Hashable {
    case invalidArgument = "INVALID_ARGUMENT"
    case outOfRange = "OUT_OF_RANGE"
    case unauthenticated = "UNAUTHENTICATED"
    case permissionDenied = "PERMISSION_DENIED"
    case notFound = "NOT_FOUND"
    case alreadyExists = "ALREADY_EXISTS"
    case aborted = "ABORTED"
    case failedPrecondition = "FAILED_PRECONDITION"
    case resourceExhausted = "RESOURCE_EXHAUSTED"
    case cancelled = "CANCELLED"
    case `internal` = "INTERNAL"
    case unknown = "UNKNOWN"
    case dataLoss = "DATA_LOSS"
    case unimplemented = "UNIMPLEMENTED"
    case unavailable = "UNAVAILABLE"
    case deadlineExceeded = "DEADLINE_EXCEEDED"
}

/// An API error: a reason from the closed table of spec §2.5, a human message and string metadata.
///
/// Clients match on `reason`; `message` may change between versions.
public struct TalosError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One row of the reason table: the machine-readable name and its canonical status.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public let status: StatusCode

        private init(_ name: String, _ status: StatusCode) {
            self.name = name
            self.status = status
        }

        public var description: String { name }

        public static let invalidArgument = Reason("INVALID_ARGUMENT", .invalidArgument)
        public static let malformedRequest = Reason("MALFORMED_REQUEST", .invalidArgument)
        public static let credentialRequired = Reason("CREDENTIAL_REQUIRED", .invalidArgument)
        public static let derivedTokenNotRevocable = Reason("DERIVED_TOKEN_NOT_REVOCABLE", .invalidArgument)
        public static let derivedTokenNotDerivable = Reason("DERIVED_TOKEN_NOT_DERIVABLE", .invalidArgument)
        public static let ttlExceedsMaximum = Reason("TTL_EXCEEDS_MAXIMUM", .invalidArgument)
        public static let publicPrefixNotConfigured = Reason("PUBLIC_PREFIX_NOT_CONFIGURED", .invalidArgument)
        public static let invalidUpdateMask = Reason("INVALID_UPDATE_MASK", .invalidArgument)
        public static let invalidFilter = Reason("INVALID_FILTER", .invalidArgument)
        public static let invalidPageToken = Reason("INVALID_PAGE_TOKEN", .invalidArgument)
        public static let adminOnly = Reason("ADMIN_ONLY_REASON", .invalidArgument)
        public static let parentKeyInvalid = Reason("PARENT_KEY_INVALID", .unauthenticated)
        public static let apiKeyExpired = Reason("API_KEY_EXPIRED", .unauthenticated)
        public static let parentKeyRevoked = Reason("PARENT_KEY_REVOKED", .permissionDenied)
        public static let scopeNotAllowed = Reason("SCOPE_NOT_ALLOWED", .permissionDenied)
        public static let publicKeyNotSelfRevocable = Reason("PUBLIC_KEY_NOT_SELF_REVOCABLE", .permissionDenied)
        public static let apiKeyNotFound = Reason("API_KEY_NOT_FOUND", .notFound)
        public static let networkNotFound = Reason("NETWORK_NOT_FOUND", .notFound)
        public static let notFound = Reason("NOT_FOUND", .notFound)
        public static let apiKeyAlreadyExists = Reason("API_KEY_ALREADY_EXISTS", .alreadyExists)
        public static let apiKeyAlreadyRevoked = Reason("API_KEY_ALREADY_REVOKED", .failedPrecondition)
        public static let apiKeyNotActive = Reason("API_KEY_NOT_ACTIVE", .failedPrecondition)
        public static let importFormatConflict = Reason("IMPORT_FORMAT_CONFLICT", .failedPrecondition)
        public static let quotaExceeded = Reason("QUOTA_EXCEEDED", .resourceExhausted)
        public static let requestTooLarge = Reason("REQUEST_TOO_LARGE", .resourceExhausted)
        /// Too many requests from one client on the public surface (spec §15.5).
        public static let rateLimited = Reason("RATE_LIMITED", .resourceExhausted)
        public static let methodNotAllowed = Reason("METHOD_NOT_ALLOWED", .unimplemented)
        public static let unimplemented = Reason("UNIMPLEMENTED", .unimplemented)
        public static let signingKeyUnavailable = Reason("SIGNING_KEY_UNAVAILABLE", .internal)
        public static let `internal` = Reason("INTERNAL", .internal)
        public static let serviceUnavailable = Reason("SERVICE_UNAVAILABLE", .unavailable)
        public static let deadlineExceeded = Reason("DEADLINE_EXCEEDED", .deadlineExceeded)
    }

    public let reason: Reason
    public let message: String
    /// ErrorInfo metadata, in order; values are strings (numbers rendered in decimal).
    public let metadata: [(String, String)]

    public init(_ reason: Reason, _ message: String, metadata: [(String, String)] = []) {
        self.reason = reason
        self.message = message
        self.metadata = metadata
    }

    public var description: String { "\(reason.name): \(message)" }

    public static func == (lhs: TalosError, rhs: TalosError) -> Bool {
        lhs.reason == rhs.reason && lhs.message == rhs.message
            && lhs.metadata.map(\.0) == rhs.metadata.map(\.0) && lhs.metadata.map(\.1) == rhs.metadata.map(\.1)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reason)
        hasher.combine(message)
    }

    /// `validation error: <field>: <problem>` (400 INVALID_ARGUMENT).
    public static func validation(_ field: String, _ problem: String) -> TalosError {
        TalosError(.invalidArgument, "validation error: \(field): \(problem)")
    }

    /// A body that is not JSON or has a wrongly typed field (400 MALFORMED_REQUEST).
    public static func malformed(_ detail: String) -> TalosError {
        TalosError(.malformedRequest, "malformed JSON body: \(detail)")
    }

    /// The only message an internal failure ever shows.
    public static let internalError = TalosError(.internal, "An internal server error occurred.")

    /// The database could not be reached.
    public static let databaseUnavailable = TalosError(.serviceUnavailable, "database connection failed")

    /// The database did not answer in time.
    public static let databaseTimeout = TalosError(.deadlineExceeded, "database operation timed out")
}
