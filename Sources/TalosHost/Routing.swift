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
    /// Segments that are not bare captures: routes with suffixed captures are tried before bare ones.
    let specificity: Int
    /// Whether a capture carries a custom-method suffix (`{key_id}:rotate`).
    let hasCustomMethod: Bool
    /// Whether a segment is a bare `{key_id}`.
    let hasBareCapture: Bool

    init(_ template: String) {
        self.template = template
        let segments: [Segment] = template.split(separator: "/").map { segment in
            guard segment.hasPrefix("{"), let close = segment.firstIndex(of: "}") else {
                return .literal(String(segment))
            }
            return .capture(suffix: String(segment[segment.index(after: close)...]))
        }
        self.segments = segments
        let bare = segments.filter { $0 == .capture(suffix: "") }.count
        self.specificity = segments.count - bare
        self.hasBareCapture = bare > 0
        self.hasCustomMethod = segments.contains {
            if case .capture(let suffix) = $0 { !suffix.isEmpty } else { false }
        }
    }

    /// How `path` (split by `strictPathSegments`) matches, or `nil`.
    func match(_ path: [String]) -> PathMatch? {
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
        return captured.map(PathMatch.keyed) ?? .plain
    }
}

/// A matched path: a plain one, or one whose `{key_id}` segment captured a value.
enum PathMatch: Sendable, Equatable {
    case plain
    case keyed(String)
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

/// One row of the route table: where, on which surface, with what body limit, answered by whom.
struct Route: Sendable {
    /// A route's operation; `{key_id}` routes receive the captured id.
    enum Handler: Sendable {
        case plain(@Sendable (APIRequest) async throws -> APIReply)
        case keyed(@Sendable (APIRequest, _ keyID: String) async throws -> APIReply)
    }

    static let oneMiB = 1 << 20
    static let sixteenMiB = 16 << 20

    let method: HTTPRequest.Method
    let pattern: PathPattern
    let surface: Surface
    let bodyLimit: Int
    let handler: Handler
    /// Served without a tenant (health, version, the OpenAPI document, spec §9.2).
    var tenantless = false
    /// The span the operation runs in (spec §11.3), e.g. `service.IssueApiKey`.
    var span: String?
    /// Not refused for a browser's cross-origin headers (forward auth: a gateway forwards its client's headers).
    var crossOriginExempt = false
    /// Matched by its exact path before any template (the console's static files, whose paths end in `/`).
    var exactPath = false
    /// What an admin key needs for this operation when admin authentication is on (spec §16.3); every
    /// `/v2alpha1/admin/*` route names one (an admin route without one would need `*`).
    var permission: AdminPermission?

    /// Whether admin authentication guards this route: everything under `/v2alpha1/admin/`.
    var isAdminPath: Bool { pattern.template.hasPrefix("/v2alpha1/admin/") }

    /// The route, needing `permission` from an admin key.
    func requires(_ permission: AdminPermission) -> Route {
        var route = self
        route.permission = permission
        return route
    }

    /// The route, traced as `name`.
    func traced(_ name: String) -> Route {
        var route = self
        route.span = name
        return route
    }

    static func plain(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ surface: Surface,
        limit: Int = oneMiB,
        _ handler: @escaping @Sendable (APIRequest) async throws -> APIReply
    ) -> Route {
        Route(method: method, pattern: PathPattern(path), surface: surface, bodyLimit: limit, handler: .plain(handler))
    }

    /// A route answering exactly `path` (no captures, trailing `/` allowed), served without a tenant.
    static func exact(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ surface: Surface,
        _ handler: @escaping @Sendable (APIRequest) async throws -> APIReply
    ) -> Route {
        var route = plain(method, path, surface, handler)
        route.exactPath = true
        route.tenantless = true
        return route
    }

    static func keyed(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ surface: Surface,
        _ handler: @escaping @Sendable (APIRequest, String) async throws -> APIReply
    ) -> Route {
        Route(method: method, pattern: PathPattern(path), surface: surface, bodyLimit: oneMiB, handler: .keyed(handler))
    }
}

/// A resource's routes; the route table is the union of every controller's.
protocol APIController: Sendable {
    var routes: [Route] { get }
}

/// The routes of a server, matched the way spec §3 and §15.4 require (literal `:` custom methods with `%3A`
/// equivalence, 405 for a known path with another method, 501 for a route outside the server mode).
struct RouteTable: Sendable {
    /// What a request resolved to: a route and its match, or the routing error to answer with.
    enum Resolution: Sendable {
        case route(Route, PathMatch)
        case failure(RoutingFailure)
    }

    let routes: [Route]
    /// Routes matched by their exact path, by path.
    let exact: [String: [Route]]
    let mode: ServerMode

    init(_ routes: [Route], mode: ServerMode) {
        // Routes whose captures have suffixes (`{key_id}:rotate`) before bare captures.
        self.routes = routes.filter { !$0.exactPath }.sorted { $0.pattern.specificity > $1.pattern.specificity }
        self.exact = Dictionary(grouping: routes.filter(\.exactPath), by: \.pattern.template)
        self.mode = mode
    }

    func resolve(method: HTTPRequest.Method, path: String) -> Resolution {
        if let candidates = exact[path] {
            guard let route = candidates.first(where: { $0.method == method }) else {
                return .failure(.methodNotAllowed(allow: candidates.map(\.method)))
            }
            return mode.serves(route.surface) ? .route(route, .plain) : .failure(.notInThisMode)
        }
        guard let segments = strictPathSegments(path) else { return .failure(.notFound) }
        var allowed: [HTTPRequest.Method] = []
        // A path that names a custom method (`{key_id}:rotate`) is that method's path: another HTTP method on it is
        // 405, never a bare `{key_id}` route looking up "id:rotate".
        var customMethodMatched = false
        for route in routes {
            guard let match = route.pattern.match(segments) else { continue }
            if route.pattern.hasCustomMethod {
                customMethodMatched = true
            } else if customMethodMatched, route.pattern.hasBareCapture {
                continue
            }
            guard route.method == method else {
                if !allowed.contains(route.method) { allowed.append(route.method) }
                continue
            }
            guard mode.serves(route.surface) else { return .failure(.notInThisMode) }
            return .route(route, match)
        }
        return .failure(allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed))
    }
}
