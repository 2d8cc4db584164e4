import Synchronization

/// At most `perMinute` audit entries of one kind per tenant and minute (spec §11.2: verification failures are
/// limited to 10 per tenant per minute, so a credential-stuffing flood cannot flood the log).
public final class AuditLimiter: Sendable {
    private let perMinute: Int
    private let windows = Mutex<[String: (minute: Int64, count: Int)]>([:])

    /// Allows `perMinute` entries per tenant in each clock minute (fixed windows); the default is spec §11.2's 10.
    public init(perMinute: Int = 10) { self.perMinute = perMinute }

    /// Whether one more entry for `nid` may be written at `now`.
    public func allow(nid: String, at now: Timestamp) -> Bool {
        let minute = now.seconds / 60
        return windows.withLock { windows in
            if windows.count > 10_000 { windows = windows.filter { $0.value.minute == minute } }
            var window = windows[nid] ?? (minute, 0)
            if window.minute != minute { window = (minute, 0) }
            window.count += 1
            windows[nid] = window
            return window.count <= perMinute
        }
    }
}
