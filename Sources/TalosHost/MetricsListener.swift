import HTTPTypes
import Hummingbird
import NIOCore
import TalosCore

/// How the process renders its metrics in the Prometheus text format; the composition root provides it (it owns the
/// metrics backend), so the host depends on the swift-metrics API only.
public struct MetricsExposition: Sendable {
    /// The exposition, version 0.0.4.
    public let render: @Sendable () -> [UInt8]

    public init(render: @escaping @Sendable () -> [UInt8]) { self.render = render }
}

/// The metrics listener (spec §3.19, §9.2 `serve.metrics.*`): `GET /metrics`, and health and version, on a port of its
/// own so that the API listener never serves metrics.
struct MetricsResponder: HTTPResponder {
    typealias Context = TalosRequestContext

    let exposition: MetricsExposition
    let ready: @Sendable () async -> APIReply

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get else {
            var response = ErrorEnvelopeMiddleware.response(
                TalosError(.methodNotAllowed, "method not allowed"),
                requestID: RequestIDMiddleware.requestID(from: request),
                httpOverride: .methodNotAllowed
            )
            response.headers[.allow] = "GET"
            return response
        }
        switch request.uri.path {
        case "/metrics":
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: exposition.render()))
            )
        case "/health/alive": return APIReply.json(["status": "ok"]).response
        case "/health/ready": return await ready().response
        case "/version": return APIReply.json(["version": .string(TalosVersion.current)]).response
        default:
            return ErrorEnvelopeMiddleware.response(
                TalosError(.notFound, "route not found"),
                requestID: RequestIDMiddleware.requestID(from: request)
            )
        }
    }
}
