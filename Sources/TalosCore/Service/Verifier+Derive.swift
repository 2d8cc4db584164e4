import Logging

extension Verifier {
    /// Derives a short-lived token from a valid API key (spec §3.13 with §14.6, §14.7, §14.8, §14.14).
    public func derive(_ request: DeriveTokenRequest, context: VerificationContext) async throws -> DerivedToken {
        let settings = settings.current(context.nid)
        // 1. Validate.
        guard !request.credential.isEmpty else { throw TalosError(.credentialRequired, "A credential is required.") }
        guard request.credential.utf8.count <= 8192 else {
            throw TalosError.validation("credential", "value length must be at most 8192 bytes")
        }
        let ttl = try Validate.ttl(request.ttl) ?? settings.derivedDefaultTTL.wholeNanoseconds
        guard Duration.nanoseconds(ttl) <= settings.maxTTL else { throw KeyService.ttlExceedsMaximum(settings.maxTTL) }
        guard request.audiences.count <= 20 else {
            throw TalosError.validation("audiences", "value must contain at most 20 items")
        }
        for audience in request.audiences where !(1...256).contains(audience.count) {
            throw TalosError.validation("audiences", "each audience must be 1 to 256 characters")
        }
        guard JSONValue.object(request.customClaims).serialized().count <= 65_536 else {
            throw TalosError.validation("custom_claims", "serialized size must be at most 65536 bytes")
        }
        let requestedScopes = try Validate.scopes(request.scopes)
        // 2. The parent: the full pipeline, never the cache; derived tokens cannot derive.
        switch CredentialRoute.route(request.credential, macaroonPrefixes: settings.macaroonPrefixes) {
        case .derivedJWT, .derivedMacaroon:
            throw TalosError(.derivedTokenNotDerivable, "Derived tokens cannot be used to derive tokens.")
        default: break
        }
        let parentContext = VerificationContext(
            nid: context.nid,
            clientIP: context.clientIP,
            cache: CacheDirectives(read: false, write: true)
        )
        let verification = try await verifyBatch(
            [VerificationItem(credential: request.credential)],
            context: parentContext,
            isDerivation: true
        )[0]
        guard let parent = verification.key, verification.isValid else {
            if verification.errorCode == .revoked { throw TalosError(.parentKeyRevoked, "key is revoked") }
            throw TalosError(.parentKeyInvalid, "Parent key validation failed.")
        }
        // 3. The token may not outlive its parent.
        let now = clock.now()
        if let expireTime = parent.expireTime {
            let remaining = expireTime.microseconds - now.microseconds
            guard remaining > 0 else {
                throw TalosError(.apiKeyNotActive, "cannot derive token from expired parent key")
            }
            let remainingSeconds = remaining / 1_000_000
            guard ttl <= remaining * 1_000 else {
                throw TalosError(
                    .ttlExceedsMaximum,
                    "derived token ttl (\(DurationText.formatGo(ttl))) exceeds parent key remaining lifetime "
                        + "(\(DurationText.formatGo(remainingSeconds * 1_000_000_000)))"
                )
            }
        }
        // 4. Scopes narrow, never widen.
        for scope in requestedScopes where !parent.scopes.contains(scope) {
            throw TalosError(.scopeNotAllowed, "requested scope '\(scope)' not available in parent key")
        }
        let scopes = requestedScopes.isEmpty ? parent.scopes : requestedScopes
        // 5. Reserved names are dropped from custom claims (in linear time: the object can be large, §16.16).
        var members: [(String, JSONValue)] = []
        for (name, value) in request.customClaims where !DerivedClaims.reserved.contains(name) {
            // A macaroon caveat is `name=<JSON>`: a name with "=" (or none) could never be parsed back.
            guard !name.isEmpty, !name.contains("=") else {
                throw TalosError.validation("custom_claims", "claim names must be non-empty and must not contain \"=\"")
            }
            members.append((name, value))
        }
        let custom = JSONObject(members)
        // 6. Sign.
        let issuedAt = now.seconds
        let expires = issuedAt + ttl / 1_000_000_000
        let claims = DerivedClaims(
            jti: service.crypto.randomUUID(),
            audiences: request.audiences,
            subject: parent.keyID,
            issuer: settings.issuer,
            issuedAt: issuedAt,
            notBefore: issuedAt,
            expires: expires,
            nid: context.nid,
            parentKeyID: parent.keyID,
            actorID: parent.actorID,
            scopes: scopes,
            meta: parent.metadata,
            visibility: parent.visibility == .public ? "public" : "secret",
            acls: parent.allowedCIDRs.isEmpty ? [] : [parent.allowedCIDRs],
            custom: custom
        )
        let token: String
        if request.algorithm == .macaroon {
            token = MacaroonCodec.mint(
                claims,
                location: settings.issuer,
                prefix: settings.macaroonPrefix,
                rootKey: settings.keyring.current.macaroonRootKey,
                crypto: service.crypto
            )
        } else {
            token = try JWTCodec.sign(claims, with: try settings.signingKeys.signingEntry())
        }
        guard token.utf8.count <= 8192 else { throw TalosError(.invalidArgument, "derived token exceeds 8192 bytes") }
        var overlaid = parent.metadata
        for (name, value) in custom { overlaid[name] = value }
        TalosMetrics.tokenMinted(algorithm: request.algorithm == .macaroon ? "macaroon" : "jwt")
        logger.audit(
            "token.derived",
            ["key_id": "\(parent.keyID)", "algorithm": "\(request.algorithm == .macaroon ? "macaroon" : "jwt")"]
        )
        return DerivedToken(
            token: token,
            expireTime: Timestamp(seconds: expires),
            scopes: scopes,
            claims: overlaid,
            audiences: request.audiences
        )
    }
}
