import HTTPTypes
import Hummingbird
import Tracing

/// The `http.request` server span of every request (spec §11.3): continues a W3C `traceparent` from the caller,
/// carries the method, route template and status, and answers with the span's own `traceparent`. With tracing off
/// (no instrumentation bootstrapped) it costs a no-op span.
struct TracingMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var serviceContext = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &serviceContext, using: HeaderExtractor())
        return try await withSpan("http.request", context: serviceContext, ofKind: .server) { span in
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["http.route"] = context.routeTemplate
            var response = try await next(request, context)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            InstrumentationSystem.instrument.inject(span.context, into: &response.headers, using: HeaderInjector())
            return response
        }
    }

    private struct HeaderExtractor: Extractor {
        func extract(key: String, from headers: HTTPFields) -> String? {
            HTTPField.Name(key).flatMap { headers[$0] }
        }
    }

    private struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into headers: inout HTTPFields) {
            if let name = HTTPField.Name(key) { headers[name] = value }
        }
    }
}
