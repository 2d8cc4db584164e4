/// Who the client of a request is, per `serve.http.client_ip_source` and `serve.http.trusted_proxies`
/// (spec §5.6 as amended by §15.2).
public struct ClientIPResolver: Sendable, Hashable {
    /// Where the address comes from.
    public var source: ClientIPSource
    /// Proxies whose headers are believed; empty = the nearest hop's header is believed.
    public var trustedProxies: [CIDR]

    /// A resolver reading `source` and believing headers only from `trustedProxies`; the defaults use the TCP peer.
    public init(source: ClientIPSource = .unspecified, trustedProxies: [CIDR] = []) {
        self.source = source
        self.trustedProxies = trustedProxies
    }

    /// The client address; `nil` when the configured header is missing or holds something unparsable.
    ///
    /// - Parameters:
    ///   - peer: the TCP peer address.
    ///   - headers: every value of a header field, in the order received.
    /// With `X_FORWARDED_FOR`, all `X-Forwarded-For` fields form one list and the client is the right-most entry
    /// outside `trustedProxies` (the address the nearest untrusted hop connected from), so that a client cannot
    /// choose its own address by sending the header to an appending proxy. When `trustedProxies` is set and the
    /// peer is outside it, no header is believed.
    public func resolve(peer: IPAddress?, headers: (String) -> [String]) -> IPAddress? {
        if !trustedProxies.isEmpty {
            guard let peer else { return nil }
            guard isTrusted(peer) else { return peer }
        }
        func single(_ name: String) -> IPAddress? { headers(name).first.flatMap { IPAddress($0.trimmingSpaces) } }
        switch source {
        case .unspecified, .remoteAddr: return peer
        case .cfConnectingIP: return single("CF-Connecting-IP")
        case .xRealIP: return single("X-Real-IP")
        case .trueClientIP: return single("True-Client-IP")
        case .xForwardedFor:
            let hops = headers("X-Forwarded-For").flatMap { $0.split(separator: ",") }
            var nearest: IPAddress?
            for hop in hops.reversed() {
                guard let address = IPAddress(String(hop).trimmingSpaces) else { return nil }
                guard isTrusted(address) else { return address }
                nearest = address
            }
            return nearest  // every hop is a trusted proxy: the farthest one
        }
    }

    /// Whether a header-carried value (such as `X-Forwarded-Host`) from this TCP peer is believed: only when
    /// `trustedProxies` is non-empty and holds the peer (spec §16.12; an empty list trusts no peer here).
    public func trustsForwarding(from peer: IPAddress?) -> Bool {
        guard let peer, !trustedProxies.isEmpty else { return false }
        return isTrusted(peer)
    }

    private func isTrusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }
}
