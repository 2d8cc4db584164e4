public import TalosCore

/// How a `TalosAuthenticator` reaches Talos and what it accepts.
public struct TalosAuthConfiguration: Sendable {
    /// Talos's admin API, e.g. `http://talos:4420`: API keys are verified there, the JWK Set is read there.
    public var endpoint: String
    /// Where to follow the revocation feed (spec §15.14); `nil`: `endpoint`. Any replica will do: every replica
    /// publishes every replica's revocations. `endpoint`, `feedEndpoint` and `tenantID` must name the same tenant
    /// (Talos chooses the tenant by `Host`, spec §9.2).
    public var feedEndpoint: String?
    /// The admin key sent to a Talos with `serve.admin.auth.enabled` (spec §16.3): it needs `keys.verify`, plus
    /// `revocations.watch` to follow the feed and `keys.read` for the admin JWK Set. `nil`: none is sent.
    public var adminKey: String?
    /// Whether to follow the revocation feed. With it, a cached identity is dropped within a second of its key's
    /// revocation, deletion or rotation on any replica while the feed connection is healthy, and nothing cached is
    /// trusted once the feed is known to be down (a silent connection is noticed after one to two
    /// `feedIdleTimeout`s). Without it, a revoked key stays accepted for up to `cacheTTL`. Other changes to a key (scopes,
    /// metadata, CIDRs, an earlier expiry) are not on the feed: they reach the cache within `cacheTTL`.
    public var followsRevocations: Bool
    /// The `iss` values of derived JWTs to accept (Talos's `credentials.issuer`). Empty: JWTs are sent to Talos
    /// like any other credential instead of being verified locally.
    public var issuers: Set<String>
    /// The audiences this service answers to; with any, a credential must be bound to one of them (spec §13).
    public var expectedAudiences: [String]
    /// The tenant (network id) whose derived JWTs are accepted.
    public var tenantID: String
    /// A header to read the raw credential from (e.g. `X-API-Key`) before `Authorization: Bearer`.
    public var credentialHeader: String?
    /// The header in which Talos reads the client's address (its `serve.http.client_ip_source`, e.g. `X-Real-IP`),
    /// for keys restricted to CIDRs. When set and the request context knows the peer
    /// (`RemoteAddressRequestContext`), verify calls carry the peer's address in it and cached answers are kept per
    /// address; Talos honours it only from its `serve.http.trusted_proxies`. `nil`: keys' CIDRs are checked against
    /// this service's own address.
    public var clientAddressHeader: String?
    /// How long a verified API key is trusted without asking Talos again (capped by the key's expiry).
    public var cacheTTL: Duration
    /// How many identities the cache holds at most; the oldest go first.
    public var cacheCapacity: Int
    /// The leeway on derived JWTs' `exp` and `nbf` (Talos's `credentials.clock_skew`).
    public var clockSkew: Duration
    /// How often the JWK Set is read again; an unknown `kid` reads it at once (at most every `jwksMinimumInterval`).
    public var jwksRefreshInterval: Duration
    /// The least time between two reads of the JWK Set, so that tokens naming made-up `kid`s cannot flood Talos.
    public var jwksMinimumInterval: Duration
    /// The deadline of each call to Talos.
    public var requestTimeout: Duration
    /// A feed connection that sends nothing for this long (Talos sends a keep-alive every 15 s) is dropped.
    public var feedIdleTimeout: Duration

    /// - Parameters:
    ///   - endpoint: Talos's admin API base URL.
    ///   - issuers: the accepted `iss` of derived JWTs; empty to send JWTs to Talos.
    public init(endpoint: String, issuers: Set<String> = []) {
        self.endpoint = endpoint
        self.feedEndpoint = nil
        self.adminKey = nil
        self.followsRevocations = true
        self.issuers = issuers
        self.expectedAudiences = []
        self.tenantID = UUIDText.nilUUID
        self.credentialHeader = nil
        self.clientAddressHeader = nil
        self.cacheTTL = .seconds(60)
        self.cacheCapacity = 10_000
        self.clockSkew = .seconds(300)
        self.jwksRefreshInterval = .seconds(300)
        self.jwksMinimumInterval = .seconds(10)
        self.requestTimeout = .seconds(2)
        self.feedIdleTimeout = .seconds(20)
    }
}

/// The admin key must never be printed, dumped or logged.
extension TalosAuthConfiguration: RedactedDescription {}
