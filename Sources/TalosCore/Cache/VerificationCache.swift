import Synchronization

/// The verification cache of spec §5.9 and §15.10: key records by `(nid, key_id)`, never a credential and never a
/// negative result, bounded by approximate bytes with least-recently-used eviction.
///
/// Staleness is closed by sequence numbers rather than clocks: every invalidation (and every `clear`) takes the next
/// number, a reader takes a ticket (the current number) before its database read, and a write whose ticket is older
/// than the key's last invalidation is discarded, so a record read before a revocation can never be cached after it.
/// While the invalidation feed is down the cache is unavailable: no reads, no writes (the verify path reports
/// `SKIP`); when it returns, the cache is cleared before it is used again.
public final class VerificationCache: InvalidationSink {
    /// What a reader holds from before its database read until its cache write.
    public struct Ticket: Sendable {
        fileprivate let sequence: UInt64
    }

    private struct Node {
        var identity: String
        var key: APIKey
        var expires: Timestamp
        var bytes: Int
        var previous: Int
        var next: Int
    }

    private struct State {
        var index: [String: Int] = [:]
        var nodes: [Node] = []
        var free: [Int] = []
        /// Most recently used.
        var head = -1
        /// Least recently used.
        var tail = -1
        var bytes = 0
        var sequence: UInt64 = 0
        var clearedAt: UInt64 = 0
        /// The sequence and time of each key's last invalidation, kept for `2 × ttl` (spec §5.9).
        var invalidated: [String: (sequence: UInt64, at: Timestamp)] = [:]
        var lastPrune = Timestamp(microseconds: 0)
        var available = true
    }

    private let maxBytes: Int
    private let clock: any WallClock
    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxBytes: the approximate memory bound (`cache.memory.max_size`).
    ///   - clock: expiry and invalidation-record ages.
    ///   - startsAvailable: `false` when an invalidation feed will report `feedRestored` once it listens.
    public init(maxBytes: Int, clock: any WallClock, startsAvailable: Bool = true) {
        self.maxBytes = maxBytes
        self.clock = clock
        state.withLock { $0.available = startsAvailable }
    }

    /// The key of an entry: the invalidation channel's `<nid>:<key_id>`, so the two cannot drift apart.
    private static func identity(nid: String, keyID: String) -> String {
        InvalidationMessage.payload(nid: nid, keyID: keyID)
    }

    /// Whether the cache may be used now (the invalidation feed is up).
    public var isAvailable: Bool { state.withLock { $0.available } }

    /// Entries and their approximate bytes (for tests and `talos-cache-bench`).
    public var usage: (entries: Int, bytes: Int) { state.withLock { ($0.index.count, $0.bytes) } }

    /// Taken before a database read whose result may be cached.
    public func ticket() -> Ticket { Ticket(sequence: state.withLock { $0.sequence }) }

    /// The cached record of `(nid, keyID)` of `kind`, unexpired at `now`; marks it most recently used.
    public func get(kind: KeyKind, nid: String, keyID: String, now: Timestamp) -> APIKey? {
        let identity = Self.identity(nid: nid, keyID: keyID)
        return state.withLock { state -> APIKey? in
            guard state.available, let slot = state.index[identity], state.nodes[slot].key.kind == kind else {
                return nil
            }
            guard state.nodes[slot].expires > now else {
                Self.remove(slot, from: &state)
                return nil
            }
            Self.moveToFront(slot, in: &state)
            return state.nodes[slot].key
        }
    }

    /// Caches `key` for `ttl` (capped at the key's own expiry) unless it was invalidated after `ticket` was taken,
    /// the cache was cleared since, or the feed is down. Never caches for a non-positive time.
    public func put(_ key: APIKey, ticket: Ticket, ttl: Duration, now: Timestamp) {
        var expires = now.adding(nanoseconds: ttl.wholeNanoseconds)
        if let expireTime = key.expireTime, expireTime < expires { expires = expireTime }
        guard expires > now else { return }
        let identity = Self.identity(nid: key.nid, keyID: key.keyID)
        let bytes = Self.approximateBytes(key)
        state.withLock { state in
            guard state.available, ticket.sequence >= state.clearedAt,
                ticket.sequence >= state.invalidated[identity]?.sequence ?? 0
            else { return }
            if let slot = state.index[identity] { Self.remove(slot, from: &state) }
            guard bytes <= maxBytes else { return }
            while state.bytes + bytes > maxBytes, state.tail >= 0 { Self.remove(state.tail, from: &state) }
            let node = Node(
                identity: identity,
                key: key,
                expires: expires,
                bytes: bytes,
                previous: -1,
                next: state.head
            )
            let slot: Int
            if let reused = state.free.popLast() {
                slot = reused
                state.nodes[slot] = node
            } else {
                slot = state.nodes.count
                state.nodes.append(node)
            }
            if state.head >= 0 { state.nodes[state.head].previous = slot }
            state.head = slot
            if state.tail < 0 { state.tail = slot }
            state.index[identity] = slot
            state.bytes += bytes
        }
    }

