import HTTPTypes
import Hummingbird
import TalosCore

/// Everything an operation needs about one request: the head, the collected body, the tenant and the client.
struct APIRequest: Sendable {
    let request: Request
    let body: [UInt8]
    let nid: String
    /// `serve.http.client_ip_source` and `trusted_proxies` as they were when the request started (hot reload).
    let clientIPResolver: ClientIPResolver
    /// The TCP peer, for per-connection decisions.
    let remoteIP: String?

    /// The client address per `serve.http.client_ip_source` (spec §5.6, §15.2); `nil` when unknown. Resolved only by
    /// the operations that need it (verification, derive, self-revoke), not on every route.
    var clientIP: IPAddress? {
        clientIPResolver.resolve(peer: remoteIP.flatMap { IPAddress($0) }) { [headers = request.headers] name in
            HTTPField.Name(name).map { headers[values: $0] } ?? []
        }
    }

    static let pragma = HTTPField.Name("Pragma")!

    /// The most JSON values a request body may hold (spec §15.6).
    static let maxJSONValues = 200_000

    /// The body as a JSON object.
    /// - Throws: 400 `MALFORMED_REQUEST` for anything else.
    /// - Parameter cap: a batch's item limit, checked while parsing, and the error that answers a batch over it.
    func json(cap: (JSONItemCap, TalosError)? = nil) throws(TalosError) -> BodyReader {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body, maxValues: Self.maxJSONValues, itemCap: cap?.0)
        } catch {
            if error.exceededItemCap, let cap { throw cap.1 }
            throw TalosError.malformed(error.detail)
        }
        return try BodyReader(value)
    }

    /// The body as a JSON object, or an empty one when the body is empty or only whitespace.
    func optionalJSON() throws(TalosError) -> BodyReader {
        body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? BodyReader(object: [:]) : try json()
    }

    /// The first value of query parameter `name`.
    func query(_ name: String) -> String? { queryAll(name).first }

    /// Every value of query parameter `name`, form-decoded: `+` is a space and `%XX` a byte (what Go's
    /// `url.Values`, Ory's SDKs and browsers send); a malformed escape is kept as sent.
    func queryAll(_ name: String) -> [String] {
        guard let query = request.uri.query else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.formDecode(parts[0]) == name else { return nil }
            return parts.count == 2 ? Self.formDecode(parts[1]) : ""
        }
    }

    static func formDecode(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "+") {
                decoded.append(UInt8(ascii: " "))
            } else if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let byte = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                decoded.append(byte)
                index += 2
            } else {
                decoded.append(bytes[index])
            }
            index += 1
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// The tenant, the client and the request's cache directives (spec §5.9).
    var verificationContext: VerificationContext {
        let headers = request.headers
        return VerificationContext(
            nid: nid,
            clientIP: clientIP,
            cache: CacheDirectives(
                cacheControl: headers[values: .cacheControl],
                pragma: headers[values: Self.pragma]
            )
        )
    }
}

/// An operation's answer: a JSON body, a serialized document, or an empty 204.
enum APIReply: Sendable {
    case json(JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
    /// A JSON document already serialized.
    case document([UInt8])
    /// A streamed body (Server-Sent Events).
    case stream(ResponseBody, headers: HTTPFields)
    /// A static file with its content type and headers (the console).
    case file([UInt8], headers: HTTPFields)
    /// A permanent redirect (308) to `location`.
    case redirect(String)
    /// 200 with an empty body and these header fields (forward auth).
    case empty(headers: HTTPFields)
    case noContent

    /// The HTTP response.
    var response: Response {
        switch self {
        case .noContent:
            return Response(status: .noContent)
        case .stream(let body, let headers):
            return Response(status: .ok, headers: headers, body: body)
        case .file(let bytes, let headers):
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .redirect(let location):
            return Response(status: .permanentRedirect, headers: [.location: location])
        case .empty(let headers):
            return Response(status: .ok, headers: headers)
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
