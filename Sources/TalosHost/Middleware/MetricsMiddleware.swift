import CoreMetrics
import Hummingbird
import TalosCore

/// `talos_http_requests_total{method,route,code}` and `talos_http_request_duration_seconds{method,route}` (spec
/// §11.1), labelled by route template, never by raw path.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.routeTemplate
        Counter(
            label: "talos_http_requests_total",
            dimensions: [("method", request.method.rawValue), ("route", route), ("code", "\(response.status.code)")]
        ).increment()
        Timer(
            label: "talos_http_request_duration_seconds",
            dimensions: [("method", request.method.rawValue), ("route", route)]
        ).recordNanoseconds(elapsed.wholeNanoseconds)
        return response
    }
}
