public import Logging
import Tracing

/// The outcome of issuing a key.
public struct IssueResult: Sendable {
    /// The stored key; on an idempotent replay, the key the first request with that `request_id` created.
    public let key: APIKey
    /// The secret, shown once; `nil` for an idempotent replay.
    public let secret: String?
}

/// The outcome of a rotation.
public struct RotateResult: Sendable {
    /// The replacement: a new id and creation time, the old key's attributes with the request's overrides, never
    /// used.
    public let key: APIKey
    /// The replacement's secret, shown once.
    public let secret: String
    /// The rotated key as stored by the rotation: revoked with reason `SUPERSEDED`.
    public let oldKey: APIKey
}

/// One page of keys.
public struct KeyPage: Sendable {
    /// The matching keys after the page token's position, at most the effective page size (spec §7).
    public let keys: [APIKey]
    /// `""` on the last page.
    public let nextPageToken: String
}

/// Management of API keys: issue, read, list, update, rotate and revoke (spec §3.1–3.6, §3.17, §8).
///
/// Every method throws `TalosError` for caller mistakes and outages (storage errors are translated here); any other
/// error is a bug and surfaces as 500.
public struct KeyService: Sendable {
    let storage: any KeyStorage
    let crypto: any CryptoBackend
    let settings: SettingsStore<TenantSettings>
    let clock: any WallClock
    let logger: Logger
    let pageTokens: PageTokenCodec
    let authenticator: Authenticator
    /// Told about every committed change of a key, before the change is answered (spec §5.9).
    let invalidations: [any InvalidationSink]
    /// Whether operations open spans (`tracing.enabled`); off, they skip the tracer entirely.
    let tracing: Bool

    /// - Parameters:
    ///   - invalidations: receivers of key changes on this node (the verification cache, the revocation feed);
    ///     other nodes learn through the storage's own channel.
    ///   - tracing: whether to open spans; with tracing off even a no-op span costs on every request.
    public init(
        storage: any KeyStorage,
        crypto: any CryptoBackend,
        settings: SettingsStore<TenantSettings>,
        clock: any WallClock,
        logger: Logger,
        invalidations: [any InvalidationSink] = [],
        tracing: Bool = true
    ) {
        self.invalidations = invalidations
        self.tracing = tracing
        self.storage = storage
        self.crypto = crypto
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.pageTokens = PageTokenCodec(crypto: crypto)
        self.authenticator = Authenticator(crypto: crypto)
    }

    // MARK: Issue

    /// Issues a key (spec §3.1): validate → idempotency → quota → generate → insert.
    public func issue(_ request: IssueKeyRequest, nid: String) async throws -> IssueResult {
        let settings = settings.current(nid)
        let now = clock.now()
        let key = try Self.newKey(
            .issued,
            keyID: crypto.randomUUID(),
            nid: nid,
            attributes: request.attributes,
            ttl: request.ttl,
            requestID: request.requestID,
            settings: settings,
            now: now
        )
        let prefix = try Self.prefix(for: key.visibility, settings: settings)
        if let requestID = key.requestID,
            let existing = try await withStorage({
                try await storage.fetch(kind: .issued, nid: nid, requestID: requestID)
            })
        {
            return IssueResult(key: existing, secret: nil)
        }
        try await enforceQuota(nid: nid, settings: settings, now: now)
        let secret = IssuedKeyFormat.makeKey(
            prefix: prefix,
            createdAtSeconds: key.createTime.seconds,
            keyID: key.keyID,
            hmac: settings.keyring.current.checksumKey
        )
        switch try await withStorage({ try await storage.insert(key) }) {
        case .created(let stored):
            TalosMetrics.keysCreated(.issued)
            logger.audit("issued_api_key.created", ["key_id": "\(key.keyID)", "actor_id": "\(key.actorID)"])
            return IssueResult(key: stored, secret: secret)
        case .replayed(let existing):
            return IssueResult(key: existing, secret: nil)
        }
    }

