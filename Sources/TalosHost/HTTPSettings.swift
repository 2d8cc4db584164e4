import TalosCore

/// The hot-reloadable settings of the HTTP layer (spec §9.1, §15.8), read by every request when it starts.
struct HTTPSettings: Sendable {
    let clientIP: ClientIPResolver
    let excludeHealthFromLog: Bool
    let cors: CORSPolicy
    /// `serve.http.allowed_hosts` plus every tenancy hostname; empty = any host.
    let allowedHosts: Set<String>
    /// `serve.admin.auth.enabled` (spec §16.3).
    let adminAuthEnabled: Bool

    init(config: TalosConfig) {
        cors = config.cors
        allowedHosts =
            config.allowedHosts.isEmpty
            ? [] : Set(config.allowedHosts + config.networks.map { $0.hostname.lowercased() })
        clientIP = ClientIPResolver(source: config.clientIPSource, trustedProxies: config.trustedProxies)
        excludeHealthFromLog = config.excludeHealthFromRequestLog
        adminAuthEnabled = config.adminAuthEnabled
    }
}
