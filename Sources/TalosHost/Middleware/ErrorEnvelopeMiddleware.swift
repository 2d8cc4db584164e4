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
            var response = Self.response(error.error, requestID: context.requestID, httpOverride: error.httpOverride)
            if !error.allow.isEmpty { response.headers[.allow] = error.allow.map(\.rawValue).joined(separator: ", ") }
            return response
        } catch let error as RateLimited {
            var response = Self.response(TalosError(.rateLimited, "too many requests"), requestID: context.requestID)
            response.headers[.retryAfter] = "\(error.retryAfterSeconds)"
            return response
        } catch {
            logger.error(
                "unhandled error",
                metadata: ["request_id": "\(context.requestID)", "error": "\(String(reflecting: type(of: error)))"]
            )
            return Self.response(.internalError, requestID: context.requestID)
        }
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