    /// A new record from validated request fields (spec §3 common fields), created at `now` truncated to seconds
    /// (the instant an issued key's identifier carries). Expiry: the ttl, else `default_ttl`, else none.
    static func newKey(
        _ kind: KeyKind,
        keyID: String,
        nid: String,
        attributes: KeyAttributesInput,
        ttl: String?,
        requestID: String?,
        settings: CredentialSettings,
        now: Timestamp
    ) throws(TalosError) -> APIKey {
        let name = try Validate.name(attributes.name.value ?? "")
        let actorID = try Validate.name(attributes.actorID.value ?? "", field: "actor_id")
        let scopes = try Validate.scopes(attributes.scopes.value ?? [])
        let metadata = try Validate.metadata(attributes.metadata.value ?? [:])
        let policy = try attributes.rateLimitPolicy.value.map(Validate.rateLimitPolicy)
        let cidrs = try Validate.cidrs(attributes.allowedCIDRs.value ?? [])
        var validRequestID: String?
        if let requestID, !requestID.isEmpty { validRequestID = try Validate.requestID(requestID) }
        let ttl = try Validate.ttl(ttl)
        if let ttl, Duration.nanoseconds(ttl) > settings.maxTTL { throw ttlExceedsMaximum(settings.maxTTL) }
        let created = Timestamp(seconds: now.seconds)
        let effectiveTTL = ttl ?? settings.defaultTTL?.wholeNanoseconds
        return APIKey(
            kind: kind,
            nid: nid,
            keyID: keyID,
            name: name,
            actorID: actorID,
            scopes: scopes,
            createTime: created,
            updateTime: created,
            expireTime: effectiveTTL.map { created.adding(nanoseconds: $0) },
            metadata: metadata,
            rateLimitPolicy: policy,
            allowedCIDRs: cidrs,
            visibility: attributes.visibility == .public ? .public : .secret,
            requestID: validRequestID
        )
    }

    // MARK: Read

    /// The key with that id. - Throws: 404 `API_KEY_NOT_FOUND`.
    public func get(kind: KeyKind, keyID: String, nid: String) async throws -> APIKey {
        let keyID = try Self.normalizedID(keyID, kind: kind)
        guard let key = try await withStorage({ try await storage.fetch(kind: kind, nid: nid, keyID: keyID) }) else {
            throw Self.notFound(kind: kind, keyID: keyID)
        }
        return key
    }

    /// One page of keys (spec §7). `pageSize` 0 means 50; above 1000 is coerced to 1000; negative → 400.
    public func list(
        kind: KeyKind,
        nid: String,
        pageSize: Int,
        pageToken: String,
        filter: String
    ) async throws -> KeyPage {
        guard pageSize >= 0 else {
            throw TalosError.validation("page_size", "value must be greater than or equal to 0")
        }
        let limit = pageSize == 0 ? 50 : min(pageSize, 1000)
        let parsed = try KeyFilter.parse(filter)
        let settings = settings.current(nid)
        let now = clock.now()
        let after =
            try pageToken.isEmpty
            ? nil : pageTokens.decode(pageToken, kind: kind, filter: filter, keyring: settings.keyring, now: now)
        let query = ListQuery(
            kind: kind,
            nid: nid,
            actorID: parsed.actorID,
            status: parsed.status,
            after: after,
            limit: limit + 1,
            now: now
        )
        var keys = try await withStorage { try await storage.list(query) }
        var next = ""
        if keys.count > limit {
            keys.removeLast(keys.count - limit)
            next = try pageTokens.encode(
                kind: kind,
                lastKeyID: keys[keys.count - 1].keyID,
                filter: filter,
                keyring: settings.keyring
            )
        }
        return KeyPage(keys: keys, nextPageToken: next)
    }

    // MARK: Update

    static let mutablePaths = ["name", "scopes", "metadata", "rate_limit_policy", "ip_restriction"]

