import HTTPTypes
import Hummingbird
import TalosCore

/// Everything an operation needs about one request: the head, the collected body, the tenant and the client.
struct APIRequest: Sendable {
    let request: Request
    let body: [UInt8]
    let nid: String
    /// The client address per `serve.http.client_ip_source` (spec §5.6, §15.2); `nil` when unknown.
    let clientIP: IPAddress?
    /// The TCP peer, for per-connection decisions.
    let remoteIP: String?

    /// The most JSON values a request body may hold (spec §15.6).
    static let maxJSONValues = 200_000

    /// The body as a JSON object.
    /// - Throws: 400 `MALFORMED_REQUEST` for anything else.
    func json() throws(TalosError) -> BodyReader {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body, maxValues: Self.maxJSONValues)
        } catch {
            throw TalosError.malformed(error.detail)
        }
        return try BodyReader(value)
    }

    /// The body as a JSON object, or an empty one when the body is empty or only whitespace.
    func optionalJSON() throws(TalosError) -> BodyReader {
        body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? BodyReader(object: [:]) : try json()
    }

    func query(_ name: String) -> String? { request.uri.queryParameters[name[...]].map(String.init) }

    func queryAll(_ name: String) -> [String] { request.uri.queryParameters.getAll(name).map { String($0) } }

    var verificationContext: VerificationContext { VerificationContext(nid: nid, clientIP: clientIP) }
}

/// An operation's answer: a JSON body, a serialized document, or an empty 204.
enum APIReply: Sendable {
    case json(JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
    /// A JSON document already serialized.
    case document([UInt8])
    case noContent

    /// The HTTP response.
    var response: Response {
        switch self {
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
}
