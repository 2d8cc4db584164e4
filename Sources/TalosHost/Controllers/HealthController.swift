import HTTPTypes
import TalosCore

/// Liveness, readiness, version and the OpenAPI contract: tenant-less, on every surface (spec §3.18, §15.11).
struct HealthController: APIController {
    let storage: any KeyStorage
    /// `GET /openapi.json` of this server mode, serialized once.
    let openAPIDocument: [UInt8]
    /// Whether the cache's invalidation feed listens (spec §3.18: not ready while it does not).
    var invalidationFeedUp: @Sendable () -> Bool = { true }

    var routes: [Route] {
        let routes: [Route] = [
            .plain(.get, "/health/alive", .always) { _ in Self.alive() },
            .plain(.get, "/health/ready", .always) { _ in await ready() },
            .plain(.get, "/version", .always) { _ in Self.version() },
            .plain(.get, "/openapi.json", .always) { [openAPIDocument] _ in .document(openAPIDocument) },
        ]
        return routes.map { route in
            var route = route
            route.tenantless = true
            return route
        }
    }

    /// The process answers.
    static func alive() -> APIReply { .json(["status": "ok"]) }

    /// `{"version":…}`.
    static func version() -> APIReply { .json(["version": .string(TalosVersion.current)]) }

    /// 200 when the database answers a trivial query within 2 s, 503 naming the problem otherwise.
    func ready() async -> APIReply {
        do {
            try await withDeadline(.seconds(2)) {
                StorageError.timeout("no answer within 2s")
            } operation: { [storage] in
                try await storage.checkHealth()
            }
            guard invalidationFeedUp() else {
                return .json(
                    ["status": "unavailable", "errors": ["cache_invalidation": "invalidation listener disconnected"]],
                    status: .serviceUnavailable
                )
            }
            return .json(["status": "ok"])
        } catch {
            let message = (error as? StorageError)?.detail ?? "database check failed"
            return .json(
                ["status": "unavailable", "errors": .object(["database": .string(message)])],
                status: .serviceUnavailable
            )
        }
    }
}
