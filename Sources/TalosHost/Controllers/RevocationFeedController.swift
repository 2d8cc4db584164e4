import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TalosCore

/// `GET /v2alpha1/admin/revocations:watch` (spec §15.14): the tenant's revocations as Server-Sent Events, resumable
/// with `Last-Event-ID`, with a `: keep-alive` comment every 15 s.
///
/// A stream opened with an admin key (spec §16.3) ends when that key is revoked on any replica or expires, so that a
/// revoked key keeps no stream open.
struct RevocationFeedController: APIController {
    let feed: RevocationFeed
    let clock: any WallClock

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let keepAlive = Duration.seconds(15)
    /// Messages held for a subscriber that is not reading.
    static let bufferedMessages = 1024

    var routes: [Route] {
        [.plain(.get, "/v2alpha1/admin/revocations:watch", .admin, watch).requires(.revocationsWatch)]
    }

    func watch(_ request: APIRequest) async throws -> APIReply {
        // A Last-Event-ID that is not one of ours is unknown: the subscriber gets a reset.
        let lastID = request.request.headers[Self.lastEventID].map { Int64($0.trimmingSpaces) ?? -1 }
        let admin = AdminPrincipal.current
        let messages = try feed.subscribe(nid: request.nid, lastEventID: lastID, adminKeyID: admin?.keyID)
        // A subscriber that stops reading fills this buffer: its stream then ends after what it holds, and it resumes
        // from its Last-Event-ID (or resets) when it reconnects. The server never buffers without bound.
        let (body, output) = AsyncStream.makeStream(
            of: ByteBuffer.self,
            bufferingPolicy: .bufferingOldest(Self.bufferedMessages)
        )
        output.yield(ByteBuffer(string: ": connected\n\n"))
        @Sendable func send(_ text: String) {
            if case .dropped = output.yield(ByteBuffer(string: text)) { output.finish() }
        }
        // The events and the keep-alive ticks are merged into the one body; both end when the client goes away.
        let forward = Task {
            for await message in messages { send(Self.encode(message)) }
            output.finish()
        }
        let ticks = Task {
            while (try? await Task.sleep(for: Self.keepAlive)) != nil { send(": keep-alive\n\n") }
        }
        let expiry = Task { [clock] in
            guard let expireTime = admin?.expireTime else { return }
            let left = expireTime.microseconds - clock.now().microseconds
            if left > 0, (try? await Task.sleep(for: .microseconds(left))) == nil { return }
            output.finish()
        }
        output.onTermination = { _ in
            forward.cancel()
            ticks.cancel()
            expiry.cancel()
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        // Graceful shutdown ends the stream, so that a draining replica does not wait out its subscribers.
        return .stream(ResponseBody(asyncSequence: body.cancelOnGracefulShutdown()), headers: headers)
    }

    /// One SSE message; `data` carries no secret and no metadata.
    static func encode(_ message: RevocationFeedMessage) -> String {
        switch message {
        case .reset:
            return "event: reset\ndata: {}\n\n"
        case .revoked(let event):
            let data: JSONValue = [
                "key_id": .string(event.keyID), "type": .string(event.kind.rawValue),
                "time": .string(event.time.rfc3339),
            ]
            return "id: \(event.id)\nevent: revoked\ndata: \(data.compactString)\n\n"
        }
    }
}
