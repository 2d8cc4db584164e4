import HTTPTypes
import Hummingbird
import TalosCore

/// `serve.http.allowed_hosts` (spec §16.2): when set, a request whose `Host` (port ignored) is not listed, nor a
/// tenancy hostname, gets 421 `HOST_NOT_ALLOWED` — a page that rebinds its own name to this server's address
/// cannot read or change anything. Health answers on any host, for load balancers and probes.
struct AllowedHostsMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    let httpSettings: SettingsStore<HTTPSettings>

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let allowed = httpSettings.current.allowedHosts
        guard !allowed.isEmpty, !request.uri.path.hasPrefix("/health/") else { return try await next(request, context) }
        let host = TenantResolver.hostname(TenantResolver.requestHost(request))
        guard allowed.contains(host) else {
            throw RoutingFailure(
                error: TalosError(.hostNotAllowed, "host \"\(host)\" is not allowed"),
                httpOverride: .misdirectedRequest
            )
        }
        return try await next(request, context)
    }
}
