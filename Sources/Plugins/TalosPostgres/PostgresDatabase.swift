import Logging
import PostgresNIO
import TalosCore

/// The pool plus the two rules every call follows: a deadline, and driver errors translated into `StorageError`.
struct PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How long a call may wait for a connection and its queries before it fails.
    var deadline: Duration = .seconds(5)

    /// Runs `body` on a leased connection within `deadline`. Running out of time is `unavailable` either way (no
    /// connection, or a leased one gone silent); only the message tells them apart. A slow statement is cut by the
    /// server's `statement_timeout` first, which is `timeout`.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = SetOnceFlag()
        let deadline = self.deadline
        let client = self.client
        do {
            return try await withDeadline(deadline) {
                // A slow statement is cut by the server's own statement_timeout (4.5 s) and answers 504. Silence past
                // the deadline on a leased connection means the server is gone: unavailable, like no connection.
                leased.isSet
                    ? StorageError.unavailable("the database did not answer within \(deadline)")
                    : StorageError.unavailable("no database connection within \(deadline)")
            } operation: {
                try await client.withConnection { connection in
                    leased.set()
                    return try await body(connection)
                }
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Runs `body` in a transaction (rolled back when it throws).
    func withTransaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Maps postgres-nio errors to storage errors; errors of other kinds (e.g. thrown by a transform) pass through.
    static func translate(_ error: any Error) -> any Error {
        if let error = error as? StorageError { return error }
        if let error = error as? PostgresTransactionError {
            return translate(
                error.closureError ?? error.rollbackError ?? error.commitError ?? error.beginError ?? error
            )
        }
        guard let error = error as? PSQLError else { return error }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "server error"
            let constraint = error.serverInfo?[.constraintName] ?? ""
            if state == "23505", constraint == "api_keys_request_id" { return StorageError.duplicateRequestID() }
            if state == "23505" { return StorageError.duplicate("postgres: unique violation on \(constraint)") }
            if state == "57014" || state == "55P03" { return StorageError.timeout("postgres: \(message)") }
            if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                return StorageError.unavailable("postgres: \(message) (\(state))")
            }
            if state == "42P01" { return StorageError.schemaOutdated("postgres: \(message)") }
            return StorageError.other("postgres: \(message) (\(state))")
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
            .sslUnsupported, .failedToAddSSLHandler:
            return StorageError.unavailable("postgres: \(error.code)")
        case .queryCancelled:
            return StorageError.timeout("postgres: query cancelled")
        default:
            return StorageError.other("postgres: \(error.code)")
        }
    }
}

extension PostgresDatabase: RedactedDescription {}
