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
            guard segment.hasPrefix("{"), let close = segment.firstIndex(of: "}") else { return .literal(String(segment)) }
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

/// Splits a request path into percent-decoded segments, so that `%3A` equals `:` (spec §3).
func decodedPathSegments(_ path: String) -> [String] {
    path.split(separator: "/").map { segment in
        guard segment.contains("%") else { return String(segment) }
        var bytes: [UInt8] = []
        var iterator = Array(segment.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let decoded = Hex.decode(String(decoding: [high, low], as: UTF8.self))
            {
                bytes += decoded
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
