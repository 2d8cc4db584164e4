import Logging
import Tracing

/// The result of the cheap, database-free part of authenticating a credential (spec §5.2 steps 1–3, §5.3 hash).
enum Authentication: Sendable {
    /// A JWT or macaroon: verified statelessly, never looked up.
    case derived(CredentialRoute)
    /// Rejected before any lookup; reported as NOT_FOUND (anti-enumeration). `cause` is for logs only.
    case rejected(cause: String)
    /// Possession is proven up to the lookup of this record.
    case lookup(KeyKind, String)
}

/// Checksums, timestamps, prefixes and imported-key hashes.
struct Authenticator: Sendable {
    let crypto: any CryptoBackend

    func authenticate(_ credential: String, nid: String, settings: CredentialSettings, now: Timestamp) -> Authentication
    {
        let route = CredentialRoute.route(credential, macaroonPrefixes: settings.macaroonPrefixes)
        switch route {
        case .derivedJWT, .derivedMacaroon:
            return .derived(route)
        case .imported:
            return .lookup(.imported, importedKeyID(credential, nid: nid))
        case .issued(let parts, let identity):
            guard checksumMatches(parts, keys: settings.keyring.active(at: now).map(\.checksumKey)) else {
                return .rejected(cause: "invalid API key checksum")
            }
            let skewSeconds = settings.clockSkew.components.seconds
            let age = now.seconds - identity.createdAtSeconds
            guard identity.createdAtSeconds <= now.seconds + skewSeconds,
                age <= settings.maxTTL.components.seconds + skewSeconds
            else { return .rejected(cause: "timestamp out of range") }
            guard settings.allowedPrefixes.contains(String(parts.prefix)) else {
                return .rejected(cause: "prefix not allowed")
            }
            return .lookup(.issued, identity.keyID)
        }
    }

    /// Whether `parts`' checksum is the HMAC of its signed part under one of `keys` (issued keys: the active secrets'
    /// checksum keys; admin keys: their admin-domain keys). Every key is tried even after a match, so timing does not
    /// reveal which one matched.
    func checksumMatches(_ parts: IssuedKeyParts, keys: [any HMACKey]) -> Bool {
        // A 32-byte checksum is at most 44 Base58 characters; longer ones fail without the (quadratic) decode.
        let decoded = parts.checksum.utf8.count <= 44 ? Base58.decode(parts.checksum) ?? [] : []
        let expected = decoded.count == 32 ? decoded : []
        let message = Array(parts.signedPart.utf8)
        var valid = false
        for key in keys where crypto.constantTimeEquals(key.authenticate(message), expected) { valid = true }
        return valid
    }

    /// `lowercase_hex(SHA-512/256(nid || 0x00 || raw_key))` (spec §4.5).
    func importedKeyID(_ rawKey: String, nid: String) -> String {
        Hex.encode(crypto.sha512_256(Array(nid.utf8) + [0] + Array(rawKey.utf8)))
    }
}

/// What a successful verification reports (spec §3.14): the key's fields, or a derived token's claims.
public struct VerifiedCredential: Sendable {
    /// The key's id; for a derived token, the id of the key it was derived from.
    public let keyID: String
    /// The key's actor; for a derived token without one, `""`.
    public let actorID: String
    /// The scopes granted, as stored on the key or carried in the token.
    public let scopes: [String]
    /// When the key or token expires; `nil` for a key without expiry.
    public let expireTime: Timestamp?
    /// The key's metadata; for a derived token, its custom claims overlaid by its `meta` claim.
    public let metadata: JSONObject
    /// The key's rate-limit policy; always `nil` for derived tokens.
    public let rateLimitPolicy: RateLimitPolicy?
    /// The key's visibility; for a derived token, PUBLIC when its claim says `public`, otherwise SECRET.
    public let visibility: KeyVisibility
    /// The tenant's current issuer for a key; a derived token's own `iss` (current or still-honoured retired).
    public let issuer: String
    /// The derived token's audiences; always empty for issued and imported keys.
    public let audiences: [String]
}

