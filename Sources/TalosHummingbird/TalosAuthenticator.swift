public import AsyncHTTPClient
import CoreMetrics
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
import TalosClient
public import TalosCore
import TalosOpenSSL

/// Verifies the credentials a service receives, the way Talos would, as cheaply as it safely can:
///
/// - **Derived JWTs** offline, against the JWK Set read from Talos (again on an unknown `kid`), checking signature,
///   `iss`, `exp`/`nbf`, `tty`, `nid`, `acl` and `aud` as Talos does (spec §6.3).
/// - **API keys** (and macaroons) through Talos's verify, keeping valid answers for `cacheTTL` under a keyed hash of
///   the credential. Keys whose rate limit Talos enforces are never cached: every use must be counted.
/// - **Revocations**: as a `Service` it follows Talos's revocation feed and drops a key's cached identities when
///   the feed reports it. While the feed is down nothing cached is trusted, and the cache is emptied, so that a
///   revocation missed meanwhile cannot be served from it; trust returns once resubscribed.
///
/// Add it to the application's services so that the feed and JWK Set refreshes run, and put `middleware()` in
/// front of the routes to protect.
public final class TalosAuthenticator: Service, Sendable {
    /// What this authenticator accepts and where Talos is.
    public let configuration: TalosAuthConfiguration
    let client: TalosClient
    /// The client of the revocation feed's replica (`feedEndpoint`, else `endpoint`).
    let feedClient: TalosClient
    let httpClient: HTTPClient
    let crypto: any CryptoBackend
    let logger: Logger
    /// Keys the cache by an HMAC under a per-process random key: the credential itself is never stored.
    private let cacheKey: any HMACKey
    private let state: Mutex<State>
    private let metrics = AuthMetrics()

    private struct State {
        var cache: IdentityCache
        var feedConnected = false
        /// Bumped by every eviction, reset and feed change; an answer is cached only if none happened meanwhile.
        var generation: UInt64 = 0
        /// Keys the feed reported lately. Another replica may still answer "valid" for one from its own cache (Talos
        /// allows its replicas up to a second): such a key is verified past Talos's cache and not cached here.
        var recentRevocations: [String: ContinuousClock.Instant] = [:]

        func isRecentlyRevoked(_ keyID: String, now: ContinuousClock.Instant) -> Bool {
            recentRevocations[keyID].map { now - $0 < TalosAuthenticator.recentRevocation } ?? false
        }
        var keyring = SigningKeyring.empty
        var keyringLoaded = false
        var keysRefresh: Task<Void, Never>?
        var lastKeysAttempt: ContinuousClock.Instant?
        var statistics = TalosAuthStatistics()
    }

    /// - Parameters:
    ///   - configuration: where Talos is and what to accept.
    ///   - httpClient: the connection pool for calls to Talos and the feed (default: AsyncHTTPClient's shared one).
    ///   - crypto: the primitives for JWT signatures and cache keys (default: OpenSSL).
    /// - Throws: when the default crypto backend cannot start.
    public init(
        configuration: TalosAuthConfiguration,
        httpClient: HTTPClient = .shared,
        crypto: (any CryptoBackend)? = nil,
        logger: Logger = Logger(label: "talos.auth")
    ) throws {
        let crypto = try crypto ?? OpenSSLCrypto()
        self.configuration = configuration
        self.httpClient = httpClient
        self.crypto = crypto
        self.logger = logger
        let userAgent = "talos-hummingbird/\(TalosVersion.current)"
        self.client = TalosClient(
            endpoint: configuration.endpoint,
            adminKey: configuration.adminKey,
            timeout: configuration.requestTimeout,
            httpClient: httpClient,
            userAgent: userAgent
        )
        self.feedClient = TalosClient(
            endpoint: configuration.feedEndpoint ?? configuration.endpoint,
            adminKey: configuration.adminKey,
            timeout: configuration.requestTimeout,
            httpClient: httpClient,
            userAgent: userAgent
        )
        self.cacheKey = crypto.hmacSHA256Key(crypto.randomBytes(32))
        self.state = Mutex(State(cache: IdentityCache(capacity: configuration.cacheCapacity)))
    }

    /// The help text of each metric family the authenticator records, for an exposition's `# HELP` lines.
    public static var metricHelp: [String: String] { AuthMetrics.help }

