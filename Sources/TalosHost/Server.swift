public import Hummingbird
import HummingbirdCore
public import Logging
import ServiceLifecycle
public import TalosCore

/// Builds the Talos HTTP application from a validated configuration.
///
/// Chooses the crypto backend by `crypto.backend` and the storage backend by the `db.dsn` scheme from `registry`,
/// opens the storage, and (for backends that migrate automatically, i.e. embedded SQLite) applies pending
/// migrations; otherwise refuses to start on an outdated schema.
///
/// - Throws: `ConfigError` for an unknown backend or missing settings, `StorageError` when the database cannot be
///   opened or its schema is not up to date.
public func buildApplication(
    config: TalosConfig,
    registry: BackendRegistry,
    mode: ServerMode,
    logger: Logger,
    clock: any WallClock = SystemWallClock(),
    migrate: Bool = false,
    reloadSource: ConfigReloadSource? = nil,
    metrics: MetricsExposition? = nil
) async throws -> some ApplicationProtocol {
    try config.validateForServing()
    let crypto = try registry.cryptoProvider(named: config.cryptoBackend).make()
    try config.validateSigningKeys(crypto: crypto)
    let backend = try registry.storageBackend(forDSN: config.databaseDSN)
    let handle = try await backend.open(config.databaseDSN, logger)
    let settings = SettingsStore(try TenantSettings(config: config, crypto: crypto))
    // The verification cache (spec §5.9): `cache.type = memory`; `cache.enabled` is read per request (hot reload).
    // With a cluster invalidation feed it stays unused until the feed is listening.
    let cache =
        config.cacheType == .memory
        ? VerificationCache(
            maxBytes: Int(config.cacheMaxSize),
            clock: clock,
            startsAvailable: handle.invalidationFeed == nil
        )
        : nil
    let limiter = try rateLimiter(config: config, handle: handle)
    // The revocation feed (spec §15.14) hears what the cache hears: the cluster channel where there is one, this
    // node's own changes otherwise.
    let revocations = RevocationFeed(
        storage: handle.storage,
        clock: clock,
        maxSubscribers: config.maxFeedSubscribers
    )
    var localSinks: [any InvalidationSink] = cache.map { [$0] } ?? []
    if handle.invalidationFeed == nil { localSinks.append(revocations) }
    let service = KeyService(
        storage: handle.storage,
        crypto: crypto,
        settings: settings,
        clock: clock,
        logger: logger,
        invalidations: localSinks,
        tracing: config.tracingEnabled
    )
    let lastUsed = LastUsedTracker(storage: handle.storage, config: config, logger: logger)
    let httpSettings = SettingsStore(HTTPSettings(config: config))
    // Off, nothing is counted and the verify path does no usage work at all.
    let usage =
        config.usageEnabled ? UsageRecorder(storage: handle.storage, config: config, clock: clock, logger: logger) : nil
    let verifier = Verifier(service: service, lastUsed: lastUsed, usage: usage, cache: cache, limiter: limiter)
    let selfRevokeLimiter = TokenBuckets(
        rate: config.publicRateLimitPerSecond,
        burst: config.publicRateLimitBurst,
        clock: clock
    )
    var middleware: [any RouterMiddleware<TalosRequestContext>] = [RequestIDMiddleware()]
    // The server span only when tracing is on: a no-op span per request still costs measurably.
    if config.tracingEnabled { middleware.append(TracingMiddleware()) }
    middleware.append(SecurityHeadersMiddleware())
    if metrics != nil { middleware.append(MetricsMiddleware()) }
    middleware += [
        AccessLogMiddleware(logger: logger, httpSettings: httpSettings),
        // Outside the error envelope, so that error answers carry CORS headers too.
        CORSMiddleware(httpSettings: httpSettings, logger: logger),
        ErrorEnvelopeMiddleware(logger: logger),
        // Inside the envelope: their refusals are enveloped (and carry CORS headers).
        AllowedHostsMiddleware(httpSettings: httpSettings),
        CrossOriginMiddleware(httpSettings: httpSettings),
        AdminAuthMiddleware(
            httpSettings: httpSettings,
            verifier: verifier,
            failures: TokenBuckets(
                rate: config.publicRateLimitPerSecond,
                burst: config.publicRateLimitBurst,
                clock: clock
            )
        ),
    ]
    let health = HealthController(
        storage: handle.storage,
        openAPIDocument: OpenAPIDocument.serialized(for: mode),
        invalidationFeedUp: feedUp(cache, handle)
    )
    let responder = APIResponder(
        table: RouteTable(
            apiControllers(
                service: service,
                verifier: verifier,
                health: health,
                clock: clock,
                selfRevokeLimiter: selfRevokeLimiter,
                revocations: revocations
            ).map { route in
                // Operation spans only when tracing is on: a no-op span still costs on every request.
                var route = route
                if !config.tracingEnabled { route.span = nil }
                return route
            } + (config.consoleEnabled ? ConsoleController().routes : []),
            mode: mode
        ),
        tenants: TenantResolver(config: config, httpSettings: httpSettings),
        middleware: middleware,
        dispatcher: RouteDispatcher(httpSettings: httpSettings)
    )
    let port = config.httpPort ?? (mode == .public ? 4421 : 4420)
    if mode != .public, !config.adminAuthEnabled, !["127.0.0.1", "::1", "localhost"].contains(config.httpHost) {
        logger.warning(
            "the admin surface has no authentication (serve.admin.auth.enabled is false) and listens on a non-loopback address; keep it on an internal network",
            metadata: ["host": "\(config.httpHost)", "port": "\(port)"]
        )
    }
    let metricsPort = config.metricsPort ?? (mode == .public ? 4423 : 4422)
    var features: [String] = []
    if cache != nil { features.append(config.cacheEnabled ? "cache" : "cache(disabled)") }
    if handle.invalidationFeed != nil, cache != nil { features.append("cache-invalidation-feed") }
    if config.rateLimitEnabled { features.append("rate-limit(\(config.rateLimitBackend.rawValue))") }
    if usage != nil { features.append("usage") }
    if config.consoleEnabled, mode != .public { features.append("console") }
    if config.multitenancyEnabled { features.append("multitenancy(\(config.networks.count) networks)") }
    if reloadSource != nil { features.append("hot-reload") }
    logger.info(
        "talos starting",
        metadata: [
            "version": "\(TalosVersion.current)", "mode": "\(mode.rawValue)", "storage": "\(backend.name)",
            "crypto": "\(crypto.name)", "host": "\(config.httpHost)", "port": "\(port)",
            "listeners":
                "api=\(config.httpHost):\(port)\(metrics == nil ? "" : " metrics=\(config.metricsHost):\(metricsPort)")",
            "features": "\(features.isEmpty ? "none" : features.joined(separator: ","))",
            "admin_auth": "\(config.adminAuthEnabled ? "on" : "off")",
        ]
    )
    var services: [any Service] = [StorageLifetime(handle: handle)]
    services += handle.services
    // After the storage's services, so that on shutdown it flushes while the database is still reachable.
    services.append(lastUsed)
    if let usage { services.append(usage) }
    services.append(revocations)
    if let feed = handle.invalidationFeed {
        let sinks: [any InvalidationSink] = [revocations] + (cache.map { [$0] } ?? [])
        services.append(feed.listener(delivering: InvalidationFanOut(sinks)))
    }
    if let metrics {
        TalosMetrics.buildInfo()
        services.append(
            Application(
                responder: MetricsResponder(exposition: metrics, health: health),
                configuration: .init(address: .hostname(config.metricsHost, port: metricsPort), serverName: nil),
                logger: logger
            )
        )
    }
    if let reloadSource {
        services.append(
            ConfigReloadService(
                source: reloadSource,
                initial: config,
                crypto: crypto,
                settings: settings,
                httpSettings: httpSettings,
                logger: logger
            )
        )
    }
    let limits = ConnectionLimits(
        maxConnections: config.maxConnections,
        readTimeout: config.readTimeout,
        idleTimeout: config.idleTimeout
    )
    var app = Application(
        responder: responder,
        server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits) },
        configuration: .init(address: .hostname(config.httpHost, port: port), serverName: nil),
        services: services,
        logger: logger
    )
    // Runs once the storage's services (connection pools) are up and before the listener accepts requests.
    app.beforeServerStarts { try await prepareSchema(handle, migrate: migrate, logger: logger) }
    return app
}

