import CoreMetrics
import HTTPTypes
import Hummingbird
import TalosCore

/// `talos_http_requests_total{method,route,code}` and `talos_http_request_duration_seconds{method,route}` (spec
/// §11.1), labelled by route template, never by raw path; and Ory's `http_requests_total{method,code,endpoint}`,
/// `http_request_size_bytes`, `http_response_size_bytes` and `http_requests_in_flight` beside them.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        Self.inFlight.increment()
        defer { Self.inFlight.decrement() }
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.routeTemplate
        // One lookup per request for every family of this (method, route, code): ours and Ory's, whose dashboards read
        // `http_*`; the sizes are the bodies' declared lengths.
        let families = Self.families[RequestLabels(method: request.method, route: route, code: response.status.code)]
        families.requests.increment()
        families.oryRequests.increment()
        families.requestSizes.record(request.headers[.contentLength].flatMap { Int($0) } ?? 0)
        families.responseSizes.record(response.body.contentLength ?? 0)
        Self.durations[RouteLabels(method: request.method, route: route)].recordNanoseconds(elapsed.wholeNanoseconds)
        return response
    }

    private struct Families: Sendable {
        let requests: Counter
        let oryRequests: Counter
        let requestSizes: Recorder
        let responseSizes: Recorder
    }

    private static let inFlight = Meter(label: "http_requests_in_flight")
    private static let families = MetricHandles<RequestLabels, Families> { labels in
        let ory = [("method", labels.method.rawValue), ("code", "\(labels.code)"), ("endpoint", labels.route)]
        return Families(
            requests: Counter(
                label: "talos_http_requests_total",
                dimensions: [("method", labels.method.rawValue), ("route", labels.route), ("code", "\(labels.code)")]
            ),
            oryRequests: Counter(label: "http_requests_total", dimensions: ory),
            requestSizes: Recorder(label: "http_request_size_bytes", dimensions: ory),
            responseSizes: Recorder(label: "http_response_size_bytes", dimensions: ory)
        )
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

    private static let durations = MetricHandles<RouteLabels, Timer> { labels in
        Timer(
            label: "talos_http_request_duration_seconds",
            dimensions: [("method", labels.method.rawValue), ("route", labels.route)]
        )
    }
}
