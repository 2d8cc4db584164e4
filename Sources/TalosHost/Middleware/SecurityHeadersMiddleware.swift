import HTTPTypes
import Hummingbird

/// `X-Content-Type-Options: nosniff` on every response, and `Cache-Control: no-store` unless the operation chose
/// its own caching (the JWKS).
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    static let nosniff = HTTPField.Name("X-Content-Type-Options")!

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[Self.nosniff] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
