import TalosCore

/// JSON shapes of the API (spec §3), with the field order and omission rules of §2.1 and §14.
enum WireFormat {
    /// A usage report's buckets: counts as int64 strings, failures by error code in name order (docs/usage.md).
    static func usageBuckets(_ report: UsageReport) -> JSONValue {
        .array(
            report.buckets.map { bucket in
                var invalid = JSONObject()
                for code in bucket.invalid.keys.sorted() { invalid[code] = .string("\(bucket.invalid[code] ?? 0)") }
                return [
                    "start_time": .string(bucket.startTime.rfc3339), "valid": .string("\(bucket.valid)"),
                    "invalid": .object(invalid),
                ]
            }
        )
    }

    static func key(_ key: APIKey, now: Timestamp) -> JSONValue {
        var object = JSONObject()
        object["key_id"] = .string(key.keyID)
        if !key.name.isEmpty { object["name"] = .string(key.name) }
        if !key.actorID.isEmpty { object["actor_id"] = .string(key.actorID) }
        object["scopes"] = .array(key.scopes.map(JSONValue.string))
        object["status"] = .string(key.status(at: now).wireName)
        object["create_time"] = .string(key.createTime.rfc3339)
        object["update_time"] = .string(key.updateTime.rfc3339)
        if let expireTime = key.expireTime { object["expire_time"] = .string(expireTime.rfc3339) }
        if let lastUsed = key.lastUsedTime { object["last_used_time"] = .string(lastUsed.rfc3339) }
        object["metadata"] = .object(key.metadata)
        if let policy = key.rateLimitPolicy { object["rate_limit_policy"] = Self.policy(policy) }
        if !key.allowedCIDRs.isEmpty {
            object["ip_restriction"] = .object(["allowed_cidrs": .array(key.allowedCIDRs.map(JSONValue.string))])
        }
        if key.storedStatus == .revoked, let reason = key.revocationReason, reason != .unspecified {
            object["revocation_reason"] = .string(reason.wireName)
        }
        if let description = key.revocationDescription, !description.isEmpty {
            object["revocation_description"] = .string(description)
        }
        object["visibility"] = .string((key.visibility == .public ? KeyVisibility.public : .secret).wireName)
        return .object(object)
    }

    static func policy(_ policy: RateLimitPolicy) -> JSONValue {
        .object([
            "quota": .string(String(policy.quota)),
            "window": .string(DurationText.formatProtobufSeconds(policy.windowSeconds)),
            "unit": .string("requests"),
        ])
    }

    static func verification(_ result: Verification) -> JSONValue {
        guard let credential = result.credential, result.isValid else {
            let code = result.errorCode ?? .internal
            var failure: JSONObject = [
                "is_valid": .bool(false), "error_code": .string(code.wireName), "error_message": .string(code.message),
            ]
            if code == .rateLimited, let limit = result.rateLimit {
                failure["rate_limit_remaining"] = "0"
                failure["rate_limit_reset_time"] = .string(limit.resetTime.rfc3339)
            }
            return .object(failure)
        }
        var object = JSONObject()
        object["is_valid"] = .bool(true)
        object["key_id"] = .string(credential.keyID)
        if !credential.actorID.isEmpty { object["actor_id"] = .string(credential.actorID) }
        object["scopes"] = .array(credential.scopes.map(JSONValue.string))
        object["status"] = .string(KeyStatus.active.wireName)
        if let expireTime = credential.expireTime { object["expire_time"] = .string(expireTime.rfc3339) }
        object["metadata"] = .object(credential.metadata)
        if let policy = credential.rateLimitPolicy { object["rate_limit_policy"] = Self.policy(policy) }
        if let limit = result.rateLimit {
            object["rate_limit_remaining"] = .string("\(limit.remaining)")
            object["rate_limit_reset_time"] = .string(limit.resetTime.rfc3339)
        }
        if !credential.issuer.isEmpty { object["issuer"] = .string(credential.issuer) }
        object["visibility"] = .string((credential.visibility == .public ? KeyVisibility.public : .secret).wireName)
        if !credential.audiences.isEmpty { object["audiences"] = .array(credential.audiences.map(JSONValue.string)) }
        return .object(object)
    }

    static func batchVerificationItem(_ result: Verification, credential: String?) -> JSONValue {
        guard !result.isValid, result.errorCode == .invalidFormat, credential == nil || credential == "" else {
            return verification(result)
        }
        return .object([
            "is_valid": .bool(false), "error_code": .string(VerificationErrorCode.invalidFormat.wireName),
            "error_message": .string(credential == nil ? "empty credential in request" : "credential is required"),
        ])
    }
}
