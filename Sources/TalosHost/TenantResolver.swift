import HTTPTypes
import Hummingbird
import TalosCore

/// Which tenant a request belongs to (spec §9.2): the nil UUID without multi-tenancy; otherwise the network whose
/// hostname is the request's host, port ignored, case-insensitive. The host is the request's authority (an
/// absolute-form target's, else the one `Host` field: `ConnectionGuard` refuses requests with none or several);
/// `X-Forwarded-Host` replaces it only with `serve.http.trust_forwarded_host` and from a TCP peer inside a non-empty
/// `serve.http.trusted_proxies`, and then its right-most value wins, the one the nearest proxy wrote (§16.12).
struct TenantResolver: Sendable {
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    /// HTTP/1's one `Host` becomes the request's authority; a `Host` field is read where it stayed a field (in-process
    /// tests).
    static let host = HTTPField.Name("Host")!

    let enabled: Bool
    let trustForwardedHost: Bool
    /// Where `trusted_proxies` comes from (hot-reloadable).
    let httpSettings: SettingsStore<HTTPSettings>
    /// Lower-cased hostname → network id.
    let networks: [String: String]

    init(config: TalosConfig, httpSettings: SettingsStore<HTTPSettings>) {
        enabled = config.multitenancyEnabled
        trustForwardedHost = config.trustForwardedHost
        self.httpSettings = httpSettings
        networks = Dictionary(
            config.networks.map { ($0.hostname.lowercased(), $0.id) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The tenant's id.
    /// - Parameter peer: the TCP peer's address.
    /// - Throws: 404 `NETWORK_NOT_FOUND` when no network has the request's host.
    func tenant(of request: Request, peer: String?) throws(TalosError) -> String {
        guard enabled else { return UUIDText.nilUUID }
        var forwarded: String?
        if trustForwardedHost, httpSettings.current.clientIP.trustsForwarding(from: peer.flatMap { IPAddress($0) }) {
            forwarded = request.headers[values: Self.forwardedHost].flatMap { $0.split(separator: ",") }.last
                .map(String.init)
        }
        let host = Self.hostname(forwarded ?? Self.requestHost(request))
        guard let nid = networks[host] else {
            throw TalosError(.networkNotFound, "no network configured for host \"\(host)\"")
        }
        return nid
    }

    /// The host a request names, as sent (port included): its one `Host` (`ConnectionGuard` refuses none or several
    /// and folds an absolute-form target into it), read as a field where it stayed one (in-process tests).
    static func requestHost(_ request: Request) -> String {
        request.headers[host] ?? request.head.authority ?? ""
    }

    /// A host without its port, lower-cased.
    static func hostname(_ value: String) -> String {
        var host = Substring(value.trimmingSpaces)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host.lowercased()
    }
}
