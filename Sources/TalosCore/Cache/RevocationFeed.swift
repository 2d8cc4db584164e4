public import ServiceLifecycle
import Synchronization

/// One revocation the feed announces (spec §15.14): a key revoked, deleted or rotated away. Never a secret, never
/// metadata.
public struct RevocationEvent: Sendable, Hashable {
    /// Monotonic per tenant on this node (spec §16.15): the node's start second times 10⁹ plus the tenant's sequence
    /// number, so that ids from another node (or an earlier run) are recognised as unknown and one tenant's ids say
    /// nothing about another's activity.
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

/// The revocation feed of spec §15.14 and §16.15: fed by the same invalidations as the verification cache, it
/// announces the changed keys that are now revoked or gone, keeps the last 10 000 events for resumption, and tells
/// subscribers to reset when it cannot vouch for what they missed: an unknown or too old `Last-Event-ID`, the
/// invalidation channel lost and again when it is restored (what was committed in between was never delivered), or
/// a change that could not be queued.
public final class RevocationFeed: InvalidationSink, Service {
    /// Events kept for resumption, across tenants.
    public static let backlogSize = 10_000
    /// Changes queued for the revocation check; one more counts as a loss of the channel.
    public static let queuedChanges = 100_000

    private struct Subscriber {
        let nid: String
        /// The admin key the subscriber authenticated with (spec §16.3); its revocation ends the stream.
        let adminKeyID: String?
        let continuation: AsyncStream<RevocationFeedMessage>.Continuation
    }

    /// One tenant's ids: a resume from `floor` up to `epoch + sequence` is complete in the backlog.
    private struct TenantLog {
        var sequence: Int64 = 0
        /// The newest id from which the backlog no longer vouches for what follows.
        var floor: Int64
    }

    private struct State {
        var tenants: [String: TenantLog] = [:]
        var backlog: [RevocationEvent] = []
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        /// Whether the channel was ever lost: a tenant without events can then no longer vouch for its first id.
        var lost = false

        /// The tenant's log; one without events starts at the epoch, or past a skipped id once the channel was
        /// lost (as `resetAll` leaves the tenants it knows).
        func log(of nid: String, epoch: Int64) -> TenantLog {
            tenants[nid] ?? (lost ? TenantLog(sequence: 1, floor: epoch + 1) : TenantLog(floor: epoch))
        }
    }

    private let storage: any KeyStorage
    private let clock: any WallClock
    private let epoch: Int64
    private let maxSubscribers: Int
    private let state = Mutex(State())
    private let changes: AsyncStream<(nid: String, keyID: String)>
    private let changed: AsyncStream<(nid: String, keyID: String)>.Continuation

    /// - Parameters:
    ///   - storage: where a changed key is looked up to tell a revocation from an update.
    ///   - clock: event times.
    ///   - maxSubscribers: subscribers at once (`serve.http.max_feed_subscribers`); more are refused.
    public init(storage: any KeyStorage, clock: any WallClock, maxSubscribers: Int = 256) {
        self.storage = storage
        self.clock = clock
        self.epoch = clock.now().seconds * 1_000_000_000
        self.maxSubscribers = maxSubscribers
        (changes, changed) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(Self.queuedChanges))
    }

    /// Queues a changed key for the revocation check of `run()`; a change that cannot be queued is a loss.
    public func invalidated(nid: String, keyID: String) {
        if case .dropped = changed.yield((nid, keyID)) { resetAll() }
    }

    /// Events may have been missed while the channel is down: every subscriber resets, and so does every resume
    /// from before now.
    public func feedLost() { resetAll() }

    /// What was committed while the channel was down was never delivered: every subscriber resets again.
    public func feedRestored() { resetAll() }

    private func resetAll() {
        state.withLock { state in
            state.backlog.removeAll()
            state.lost = true
            // A skipped id per tenant: no subscriber holds it, so every resume from before now is unknown.
            state.tenants = state.tenants.mapValues { [epoch] log in
                TenantLog(sequence: log.sequence + 1, floor: epoch + log.sequence + 1)
            }
            for subscriber in state.subscribers.values { subscriber.continuation.yield(.reset) }
        }
    }

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
                // A UUID that is no issued key may be an admin key (spec §16.3): those are not API keys, and their
                // ids are not for the feed's subscribers; a revoked one ends the streams it opened.
                if key == nil, kind == .issued,
                    let admin = try await storage.fetch(kind: .admin, nid: change.nid, keyID: change.keyID)
                {
                    if admin.storedStatus == .revoked { endStreams(of: admin) }
                    continue
                }
            } catch {
                resetAll()  // cannot tell: subscribers must not trust what they hold
                continue
            }
            guard key == nil || key?.storedStatus == .revoked else { continue }
            publish(nid: change.nid, keyID: change.keyID, kind: kind)
        }
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.continuation.finish() }
    }

    /// Ends every stream opened with the admin key `admin`.
    private func endStreams(of admin: APIKey) {
        // Finished outside the lock: a finished stream's termination handler takes it.
        let ending = state.withLock { state in
            state.subscribers.values.filter { $0.nid == admin.nid && $0.adminKeyID == admin.keyID }
        }
        for subscriber in ending { subscriber.continuation.finish() }
    }

    func publish(nid: String, keyID: String, kind: KeyKind) {
        let now = clock.now()
        state.withLock { state in
            var log = state.log(of: nid, epoch: epoch)
            log.sequence += 1
            state.tenants[nid] = log
            let event = RevocationEvent(id: epoch + log.sequence, nid: nid, keyID: keyID, kind: kind, time: now)
            state.backlog.append(event)
            if state.backlog.count > Self.backlogSize {
                let trimmed = state.backlog.count - Self.backlogSize
                for old in state.backlog.prefix(trimmed) { state.tenants[old.nid]?.floor = old.id }
                state.backlog.removeFirst(trimmed)
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
    /// when that id is unknown or no longer vouched for), then every new event until the stream is dropped, or until
    /// `adminKeyID` (the admin key the subscriber authenticated with) is revoked on any replica.
    /// - Throws: 503 `SERVICE_UNAVAILABLE` when `maxSubscribers` are subscribed already.
    public func subscribe(
        nid: String,
        lastEventID: Int64?,
        adminKeyID: String? = nil
    ) throws(TalosError) -> AsyncStream<RevocationFeedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: RevocationFeedMessage.self,
            bufferingPolicy: .bufferingNewest(Self.backlogSize)
        )
        let id = state.withLock { state -> Int? in
            guard state.subscribers.count < maxSubscribers else { return nil }
            if let lastEventID {
                let log = state.log(of: nid, epoch: epoch)
                if log.floor <= lastEventID, lastEventID <= epoch + log.sequence {
                    for event in state.backlog where event.id > lastEventID && event.nid == nid {
                        continuation.yield(.revoked(event))
                    }
                } else {
                    continuation.yield(.reset)
                }
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(nid: nid, adminKeyID: adminKeyID, continuation: continuation)
            return id
        }
        guard let id else {
            continuation.finish()
            throw TalosError(.serviceUnavailable, "too many revocation feed subscribers; try again later")
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}
