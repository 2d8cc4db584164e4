import Logging
import PostgresNIO
import ServiceLifecycle
import TalosCore

/// Cluster-wide, exact fixed-window counters (spec §15.9): one row per `(nid, key_id, window_start)`, incremented by
/// an atomic upsert that returns the new count, so replicas together never admit more than the quota.
struct PostgresRateLimiter: RateLimiter {
    let database: PostgresDatabase

    func increment(
        nid: String,
        keyID: String,
        windowStart: Int64,
        windowSeconds: Int64,
        now: Timestamp
    )
        async throws -> Int64
    {
        try await database.withConnection { connection in
            let rows = try await connection.query(
                """
                INSERT INTO rate_limit_counters (nid, key_id, window_start, window_end, count) \
                VALUES (\(nid), \(keyID), \(windowStart), \(windowStart + windowSeconds), 1) \
                ON CONFLICT (nid, key_id, window_start) DO UPDATE SET count = rate_limit_counters.count + 1 \
                RETURNING count
                """,
                logger: connection.logger
            )
            for try await count in rows.decode(Int64.self) { return count }
            throw StorageError.other("postgres: the counter upsert returned no row")
        }
    }

    /// Deletes the counters of windows that have ended, every 30 s, until shutdown.
    struct Sweeper: Service {
        let database: PostgresDatabase

        func run() async throws {
            await cancelWhenGracefulShutdown {
                while (try? await Task.sleep(for: .seconds(30))) != nil {
                    do {
                        _ = try await database.withConnection { connection in
                            try await connection.query(
                                "DELETE FROM rate_limit_counters WHERE window_end <= EXTRACT(EPOCH FROM now())::BIGINT",
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
