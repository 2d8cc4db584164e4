public import Logging
public import ServiceLifecycle
import Synchronization

/// Records when keys were last used (spec §5.8) without making verification wait.
///
/// Verification publishes a use when the key's known `last_used_time` is unset or on an earlier UTC day; a node-local
/// "published today" set stops repeats when the record it saw is stale. Published uses wait in a bounded buffer
/// (`last_used.queue_size`; a full buffer drops the use) and are written in batches, deduplicated per key, when
/// `flush_size` are pending or every `flush_interval`, and once more on graceful shutdown.
///
/// Deviation: one flusher drains every shard; `last_used.num_workers` is accepted but a single batched writer keeps
/// the write path simple, and batching already bounds the database load to one transaction per flush.
public final class LastUsedTracker: Service {
    private struct State {
        var pending: [LastUsedEntry] = []
        var publishedDay: [String: Int64] = [:]
        var dropped = 0
    }

    private let storage: any KeyStorage
    private let capacity: Int
    private let flushSize: Int
    private let flushInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Takes the buffer size, flush size and flush interval from `config`'s `last_used.*`; nothing is written until
    /// `run()`.
    public init(storage: any KeyStorage, config: TalosConfig, logger: Logger) {
        self.storage = storage
        self.capacity = config.lastUsedQueueSize
        self.flushSize = config.lastUsedFlushSize
        self.flushInterval = config.lastUsedFlushInterval
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Notes a successful verification of `key` at `now`; never blocks.
    func observe(_ key: APIKey, at now: Timestamp) {
        let today = Self.day(now)
        if let lastUsed = key.lastUsedTime, Self.day(lastUsed) >= today { return }
        let identity = "\(key.kind.rawValue)/\(key.nid)/\(key.keyID)"
        let flushNow = state.withLock { state -> Bool in
            guard state.publishedDay[identity] != today else { return false }
            guard state.pending.count < capacity else {
                state.dropped += 1
                return false
            }
            state.publishedDay[identity] = today
            if state.publishedDay.count > capacity * 4 {
                state.publishedDay = state.publishedDay.filter { $0.value == today }
            }
            state.pending.append(LastUsedEntry(kind: key.kind, nid: key.nid, keyID: key.keyID, usedAt: now))
            return state.pending.count >= flushSize
        }
        if flushNow { wake.yield() }
    }

    private static func day(_ timestamp: Timestamp) -> Int64 {
        timestamp.seconds >= 0 ? timestamp.seconds / 86_400 : (timestamp.seconds - 86_399) / 86_400
    }

    /// Flushes until graceful shutdown, then flushes what is pending once more (within the shutdown's drain).
    public func run() async throws {
        await flushUntilShutdown(every: flushInterval, wakeups: wakeups, wake: wake) { await flush() }
    }

    /// Writes every pending use; on failure they are dropped (logged), since a later use will publish again.
    func flush() async {
        let (entries, dropped) = state.withLock { state -> ([LastUsedEntry], Int) in
            defer {
                state.pending.removeAll(keepingCapacity: true)
                state.dropped = 0
            }
            return (state.pending, state.dropped)
        }
        if dropped > 0 {
            TalosMetrics.lastUsed(dropped: dropped)
            logger.warning("last-used queue full; uses dropped", metadata: ["dropped": "\(dropped)"])
        }
        guard !entries.isEmpty else { return }
        var latest: [String: LastUsedEntry] = [:]
        for entry in entries {
            let identity = "\(entry.kind.rawValue)/\(entry.nid)/\(entry.keyID)"
            if let existing = latest[identity], existing.usedAt >= entry.usedAt { continue }
            latest[identity] = entry
        }
        do {
            try await storage.recordLastUsed(Array(latest.values))
            TalosMetrics.lastUsed(flushed: latest.count)
        } catch {
            logger.error("last-used flush failed", metadata: ["error": "\(error)", "entries": "\(latest.count)"])
        }
    }

    deinit { wake.finish() }
}
