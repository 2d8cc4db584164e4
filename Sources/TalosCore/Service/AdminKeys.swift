import Logging

/// What an admin key may do (spec §16.3): a closed vocabulary; every admin operation needs exactly one.
public enum AdminPermission: String, Sendable, Hashable, CaseIterable {
    /// Get and list issued and imported keys, usage, the admin JWKS.
    case keysRead = "keys.read"
    /// Issue, update, rotate, revoke, import, batch import and delete keys.
    case keysWrite = "keys.write"
    /// Verify and batch verify credentials, forward auth.
    case keysVerify = "keys.verify"
    /// Derive JWTs and macaroons.
    case tokensDerive = "tokens.derive"
    /// Follow the revocation feed.
    case revocationsWatch = "revocations.watch"
    /// Create, list, get and revoke admin keys.
    case adminKeysManage = "admin_keys.manage"
    /// Every permission.
    case all = "*"
}

/// The admin key a request authenticated with: what audit events and the request log name.
public struct AdminPrincipal: Sendable, Hashable {
    /// The admin key's id (a lowercase UUID).
    public let keyID: String
    /// Its display name.
    public let name: String
    /// The permissions it holds.
    public let permissions: Set<AdminPermission>
    /// When it stops authenticating; `nil` = never.
    public let expireTime: Timestamp?

    /// The principal of a stored admin key; permissions outside the vocabulary are ignored.
    public init(_ key: APIKey) {
        self.keyID = key.keyID
        self.name = key.name
        self.permissions = Set(key.scopes.compactMap(AdminPermission.init(rawValue:)))
        self.expireTime = key.expireTime
    }

    /// Whether the key holds `permission`, directly or through `*`.
    public func holds(_ permission: AdminPermission) -> Bool {
        permissions.contains(.all) || permissions.contains(permission)
    }

    /// The admin key of the request being served, for audit events (`admin_key_id`, `admin_key_name`); `nil` when
    /// admin authentication is off.
    @TaskLocal public static var current: AdminPrincipal?
}

extension Logger {
    /// An audit event (`msg` `audit`, spec §11.2) with `fields`, naming the admin key of the request when there is
    /// one (spec §16.3).
    func audit(_ event: String, _ fields: Logger.Metadata = [:]) {
        var metadata = fields
        metadata["event"] = "\(event)"
        if let admin = AdminPrincipal.current {
            metadata["admin_key_id"] = "\(admin.keyID)"
            metadata["admin_key_name"] = "\(admin.name)"
        }
        info("audit", metadata: metadata)
    }
}

/// The outcome of authenticating an admin key; failures are results, reported as 401.
public enum AdminAuthentication: Sendable {
    /// A stored, active, unexpired admin key of the tenant.
    case authenticated(AdminPrincipal)
    /// Not shaped like an admin key of this server (`malformed`), or a forged, unknown, revoked or expired one.
    case rejected(malformed: Bool)
}

/// An admin key just created: the stored record and its secret, shown once.
public struct AdminKeyCreation: Sendable {
    /// The stored record (kind `admin`, permissions in `scopes`).
    public let key: APIKey
    /// `{admin prefix}_v1_{identifier}_{checksum}`; never stored, never logged.
    public let secret: String
}

/// Management of admin keys (spec §16.3): create, get, list, revoke. They live in the key table as kind `admin`,
/// so revocation travels the same invalidation channel as an API key's.
public struct AdminKeyService: Sendable {
    let service: KeyService

    /// Admin keys over `service`'s storage, settings, clock and invalidation sinks.
    public init(service: KeyService) { self.service = service }

    /// Creates an admin key named `name` holding `permissions` (at least one, from the vocabulary, no duplicates),
    /// expiring after `ttl` (a Go duration) or never.
    /// - Throws: 400 for an invalid name, permission or ttl; storage failures as 503/504.
    public func create(name: String, permissions: [String], ttl: String?, nid: String) async throws -> AdminKeyCreation
    {
        let name = try Validate.name(name)
        guard !permissions.isEmpty else {
            throw TalosError.validation("permissions", "at least one permission is required")
        }
        var seen = Set<AdminPermission>()
        for text in permissions {
            guard let permission = AdminPermission(rawValue: text) else {
                let known = AdminPermission.allCases.map(\.rawValue).joined(separator: ", ")
                throw TalosError.validation("permissions", "unknown permission \"\(text)\" (known: \(known))")
            }
            guard seen.insert(permission).inserted else {
                throw TalosError.validation("permissions", "duplicate permission \"\(text)\"")
            }
        }
        let ttl = try Validate.ttl(ttl)
        let settings = service.settings.current(nid)
        let created = Timestamp(seconds: service.clock.now().seconds)
        let key = APIKey(
            kind: .admin,
            nid: nid,
            keyID: service.crypto.randomUUID(),
            name: name,
            actorID: "",
            scopes: permissions,
            createTime: created,
            updateTime: created,
            expireTime: ttl.map { created.adding(nanoseconds: $0) }
        )
        let secret = IssuedKeyFormat.makeKey(
            prefix: settings.adminKeyPrefix,
            createdAtSeconds: created.seconds,
            keyID: key.keyID,
            hmac: settings.keyring.current.adminChecksumKey
        )
        _ = try await service.withStorage { try await service.storage.insert(key) }
        service.logger.audit(
            "admin_key.created",
            ["key_id": "\(key.keyID)", "name": "\(key.name)", "permissions": "\(permissions.joined(separator: ","))"]
        )
        return AdminKeyCreation(key: key, secret: secret)
    }