    /// Counters and state, for health endpoints, metrics and tests.
    public var statistics: TalosAuthStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.feedConnected = state.feedConnected
            statistics.cachedIdentities = state.cache.count
            statistics.signingKeys = state.keyring.entries.count
            return statistics
        }
    }

    /// Credentials longer than this are refused without asking Talos (Talos answers `INVALID_FORMAT` for them).
    static let maxCredentialBytes = 8192

    /// Verifies `credential`.
    /// - Parameter clientAddress: the address of the caller: checked against derived JWTs' `acl`, and, with
    ///   `configuration.clientAddressHeader`, forwarded to Talos and part of the cache key.
    /// - Throws: `TalosAuthError`: 401 for an invalid credential, 429 when its rate limit is spent, 503 when Talos
    ///   cannot answer.
    public func authenticate(
        _ credential: String,
        clientAddress: IPAddress?
    ) async throws(TalosAuthError)
        -> TalosIdentity
    {
        guard credential.utf8.count <= Self.maxCredentialBytes else {
            throw .refused("VERIFICATION_ERROR_INVALID_FORMAT")
        }
        var via = TalosIdentity.Verification.talos
        do {
            let identity: TalosIdentity
            if !configuration.issuers.isEmpty, CredentialRoute.isJWTShaped(credential) {
                via = .jwks
                identity = try await verifyJWT(credential, clientAddress: clientAddress)
            } else {
                identity = try await verifyWithTalos(credential, clientAddress: clientAddress)
            }
            metrics.verification(via: identity.verifiedBy, error: nil)
            return identity
        } catch {
            metrics.verification(via: via, error: error)
            throw error
        }
    }

    // MARK: API keys

    private func verifyWithTalos(
        _ credential: String,
        clientAddress: IPAddress?
    ) async throws(TalosAuthError) -> TalosIdentity {
        // With the client's address forwarded, Talos's answer depends on it (a key's CIDRs): cache per address.
        let forwarded = configuration.clientAddressHeader.flatMap { header in clientAddress.map { (header, $0) } }
        let credentialBytes = Array(credential.utf8)
        var cacheInput = withUnsafeBytes(of: UInt32(credentialBytes.count).bigEndian, Array.init) + credentialBytes
        if let (_, address) = forwarded { cacheInput += address.bytes }
        let hash = cacheKey.authenticate(cacheInput)
        let followsRevocations = configuration.followsRevocations
        let lookup: (TalosIdentity?, UInt64?) = state.withLock { state in
            guard state.feedConnected || !followsRevocations else { return (nil, nil) }
            if var identity = state.cache.lookup(hash, now: .now) {
                state.statistics.cacheHits += 1
                identity.verifiedBy = .cache
                return (identity, nil)
            }
            return (nil, state.generation)
        }
        if let cached = lookup.0 { return cached }

        var verification: TalosVerification
        do {
            let headers = forwarded.map { [($0.0, $0.1.description)] } ?? []
            verification = try await client.verify(
                credential,
                expectedAudiences: configuration.expectedAudiences,
                headers: headers
            )
            // The key was revoked a moment ago: ask again past Talos's own cache, which may not have heard yet.
            if verification.isValid, let keyID = verification.keyID,
                state.withLock({ $0.isRecentlyRevoked(keyID, now: .now) })
            {
                verification = try await client.verify(
                    credential,
                    expectedAudiences: configuration.expectedAudiences,
                    cacheControl: "no-cache",
                    headers: headers
                )
            }
        } catch {
            state.withLock { $0.statistics.talosFailures += 1 }
            logger.warning("talos verify failed", metadata: ["error": "\(error)"])
            throw TalosAuthError(.serviceUnavailable, "The credential cannot be verified now.")
        }
        state.withLock { $0.statistics.talosVerifications += 1 }
        guard verification.isValid else {
            throw .refused(verification.errorCode ?? "VERIFICATION_ERROR_UNSPECIFIED")
        }
        let expireTime = verification.expireTime.flatMap(Timestamp.init(rfc3339:))
        let identity = TalosIdentity(
            verifiedBy: .talos,
            keyID: verification.keyID ?? "",
            actorID: verification.actorID ?? "",
            scopes: verification.scopes,
            metadata: verification.metadata,
            audiences: verification.audiences,
            expireTime: expireTime
        )
        // A key whose rate limit Talos enforces must reach Talos on every use; one without an id could never be
        // evicted by the feed.
        guard let generation = lookup.1, verification.json["rate_limit_remaining"] == nil, !identity.keyID.isEmpty
        else { return identity }
        var lifetime = configuration.cacheTTL
        if let expireTime {
            let left = expireTime.microseconds - SystemWallClock().now().microseconds
            lifetime = min(lifetime, .microseconds(left))
        }
        guard lifetime > .zero else { return identity }
        let entries: Int? = state.withLock { state in
            guard state.generation == generation, !state.isRecentlyRevoked(identity.keyID, now: .now) else {
                return nil
            }
            state.cache.insert(identity, hash: hash, expiry: .now + lifetime)
            return state.cache.count
        }
        if let entries { metrics.cacheEntries.record(entries) }
        return identity
    }

    // MARK: Derived JWTs

    /// The header's `kid` of a JWT-shaped credential, read only when its signature did not verify.
    static func jwtKeyID(_ credential: String) -> String? {
        let parts = credential.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(parts[0]),
            let kid = (try? JSONValue.parse(header))?["kid"]?.stringValue
        else { return nil }
        return kid
    }

    private func verifyJWT(_ token: String, clientAddress: IPAddress?) async throws(TalosAuthError) -> TalosIdentity {
        var (keyring, loaded) = state.withLock { ($0.keyring, $0.keyringLoaded) }
        var claims = JWTCodec.verify(token, keyring: keyring)
        // Not verified: read the JWK Set again when nothing is loaded yet or the token names a key not in it.
        if claims == nil, !loaded || Self.jwtKeyID(token).map({ keyring.entry(kid: $0) == nil }) == true {
            await refreshSigningKeys()
            (keyring, loaded) = state.withLock { ($0.keyring, $0.keyringLoaded) }
            claims = JWTCodec.verify(token, keyring: keyring)
        }
        guard loaded else { throw TalosAuthError(.serviceUnavailable, "Talos's signing keys cannot be read now.") }
        guard let claims, configuration.issuers.contains(claims.issuer)
        else { throw .refused("VERIFICATION_ERROR_SIGNATURE_INVALID") }
        if let failure = claims.failure(
            at: SystemWallClock().now(),
            clockSkew: configuration.clockSkew,
            nid: configuration.tenantID,
            clientIP: clientAddress,
            expectedAudiences: configuration.expectedAudiences
        ) {
            throw .refused(failure.wireName)
        }
        state.withLock { $0.statistics.localJWTVerifications += 1 }
        return TalosIdentity(
            verifiedBy: .jwks,
            keyID: claims.parentKeyID,
            actorID: claims.actorID ?? "",
            scopes: claims.scopes,
            metadata: claims.verifiedMetadata,
            audiences: claims.audiences,
            expireTime: Timestamp(seconds: claims.expires)
        )
    }

    /// Reads the JWK Set again, at most one read at a time and at most every `jwksMinimumInterval` (every second
    /// until a read has succeeded); callers wait for the read in flight.
    func refreshSigningKeys() async {
        let read: Task<Void, Never>? = state.withLock { state in
            if let inFlight = state.keysRefresh { return inFlight }
            let now = ContinuousClock.now
            let gap = state.keyringLoaded ? configuration.jwksMinimumInterval : .seconds(1)
            if let last = state.lastKeysAttempt, now - last < gap { return nil }
            state.lastKeysAttempt = now
            let read = Task { await self.readSigningKeys() }
            state.keysRefresh = read
            return read
        }
        await read?.value
    }

    private func readSigningKeys() async {
        defer { state.withLock { $0.keysRefresh = nil } }
        do {
            let keyring = SigningKeyring(jwks: try await client.jwks(), crypto: crypto)
            state.withLock { state in
                state.keyring = keyring
                state.keyringLoaded = true
                state.statistics.jwksReads += 1
            }
            metrics.jwksReads.increment()
        } catch {
            metrics.jwksReadFailures.increment()
            logger.warning("cannot read Talos's JWK Set", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Service

    /// Follows the revocation feed and refreshes the JWK Set until graceful shutdown (or cancellation); with
    /// neither to do it still waits, since a service that returns early stops its whole service group.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await gracefulShutdown() }
            if !self.configuration.issuers.isEmpty {
                group.addTask {
                    while !Task.isCancelled {
                        await self.refreshSigningKeys()
                        try? await Task.sleep(for: self.configuration.jwksRefreshInterval)
                    }
                }
            }
            if self.configuration.followsRevocations {
                group.addTask { await self.followRevocations() }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Subscribes, and again after every loss with a backoff of 0.1 s doubling to 5 s.
    private func followRevocations() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await followRevocationsOnce()
            } catch {
                if !Task.isCancelled {
                    logger.warning("revocation feed lost", metadata: ["error": "\(error)"])
                }
            }
            feedLost()
            // A connection that lasted was healthy: start over. One that ends at once (a draining replica) backs off.
            if ContinuousClock.now - started > .seconds(5) { backoff = .milliseconds(100) }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Chunks received on the feed, watched for silence.
    final class ChunkCounter: Sendable {
        let count = Atomic<Int>(0)
    }

    struct FeedError: Error, CustomStringConvertible {
        let description: String
    }

    private func followRevocationsOnce() async throws {
        let request = feedClient.request(.GET, "/v2alpha1/admin/revocations:watch", accept: "text/event-stream")
        // The deadline covers the response head; the body streams for as long as the subscription lasts.
        let response = try await httpClient.execute(request, deadline: .now() + .seconds(10))
        guard response.status == .ok,
            response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true
        else { throw FeedError(description: "the feed answered HTTP \(response.status.code)") }
        feedConnected()
        let received = ChunkCounter()
        let body = response.body
        let idleTimeout = configuration.feedIdleTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var parser = ServerSentEventParser()
                for try await chunk in body {
                    received.count.add(1, ordering: .relaxed)
                    for event in try parser.consume(chunk.readableBytesView) { self.apply(event) }
                }
            }
            group.addTask {
                var seen = 0
                while true {
                    try await Task.sleep(for: idleTimeout)
                    let now = received.count.load(ordering: .relaxed)
                    guard now != seen else { throw FeedError(description: "the feed sent nothing for \(idleTimeout)") }
                    seen = now
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// How long a reported revocation keeps its key from being cached (and sends its verifications past Talos's
    /// cache): well beyond the second Talos's replicas take to hear of it.
    static let recentRevocation = Duration.seconds(10)

    private func apply(_ event: ServerSentEventParser.Event) {
        switch event.type {
        case "revoked":
            guard let keyID = (try? JSONValue.parse(event.data))?["key_id"]?.stringValue else {
                // A revocation this client cannot read must not leave its key trusted: drop everything.
                logger.warning("unreadable revocation event: cache cleared")
                clearCache(reset: false)
                return
            }
            let now = ContinuousClock.now
            let (evicted, entries) = state.withLock { state in
                state.generation &+= 1
                state.statistics.revocations += 1
                state.recentRevocations[keyID] = now
                if state.recentRevocations.count > 4096 {
                    state.recentRevocations = state.recentRevocations.filter { now - $0.value < Self.recentRevocation }
                }
                let evicted = state.cache.evict(keyID: keyID)
                state.statistics.evictions += evicted
                return (evicted, state.cache.count)
            }
            if evicted > 0 {
                metrics.evictions.increment(by: evicted)
                metrics.cacheEntries.record(entries)
            }
        case "reset":
            logger.info("revocation feed reset: cache cleared")
            clearCache(reset: true)
        default:
            break
        }
    }

    private func clearCache(reset: Bool) {
        state.withLock { state in
            state.generation &+= 1
            if reset { state.statistics.resets += 1 }
            state.cache.removeAll()
        }
        if reset { metrics.resets.increment() }
        metrics.cacheEntries.record(0)
    }

    private func feedConnected() {
        logger.info("revocation feed connected")
        state.withLock { state in
            state.generation &+= 1
            state.feedConnected = true
            state.statistics.feedConnections += 1
        }
        metrics.feedConnections.increment()
        metrics.feedConnected.record(1)
    }

    /// Stops trusting the cache and empties it: revocations sent while disconnected were not seen.
    private func feedLost() {
        state.withLock { $0.feedConnected = false }
        clearCache(reset: false)
        metrics.feedConnected.record(0)
    }
}

/// What a `TalosAuthenticator` has done so far.
public struct TalosAuthStatistics: Sendable, Hashable {
    /// Whether the revocation feed is connected (the cache is trusted only then).
    public var feedConnected = false
    /// Identities in the cache now.
    public var cachedIdentities = 0
    /// Requests answered from the cache.
    public var cacheHits = 0
    /// Credentials Talos verified (valid or not).
    public var talosVerifications = 0
    /// Calls to Talos's verify that failed (Talos unreachable or erring).
    public var talosFailures = 0
    /// Derived JWTs accepted locally.
    public var localJWTVerifications = 0
    /// Successful reads of the JWK Set.
    public var jwksReads = 0
    /// Verifying keys in the JWK Set now.
    public var signingKeys = 0
    /// Subscriptions to the revocation feed that succeeded.
    public var feedConnections = 0
    /// `revoked` events received.
    public var revocations = 0
    /// Cached identities dropped for a revocation.
    public var evictions = 0
    /// `reset` events received.
    public var resets = 0

    /// All zero.
    public init() {}
}