    /// Evicts `(nid, keyID)` and refuses writes of reads that started before now (spec §5.9).
    public func invalidated(nid: String, keyID: String) {
        let identity = Self.identity(nid: nid, keyID: keyID)
        let now = clock.now()
        state.withLock { state in
            state.sequence += 1
            state.invalidated[identity] = (state.sequence, now)
            if let slot = state.index[identity] { Self.remove(slot, from: &state) }
            Self.pruneInvalidations(&state, now: now)
        }
    }

    /// Drops every entry; reads that started before now are not cached.
    private static func clear(_ state: inout State) {
        state.sequence += 1
        state.clearedAt = state.sequence
        state.index.removeAll(keepingCapacity: true)
        state.nodes.removeAll(keepingCapacity: true)
        state.free.removeAll()
        (state.head, state.tail, state.bytes) = (-1, -1, 0)
    }

    /// Makes the cache unavailable (no reads, no writes; verification reports `SKIP`) and drops every entry.
    public func feedLost() {
        state.withLock { state in
            state.available = false
            Self.clear(&state)
        }
    }

    /// Drops every entry (refusing writes of reads that started before now), then makes the cache available again.
    public func feedRestored() {
        state.withLock { state in
            Self.clear(&state)
            state.available = true
        }
    }

    /// Invalidation records older than the longest a cached read can take to land are dropped, once a minute.
    /// Reads are bounded by the database deadline (seconds), so ten minutes (twice the default `cache.ttl`) is ample.
    private static func pruneInvalidations(_ state: inout State, now: Timestamp) {
        guard now.microseconds - state.lastPrune.microseconds > 60_000_000 else { return }
        state.lastPrune = now
        let horizon = now.adding(seconds: -600)
        state.invalidated = state.invalidated.filter { $0.value.at > horizon }
    }

    private static func moveToFront(_ slot: Int, in state: inout State) {
        guard state.head != slot else { return }
        unlink(slot, in: &state)
        state.nodes[slot].previous = -1
        state.nodes[slot].next = state.head
        if state.head >= 0 { state.nodes[state.head].previous = slot }
        state.head = slot
        if state.tail < 0 { state.tail = slot }
    }

    private static func unlink(_ slot: Int, in state: inout State) {
        let (previous, next) = (state.nodes[slot].previous, state.nodes[slot].next)
        if previous >= 0 { state.nodes[previous].next = next } else { state.head = next }
        if next >= 0 { state.nodes[next].previous = previous } else { state.tail = previous }
    }

    private static func remove(_ slot: Int, from state: inout State) {
        unlink(slot, in: &state)
        state.index[state.nodes[slot].identity] = nil
        state.bytes -= state.nodes[slot].bytes
        state.nodes[slot].key.metadata = [:]
        state.free.append(slot)
    }

    /// The memory an entry costs, approximately and on the high side (calibrated with `talos-cache-bench`): the node,
    /// its index slot and the record's fixed fields, plus every heap string with its allocation header; the identity
    /// string lives twice (index key and node).
    static func approximateBytes(_ key: APIKey) -> Int {
        func heap(_ text: String) -> Int { text.utf8.count > 15 ? text.utf8.count + 32 : 0 }
        let identity = key.nid.utf8.count + 1 + key.keyID.utf8.count + 32
        var bytes = 600 + 2 * identity + heap(key.nid) + heap(key.keyID) + heap(key.name) + heap(key.actorID)
        bytes +=
            key.scopes.reduce(32) { $0 + 16 + heap($1) } + key.allowedCIDRs.reduce(32) { $0 + 16 + heap($1) }
            + key.allowedNetworks.count * 64
        bytes += 2 * approximateBytes(.object(key.metadata))
        bytes += heap(key.revocationDescription ?? "") + heap(key.requestID ?? "")
        return bytes
    }

    /// A JSON value's serialized size, estimated without serializing (this runs on every cache write).
    static func approximateBytes(_ value: JSONValue) -> Int {
        switch value {
        case .null, .bool, .int, .double: return 16
        case .string(let text): return text.utf8.count + 2
        case .array(let items): return items.reduce(2) { $0 + 1 + approximateBytes($1) }
        case .object(let members): return members.reduce(2) { $0 + 4 + $1.key.utf8.count + approximateBytes($1.value) }
        }
    }
}
