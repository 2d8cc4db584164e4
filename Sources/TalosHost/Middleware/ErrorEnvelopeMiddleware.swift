import HTTPTypes
import Hummingbird
import Logging
import TalosCore

/// Turns every error below it into the error envelope of spec §2.5; an error that is not an API error is logged
/// (its type only) and answered as 500 `INTERNAL`, never with its text.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    typealias Context = TalosRequestContext

    let logger: Logger

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as TalosError {
            if error.reason.status.isServerError {
                // Errors ≥ 500 log their cause (spec §11.2); messages never carry secrets.
                logger.error(
                    "request failed",
                    metadata: [
                        "request_id": "\(context.requestID)", "reason": "\(error.reason.name)",
                        "error": "\(error.message)",
                    ]
                )
            }
            return Self.response(error, requestID: context.requestID)
        } catch let error as RoutingFailure {
            return Self.response(error, requestID: context.requestID)
        } catch {
            logger.error(
                "unhandled error",
                metadata: ["request_id": "\(context.requestID)", "error": "\(String(reflecting: type(of: error)))"]
            )
            return Self.response(.internalError, requestID: context.requestID)
        }
    }

    /// The envelope of a request refused before its operation, with its status override and header fields.
    static func response(_ failure: RoutingFailure, requestID: String) -> Response {
        var response = response(failure.error, requestID: requestID, httpOverride: failure.httpOverride)
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    static func response(
        _ error: TalosError,
        requestID: String,
        httpOverride: HTTPResponse.Status? = nil
    ) -> Response {
        let (status, body) = ErrorEnvelope.body(error, requestID: requestID, httpOverride: httpOverride)
        return APIReply.json(body, status: status).response
    }
}
