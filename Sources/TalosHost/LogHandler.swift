public import Logging
public import TalosCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Structured logs on stderr (spec §11.2): one JSON object per line, or `key=value` text.
public struct TalosLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case json, text
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let format: Format
    private let clock: any WallClock

    public init(format: Format, level: Logger.Level, clock: any WallClock = SystemWallClock()) {
        self.format = format
        self.logLevel = level
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", clock.now().rfc3339), ("level", Self.levelName(event.level)), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        let line: String
        switch format {
        case .json:
            line = JSONValue.object(JSONObject(fields.map { ($0.0, JSONValue.string($0.1)) })).compactString
        case .text:
            line = fields.map { key, value in
                value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
                    ? "\(key)=\(JSONValue.string(value).compactString)" : "\(key)=\(value)"
            }.joined(separator: " ")
        }
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }

    /// The swift-log level for a `log.level` value.
    public static func level(named name: String) -> Logger.Level {
        switch name {
        case "debug": .debug
        case "warn": .warning
        case "error": .error
        default: .info
        }
    }
}
