import TalosCore

/// The hot-reloadable settings of the HTTP layer (spec §9.1, §15.8), read by every request when it starts.
struct HTTPSettings: Sendable {
    let clientIP: ClientIPResolver
    let excludeHealthFromLog: Bool
    let cors: CORSPolicy

    init(config: TalosConfig) {
        cors = config.cors
        clientIP = ClientIPResolver(source: config.clientIPSource, trustedProxies: config.trustedProxies)
        excludeHealthFromLog = config.excludeHealthFromRequestLog
    }
}
