public import HTTPTypes
import Synchronization
public import TalosCore

/// The edge node's cache of valid verify answers (docs/edge.md): whole answers keyed by a keyed hash of the host, the
/// caller's admin key and the credential, evicted by key id when the upstream's revocation feed says so, unused
/// while that feed is down.
///
/// A write carries a ticket taken before the upstream was asked: if the key was evicted (or the cache cleared) since,
/// the answer may predate the revocation and is not stored.
public final class EdgeCache: Sendable {
    /// A stored answer.
    public struct Entry: Sendable {
        /// The answer's body.
        public let body: [UInt8]
        /// The answer's header fields, without hop-by-hop fields.
        public let headers: HTTPFields
        /// The verified key's id: what a revocation evicts by.
        public let keyID: String
        /// Until when it may be served.
        let expires: ContinuousClock.Instant
        var size: Int { body.count + headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count } + 96 }
    }

    private struct State {
        var entries: [[UInt8]: Entry] = [:]
        var keysByID: [String: Set<[UInt8]>] = [:]
        /// Insertion order from `head` on (oldest first), with keys since removed skipped.
        var order: [[UInt8]] = []
        var head = 0
        var bytes = 0
        /// The feeds (by host) that are open; the cache is used only while all of them are.
        var openFeeds: Set<String> = []
        var generation: UInt64 = 0
        /// Writes ticketed before this are refused (the cache was cleared, or the eviction log was pruned).
        var floor: UInt64 = 0
        var evictedAt: [String: UInt64] = [:]
    }

    private let maxBytes: Int
    private let feeds: Int
    private let hashKey: any HMACKey
    private let state = Mutex(State())

    /// A cache of at most `maxBytes`, hashing its keys with a random key of this process, usable while all `feeds`
    /// revocation feeds (one per tenant host it serves) are open.
    public init(maxBytes: Int, crypto: any CryptoBackend, feeds: Int = 1) {
        self.maxBytes = maxBytes
        self.feeds = max(feeds, 1)
        self.hashKey = crypto.hmacSHA256Key(crypto.randomBytes(32))
    }

    /// The cache key of a verify request: HMAC-SHA-256 under a per-process key over the length-prefixed host, admin
    /// key and credential (no key material is kept in the clear).
    public func key(host: String, adminKey: String, credential: String) -> [UInt8] {
        var message: [UInt8] = []
        for part in [host, adminKey, credential] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message += $0 }
            message += bytes
        }
        return hashKey.authenticate(message)
    }

    /// Whether every feed is open, so that answers may be served and stored.
    public var isAvailable: Bool { state.withLock { $0.openFeeds.count == feeds } }

    /// The feed of `host` opened or was lost: everything cached is dropped either way (revocations may have been
    /// missed while it was down).
    public func feed(_ host: String, open: Bool) {
        state.withLock { state in
            if open { state.openFeeds.insert(host) } else { state.openFeeds.remove(host) }
            Self.clear(&state)
        }
    }

    /// The answer stored under `key`, unless it has expired or the feed is down.
    public func get(_ key: [UInt8], now: ContinuousClock.Instant = .now) -> Entry? {
        state.withLock { state in
            guard state.openFeeds.count == feeds, let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                Self.remove(key, from: &state)
                return nil
            }
            return entry
        }
    }

    /// A ticket for a write: take it before asking the upstream.
    public func ticket() -> UInt64 { state.withLock { $0.generation } }

    /// Stores an answer of `keyID` for `ttl`, unless the key was evicted since `ticket` or the feed is down. Oldest
    /// entries go first when the cache is full.
    public func put(
        _ key: [UInt8],
        body: [UInt8],
        headers: HTTPFields,
        keyID: String,
        ttl: Duration,
        ticket: UInt64,
        now: ContinuousClock.Instant = .now
    ) {
        let entry = Entry(body: body, headers: headers, keyID: keyID, expires: now + ttl)
        guard entry.size <= maxBytes else { return }
        state.withLock { state in
            guard state.openFeeds.count == feeds, ticket >= state.floor, (state.evictedAt[keyID] ?? 0) <= ticket
            else { return }
            Self.remove(key, from: &state)
            state.entries[key] = entry
            state.keysByID[keyID, default: []].insert(key)
            state.order.append(key)
            state.bytes += entry.size
            while state.bytes > maxBytes, state.head < state.order.count {
                Self.remove(state.order[state.head], from: &state)
                state.head += 1
            }
            if state.order.count - state.head > state.entries.count * 2 + 1024 || state.head > 4096 {
                state.order = state.order[state.head...].filter { state.entries[$0] != nil }
                state.head = 0
            }
        }
    }

    /// Drops every answer of `keyID` (a revocation, rotation or deletion upstream); writes ticketed before are refused.
    public func evict(keyID: String) {
        state.withLock { state in
            state.generation += 1
            state.evictedAt[keyID] = state.generation
            if state.evictedAt.count > 100_000 {
                state.floor = state.generation
                state.evictedAt = [:]
            }
            for key in state.keysByID[keyID] ?? [] { Self.remove(key, from: &state) }
        }
    }

    /// Drops everything (the feed reset); writes ticketed before are refused.
    public func clear() { state.withLock { state in Self.clear(&state) } }

    /// Entries and bytes held, for metrics.
    public var usage: (entries: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.bytes) } }

    private static func clear(_ state: inout State) {
        state.generation += 1
        state.floor = state.generation
        state.evictedAt = [:]
        state.entries = [:]
        state.keysByID = [:]
        state.order = []
        state.head = 0
        state.bytes = 0
    }

    private static func remove(_ key: [UInt8], from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: key) else { return }
        state.bytes -= entry.size
        state.keysByID[entry.keyID]?.remove(key)
        if state.keysByID[entry.keyID]?.isEmpty == true { state.keysByID[entry.keyID] = nil }
    }
}
