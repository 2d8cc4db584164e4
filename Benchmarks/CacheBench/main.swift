// The verification cache's memory against its bound (issue: RSS with 1 million cached keys ≤ max_size + 50 MB):
// fills a `cache.memory.max_size` = 100 MiB cache with 1 000 000 realistic key records and reports the process's
// resident memory before and after, next to the cache's own byte accounting.
import TalosCore

#if canImport(Glibc)
import Glibc
#endif

func residentKiB(_ field: String) -> Int {
    guard let status = readWholeFile("/proc/self/status") else { return 0 }
    for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

let maxBytes = 104_857_600
let clock = SystemWallClock()
let cache = VerificationCache(maxBytes: maxBytes, clock: clock)
let before = residentKiB("VmRSS")
let now = clock.now()
let started = ContinuousClock.now
for index in 0..<1_000_000 {
    let digits = "\(index)"
    let keyID = String(repeating: "0", count: 8 - digits.count) + digits + "-1a2d-430b-b733-c789a2b7b1fe"
    let key = APIKey(
        kind: .issued,
        nid: UUIDText.nilUUID,
        keyID: keyID,
        name: "service key \(index)",
        actorID: "user_\(index)",
        scopes: ["read:*", "write:orders"],
        createTime: now,
        updateTime: now,
        metadata: ["team": "backend", "tier": .int(Int64(index % 7))],
        allowedCIDRs: index % 10 == 0 ? ["10.0.0.0/8"] : []
    )
    cache.put(key, ticket: cache.ticket(), ttl: .seconds(300), now: now)
}
let elapsed = ContinuousClock.now - started
let after = residentKiB("VmRSS")
let peak = residentKiB("VmHWM")
let (entries, bytes) = cache.usage
print("  entries kept: \(entries) (LRU), accounted bytes: \(bytes / 1_048_576) MiB of \(maxBytes / 1_048_576) MiB")
print("  RSS before: \(before / 1024) MiB, after: \(after / 1024) MiB, peak: \(peak / 1024) MiB")
print("  RSS growth: \((after - before) / 1024) MiB; bound: max_size + 50 MiB = \(maxBytes / 1_048_576 + 50) MiB")
print(
    "  insert rate: \(Int(1_000_000 / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))) puts/s"
)
