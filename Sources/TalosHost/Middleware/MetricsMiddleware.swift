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
        let labels = RequestLabels(method: request.method, route: route, code: response.status.code)
        Self.requests[labels].increment()
        Self.durations[RouteLabels(method: request.method, route: route)].recordNanoseconds(elapsed.wholeNanoseconds)
        // Ory's names beside ours (its dashboards read these); the sizes are the bodies' declared lengths.
        let ory = Self.oryFamilies[labels]
        ory.requests.increment()
        ory.requestSizes.record(request.headers[.contentLength].flatMap { Int($0) } ?? 0)
        ory.responseSizes.record(response.body.contentLength ?? 0)
        return response
    }

    private struct OryFamilies: Sendable {
        let requests: Counter
        let requestSizes: Recorder
        let responseSizes: Recorder
    }

    private static let inFlight = Meter(label: "http_requests_in_flight")
    private static let oryFamilies = MetricHandles<RequestLabels, OryFamilies> { labels in
        let dimensions = [("method", labels.method.rawValue), ("code", "\(labels.code)"), ("endpoint", labels.route)]
        return OryFamilies(
            requests: Counter(label: "http_requests_total", dimensions: dimensions),
            requestSizes: Recorder(label: "http_request_size_bytes", dimensions: dimensions),
            responseSizes: Recorder(label: "http_response_size_bytes", dimensions: dimensions)
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
