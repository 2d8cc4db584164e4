import Hummingbird
import Logging
import TalosCore

/// One `request completed` entry per request (spec §11.2), with the route template rather than the raw path's
/// parameters; health and version are left out when `serve.http.request_log.exclude_health_endpoints` is set
/// (read per request, so a reload applies at once).
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    let logger: Logger
    let httpSettings: SettingsStore<HTTPSettings>

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let settings = httpSettings.current
        var context = context
        if settings.adminAuthEnabled, case .route(let route, _) = context.resolution, route.isAdminPath {
            context.adminKeyNote = AdminKeyNote()
        }
        let response = try await next(request, context)
        let route = context.routeTemplate
        if settings.excludeHealthFromLog, route.hasPrefix("/health") || route == "/version" {
            return response
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": "\(context.requestID)",
            "nid": "\((try? context.tenant.get()) ?? "")",
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path)",
            "route": "\(route)",
            "status": "\(response.status.code)",
            "duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
            "remote_ip": "\(context.remoteIP ?? "")",
            "user_agent": "\(request.headers[.userAgent] ?? "")",
            "bytes_out": "\(response.body.contentLength ?? 0)",
        ]
        if let adminKeyID = context.adminKeyNote?.adminKeyID { metadata["admin_key_id"] = "\(adminKeyID)" }
        logger.info("request completed", metadata: metadata)
        return response
    }
}
