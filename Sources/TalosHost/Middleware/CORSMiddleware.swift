import HTTPTypes
import Hummingbird
import Logging
import TalosCore

/// `serve.http.cors.*` (spec §9), read per request so that a reload applies at once. With CORS enabled, a preflight
/// (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here, 204, before any route: with the
/// `Access-Control-Allow-*` headers when origin, method and headers are allowed, without them otherwise (the
/// browser then refuses the call). Other requests from an allowed origin get `Access-Control-Allow-Origin`,
/// `-Expose-Headers` and `-Allow-Credentials` on whatever they are answered, errors included.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    let httpSettings: SettingsStore<HTTPSettings>
    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let policy = httpSettings.current.cors
        guard policy.enabled else { return try await next(request, context) }
        guard let origin = request.headers[.origin] else {
            // Answers differ by Origin: a shared cache (the JWKS is public for 5 min) must not serve one without CORS
            // headers to a browser.
            var response = try await next(request, context)
            response.headers.append(HTTPField(name: .vary, value: "Origin"))
            return response
        }
        if request.method == .options, let method = request.headers[.accessControlRequestMethod] {
            return preflight(origin: origin, method: method, headers: request.headers, policy: policy)
        }
        var response = try await next(request, context)
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        guard policy.allows(origin: origin), policy.allows(method: request.method.rawValue) else {
            if policy.debug { logger.debug("CORS: origin or method not allowed", metadata: ["origin": "\(origin)"]) }
            return response
        }
        response.headers[.accessControlAllowOrigin] = policy.allowOriginValue(for: origin)
        if policy.allowCredentials { response.headers[.accessControlAllowCredentials] = "true" }
        if !policy.exposedHeaders.isEmpty {
            response.headers[.accessControlExposeHeaders] = policy.exposedHeaders.joined(separator: ", ")
        }
        return response
    }

    private func preflight(origin: String, method: String, headers: HTTPFields, policy: CORSPolicy) -> Response {
        var answer: HTTPFields = [
            .vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        ]
        let requested = headers[.accessControlRequestHeaders] ?? ""
        guard policy.allows(origin: origin), policy.allows(method: method), policy.allows(requestedHeaders: requested)
        else {
            if policy.debug {
                logger.debug(
                    "CORS: preflight refused",
                    metadata: ["origin": "\(origin)", "method": "\(method)", "headers": "\(requested)"]
                )
            }
            return Response(status: .noContent, headers: answer)
        }
        answer[.accessControlAllowOrigin] = policy.allowOriginValue(for: origin)
        answer[.accessControlAllowMethods] = method.uppercased()
        if !requested.isEmpty { answer[.accessControlAllowHeaders] = requested }
        if policy.allowCredentials { answer[.accessControlAllowCredentials] = "true" }
        if policy.maxAge > 0 { answer[.accessControlMaxAge] = "\(policy.maxAge)" }
        return Response(status: .noContent, headers: answer)
    }
}