    /// Updates the mutable fields of a key (spec §3.4, §14.9); allowed in any status.
    public func update(kind: KeyKind, keyID: String, nid: String, _ request: UpdateKeyRequest) async throws -> APIKey {
        var paths: [String]?
        if let mask = request.updateMask {
            var expanded: [String] = []
            for path in mask {
                if path == "*" {
                    expanded += Self.mutablePaths
                } else if Self.mutablePaths.contains(path) {
                    expanded.append(path)
                } else {
                    throw TalosError(.invalidUpdateMask, "unsupported update_mask path \"\(path)\"")
                }
            }
            paths = expanded
        }
        let keyID = try Self.normalizedID(keyID, kind: kind)
        if let bodyID = request.keyID, !bodyID.isEmpty, bodyID.lowercased() != keyID {
            throw TalosError.validation("key_id", "must match the key_id in the path")
        }
        let patch = try KeyPatch(request.attributes, paths: paths)
        let now = clock.now()
        let updated = try await withStorage {
            try await storage.modify(kind: kind, nid: nid, keyID: keyID) { key in
                var key = patch.apply(to: key)
                key.updateTime = now
                return key
            }
        }
        guard let updated else { throw Self.notFound(kind: kind, keyID: keyID) }
        keyChanged(nid: nid, keyID: keyID)
        logger.audit("\(kind.rawValue)_api_key.updated", ["key_id": "\(keyID)"])
        return updated
    }

    // MARK: Rotate

    /// Rotates an issued key atomically (spec §3.5, §8.5): exactly one of concurrent rotations wins.
    public func rotate(keyID: String, nid: String, _ request: RotateKeyRequest) async throws -> RotateResult {
        let settings = settings.current(nid)
        let keyID = try Self.normalizedID(keyID, kind: .issued)
        let overrides = try KeyPatch(rotation: request.attributes)
        let newID = crypto.randomUUID()
        let now = clock.now()
        let createdAt = Timestamp(seconds: now.seconds)
        let requestedVisibility = request.attributes.visibility
        let result = try await withStorage {
            try await storage.replace(kind: .issued, nid: nid, keyID: keyID) { old in
                guard old.isActive(at: now) else {
                    throw TalosError(.apiKeyNotActive, "cannot rotate a non-active key")
                }
                var replacement = overrides.apply(to: old)
                replacement.keyID = newID
                replacement.createTime = createdAt
                replacement.updateTime = createdAt
                replacement.lastUsedTime = nil
                replacement.requestID = nil
                replacement.revocationReason = nil
                replacement.revocationDescription = nil
                if requestedVisibility != .unspecified { replacement.visibility = requestedVisibility }
                // Checked before anything is written: a PUBLIC key needs a public prefix to be usable.
                _ = try Self.prefix(for: replacement.visibility, settings: settings)
                return Replacement(
                    replacement: replacement,
                    retired: old.revoked(reason: .superseded, description: nil, at: now)
                )
            }
        }
        guard let result else { throw Self.notFound(kind: .issued, keyID: keyID) }
        keyChanged(nid: nid, keyID: keyID)
        let prefix = try Self.prefix(for: result.replacement.visibility, settings: settings)
        let secret = IssuedKeyFormat.makeKey(
            prefix: prefix,
            createdAtSeconds: createdAt.seconds,
            keyID: newID,
            hmac: settings.keyring.current.checksumKey
        )
        TalosMetrics.keyRotated()
        TalosMetrics.keyRevoked(reason: "rotation")
        logger.audit("issued_api_key.rotated", ["key_id": "\(keyID)", "new_key_id": "\(newID)"])
        return RotateResult(key: result.replacement, secret: secret, oldKey: result.retired)
    }

    // MARK: Revoke

