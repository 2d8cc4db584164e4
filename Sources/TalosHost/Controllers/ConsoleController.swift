import HTTPTypes
import TalosCore

/// The web console (docs/console.md): three static files compiled into the binary, served at `/console/` on the
/// API listener of `serve` and `serve admin` when `serve.console.enabled`. The page is a client of the API of the
/// same origin; it has no endpoints of its own, sets no cookies and runs no inline script.
struct ConsoleController: APIController {
    /// Everything the page loads comes from this origin; no inline script or style, no framing, no form posts
    /// elsewhere.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static let assets: [(path: String, contentType: String, bytes: [UInt8])] = [
        ("/console/", "text/html; charset=utf-8", PackageResources.console_html),
        ("/console/console.js", "text/javascript; charset=utf-8", PackageResources.console_js),
        ("/console/console.css", "text/css; charset=utf-8", PackageResources.console_css),
    ]

    var routes: [Route] {
        Self.assets.map { asset in
            let headers: HTTPFields = [
                .contentType: asset.contentType,
                .contentSecurityPolicy: Self.contentSecurityPolicy,
                // Revalidated on every load, so an upgraded server never runs yesterday's script.
                .cacheControl: "no-cache",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
                HTTPField.Name("X-Frame-Options")!: "DENY",
                HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
            ]
            return Route.exact(.get, asset.path, .admin) { _ in .file(asset.bytes, headers: headers) }
        } + [Route.exact(.get, "/console", .admin) { _ in .redirect("/console/") }]
    }
}
