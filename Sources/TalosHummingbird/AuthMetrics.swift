import CoreMetrics

/// The authenticator's metrics, through swift-metrics: the application bootstraps a backend (e.g. swift-prometheus)
/// before it creates the `TalosAuthenticator`, whose handles are made once, at creation. Labels are closed sets.
///
/// - `talos_auth_verifications_total{via="cache|talos|jwks",result="valid|invalid|rate_limited|unavailable"}`
/// - `talos_auth_cache_entries`, `talos_auth_revocation_feed_connected` (gauges)
/// - `talos_auth_revocation_feed_connections_total`, `…_evictions_total`, `…_resets_total`
/// - `talos_auth_jwks_reads_total{result="success|failure"}`
struct AuthMetrics: Sendable {
    /// One line of help per family, for an exposition's `# HELP` lines (`TalosMetrics.addingHelp(to:help:)`).
    static let help: [String: String] = [
        "talos_auth_verifications_total": "Credentials checked, by how (cache, talos, jwks) and result.",
        "talos_auth_cache_entries": "Verified API-key identities in the cache.",
        "talos_auth_revocation_feed_connected": "1 while the revocation feed is connected (the cache is trusted).",
        "talos_auth_revocation_feed_connections_total": "Subscriptions to the revocation feed.",
        "talos_auth_revocation_feed_evictions_total": "Cached identities dropped for a revocation.",
        "talos_auth_revocation_feed_resets_total": "Reset events received (the cache was emptied).",
        "talos_auth_jwks_reads_total": "Reads of Talos's JWK Set, by result.",
    ]

    private let verifications: [String: Counter]
    let cacheEntries = Gauge(label: "talos_auth_cache_entries")
    let feedConnected = Gauge(label: "talos_auth_revocation_feed_connected")
    let feedConnections = Counter(label: "talos_auth_revocation_feed_connections_total")
    let evictions = Counter(label: "talos_auth_revocation_feed_evictions_total")
    let resets = Counter(label: "talos_auth_revocation_feed_resets_total")
    let jwksReads = Counter(label: "talos_auth_jwks_reads_total", dimensions: [("result", "success")])
    let jwksReadFailures = Counter(label: "talos_auth_jwks_reads_total", dimensions: [("result", "failure")])

    init() {
        var verifications: [String: Counter] = [:]
        for via in ["cache", "talos", "jwks"] {
            for result in ["valid", "invalid", "rate_limited", "unavailable"] {
                verifications["\(via) \(result)"] = Counter(
                    label: "talos_auth_verifications_total",
                    dimensions: [("via", via), ("result", result)]
                )
            }
        }
        self.verifications = verifications
        feedConnected.record(0)
        cacheEntries.record(0)
    }

    /// Counts one verification that ended in `identity` or in `error`.
    func verification(via: TalosIdentity.Verification, error: TalosAuthError?) {
        let result: String
        switch error?.reason {
        case nil: result = "valid"
        case .rateLimited: result = "rate_limited"
        case .serviceUnavailable: result = "unavailable"
        case .credentialInvalid, .credentialRequired, .scopeRequired: result = "invalid"
        }
        verifications["\(via) \(result)"]?.increment()
    }
}