    /// Revokes a key by id (spec §3.6, §14.4). `kind` nil dispatches on the id's shape (UUID → issued, 64 hex →
    /// imported, otherwise 404); a kind given by the path requires that shape (400 otherwise, §14.15).
    public func revoke(
        kind: KeyKind?,
        keyID rawID: String,
        nid: String,
        reason: RevocationReason,
        description: String?
    ) async throws {
        guard reason != .unspecified else {
            throw TalosError.validation("reason", "a specific revocation reason is required")
        }
        if let description, !description.isEmpty {
            guard reason == .privilegeWithdrawn else {
                throw TalosError(.invalidArgument, "description is only allowed when reason is PRIVILEGE_WITHDRAWN")
            }
            guard description.count <= 1024 else {
                throw TalosError.validation("description", "value length must be at most 1024 characters")
            }
            guard !description.unicodeScalars.contains(where: { $0.value == 0 }) else {
                throw TalosError.validation("description", "value must not contain NUL characters")
            }
        }
        let (resolvedKind, keyID) =
            if let kind { (kind, try Self.normalizedID(rawID, kind: kind)) } else { try Self.apiKeyID(rawID) }
        let now = clock.now()
        let revoked = try await withStorage {
            try await storage.modify(kind: resolvedKind, nid: nid, keyID: keyID) { key in
                guard key.storedStatus != .revoked else {
                    throw TalosError(.apiKeyAlreadyRevoked, "key is already revoked")
                }
                return key.revoked(reason: reason, description: description, at: now)
            }
        }
        guard revoked != nil else { throw Self.notFound(kind: resolvedKind, keyID: keyID) }
        keyChanged(nid: nid, keyID: keyID)
        TalosMetrics.keyRevoked(reason: reason.wireName)
        logger.audit(
            "\(resolvedKind.rawValue)_api_key.revoked",
            ["key_id": "\(keyID)", "reason": "\(reason.wireName)"]
        )
    }

    /// Proof-of-possession revocation (spec §3.17, §14.5).
    public func selfRevoke(credential: String, reason: RevocationReason, nid: String) async throws {
        guard !credential.isEmpty else { throw TalosError(.credentialRequired, "A credential is required.") }
        guard credential.utf8.count <= 8192 else {
            throw TalosError.validation("credential", "value length must be at most 8192 bytes")
        }
        guard reason != .unspecified else {
            throw TalosError.validation("reason", "a specific revocation reason is required")
        }
        guard reason != .privilegeWithdrawn else {
            throw TalosError(
                .adminOnly,
                "reason REVOCATION_REASON_PRIVILEGE_WITHDRAWN is reserved for administrators"
            )
        }
        let settings = settings.current(nid)
        let now = clock.now()
        let notFound = TalosError(.apiKeyNotFound, "API key not found")
        let (kind, keyID): (KeyKind, String)
        switch authenticator.authenticate(credential, nid: nid, settings: settings, now: now) {
        case .derived: throw TalosError(.derivedTokenNotRevocable, "Derived tokens cannot be revoked.")
        case .rejected: throw notFound
        case .lookup(let lookupKind, let lookupID): (kind, keyID) = (lookupKind, lookupID)
        }
        // The one unauthenticated write (spec §15.5): read without a lock first, and open a write transaction only
        // for a key that exists and would change.
        guard let current = try await withStorage({ try await storage.fetch(kind: kind, nid: nid, keyID: keyID) })
        else {
            throw notFound
        }
        guard try Self.selfRevocationChanges(current, at: now) else { return }
        let outcome = try await withStorage {
            try await storage.modify(kind: kind, nid: nid, keyID: keyID) { key in
                try Self.selfRevocationChanges(key, at: now)
                    ? key.revoked(reason: reason, description: nil, at: now) : key
            }
        }
        guard outcome != nil else { throw notFound }
        keyChanged(nid: nid, keyID: keyID)
        TalosMetrics.keyRevoked(reason: reason.wireName)
        logger.audit("\(kind.rawValue)_api_key.revoked", ["key_id": "\(keyID)", "initiated_by": "self"])
    }

    /// The JWT signing keys in force for tenant `nid` (their public parts feed the JWKS endpoints).
    public func signingKeys(nid: String) -> SigningKeyring { settings.current(nid).signingKeys }

    // MARK: Helpers

    func enforceQuota(nid: String, settings: CredentialSettings, now: Timestamp) async throws {
        guard let max = settings.quotaMaxKeys, max > 0 else { return }
        let count = try await withStorage { try await storage.countActive(nid: nid, at: now) }
        guard Int64(count) + 1 <= max else {
            throw TalosError(
                .quotaExceeded,
                "the API key quota for this plan permits up to \(max) active API keys",
                metadata: [("limit", "\(max)"), ("current_usage", "\(count)")]
            )
        }
    }

