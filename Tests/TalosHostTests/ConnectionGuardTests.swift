import Foundation
import HummingbirdTesting
import NIOCore
import NIOPosix
import TalosCore
import Testing

/// The real listener (`GuardedHTTP1Channel`) driven over loopback by a raw TCP client: the transport rules of spec
/// §15.3, §16.13, §16.14 and §16.16 that no in-process router test reaches.
@Suite(.timeLimit(.minutes(1))) struct ConnectionGuardTests {
    /// A request and the status line, envelope status and message it must get.
    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let request: String
        let status: Int
        let message: String
        var testDescription: String { name }
    }

    static let refusals = [
        Refusal(
            name: "two Host fields",
            request: "GET /health/alive HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n",
            status: 400,
            message: "request has more than one Host header"
        ),
        Refusal(
            name: "no Host on HTTP/1.1",
            request: "GET /health/alive HTTP/1.1\r\n\r\n",
            status: 400,
            message: "request has no Host header"
        ),
        Refusal(
            name: "absolute form without authority",
            request: "GET http:///health/alive HTTP/1.1\r\nHost: x\r\n\r\n",
            status: 400,
            message: "request target has no authority"
        ),
        Refusal(
            name: "a transfer coding before chunked",
            request:
                "POST /v2alpha1/admin/apiKeys:verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                + "2\r\n{}\r\n0\r\n\r\n",
            status: 501,
            message: "transfer coding \"gzip, chunked\" is not supported"
        ),
        Refusal(
            name: "CONNECT",
            request: "CONNECT a.example.com:443 HTTP/1.1\r\nHost: a.example.com:443\r\n\r\n",
            status: 404,
            message: "route not found"
        ),
        Refusal(
            name: "a header block over 16 KiB",
            request: "GET /health/alive HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 17_000))\r\n\r\n",
            status: 431,
            message: "request header block exceeds 16384 bytes"
        ),
    ]

    @Test(arguments: refusals) func refusedWithTheEnvelope(_ refusal: Refusal) async throws {
        try await withAPI(live: true) { api in
            let reply = try await RawConnection.exchange(port: try #require(api.client.port), refusal.request)
            #expect(reply.closed)
            let response = try #require(reply.responses.first, "no response: \(reply.text.prefix(200))")
            #expect(response.status == refusal.status)
            #expect(response.json["error"]?["message"]?.stringValue == refusal.message)
        }
    }

    /// HTTP/1.0 predates `Host`: served. Chunked alone: served. An absolute-form target's authority is the host.
    @Test func acceptedForms() async throws {
        try await withAPI(live: true) { api in
            let port = try #require(api.client.port)
            let old = try await RawConnection.exchange(
                port: port,
                "GET /health/alive HTTP/1.0\r\nConnection: close\r\n\r\n"
            )
            #expect(old.responses.first?.status == 200 && old.closed)
            let body = #"{"credential":"x"}"#
            let chunked = try await RawConnection.exchange(
                port: port,
                "POST /v2alpha1/admin/apiKeys:verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
            )
            #expect(chunked.responses.first?.json["error_code"] == "VERIFICATION_ERROR_NOT_FOUND" && chunked.closed)
            let absolute = try await RawConnection.exchange(
                port: port,
                "GET http://localhost:4420/health/alive HTTP/1.1\r\nConnection: close\r\n\r\n"
            )
            #expect(absolute.responses.first?.status == 200 && absolute.closed)
        }
    }

    /// Spec §16.14: at most 16 requests in progress, the rest held and never dropped — 200 in one write are all
    /// answered, in order; and a refusal after complete requests comes after their answers.
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withAPI(live: true) { api in
            let port = try #require(api.client.port)
            let requests = (0..<200).map { "GET /health/alive HTTP/1.1\r\nHost: x\r\nX-Request-ID: r\($0)\r\n\r\n" }
            let reply = try await RawConnection.exchange(
                port: port,
                requests.joined() + "GET /health/alive HTTP/1.1\r\n\r\n"
            )
            #expect(reply.responses.count == 201)
            #expect(reply.responses.prefix(200).map(\.requestID) == (0..<200).map { "r\($0)" })
            #expect(reply.responses.last?.status == 400 && reply.closed)
        }
    }

    /// Spec §15.3: a request not complete within the read timeout gets 408 with the envelope.
    @Test func slowRequestsTimeOut() async throws {
        var config = testConfig()
        config.readTimeout = .milliseconds(300)
        try await withAPI(config, live: true) { api in
            let reply = try await RawConnection.exchange(port: try #require(api.client.port), "GET /health/al")
            #expect(reply.responses.first?.status == 408 && reply.closed)
        }
    }

    /// Spec §16.14: a client that pipelines requests and never reads loses its connection once its output has made
    /// no progress for the idle timeout.
    @Test func aClientThatNeverReadsIsClosed() async throws {
        var config = testConfig()
        config.idleTimeout = .milliseconds(300)
        try await withAPI(config, live: true) { api in
            // The OpenAPI document is large: 2 000 of them are far more than every buffer on the way holds.
            let request = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
            let reply = try await RawConnection.exchange(
                port: try #require(api.client.port),
                String(repeating: request, count: 2_000),
                readAfter: .seconds(3)
            )
            #expect(reply.closed)
            #expect(reply.responses.count < 2_000)
        }
    }
}

/// A raw TCP client: sends bytes as given, then reads until the server closes the connection (every exchange of
/// these tests ends so) or 10 s pass.
enum RawConnection {
    struct Response {
        let status: Int
        let headers: [(String, String)]
        let body: String
        var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
        var requestID: String? { headers.first { $0.0.lowercased() == "x-request-id" }?.1 }
    }

    struct Reply {
        let text: String
        let responses: [Response]
        /// Whether the server closed the connection (rather than the 10 s running out).
        let closed: Bool
    }

    /// - Parameter readAfter: how long to read nothing first (a client that does not read meanwhile).
    static func exchange(port: Int, _ request: String, readAfter: Duration = .zero) async throws -> Reply {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let watchdog = Task { [channel = channel.channel] () -> Bool in
            guard (try? await Task.sleep(for: readAfter + .seconds(10))) != nil else { return false }
            channel.close(promise: nil)
            return true
        }
        let text = try await channel.executeThenClose { inbound, outbound in
            // Written aside: a server that stops reading must not block the test in its own write.
            let writer = Task { try? await outbound.write(ByteBuffer(string: request)) }
            defer { writer.cancel() }
            if readAfter != .zero { try await Task.sleep(for: readAfter) }
            var text = ""
            do {
                for try await chunk in inbound { text += String(buffer: chunk) }
            } catch {
                // A reset is a close too.
            }
            return text
        }
        watchdog.cancel()
        return Reply(text: text, responses: parse(text), closed: !(await watchdog.value))
    }

    /// The complete responses in `text` (Content-Length framing, as every Talos answer has).
    static func parse(_ text: String) -> [Response] {
        var responses: [Response] = []
        var rest = Substring(text)
        while let end = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            let headers = lines.dropFirst().map { line -> (String, String) in
                let parts = line.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), String(parts.count > 1 ? parts[1].drop { $0 == " " } : ""))
            }
            let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
            let bodyStart = end.upperBound
            guard rest.utf8.distance(from: bodyStart, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length)
            responses.append(Response(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}
