import TalosCore

/// The hot-reloadable settings of the HTTP layer (spec §9.1, §15.8), read by every request when it starts.
struct HTTPSettings: Sendable {
    let clientIP: ClientIPResolver
    let excludeHealthFromLog: Bool

    init(config: TalosConfig) {
        clientIP = ClientIPResolver(source: config.clientIPSource, trustedProxies: config.trustedProxies)
        excludeHealthFromLog = config.excludeHealthFromRequestLog
    }
}
