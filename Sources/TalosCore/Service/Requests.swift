/// A request field that distinguishes "absent", "null" and a value, as PATCH and rotate semantics require.
public enum Presence<Value: Sendable & Hashable>: Sendable, Hashable {
    case absent
    case null
    case value(Value)

    /// The value when present and non-null.
    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// Whether the field was sent with a non-null value.
    public var isSet: Bool { value != nil }
}

/// A rate-limit policy as sent by a client, before validation.
public struct RateLimitPolicyInput: Sendable, Hashable {
    /// Requests allowed per window; required, 1…1 000 000 000 once validated (wire: int64 as a string or a number).
    public var quota: Int64?
    /// Grammar 1 or protobuf form (`60s`, `1m`).
    public var window: String?
    /// `rate_limit_policy.unit`; only `"requests"` is accepted, and `nil` or empty means `"requests"` (spec §13).
    public var unit: String?

    /// An unvalidated policy; `Validate` rejects a missing quota or window with a 400 naming the field.
    public init(quota: Int64? = nil, window: String? = nil, unit: String? = nil) {
        self.quota = quota
        self.window = window
        self.unit = unit
    }
}

/// The attributes shared by issue, import, update and rotate requests, before validation.
public struct KeyAttributesInput: Sendable, Hashable {
    /// Required and non-empty on issue and import (1–255 scalars, no control characters); an update or rotation keeps
    /// the stored name when absent.
    public var name: Presence<String> = .absent
    /// Required on issue and import (1–255 scalars, no control characters); ignored by update and rotate (immutable).
    public var actorID: Presence<String> = .absent
    /// At most 100 opaque strings of 1–256 characters without whitespace; duplicates are dropped keeping the first.
    public var scopes: Presence<[String]> = .absent
    /// A JSON object whose compact serialization is at most 65 536 bytes and whose nesting depth is at most 10.
    public var metadata: Presence<JSONObject> = .absent
    /// A present policy replaces the key's; under an update mask that lists it, absent or `.null` removes it.
    public var rateLimitPolicy: Presence<RateLimitPolicyInput> = .absent
    /// `ip_restriction.allowed_cidrs`; an object without the list counts as an empty list.
    public var allowedCIDRs: Presence<[String]> = .absent
    /// `.unspecified` means SECRET on issue and import and "inherit" on rotate; update ignores it (output-only there).
    public var visibility: KeyVisibility = .unspecified

    /// Every field absent and visibility unspecified: applied as an update without a mask, this changes nothing.
    public init() {}
}

/// `IssueApiKeyRequest` (spec §3.1).
public struct IssueKeyRequest: Sendable, Hashable {
    /// Name, actor, scopes, metadata, policy, CIDRs and visibility; name and actor are required here.
    public var attributes = KeyAttributesInput()
    /// Spec §2.3 grammar 2; `nil`, empty or zero means `api_keys.default_ttl` (or no expiry); above `max_ttl` is a 400.
    public var ttl: String?
    /// Idempotency key (spec §8.1), 1–128 printable ASCII; a replay returns the existing key without its secret.
    public var requestID: String?

    /// An empty request; `name` and `actorID` must be set before it can pass validation.
    public init() {}
}

/// The body of an update (spec §3.4, §14.9) plus its `update_mask`.
public struct UpdateKeyRequest: Sendable, Hashable {
    /// The body's mutable fields; which of them apply depends on `updateMask` (spec §3.4, §14.9).
    public var attributes = KeyAttributesInput()
    /// The body's `key_id`, which must equal the path's when present.
    public var keyID: String?
    /// Paths from `update_mask`; `nil` when no mask was sent.
    public var updateMask: [String]?

    /// An empty update without a mask, which changes nothing but `update_time`.
    public init() {}
}

/// The optional overrides of a rotation (spec §3.5, §14.10).
public struct RotateKeyRequest: Sendable, Hashable {
    /// Overrides for the new key (`actorID` is ignored): absent or null inherits; any present value, even an empty
    /// one, overrides.
    public var attributes = KeyAttributesInput()

    /// No overrides: the new key inherits every field of the old one.
    public init() {}
}

