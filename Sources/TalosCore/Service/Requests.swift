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
    public var quota: Int64?
    /// Grammar 1 or protobuf form (`60s`, `1m`).
    public var window: String?
    public var unit: String?

    public init(quota: Int64? = nil, window: String? = nil, unit: String? = nil) {
        self.quota = quota
        self.window = window
        self.unit = unit
    }
}

/// The attributes shared by issue, import, update and rotate requests, before validation.
public struct KeyAttributesInput: Sendable, Hashable {
    public var name: Presence<String> = .absent
    public var actorID: Presence<String> = .absent
    public var scopes: Presence<[String]> = .absent
    public var metadata: Presence<JSONObject> = .absent
    public var rateLimitPolicy: Presence<RateLimitPolicyInput> = .absent
    /// `ip_restriction.allowed_cidrs`; an object without the list counts as an empty list.
    public var allowedCIDRs: Presence<[String]> = .absent
    public var visibility: KeyVisibility = .unspecified

    public init() {}
}

/// `IssueApiKeyRequest` (spec §3.1).
public struct IssueKeyRequest: Sendable, Hashable {
    public var attributes = KeyAttributesInput()
    public var ttl: String?
    public var requestID: String?

    public init() {}
}

/// The body of an update (spec §3.4, §14.9) plus its `update_mask`.
public struct UpdateKeyRequest: Sendable, Hashable {
    public var attributes = KeyAttributesInput()
    /// The body's `key_id`, which must equal the path's when present.
    public var keyID: String?
    /// Paths from `update_mask`; `nil` when no mask was sent.
    public var updateMask: [String]?

    public init() {}
}

/// The optional overrides of a rotation (spec §3.5, §14.10).
public struct RotateKeyRequest: Sendable, Hashable {
    public var attributes = KeyAttributesInput()

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
    public var attributes = KeyAttributesInput()
    public var rawKey: String?
    public var ttl: String?
    public var requestID: String?

    public init() {}
}

/// One item of a batch import as the transport read it.
public enum BatchImportInput: Sendable {
    /// A `null` item.
    case missing
    /// An item the transport could not read (e.g. a wrongly typed field); it fails alone.
    case unreadable(String)
    case request(ImportKeyRequest)
}

/// The outcome of one item of a batch import (spec §3.8).
public enum BatchImportItem: Sendable {
    case imported(APIKey)
    case failed(BatchImportErrorCode, String)
}

/// `BatchCreateImportedApiKeysErrorCode` (spec §2.2).
public enum BatchImportErrorCode: String, Sendable, CaseIterable {
    case invalidArgument = "INVALID_ARGUMENT"
    case alreadyExists = "ALREADY_EXISTS"
    case failedPrecondition = "FAILED_PRECONDITION"
    case resourceExhausted = "RESOURCE_EXHAUSTED"
    case `internal` = "INTERNAL"

    public var wireName: String { "BATCH_CREATE_IMPORTED_API_KEYS_ERROR_\(rawValue)" }
}

/// `DeriveTokenRequest` (spec §3.13, §13).
public struct DeriveTokenRequest: Sendable {
    public var credential: String = ""
    /// The token format; `.unspecified` means JWT.
    public var algorithm = TokenAlgorithm.unspecified
    public var ttl: String?
    public var scopes: [String] = []
    public var audiences: [String] = []
    public var customClaims: JSONObject = [:]

    public init() {}
}

/// A minted token.
public struct DerivedToken: Sendable {
    public let token: String
    public let expireTime: Timestamp
    public let scopes: [String]
    /// Parent metadata overlaid by the filtered custom claims.
    public let claims: JSONObject
    public let audiences: [String]
}
