import HTTPTypes
import TalosCore

/// A request the route table cannot serve: the envelope to answer with and, for the transport exceptions of
/// spec §2.5, the HTTP status that overrides the envelope's.
struct RoutingFailure: Error, Sendable {
    let error: TalosError
    let httpOverride: HTTPResponse.Status?
    /// The methods the path does serve, for the `Allow` header of a 405.
    var allow: [HTTPRequest.Method] = []

    static let notFound = RoutingFailure(error: TalosError(.notFound, "route not found"), httpOverride: nil)
    static func methodNotAllowed(allow: [HTTPRequest.Method]) -> RoutingFailure {
        RoutingFailure(
            error: TalosError(.methodNotAllowed, "method not allowed"),
            httpOverride: .methodNotAllowed,
            allow: allow
        )
    }
    static let notInThisMode = RoutingFailure(
        error: TalosError(.unimplemented, "method not available in this server mode"),
        httpOverride: nil
    )

    static func bodyTooLarge(_ limit: Int) -> RoutingFailure {
        RoutingFailure(
            error: TalosError(.requestTooLarge, "request body exceeds \(limit) bytes"),
            httpOverride: .contentTooLarge
        )
    }
}

/// A client over its request budget (spec §15.5): 429 `RATE_LIMITED` with `Retry-After`.
struct RateLimited: Error, Sendable {
    let retryAfter: Duration

    /// Whole seconds, rounded up, at least 1.
    var retryAfterSeconds: Int64 {
        let (seconds, attoseconds) = retryAfter.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