/// Field validation of spec §3 (common request fields); every failure is a 400 naming the field.
enum Validate {
    static func name(_ name: String, field: String = "name") throws(TalosError) -> String {
        guard !name.isEmpty else { throw .validation(field, "value is required") }
        guard name.unicodeScalars.count <= 255 else {
            throw .validation(field, "value length must be at most 255 characters")
        }
        guard !name.unicodeScalars.contains(where: isControl) else {
            throw .validation(field, "value must not contain control characters")
        }
        return name
    }

    static func scopes(_ scopes: [String]) throws(TalosError) -> [String] {
        guard scopes.count <= 100 else { throw .validation("scopes", "value must contain at most 100 items") }
        var seen = Set<String>()
        var output: [String] = []
        for scope in scopes {
            guard (1...256).contains(scope.unicodeScalars.count) else {
                throw .validation("scopes", "each scope must be 1 to 256 characters")
            }
            guard !scope.unicodeScalars.contains(where: { isControl($0) || $0.properties.isWhitespace }) else {
                throw .validation("scopes", "scopes must not contain whitespace or control characters")
            }
            if seen.insert(scope).inserted { output.append(scope) }
        }
        return output
    }

    static func metadata(_ metadata: JSONObject, field: String = "metadata") throws(TalosError) -> JSONObject {
        let value = JSONValue.object(metadata)
        guard value.serialized().count <= 65_536 else {
            throw .validation(field, "serialized size must be at most 65536 bytes")
        }
        guard value.depth <= 10 else { throw .validation(field, "nesting depth must be at most 10") }
        return metadata
    }

    static func rateLimitPolicy(_ input: RateLimitPolicyInput) throws(TalosError) -> RateLimitPolicy {
        guard let quota = input.quota, (1...1_000_000_000).contains(quota) else {
            throw .validation("rate_limit_policy.quota", "value must be between 1 and 1000000000")
        }
        guard let window = input.window, !window.isEmpty else {
            throw .validation("rate_limit_policy.window", "value is required")
        }
        guard let nanos = DurationText.parseConfig(window) else {
            throw .validation("rate_limit_policy.window", "invalid duration \"\(window)\"")
        }
        guard nanos % 1_000_000_000 == 0 else { throw .validation("rate_limit_policy.window", "must be whole seconds") }
        let seconds = nanos / 1_000_000_000
        guard (1...86_400).contains(seconds) else {
            throw .validation("rate_limit_policy.window", "value must be between 1s and 86400s")
        }
        if let unit = input.unit, !unit.isEmpty, unit != "requests" {
            throw .validation("rate_limit_policy.unit", "only \"requests\" is supported")
        }
        return RateLimitPolicy(quota: quota, windowSeconds: seconds)
    }

    static func cidrs(_ cidrs: [String]) throws(TalosError) -> [String] {
        guard cidrs.count <= 100 else {
            throw .validation("ip_restriction.allowed_cidrs", "value must contain at most 100 items")
        }
        var output: [String] = []
        for text in cidrs {
            guard let cidr = CIDR(text) else {
                throw .validation("ip_restriction.allowed_cidrs", "invalid CIDR \"\(text.prefix(64))\"")
            }
            if !output.contains(cidr.description) { output.append(cidr.description) }
        }
        return output
    }

    static func requestID(_ requestID: String) throws(TalosError) -> String {
        guard (1...128).contains(requestID.utf8.count), requestID.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw .validation("request_id", "value must be 1 to 128 printable ASCII characters")
        }
        return requestID
    }

    /// Parses an API ttl; `nil` for not set (empty or zero, spec §14.7).
    static func ttl(_ text: String?, field: String = "ttl") throws(TalosError) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let nanos = DurationText.parseTTL(text) else {
            throw .validation(field, "invalid duration \"\(text.prefix(64))\"")
        }
        if nanos == 0 { return nil }
        guard nanos >= 1_000_000_000, nanos <= DurationText.maximumTTLSeconds * 1_000_000_000 else {
            throw TalosError(.invalidArgument, "ttl must be between 1s and 315360000s")
        }
        return nanos
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }
}

