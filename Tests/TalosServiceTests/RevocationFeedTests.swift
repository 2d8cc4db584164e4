import TalosTesting
import Testing

@testable import TalosCore

/// Spec §15.14, §16.15: replay after `Last-Event-ID`, reset for unknown ids and when the channel is lost and again when
/// it is restored, a change that cannot be queued is a loss, ids per tenant, a cap on subscribers, and only revoked or
/// deleted keys announced.
@Suite(.timeLimit(.minutes(1))) struct RevocationFeedTests {
    static let nid = UUIDText.nilUUID

    @Test func resumeReplaysAndUnknownResets() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        feed.publish(nid: Self.nid, keyID: "a", kind: .issued)
        feed.publish(nid: "other", keyID: "x", kind: .issued)
        feed.publish(nid: Self.nid, keyID: "b", kind: .imported)
        var all = try feed.subscribe(nid: Self.nid, lastEventID: 0).makeAsyncIterator()
        #expect(await all.next() == .reset)  // 0 is not one of this run's ids
        let live = try feed.subscribe(nid: Self.nid, lastEventID: nil)
        feed.publish(nid: Self.nid, keyID: "c", kind: .issued)
        var iterator = live.makeAsyncIterator()
        guard case .revoked(let c)? = await iterator.next() else {
            Issue.record("no live event")
            return
        }
        #expect(c.keyID == "c")
        var resumed = try feed.subscribe(nid: Self.nid, lastEventID: c.id - 2).makeAsyncIterator()
        guard case .revoked(let b)? = await resumed.next(), case .revoked(let again)? = await resumed.next() else {
            Issue.record("no replay")
            return
        }
        #expect(b.keyID == "b" && b.kind == .imported && again.keyID == "c")  // "x" is another tenant's
        feed.feedLost()
        #expect(await iterator.next() == .reset)
        var afterLoss = try feed.subscribe(nid: Self.nid, lastEventID: b.id).makeAsyncIterator()
        #expect(await afterLoss.next() == .reset)
    }

    /// The backlog keeps the last 10 000 events: a resume from before them resets, one from within replays; a
    /// subscriber that falls more than 10 000 messages behind gets a reset after what it still holds.
    @Test func backlogAndSlowSubscribersOverflowIntoReset() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        var slow = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        for index in 0...RevocationFeed.backlogSize { feed.publish(nid: Self.nid, keyID: "k\(index)", kind: .issued) }
        var messages: [RevocationFeedMessage] = []
        // Exactly what the buffer holds, so that a missing reset fails rather than waits.
        for _ in 0..<RevocationFeed.backlogSize {
            if let message = await slow.next() { messages.append(message) }
        }
        #expect(messages.last == .reset)
        // 10 001 events into a buffer of 10 000, then the reset: the two oldest are gone, the reset comes last.
        guard case .revoked(let oldestKept)? = messages.first else {
            Issue.record("no event")
            return
        }
        #expect(oldestKept.keyID == "k2" && messages.count == RevocationFeed.backlogSize)
        // The backlog holds k1…k10000: a resume after k0 (id of k2 − 2) replays from k1; one from before k0 resets.
        var afterK0 = try feed.subscribe(nid: Self.nid, lastEventID: oldestKept.id - 2).makeAsyncIterator()
        guard case .revoked(let first)? = await afterK0.next() else {
            Issue.record("no replay")
            return
        }
        #expect(first.keyID == "k1")
        var beforeBacklog = try feed.subscribe(nid: Self.nid, lastEventID: oldestKept.id - 3).makeAsyncIterator()
        #expect(await beforeBacklog.next() == .reset)
    }

    /// A stored key of `kind` numbered `n`, ACTIVE unless `status` says otherwise.
    static func key(_ kind: KeyKind, _ n: Int, status: KeyStatus = .active) -> APIKey {
        let now = Timestamp(seconds: 1_780_000_000)
        return APIKey(
            kind: kind,
            nid: nid,
            keyID: "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - "\(n)".count) + "\(n)",
            name: "n",
            actorID: "a",
            storedStatus: status,
            createTime: now,
            updateTime: now
        )
    }

    @Test func onlyRevocationsAndDeletionsAreAnnounced() async throws {
        let storage = MemoryKeyStorage()
        let active = Self.key(.issued, 1)
        let revoked = Self.key(.issued, 2, status: .revoked)
        let admin = Self.key(.admin, 3, status: .revoked)
        _ = try await storage.insert(active)
        _ = try await storage.insert(revoked)
        _ = try await storage.insert(admin)
        let feed = RevocationFeed(storage: storage, clock: ManualClock())
        var events = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        let runner = Task { try await feed.run() }
        feed.invalidated(nid: Self.nid, keyID: active.keyID)  // an update: not announced
        feed.invalidated(nid: Self.nid, keyID: admin.keyID)  // an admin key (spec §16.3): never announced
        feed.invalidated(nid: Self.nid, keyID: revoked.keyID)
        feed.invalidated(nid: Self.nid, keyID: String(repeating: "ab", count: 32))  // a deleted imported key
        guard case .revoked(let first)? = await events.next(), case .revoked(let second)? = await events.next() else {
            Issue.record("no events")
            return
        }
        #expect(first.keyID == revoked.keyID && first.kind == .issued)
        #expect(second.kind == .imported)
        runner.cancel()
    }

    /// Spec §16.3: a stream opened with an admin key ends when that key is revoked (here or on any replica).
    @Test func aRevokedAdminKeyEndsItsStreams() async throws {
        let storage = MemoryKeyStorage()
        let admin = Self.key(.admin, 4)
        _ = try await storage.insert(admin)
        let feed = RevocationFeed(storage: storage, clock: ManualClock())
        var mine = try feed.subscribe(nid: Self.nid, lastEventID: nil, adminKeyID: admin.keyID).makeAsyncIterator()
        var other = try feed.subscribe(nid: Self.nid, lastEventID: nil, adminKeyID: "another").makeAsyncIterator()
        let runner = Task { try await feed.run() }
        let revoked = Self.key(.admin, 4, status: .revoked)
        _ = try await storage.modify(kind: .admin, nid: Self.nid, keyID: admin.keyID) { _ in revoked }
        feed.invalidated(nid: Self.nid, keyID: admin.keyID)
        #expect(await mine.next() == nil)
        // The other stream goes on: it hears the next revocation.
        feed.publish(nid: Self.nid, keyID: "k", kind: .imported)
        guard case .revoked(let event)? = await other.next() else {
            Issue.record("the other stream ended")
            return
        }
        #expect(event.keyID == "k")
        runner.cancel()
    }

    /// A node nobody subscribed to does not read the database for the cluster's changes.
    @Test func noSubscriberNoReads() async throws {
        let storage = WriteCountingStorage(MemoryKeyStorage())
        let feed = RevocationFeed(storage: storage, clock: ManualClock())
        let runner = Task { try await feed.run() }
        for index in 0..<3 { feed.invalidated(nid: Self.nid, keyID: String(repeating: "\(index)", count: 64)) }
        var events = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        feed.invalidated(nid: Self.nid, keyID: String(repeating: "ab", count: 32))
        // Changes are handled in order: once this event is out, the three before it were handled too.
        guard case .revoked? = await events.next() else {
            Issue.record("no event")
            return
        }
        #expect(storage.reads == 1)
        runner.cancel()
    }

    /// NOTIFYs committed while the channel was down were never delivered: the restore resets every subscriber again,
    /// after the reset of the loss, and a resume from before the loss resets too.
    @Test func restoreAfterLossResetsAgain() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        feed.publish(nid: Self.nid, keyID: "a", kind: .issued)
        var live = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        feed.publish(nid: Self.nid, keyID: "b", kind: .issued)
        guard case .revoked(let b)? = await live.next() else {
            Issue.record("no event")
            return
        }
        feed.feedLost()
        #expect(await live.next() == .reset)
        feed.feedRestored()
        #expect(await live.next() == .reset)
        var resumed = try feed.subscribe(nid: Self.nid, lastEventID: b.id).makeAsyncIterator()
        #expect(await resumed.next() == .reset)
        // After the restore events flow again, and resuming from them works.
        feed.publish(nid: Self.nid, keyID: "c", kind: .issued)
        guard case .revoked(let c)? = await live.next() else {
            Issue.record("no event after the restore")
            return
        }
        #expect(c.keyID == "c" && c.id > b.id)
        feed.publish(nid: Self.nid, keyID: "d", kind: .issued)
        var afterC = try feed.subscribe(nid: Self.nid, lastEventID: c.id).makeAsyncIterator()
        guard case .revoked(let d)? = await afterC.next() else {
            Issue.record("no replay after the restore")
            return
        }
        #expect(d.keyID == "d")
        // A tenant whose first event follows the loss cannot vouch for the epoch (a resume from before the loss),
        // only for what came after it.
        let fresh = "22222222-2222-4222-8222-222222222222"
        var freshLive = try feed.subscribe(nid: fresh, lastEventID: nil).makeAsyncIterator()
        feed.publish(nid: fresh, keyID: "e", kind: .issued)
        guard case .revoked(let e)? = await freshLive.next() else {
            Issue.record("no event for the new tenant")
            return
        }
        var afterLoss = try feed.subscribe(nid: fresh, lastEventID: e.id - 1).makeAsyncIterator()
        #expect(await afterLoss.next() == .revoked(e))
        var beforeLoss = try feed.subscribe(nid: fresh, lastEventID: e.id - 2).makeAsyncIterator()
        #expect(await beforeLoss.next() == .reset)
    }

    /// The change queue holds 100 000 changes: one more is a loss of the channel, never a silent drop.
    @Test func aChangeThatCannotBeQueuedResets() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        var live = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        // Nothing consumes the queue (`run()` is not running): it fills.
        for index in 0..<RevocationFeed.queuedChanges { feed.invalidated(nid: Self.nid, keyID: "k\(index)") }
        feed.publish(nid: Self.nid, keyID: "marker", kind: .issued)
        guard case .revoked(let marker)? = await live.next() else {
            Issue.record("no event")
            return
        }
        #expect(marker.keyID == "marker")  // a full queue is not yet a loss
        feed.invalidated(nid: Self.nid, keyID: "one-too-many")
        #expect(await live.next() == .reset)
    }

    /// One tenant's event ids say nothing about another's activity: each tenant counts its own.
    @Test func eventIDsArePerTenant() async throws {
        let other = "11111111-1111-4111-8111-111111111111"
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        var mine = try feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        var theirs = try feed.subscribe(nid: other, lastEventID: nil).makeAsyncIterator()
        feed.publish(nid: Self.nid, keyID: "a", kind: .issued)
        for index in 0..<5 { feed.publish(nid: other, keyID: "x\(index)", kind: .issued) }
        feed.publish(nid: Self.nid, keyID: "b", kind: .issued)
        guard case .revoked(let a)? = await mine.next(), case .revoked(let b)? = await mine.next(),
            case .revoked(let x0)? = await theirs.next()
        else {
            Issue.record("no events")
            return
        }
        #expect(b.id == a.id + 1)  // the other tenant's five revocations left no gap
        #expect(x0.id == a.id)
        // A resume replays only the tenant's own events after its own id.
        var resumed = try feed.subscribe(nid: Self.nid, lastEventID: a.id).makeAsyncIterator()
        guard case .revoked(let replayed)? = await resumed.next() else {
            Issue.record("no replay")
            return
        }
        #expect(replayed.keyID == "b")
    }

    /// Spec §16.14: subscribers have their own cap; a slot frees when a stream is dropped.
    @Test func subscribersAreCapped() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock(), maxSubscribers: 2)
        let first = try feed.subscribe(nid: Self.nid, lastEventID: nil)
        _ = try feed.subscribe(nid: Self.nid, lastEventID: nil)  // dropped at once: its slot frees
        let second = try feed.subscribe(nid: Self.nid, lastEventID: nil)
        #expect(throws: TalosError(.serviceUnavailable, "too many revocation feed subscribers; try again later")) {
            try feed.subscribe(nid: Self.nid, lastEventID: nil)
        }
        _ = (first, second)
    }
}
