import CoreMetrics
import HTTPTypes
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
        Self.requests[RequestLabels(method: request.method, route: route, code: response.status.code)].increment()
        Self.durations[RouteLabels(method: request.method, route: route)].recordNanoseconds(elapsed.wholeNanoseconds)
        return response
    }

    private struct RequestLabels: Hashable, Sendable {
        let method: HTTPRequest.Method
        let route: String
        let code: Int
    }

    private struct RouteLabels: Hashable, Sendable {
        let method: HTTPRequest.Method
        let route: String
    }

    private static let requests = MetricHandles<RequestLabels, Counter> { labels in
        Counter(
            label: "talos_http_requests_total",
            dimensions: [("method", labels.method.rawValue), ("route", labels.route), ("code", "\(labels.code)")]
        )
    }
    private static let durations = MetricHandles<RouteLabels, Timer> { labels in
        Timer(
            label: "talos_http_request_duration_seconds",
            dimensions: [("method", labels.method.rawValue), ("route", labels.route)]
        )
    }
}
