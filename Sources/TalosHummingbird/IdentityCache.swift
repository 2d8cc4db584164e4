/// Verified API-key identities by a keyed hash of the credential (never the credential), bounded in size and age,
/// evictable by key id.
///
/// Not thread-safe: `TalosAuthenticator` keeps it under its lock.
struct IdentityCache {
    struct Entry {
        let identity: TalosIdentity
        let expiry: ContinuousClock.Instant
    }

    let capacity: Int
    private var entries: [[UInt8]: Entry] = [:]
    private var byKeyID: [String: Set<[UInt8]>] = [:]
    /// Insertion order, for dropping the oldest when full; holds hashes already removed until they are reached.
    private var order: [[UInt8]] = []
    private var orderStart = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    /// Hashes in the insertion-order queue, dead ones included.
    var queueLength: Int { order.count - orderStart }
    /// Hashes the queue's storage holds, the consumed prefix included.
    var queueStorage: Int { order.count }

    /// The identity cached under `hash` unless it has aged out (which removes it).
    mutating func lookup(_ hash: [UInt8], now: ContinuousClock.Instant) -> TalosIdentity? {
        guard let entry = entries[hash] else { return nil }
        guard entry.expiry > now else {
            remove(hash)
            return nil
        }
        return entry.identity
    }

    mutating func insert(_ identity: TalosIdentity, hash: [UInt8], expiry: ContinuousClock.Instant) {
        if entries[hash] == nil {
            while entries.count >= capacity, orderStart < order.count {
                let oldest = order[orderStart]
                orderStart += 1
                remove(oldest)
            }
            order.append(hash)
        }
        remove(hash)
        entries[hash] = Entry(identity: identity, expiry: expiry)
        byKeyID[identity.keyID, default: []].insert(hash)
        // Drop the consumed prefix once it is most of the array (amortised O(1) per insert).
        if orderStart > 1024, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
        // Evictions and expiries leave dead hashes in the queue: rebuild it once they outnumber the live ones.
        if order.count - orderStart > 2 * max(entries.count, 512) {
            var seen = Set<[UInt8]>()
            order = order[orderStart...].filter { entries[$0] != nil && seen.insert($0).inserted }
            orderStart = 0
        }
    }

    /// Drops every identity of key `keyID`. - Returns: how many.
    @discardableResult
    mutating func evict(keyID: String) -> Int {
        guard let hashes = byKeyID.removeValue(forKey: keyID) else { return 0 }
        for hash in hashes { entries[hash] = nil }
        return hashes.count
    }

    mutating func removeAll() {
        entries.removeAll()
        byKeyID.removeAll()
        order.removeAll()
        orderStart = 0
    }

    private mutating func remove(_ hash: [UInt8]) {
        guard let entry = entries.removeValue(forKey: hash) else { return }
        byKeyID[entry.identity.keyID]?.remove(hash)
        if byKeyID[entry.identity.keyID]?.isEmpty == true { byKeyID[entry.identity.keyID] = nil }
    }
}
