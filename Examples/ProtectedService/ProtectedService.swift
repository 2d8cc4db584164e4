import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import Prometheus
import TalosCore
import TalosHummingbird

/// A small service behind Talos: `/v1/whoami` needs any valid credential, `/v1/orders` the scope `read:*`.
/// `/talos-auth` shows the authenticator's counters and `/metrics` its Prometheus metrics (the end-to-end test reads
/// both; protect them in a real service).
@main
struct ProtectedService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "talos-example-service",
        abstract: "An example Hummingbird service protected by Talos."
    )

    @Option(help: "Talos's admin API (verify, JWK Set).")
    var talos = "http://127.0.0.1:4420"

    @Option(help: "Where to follow the revocation feed (default: --talos).")
    var feed: String?

    @Option(help: "The issuer of derived JWTs to verify locally (Talos's credentials.issuer).")
    var issuer: [String] = []

    @Option(help: "Seconds a verified API key is trusted without asking Talos.")
    var cacheTTL = 60

    @Option(help: "Forward the caller's address to Talos in this header (Talos's client_ip_source), e.g. X-Real-IP.")
    var clientAddressHeader: String?

    @Option(help: "Talos admin key, for a Talos with admin authentication on (default: TALOS_ADMIN_KEY).")
    var adminKey: String?

    @Flag(help: "Do not follow the revocation feed: cached keys stay trusted for --cache-ttl.")
    var noRevocationFeed = false

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    func run() async throws {
        // Metrics first: the authenticator makes its metric handles when it is created.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var settings = TalosAuthConfiguration(endpoint: talos, issuers: Set(issuer))
        settings.feedEndpoint = feed
        settings.followsRevocations = !noRevocationFeed
        settings.cacheTTL = .seconds(cacheTTL)
        settings.clientAddressHeader = clientAddressHeader
        settings.adminKey = adminKey ?? ProcessInfo.processInfo.environment["TALOS_ADMIN_KEY"]
        let talos = try TalosAuthenticator(configuration: settings)

        let router = Router(context: ServiceContext.self)
        router.get("health") { _, _ in "ok" }
        router.get("talos-auth") { _, _ in Counters(talos.statistics) }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        bytes: TalosMetrics.addingHelp(to: registry.emitToBuffer(), help: TalosAuthenticator.metricHelp)
                    )
                )
            )
        }
        let api = router.group("v1").add(middleware: talos.middleware())
        api.get("whoami") { _, context in Caller(try context.requireIdentity()) }
        api.group("orders").requireScopes("read:*").get { _, context in
            Orders(owner: try context.requireIdentity().actorID, orders: [])
        }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port)),
            services: [talos],
            logger: Logger(label: "example-service")
        )
        try await app.runService()
    }
}

/// A request context carrying the caller's identity and TCP peer (derived JWTs bound to CIDRs need the peer).
struct ServiceContext: AuthRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: TalosIdentity?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}

struct Caller: ResponseEncodable {
    let key_id: String
    let actor_id: String
    let scopes: [String]
    let verified_by: String

    init(_ identity: TalosIdentity) {
        key_id = identity.keyID
        actor_id = identity.actorID
        scopes = identity.scopes
        verified_by = "\(identity.verifiedBy)"
    }
}

struct Orders: ResponseEncodable {
    let owner: String
    let orders: [String]
}

struct Counters: ResponseEncodable {
    let feed_connected: Bool
    let cached_identities: Int
    let cache_hits: Int
    let talos_verifications: Int
    let local_jwt_verifications: Int
    let feed_connections: Int
    let revocations: Int
    let evictions: Int

    init(_ statistics: TalosAuthStatistics) {
        feed_connected = statistics.feedConnected
        cached_identities = statistics.cachedIdentities
        cache_hits = statistics.cacheHits
        talos_verifications = statistics.talosVerifications
        local_jwt_verifications = statistics.localJWTVerifications
        feed_connections = statistics.feedConnections
        revocations = statistics.revocations
        evictions = statistics.evictions
    }
}
