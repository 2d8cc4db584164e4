import CoreMetrics
import Synchronization

/// Metric handles made once per label set: making one goes through the backend's registry (a lock, label
/// sanitising, a lookup) every time, too much for every request.
public final class MetricHandles<Labels: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Labels: Handle]>([:])
    private let make: @Sendable (Labels) -> Handle

    /// Handles made by `make` the first time their labels are asked for.
    public init(_ make: @escaping @Sendable (Labels) -> Handle) { self.make = make }

    /// The handle of `labels`.
    public subscript(_ labels: Labels) -> Handle {
        handles.withLock { handles in
            if let handle = handles[labels] { return handle }
            let handle = make(labels)
            handles[labels] = handle
            return handle
        }
    }
}

/// The metrics of spec §11.1, recorded through swift-metrics; the process's composition root chooses the backend
/// (Prometheus for `talos serve`), and without one every call is a no-op. Labels are bounded enums: never key ids,
/// actors or hosts.
public enum TalosMetrics {
    /// `talos_verifications_total` and `talos_verification_duration_seconds` for one verification.
    public static func verification(credentialType: String, result: Verification, duration: Duration) {
        verifications[VerificationLabels(type: credentialType, errorCode: result.errorCode, cache: result.cache)]
            .increment()
        verificationDurations[DurationLabels(type: credentialType, hit: result.cache == .hit)]
            .recordNanoseconds(duration.wholeNanoseconds)
        if result.errorCode == .rateLimited { rateLimited.increment() }
    }

    private struct VerificationLabels: Hashable, Sendable {
        let type: String
        let errorCode: VerificationErrorCode?
        let cache: CacheOutcome
    }

    private struct DurationLabels: Hashable, Sendable {
        let type: String
        let hit: Bool
    }

    private static let verifications = MetricHandles<VerificationLabels, Counter> { labels in
        Counter(
            label: "talos_verifications_total",
            dimensions: [
                ("credential_type", labels.type), ("result", labels.errorCode == nil ? "valid" : "invalid"),
                ("error_code", labels.errorCode?.wireName ?? "none"), ("cache", labels.cache.rawValue.lowercased()),
            ]
        )
    }
    private static let verificationDurations = MetricHandles<DurationLabels, Timer> { labels in
        Timer(
            label: "talos_verification_duration_seconds",
            dimensions: [("credential_type", labels.type), ("cache_hit", labels.hit ? "true" : "false")]
        )
    }
    /// Made at first use (static properties are lazy), after the composition root bootstrapped the backend.
    private static let rateLimited = Counter(label: "talos_rate_limited_total")

    /// `talos_api_keys_created_total{type}`.
    public static func keysCreated(_ kind: KeyKind, count: Int = 1) {
        Counter(label: "talos_api_keys_created_total", dimensions: [("type", kind.rawValue)]).increment(by: count)
    }

    /// `talos_api_keys_revoked_total{reason}`: the enum name, or `rotation`.
    public static func keyRevoked(reason: String) {
        Counter(label: "talos_api_keys_revoked_total", dimensions: [("reason", reason)]).increment()
    }

    /// `talos_admin_authentications_total{result}` (spec §16.3): `valid`, `missing`, `invalid`, `denied` (lacks the
    /// permission) or `limited` (too many failures from the client). Never counted as a verification.
    public static func adminAuthentication(result: String) { adminAuthentications[result].increment() }

    /// Made once per result: this is counted on every admin request.
    private static let adminAuthentications = MetricHandles<String, Counter> { result in
        Counter(label: "talos_admin_authentications_total", dimensions: [("result", result)])
    }

    /// `talos_api_keys_rotated_total`.
    public static func keyRotated() { Counter(label: "talos_api_keys_rotated_total").increment() }

    /// `talos_derived_tokens_minted_total{algorithm}` (`jwt` or `macaroon`).
    public static func tokenMinted(algorithm: String) {
        Counter(label: "talos_derived_tokens_minted_total", dimensions: [("algorithm", algorithm)]).increment()
    }

    /// The batch-import family: one request of `size` items, with its failures by error code.
    public static func batchImport(size: Int, successes: Int, failures: [String: Int]) {
        Counter(label: "talos_batch_import_requests_total").increment()
        Recorder(label: "talos_batch_import_batch_size").record(size)
        if !failures.isEmpty, successes > 0 { Counter(label: "talos_batch_import_partial_failures_total").increment() }
        Counter(label: "talos_batch_import_keys_total", dimensions: [("outcome", "success"), ("error_code", "")])
            .increment(by: successes)
        for (code, count) in failures {
            Counter(label: "talos_batch_import_keys_total", dimensions: [("outcome", "failure"), ("error_code", code)])
                .increment(by: count)
        }
    }

    /// `talos_cache_invalidations_total{source}`: `local` (this node's mutation) or `remote` (the feed).
    public static func cacheInvalidation(source: String) {
        Counter(label: "talos_cache_invalidations_total", dimensions: [("source", source)]).increment()
    }

    /// `talos_cache_listener_up`: 1 while the invalidation feed listens.
    public static func cacheListener(up: Bool) {
        Gauge(label: "talos_cache_listener_up").record(up ? 1 : 0)
    }

    /// `talos_rate_limiter_errors_total`: a limiter failure (the request was allowed).
    public static func rateLimiterError() { Counter(label: "talos_rate_limiter_errors_total").increment() }

