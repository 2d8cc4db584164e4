/// The duration grammars of spec §2.3, in nanoseconds.
public enum DurationText {
    /// Longest API ttl: 10 × 365 days.
    public static let maximumTTLSeconds: Int64 = 315_360_000

    private static let nanosecond: Int64 = 1
    private static let second: Int64 = 1_000_000_000
    private static let goUnits: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", second), ("m", 60 * second), ("h", 3600 * second),
    ]
    private static let calendarUnits: [(String, Int64)] = [
        ("d", 86_400 * second), ("w", 7 * 86_400 * second), ("mo", 30 * 86_400 * second),
        ("y", 365 * 86_400 * second),
    ]

    /// Parses a config duration (Go form, e.g. `1.5h`, `5m30s`); `nil` when it does not match the grammar.
    public static func parseConfig(_ text: String) -> Int64? {
        parse(text, units: goUnits)
    }

    /// Parses an API `ttl`: Go form plus calendar units `d`, `w`, `mo`, `y`, in any order; `nil` on bad syntax.
    public static func parseTTL(_ text: String) -> Int64? {
        parse(text, units: goUnits + calendarUnits)
    }

    private static func parse(_ text: String, units: [(String, Int64)]) -> Int64? {
        if text == "0" { return 0 }
        let sortedUnits = units.sorted { $0.0.utf8.count > $1.0.utf8.count }
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var total: Double = 0
        while !rest.isEmpty {
            let whole = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !whole.isEmpty else { return nil }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                fraction = rest.dropFirst().prefix(while: { $0.isASCII && $0.isNumber })
                guard !fraction.isEmpty else { return nil }
                rest = rest.dropFirst(1 + fraction.count)
            }
            guard let unit = sortedUnits.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            guard let value = Double(fraction.isEmpty ? String(whole) : "\(whole).\(fraction)") else { return nil }
            total += value * Double(unit.1)
        }
        // Saturate rather than fail: an enormous duration is well-formed, just out of range for the caller to reject.
        return total >= 9.2e18 ? Int64.max : Int64(total.rounded())
    }

    /// Go's canonical `time.Duration.String()`: `8760h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`.
    public static func formatGo(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        let value = nanoseconds.magnitude
        var text: String
        if value < UInt64(second) {
            let (unit, scale): (String, UInt64) =
                value < 1_000 ? ("ns", 1) : value < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            text = fraction(value, scale: scale) + unit
        } else {
            let hours = value / 3_600_000_000_000
            let minutes = value / 60_000_000_000 % 60
            let seconds = value % 60_000_000_000
            text = fraction(seconds, scale: UInt64(second)) + "s"
            if hours > 0 || minutes > 0 { text = "\(minutes)m" + text }
            if hours > 0 { text = "\(hours)h" + text }
        }
        return negative ? "-" + text : text
    }

    private static func fraction(_ value: UInt64, scale: UInt64) -> String {
        let whole = value / scale
        var remainder = value % scale
        guard remainder > 0 else { return "\(whole)" }
        var digits = ""
        var divisor = scale / 10
        while remainder > 0, divisor > 0 {
            digits.append(Character(String(remainder / divisor)))
            remainder %= divisor
            divisor /= 10
        }
        return "\(whole).\(digits)"
    }

    /// Protobuf JSON form of a whole number of seconds: `60s`.
    public static func formatProtobufSeconds(_ seconds: Int64) -> String { "\(seconds)s" }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.max` (configuration durations are far below it).
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled &+ attoseconds / 1_000_000_000
    }
}
