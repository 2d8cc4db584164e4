import HTTPTypes
import TalosCore
import Testing

/// Spec §16.1 cross-origin protection and §16.2 allowed hosts, with the headers browsers send.
@Suite struct CrossOriginTests {
    static let host = HTTPField.Name("Host")!
    static let site = HTTPField.Name("Sec-Fetch-Site")!
    static let mode = HTTPField.Name("Sec-Fetch-Mode")!
    static let dest = HTTPField.Name("Sec-Fetch-Dest")!
    static let importBody = #"{"name":"x","actor_id":"evil","raw_key":"planted-secret-of-the-attackers-choosing"}"#

    /// What Chromium sends for a page's `fetch(url, {method: "POST", mode: "no-cors", body: "…"})` to another site.
    static let crossSiteNoCORS: HTTPFields = [
        host: "localhost:4420", .origin: "http://evil.example", site: "cross-site", mode: "no-cors", dest: "empty",
        .contentType: "text/plain;charset=UTF-8",
    ]

    @Test func aCrossSiteNoCORSPostIsRefusedAndPlantsNothing() async throws {
        try await withAPI { api in
            let reply = try await api.send(
                .post,
                "/v2alpha1/admin/importedApiKeys",
                Self.importBody,
                headers: Self.crossSiteNoCORS
            )
            #expect(reply.status == 403 && reply.reason == "CROSS_ORIGIN_REQUEST")
            #expect(reply.json["error"]?["status"] == "PERMISSION_DENIED")
            #expect(reply.message == "cross-origin request refused")
            let planted = try await api.verify("planted-secret-of-the-attackers-choosing")
            #expect(planted.json["is_valid"] == false)
            // Revoke and issue are refused the same way; reads are not state-changing and pass.
            let issue = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                #"{"name":"n","actor_id":"a"}"#,
                headers: Self.crossSiteNoCORS
            )
            #expect(issue.status == 403)
            let list = try await api.send(.get, "/v2alpha1/admin/importedApiKeys", headers: Self.crossSiteNoCORS)
            #expect(list.status == 200 && list.json["imported_api_keys"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(arguments: [
        // Same origin as Chromium sends it; a navigation typed by the user; an Origin naming this host.
        ([site: "same-origin", .origin: "http://localhost:4420"] as HTTPFields, 201),
        ([site: "none"] as HTTPFields, 201),
        ([.origin: "http://LOCALHOST:4420"] as HTTPFields, 201),
        // Without Sec-Fetch-Site (older browsers) the Origin decides, port included; same-site is still another origin.
        ([.origin: "http://localhost:4421"] as HTTPFields, 403),
        ([.origin: "null"] as HTTPFields, 403),
        ([site: "same-site", .origin: "http://app.localhost:4420"] as HTTPFields, 403),
        // curl, SDKs and servers send neither header, whatever their Content-Type.
        ([.contentType: "application/x-www-form-urlencoded"] as HTTPFields, 201),
        ([:] as HTTPFields, 201),
    ])
    func browsersAndOtherClients(_ extra: HTTPFields, status: Int) async throws {
        try await withAPI { api in
            var headers: HTTPFields = [Self.host: "localhost:4420"]
            headers.append(contentsOf: extra)
            let reply = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                #"{"name":"n","actor_id":"a"}"#,
                headers: headers
            )
            #expect(reply.status == status, "\(reply.rawBody)")
        }
    }

    /// An origin allowed by an enabled CORS policy is exempt; other origins are still refused.
    @Test func aCORSAllowedOriginIsExempt() async throws {
        var config = testConfig()
        config.cors.enabled = true
        config.cors.allowedOrigins = ["https://console.example.com"]
        try await withAPI(config) { api in
            var allowed = Self.crossSiteNoCORS
            allowed[.origin] = "https://console.example.com"
            let reply = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                #"{"name":"n","actor_id":"a"}"#,
                headers: allowed
            )
            #expect(reply.status == 201)
            #expect(reply.headers[.accessControlAllowOrigin] == "https://console.example.com")
            let other = try await api.send(
                .post,
                "/v2alpha1/admin/issuedApiKeys",
                #"{"name":"n","actor_id":"a"}"#,
                headers: Self.crossSiteNoCORS
            )
            #expect(other.status == 403 && other.reason == "CROSS_ORIGIN_REQUEST")
        }
    }

    /// Spec §16.2: with `allowed_hosts`, a rebinding page's `Host` gets 421; tenancy hostnames and health pass.
    @Test func allowedHostsDefeatDNSRebinding() async throws {
        var config = testConfig()
        config.allowedHosts = ["localhost", "127.0.0.1", "::1"]
        try await withAPI(config) { api in
            func get(_ path: String, host: String) async throws -> Reply {
                try await api.send(.get, path, headers: [Self.host: host])
            }
            let rebound = try await get("/v2alpha1/admin/issuedApiKeys", host: "attacker.example")
            #expect(rebound.status == 421 && rebound.reason == "HOST_NOT_ALLOWED")
            #expect(rebound.json["error"]?["status"] == "INVALID_ARGUMENT")
            #expect(rebound.json["error"]?["code"] == 421)
            for host in ["localhost:4420", "127.0.0.1:4420", "[::1]:4420", "LocalHost"] {
                #expect(try await get("/v2alpha1/admin/issuedApiKeys", host: host).status == 200, "\(host)")
            }
            #expect(try await get("/health/alive", host: "attacker.example").status == 200)
            #expect(try await get("/health/ready", host: "attacker.example").status == 200)
        }
        var tenants = try MultiTenancyTests.config()
        tenants.allowedHosts = ["localhost"]
        try await withAPI(tenants) { api in
            let tenant = try await api.send(
                .get,
                "/v2alpha1/admin/issuedApiKeys",
                headers: [Self.host: "a.example.com"]
            )
            #expect(tenant.status == 200)
        }
    }
}
