public import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import TalosCore

/// Why a request was refused, answered in the envelope shape of Talos's own errors (spec §2.5):
/// `{"error":{"code","status","message","details":[ErrorInfo, RequestInfo]}}`.
public struct TalosAuthError: Error, Sendable, Hashable, HTTPResponseError {
    /// The machine-readable reason clients match on.
    public enum Reason: String, Sendable, Hashable {
        /// 401: no credential in the request.
        case credentialRequired = "CREDENTIAL_REQUIRED"
        /// 401: Talos (or the local JWT check) refused the credential; metadata `error_code` says why.
        case credentialInvalid = "CREDENTIAL_INVALID"
        /// 403: the identity lacks a scope the route requires; metadata `scope` names it.
        case scopeRequired = "SCOPE_REQUIRED"
        /// 429: the key's rate-limit quota is spent (Talos's `VERIFICATION_ERROR_RATE_LIMITED`).
        case rateLimited = "RATE_LIMITED"
        /// 503: Talos could not be asked and nothing cached could answer.
        case serviceUnavailable = "SERVICE_UNAVAILABLE"

        /// The canonical status, which fixes the HTTP status (spec §2.5's mapping).
        var code: StatusCode {
            switch self {
            case .credentialRequired, .credentialInvalid: .unauthenticated
            case .scopeRequired: .permissionDenied
            case .rateLimited: .resourceExhausted
            case .serviceUnavailable: .unavailable
            }
        }
    }

    /// Why the request was refused.
    public let reason: Reason
    /// Human text; may change between versions.
    public let message: String
    /// `ErrorInfo.metadata`, e.g. `error_code` or `scope`.
    public let metadata: [String: String]

    /// An error with `reason`, `message` and `metadata`.
    public init(_ reason: Reason, _ message: String, metadata: [String: String] = [:]) {
        self.reason = reason
        self.message = message
        self.metadata = metadata
    }

    /// A credential Talos answered `is_valid:false` for; `errorCode` is its `VERIFICATION_ERROR_…` name.
    static func refused(_ errorCode: String) -> TalosAuthError {
        if errorCode == "VERIFICATION_ERROR_RATE_LIMITED" {
            return TalosAuthError(
                .rateLimited,
                "The API key's rate limit is exhausted.",
                metadata: ["error_code": errorCode]
            )
        }
        return TalosAuthError(.credentialInvalid, "The credential is not valid.", metadata: ["error_code": errorCode])
    }

    /// The error domain of `ErrorInfo`.
    static let domain = "talos-hummingbird"

    /// The HTTP status of `reason`.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: reason.code.httpCode) }

    /// The envelope as JSON, with the request id `RequestInfo` carries.
    public func envelope(requestID: String) -> JSONValue {
        ErrorEnvelopeBody.json(
            httpCode: reason.code.httpCode,
            status: reason.code,
            reason: reason.rawValue,
            domain: Self.domain,
            message: message,
            metadata: metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            requestID: requestID
        )
    }

    /// The envelope response; 401 carries `WWW-Authenticate: Bearer` (RFC 6750 §3).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let requestID =
            request.headers[Self.requestIDField] ?? context.logger[metadataKey: "hb.request.id"]?.description
            ?? UUIDText.v4(randomBytes: (0..<16).map { _ in UInt8.random(in: .min ... .max) })
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if reason.code == .unauthenticated {
            headers[.wwwAuthenticate] =
                reason == .credentialRequired ? "Bearer" : "Bearer error=\"invalid_token\""
        }
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: envelope(requestID: requestID).serialized()))
        )
    }

    static let requestIDField = HTTPField.Name("X-Request-ID")!
}
