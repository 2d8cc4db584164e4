import CoreMetrics
import Hummingbird
import Logging
import OTel
import Prometheus
import ServiceLifecycle
import TalosCore
import TalosHost
import TalosPlugins
import UnixSignals

#if canImport(Glibc)
import Glibc

private typealias FileStatus = Glibc.stat
#elseif canImport(Darwin)
import Darwin

private typealias FileStatus = Darwin.stat
#endif

/// Loads configuration, builds the application and runs it until SIGTERM/SIGINT (drain ≤ 30 s, spec §10.2).
struct ServerRunner {
    let options: ServeOptions
    let mode: ServerMode

    func run() async throws {
        let loaded: TalosConfig.LoadResult
        var config: TalosConfig
        do {
            loaded = try loadConfig(path: options.config)
            config = loaded.config
        } catch let error as ConfigError {
            throw CommandFailure.failed("Error: \(error)")
        }
        let logger = makeLogger(config)
        for name in loaded.ignoredEnvironment {
            logger.warning("ignoring unknown environment variable", metadata: ["variable": "\(name)"])
        }
        for warning in loaded.warnings { logger.warning("configuration", metadata: ["problem": "\(warning)"]) }
        if options.dev { try applyDevelopmentDefaults(&config, logger: logger) }
        let app: any ApplicationProtocol
        do {
            let development = options.dev ? config : nil
            let reloadSource = options.config.map { path in
                ConfigReloadSource(
                    path: path,
                    adjust: { reloaded in
                        // Development defaults (generated secret, localhost issuer, loopback hosts) survive reloads.
                        guard let development else { return reloaded }
                        var adjusted = reloaded
                        adjusted.hmacSecret = reloaded.hmacSecret ?? development.hmacSecret
                        adjusted.issuer = reloaded.issuer ?? development.issuer
                        if reloaded.sourceValues["serve.http.allowed_hosts"] == nil {
                            adjusted.allowedHosts = development.allowedHosts
                        }
                        return adjusted
                    },
                    load: { try loadConfig(path: path) }
                )
            }
            // The one place the metrics backend is chosen (spec §11.1): swift-metrics → Prometheus.
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.valueHistogramBuckets = TalosMetrics.valueHistogramBuckets
            MetricsSystem.bootstrap(factory)
            app = try await buildApplication(
                config: config,
                registry: .builtIn,
                mode: mode,
                logger: logger,
                migrate: options.migrate,
                reloadSource: reloadSource,
                metrics: MetricsExposition { TalosMetrics.addingHelp(to: registry.emitToBuffer()) }
            )
        } catch let error as ConfigError {
            throw CommandFailure.failed("Error: \(error)")
        } catch let error as StorageError {
            throw CommandFailure.failed("Error: \(error.detail)")
        } catch let error as CryptoError {
            throw CommandFailure.failed("Error: \(error)")
        }
        // Named services: service-lifecycle logs each service's name, by default its whole description (§16.11).
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: app, serviceName: "talos")]
        if config.tracingEnabled {
            // Tracing (spec §11.3) is bootstrapped here only: OTLP/HTTP export, parent-based ratio sampling.
            let tracing = try bootstrapTracing(config, logger: logger)
            services.insert(.init(service: tracing, serviceName: "otel"), at: 0)
        }
        var configuration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch let error as StorageError {
            throw CommandFailure.failed("Error: \(error.detail)")
        }
        logger.info("talos stopped")
    }

    /// OpenTelemetry traces to `tracing.endpoint` over OTLP/HTTP (`http(s)://host:port`; the `/v1/traces` path is
    /// added when absent). A bare `host:port` means OTLP/gRPC, which this build does not include.
    private func bootstrapTracing(_ config: TalosConfig, logger: Logger) throws -> any Service {
        guard var endpoint = config.tracingEndpoint, endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")
        else {
            throw CommandFailure.failed(
                "Error: config: tracing.endpoint: OTLP/gRPC (host:port) is not built in; use OTLP/HTTP, e.g. "
                    + "http://otel-collector:4318"
            )
        }
        if !endpoint.hasSuffix("/v1/traces") {
            endpoint += endpoint.hasSuffix("/") ? "v1/traces" : "/v1/traces"
        }
        var otel = OTel.Configuration.default
        otel.serviceName = config.tracingServiceName
        otel.resourceAttributes = [
            "service.version": config.tracingServiceVersion, "deployment.environment": config.tracingEnvironment,
        ]
        otel.diagnosticLogger = .custom(logger)
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = endpoint
        otel.traces.otlpExporter.protocol = .httpProtobuf
        otel.traces.batchSpanProcessor.scheduleDelay = .milliseconds(500)
        otel.traces.sampler = .parentBasedTraceIDRatio(ratio: config.tracingSampleRate) ?? .parentBasedAlwaysOff
        do {
            return try OTel.bootstrap(configuration: otel, environment: [:])
        } catch {
            throw CommandFailure.failed("Error: tracing: \(error)")
        }
    }

    private func makeLogger(_ config: TalosConfig) -> Logger {
        let handler = TalosLogHandler(
            format: TalosLogHandler.Format(rawValue: config.logFormat) ?? .json,
            level: TalosLogHandler.level(named: config.logLevel)
        )
        return Logger(label: "talos") { _ in handler }
    }

    /// `--dev` (spec §10.2): a random secret kept in `<sqlite file>.dev-secret` (0600) and a localhost issuer.
    /// `serve.http.allowed_hosts` under `--dev`: a page that rebinds its name to 127.0.0.1 gets 421.
    static let loopbackHosts = ["localhost", "127.0.0.1", "::1"]

    private func applyDevelopmentDefaults(_ config: inout TalosConfig, logger: Logger) throws {
        let dsn = config.databaseDSN
        guard dsn.hasPrefix("sqlite://") || dsn.hasPrefix("sqlite3://") else {
            throw CommandFailure.failed("Error: --dev is only for SQLite; db.dsn is not a sqlite:// DSN")
        }
        let port = config.httpPort ?? (mode == .public ? 4421 : 4420)
        if config.issuer == nil { config.issuer = "http://localhost:\(port)" }
        // The laptop only (spec §16.2): loopback, and only loopback names, unless configured otherwise.
        if config.sourceValues["serve.http.host"] == nil { config.httpHost = "127.0.0.1" }
        if config.sourceValues["serve.metrics.host"] == nil { config.metricsHost = "127.0.0.1" }
        if config.sourceValues["serve.http.allowed_hosts"] == nil { config.allowedHosts = Self.loopbackHosts }
        logger.warning("development mode: generated secrets, not for production")
        guard config.hmacSecret == nil else { return }
        var path = String(dsn[dsn.firstRange(of: "://")!.upperBound...])
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        guard path != ":memory:" else {
            config.hmacSecret = Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
            return
        }
        let secretPath = path + ".dev-secret"
        if let existing = try readDevelopmentSecret(secretPath) {
            let secret = String(decoding: existing, as: UTF8.self).trimmingSpaces
            guard secret.count >= 32 else {
                throw CommandFailure.failed(
                    "Error: \(secretPath) holds fewer than 32 characters; delete it to regenerate"
                )
            }
            config.hmacSecret = secret
            return
        }
        let provider = try BackendRegistry.builtIn.cryptoProvider(named: config.cryptoBackend)
        let secret = Hex.encode(try provider.make().randomBytes(32))
        let descriptor = open(secretPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw CommandFailure.failed("Error: cannot create \(secretPath)") }
        defer { close(descriptor) }
        var bytes = Array((secret + "\n").utf8)
        guard bytes.withUnsafeMutableBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw CommandFailure.failed("Error: cannot write \(secretPath)")
        }
        logger.info("created development secret", metadata: ["path": "\(secretPath)"])
        config.hmacSecret = secret
    }

    /// The development secret file's bytes; `nil` when there is none.
    /// - Throws: when it is not a regular file (a symbolic link included) owned by the current user with mode 0600:
    ///   a secret another user could have written or can read is not one to sign with (spec §16.16).
    private func readDevelopmentSecret(_ path: String) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw CommandFailure.failed(
                "Error: cannot open \(path) (\(String(cString: strerror(errno)))); it must be a regular file owned "
                    + "by the current user with mode 0600, or absent to generate one"
            )
        }
        defer { close(descriptor) }
        var info = FileStatus()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw CommandFailure.failed("Error: \(path) is not a regular file; delete it to regenerate")
        }
        guard info.st_uid == getuid() else {
            throw CommandFailure.failed(
                "Error: \(path) is owned by uid \(info.st_uid), not by the current user (uid \(getuid())); delete it "
                    + "to regenerate"
            )
        }
        guard info.st_mode & 0o7777 == 0o600 else {
            throw CommandFailure.failed(
                "Error: \(path) has mode \(String(info.st_mode & 0o7777, radix: 8)), not 0600; chmod 600 it or "
                    + "delete it to regenerate"
            )
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw CommandFailure.failed("Error: cannot read \(path)") }
            if count == 0 { return contents }
            contents += chunk[0..<count]
        }
    }
}