/// The outcome of verifying one credential. Verification failures are results, not errors (spec §5).
public struct Verification: Sendable {
    /// `nil` exactly when the credential is valid; otherwise the reason reported (spec §5.4).
    public let errorCode: VerificationErrorCode?
    /// Set exactly when `errorCode` is `nil` (a `RATE_LIMITED` result carries none).
    public let credential: VerifiedCredential?
    /// The stored key behind a valid issued or imported key (`nil` for derived tokens and failures).
    public let key: APIKey?
    /// Where the answer came from (spec §5.9).
    public var cache = CacheOutcome.skip
    /// The rate limit applied, when enforcement is active for the key (spec §5.7); set on `RATE_LIMITED` too.
    public var rateLimit: RateLimitOutcome?

    /// True exactly when there is no `errorCode`; `credential` is then set.
    public var isValid: Bool { errorCode == nil }

    static func failure(_ code: VerificationErrorCode) -> Verification {
        Verification(errorCode: code, credential: nil, key: nil)
    }
}

/// The request-side facts verification depends on.
public struct VerificationContext: Sendable {
    /// The tenant.
    public let nid: String
    /// The client address chosen by `serve.http.client_ip_source`; `nil` when missing or unparsable.
    public let clientIP: IPAddress?
    /// What the request's `Cache-Control` / `Pragma` allow (spec §5.9).
    public let cache: CacheDirectives

    /// A context that reads and writes the cache unless `cache` says otherwise.
    public init(nid: String, clientIP: IPAddress?, cache: CacheDirectives = .default) {
        self.nid = nid
        self.clientIP = clientIP
        self.cache = cache
    }
}

/// A request's cache directives (spec §5.9): `no-cache` or `Pragma: no-cache` skip the read but still write;
/// `no-store` does neither.
public struct CacheDirectives: Sendable, Hashable {
    /// Whether a cached record may answer; false for `no-cache`, `Pragma: no-cache` and `no-store`.
    public var read: Bool
    /// Whether a record read from the database may be cached; false only for `no-store`.
    public var write: Bool

    /// Read and write.
    public static let `default` = CacheDirectives(read: true, write: true)

    /// Exactly the given permissions, whatever the request's headers.
    public init(read: Bool, write: Bool) {
        self.read = read
        self.write = write
    }

    /// From the `Cache-Control` and `Pragma` values (case-insensitive, comma-separated; other directives ignored).
    public init(cacheControl: [String], pragma: [String]) {
        let directives = Set(
            (cacheControl + pragma).flatMap { $0.split(separator: ",") }.map { String($0).trimmingSpaces.lowercased() }
        )
        self.init(read: directives.isDisjoint(with: ["no-cache", "no-store"]), write: !directives.contains("no-store"))
    }
}

/// Where a verification's answer came from (`Ory-Talos-Cache`, spec §5.9).
public enum CacheOutcome: String, Sendable {
    /// Served from the cache.
    case hit = "HIT"
    /// The cache was consulted and not used.
    case miss = "MISS"
    /// The cache was not consulted: disabled, a derived token, a directive, a rejection before lookup, or the
    /// invalidation feed down.
    case skip = "SKIP"
}

/// One credential to verify, with the audiences the caller expects (spec §13).
public struct VerificationItem: Sendable {
    /// `nil` for a `null` batch item.
    public let credential: String?
    /// Empty: the credential must carry no audience (keys never do). Otherwise only a derived token naming at least
    /// one of them verifies (spec §13).
    public let expectedAudiences: [String]

    /// An item expecting no audience unless `expectedAudiences` are given.
    public init(credential: String?, expectedAudiences: [String] = []) {
        self.credential = credential
        self.expectedAudiences = expectedAudiences
    }
}

