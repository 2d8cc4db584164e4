import ArgumentParser
import NIOHTTP1
import TalosClient
import TalosCore

/// `talos keys usage KEY_ID` (or `--actor ACTOR`): verification counts per hour or day and outcome (docs/usage.md).
struct KeysUsage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show how often a key (or an actor's keys) verified, by hour or day and outcome."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "Key id (UUID or 64 hex characters); omit with --actor.")
    var keyID: String?

    @Option(help: "Sum every key of this actor instead of one key.")
    var actor: String?

    @Option(help: "How far back to look, e.g. 24h or 720h.")
    var since = "168h"

    @Option(help: "Bucket width: hour or day.")
    var granularity = "hour"

    func validate() throws {
        guard (keyID == nil) != (actor == nil) else { throw ValidationError("Give a key id or --actor, not both.") }
        guard let since = DurationText.parseConfig(since), since > 0 else {
            throw ValidationError("--since: invalid duration \"\(since)\" (e.g. 24h, 168h)")
        }
        guard UsageGranularity(rawValue: granularity.uppercased()) != nil else {
            throw ValidationError("--granularity: must be hour or day")
        }
    }

    func run() async throws {
        let end = SystemWallClock().now()
        let start = end.adding(nanoseconds: -(DurationText.parseConfig(since) ?? 0))
        let range = "start_time=\(start.rfc3339)&end_time=\(end.rfc3339)&granularity=\(granularity.uppercased())"
        let path =
            if let keyID {
                "/v2alpha1/admin/apiKeys/\(PercentEncoding.encode(keyID))/usage?\(range)"
            } else {
                "/v2alpha1/admin/usage?actor_id=\(PercentEncoding.encode(actor ?? ""))&\(range)"
            }
        let response = try await client.client.call(.GET, path)
        let buckets = (response.body["buckets"]?.arrayValue ?? []).map(UsageLine.init)
        if client.quiet {
            print(buckets.reduce(0) { $0 + $1.valid + $1.invalid.reduce(0) { $0 + $1.1 } })
            return
        }
        let width: Int64 = granularity.uppercased() == "DAY" ? 86_400 : 3600
        let printer = Printer(format: client.format)
        try printer.emit(response) {
            let valid = buckets.reduce(0) { $0 + $1.valid }
            var invalid: [String: Int64] = [:]
            for bucket in buckets { for (code, count) in bucket.invalid { invalid[code, default: 0] += count } }
            let failures = invalid.keys.sorted().map { "\($0) \(invalid[$0] ?? 0)" }.joined(separator: ", ")
            return [
                (keyID == nil ? "ACTOR" : "KEY ID", keyID ?? actor ?? ""),
                ("FROM", start.rfc3339), ("UNTIL", end.rfc3339),
                ("VALID", "\(valid)"),
                ("INVALID", "\(invalid.values.reduce(0, +))\(failures.isEmpty ? "" : " (\(failures))")"),
                ("USAGE", Self.sparkline(buckets, from: start.seconds, until: end.seconds, width: width)),
            ]
        }
        guard client.format == .table, !buckets.isEmpty else { return }
        print("")
        printer.printTable(
            [("BUCKET", "VALID  INVALID")]
                + buckets.map { bucket in
                    let failures = bucket.invalid.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                    return (bucket.start, "\(bucket.valid)  \(failures.isEmpty ? "0" : failures)")
                }
        )
    }

    /// One character per bucket from `from` to `until`, oldest first: `·` for none, else `▁`…`█` scaled to the
    /// busiest bucket.
    static func sparkline(_ buckets: [UsageLine], from: Int64, until: Int64, width: Int64) -> String {
        let first = from - ((from % width) + width) % width
        let count = Int(max(1, (until - first + width - 1) / width))
        var totals = [Int64](repeating: 0, count: count)
        for bucket in buckets {
            guard let start = Timestamp(rfc3339: bucket.start)?.seconds else { continue }
            let index = Int((start - first) / width)
            if totals.indices.contains(index) { totals[index] += bucket.valid + bucket.invalid.reduce(0) { $0 + $1.1 } }
        }
        let peak = totals.max() ?? 0
        let bars = Array("▁▂▃▄▅▆▇█")
        return String(
            totals.map { total in
                guard total > 0, peak > 0 else { return "·" }
                return bars[Int((total * Int64(bars.count - 1) + peak - 1) / peak)]
            }
        )
    }
}

/// One bucket of a usage answer, as the CLI prints it.
struct UsageLine {
    let start: String
    let valid: Int64
    let invalid: [(String, Int64)]

    init(_ json: JSONValue) {
        start = json["start_time"]?.stringValue ?? ""
        valid = json["valid"]?.stringValue.flatMap { Int64($0) } ?? 0
        invalid = (json["invalid"]?.objectValue ?? [:]).map {
            ($0.key, $0.value.stringValue.flatMap { Int64($0) } ?? 0)
        }
        .sorted { $0.0 < $1.0 }
    }
}
