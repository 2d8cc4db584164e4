/// One `api_keys` row as the SQL backends store it, and the strict conversion to and from `APIKey` (spec §15.7).
///
/// The drivers read each column with their own typed accessors (a wrong SQL type is a `StorageError.corrupt`) and
/// bind the fields in `columns` order; what the values mean is decided here once. A row that does not decode —
/// unparsable JSON, an unknown enum value, a time out of range — is never replaced by defaults: the read fails, so
/// no write can rewrite a field it could not read.
public struct KeyRow: Sendable, Hashable {
    /// The column list, in the order of the fields below.
    public static let columns = """
        nid, kind, key_id, name, actor_id, scopes, status, create_time, update_time, expire_time, last_used_time, \
        metadata, rate_limit_quota, rate_limit_window, allowed_cidrs, revocation_reason, revocation_description, \
        visibility, request_id
        """
    /// The number of columns.
    public static let columnCount = 19

    /// The tenant UUID (`nid` column).
    public var nid: String
    /// `KeyKind.rawValue`: `issued` or `imported`; anything else is corrupt.
    public var kind: String
    /// Lowercase UUID (issued) or 64 lowercase hex characters (imported); unique per `(nid, kind)`.
    public var keyID: String
    /// The display name.
    public var name: String
    /// The owner named at creation; never changes.
    public var actorID: String
    /// A JSON array of strings.
    public var scopes: String
    /// The stored `KeyStatus` raw value: only 1 (ACTIVE) or 2 (REVOKED) decode.
    public var status: Int64
    /// Microseconds since the epoch, like every time column.
    public var createTime: Int64
    /// Microseconds since the epoch of the last mutation.
    public var updateTime: Int64
    /// Microseconds since the epoch; `nil` means no expiry.
    public var expireTime: Int64?
    /// Microseconds since the epoch of the last recorded use (spec §5.8); `nil` when never used.
    public var lastUsedTime: Int64?
    /// A JSON object.
    public var metadata: String
    /// Requests per window; `nil` exactly when `rateLimitWindow` is, both positive otherwise.
    public var rateLimitQuota: Int64?
    /// The window in whole seconds; `nil` exactly when `rateLimitQuota` is.
    public var rateLimitWindow: Int64?
    /// A JSON array of strings.
    public var allowedCIDRs: String
    /// The `RevocationReason` raw value; set only on revoked rows.
    public var revocationReason: Int64?
    /// The administrator's free-text reason; only with PRIVILEGE_WITHDRAWN.
    public var revocationDescription: String?
    /// The `KeyVisibility` raw value: only 1 (SECRET) or 2 (PUBLIC) decode.
    public var visibility: Int64
    /// The idempotency token the row was created with (spec §8.1), unique per `(nid, kind)`; `nil` when none.
    public var requestID: String?

    /// A row from column values exactly as read from the database; nothing is checked until `decode()`.
    public init(
        nid: String,
        kind: String,
        keyID: String,
        name: String,
        actorID: String,
        scopes: String,
        status: Int64,
        createTime: Int64,
        updateTime: Int64,
        expireTime: Int64?,
        lastUsedTime: Int64?,
        metadata: String,
        rateLimitQuota: Int64?,
        rateLimitWindow: Int64?,
        allowedCIDRs: String,
        revocationReason: Int64?,
        revocationDescription: String?,
        visibility: Int64,
        requestID: String?
    ) {
        self.nid = nid
        self.kind = kind
        self.keyID = keyID
        self.name = name
        self.actorID = actorID
        self.scopes = scopes
        self.status = status
        self.createTime = createTime
        self.updateTime = updateTime
        self.expireTime = expireTime
        self.lastUsedTime = lastUsedTime
        self.metadata = metadata
        self.rateLimitQuota = rateLimitQuota
        self.rateLimitWindow = rateLimitWindow
        self.allowedCIDRs = allowedCIDRs
        self.revocationReason = revocationReason
        self.revocationDescription = revocationDescription
        self.visibility = visibility
        self.requestID = requestID
    }

