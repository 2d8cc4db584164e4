/// `serve.http.cors.*` (spec §9): which browser origins may call the API, and what the CORS headers of its answers
/// say. Hot-reloadable. The matching follows rs/cors, the library Ory's servers use: an origin pattern holds at most
/// one `*` (e.g. `https://*.example.com`), a lone `*` allows every origin, and header names compare
/// case-insensitively.
public struct CORSPolicy: Sendable, Hashable {
    /// `serve.http.cors.enabled`.
    public var enabled = false
    /// `serve.http.cors.allowed_origins`.
    public var allowedOrigins = ["*"] {
        didSet { originPatterns = allowedOrigins.map { $0.lowercased() } }
    }
    /// `allowedOrigins` lower-cased once, not on every request.
    private var originPatterns = ["*"]
    /// `serve.http.cors.allowed_methods`.
    public var allowedMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    /// `serve.http.cors.allowed_headers`; `Origin` is always allowed, `*` allows any.
    public var allowedHeaders = ["Authorization", "Content-Type"]
    /// `serve.http.cors.exposed_headers`.
    public var exposedHeaders = ["Content-Type"]
    /// `serve.http.cors.allow_credentials`.
    public var allowCredentials = false
    /// `serve.http.cors.max_age`, seconds; 0 sends no `Access-Control-Max-Age`.
    public var maxAge: Int64 = 0
    /// `serve.http.cors.debug`: log every CORS decision at debug level.
    public var debug = false

    /// The defaults of spec §9 (disabled).
    public init() {}

    /// Whether `origin` (the request's `Origin`) may call the API.
    public func allows(origin: String) -> Bool {
        let origin = origin.lowercased()
        return originPatterns.contains { pattern in
            if pattern == "*" { return true }
            guard let star = pattern.firstIndex(of: "*") else { return pattern == origin }
            let prefix = pattern[..<star]
            let suffix = pattern[pattern.index(after: star)...]
            return origin.count >= prefix.count + suffix.count && origin.hasPrefix(prefix) && origin.hasSuffix(suffix)
        }
    }

    /// Whether requests with `method` may be made (preflight's `Access-Control-Request-Method`, or the actual
    /// request's method; `OPTIONS` always).
    public func allows(method: String) -> Bool {
        let method = method.uppercased()
        return method == "OPTIONS" || allowedMethods.contains { $0.uppercased() == method }
    }

    /// Whether every header a preflight names (`Access-Control-Request-Headers`, comma-separated) is allowed.
    public func allows(requestedHeaders: String) -> Bool {
        if allowedHeaders.contains("*") { return true }
        let allowed = Set(allowedHeaders.map { $0.lowercased() } + ["origin"])
        return
            requestedHeaders.split(separator: ",")
            .map { String($0).trimmingSpaces.lowercased() }
            .allSatisfy { $0.isEmpty || allowed.contains($0) }
    }

    /// The `Access-Control-Allow-Origin` value for an allowed `origin`: `*` when every origin is allowed, the origin
    /// itself otherwise. `*` stays `*` with `allow_credentials` (browsers then refuse credentialed calls) rather than
    /// handing every website credentialed access.
    public func allowOriginValue(for origin: String) -> String {
        allowedOrigins.contains("*") ? "*" : origin
    }
}
