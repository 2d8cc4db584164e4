import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TalosCore

/// The cluster's key invalidations over `LISTEN talos_cache_invalidation` on a connection of its own (spec §5.9):
/// every mutating transaction of every replica sends `NOTIFY talos_cache_invalidation, '<nid>:<key_id>'`.
struct PostgresInvalidationFeed: InvalidationFeed {
    static let channel = "talos_cache_invalidation"

    let client: PostgresClient
    let logger: Logger

    func listener(delivering sink: any InvalidationSink) -> any Service {
        Listener(client: client, sink: sink, logger: logger)
    }

    /// Listens until graceful shutdown. While the connection is down the sink is told so (its cache stops being
    /// used); after reconnecting and `LISTEN` succeeding it is told the feed is back (its cache is cleared first).
    struct Listener: Service {
        let client: PostgresClient
        let sink: any InvalidationSink
        let logger: Logger

        func run() async throws {
            await cancelWhenGracefulShutdown {
                var delay = Duration.milliseconds(100)
                while !Task.isCancelled {
                    let listened = await listenOnce()
                    sink.feedLost()
                    TalosMetrics.cacheListener(up: false)
                    if Task.isCancelled { break }
                    delay = listened ? .milliseconds(100) : min(delay * 2, .seconds(2))
                    try? await Task.sleep(for: delay)
                }
            }
        }

        /// One connection's life: `LISTEN`, deliver, until it fails. Returns whether `LISTEN` succeeded.
        private func listenOnce() async -> Bool {
            let listening = SetOnceFlag()
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: PostgresInvalidationFeed.channel) { notifications in
                        listening.set()
                        sink.feedRestored()
                        TalosMetrics.cacheListener(up: true)
                        logger.info(
                            "invalidation feed listening",
                            metadata: ["channel": "\(PostgresInvalidationFeed.channel)"]
                        )
                        for try await notification in notifications {
                            guard let (nid, keyID) = InvalidationMessage.parse(notification.payload) else { continue }
                            sink.invalidated(nid: nid, keyID: keyID)
                            TalosMetrics.cacheInvalidation(source: "remote")
                        }
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning(
                        "invalidation feed lost; the cache is bypassed until it returns",
                        metadata: ["error": "\(error)"]
                    )
                }
            }
            return listening.isSet
        }
    }
}

/// A flag set once from inside a `@Sendable` closure and read after it.
final class SetOnceFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

extension PostgresInvalidationFeed: RedactedDescription {}
extension PostgresInvalidationFeed.Listener: RedactedDescription {}
