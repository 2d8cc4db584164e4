import TalosTesting
import Testing

@testable import TalosCore

/// Spec §15.14: replay after `Last-Event-ID`, reset for unknown ids and after a lost channel, tenants apart, and only
/// revoked or deleted keys announced.
@Suite(.timeLimit(.minutes(1))) struct RevocationFeedTests {
    static let nid = UUIDText.nilUUID

    @Test func resumeReplaysAndUnknownResets() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        feed.publish(nid: Self.nid, keyID: "a", kind: .issued)
        feed.publish(nid: "other", keyID: "x", kind: .issued)
        feed.publish(nid: Self.nid, keyID: "b", kind: .imported)
        var all = feed.subscribe(nid: Self.nid, lastEventID: 0).makeAsyncIterator()
        #expect(await all.next() == .reset)  // 0 is not one of this run's ids
        let live = feed.subscribe(nid: Self.nid, lastEventID: nil)
        feed.publish(nid: Self.nid, keyID: "c", kind: .issued)
        var iterator = live.makeAsyncIterator()
        guard case .revoked(let c)? = await iterator.next() else {
            Issue.record("no live event")
            return
        }
        #expect(c.keyID == "c")
        var resumed = feed.subscribe(nid: Self.nid, lastEventID: c.id - 2).makeAsyncIterator()
        guard case .revoked(let b)? = await resumed.next(), case .revoked(let again)? = await resumed.next() else {
            Issue.record("no replay")
            return
        }
        #expect(b.keyID == "b" && b.kind == .imported && again.keyID == "c")  // "x" is another tenant's
        feed.feedLost()
        #expect(await iterator.next() == .reset)
        var afterLoss = feed.subscribe(nid: Self.nid, lastEventID: b.id).makeAsyncIterator()
        #expect(await afterLoss.next() == .reset)
    }

    /// The backlog keeps the last 10 000 events: a resume from before them resets, one from within replays; a
    /// subscriber that falls more than 10 000 messages behind gets a reset after what it still holds.
    @Test func backlogAndSlowSubscribersOverflowIntoReset() async throws {
        let feed = RevocationFeed(storage: MemoryKeyStorage(), clock: ManualClock())
        var slow = feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
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
        var afterK0 = feed.subscribe(nid: Self.nid, lastEventID: oldestKept.id - 2).makeAsyncIterator()
        guard case .revoked(let first)? = await afterK0.next() else {
            Issue.record("no replay")
            return
        }
        #expect(first.keyID == "k1")
        var beforeBacklog = feed.subscribe(nid: Self.nid, lastEventID: oldestKept.id - 3).makeAsyncIterator()
        #expect(await beforeBacklog.next() == .reset)
    }

    @Test func onlyRevocationsAndDeletionsAreAnnounced() async throws {
        let storage = MemoryKeyStorage()
        let now = Timestamp(seconds: 1_780_000_000)
        let active = APIKey(
            kind: .issued,
            nid: Self.nid,
            keyID: "00000000-0000-4000-8000-000000000001",
            name: "n",
            actorID: "a",
            createTime: now,
            updateTime: now
        )
        var revoked = active
        revoked.keyID = "00000000-0000-4000-8000-000000000002"
        revoked.storedStatus = .revoked
        _ = try await storage.insert(active)
        _ = try await storage.insert(revoked)
        let feed = RevocationFeed(storage: storage, clock: ManualClock())
        var events = feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        let runner = Task { try await feed.run() }
        feed.invalidated(nid: Self.nid, keyID: active.keyID)  // an update: not announced
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

    /// A node nobody subscribed to does not read the database for the cluster's changes.
    @Test func noSubscriberNoReads() async throws {
        let storage = WriteCountingStorage(MemoryKeyStorage())
        let feed = RevocationFeed(storage: storage, clock: ManualClock())
        let runner = Task { try await feed.run() }
        for index in 0..<3 { feed.invalidated(nid: Self.nid, keyID: String(repeating: "\(index)", count: 64)) }
        var events = feed.subscribe(nid: Self.nid, lastEventID: nil).makeAsyncIterator()
        feed.invalidated(nid: Self.nid, keyID: String(repeating: "ab", count: 32))
        // Changes are handled in order: once this event is out, the three before it were handled too.
        guard case .revoked? = await events.next() else {
            Issue.record("no event")
            return
        }
        #expect(storage.reads == 1)
        runner.cancel()
    }
}