    /// The admin key with that id. - Throws: 400 for an id that is not a UUID, 404 for an unknown one.
    public func get(keyID: String, nid: String) async throws -> APIKey {
        let keyID = try KeyService.normalizedID(keyID, kind: .admin)
        guard
            let key = try await service.withStorage({
                try await service.storage.fetch(kind: .admin, nid: nid, keyID: keyID)
            })
        else { throw Self.notFound(keyID) }
        return key
    }

    /// One page of the tenant's admin keys, by id (spec §7 paging).
    public func list(nid: String, pageSize: Int, pageToken: String) async throws -> KeyPage {
        try await service.list(kind: .admin, nid: nid, pageSize: pageSize, pageToken: pageToken, filter: "")
    }

    /// Revokes an admin key: it stops authenticating on this node at once and on every replica within the
    /// invalidation channel's delay (spec §5.9).
    /// - Throws: 404 for an unknown id, 400 `API_KEY_ALREADY_REVOKED` for a revoked one.
    public func revoke(keyID rawID: String, nid: String) async throws -> APIKey {
        let keyID = try KeyService.normalizedID(rawID, kind: .admin)
        let now = service.clock.now()
        let revoked = try await service.withStorage {
            try await service.storage.modify(kind: .admin, nid: nid, keyID: keyID) { key in
                guard key.storedStatus != .revoked else {
                    throw TalosError(.apiKeyAlreadyRevoked, "admin key is already revoked")
                }
                // Unlike an API key's (spec §8.4), an admin key's expiry stays as it was: nothing verifies it after.
                var revoked = key
                revoked.storedStatus = .revoked
                revoked.revocationReason = .privilegeWithdrawn
                revoked.updateTime = now
                return revoked
            }
        }
        guard let revoked else { throw Self.notFound(keyID) }
        service.keyChanged(nid: nid, keyID: keyID)
        service.logger.audit("admin_key.revoked", ["key_id": "\(keyID)", "name": "\(revoked.name)"])
        return revoked
    }

    /// The wire shape of an admin key at `now` (spec §16.3): `key_id, name, permissions, status, create_time,
    /// expire_time, last_used_time`; the API and the bootstrap CLI print the same.
    public static func json(_ key: APIKey, now: Timestamp) -> JSONValue {
        var object = JSONObject()
        object["key_id"] = .string(key.keyID)
        object["name"] = .string(key.name)
        object["permissions"] = .array(key.scopes.map(JSONValue.string))
        object["status"] = .string(key.status(at: now).wireName)
        object["create_time"] = .string(key.createTime.rfc3339)
        if let expireTime = key.expireTime { object["expire_time"] = .string(expireTime.rfc3339) }
        if let lastUsed = key.lastUsedTime { object["last_used_time"] = .string(lastUsed.rfc3339) }
        return .object(object)
    }

    static func notFound(_ keyID: String) -> TalosError {
        TalosError(.apiKeyNotFound, "admin key not found", metadata: [("key_id", keyID)])
    }
}

extension Verifier {
    /// Authenticates an admin key (spec §16.3) with the same checks, cache and invalidations as an issued key: the
    /// admin prefix, the admin-domain checksum under every active HMAC secret, a creation time not in the future,
    /// then the stored record (active, unexpired). A success is recorded as a use (`last_used_time`).
    /// - Throws: only storage outages (503/504); a bad key is a `.rejected` result.
    public func authenticateAdmin(_ secret: String, nid: String) async throws -> AdminAuthentication {
        func reject(malformed: Bool, _ cause: String) -> AdminAuthentication {
            logger.debug("admin authentication rejected", metadata: ["cause": "\(cause)"])  // never the key
            return .rejected(malformed: malformed)
        }
        let settings = settings.current(nid)
        let now = clock.now()
        guard secret.utf8.count <= 512, let parts = IssuedKeyFormat.parse(secret),
            parts.prefix == settings.adminKeyPrefix,
            let identity = IssuedKeyFormat.decodeIdentifier(parts.identifier)
        else { return reject(malformed: true, "not an admin key") }
        guard authenticator.checksumMatches(parts, keys: settings.keyring.active(at: now).map(\.adminChecksumKey))
        else {
            return reject(malformed: false, "invalid admin key checksum")
        }
        guard identity.createdAtSeconds <= now.seconds + settings.clockSkew.components.seconds else {
            return reject(malformed: false, "admin key created in the future")
        }
        let cache = self.cache.flatMap { settings.cacheEnabled && $0.isAvailable ? $0 : nil }
        var key = cache?.get(kind: .admin, nid: nid, keyID: identity.keyID, now: now)
        if key == nil || !(key?.isActive(at: now) ?? false) {
            let ticket = cache?.ticket()
            key = try await service.withStorage {
                try await storage.fetch(kind: .admin, nid: nid, keyID: identity.keyID)
            }
            if let ticket, let key, key.isActive(at: now) {
                var cached = key
                cached.lastUsedTime = max(key.lastUsedTime ?? now, now)
                cache?.put(cached, ticket: ticket, ttl: settings.cacheTTL, now: now)
            }
        }
        guard let key else { return reject(malformed: false, "unknown admin key") }
        guard key.isActive(at: now) else {
            return reject(malformed: false, key.storedStatus == .revoked ? "revoked admin key" : "expired admin key")
        }
        lastUsed?.observe(key, at: now)
        return .authenticated(AdminPrincipal(key))
    }
}
