import HTTPTypes
import Hummingbird
import NIOCore
import TalosCore
import Tracing

/// The HTTP surface of Talos as one pipeline that reads top to bottom: resolve the route, then the middleware chain
/// (request id → [tracing] → security headers → [metrics] → access log → CORS → error envelope → allowed hosts →
/// cross-origin protection), then `RouteDispatcher` (body limit, request decoding, the operation, response encoding).
///
/// Dispatch is a small table rather than Hummingbird's trie router because the API needs literal `:` custom methods
/// with `%3A` equivalence, 405 for a known path with another method, and 501 for routes outside the server mode;
/// resolving before the chain lets every middleware see the route template.
struct APIResponder: HTTPResponder {
    typealias Context = TalosRequestContext

    let table: RouteTable
    let tenants: TenantResolver
    let chain: any HTTPResponder<Context>

    init(
        table: RouteTable,
        tenants: TenantResolver,
        middleware: [any RouterMiddleware<Context>],
        dispatcher: RouteDispatcher
    ) {
        self.table = table
        self.tenants = tenants
        var chain: any HTTPResponder<Context> = dispatcher
        for layer in middleware.reversed() { chain = Layer(middleware: layer, next: chain) }
        self.chain = chain
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        var context = context
        context.resolution = table.resolve(method: request.method, path: request.uri.path)
        if case .route(let route, _) = context.resolution, !route.tenantless {
            context.tenant = Result { () throws(TalosError) in try tenants.tenant(of: request, peer: context.remoteIP) }
        }
        return try await chain.respond(to: request, context: context)
    }

    /// One middleware around the rest of the chain.
    private struct Layer: HTTPResponder {
        let middleware: any RouterMiddleware<Context>
        let next: any HTTPResponder<Context>

        func respond(to request: Request, context: Context) async throws -> Response {
            try await middleware.handle(request, context: context) { request, context in
                try await next.respond(to: request, context: context)
            }
        }
    }
}

/// The end of the chain: collects the body within the route's limit, decodes the request, runs the operation and
/// encodes its reply.
struct RouteDispatcher: HTTPResponder {
    typealias Context = TalosRequestContext

    let httpSettings: SettingsStore<HTTPSettings>

    func respond(to request: Request, context: Context) async throws -> Response {
        let (route, match): (Route, PathMatch)
        switch context.resolution {
        case .failure(let failure): throw failure
        case .route(let resolved, let matched): (route, match) = (resolved, matched)
        }
        var request = request
        let body = try await Self.collectBody(&request, limit: route.bodyLimit)
        let nid = try context.tenant.get()
        let apiRequest = APIRequest(
            request: request,
            body: body,
            nid: nid,
            clientIPResolver: httpSettings.current.clientIP,
            remoteIP: context.remoteIP
        )
        let run: () async throws -> APIReply
        switch (route.handler, match) {
        case (.plain(let handler), _): run = { try await handler(apiRequest) }
        case (.keyed(let handler), .keyed(let keyID)): run = { try await handler(apiRequest, keyID) }
        case (.keyed, .plain): throw RoutingFailure.notFound
        }
        guard let name = route.span else { return try await run().response }
        return try await withSpan(name) { span in
            span.attributes["nid"] = nid
            if case .keyed(let keyID) = match { span.attributes["key_id"] = keyID }
            return try await run().response
        }
    }

    private static func collectBody(_ request: inout Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw RoutingFailure.bodyTooLarge(limit)
        }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw RoutingFailure.bodyTooLarge(limit)
        }
    }
}
