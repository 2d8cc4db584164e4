import Foundation
import Logging
import NIOSSL
import PostgresNIO
public import TalosCore

extension StorageBackend {
    /// PostgreSQL through postgres-nio: `postgres://user:password@host:port/database?sslmode=…&pool_max_conns=…`.
    public static let postgres = StorageBackend(name: "postgres", schemes: ["postgres", "postgresql"]) { dsn, logger in
        let configuration = try PostgresDSN.parse(dsn, logger: logger)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let database = PostgresDatabase(client: client, logger: logger)
        return StorageHandle(
            storage: PostgresKeyStorage(database: database),
            migrator: MigrationRunner(PostgresMigrationDialect(database: database)),
            migratesAutomatically: false,
            services: [client, PostgresRateLimiter.Sweeper(database: database)],
            invalidationFeed: PostgresInvalidationFeed(client: client, logger: logger),
            rateLimiter: PostgresRateLimiter(database: database)
        )
    }
}

/// DSN parsing (spec §9.2): pool parameters are consumed here and never sent to the server.
enum PostgresDSN {
    static func parse(_ dsn: String, logger: Logger) throws(ConfigError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: dsn), let host = components.host, !host.isEmpty else {
            throw ConfigError("db.dsn: expected postgres://user:password@host:port/database")
        }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var database = String(components.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = user }
        var options = PostgresClient.Configuration.Options()
        var tls = PostgresClient.Configuration.TLS.prefer(.makeClientConfiguration())
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            func int() throws(ConfigError) -> Int {
                guard let number = Int(value), number >= 0 else {
                    throw ConfigError("db.dsn: \(item.name) must be a non-negative integer")
                }
                return number
            }
            func duration() throws(ConfigError) -> Duration {
                guard let nanos = DurationText.parseConfig(value) else {
                    throw ConfigError("db.dsn: \(item.name) must be a duration such as 5m")
                }
                return .nanoseconds(nanos)
            }
            switch item.name {
            case "max_conns", "pool_max_conns": options.maximumConnections = max(1, try int())
            case "pool_min_conns", "max_idle_conns": options.minimumConnections = try int()
            case "max_conn_idle_time", "pool_max_conn_idle_time": options.connectionIdleTimeout = try duration()
            case "max_conn_lifetime", "pool_max_conn_lifetime":
                _ = try duration()
                logger.debug(
                    "db.dsn: connection lifetime is not enforced by this driver",
                    metadata: ["parameter": "\(item.name)"]
                )
            case "sslmode":
                switch value {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
                case "require":
                    var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                    tlsConfiguration.certificateVerification = .none
                    tls = .require(tlsConfiguration)
                case "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
                default: throw ConfigError("db.dsn: unsupported sslmode \"\(value)\"")
                }
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw ConfigError("db.dsn: connect_timeout must be seconds")
                }
                options.connectTimeout = .seconds(seconds)
            default:
                logger.warning("db.dsn: ignoring unknown parameter", metadata: ["parameter": "\(item.name)"])
            }
        }
        options.minimumConnections = min(options.minimumConnections, options.maximumConnections)
        // Prepared lookups are planned per execution: a generic plan cached while the table was small (a fresh
        // deployment) can stay a sequential scan until the next ANALYZE; a primary-key lookup plans in microseconds.
        options.additionalStartupParameters.append(("plan_cache_mode", "force_custom_plan"))
        // Server-side bounds, so a blocked statement or lock wait ends (57014/55P03) instead of holding a request
        // past the client deadline.
        options.additionalStartupParameters += [
            ("statement_timeout", "4500"), ("lock_timeout", "4000"), ("idle_in_transaction_session_timeout", "30000"),
        ]
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options = options
        return configuration
    }
}
