import Synchronization
public import TalosCore

/// A wall clock that only moves when a test says so.
public final class ManualClock: WallClock {
    private let instant: Mutex<Timestamp>

    /// Starts at `start` (default 2026-06-01T17:13:25Z, the spec's example instant).
    public init(start: Timestamp = Timestamp(seconds: 1_780_334_005)) { instant = Mutex(start) }

    public func now() -> Timestamp { instant.withLock { $0 } }

    /// Moves time forward by whole seconds.
    public func advance(seconds: Int64) { instant.withLock { $0 = $0.adding(seconds: seconds) } }

    /// Sets the current instant.
    public func set(_ timestamp: Timestamp) { instant.withLock { $0 = timestamp } }
}