/// `ImportApiKeyRequest` (spec §3.7).
public struct ImportKeyRequest: Sendable, Hashable {
    /// Name, actor, scopes, metadata, policy, CIDRs and visibility; visibility is stored but does not affect the key.
    public var attributes = KeyAttributesInput()
    /// The external secret, 1–8192 bytes without ASCII control characters or whitespace. Only its tenant-bound hash
    /// (spec §4.5) is stored; never log it.
    public var rawKey: String?
    /// Spec §2.3 grammar 2; `nil`, empty or zero means `api_keys.default_ttl` (or no expiry); above `max_ttl` is a 400.
    public var ttl: String?
    /// Idempotency key (spec §8.1), 1–128 printable ASCII; ignored on batch items.
    public var requestID: String?

    /// An empty request; `rawKey`, `name` and `actorID` must be set before it can pass validation.
    public init() {}
}

/// One item of a batch import as the transport read it.
public enum BatchImportInput: Sendable {
    /// A `null` item.
    case missing
    /// An item the transport could not read (e.g. a wrongly typed field); it fails alone.
    case unreadable(String)
    /// A readable item, validated on its own when the batch runs.
    case request(ImportKeyRequest)
}

/// The outcome of one item of a batch import (spec §3.8).
public enum BatchImportItem: Sendable {
    /// The item was stored; the key as returned in `imported_api_key`.
    case imported(APIKey)
    /// The item failed alone, with its `error_code` and `error_message`; nothing was stored for it.
    case failed(BatchImportErrorCode, String)
}

/// `BatchCreateImportedApiKeysErrorCode` (spec §2.2).
public enum BatchImportErrorCode: String, Sendable, CaseIterable {
    /// A `null` item, an unreadable one or one that failed validation.
    case invalidArgument = "INVALID_ARGUMENT"
    /// The key is already stored, or an earlier item of the same batch has the same hash.
    case alreadyExists = "ALREADY_EXISTS"
    /// The raw key routes as an issued key or a derived token.
    case failedPrecondition = "FAILED_PRECONDITION"
    /// The item is beyond the tenant's remaining `quota.api_keys_max` headroom.
    case resourceExhausted = "RESOURCE_EXHAUSTED"
    /// The item could not be stored because of an unexpected failure.
    case `internal` = "INTERNAL"

    /// The full enum name sent as `error_code`, e.g. `BATCH_CREATE_IMPORTED_API_KEYS_ERROR_ALREADY_EXISTS`.
    public var wireName: String { "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_\(rawValue)" }
}

/// `DeriveTokenRequest` (spec §3.13, §13).
public struct DeriveTokenRequest: Sendable {
    /// The parent credential, a bearer secret of at most 8192 bytes: never log it. Empty is 400 `CREDENTIAL_REQUIRED`.
    public var credential: String = ""
    /// The token format; `.unspecified` means JWT.
    public var algorithm = TokenAlgorithm.unspecified
    /// Spec §2.3 grammar 2; `nil`, empty or zero means `derived_tokens.default_ttl`. The effective ttl may exceed
    /// neither `api_keys.max_ttl` nor the parent's remaining lifetime (400 `TTL_EXCEEDS_MAXIMUM`).
    public var ttl: String?
    /// Empty inherits the parent's scopes; otherwise each must equal one of the parent's exactly (else 403).
    public var scopes: [String] = []
    /// The recipients the token is bound to (`aud`): at most 20, each 1–256 characters; empty leaves it unbound.
    public var audiences: [String] = []
    /// Extra claims, at most 65 536 bytes serialized; reserved claim names are dropped silently (spec §3.13 step 5).
    public var customClaims: JSONObject = [:]

    /// An empty request; `credential` must be set before it can pass validation.
    public init() {}
}

/// A minted token.
public struct DerivedToken: Sendable {
    /// The signed JWT or `<prefix>_v1_…` macaroon, at most 8192 bytes; a bearer secret, so never log it.
    public let token: String
    /// The token's `exp`: derive time plus the effective ttl, in whole seconds.
    public let expireTime: Timestamp
    /// The token's `scp`: the requested scopes, or the parent's when none were requested.
    public let scopes: [String]
    /// Parent metadata overlaid by the filtered custom claims.
    public let claims: JSONObject
    /// The token's `aud`; empty when the token is not bound to an audience.
    public let audiences: [String]
}
