import AsyncHTTPClient
import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import TalosCore

/// Forwards every request to the upstream and answers cacheable verify requests from the cache (docs/edge.md).
struct EdgeResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let options: EdgeOptions
    let client: HTTPClient
    let cache: EdgeCache
    let logger: Logger

    static let cacheHeader = HTTPField.Name("Ory-Talos-Cache")!
    static let adminKeyHeader = HTTPField.Name("Talos-Admin-Key")!
    static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let pragma = HTTPField.Name("Pragma")!
    /// Fields that belong to one connection, never forwarded (RFC 9110 §7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "host",
    ]

    func respond(to request: Request, context: Context) async throws -> Response {
        let host = Self.host(of: request, trustForwarded: options.trustForwardedHost)
        switch request.uri.path {
        case "/health/alive": return Self.json(["status": "ok"])
        case "/health/ready": return await ready()
        default: break
        }
        if !options.allowedHosts.isEmpty, !options.allowedHosts.contains(Self.bare(host)) {
            return Self.error(TalosError(.hostNotAllowed, "host not allowed"), status: .forbidden)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: EdgeNode.maxBody)
        } catch {
            return Self.error(
                TalosError(.requestTooLarge, "request body exceeds \(EdgeNode.maxBody) bytes"),
                status: .contentTooLarge
            )
        }
        guard request.method == .post, request.uri.path == EdgeNode.verifyPath else {
            EdgeMetrics.forwarded.increment()
            return try await forward(request, body: body, host: host, stream: true).response
        }
        let directives = CacheDirectives(
            cacheControl: request.headers[values: .cacheControl],
            pragma: request.headers[values: Self.pragma]
        )
        guard let credential = Self.cacheableCredential(body), cache.isAvailable, directives.write else {
            EdgeMetrics.bypassed.increment()
            return try await forward(request, body: body, host: host, stream: false).response
        }
        let adminKey = request.headers[Self.adminKeyHeader] ?? request.headers[.authorization] ?? ""
        let key = cache.key(host: Self.bare(host), adminKey: adminKey, credential: credential)
        if directives.read, let entry = cache.get(key) {
            EdgeMetrics.hits.increment()
            var headers = entry.headers
            headers[Self.cacheHeader] = "HIT"
            if let id = request.headers[Self.requestID] { headers[Self.requestID] = id }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: entry.body)))
        }
        EdgeMetrics.misses.increment()
        let ticket = cache.ticket()
        var answer = try await forward(request, body: body, host: host, stream: false)
        answer.headers[Self.cacheHeader] = "MISS"
        if answer.status == .ok, let stored = answer.bytes,
            let (keyID, ttl) = Self.cacheable(stored, limit: options.cacheTTL)
        {
            var headers = answer.headers
            headers[Self.requestID] = nil
            cache.put(key, body: stored, headers: headers, keyID: keyID, ttl: ttl, ticket: ticket)
            let usage = cache.usage
            EdgeMetrics.entries.record(usage.entries)
            EdgeMetrics.bytes.record(usage.bytes)
        }
        return answer.response
    }

    /// An upstream answer: collected (`bytes`) when it may be cached, streamed otherwise.
    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var bytes: [UInt8]?
        var stream: ResponseBody?

        var response: Response {
            Response(
                status: status,
                headers: headers,
                body: stream ?? .init(byteBuffer: ByteBuffer(bytes: bytes ?? []))
            )
        }
    }

    private func forward(_ request: Request, body: ByteBuffer, host: String, stream: Bool) async throws -> Answer {
        var outgoing = HTTPClientRequest(url: options.upstream + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        // The upstream resolves the tenant from the host the caller named.
        outgoing.headers.replaceOrAdd(name: "Host", value: host)
        if body.readableBytes > 0 { outgoing.body = .bytes(body) }
        let response: HTTPClientResponse
        do {
            // A revocation feed streamed through the edge stays open; everything else completes within 30 s.
            let feed = request.uri.path.hasSuffix("/revocations:watch")
            response = try await client.execute(outgoing, timeout: feed ? .hours(24) : .seconds(30))
        } catch {
            EdgeMetrics.upstreamErrors.increment()
            logger.warning("upstream unreachable", metadata: ["error": "\(error)"])
            var failure = Answer(status: .badGateway, headers: [:], bytes: nil, stream: nil)
            let envelope = Self.error(TalosError(.serviceUnavailable, "upstream unreachable"), status: .badGateway)
            failure.headers = envelope.headers
            failure.stream = envelope.body
            return failure
        }
        var headers = HTTPFields()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(response.status.code))
        if stream {
            return Answer(
                status: status,
                headers: headers,
                bytes: nil,
                stream: ResponseBody(asyncSequence: response.body)
            )
        }
        let collected = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: status, headers: headers, bytes: Array(collected.readableBytesView), stream: nil)
    }

    /// The credential of a verify body that may be cached: a string `credential` and no `expected_audiences` (their
    /// answers depend on more than the key).
    static func cacheableCredential(_ body: ByteBuffer) -> String? {
        guard case .object(let object)? = try? JSONValue.parse(Array(body.readableBytesView)),
            case .string(let credential)? = object["credential"], !credential.isEmpty,
            object["expected_audiences"] == nil || object["expected_audiences"] == .array([])
        else { return nil }
        return credential
    }

    /// The key id of a valid answer and how long it may be reused: `limit`, or less when the key expires sooner;
    /// `nil` for an invalid answer or below one second (one parse of the answer).
    static func cacheable(
        _ body: [UInt8],
        limit: Duration,
        now: Timestamp = SystemWallClock().now()
    ) -> (keyID: String, ttl: Duration)? {
        guard let answer = try? JSONValue.parse(body), answer["is_valid"] == .bool(true),
            let keyID = answer["key_id"]?.stringValue
        else { return nil }
        var ttl = limit
        if let expiry = answer["expire_time"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) {
            ttl = min(ttl, .microseconds(expiry.microseconds - now.microseconds))
        }
        return ttl >= .seconds(1) ? (keyID, ttl) : nil
    }

    private func ready() async -> Response {
        var probe = HTTPClientRequest(url: options.upstream + "/health/ready")
        probe.method = .GET
        let ok = (try? await client.execute(probe, timeout: .seconds(2)))?.status == .ok
        return ok
            ? Self.json(["status": "ok"]) : Self.json(["status": "upstream not ready"], status: .serviceUnavailable)
    }

    static func host(of request: Request, trustForwarded: Bool) -> String {
        if trustForwarded, let forwarded = request.headers[values: forwardedHost].last?.split(separator: ",").last {
            return String(forwarded).trimmingSpaces
        }
        return request.head.authority ?? ""
    }

    /// The host without its port, in lower case.
    static func bare(_ host: String) -> String {
        if host.hasPrefix("[") { return String(host.prefix { $0 != "]" }.dropFirst()).lowercased() }
        return String(host.prefix { $0 != ":" }).lowercased()
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.serialized()))
        )
    }

    static func error(_ error: TalosError, status: HTTPResponse.Status) -> Response {
        json(
            ErrorEnvelopeBody.json(
                httpCode: status.code,
                status: error.reason.status,
                reason: error.reason.name,
                domain: "www.ory.com/talos",
                message: error.message,
                metadata: error.metadata,
                requestID: ""
            ),
            status: status
        )
    }
}

/// The edge's metrics listener: `GET /metrics`, and its health.
struct EdgeMetricsResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let render: @Sendable () -> [UInt8]
    let responder: EdgeResponder

    func respond(to request: Request, context: Context) async throws -> Response {
        switch request.uri.path {
        case "/health/alive", "/health/ready": return try await responder.respond(to: request, context: context)
        case "/metrics": break
        default: return EdgeResponder.error(TalosError(.notFound, "route not found"), status: .notFound)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: render()))
        )
    }
}
