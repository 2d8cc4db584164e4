public import Logging
public import ServiceLifecycle
import Synchronization

/// Counts verifications of stored keys per (tenant, key, UTC hour, outcome) for usage analytics
/// (docs/usage.md) without making verification wait.
///
/// Verification adds one to an in-memory counter (one lock, no I/O); every `usage.flush_interval` the counters are
/// swapped out and written in one batch that adds them to the stored ones (an upsert), so replicas sharing a
/// database add up. A failed flush puts its counts back for the next one; graceful shutdown flushes once more, so
/// only a crash loses counts (at most one interval). A sweeper deletes hours older than `usage.retention`.
public final class UsageRecorder: Service {
    /// One counter's identity. Strings are the key's own (shared storage, no copy on the verify path).
    struct Bucket: Hashable, Sendable {
        let nid: String
        let keyID: String
        let actorID: String
        let hour: Int64
        let outcome: VerificationErrorCode?
    }

    private struct State {
        var counts: [Bucket: Int64] = [:]
        var dropped = 0
    }

    /// The most distinct counters held between flushes; a verification that would add one more is not counted (and
    /// reported as dropped). 10⁶ counters is about 200 MB only in the worst case of a million distinct keys an hour.
    static let maxPendingBuckets = 1_000_000

    private let storage: any KeyStorage
    private let clock: any WallClock
    private let flushInterval: Duration
    private let retention: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let ticks: AsyncStream<Void>
    private let tick: AsyncStream<Void>.Continuation

    /// Takes the flush interval and retention from `config`'s `usage.*`; nothing is written until `run()`.
    public init(storage: any KeyStorage, config: TalosConfig, clock: any WallClock, logger: Logger) {
        self.storage = storage
        self.clock = clock
        self.flushInterval = config.usageFlushInterval
        self.retention = config.usageRetention
        self.logger = logger
        (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Counts one verification of `key` at `now` that ended in `outcome` (`nil`: valid); never blocks on I/O.
    func count(_ key: APIKey, outcome: VerificationErrorCode?, at now: Timestamp) {
        let bucket = Bucket(
            nid: key.nid,
            keyID: key.keyID,
            actorID: key.actorID,
            hour: Self.hour(now),
            outcome: outcome
        )
        state.withLock { state in
            if let count = state.counts[bucket] {
                state.counts[bucket] = count + 1
            } else if state.counts.count < Self.maxPendingBuckets {
                state.counts[bucket] = 1
            } else {
                state.dropped += 1
            }
        }
    }

    /// The start of `timestamp`'s UTC hour, in seconds since the epoch.
    static func hour(_ timestamp: Timestamp) -> Int64 {
        let seconds = timestamp.seconds
        return seconds - ((seconds % 3600) + 3600) % 3600
    }

    /// Flushes every interval and sweeps every hour until graceful shutdown, then flushes what is pending once more
    /// (within the shutdown's drain).
    public func run() async throws {
        await flushUntilShutdown(
            every: flushInterval,
            wakeups: ticks,
            wake: tick,
            alongside: { [self] in await sweepHourly() },
            { await flush() }
        )
    }

    /// The first sweep soon after start, then hourly: retention is counted in hours.
    private func sweepHourly() async {
        var pause = Duration.seconds(60)
        while (try? await Task.sleep(for: pause)) != nil {
            await sweep()
            pause = .seconds(3600)
        }
    }

    /// Writes every pending count in one batch; on failure the counts go back to be written with the next flush.
    func flush() async {
        let (counts, dropped) = state.withLock { state -> ([Bucket: Int64], Int) in
            defer {
                state.counts = [:]
                state.dropped = 0
            }
            return (state.counts, state.dropped)
        }
        if dropped > 0 {
            TalosMetrics.usage(dropped: dropped)
            logger.warning("usage counters full; verifications not counted", metadata: ["dropped": "\(dropped)"])
        }
        guard !counts.isEmpty else { return }
        let rows = counts.map { bucket, count in
            UsageCount(
                nid: bucket.nid,
                keyID: bucket.keyID,
                actorID: bucket.actorID,
                hour: bucket.hour,
                outcome: UsageCount.outcomeName(bucket.outcome),
                count: count
            )
        }
        let started = ContinuousClock.now
        do {
            try await storage.recordUsage(rows)
            TalosMetrics.usage(flushed: rows.count, events: counts.values.reduce(0, +), duration: .now - started)
        } catch {
            TalosMetrics.usageFlushFailed()
            logger.error("usage flush failed; retrying with the next", metadata: ["error": "\(error)"])
            state.withLock { state in
                for (bucket, count) in counts {
                    if let current = state.counts[bucket] {
                        state.counts[bucket] = current + count
                    } else if state.counts.count < Self.maxPendingBuckets {
                        state.counts[bucket] = count
                    } else {
                        state.dropped += Int(count)
                    }
                }
            }
        }
    }

    /// Deletes the hours that ended more than `usage.retention` ago.
    func sweep() async {
        let cutoff = Self.hour(clock.now().adding(nanoseconds: -retention.wholeNanoseconds))
        do {
            let deleted = try await storage.deleteUsage(before: cutoff)
            if deleted > 0 { logger.debug("usage swept", metadata: ["rows": "\(deleted)"]) }
        } catch {
            logger.error("usage sweep failed", metadata: ["error": "\(error)"])
        }
    }

    deinit { tick.finish() }
}

extension UsageRecorder: RedactedDescription {}
