import HTTPTypes
import Logging
import TalosCore
import TalosPlugins
import TalosTesting
import Testing

@testable import TalosHost

/// Spec §15.11: `GET /openapi.json` is the contract; its operations and the route table are one set.
@Suite struct OpenAPIDocumentTests {
    /// The route table as the server builds it.
    private func routeTable() async throws -> [(method: String, path: String, surface: String, permission: String?)] {
        let config = testConfig()
        let crypto = try BackendRegistry.builtIn.cryptoProvider(named: "openssl").make()
        let handle = try await BackendRegistry.builtIn.storageBackend(forDSN: config.databaseDSN)
            .open(config.databaseDSN, Logger(label: "test"))
        let service = KeyService(
            storage: handle.storage,
            crypto: crypto,
            settings: SettingsStore(TenantSettings(base: try CredentialSettings(config: config, crypto: crypto))),
            clock: ManualClock(),
            logger: Logger(label: "test")
        )
        let routes = apiControllers(
            service: service,
            verifier: Verifier(service: service),
            health: HealthController(storage: handle.storage, openAPIDocument: []),
            clock: ManualClock(),
            selfRevokeLimiter: TokenBuckets(rate: 0, burst: 0, clock: ManualClock()),
            revocations: RevocationFeed(storage: handle.storage, clock: ManualClock())
        )
        defer { Task { await handle.shutdown() } }
        return routes.map {
            ($0.method.rawValue, $0.pattern.template, $0.surface.documentName, $0.permission?.rawValue)
        }
    }

    /// The same operations, surfaces and admin permissions (spec §16.3: `x-talos-permission`).
    @Test func documentAndRouteTableAreTheSameSet() async throws {
        func line(_ operation: (method: String, path: String, surface: String, permission: String?)) -> String {
            "\(operation.method) \(operation.path) \(operation.surface) \(operation.permission ?? "open")"
        }
        let table = try await routeTable()
        let served = Set(table.map(line))
        let documented = Set(OpenAPIDocument.operations.map(line))
        #expect(served.count > 20)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented))")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served))")
        // Every admin operation names exactly one permission; nothing else needs one.
        for operation in table {
            #expect((operation.permission != nil) == operation.path.hasPrefix("/v2alpha1/admin/"), "\(operation.path)")
        }
    }

    @Test(arguments: ServerMode.allCases) func eachModeServesItsOperations(mode: ServerMode) async throws {
        try await withAPI(mode: mode) { api async throws in
            let first = try await api.send(.get, "/openapi.json")
            let second = try await api.send(.get, "/openapi.json")
            #expect(first.status == 200 && first.rawBody == second.rawBody)
            #expect(first.headers[.contentType] == "application/json; charset=utf-8")
            #expect(first.json["openapi"] == "3.1.0")
            let paths = try #require(first.json["paths"]?.objectValue)
            #expect((paths["/v2alpha1/admin/apiKeys:verify"] != nil) == (mode != .public))
            #expect((paths["/v2alpha1/apiKeys:selfRevoke"] != nil) == (mode != .admin))
            #expect(paths["/health/alive"] != nil && paths["/openapi.json"] != nil)
        }
    }
}
