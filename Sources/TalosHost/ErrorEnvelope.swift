import HTTPTypes
import TalosCore

/// The one place where API errors become HTTP responses (spec §2.5).
enum ErrorEnvelope {
    static func httpStatus(_ status: StatusCode) -> HTTPResponse.Status {
        status == .cancelled
            ? HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request")
            : HTTPResponse.Status(code: status.httpCode)
    }

    /// The envelope body and its HTTP status; `httpOverride` serves the 405/413 transport exceptions.
    static func body(
        _ error: TalosError,
        requestID: String,
        httpOverride: HTTPResponse.Status? = nil
    ) -> (HTTPResponse.Status, JSONValue) {
        let status = httpOverride ?? httpStatus(error.reason.status)
        let body = ErrorEnvelopeBody.json(
            httpCode: status.code,
            status: error.reason.status,
            reason: error.reason.name,
            domain: "www.ory.com/talos",
            message: error.message,
            metadata: error.metadata,
            requestID: requestID
        )
        return (status, body)
    }
}

extension StatusCode {
    /// Whether the status maps to an HTTP 5xx (a server-side failure whose cause is logged).
    var isServerError: Bool { httpCode >= 500 }
}
