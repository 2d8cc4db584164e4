import HTTPTypes
import TalosCore

/// Which listener surfaces a process serves (spec §1, §3).
public enum ServerMode: String, Sendable, CaseIterable {
    /// `talos serve`: admin and public surfaces.
    case all
    /// `talos serve admin`.
    case admin
    /// `talos serve public`.
    case `public`

    func serves(_ surface: Surface) -> Bool {
        switch (self, surface) {
        case (_, .always), (.all, _), (.admin, .admin), (.public, .public): true
        default: false
        }
    }
}

/// The surface a route belongs to.
enum Surface: Sendable {
    case admin, `public`, always
}

/// A path template such as `/v2alpha1/admin/issuedApiKeys/{key_id}:rotate`.
struct PathPattern: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        /// A captured segment that must end with `suffix` (e.g. `:rotate`), which is not captured.
        case capture(suffix: String)
    }

    let template: String
    let segments: [Segment]

    init(_ template: String) {
        self.template = template
        self.segments = template.split(separator: "/").map { segment in
            guard segment.hasPrefix("{"), let close = segment.firstIndex(of: "}") else {
                return .literal(String(segment))
            }
            return .capture(suffix: String(segment[segment.index(after: close)...]))
        }
    }

    /// Whether a capture has a suffix: such routes are tried before bare captures.
    var specificity: Int { segments.reduce(0) { $0 + ($1 == .capture(suffix: "") ? 0 : 1) } }

    /// The captured value when `path` (already split and percent-decoded) matches.
    func match(_ path: [String]) -> String?? {
        guard path.count == segments.count else { return nil }
        var captured: String?
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let literal): guard literal == part else { return nil }
            case .capture(let suffix):
                guard part.hasSuffix(suffix), part.utf8.count > suffix.utf8.count else { return nil }
                captured = String(part.dropLast(suffix.count))
            }
        }
        return .some(captured)
    }
}

/// Splits a request path into segments, decoding only `%3A`/`%3a` (so that it equals `:`, spec §3); `nil` for a path
/// that must not match any route (spec §15.4): any other percent-escape, an empty segment (`//`, a trailing `/`),
/// or a `.` or `..` segment. A proxy filtering on the raw path prefix then sees exactly what is routed.
func strictPathSegments(_ path: String) -> [String]? {
    guard path.utf8.first == UInt8(ascii: "/") else { return nil }
    var segments: [String] = []
    for raw in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        guard !raw.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "%") {
                let escape = raw[index...].prefix(3)
                guard escape.count == 3, escape.dropFirst().first == UInt8(ascii: "3"),
                    escape.last == UInt8(ascii: "A") || escape.last == UInt8(ascii: "a")
                else { return nil }
                bytes.append(UInt8(ascii: ":"))
                index = raw.index(index, offsetBy: 3)
            } else {
                bytes.append(byte)
                index = raw.index(after: index)
            }
        }
        let segment = String(decoding: bytes, as: UTF8.self)
        guard segment != ".", segment != ".." else { return nil }
        segments.append(segment)
    }
    return segments
}
