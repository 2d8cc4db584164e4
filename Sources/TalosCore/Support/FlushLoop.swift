import ServiceLifecycle

/// The lifetime of a batched writer (`LastUsedTracker`, `UsageRecorder`): runs `flush` every `interval` and whenever
/// `wakeups` yields, until graceful shutdown, then once more within the shutdown's drain. `alongside` (e.g. a sweeper)
/// runs beside it and is cancelled with it.
func flushUntilShutdown(
    every interval: Duration,
    wakeups: AsyncStream<Void>,
    wake: AsyncStream<Void>.Continuation,
    alongside: (@Sendable () async -> Void)? = nil,
    _ flush: () async -> Void
) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            while (try? await Task.sleep(for: interval)) != nil { wake.yield() }
        }
        if let alongside { group.addTask { await alongside() } }
        for await _ in wakeups.cancelOnGracefulShutdown() { await flush() }
        group.cancelAll()
    }
    await flush()
}
