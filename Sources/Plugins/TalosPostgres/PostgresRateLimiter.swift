import Logging
import PostgresNIO
import ServiceLifecycle
import TalosCore

/// Cluster-wide, exact GCRA (docs/rate-limits.md): one row per `(nid, key_id)` holding the key's theoretical arrival
/// time, decided and updated by one atomic upsert, so replicas together admit exactly what one node would.
struct PostgresRateLimiter: RateLimiter {
    let database: PostgresDatabase

    /// `GCRALimit.decide` in SQL: the upsert's row lock serializes concurrent requests of one key.
    func admit(nid: String, keyID: String, limit: GCRALimit, now: Timestamp) async throws -> GCRADecision {
        let instant = now.microseconds
        return try await database.withConnection { connection in
            let rows = try await connection.query(
                """
                INSERT INTO rate_limit_tat AS r (nid, key_id, tat, admitted) \
                VALUES (\(nid), \(keyID), \(instant + limit.emission), TRUE) \
                ON CONFLICT (nid, key_id) DO UPDATE SET \
                admitted = GREATEST(r.tat, \(instant)) + \(limit.emission) - \(instant) <= \(limit.window), \
                tat = CASE WHEN GREATEST(r.tat, \(instant)) + \(limit.emission) - \(instant) <= \(limit.window) \
                THEN GREATEST(r.tat, \(instant)) + \(limit.emission) ELSE GREATEST(r.tat, \(instant)) END \
                RETURNING admitted, tat
                """,
                logger: connection.logger
            )
            for try await (admitted, tat) in rows.decode((Bool, Int64).self) {
                return GCRADecision(admitted: admitted, tat: tat)
            }
            throw StorageError.other("postgres: the rate-limit upsert returned no row")
        }
    }

    /// Deletes the rows of keys whose bucket is full again (their TAT has passed), every 30 s, until shutdown.
    struct Sweeper: Service {
        let database: PostgresDatabase

        func run() async throws {
            await cancelWhenGracefulShutdown {
                while (try? await Task.sleep(for: .seconds(30))) != nil {
                    do {
                        _ = try await database.withConnection { connection in
                            try await connection.query(
                                """
                                DELETE FROM rate_limit_tat \
                                WHERE tat <= (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT
                                """,
                                logger: connection.logger
                            )
                        }
                    } catch {
                        database.logger.warning("rate-limit sweep failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}

extension PostgresRateLimiter: RedactedDescription {}
extension PostgresRateLimiter.Sweeper: RedactedDescription {}
