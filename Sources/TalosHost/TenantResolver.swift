import HTTPTypes
import Hummingbird
import TalosCore

/// Which tenant a request belongs to (spec §9.2): the nil UUID without multi-tenancy; otherwise the network whose
/// hostname is the request's `Host` (or `X-Forwarded-Host` with `serve.http.trust_forwarded_host`), port ignored,
/// case-insensitive.
struct TenantResolver: Sendable {
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    /// HTTP/1's `Host` becomes the request's authority; a `Host` field is read where it stayed a field.
    static let host = HTTPField.Name("Host")!

    let enabled: Bool
    let trustForwardedHost: Bool
    /// Lower-cased hostname → network id.
    let networks: [String: String]

    init(config: TalosConfig) {
        enabled = config.multitenancyEnabled
        trustForwardedHost = config.trustForwardedHost
        networks = Dictionary(
            config.networks.map { ($0.hostname.lowercased(), $0.id) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The tenant's id.
    /// - Throws: 404 `NETWORK_NOT_FOUND` when no network has the request's host.
    func tenant(of request: Request) throws(TalosError) -> String {
        guard enabled else { return UUIDText.nilUUID }
        let forwarded = trustForwardedHost ? request.headers[Self.forwardedHost] : nil
        let host = Self.hostname(forwarded ?? request.headers[Self.host] ?? request.head.authority ?? "")
        guard let nid = networks[host] else {
            throw TalosError(.networkNotFound, "no network configured for host \"\(host)\"")
        }
        return nid
    }

    /// `Host` without its port, lower-cased; the first of a comma-separated forwarded list.
    static func hostname(_ value: String) -> String {
        var host = (value.split(separator: ",").first ?? "")[...]
        host = Substring(String(host).trimmingSpaces)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host.lowercased()
    }
}