/// Whether the cache's invalidation feed listens; always true without a cache or a feed.
private func feedUp(_ cache: VerificationCache?, _ handle: StorageHandle) -> @Sendable () -> Bool {
    guard let cache, handle.invalidationFeed != nil else { return { true } }
    return { cache.isAvailable }
}

/// The limiter of `rate_limit.backend` (spec §15.9): `memory` in this process, `postgres` from the storage.
/// - Throws: `ConfigError` when the storage has no cluster-wide limiter (`postgres` on SQLite).
private func rateLimiter(config: TalosConfig, handle: StorageHandle) throws(ConfigError) -> any RateLimiter {
    switch config.rateLimitBackend {
    case .postgres:
        guard let limiter = handle.rateLimiter else {
            throw ConfigError("rate_limit.backend: postgres needs a postgres:// db.dsn (the counters live there)")
        }
        return limiter
    case .memory: return MemoryRateLimiter()
    }
}

/// Every route of the API listener, by resource.
func apiControllers(
    service: KeyService,
    verifier: Verifier,
    health: HealthController,
    clock: any WallClock,
    selfRevokeLimiter: TokenBuckets,
    revocations: RevocationFeed
) -> [Route] {
    let controllers: [any APIController] = [
        health,
        IssuedKeysController(service: service, clock: clock),
        ImportedKeysController(service: service, clock: clock),
        RevocationController(service: service, selfRevokeLimiter: selfRevokeLimiter),
        VerificationController(verifier: verifier, clock: clock),
        ForwardAuthController(verifier: verifier, clock: clock),
        DerivedTokensController(service: service, verifier: verifier),
        RevocationFeedController(feed: revocations, clock: clock),
        AdminKeysController(adminKeys: AdminKeyService(service: service), clock: clock),
        UsageController(usage: UsageService(service: service)),
    ]
    return controllers.flatMap(\.routes)
}

/// Applies pending migrations for embedded backends or when asked (`--migrate`); otherwise refuses an outdated
/// schema (spec §10.2).
private func prepareSchema(_ handle: StorageHandle, migrate: Bool, logger: Logger) async throws {
    let status = try await handle.migrator.status()
    guard !status.isUpToDate else { return }
    guard handle.migratesAutomatically || migrate, !status.dirty else {
        throw StorageError.schemaOutdated(
            "database schema is not up to date; run \"talos migrate up\" or start with --migrate"
        )
    }
    let applied = try await handle.migrator.up(steps: nil)
    logger.info("applied migrations", metadata: ["versions": "\(applied.map(String.init).joined(separator: ","))"])
}

/// Closes the storage after everything started later (the HTTP server) has shut down.
struct StorageLifetime: Service {
    let handle: StorageHandle

    func run() async throws {
        try? await gracefulShutdown()
        await handle.shutdown()
    }
}

extension StorageLifetime: RedactedDescription {}
