import HTTPTypes
import Hummingbird
import TalosCore

/// Cross-origin protection (spec §16.1, after Go's `net/http.CrossOriginProtection`): a state-changing request
/// (any method but GET, HEAD and OPTIONS) that a browser sent from another origin is refused with 403
/// `CROSS_ORIGIN_REQUEST`. A browser says so in `Sec-Fetch-Site` (neither `same-origin` nor `none`), or, when it
/// predates that header, in an `Origin` whose host and port differ from `Host`. An origin allowed by an enabled CORS
/// policy is exempt. Requests with neither header (curl, SDKs, servers) pass whatever their `Content-Type`.
struct CrossOriginMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    let httpSettings: SettingsStore<HTTPSettings>

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard !Self.safeMethods.contains(request.method), Self.isCrossOrigin(request) else {
            return try await next(request, context)
        }
        if case .route(let route, _) = context.resolution, route.crossOriginExempt {
            return try await next(request, context)
        }
        let cors = httpSettings.current.cors
        if cors.enabled, let origin = request.headers[.origin], cors.allows(origin: origin) {
            return try await next(request, context)
        }
        throw TalosError(.crossOriginRequest, "cross-origin request refused")
    }

    /// Methods that change nothing, never refused.
    static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    /// Whether the browser that sent `request` says it came from another origin.
    static func isCrossOrigin(_ request: Request) -> Bool {
        if let site = request.headers[secFetchSite] {
            return !["same-origin", "none"].contains(site.trimmingSpaces.lowercased())
        }
        guard let origin = request.headers[.origin] else { return false }
        return authority(ofOrigin: origin) != TenantResolver.requestHost(request).trimmingSpaces.lowercased()
    }

    /// `https://Example.com:8443` → `example.com:8443`; `nil` for `null` or anything without a scheme.
    static func authority(ofOrigin origin: String) -> String? {
        guard let colon = origin.firstIndex(of: ":"), origin[colon...].hasPrefix("://") else { return nil }
        let rest = origin[origin.index(colon, offsetBy: 3)...]
        return String(rest.prefix { $0 != "/" }).lowercased()
    }
}