    /// `talos_last_used_dropped_total` / `talos_last_used_flushed_total`.
    public static func lastUsed(dropped: Int = 0, flushed: Int = 0) {
        if dropped > 0 { Counter(label: "talos_last_used_dropped_total").increment(by: dropped) }
        if flushed > 0 { Counter(label: "talos_last_used_flushed_total").increment(by: flushed) }
    }

    /// `talos_usage_dropped_total`: verifications not counted because the usage counters were full.
    public static func usage(dropped: Int) { Counter(label: "talos_usage_dropped_total").increment(by: dropped) }

    /// One usage flush that wrote `flushed` counters holding `events` verifications in `duration`.
    public static func usage(flushed: Int, events: Int64, duration: Duration) {
        usageFlushes.increment()
        usageBuckets.increment(by: flushed)
        usageEvents.increment(by: Int(events))
        usageFlushDuration.recordNanoseconds(duration.wholeNanoseconds)
    }

    /// `talos_usage_flush_failures_total`: a flush that failed (its counts wait for the next).
    public static func usageFlushFailed() { Counter(label: "talos_usage_flush_failures_total").increment() }

    private static let usageFlushes = Counter(label: "talos_usage_flushes_total")
    private static let usageBuckets = Counter(label: "talos_usage_flushed_buckets_total")
    private static let usageEvents = Counter(label: "talos_usage_flushed_verifications_total")
    private static let usageFlushDuration = Timer(label: "talos_usage_flush_duration_seconds")

    /// `talos_build_info{version} 1`.
    public static func buildInfo() {
        Gauge(label: "talos_build_info", dimensions: [("version", TalosVersion.current)]).record(1)
    }

    /// The buckets of the value histograms that do not measure seconds (the Prometheus factory's default buckets are
    /// for seconds): the HTTP body sizes, in bytes.
    public static let valueHistogramBuckets: [String: [Double]] = [
        "http_request_size_bytes": byteBuckets, "http_response_size_bytes": byteBuckets,
    ]
    private static let byteBuckets: [Double] = [64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 16_777_216]

    /// One line of help per metric family (spec §11.1), for the exposition's `# HELP` lines.
    public static let help: [String: String] = [
        "talos_http_requests_total": "HTTP requests by method, route template and status code.",
        "talos_http_request_duration_seconds": "HTTP request duration by method and route template.",
        "talos_verifications_total": "Credential verifications by credential type, result, error code and cache use.",
        "talos_verification_duration_seconds": "Verification duration by credential type and cache hit.",
        "talos_api_keys_created_total": "API keys created, by type.",
        "talos_api_keys_revoked_total": "API keys revoked, by reason (or rotation).",
        "talos_api_keys_rotated_total": "Issued API keys rotated.",
        "talos_derived_tokens_minted_total": "Derived tokens minted, by algorithm.",
        "talos_batch_import_requests_total": "Batch import requests.",
        "talos_batch_import_partial_failures_total": "Batch imports in which some but not all keys failed.",
        "talos_batch_import_batch_size": "Keys per batch import request.",
        "talos_batch_import_keys_total": "Keys in batch imports, by outcome and error code.",
        "talos_cache_errors_total": "Verification cache errors, by operation.",
        "talos_cache_invalidations_total": "Verification cache invalidations, by source (local or remote).",
        "talos_cache_listener_up": "1 while the cache invalidation listener is connected.",
        "talos_rate_limited_total": "Verifications refused as over their key's rate limit.",
        "talos_rate_limiter_errors_total": "Rate limiter failures (the verification was allowed).",
        "talos_last_used_dropped_total": "last_used_time updates dropped because the queue was full.",
        "talos_last_used_flushed_total": "last_used_time updates written.",
        "talos_usage_flushes_total": "Usage flushes that succeeded.",
        "talos_usage_flush_failures_total": "Usage flushes that failed (their counts are retried with the next).",
        "talos_usage_flushed_buckets_total": "Usage counters (key, hour, outcome) written.",
        "talos_usage_flushed_verifications_total": "Verifications written to the usage counters.",
        "talos_usage_flush_duration_seconds": "Duration of a usage flush.",
        "talos_usage_dropped_total": "Verifications not counted because the usage counters were full.",
        "http_requests_total": "HTTP requests by method, status code and endpoint (the names Ory's dashboards use).",
        "http_request_size_bytes": "HTTP request body sizes by method, status code and endpoint.",
        "http_response_size_bytes": "HTTP response body sizes by method, status code and endpoint.",
        "http_requests_in_flight": "HTTP requests being served.",
        "talos_build_info": "Build information; always 1.",
    ]

    /// The exposition with a `# HELP` line before each family's `# TYPE` line that `help` (default: Talos's own
    /// families) describes; swift-metrics has no help texts, and Prometheus's linter asks for them.
    public static func addingHelp(to exposition: [UInt8], help: [String: String] = help) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + 4096)
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: Array("# TYPE ".utf8)) {
                let name = String(decoding: line.dropFirst(7).prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if let text = help[name] { output += Array("# HELP \(name) \(text)\n".utf8) }
            }
            output += line
            output.append(UInt8(ascii: "\n"))
        }
        if exposition.last == UInt8(ascii: "\n") { output.removeLast() }
        return output
    }
}
