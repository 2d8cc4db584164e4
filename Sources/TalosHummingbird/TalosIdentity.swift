public import TalosCore

/// Who a request is from, as Talos vouched for it: the key or derived token's facts, never the credential.
public struct TalosIdentity: Sendable, Hashable {
    /// How the credential was checked.
    public enum Verification: Sendable, Hashable {
        /// Talos verified it for this request (an API key, a macaroon, or a JWT when no issuer is configured).
        case talos
        /// Talos verified it earlier and the revocation feed has not reported its key since.
        case cache
        /// A derived JWT, checked locally against Talos's JWK Set.
        case jwks
    }

    /// How the credential was checked.
    public var verifiedBy: Verification
    /// The key's id; for a derived token, its parent key's id.
    public let keyID: String
    /// The key's `actor_id` ("" when none).
    public let actorID: String
    /// The key's scopes, opaque strings (Talos does no wildcard matching, spec §1).
    public let scopes: [String]
    /// The key's metadata; for a derived token, its custom claims overlaid by `meta`.
    public let metadata: JSONObject
    /// The audiences the credential is bound to (empty when unbound).
    public let audiences: [String]
    /// When the credential stops being valid (`nil`: never).
    public let expireTime: Timestamp?

    /// An identity with the given facts.
    public init(
        verifiedBy: Verification,
        keyID: String,
        actorID: String,
        scopes: [String],
        metadata: JSONObject,
        audiences: [String],
        expireTime: Timestamp?
    ) {
        self.verifiedBy = verifiedBy
        self.keyID = keyID
        self.actorID = actorID
        self.scopes = scopes
        self.metadata = metadata
        self.audiences = audiences
        self.expireTime = expireTime
    }

    /// The first of `required` that the identity lacks (exact string comparison), or `nil` when it has them all.
    public func missingScope(of required: some Sequence<String>) -> String? {
        required.first { !scopes.contains($0) }
    }
}