    static func prefix(for visibility: KeyVisibility, settings: CredentialSettings) throws(TalosError) -> String {
        guard visibility == .public else { return settings.prefix }
        guard let prefix = settings.publicPrefix else {
            throw TalosError(
                .publicPrefixNotConfigured,
                "public key prefix not configured: set credentials.api_keys.prefix.public_current"
            )
        }
        return prefix
    }

    static func ttlExceedsMaximum(_ maxTTL: Duration) -> TalosError {
        TalosError(
            .ttlExceedsMaximum,
            "ttl exceeds the configured maximum of \(DurationText.formatGo(maxTTL.wholeNanoseconds))"
        )
    }

    /// The kind an API key id names by its shape (UUID → issued, 64 hex → imported) and the id normalized.
    /// - Throws: 404 `API_KEY_NOT_FOUND` for any other shape (an id of no API key, spec §14.4).
    static func apiKeyID(_ rawID: String) throws(TalosError) -> (KeyKind, String) {
        if let uuid = UUIDText.normalized(rawID) { return (.issued, uuid) }
        if Hex.isHex(rawID, length: 64) { return (.imported, rawID.lowercased()) }
        throw TalosError(.apiKeyNotFound, "API key not found", metadata: [("key_id", rawID)])
    }

    static func normalizedID(_ keyID: String, kind: KeyKind) throws(TalosError) -> String {
        switch kind {
        case .issued, .admin:
            guard let id = UUIDText.normalized(keyID) else {
                throw TalosError.validation("key_id", "value must be a valid UUID")
            }
            return id
        case .imported:
            guard Hex.isHex(keyID, length: 64) else {
                throw TalosError.validation("key_id", "value must be 64 hexadecimal characters")
            }
            return keyID.lowercased()
        }
    }

    /// Whether a self-revocation changes `key`, in the order of spec §14.5: already revoked → nothing to do (200),
    /// expired → 401, public → 403.
    private static func selfRevocationChanges(_ key: APIKey, at now: Timestamp) throws(TalosError) -> Bool {
        switch key.status(at: now) {
        case .revoked: return false
        case .expired: throw TalosError(.apiKeyExpired, "The API key has expired.")
        default: break
        }
        guard key.visibility != .public else {
            throw TalosError(.publicKeyNotSelfRevocable, "public keys can only be revoked by an administrator")
        }
        return true
    }

    static func notFound(kind: KeyKind, keyID: String) -> TalosError {
        TalosError(
            .apiKeyNotFound,
            kind == .issued ? "API key not found" : "imported key not found",
            metadata: [("key_id", keyID)]
        )
    }

    /// A committed change of `(nid, keyID)`: every local receiver evicts it before the change is answered (counted
    /// once per change, not once per receiver).
    func keyChanged(nid: String, keyID: String) {
        for sink in invalidations { sink.invalidated(nid: nid, keyID: keyID) }
        if !invalidations.isEmpty { TalosMetrics.cacheInvalidation(source: "local") }
    }

    /// `body` in a span named `name` when tracing is on; otherwise in a no-op span, without asking the tracer.
    func traced<T>(
        _ name: String,
        ofKind kind: SpanKind = .internal,
        _ body: (any Span) async throws -> T
    ) async throws -> T {
        guard tracing else { return try await body(NoOpTracer.NoOpSpan(context: .topLevel)) }
        return try await withSpan(name, ofKind: kind) { span in try await body(span) }
    }

    /// Runs a storage call, translating storage failures into API errors (503, 504, 500).

    func withStorage<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await traced("db.query", ofKind: .client) { _ in try await body() }
        } catch let error as StorageError {
            if error.isUnavailable {
                logger.error("database unavailable", metadata: ["error": "\(error.detail)"])
                throw TalosError.databaseUnavailable
            }
            if error.isTimeout {
                logger.error("database timeout", metadata: ["error": "\(error.detail)"])
                throw TalosError.databaseTimeout
            }
            logger.error("storage failure", metadata: ["error": "\(error.detail)"])
            throw TalosError.internalError
        }
    }
}
