import HTTPTypes
import TalosCore

/// The one place where API errors become HTTP responses (spec §2.5).
enum ErrorEnvelope {
    static func httpStatus(_ status: StatusCode) -> HTTPResponse.Status {
        switch status {
        case .invalidArgument, .outOfRange: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .aborted, .failedPrecondition: .conflict
        case .resourceExhausted: .tooManyRequests
        case .cancelled: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
        case .internal, .unknown, .dataLoss: .internalServerError
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        }
    }

    /// The envelope body and its HTTP status; `httpOverride` serves the 405/413 transport exceptions.
    static func body(
        _ error: TalosError,
        requestID: String,
        httpOverride: HTTPResponse.Status? = nil
    ) -> (HTTPResponse.Status, JSONValue) {
        let status = httpOverride ?? httpStatus(error.reason.status)
        var info: JSONObject = [
            "@type": .string("type.googleapis.com/google.rpc.ErrorInfo"),
            "reason": .string(error.reason.name),
            "domain": .string("www.ory.com/talos"),
        ]
        if !error.metadata.isEmpty {
            info["metadata"] = .object(JSONObject(error.metadata.map { ($0.0, JSONValue.string($0.1)) }))
        }
        let envelope: JSONValue = .object([
            "error": .object([
                "code": .int(Int64(status.code)),
                "message": .string(error.message),
                "status": .string(error.reason.status.rawValue),
                "details": .array([
                    .object(info),
                    .object([
                        "@type": .string("type.googleapis.com/google.rpc.RequestInfo"),
                        "request_id": .string(requestID),
                    ]),
                ]),
            ])
        ])
        return (status, envelope)
    }
}

extension StatusCode {
    /// Whether the status maps to an HTTP 5xx (a server-side failure whose cause is logged).
    var isServerError: Bool { ErrorEnvelope.httpStatus(self).code >= 500 }
}
