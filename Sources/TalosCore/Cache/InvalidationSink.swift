public import ServiceLifecycle

/// Receives key invalidations: from this node's own mutations, and from the storage's cluster-wide channel
/// (PostgreSQL `LISTEN talos_cache_invalidation`, spec §5.9).
public protocol InvalidationSink: Sendable {
    /// The key `(nid, keyID)` changed (updated, rotated, revoked or deleted); anything derived from it is stale.
    func invalidated(nid: String, keyID: String)

    /// The channel is down: invalidations may be missed from now on, so nothing cached may be trusted.
    func feedLost()

    /// The channel is up again (after `feedLost`): invalidations arrive again from this instant.
    func feedRestored()
}

/// Where a storage backend delivers invalidations that other nodes committed; `nil` on single-node backends.
public protocol InvalidationFeed: Sendable {
    /// A service that listens for the cluster's invalidations and delivers them to `sink` until shutdown,
    /// reporting `feedLost` / `feedRestored` as its connection drops and returns.
    func listener(delivering sink: any InvalidationSink) -> any Service
}

/// The `NOTIFY` payload `<nid>:<key_id>` (spec §5.9).
public enum InvalidationMessage {
    /// The payload for a changed key.
    public static func payload(nid: String, keyID: String) -> String { "\(nid):\(keyID)" }

    /// `(nid, keyID)` of a payload; `nil` when it is not one. The nid is a UUID, so the first `:` separates.
    public static func parse(_ payload: String) -> (nid: String, keyID: String)? {
        guard let separator = payload.firstIndex(of: ":") else { return nil }
        let keyID = payload[payload.index(after: separator)...]
        guard !keyID.isEmpty else { return nil }
        return (String(payload[..<separator]), String(keyID))
    }
}
