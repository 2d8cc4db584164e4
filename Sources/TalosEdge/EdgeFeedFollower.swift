import AsyncHTTPClient
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import TalosCore

/// Follows one tenant's revocation feed on the upstream (`GET /v2alpha1/admin/revocations:watch`, Server-Sent Events,
/// asked with `host`, which picks the tenant; `nil`: the upstream's own host) and evicts what it names. The cache is
/// usable only while every feed is open: it is emptied when a stream opens (what was revoked meanwhile was never
/// heard) and when one is lost or reset.
struct EdgeFeedFollower: Service {
    let options: EdgeOptions
    let client: HTTPClient
    let cache: EdgeCache
    let host: String?
    let logger: Logger

    private var name: String { host ?? "" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var delay = Duration.milliseconds(250)
            var lastEventID: String?
            while !Task.isCancelled {
                do {
                    try await follow(&lastEventID) { delay = .milliseconds(250) }
                    logger.warning("revocation feed ended; caching paused")
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("revocation feed lost; caching paused", metadata: ["error": "\(error)"])
                }
                cache.feed(name, open: false)
                EdgeMetrics.feedUp.record(0)
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        cache.feed(name, open: false)
    }

    private func follow(_ lastEventID: inout String?, connected: () -> Void) async throws {
        var request = HTTPClientRequest(url: options.upstream + "/v2alpha1/admin/revocations:watch")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let key = options.adminKey { request.headers.add(name: "Talos-Admin-Key", value: key) }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        if let host { request.headers.replaceOrAdd(name: "Host", value: host) }
        let response = try await client.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw FeedRefused(status: Int(response.status.code))
        }
        cache.feed(name, open: true)
        EdgeMetrics.feedUp.record(cache.isAvailable ? 1 : 0)
        connected()
        logger.info("following the upstream's revocation feed", metadata: ["host": "\(host ?? "(upstream)")"])
        var pending: [UInt8] = []
        var event = "message"
        for try await chunk in response.body {
            pending += chunk.readableBytesView
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.hasSuffix("\r") { line.removeLast() }
                if line.isEmpty {
                    event = "message"
                } else if line.hasPrefix("event:") {
                    event = String(line.dropFirst(6)).trimmingSpaces
                    if event == "reset" { cache.clear() }
                } else if line.hasPrefix("id:") {
                    lastEventID = String(line.dropFirst(3)).trimmingSpaces
                } else if line.hasPrefix("data:"), event == "revoked",
                    let keyID = (try? JSONValue.parse(Array(line.dropFirst(5).utf8)))?["key_id"]?.stringValue
                {
                    cache.evict(keyID: keyID)
                    EdgeMetrics.evictions.increment()
                    let usage = cache.usage
                    EdgeMetrics.entries.record(usage.entries)
                    EdgeMetrics.bytes.record(usage.bytes)
                }
            }
        }
    }

    struct FeedRefused: Error, CustomStringConvertible {
        let status: Int
        var description: String { "the upstream answered \(status) to the revocation feed" }
    }
}

extension EdgeFeedFollower: RedactedDescription {}
