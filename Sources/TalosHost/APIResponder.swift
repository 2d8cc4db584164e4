import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TalosCore

/// Everything a handler needs about one request.
struct APIRequest: Sendable {
    let request: Request
    let context: TalosRequestContext
    let keyID: String?
    let requestID: String
    let body: [UInt8]
    let nid: String

    /// The most JSON values a request body may hold (spec §15.6).
    static let maxJSONValues = 200_000

    func json() throws(TalosError) -> BodyReader {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body, maxValues: Self.maxJSONValues)
        } catch {
            throw TalosError.malformed(error.detail)
        }
        return try BodyReader(value)
    }

    func query(_ name: String) -> String? { request.uri.queryParameters[name[...]].map(String.init) }

    func queryAll(_ name: String) -> [String] { request.uri.queryParameters.getAll(name).map { String($0) } }
}

/// A handler's answer: a JSON body, or an empty 204.
enum APIReply: Sendable {
    case json(JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
    /// A JSON document already serialized.
    case document([UInt8])
    case noContent
}

/// One row of the route table.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let pattern: PathPattern
    let surface: Surface
    let bodyLimit: Int
    let handler: @Sendable (APIRequest) async throws -> APIReply
}

/// The HTTP surface of Talos: dispatch, body limits, request ids, the error envelope and response headers.
///
/// Dispatch is a small table rather than Hummingbird's trie router because the API needs literal `:` custom methods
/// with `%3A` equivalence, 405 for a known path with another method, and 501 for routes outside the server mode.
struct APIResponder: HTTPResponder {
    typealias Context = TalosRequestContext

    let routes: [Route]
    let mode: ServerMode
    let logger: Logger
    let httpSettings: SettingsStore<HTTPSettings>
    let clock: any WallClock

    static let requestIDHeader = HTTPField.Name("X-Request-ID")!
    static let nosniffHeader = HTTPField.Name("X-Content-Type-Options")!

    init(
        routes: [Route],
        mode: ServerMode,
        logger: Logger,
        httpSettings: SettingsStore<HTTPSettings>,
        clock: any WallClock
    ) {
        self.routes = routes.sorted { $0.pattern.specificity > $1.pattern.specificity }
        self.mode = mode
        self.logger = logger
        self.httpSettings = httpSettings
        self.clock = clock
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = Self.requestID(from: request)
        var template = "unmatched"
        var response: Response
        do {
            let (route, keyID) = try resolve(request)
            template = route.pattern.template
            var request = request
            let body = try await Self.collectBody(&request, limit: route.bodyLimit)
            let apiRequest = APIRequest(
                request: request,
                context: context,
                keyID: keyID,
                requestID: requestID,
                body: body,
                nid: UUIDText.nilUUID
            )
            response = Self.render(try await route.handler(apiRequest))
        } catch let error as TalosError {
            response = Self.errorResponse(error, requestID: requestID)
        } catch let error as RoutingFailure {
            response = Self.errorResponse(error.error, requestID: requestID, httpOverride: error.httpOverride)
        } catch let error as RateLimited {
            response = Self.errorResponse(TalosError(.rateLimited, "too many requests"), requestID: requestID)
            response.headers[.retryAfter] = "\(error.retryAfterSeconds)"
        } catch {
            logger.error(
                "unhandled error",
                metadata: ["request_id": "\(requestID)", "error": "\(String(reflecting: type(of: error)))"]
            )
            response = Self.errorResponse(.internalError, requestID: requestID)
        }
        response.headers[Self.requestIDHeader] = requestID
        response.headers[Self.nosniffHeader] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        logRequest(
            request,
            context: context,
            response: response,
            route: template,
            requestID: requestID,
            started: started
        )
        return response
    }

    /// A client over its request budget (spec §15.5): 429 with `Retry-After`.
    struct RateLimited: Error {
        let retryAfter: Duration

        /// Whole seconds, rounded up, at least 1.
        var retryAfterSeconds: Int64 {
            let (seconds, attoseconds) = retryAfter.components
            return max(1, seconds + (attoseconds > 0 ? 1 : 0))
        }
    }

    struct RoutingFailure: Error {
        let error: TalosError
        let httpOverride: HTTPResponse.Status?
    }

    private func resolve(_ request: Request) throws -> (Route, String?) {
        guard let segments = strictPathSegments(request.uri.path) else {
            throw TalosError(.notFound, "route not found")
        }
        var pathMatched = false
        for route in routes {
            guard let captured = route.pattern.match(segments) else { continue }
            pathMatched = true
            guard route.method == request.method else { continue }
            guard mode.serves(route.surface) else {
                throw TalosError(.unimplemented, "method not available in this server mode")
            }
            return (route, captured)
        }
        if pathMatched {
            throw RoutingFailure(
                error: TalosError(.methodNotAllowed, "method not allowed"),
                httpOverride: .methodNotAllowed
            )
        }
        throw TalosError(.notFound, "route not found")
    }

    private static func collectBody(_ request: inout Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
    }

    private static func tooLarge(_ limit: Int) -> RoutingFailure {
        RoutingFailure(
            error: TalosError(.requestTooLarge, "request body exceeds \(limit) bytes"),
            httpOverride: .contentTooLarge
        )
    }

    private static func requestID(from request: Request) -> String {
        if let given = request.headers[requestIDHeader], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
                    || $0 == UInt8(ascii: "-")
            })
        {
            return given
        }
        return newRequestID()
    }

    /// A fresh request id. Request ids need uniqueness, not secrecy: two 64-bit draws instead of a CSPRNG call per
    /// byte.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next() as UInt64, generator.next() as UInt64)
        return UUIDText.v4(
            randomBytes: (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> (UInt64($0 % 8) * 8)) }
        )
    }

    static func render(_ reply: APIReply) -> Response {
        switch reply {
        case .noContent:
            return Response(status: .noContent)
        case .document(let bytes):
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        case .json(let value, let status, var headers):
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(
                status: status,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: value.serialized()))
            )
        }
    }

    static func errorResponse(
        _ error: TalosError,
        requestID: String,
        httpOverride: HTTPResponse.Status? = nil
    ) -> Response {
        let (status, body) = ErrorEnvelope.body(error, requestID: requestID, httpOverride: httpOverride)
        return render(.json(body, status: status))
    }

    private func logRequest(
        _ request: Request,
        context: Context,
        response: Response,
        route: String,
        requestID: String,
        started: ContinuousClock.Instant
    ) {
        if httpSettings.current.excludeHealthFromLog, route.hasPrefix("/health") || route == "/version" { return }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info(
            "request completed",
            metadata: [
                "request_id": "\(requestID)",
                "method": "\(request.method.rawValue)",
                "path": "\(request.uri.path)",
                "route": "\(route)",
                "status": "\(response.status.code)",
                "duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
                "remote_ip": "\(context.remoteIP ?? "")",
                "user_agent": "\(request.headers[.userAgent] ?? "")",
                "bytes_out": "\(response.body.contentLength ?? 0)",
            ]
        )
    }
}