/// The verification pipeline of spec §5 and §6.3 for single and batch requests.
public struct Verifier: Sendable {
    let storage: any KeyStorage
    let settings: SettingsStore<TenantSettings>
    let clock: any WallClock
    let logger: Logger
    let authenticator: Authenticator
    let service: KeyService
    let lastUsed: LastUsedTracker?
    let usage: UsageRecorder?
    let cache: VerificationCache?
    let limiter: (any RateLimiter)?
    /// Verification-failure audit entries, 10 per tenant per minute (spec §11.2).
    let failureAudits = AuditLimiter(perMinute: 10)

    /// - Parameters:
    ///   - lastUsed: records successful verifications of API keys (spec §5.8); `nil` records nothing.
    ///   - usage: counts verifications of stored keys by hour and outcome (`usage.enabled`); `nil` counts nothing.
    ///   - cache: the verification cache (`cache.type = memory`); `nil` for `noop`.
    ///   - limiter: counts verifications of keys with a rate-limit policy; `nil` enforces nothing.
    public init(
        service: KeyService,
        lastUsed: LastUsedTracker? = nil,
        usage: UsageRecorder? = nil,
        cache: VerificationCache? = nil,
        limiter: (any RateLimiter)? = nil
    ) {
        self.service = service
        self.lastUsed = lastUsed
        self.usage = usage
        self.cache = cache
        self.limiter = limiter
        self.storage = service.storage
        self.settings = service.settings
        self.clock = service.clock
        self.logger = service.logger
        self.authenticator = service.authenticator
    }

    /// Verifies one credential (spec §3.14). - Throws: `TalosError` 400 `CREDENTIAL_REQUIRED` for an empty credential,
    /// 503/504/500 when the database fails; every verification outcome is returned, not thrown.
    public func verify(_ item: VerificationItem, context: VerificationContext) async throws -> Verification {
        guard let credential = item.credential, !credential.isEmpty else {
            throw TalosError(.credentialRequired, "A credential is required.")
        }
        return try await service.traced("verifier.VerifyAPIKey") { span in
            let result = try await verifyBatch([item], context: context, isDerivation: false)[0]
            span.attributes["nid"] = context.nid
            span.attributes["cache_hit"] = result.cache == .hit
            if !context.cache.read { span.attributes["cache_bypass"] = "no-cache" }
            if let key = result.key {
                span.attributes["key_id"] = key.keyID
                span.attributes["credential_type"] = key.kind.rawValue
                span.attributes["found_in_db"] = result.cache != .hit
            } else if let credential = result.credential {
                span.attributes["key_id"] = credential.keyID
            }
            if let code = result.errorCode { span.attributes["error_code"] = code.wireName }
            if result.errorCode == .ipNotAllowed { span.attributes["ip_rejected"] = true }
            return result
        }
    }

    /// Verifies up to 100 credentials with one lookup per key kind (spec §3.15).
    public func verifyBatch(_ items: [VerificationItem], context: VerificationContext) async throws -> [Verification] {
        try await service.traced("verifier.BatchVerifyAPIKeys") { span in
            span.attributes["batch_size"] = items.count
            span.attributes["nid"] = context.nid
            return try await verifyBatch(items, context: context, isDerivation: false)
        }
    }

