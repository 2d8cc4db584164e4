import HTTPTypes
import TalosCore
import TalosHost
import Testing

/// The console's static files (docs/console.md): compiled in, served on `serve` and `serve admin` with the
/// Content-Security-Policy, open without an admin key, and absent when disabled.
@Suite struct ConsoleTests {
    static let policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    @Test(arguments: [
        ("/console/", "text/html; charset=utf-8", "<script type=\"module\" src=\"/console/console.js\"></script>"),
        ("/console/console.js", "text/javascript; charset=utf-8", "sessionStorage"),
        ("/console/console.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"),
    ])
    func filesAreServedWithThePolicy(path: String, contentType: String, contains: String) async throws {
        // With admin authentication on: the files are open, the API behind them is not.
        try await withAPI(AdminAuthTests.authConfig()) { api in
            let reply = try await api.send(.get, path)
            #expect(reply.status == 200)
            #expect(reply.headers[.contentType] == contentType)
            #expect(reply.headers[.contentSecurityPolicy] == Self.policy)
            #expect(reply.headers[.cacheControl] == "no-cache")
            #expect(reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(reply.headers[.setCookie] == nil)
            #expect(reply.rawBody.contains(contains))
        }
    }

    @Test func thePageHasNoInlineScriptOrStyle() async throws {
        try await withAPI { api in
            let page = try await api.send(.get, "/console/").rawBody
            #expect(!page.contains("<script>") && !page.contains("style=") && !page.contains("<style"))
            #expect(page.split(separator: "<script", omittingEmptySubsequences: false).count == 2)  // one, by src
        }
    }

    @Test func otherPathsAndMethods() async throws {
        try await withAPI { api in
            let bare = try await api.send(.get, "/console")
            #expect(bare.status == 308 && bare.headers[.location] == "/console/")
            #expect(try await api.send(.get, "/console/missing.js").status == 404)
            let post = try await api.send(.post, "/console/", "{}")
            #expect(post.status == 405 && post.headers[.allow] == "GET")
        }
    }

    @Test func notOnThePublicSurfaceNorWhenDisabled() async throws {
        try await withAPI(mode: .public) { api in
            let reply = try await api.send(.get, "/console/")
            #expect(reply.status == 501)
        }
        var config = testConfig()
        config.consoleEnabled = false
        try await withAPI(config) { api in
            let reply = try await api.send(.get, "/console/")
            #expect(reply.status == 404)
        }
    }
}
