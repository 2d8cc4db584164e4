import HTTPTypes
import TalosCore

/// A request refused before its operation runs (the route table, the body limit, a request budget): the envelope
/// to answer with, for the transport exceptions of spec §2.5 the HTTP status that overrides the envelope's, and the
/// header fields the answer carries (`Allow`, `Retry-After`).
struct RoutingFailure: Error, Sendable {
    let error: TalosError
    let httpOverride: HTTPResponse.Status?
    var headers: HTTPFields = [:]

    static let notFound = RoutingFailure(error: TalosError(.notFound, "route not found"), httpOverride: nil)
    static func methodNotAllowed(allow: [HTTPRequest.Method]) -> RoutingFailure {
        RoutingFailure(
            error: TalosError(.methodNotAllowed, "method not allowed"),
            httpOverride: .methodNotAllowed,
            headers: [.allow: allow.map(\.rawValue).joined(separator: ", ")]
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

    /// A client over its request budget (spec §15.5): 429 `RATE_LIMITED` with `Retry-After` in whole seconds, rounded
    /// up, at least 1.
    static func rateLimited(retryAfter: Duration) -> RoutingFailure {
        let (seconds, attoseconds) = retryAfter.components
        return RoutingFailure(
            error: TalosError(.rateLimited, "too many requests"),
            httpOverride: nil,
            headers: [.retryAfter: "\(max(1, seconds + (attoseconds > 0 ? 1 : 0)))"]
        )
    }
}