    /// The pipeline; a derivation's parent check (`isDerivation`) is neither rate limited nor counted as a
    /// verification in the metrics.
    func verifyBatch(
        _ items: [VerificationItem],
        context: VerificationContext,
        isDerivation: Bool
    ) async throws -> [Verification] {
        let settings = settings.current(context.nid)
        let now = clock.now()
        let started = ContinuousClock.now
        var results = [Verification?](repeating: nil, count: items.count)
        var types = [String](repeating: "unknown", count: items.count)
        var lookups: [(index: Int, kind: KeyKind, keyID: String)] = []
        for (index, item) in items.enumerated() {
            guard let credential = item.credential, !credential.isEmpty, credential.utf8.count <= 8192 else {
                results[index] = .failure(.invalidFormat)
                continue
            }
            switch authenticator.authenticate(credential, nid: context.nid, settings: settings, now: now) {
            case .derived(let route):
                types[index] = route == .derivedJWT ? "derived_jwt" : "derived_macaroon"
                results[index] = verifyDerived(
                    credential,
                    route: route,
                    expectedAudiences: item.expectedAudiences,
                    context: context,
                    settings: settings,
                    now: now
                )
            case .rejected(let cause):
                logger.debug("verification rejected before lookup", metadata: ["cause": "\(cause)"])
                results[index] = .failure(.notFound)
            case .lookup(let kind, let keyID):
                types[index] = kind.rawValue
                lookups.append((index, kind, keyID))
            }
        }
        // The cache is used only when configured, enabled for the tenant and fed with invalidations (spec §5.9).
        let cache = self.cache.flatMap { settings.cacheEnabled && $0.isAvailable ? $0 : nil }
        for kind in KeyKind.apiKeys {
            let wanted = lookups.filter { $0.kind == kind }
            guard !wanted.isEmpty else { continue }
            var byID: [String: APIKey] = [:]
            var hits = Set<String>()
            if let cache, context.cache.read {
                for lookup in wanted {
                    // A hit is re-checked for status and expiry; a stale one is read from the database.
                    guard let key = cache.get(kind: kind, nid: context.nid, keyID: lookup.keyID, now: now),
                        key.isActive(at: now)
                    else { continue }
                    byID[lookup.keyID] = key
                    hits.insert(lookup.keyID)
                }
            }
            let missing = Array(Set(wanted.map(\.keyID)).subtracting(hits))
            // Only what is read from the database may be cached: all hits need no ticket (and no lock).
            let ticket = missing.isEmpty ? nil : cache?.ticket()
            if !missing.isEmpty {
                let found = try await service.withStorage {
                    try await storage.fetch(kind: kind, nid: context.nid, keyIDs: missing)
                }
                for key in found where byID[key.keyID] == nil { byID[key.keyID] = key }
            }
            for lookup in wanted {
                var result = evaluate(
                    byID[lookup.keyID],
                    expectedAudiences: items[lookup.index].expectedAudiences,
                    context: context,
                    settings: settings,
                    now: now
                )
                let hit = hits.contains(lookup.keyID)
                if let cache {
                    result.cache = !context.cache.read ? .skip : hit ? .hit : .miss
                    if !hit, context.cache.write, let ticket, var key = result.key {
                        // This use was just published to the last-used tracker; the cached copy says so, so that
                        // hits today never publish again (a hit touches no database, spec §15.10).
                        key.lastUsedTime = max(key.lastUsedTime ?? now, now)
                        cache.put(key, ticket: ticket, ttl: settings.cacheTTL, now: now)
                    }
                }
                guard !isDerivation else {
                    results[lookup.index] = result
                    continue
                }
                let limited = try await applyRateLimit(result, context: context, settings: settings, now: now)
                // Usage counts every verification that reached a stored key, whatever its outcome (docs/usage.md).
                if let usage, let key = byID[lookup.keyID] { usage.count(key, outcome: limited.errorCode, at: now) }
                results[lookup.index] = limited
            }
        }
        let final = results.map { $0 ?? .failure(.internal) }
        let elapsed = ContinuousClock.now - started
        for (index, result) in final.enumerated() where !isDerivation {
            TalosMetrics.verification(credentialType: types[index], result: result, duration: elapsed)
            if let code = result.errorCode, failureAudits.allow(nid: context.nid, at: now) {
                // The credential type and the outcome only: never the credential.
                logger.audit(
                    "verification.failed",
                    [
                        "nid": "\(context.nid)", "credential_type": "\(types[index])",
                        "error_code": "\(code.wireName)",
                    ]
                )
            }
        }
        return final
    }

