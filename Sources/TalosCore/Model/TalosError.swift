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
        /// The wire name sent as `ErrorInfo.reason`; stable, and what clients match on.
        public let name: String
        /// The canonical status, which fixes the envelope's `status` and (via the host) the HTTP status.
        public let status: StatusCode

        private init(_ name: String, _ status: StatusCode) {
            self.name = name
            self.status = status
        }

        /// The wire name, as `name`.
        public var description: String { name }

        /// 400: a request field failed validation (`validation error: <field>: <problem>`) or a batch rule was broken.
        public static let invalidArgument = Reason("INVALID_ARGUMENT", .invalidArgument)
        /// 400: the body is not JSON, has a wrongly typed field or exceeds the parser's value budget (spec §15.6).
        public static let malformedRequest = Reason("MALFORMED_REQUEST", .invalidArgument)
        /// 400: verify, derive or self-revoke was called with an empty `credential`.
        public static let credentialRequired = Reason("CREDENTIAL_REQUIRED", .invalidArgument)
        /// 400: self-revoke was given a JWT or macaroon; derived tokens live until `exp`.
        public static let derivedTokenNotRevocable = Reason("DERIVED_TOKEN_NOT_REVOCABLE", .invalidArgument)
        /// 400: a derive `credential` routes as a derived token (spec §14.6).
        public static let derivedTokenNotDerivable = Reason("DERIVED_TOKEN_NOT_DERIVABLE", .invalidArgument)
        /// 400: a `ttl` above `api_keys.max_ttl`, or a derived ttl above the parent's remaining life; never clamped.
        public static let ttlExceedsMaximum = Reason("TTL_EXCEEDS_MAXIMUM", .invalidArgument)
        /// 400: a PUBLIC key was requested but `prefix.public_current` is unset.
        public static let publicPrefixNotConfigured = Reason("PUBLIC_PREFIX_NOT_CONFIGURED", .invalidArgument)
        /// 400: an `update_mask` path outside the mutable set; checked before any database read.
        public static let invalidUpdateMask = Reason("INVALID_UPDATE_MASK", .invalidArgument)
        /// 400: a list `filter` outside the grammar of spec §7.
        public static let invalidFilter = Reason("INVALID_FILTER", .invalidArgument)
        /// 400: a `page_token` that does not decrypt, names another resource type or another filter.
        public static let invalidPageToken = Reason("INVALID_PAGE_TOKEN", .invalidArgument)
        /// 400: self-revoke with `REVOCATION_REASON_PRIVILEGE_WITHDRAWN`, which only administrators may use.
        public static let adminOnly = Reason("ADMIN_ONLY_REASON", .invalidArgument)
        /// 401: derive's parent credential failed verification for any reason other than revocation.
        public static let parentKeyInvalid = Reason("PARENT_KEY_INVALID", .unauthenticated)
        /// 401: self-revoke was given an expired key.
        public static let apiKeyExpired = Reason("API_KEY_EXPIRED", .unauthenticated)
        /// 403: derive's parent key is revoked.
        public static let parentKeyRevoked = Reason("PARENT_KEY_REVOKED", .permissionDenied)
        /// 403: derive asked for a scope the parent key does not hold (exact string match).
        public static let scopeNotAllowed = Reason("SCOPE_NOT_ALLOWED", .permissionDenied)
        /// 401: an admin route without an admin key, or with one that is not shaped like one (spec §16.3).
        public static let adminKeyRequired = Reason("ADMIN_KEY_REQUIRED", .unauthenticated)
        /// 401: an unknown, revoked or expired admin key.
        public static let adminKeyInvalid = Reason("ADMIN_KEY_INVALID", .unauthenticated)
        /// 403: the admin key lacks the operation's permission (metadata `permission`).
        public static let adminPermissionRequired = Reason("ADMIN_PERMISSION_REQUIRED", .permissionDenied)
        /// 401: forward auth without a credential in `Authorization: Bearer` or `X-API-Key` (docs/forward-auth.md).
        public static let credentialMissing = Reason("CREDENTIAL_MISSING", .unauthenticated)
        /// 401: forward auth with a credential that does not verify (whatever the verification error).
        public static let credentialInvalid = Reason("CREDENTIAL_INVALID", .unauthenticated)
        /// 403: forward auth for a key that lacks a required `scope` (metadata `scope`: the first one missing).
        public static let scopeRequired = Reason("SCOPE_REQUIRED", .permissionDenied)
        /// 403: a state-changing request a browser sent from another origin (spec §16.1).
        public static let crossOriginRequest = Reason("CROSS_ORIGIN_REQUEST", .permissionDenied)
        /// 421 (status INVALID_ARGUMENT): the request's `Host` is not in `serve.http.allowed_hosts` (spec §16.2).
        public static let hostNotAllowed = Reason("HOST_NOT_ALLOWED", .invalidArgument)
        /// 403: self-revoke of an active PUBLIC key (spec §14.5).
        public static let publicKeyNotSelfRevocable = Reason("PUBLIC_KEY_NOT_SELF_REVOCABLE", .permissionDenied)
        /// 404: no key with that id in the tenant; also every self-revoke authentication failure (anti-enumeration).
        public static let apiKeyNotFound = Reason("API_KEY_NOT_FOUND", .notFound)
        /// 404: multi-tenancy is on and no network matches the request host.
        public static let networkNotFound = Reason("NETWORK_NOT_FOUND", .notFound)
        /// 404: no route matches the path (spec §15.4).
        public static let notFound = Reason("NOT_FOUND", .notFound)
        /// 409: an imported key with the same hash is already stored in the tenant.
        public static let apiKeyAlreadyExists = Reason("API_KEY_ALREADY_EXISTS", .alreadyExists)
        /// 409: admin revoke of a key that is already revoked.
        public static let apiKeyAlreadyRevoked = Reason("API_KEY_ALREADY_REVOKED", .failedPrecondition)
        /// 409: rotate of a key that is not active, or derive from a parent expiring at this exact instant.
        public static let apiKeyNotActive = Reason("API_KEY_NOT_ACTIVE", .failedPrecondition)
        /// 409: an imported raw key routes as an issued key or a derived token (spec §3.7).
        public static let importFormatConflict = Reason("IMPORT_FORMAT_CONFLICT", .failedPrecondition)
        /// 429: the tenant's `quota.api_keys_max` would be exceeded; metadata `limit` and `current_usage`.
        public static let quotaExceeded = Reason("QUOTA_EXCEEDED", .resourceExhausted)
        /// 413 (status RESOURCE_EXHAUSTED): the body exceeds the endpoint's size limit (spec §2.6).
        public static let requestTooLarge = Reason("REQUEST_TOO_LARGE", .resourceExhausted)
        /// Too many requests from one client on the public surface (spec §15.5).
        public static let rateLimited = Reason("RATE_LIMITED", .resourceExhausted)
        /// 405 (status UNIMPLEMENTED): the path exists but not for this HTTP method.
        public static let methodNotAllowed = Reason("METHOD_NOT_ALLOWED", .unimplemented)
        /// 501: the route exists but is not served in the current server mode.
        public static let unimplemented = Reason("UNIMPLEMENTED", .unimplemented)
        /// 500: a JWT was requested but no usable signing key exists; metadata `signing_key_id` when configured.
        public static let signingKeyUnavailable = Reason("SIGNING_KEY_UNAVAILABLE", .internal)
        /// 500: an unexpected failure; the message never reveals the cause.
        public static let `internal` = Reason("INTERNAL", .internal)
        /// 503: the database could not be reached.
        public static let serviceUnavailable = Reason("SERVICE_UNAVAILABLE", .unavailable)
        /// 504: a database operation timed out.
        public static let deadlineExceeded = Reason("DEADLINE_EXCEEDED", .deadlineExceeded)
    }

    /// The row of the reason table this error belongs to; fixes the wire `reason`, `status` and HTTP status.
    public let reason: Reason
    /// Human-readable text for the envelope's `message`; may contain user input such as a field name, never a secret.
    public let message: String
    /// ErrorInfo metadata, in order; values are strings (numbers rendered in decimal).
    public let metadata: [(String, String)]

    /// An error with `reason`, `message` and ordered ErrorInfo `metadata` (values already rendered as strings).
    public init(_ reason: Reason, _ message: String, metadata: [(String, String)] = []) {
        self.reason = reason
        self.message = message
        self.metadata = metadata
    }

    /// `<REASON>: <message>`, for logs and test failures.
    public var description: String { "\(reason.name): \(message)" }

    /// Equal when reason, message and metadata (pairs, in order) all match.
    public static func == (lhs: TalosError, rhs: TalosError) -> Bool {
        lhs.reason == rhs.reason && lhs.message == rhs.message
            && lhs.metadata.map(\.0) == rhs.metadata.map(\.0) && lhs.metadata.map(\.1) == rhs.metadata.map(\.1)
    }

    /// Hashes reason and message only, which is consistent with `==`.
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
