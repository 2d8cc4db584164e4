/// The width of a usage report's buckets.
public enum UsageGranularity: String, Sendable, CaseIterable {
    /// UTC hours.
    case hour = "HOUR"
    /// UTC days.
    case day = "DAY"

    /// The bucket width in seconds.
    var seconds: Int64 { self == .hour ? 3600 : 86_400 }

    /// The start of the bucket holding `seconds` (seconds since the epoch).
    func floor(_ seconds: Int64) -> Int64 { seconds - ((seconds % self.seconds) + self.seconds) % self.seconds }
}

/// What a usage request asks for, as the caller wrote it (query parameters or CLI flags).
public struct UsageRequest: Sendable, Hashable {
    /// RFC 3339; default: `endTime` minus 7 days.
    public var startTime: String?
    /// RFC 3339, exclusive; default: just after now.
    public var endTime: String?
    /// `HOUR` (default) or `DAY`.
    public var granularity: String?

    /// A request for the given range and granularity; `nil` fields take their defaults.
    public init(startTime: String? = nil, endTime: String? = nil, granularity: String? = nil) {
        self.startTime = startTime
        self.endTime = endTime
        self.granularity = granularity
    }
}

/// Verification counts of a key or an actor's keys, per bucket (docs/usage.md).
public struct UsageReport: Sendable, Hashable {
    /// One bucket with at least one verification.
    public struct Bucket: Sendable, Hashable {
        /// The bucket's first instant (the start of its UTC hour or day).
        public let startTime: Timestamp
        /// Valid verifications.
        public var valid: Int64 = 0
        /// Failed verifications by error code without its prefix (`REVOKED`, `RATE_LIMITED`, …).
        public var invalid: [String: Int64] = [:]
    }

    /// The buckets in chronological order; empty buckets are omitted.
    public let buckets: [Bucket]
    /// The buckets' width.
    public let granularity: UsageGranularity
}

/// Answers usage queries from the counts `UsageRecorder` flushed (they lag by up to `usage.flush_interval`).
public struct UsageService: Sendable {
    let service: KeyService

    /// The most buckets one request may span: 31 days of hours and one more.
    public static let maxBuckets: Int64 = 745
    /// The range when no `start_time` is given: 7 days before `end_time`.
    static let defaultSpan: Int64 = 7 * 86_400

    /// The usage service over `service`'s storage, clock and tenant settings.
    public init(service: KeyService) { self.service = service }

    /// The usage of one issued or imported key. - Throws: 404 `API_KEY_NOT_FOUND` for an unknown key (admin keys
    /// included), 400 for a bad range or granularity, 503/504 when the database fails.
    public func keyUsage(keyID rawID: String, nid: String, request: UsageRequest) async throws -> UsageReport {
        let range = try Self.range(request, now: service.clock.now())
        let (kind, keyID) = try KeyService.apiKeyID(rawID)
        let storage = service.storage
        guard try await service.withStorage({ try await storage.fetch(kind: kind, nid: nid, keyID: keyID) }) != nil
        else { throw KeyService.notFound(kind: kind, keyID: keyID) }
        return try await report(.key(keyID), nid: nid, range: range)
    }

    /// The summed usage of every issued and imported key of `actorID`. - Throws: 400 for a missing actor, a bad range
    /// or granularity; 503/504 when the database fails.
    public func actorUsage(actorID: String, nid: String, request: UsageRequest) async throws -> UsageReport {
        let actorID = try Validate.name(actorID, field: "actor_id")
        return try await report(.actor(actorID), nid: nid, range: try Self.range(request, now: service.clock.now()))
    }

    private func report(_ subject: UsageQuery.Subject, nid: String, range: Range) async throws -> UsageReport {
        let query = UsageQuery(nid: nid, subject: subject, fromHour: range.fromHour, untilHour: range.untilHour)
        let storage = service.storage
        let totals = try await service.withStorage { try await storage.usage(query) }
        var buckets: [Int64: UsageReport.Bucket] = [:]
        for total in totals where total.count > 0 {
            let start = range.granularity.floor(total.hour)
            var bucket = buckets[start] ?? UsageReport.Bucket(startTime: Timestamp(seconds: start))
            if total.outcome == UsageCount.outcomeName(nil) {
                bucket.valid += total.count
            } else {
                bucket.invalid[total.outcome, default: 0] += total.count
            }
            buckets[start] = bucket
        }
        return UsageReport(
            buckets: buckets.keys.sorted().compactMap { buckets[$0] },
            granularity: range.granularity
        )
    }

    /// The hours a request covers.
    struct Range: Sendable, Hashable {
        let granularity: UsageGranularity
        /// The first hour of the first bucket.
        let fromHour: Int64
        /// The hour after the last one that starts before the end.
        let untilHour: Int64
    }

    /// Validates a request against `now`: timestamps in RFC 3339, start before end, a known granularity and at most
    /// `maxBuckets` buckets. - Throws: 400 `INVALID_ARGUMENT` naming the parameter.
    static func range(_ request: UsageRequest, now: Timestamp) throws(TalosError) -> Range {
        let granularity: UsageGranularity
        // A parameter given empty is a value, and not a valid one (only an absent one takes the default).
        switch request.granularity {
        case nil: granularity = .hour
        case let text?:
            guard let known = UsageGranularity(rawValue: text) else {
                throw TalosError.validation("granularity", "value must be one of HOUR, DAY")
            }
            granularity = known
        }
        // Without an end, everything up to and including now.
        let end = try timestamp(request.endTime, "end_time") ?? now.adding(nanoseconds: 1_000)
        let start = try timestamp(request.startTime, "start_time") ?? end.adding(seconds: -defaultSpan)
        guard start < end else { throw TalosError.validation("start_time", "value must be before end_time") }
        let first = granularity.floor(start.seconds)
        // The last instant covered is just before `end`.
        let lastSecond = end.adding(nanoseconds: -1_000).seconds
        let buckets = (granularity.floor(lastSecond) - first) / granularity.seconds + 1
        guard buckets <= maxBuckets else {
            throw TalosError.validation(
                "end_time",
                "the range spans \(buckets) \(granularity == .hour ? "hours" : "days"); at most \(maxBuckets) per request"
            )
        }
        return Range(
            granularity: granularity,
            fromHour: first,
            untilHour: UsageGranularity.hour.floor(lastSecond) + 3600
        )
    }

    private static func timestamp(_ text: String?, _ field: String) throws(TalosError) -> Timestamp? {
        guard let text else { return nil }
        guard let parsed = Timestamp(rfc3339: text) else {
            throw TalosError.validation(field, "value must be an RFC 3339 timestamp")
        }
        return parsed
    }
}