    /// A verification that passed every other check is one request against its key's GCRA bucket
    /// (docs/rate-limits.md); refused, it is `RATE_LIMITED`. A failing limiter fails open (logged).
    private func applyRateLimit(
        _ result: Verification,
        context: VerificationContext,
        settings: CredentialSettings,
        now: Timestamp
    ) async throws -> Verification {
        guard settings.rateLimitEnabled, let limiter, result.isValid, let key = result.key,
            let policy = key.rateLimitPolicy, policy.windowSeconds > 0
        else { return result }
        let limit = GCRALimit(policy)
        let decision: GCRADecision
        do {
            decision = try await limiter.admit(nid: context.nid, keyID: key.keyID, limit: limit, now: now)
        } catch {
            TalosMetrics.rateLimiterError()
            logger.error("rate limiter failed; allowing the request", metadata: ["error": "\(error)"])
            return result
        }
        let outcome = RateLimitOutcome(decision, limit: limit, now: now)
        var limited = outcome.exceeded ? Verification.failure(.rateLimited) : result
        limited.cache = result.cache
        limited.rateLimit = outcome
        return limited
    }

    private func evaluate(
        _ key: APIKey?,
        expectedAudiences: [String],
        context: VerificationContext,
        settings: CredentialSettings,
        now: Timestamp
    ) -> Verification {
        guard let key else { return .failure(.notFound) }
        switch key.storedStatus {
        case .revoked: return .failure(.revoked)
        case .active: break
        default: return .failure(.notFound)
        }
        if let expireTime = key.expireTime, now > expireTime { return .failure(.expired) }
        if !CIDR.anyContains(key.allowedNetworks, context.clientIP) { return .failure(.ipNotAllowed) }
        // An API key names no audience, so a caller that expects one is refused (spec §13).
        guard expectedAudiences.isEmpty else { return .failure(.audienceMismatch) }
        lastUsed?.observe(key, at: now)
        let credential = VerifiedCredential(
            keyID: key.keyID,
            actorID: key.actorID,
            scopes: key.scopes,
            expireTime: key.expireTime,
            metadata: key.metadata,
            rateLimitPolicy: key.rateLimitPolicy,
            visibility: key.visibility,
            issuer: settings.issuer,
            audiences: []
        )
        return Verification(errorCode: nil, credential: credential, key: key)
    }

    /// Stateless verification of a JWT or macaroon (spec §6.3): no database, no cache, no last-used.
    func verifyDerived(
        _ token: String,
        route: CredentialRoute,
        expectedAudiences: [String],
        context: VerificationContext,
        settings: CredentialSettings,
        now: Timestamp
    ) -> Verification {
        let claims: DerivedClaims?
        if route == .derivedJWT {
            claims = JWTCodec.verify(token, keyring: settings.signingKeys)
        } else {
            claims =
                MacaroonCodec.verify(
                    token,
                    prefixes: settings.macaroonPrefixes,
                    rootKeys: settings.keyring.active(at: now).map(\.macaroonRootKey),
                    crypto: service.crypto
                )?.claims
        }
        guard let claims, settings.acceptsIssuer(claims.issuer, at: now) else { return .failure(.signatureInvalid) }
        if let failure = claims.failure(
            at: now,
            clockSkew: settings.clockSkew,
            nid: context.nid,
            clientIP: context.clientIP,
            expectedAudiences: expectedAudiences
        ) {
            return .failure(failure)
        }
        let credential = VerifiedCredential(
            keyID: claims.parentKeyID,
            actorID: claims.actorID ?? "",
            scopes: claims.scopes,
            expireTime: Timestamp(seconds: claims.expires),
            metadata: claims.verifiedMetadata,
            rateLimitPolicy: nil,
            visibility: claims.visibility == "public" ? .public : .secret,
            issuer: claims.issuer,
            audiences: claims.audiences
        )
        return Verification(errorCode: nil, credential: credential, key: nil)
    }
}
