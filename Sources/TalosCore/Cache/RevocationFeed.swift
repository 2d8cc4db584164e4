public import ServiceLifecycle
import Synchronization

/// One revocation the feed announces (spec §15.14): a key revoked, deleted or rotated away. Never a secret, never
/// metadata.
public struct RevocationEvent: Sendable, Hashable {
    /// Monotonic on this node: the node's start second times 10⁹ plus a sequence number, so ids from another node
    /// (or an earlier run) are recognised as unknown.
    public let id: Int64
    /// The tenant.
    public let nid: String
    /// The key that was revoked, deleted or rotated away.
    public let keyID: String
    /// `issued` or `imported`.
    public let kind: KeyKind
    /// When this node learned of it.
    public let time: Timestamp
}

/// What a subscriber receives.
public enum RevocationFeedMessage: Sendable, Hashable {
    /// A revocation.
    case revoked(RevocationEvent)
    /// Events may have been missed: drop every cached verification.
    case reset
}

/// The revocation feed of spec §15.14: fed by the same invalidations as the verification cache, it announces the
/// changed keys that are now revoked or gone, keeps the last 10 000 events for resumption, and tells subscribers to
/// reset when it cannot vouch for what they missed (an unknown or too old `Last-Event-ID`, or the invalidation
/// channel was down).
public final class RevocationFeed: InvalidationSink, Service {
    /// Events kept for resumption.
    public static let backlogSize = 10_000

    private struct Subscriber {
        let nid: String
        let continuation: AsyncStream<RevocationFeedMessage>.Continuation
    }

    private struct State {
        var sequence: Int64 = 0
        var backlog: [RevocationEvent] = []
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
    }

    private let storage: any KeyStorage
    private let clock: any WallClock
    private let epoch: Int64
    private let state = Mutex(State())
    private let changes: AsyncStream<(nid: String, keyID: String)>
    private let changed: AsyncStream<(nid: String, keyID: String)>.Continuation

    /// - Parameters:
    ///   - storage: where a changed key is looked up to tell a revocation from an update.
    ///   - clock: event times.
    public init(storage: any KeyStorage, clock: any WallClock) {
        self.storage = storage
        self.clock = clock
        self.epoch = clock.now().seconds * 1_000_000_000
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Queues a changed key for the revocation check of `run()`.
    public func invalidated(nid: String, keyID: String) { changed.yield((nid, keyID)) }

    /// Events may have been missed while the channel was down: every subscriber resets, and so does every resume
    /// from before now.
    public func feedLost() {
        state.withLock { state in
            state.backlog.removeAll()
            for subscriber in state.subscribers.values { subscriber.continuation.yield(.reset) }
        }
    }

    /// Nothing to do: `feedLost` already told every subscriber to reset.
    public func feedRestored() {}

    /// Tells revocations from updates by reading the changed key, in order, until graceful shutdown.
    public func run() async throws {
        for await change in changes.cancelOnGracefulShutdown() {
            // Until someone subscribes there is nobody to tell and no event id anyone could resume from: a node
            // without subscribers does not read the database for every change in the cluster.
            guard state.withLock({ $0.nextSubscriber > 0 }) else { continue }
            let kind = KeyKind(keyID: change.keyID)
            let key: APIKey?
            do {
                key = try await storage.fetch(kind: kind, nid: change.nid, keyID: change.keyID)
            } catch {
                feedLost()  // cannot tell: subscribers must not trust what they hold
                continue
            }
            guard key == nil || key?.storedStatus == .revoked else { continue }
            publish(nid: change.nid, keyID: change.keyID, kind: kind)
        }
        state.withLock { state in
            for subscriber in state.subscribers.values { subscriber.continuation.finish() }
        }
    }

    func publish(nid: String, keyID: String, kind: KeyKind) {
        let now = clock.now()
        state.withLock { state in
            state.sequence += 1
            let event = RevocationEvent(id: epoch + state.sequence, nid: nid, keyID: keyID, kind: kind, time: now)
            state.backlog.append(event)
            if state.backlog.count > Self.backlogSize {
                state.backlog.removeFirst(state.backlog.count - Self.backlogSize)
            }
            for subscriber in state.subscribers.values where subscriber.nid == nid {
                // A subscriber more than `backlogSize` messages behind loses the oldest: it must reset after the
                // ones it still has.
                if case .dropped = subscriber.continuation.yield(.revoked(event)) {
                    subscriber.continuation.yield(.reset)
                }
            }
        }
    }

    /// The messages for a subscriber of tenant `nid`: first a replay of what followed `lastEventID` (or `.reset`
    /// when that id is unknown or no longer in the backlog), then every new event until the stream is dropped.
    public func subscribe(nid: String, lastEventID: Int64?) -> AsyncStream<RevocationFeedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: RevocationFeedMessage.self,
            bufferingPolicy: .bufferingNewest(Self.backlogSize)
        )
        let id = state.withLock { state -> Int in
            if let lastEventID {
                let known =
                    lastEventID == epoch + state.sequence
                    || state.backlog.first.map { lastEventID >= $0.id - 1 && lastEventID <= epoch + state.sequence }
                        ?? false
                if known {
                    for event in state.backlog where event.id > lastEventID && event.nid == nid {
                        continuation.yield(.revoked(event))
                    }
                } else {
                    continuation.yield(.reset)
                }
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(nid: nid, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}
