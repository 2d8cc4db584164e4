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
    /// The API listener's health answers, served here too (spec §3.18).
    let health: HealthController

    func respond(to request: Request, context: Context) async throws -> Response {
        guard request.method == .get else {
            return ErrorEnvelopeMiddleware.response(
                .methodNotAllowed(allow: [.get]),
                requestID: RequestIDMiddleware.requestID(from: request)
            )
        }
        switch request.uri.path {
        case "/metrics":
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: exposition.render()))
            )
        case "/health/alive": return HealthController.alive().response
        case "/health/ready": return await health.ready().response
        case "/version": return HealthController.version().response
        default:
            return ErrorEnvelopeMiddleware.response(.notFound, requestID: RequestIDMiddleware.requestID(from: request))
        }
    }
}
