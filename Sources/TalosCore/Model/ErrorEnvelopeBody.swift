extension StatusCode {
    /// The HTTP status of spec §2.5's mapping (FAILED_PRECONDITION → 409, CANCELLED → 499).
    public var httpCode: Int {
        switch self {
        case .invalidArgument, .outOfRange: 400
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .notFound: 404
        case .alreadyExists, .aborted, .failedPrecondition: 409
        case .resourceExhausted: 429
        case .cancelled: 499
        case .internal, .unknown, .dataLoss: 500
        case .unimplemented: 501
        case .unavailable: 503
        case .deadlineExceeded: 504
        }
    }
}

/// The error envelope of spec §2.5, `{"error":{"code","message","status","details":[ErrorInfo, RequestInfo]}}`: the
/// one builder behind Talos's answers and the consumer middleware's, which share its shape.
public enum ErrorEnvelopeBody {
    /// The envelope of an error.
    /// - Parameters:
    ///   - httpCode: `code`, the HTTP status the answer carries.
    ///   - domain: `ErrorInfo.domain` (`www.ory.com/talos` for Talos itself).
    ///   - metadata: `ErrorInfo.metadata` in order; omitted when empty.
    public static func json(
        httpCode: Int,
        status: StatusCode,
        reason: String,
        domain: String,
        message: String,
        metadata: [(String, String)],
        requestID: String
    ) -> JSONValue {
        var info: JSONObject = [
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": .string(reason), "domain": .string(domain),
        ]
        if !metadata.isEmpty { info["metadata"] = .object(JSONObject(metadata.map { ($0.0, JSONValue.string($0.1)) })) }
        return [
            "error": [
                "code": .int(Int64(httpCode)), "message": .string(message), "status": .string(status.rawValue),
                "details": [
                    .object(info),
                    ["@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": .string(requestID)],
                ],
            ]
        ]
    }
}