    /// The row that stores `key`.
    public init(_ key: APIKey) {
        self.init(
            nid: key.nid,
            kind: key.kind.rawValue,
            keyID: key.keyID,
            name: key.name,
            actorID: key.actorID,
            scopes: JSONValue.array(key.scopes.map(JSONValue.string)).compactString,
            status: Int64(key.storedStatus.rawValue),
            createTime: key.createTime.microseconds,
            updateTime: key.updateTime.microseconds,
            expireTime: key.expireTime?.microseconds,
            lastUsedTime: key.lastUsedTime?.microseconds,
            metadata: JSONValue.object(key.metadata).compactString,
            rateLimitQuota: key.rateLimitPolicy?.quota,
            rateLimitWindow: key.rateLimitPolicy?.windowSeconds,
            allowedCIDRs: JSONValue.array(key.allowedCIDRs.map(JSONValue.string)).compactString,
            revocationReason: key.revocationReason.map { Int64($0.rawValue) },
            revocationDescription: key.revocationDescription,
            visibility: Int64(key.visibility.rawValue),
            requestID: key.requestID
        )
    }

    /// Times a stored row may hold: 1970-01-01 up to 9999-12-31T23:59:59.999999Z.
    static let timeRange: ClosedRange<Int64> = 0...253_402_300_799_999_999

    /// The key this row stores.
    /// - Throws: `StorageError.corrupt` naming the column (never its content) when any value is unreadable.
    public func decode() throws(StorageError) -> APIKey {
        func corrupt(_ column: String) -> StorageError {
            .corrupt("api_keys row \(keyID.utf8.count <= 128 ? keyID : "?"): unreadable column \(column)")
        }
        func strings(_ text: String, _ column: String) throws(StorageError) -> [String] {
            guard let strings = (try? JSONValue.parse(text))?.stringArrayValue else { throw corrupt(column) }
            return strings
        }
        func time(_ value: Int64, _ column: String) throws(StorageError) -> Timestamp {
            guard Self.timeRange.contains(value) else { throw corrupt(column) }
            return Timestamp(microseconds: value)
        }
        func optionalTime(_ value: Int64?, _ column: String) throws(StorageError) -> Timestamp? {
            guard let value else { return nil }
            return try time(value, column)
        }
        func enumeration<E: RawRepresentable<Int>>(_ value: Int64, _ column: String) throws(StorageError) -> E {
            guard let raw = Int(exactly: value), let decoded = E(rawValue: raw) else { throw corrupt(column) }
            return decoded
        }
        guard let kind = KeyKind(rawValue: kind) else { throw corrupt("kind") }
        guard case .object(let metadata)? = try? JSONValue.parse(metadata) else { throw corrupt("metadata") }
        let storedStatus: KeyStatus = try enumeration(status, "status")
        guard storedStatus == .active || storedStatus == .revoked else { throw corrupt("status") }
        let visibility: KeyVisibility = try enumeration(visibility, "visibility")
        guard visibility != .unspecified else { throw corrupt("visibility") }
        var policy: RateLimitPolicy?
        switch (rateLimitQuota, rateLimitWindow) {
        case (nil, nil): policy = nil
        case (let quota?, let window?) where quota > 0 && window > 0:
            policy = RateLimitPolicy(quota: quota, windowSeconds: window)
        default: throw corrupt("rate_limit_quota")
        }
        return APIKey(
            kind: kind,
            nid: nid,
            keyID: keyID,
            name: name,
            actorID: actorID,
            scopes: try strings(scopes, "scopes"),
            storedStatus: storedStatus,
            createTime: try time(createTime, "create_time"),
            updateTime: try time(updateTime, "update_time"),
            expireTime: try optionalTime(expireTime, "expire_time"),
            lastUsedTime: try optionalTime(lastUsedTime, "last_used_time"),
            metadata: metadata,
            rateLimitPolicy: policy,
            allowedCIDRs: try strings(allowedCIDRs, "allowed_cidrs"),
            revocationReason: try revocationReason.map { value throws(StorageError) in
                try enumeration(value, "revocation_reason")
            },
            revocationDescription: revocationDescription,
            visibility: visibility,
            requestID: requestID
        )
    }
}
