import AsyncHTTPClient
import CoreMetrics
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
public import TalosCore

/// What `talos proxy` is told (docs/edge.md).
public struct EdgeOptions: Sendable {
    /// The upstream Talos, e.g. `http://talos:4420` (no trailing `/`).
    public var upstream: String
    public var listenHost = "127.0.0.1"
    public var listenPort = 4430
    public var metricsHost = "127.0.0.1"
    public var metricsPort = 4431
    /// The longest a valid answer is reused.
    public var cacheTTL: Duration = .seconds(60)
    /// The cache's byte budget.
    public var cacheMaxBytes = 64 << 20
    /// Hosts served (port ignored, lower case); empty: any.
    public var allowedHosts: [String] = []
    /// Take the host from `X-Forwarded-Host` (right-most value) when present.
    public var trustForwardedHost = false
    /// The edge's own admin key, for following the upstream's revocation feed.
    public var adminKey: String?

    /// The options of an edge node in front of `upstream`.
    public init(upstream: String) { self.upstream = upstream }
}

/// The edge node: every request forwarded to the upstream Talos; valid verify answers cached near the caller and
/// evicted within a second of a revocation on any upstream replica (it follows the upstream's revocation feed, and
/// caches nothing while that feed is down).
public enum EdgeNode {
    static let verifyPath = "/v2alpha1/admin/apiKeys:verify"
    static let maxBody = 1 << 20

    /// The edge's services: the proxy listener, its metrics listener and the feed follower, sharing one HTTP client
    /// (shut down last).
    public static func services(
        _ options: EdgeOptions,
        crypto: any CryptoBackend,
        metrics: @escaping @Sendable () -> [UInt8],
        logger: Logger
    ) -> [any Service] {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        // One feed per tenant host served (with multi-tenancy upstream, each host's tenant has its own feed); without
        // an allowlist, the upstream's own tenant.
        let feedHosts: [String?] = options.allowedHosts.isEmpty ? [nil] : options.allowedHosts
        let cache = EdgeCache(maxBytes: options.cacheMaxBytes, crypto: crypto, feeds: feedHosts.count)
        let responder = EdgeResponder(options: options, client: client, cache: cache, logger: logger)
        let proxy = Application(
            responder: responder,
            configuration: .init(address: .hostname(options.listenHost, port: options.listenPort), serverName: nil),
            logger: logger
        )
        let metricsListener = Application(
            responder: EdgeMetricsResponder(render: metrics, responder: responder),
            configuration: .init(address: .hostname(options.metricsHost, port: options.metricsPort), serverName: nil),
            logger: logger
        )
        let followers: [any Service] = feedHosts.map {
            EdgeFeedFollower(options: options, client: client, cache: cache, host: $0, logger: logger)
        }
        return [ClientLifetime(client: client)] + followers + [metricsListener, proxy]
    }
}

/// Keeps the shared HTTP client until everything started after it has stopped.
struct ClientLifetime: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try? await client.shutdown()
    }
}

extension ClientLifetime: RedactedDescription {}

/// The `talos_proxy_*` metrics.
enum EdgeMetrics {
    static let hits = Counter(label: "talos_proxy_requests_total", dimensions: [("cache", "hit")])
    static let misses = Counter(label: "talos_proxy_requests_total", dimensions: [("cache", "miss")])
    static let bypassed = Counter(label: "talos_proxy_requests_total", dimensions: [("cache", "bypass")])
    static let forwarded = Counter(label: "talos_proxy_requests_total", dimensions: [("cache", "none")])
    static let upstreamErrors = Counter(label: "talos_proxy_upstream_errors_total")
    static let evictions = Counter(label: "talos_proxy_cache_evictions_total")
    static let feedUp = Gauge(label: "talos_proxy_feed_up")
    static let entries = Gauge(label: "talos_proxy_cache_entries")
    static let bytes = Gauge(label: "talos_proxy_cache_bytes")
}
