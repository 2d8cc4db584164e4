public import Hummingbird
import NIOCore
import TalosCore

/// The per-request context: Hummingbird's core storage, the TCP peer, and what the pipeline learns on the way in.
public struct TalosRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's IP address, when the channel has one.
    public let remoteIP: String?
    /// The request id (`X-Request-ID` or a new one), set by `RequestIDMiddleware`.
    var requestID = ""
    /// What the path and method resolved to, set before the middleware chain runs.
    var resolution = RouteTable.Resolution.failure(.notFound)
    /// The tenant (spec §9.2) of a route that has one, resolved with the route so that logs can name it; the
    /// default tenant for tenantless routes.
    var tenant = Result<String, TalosError>.success(UUIDText.nilUUID)
    /// Where admin authentication leaves the admin key for the request log; made by `AccessLogMiddleware` only for
    /// admin routes while admin authentication is on, so no other request allocates it.
    var adminKeyNote: AdminKeyNote?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// The route template for logs and metrics (never the raw path), `unmatched` when none matched.
    var routeTemplate: String {
        if case .route(let route, _) = resolution { return route.pattern.template }
        return "unmatched"
    }
}
