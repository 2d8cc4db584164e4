import ArgumentParser
import CoreMetrics
import Logging
import Prometheus
import ServiceLifecycle
import TalosCore
import TalosEdge
import TalosHost
import TalosPlugins
import UnixSignals

/// `talos proxy --upstream URL`: the edge node (docs/edge.md).
struct Proxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an edge node: forward to a Talos server, cache valid verify answers, evict on revocation."
    )

    @Option(help: "The upstream Talos admin API, e.g. http://talos:4420.")
    var upstream: String

    @Option(help: "Where to listen (host:port).")
    var listen = "127.0.0.1:4430"

    @Option(help: "Where to serve /metrics (host:port).")
    var metricsListen = "127.0.0.1:4431"

    @Option(help: "How long a valid verify answer is reused (at most until the key expires), e.g. 60s.")
    var cacheTTL = "60s"

    @Option(help: "The cache's size in bytes.")
    var cacheMaxSize = 64 << 20

    @Option(help: "Comma-separated hosts to serve (port ignored); default any.")
    var allowedHosts: String?

    @Flag(help: "Take the host from X-Forwarded-Host (only behind a proxy that sets it).")
    var trustXForwardedHost = false

    @Option(help: "A file holding the edge's admin key (keys.verify and revocations.watch), for the revocation feed.")
    var adminKeyFile: String?

    @Option(help: "Log level: debug, info, warn or error.")
    var logLevel = "info"

    func validate() throws {
        guard upstream.hasPrefix("http://") || upstream.hasPrefix("https://") else {
            throw ValidationError("--upstream: an http:// or https:// URL")
        }
        guard Self.hostPort(listen) != nil else { throw ValidationError("--listen: host:port") }
        guard Self.hostPort(metricsListen) != nil else { throw ValidationError("--metrics-listen: host:port") }
        guard let ttl = DurationText.parseConfig(cacheTTL), ttl >= 0 else {
            throw ValidationError("--cache-ttl: a duration such as 60s")
        }
        guard cacheMaxSize >= 1 << 16 else { throw ValidationError("--cache-max-size: at least 65536 bytes") }
    }

    func run() async throws {
        var options = EdgeOptions(upstream: upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream)
        (options.listenHost, options.listenPort) = Self.hostPort(listen)!
        (options.metricsHost, options.metricsPort) = Self.hostPort(metricsListen)!
        options.cacheTTL = .nanoseconds(DurationText.parseConfig(cacheTTL) ?? 0)
        options.cacheMaxBytes = cacheMaxSize
        options.allowedHosts = (allowedHosts ?? "").split(separator: ",").map { String($0).trimmingSpaces.lowercased() }
            .filter { !$0.isEmpty }
        options.trustForwardedHost = trustXForwardedHost
        if let adminKeyFile {
            guard let text = readWholeFile(adminKeyFile).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw CommandFailure.failed("Error: --admin-key-file: cannot read \(adminKeyFile)")
            }
            options.adminKey = text.trimmingSpaces
        }
        let handler = TalosLogHandler(format: .json, level: TalosLogHandler.level(named: logLevel))
        let logger = Logger(label: "talos-proxy") { _ in handler }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        TalosMetrics.buildInfo()  // so that dashboards list the edge among Talos's processes
        let crypto = try BackendRegistry.builtIn.cryptoProvider(named: "openssl").make()
        let services = EdgeNode.services(options, crypto: crypto, metrics: { registry.emitToBuffer() }, logger: logger)
        logger.info(
            "talos proxy starting",
            metadata: [
                "upstream": "\(options.upstream)", "listen": "\(listen)", "metrics": "\(metricsListen)",
                "cache_ttl": "\(cacheTTL)", "feed_admin_key": "\(options.adminKey == nil ? "none" : "set")",
            ]
        )
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        try await ServiceGroup(configuration: configuration).run()
        logger.info("talos proxy stopped")
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon]).trimmingCharacters(in: "[]")
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
